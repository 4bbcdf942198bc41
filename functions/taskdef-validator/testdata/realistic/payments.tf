locals {
  name = "payments"
}

resource "aws_ecs_task_definition" "payments" {
  family                   = local.name
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 512
  memory                   = 1024
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  container_definitions = jsonencode([
    {
      name      = local.name
      image     = "${aws_ecr_repository.payments.repository_url}:${var.image_tag}"
      essential = true
      environment = [
        { name = "APP_ENV", value = "production" },
        { name = "DB_HOST", value = aws_db_instance.payments.address },
        { name = "DB_PASSWORD", value = "Payments#2024" },
        { name = "MAIL_PASSWORD", value = "mailpass1" },
        { name = "STRIPE_WEBHOOK_SECRET", value = "whsec_4Xq9Lm2Pz7Rt5Vw8Yb3Nc6" },
        { name = "JWT_SECRET", value = var.jwt_secret },
        { name = "REDIS_PASSWORD", value = random_password.redis.result },
        { name = "ADMIN_PASSWORD", value = "CHANGE_ME" },
      ]
      secrets = [
        { name = "API_TOKEN", valueFrom = aws_ssm_parameter.api_token.arn },
      ]
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = aws_cloudwatch_log_group.payments.name
          awslogs-region        = var.region
          awslogs-stream-prefix = "payments"
        }
      }
    }
  ])
}

resource "aws_ecs_task_definition" "payments_worker" {
  family                = "payments-worker"
  execution_role_arn    = aws_iam_role.execution.arn
  container_definitions = <<EOT
[
  {
    "name": "worker",
    "image": "${aws_ecr_repository.payments.repository_url}:${var.image_tag}",
    "command": ["bundle", "exec", "sidekiq", "-C", "config/sidekiq.yml"],
    "environment": [
      {"name": "SIDEKIQ_REDIS_URL", "value": "redis://:s1dek1qRedis@payments-redis.internal:6379/1"},
      {"name": "RAILS_ENV", "value": "production"},
      {"name": "SECRET_KEY_BASE", "value": "${secret_key_base}"},
      {"name": "RAILS_MASTER_KEY", "value": "9c1e7b3a5d2f4068a1b3c5d7e9f0a2b4"}
    ]
  }
]
EOT
}
