resource "aws_elasticache_subnet_group" "redis" {
  name       = "${var.name}-redis"
  subnet_ids = var.private_subnet_ids
}

# Cluster mode disabled: one primary (and a replica unless redis_single_node). The server keeps
# no state Redis must persist: after a failover or a restart each instance writes its own
# peers back.
resource "aws_elasticache_replication_group" "redis" {
  replication_group_id = "${var.name}-redis"
  description          = "sleap-signal shared state"
  engine               = "redis"
  engine_version       = var.redis_engine_version
  node_type            = var.redis_node_type
  port                 = local.redis_port
  parameter_group_name = "default.redis7"

  num_cache_clusters         = var.redis_single_node ? 1 : 2
  automatic_failover_enabled = !var.redis_single_node
  multi_az_enabled           = !var.redis_single_node

  subnet_group_name  = aws_elasticache_subnet_group.redis.name
  security_group_ids = [aws_security_group.redis.id]

  at_rest_encryption_enabled = true
  transit_encryption_enabled = true
  snapshot_retention_limit   = 0
}
