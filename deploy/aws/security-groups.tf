# Three groups: the internet reaches the load balancer only, the load balancer reaches the
# instances' port only, and only the instances reach Redis.

resource "aws_security_group" "alb" {
  name        = "${var.name}-alb"
  description = "sleap-signal load balancer"
  vpc_id      = var.vpc_id
}

resource "aws_security_group" "instances" {
  name        = "${var.name}-instances"
  description = "sleap-signal instances"
  vpc_id      = var.vpc_id
}

resource "aws_security_group" "redis" {
  name        = "${var.name}-redis"
  description = "sleap-signal Redis"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "alb_https" {
  for_each          = toset(var.allowed_cidrs)
  security_group_id = aws_security_group.alb.id
  description       = "wss:// and https:// from clients"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_ingress_rule" "alb_http" {
  for_each          = toset(var.allowed_cidrs)
  security_group_id = aws_security_group.alb.id
  description       = "http:// from clients, redirected to https://"
  cidr_ipv4         = each.value
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
}

resource "aws_vpc_security_group_egress_rule" "alb_to_instances" {
  security_group_id            = aws_security_group.alb.id
  description                  = "proxied connections and health checks"
  referenced_security_group_id = aws_security_group.instances.id
  ip_protocol                  = "tcp"
  from_port                    = var.port
  to_port                      = var.port
}

resource "aws_vpc_security_group_ingress_rule" "instances_from_alb" {
  security_group_id            = aws_security_group.instances.id
  description                  = "WebSocket and HTTP from the load balancer only (not the admin port)"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = var.port
  to_port                      = var.port
}

# Instances reach Redis, the image registry and the AWS APIs (CloudWatch, SSM).
resource "aws_vpc_security_group_egress_rule" "instances_out" {
  security_group_id = aws_security_group.instances.id
  description       = "Redis, image registry, AWS APIs"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
}

resource "aws_vpc_security_group_ingress_rule" "redis_from_instances" {
  security_group_id            = aws_security_group.redis.id
  description                  = "Redis from the sleap-signal instances only"
  referenced_security_group_id = aws_security_group.instances.id
  ip_protocol                  = "tcp"
  from_port                    = local.redis_port
  to_port                      = local.redis_port
}
