locals {
  redis_nodes = sort(tolist(aws_elasticache_replication_group.redis.member_clusters))

  dashboard = {
    widgets = [
      {
        type   = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title  = "Connections per instance"
          region = var.region
          view   = "timeSeries"
          period = 60
          metrics = [
            [{ expression = "SEARCH('{${var.metrics_namespace},AutoScalingGroupName,InstanceId} MetricName=\"websocket_connections_active\" AutoScalingGroupName=\"${local.asg_name}\"', 'Average', 60)", id = "per_instance" }],
            [var.metrics_namespace, "websocket_connections_active", "AutoScalingGroupName", local.asg_name, { stat = "Sum", label = "total" }],
          ]
          annotations = { horizontal = [{ label = "target", value = var.target_connections_per_instance }, { label = "alarm", value = local.connections_alarm_threshold }] }
        }
      },
      {
        type   = "metric", x = 12, y = 0, width = 12, height = 6
        properties = {
          title   = "Redis connection use"
          region  = var.region
          view    = "timeSeries"
          period  = 60
          stat    = "Maximum"
          metrics = [for node in local.redis_nodes : ["AWS/ElastiCache", "CurrConnections", "CacheClusterId", node, { label = "connections ${node}" }]]
        }
      },
      {
        type   = "metric", x = 0, y = 6, width = 12, height = 6
        properties = {
          title  = "Messages per second"
          region = var.region
          view   = "timeSeries"
          period = 60
          metrics = [
            [var.metrics_namespace, "messages_sent_total", "AutoScalingGroupName", local.asg_name, { stat = "Sum", id = "sent", visible = false }],
            [var.metrics_namespace, "messages_failed_total", "AutoScalingGroupName", local.asg_name, { stat = "Sum", id = "failed", visible = false }],
            [{ expression = "sent / PERIOD(sent)", label = "relayed/s", id = "sent_rate" }],
            [{ expression = "failed / PERIOD(failed)", label = "failed/s", id = "failed_rate" }],
          ]
        }
      },
      {
        type   = "metric", x = 12, y = 6, width = 12, height = 6
        properties = {
          title  = "Load balancer target health"
          region = var.region
          view   = "timeSeries"
          period = 60
          stat   = "Minimum"
          metrics = [
            ["AWS/ApplicationELB", "HealthyHostCount", "TargetGroup", aws_lb_target_group.signal.arn_suffix, "LoadBalancer", aws_lb.signal.arn_suffix, { label = "healthy" }],
            ["AWS/ApplicationELB", "UnHealthyHostCount", "TargetGroup", aws_lb_target_group.signal.arn_suffix, "LoadBalancer", aws_lb.signal.arn_suffix, { label = "unhealthy", stat = "Maximum" }],
          ]
        }
      },
      {
        type   = "metric", x = 0, y = 12, width = 12, height = 6
        properties = {
          title  = "Group size"
          region = var.region
          view   = "timeSeries"
          period = 60
          stat   = "Average"
          metrics = [
            ["AWS/AutoScaling", "GroupInServiceInstances", "AutoScalingGroupName", local.asg_name, { label = "in service" }],
            ["AWS/AutoScaling", "GroupDesiredCapacity", "AutoScalingGroupName", local.asg_name, { label = "desired" }],
            ["AWS/AutoScaling", "GroupMaxSize", "AutoScalingGroupName", local.asg_name, { label = "max" }],
          ]
        }
      },
    ]
  }
}

resource "aws_cloudwatch_dashboard" "signal" {
  dashboard_name = var.name
  dashboard_body = jsonencode(local.dashboard)
}
