# Read a Baseten chain deployment and gate a downstream resource on it.
#
# `terraform_data.gate` stands for whatever must not exist before the deployment is ACTIVE
# (a DNS record, a gateway route, a feature flag): its postcondition fails the plan when the
# deployment is not ACTIVE, so neither it nor anything depending on it is created or changed.
#
# Offline, against the local emulator (no account, no registry, no `terraform init`):
#   make tf-plan
# By hand: see "Terraform" in the README (a CLI config with dev_overrides, then terraform plan).

terraform {
  required_version = ">= 1.4" # terraform_data; tested with 1.11
  required_providers {
    baseten = {
      # This project's provider (chains). Not in a registry: `make tf-plan` serves it through
      # dev_overrides; for `terraform init`, see examples/terraform/init.
      source = "local.invalid/pulumi-baseten-chains/baseten"
    }
  }
}

variable "chain_id" {
  type        = string
  default     = "ch7k2p9q"
  description = "The chain to read."
}

variable "environment" {
  type        = string
  default     = "production"
  description = "Read the current deployment of this environment (unless chain_deployment_id is set)."
}

variable "chain_deployment_id" {
  type        = string
  default     = null
  description = "Read this deployment instead of the environment's current one."
}

variable "wait_for" {
  type        = list(string)
  default     = null
  description = "Statuses to wait for while reading, e.g. [\"ACTIVE\"]; null reads once."
}

variable "timeout_seconds" {
  type        = number
  default     = null
  description = "How long to wait for wait_for (the provider's default is 900)."
}

variable "baseten_api_key" {
  type        = string
  default     = null
  sensitive   = true
  description = "Baseten API key; null falls back to BASETEN_API_KEY."
}

variable "baseten_api_url" {
  type        = string
  default     = null
  description = "Baseten API base URL; null falls back to BASETEN_API_URL, then https://api.baseten.co."
}

provider "baseten" {
  api_key = var.baseten_api_key
  api_url = var.baseten_api_url
}

data "baseten_chain_deployment" "this" {
  chain_id            = var.chain_id
  chain_deployment_id = var.chain_deployment_id
  environment         = var.chain_deployment_id == null ? var.environment : null
  wait_for            = var.wait_for
  timeout_seconds     = var.timeout_seconds
}

resource "terraform_data" "gate" {
  input = {
    chain_id            = var.chain_id
    chain_deployment_id = data.baseten_chain_deployment.this.id
  }

  lifecycle {
    postcondition {
      condition     = data.baseten_chain_deployment.this.status == "ACTIVE"
      error_message = "Chain deployment ${data.baseten_chain_deployment.this.id} is ${data.baseten_chain_deployment.this.status}, not ACTIVE: nothing downstream is changed."
    }
  }
}

output "chain_deployment_id" {
  value = data.baseten_chain_deployment.this.id
}

output "status" {
  value = data.baseten_chain_deployment.this.status
}

output "instance_types" {
  description = "Chainlet name => instance type."
  value       = { for c in data.baseten_chain_deployment.this.chainlets : c.name => c.instance_type_name }
}

output "replicas" {
  description = "Chainlet name => active replicas and autoscaling bounds (null while deploying)."
  value = {
    for c in data.baseten_chain_deployment.this.chainlets : c.name => {
      active = c.active_replica_count
      min    = try(c.autoscaling_settings.min_replica, null)
      max    = try(c.autoscaling_settings.max_replica, null)
    }
  }
}

output "gate" {
  description = "Set once the gate passed: what downstream resources may depend on."
  value       = terraform_data.gate.output
}
