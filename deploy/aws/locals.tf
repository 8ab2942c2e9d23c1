locals {
  # Named here, not read from the group: user data and the CloudWatch dimensions need it before
  # the group exists.
  asg_name = var.name

  deregistration_delay_seconds = var.drain_timeout_seconds + var.drain_margin_seconds
  # docker stop waits this long after SIGTERM before it kills the server.
  stop_timeout_seconds = var.drain_timeout_seconds + 10

  connections_alarm_threshold = floor(var.max_connections_per_instance * var.connections_alarm_ratio)

  redis_port = 6379
  # TLS (rediss://): the replication group encrypts in transit.
  redis_url = "rediss://${aws_elasticache_replication_group.redis.primary_endpoint_address}:${local.redis_port}"

  # The values user-data.sh.tftpl is rendered with.
  user_data_vars = {
    image                    = var.image
    redis_url                = local.redis_url
    port                     = var.port
    admin_port               = var.admin_port
    heartbeat_interval       = var.heartbeat_interval_seconds
    drain_timeout            = var.drain_timeout_seconds
    reap_after               = var.reap_after_seconds
    stop_timeout             = local.stop_timeout_seconds
    max_connections          = var.max_connections_per_instance
    max_connections_per_ip   = var.max_connections_per_ip
    nofile_limit             = var.nofile_limit
    cognito_region           = var.cognito_region
    cognito_user_pool_id     = var.cognito_user_pool_id
    cognito_client_id        = var.cognito_client_id
    rooms_mode               = var.rooms_mode
    allowed_origins          = join(",", var.allowed_origins)
    operator_token_parameter = var.operator_token_parameter
    log_level                = var.log_level
    region                   = var.region
    asg_name                 = local.asg_name
    metrics_namespace        = var.metrics_namespace
    scrape_interval          = var.scrape_interval_seconds
    metrics_log_group        = aws_cloudwatch_log_group.metrics.name
    server_log_group         = aws_cloudwatch_log_group.server.name
  }
}
