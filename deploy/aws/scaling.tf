# Scale on open connections per instance (the CloudWatch agent publishes websocket_connections_active
# with the AutoScalingGroupName dimension; Average over the group's instances).
resource "aws_autoscaling_policy" "connections" {
  name                      = "${var.name}-connections-per-instance"
  autoscaling_group_name    = aws_autoscaling_group.signal.name
  policy_type               = "TargetTrackingScaling"
  estimated_instance_warmup = 120

  target_tracking_configuration {
    target_value = var.target_connections_per_instance

    customized_metric_specification {
      namespace   = var.metrics_namespace
      metric_name = "websocket_connections_active"
      statistic   = "Average"

      metric_dimension {
        name  = "AutoScalingGroupName"
        value = local.asg_name
      }
    }
  }

  lifecycle {
    precondition {
      condition     = var.target_connections_per_instance < local.connections_alarm_threshold
      error_message = "target_connections_per_instance must be below the connections alarm (connections_alarm_ratio of max_connections_per_instance)."
    }
  }
}
