data "aws_ssm_parameter" "ami" {
  name = var.ami_ssm_parameter
}

data "aws_iam_policy_document" "assume_ec2" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "instance" {
  name               = "${var.name}-instance"
  assume_role_policy = data.aws_iam_policy_document.assume_ec2.json
}

# CloudWatch agent (metrics as EMF logs, server logs), SSM sessions instead of SSH, ECR pulls.
resource "aws_iam_role_policy_attachment" "instance" {
  for_each = toset([
    "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
  ])
  role       = aws_iam_role.instance.name
  policy_arn = each.value
}

data "aws_iam_policy_document" "operator_token" {
  count = var.operator_token_parameter == "" ? 0 : 1
  statement {
    actions   = ["ssm:GetParameter"]
    resources = ["arn:aws:ssm:${var.region}:*:parameter/${trimprefix(var.operator_token_parameter, "/")}"]
  }
}

resource "aws_iam_role_policy" "operator_token" {
  count  = var.operator_token_parameter == "" ? 0 : 1
  name   = "read-operator-token"
  role   = aws_iam_role.instance.id
  policy = data.aws_iam_policy_document.operator_token[0].json
}

resource "aws_iam_instance_profile" "instance" {
  name = "${var.name}-instance"
  role = aws_iam_role.instance.name
}

resource "aws_launch_template" "signal" {
  name_prefix            = "${var.name}-"
  image_id               = data.aws_ssm_parameter.ami.value
  instance_type          = var.instance_type
  vpc_security_group_ids = [aws_security_group.instances.id]
  user_data              = base64encode(templatefile("${path.module}/user-data.sh.tftpl", local.user_data_vars))

  iam_instance_profile {
    arn = aws_iam_instance_profile.instance.arn
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  tag_specifications {
    resource_type = "instance"
    tags = {
      Name = var.name
    }
  }

  lifecycle {
    precondition {
      condition     = var.nofile_limit >= var.max_connections_per_instance + 1024
      error_message = "nofile_limit must exceed max_connections_per_instance by at least 1024 (Redis, logs, files)."
    }
  }
}

resource "aws_autoscaling_group" "signal" {
  name                = local.asg_name
  min_size            = var.min_size
  desired_capacity    = var.desired_capacity
  max_size            = var.max_size
  vpc_zone_identifier = var.private_subnet_ids
  target_group_arns   = [aws_lb_target_group.signal.arn]

  # EC2, not ELB: /health answers 503 on every instance while Redis is unreachable, and those
  # instances still serve their connections; ELB health checks would replace them all. A crashed
  # server is restarted by systemd; the load balancer routes around an unhealthy one.
  health_check_type         = "EC2"
  health_check_grace_period = 60
  default_instance_warmup   = 60

  launch_template {
    id      = aws_launch_template.signal.id
    version = aws_launch_template.signal.latest_version
  }

  # Rolling deploys: a new launch template version (a new image, new flags) replaces the
  # instances a few at a time; each one drains before it is terminated.
  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = 50
      instance_warmup        = 60
    }
  }

  enabled_metrics = [
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupMaxSize",
    "GroupMinSize",
    "GroupPendingInstances",
    "GroupTerminatingInstances",
  ]

  tag {
    key                 = "Name"
    value               = var.name
    propagate_at_launch = true
  }

  lifecycle {
    precondition {
      condition     = var.min_size <= var.desired_capacity && var.desired_capacity <= var.max_size
      error_message = "Need min_size <= desired_capacity <= max_size."
    }
    # The target-tracking policy owns the desired capacity after creation.
    ignore_changes = [desired_capacity]
  }
}
