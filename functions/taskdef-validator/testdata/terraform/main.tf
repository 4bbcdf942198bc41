terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "image_tag" { type = string }

resource "aws_ecs_task_definition" "api" {
  family                   = "api"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = 256
  memory                   = 512
  execution_role_arn       = aws_iam_role.execution.arn
  container_definitions = jsonencode([
    {
      name      = "api"
      image     = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/api:${var.image_tag}"
      essential = true
      environment = [
        { name = "MYSQL_ROOT_PASSWORD", value = "root" },
        { name = "JWT_SECRET", value = var.jwt_secret },
        { name = "LOG_LEVEL", value = "info" },
      ]
      secrets = [
        { name = "DB_PASSWORD", valueFrom = aws_secretsmanager_secret.db.arn },
      ]
    }
  ])
}

resource "aws_ecs_task_definition" "batch" {
  family                = "batch"
  execution_role_arn    = "arn:aws:iam::123456789012:role/batch-execution"
  container_definitions = <<DEFINITION
[
  {
    "name": "batch",
    "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/batch:${var.image_tag}",
    "environment": [
      {"name": "MAIL_PASSWORD", "value": "summer2024"},
      {"name": "STRIPE_PUBLISHABLE_KEY", "value": "pk_live_51HqLyjWDarjtT1zdp7dc9x"}
    ]
  }
]
DEFINITION
}

resource "aws_ecs_task_definition" "from_file" {
  family                = "from-file"
  container_definitions = templatefile("${path.module}/containers.json.tpl", { cpu = 256 })
}
