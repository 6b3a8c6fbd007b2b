# Staging's web cluster: the same module, half the size.
variable "connection_timeout" {
  description = "Seconds the load balancer waits on a backend"
  type        = number
  default     = 30
}

module "staging_cluster" {
  source             = "../modules/web_cluster"
  instance_type      = "t3.large"
  instance_count     = 2
  connection_timeout = 45
}
