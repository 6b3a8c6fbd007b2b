# Production's web cluster: one module call, sized for production traffic.
variable "connection_timeout" {
  description = "Seconds the load balancer waits on a backend"
  type        = number
  default     = 30
}

module "prod_cluster" {
  source             = "../modules/web_cluster"
  instance_type      = "t3.xlarge"
  instance_count     = 4
  connection_timeout = var.connection_timeout
}
