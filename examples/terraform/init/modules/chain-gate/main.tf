# Read a chain deployment and gate `terraform_data.gate` on it being ACTIVE.

terraform {
  required_providers {
    baseten-chains = {
      source = "local.invalid/pulumi-baseten-chains/baseten"
    }
  }
}

variable "chain_id" {
  type = string
}

variable "environment" {
  type = string
}

data "baseten_chain_deployment" "this" {
  provider    = baseten-chains # the type name alone would pick basetenlabs/baseten
  chain_id    = var.chain_id
  environment = var.environment
}

resource "terraform_data" "gate" {
  input = data.baseten_chain_deployment.this.id

  lifecycle {
    postcondition {
      condition     = data.baseten_chain_deployment.this.status == "ACTIVE"
      error_message = "Chain deployment ${data.baseten_chain_deployment.this.id} is ${data.baseten_chain_deployment.this.status}, not ACTIVE."
    }
  }
}

output "chain_deployment_id" {
  value = terraform_data.gate.output
}

output "instance_types" {
  value = data.baseten_chain_deployment.this.instance_types
}
