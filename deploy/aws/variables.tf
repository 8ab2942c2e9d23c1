# Every variable has a description and a type (test/deploy/terraform.test.ts checks it).

variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "us-west-2"
}

variable "name" {
  description = "Name of the deployment: prefix of every resource, and the Auto Scaling group's name."
  type        = string
  default     = "sleap-signal"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,27}$", var.name))
    error_message = "Lower-case letters, digits and hyphens, at most 28 characters (ElastiCache and target group names are short)."
  }
}

# --- Network (an existing VPC) ---

variable "vpc_id" {
  description = "VPC to deploy into."
  type        = string
}

variable "public_subnet_ids" {
  description = "Public subnets for the load balancer, in at least two Availability Zones."
  type        = list(string)
}

variable "private_subnet_ids" {
  description = "Private subnets (with a NAT route, to pull the image) for the instances and Redis, in at least two Availability Zones."
  type        = list(string)
}

variable "allowed_cidrs" {
  description = "Addresses allowed to reach the load balancer on ports 80 and 443."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

# --- Load balancer ---

variable "certificate_arn" {
  description = "ACM certificate of the public name (wss://) for the HTTPS listener."
  type        = string
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "alb_idle_timeout_seconds" {
  description = "Load balancer idle timeout. Must be at least twice heartbeat_interval_seconds, or idle WebSockets are cut between two pings."
  type        = number
  default     = 120
}

# --- The server ---

variable "image" {
  description = "Container image of sleap-signal (built from the repository's Dockerfile), e.g. 123456789012.dkr.ecr.us-west-2.amazonaws.com/sleap-signal:0.1.0."
  type        = string
}

variable "port" {
  description = "Port of the WebSocket and HTTP endpoint on the instances (--port); the load balancer's target port."
  type        = number
  default     = 8080
}

variable "admin_port" {
  description = "Port of /metrics and the operator endpoints (--admin-port). Not opened in any security group: the CloudWatch agent scrapes it locally."
  type        = number
  default     = 9090
}

variable "heartbeat_interval_seconds" {
  description = "--heartbeat-interval: the server pings every connection this often."
  type        = number
  default     = 30

  validation {
    condition     = var.heartbeat_interval_seconds > 0
    error_message = "Behind a load balancer the heartbeat must be on: it keeps idle WebSockets under the idle timeout."
  }
}

variable "drain_timeout_seconds" {
  description = "--drain-timeout: on SIGTERM the server spreads its 1012 closes over this window."
  type        = number
  default     = 10
}

variable "drain_margin_seconds" {
  description = "Added to drain_timeout_seconds for the target group's deregistration delay: the lifecycle watcher's polling (5 s), the last closes and the process exit."
  type        = number
  default     = 20
}

variable "reap_after_seconds" {
  description = "--reap-after: an instance whose heartbeat in Redis is this old is dead and its peers are removed. Keep it above a Redis failover (heartbeats cannot be refreshed meanwhile)."
  type        = number
  default     = 60
}

variable "max_connections_per_instance" {
  description = "--max-connections of each instance (one more is closed with 1013)."
  type        = number
  default     = 20000
}

variable "max_connections_per_ip" {
  description = "--max-connections-per-ip (0: no limit). Counted per client address thanks to --trust-proxy."
  type        = number
  default     = 0
}

variable "nofile_limit" {
  description = "Open-file limit of the server process (one descriptor per connection, plus Redis, logs and files)."
  type        = number
  default     = 65536
}

variable "cognito_region" {
  description = "AWS Cognito user pool region (--cognito-region)."
  type        = string
}

variable "cognito_user_pool_id" {
  description = "AWS Cognito user pool id (--cognito-user-pool-id)."
  type        = string
}

variable "cognito_client_id" {
  description = "AWS Cognito app client id (--cognito-client-id)."
  type        = string
}

variable "rooms_mode" {
  description = "--rooms: open (any room id) or token (rooms are created first and joined with their token)."
  type        = string
  default     = "token"

  validation {
    condition     = contains(["open", "token"], var.rooms_mode)
    error_message = "open or token."
  }
}

variable "allowed_origins" {
  description = "--allowed-origins: browser origins allowed to connect (empty: any)."
  type        = list(string)
  default     = []
}

variable "operator_token_parameter" {
  description = "Name of an SSM Parameter Store SecureString holding the operator token (--operator-token); empty for none."
  type        = string
  default     = ""
}

variable "log_level" {
  description = "--log-level of the server."
  type        = string
  default     = "info"
}

# --- Instances and scaling ---

variable "ami_ssm_parameter" {
  description = "SSM parameter naming the AMI (Amazon Linux 2023); its architecture must match instance_type and the image."
  type        = string
  default     = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

variable "instance_type" {
  description = "EC2 instance type. One instance runs one server process, which uses one core at most."
  type        = string
  default     = "c6i.large"
}

variable "min_size" {
  description = "Fewest instances in the Auto Scaling group."
  type        = number
  default     = 2
}

variable "desired_capacity" {
  description = "Instances at creation (then set by the target-tracking policy)."
  type        = number
  default     = 2
}

variable "max_size" {
  description = "Most instances in the Auto Scaling group."
  type        = number
  default     = 8
}

variable "target_connections_per_instance" {
  description = "Target of the target-tracking policy: average open connections per instance."
  type        = number
  default     = 10000
}

variable "connections_alarm_ratio" {
  description = "The connections alarm fires when an instance holds more than this share of max_connections_per_instance."
  type        = number
  default     = 0.8
}

# --- Redis (ElastiCache) ---

variable "redis_single_node" {
  description = "Run Redis as one node without a replica (the original design's start: cheap, no automatic failover). Default: a primary and a replica with automatic failover across zones."
  type        = bool
  default     = false
}

variable "redis_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.small"
}

variable "redis_engine_version" {
  description = "Redis engine version."
  type        = string
  default     = "7.1"
}

# --- Monitoring ---

variable "metrics_namespace" {
  description = "CloudWatch namespace of the metrics the CloudWatch agent scrapes from /metrics."
  type        = string
  default     = "SleapSignal"
}

variable "scrape_interval_seconds" {
  description = "How often the CloudWatch agent scrapes /metrics (each scrape also reads the room census from Redis)."
  type        = number
  default     = 60
}

variable "alarm_actions" {
  description = "ARNs (SNS topics) notified when an alarm fires or clears."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Retention of the server's logs and of the scraped metrics' log group."
  type        = number
  default     = 30
}
