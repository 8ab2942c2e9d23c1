resource "aws_cloudwatch_metric_alarm" "no_healthy_target" {
  alarm_name          = "${var.name}-no-healthy-target"
  alarm_description   = "No instance passes GET /health: signaling is down (or every instance lost Redis)."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HealthyHostCount"
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 2
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  dimensions = {
    LoadBalancer = aws_lb.signal.arn_suffix
    TargetGroup  = aws_lb_target_group.signal.arn_suffix
  }
  alarm_actions = var.alarm_actions
  ok_actions    = var.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "redis_failures" {
  alarm_name          = "${var.name}-redis-failures"
  alarm_description   = "Redis operations fail (redis_failures_total): requests needing shared state get SERVICE_UNAVAILABLE."
  namespace           = var.metrics_namespace
  metric_name         = "redis_failures_total"
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  dimensions = {
    AutoScalingGroupName = local.asg_name
  }
  alarm_actions = var.alarm_actions
  ok_actions    = var.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "connections_near_limit" {
  alarm_name          = "${var.name}-connections-near-limit"
  alarm_description   = "An instance holds more than connections_alarm_ratio of its --max-connections; above the limit it refuses with 1013."
  namespace           = var.metrics_namespace
  metric_name         = "websocket_connections_active"
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  comparison_operator = "GreaterThanThreshold"
  threshold           = local.connections_alarm_threshold
  treat_missing_data  = "notBreaching"
  dimensions = {
    AutoScalingGroupName = local.asg_name
  }
  alarm_actions = var.alarm_actions
  ok_actions    = var.alarm_actions

  lifecycle {
    precondition {
      condition     = local.connections_alarm_threshold < var.max_connections_per_instance
      error_message = "connections_alarm_ratio must be below 1."
    }
  }
}
