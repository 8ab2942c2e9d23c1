resource "aws_lb" "signal" {
  name               = var.name
  load_balancer_type = "application"
  internal           = false
  subnets            = var.public_subnet_ids
  security_groups    = [aws_security_group.alb.id]
  # A WebSocket with no frame for this long is closed by the load balancer; the server's pings
  # keep every live connection busy, so this only has to exceed two heartbeat intervals.
  idle_timeout               = var.alb_idle_timeout_seconds
  drop_invalid_header_fields = true

  lifecycle {
    precondition {
      condition     = var.alb_idle_timeout_seconds >= 2 * var.heartbeat_interval_seconds
      error_message = "alb_idle_timeout_seconds must be at least twice heartbeat_interval_seconds."
    }
  }
}

resource "aws_lb_target_group" "signal" {
  name        = var.name
  port        = var.port
  protocol    = "HTTP"
  target_type = "instance"
  vpc_id      = var.vpc_id

  # Longer than the drain: a terminating instance closes its clients with 1012 spread over
  # --drain-timeout while the load balancer still carries those connections; when the delay ends
  # the load balancer cuts whatever is left.
  deregistration_delay = local.deregistration_delay_seconds

  # 503 while the instance drains or has lost Redis: the load balancer then sends new clients
  # to the others.
  health_check {
    path                = "/health"
    port                = "traffic-port"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }

  # No stickiness: a client's state (registration, room, presence) lives in Redis, so any
  # instance can take a reconnecting client.
  stickiness {
    type    = "lb_cookie"
    enabled = false
  }

  lifecycle {
    precondition {
      condition     = local.deregistration_delay_seconds >= var.drain_timeout_seconds
      error_message = "The deregistration delay must cover the drain timeout."
    }
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.signal.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"
    redirect {
      protocol    = "HTTPS"
      port        = "443"
      status_code = "HTTP_301"
    }
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.signal.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.signal.arn
  }
}
