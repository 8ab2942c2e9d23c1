resource "aws_cloudwatch_log_group" "server" {
  name              = "/${var.name}/server"
  retention_in_days = var.log_retention_days
}

# The CloudWatch agent writes the scraped metrics here as EMF; CloudWatch extracts the metrics.
resource "aws_cloudwatch_log_group" "metrics" {
  name              = "/${var.name}/prometheus"
  retention_in_days = var.log_retention_days
}
