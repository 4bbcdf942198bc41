[
  {
    "name": "${name}",
    "image": "${repository_url}:${image_tag}",
    "cpu": ${cpu},
    "memory": ${memory},
    "essential": true,
    "environment": [
      {"name": "DATABASE_URL", "value": "postgres://${db_user}:${db_password}@${db_host}:5432/reports"},
      {"name": "POSTGRES_PASSWORD", "value": "postgres"},
      {"name": "REPORTS_API_KEY", "value": "${api_key}"},
      {"name": "S3_EXPORT_BUCKET", "value": "${export_bucket}"},
      %{ if enable_debug ~}
      {"name": "DEBUG_TOKEN", "value": "debug-token-2021"},
      %{ endif ~}
      {"name": "SMTP_PASSWORD", "value": "smtp_pw_reports"},
      {"name": "TZ", "value": "Europe/Berlin"}
    ],
    "secrets": ${jsonencode(secrets)},
    "logConfiguration": {
      "logDriver": "awslogs",
      "options": {
        "awslogs-group": "${log_group}",
        "awslogs-region": "${region}",
        "awslogs-stream-prefix": "reports"
      }
    }
  }
]
