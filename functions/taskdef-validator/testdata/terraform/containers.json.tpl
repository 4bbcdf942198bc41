[
  {
    "name": "${service_name}",
    "image": "${image}:${tag}",
    "cpu": ${cpu},
    "memory": ${memory},
    "environment": [
      %{ for key, value in environment ~}
      {"name": "${key}", "value": "${value}"},
      %{ endfor ~}
      {"name": "ConnectionStrings__Orders", "value": "Server=orders-db;Database=orders;User Id=orders_app;Password=Spring2024;"},
      {"name": "REDIS_URL", "value": "redis://:${redis_password}@cache:6379/0"}
    ],
    "secrets": ${jsonencode(secrets)},
    "logConfiguration": {
      "logDriver": "awslogs",
      "options": {"awslogs-group": "/ecs/${service_name}", "awslogs-region": "${region}"}
    }
  }
]
