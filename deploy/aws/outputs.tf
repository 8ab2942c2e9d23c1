output "load_balancer_dns_name" {
  description = "Point the public name (the certificate's) at this with a CNAME or an alias record; clients connect to wss://<that name>/."
  value       = aws_lb.signal.dns_name
}

output "redis_primary_endpoint" {
  description = "Primary endpoint of the replication group (for the operator commands: --redis rediss://<it>:6379, from inside the VPC)."
  value       = aws_elasticache_replication_group.redis.primary_endpoint_address
}

output "autoscaling_group_name" {
  description = "The Auto Scaling group (start an instance refresh on it to roll out a new image)."
  value       = aws_autoscaling_group.signal.name
}

output "dashboard_name" {
  description = "The CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.signal.dashboard_name
}
