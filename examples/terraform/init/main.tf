# The chain gate as a team's own configuration holds it: a backend, a module, and this project's
# provider beside Baseten's own (basetenlabs/baseten, which manages models). Both have the type
# name `baseten`, so each gets its own local name, and our data sources say
# `provider = baseten-chains`. `terraform init` is needed here (backend, module), so this
# provider is installed from a filesystem mirror in the configuration folder:
#
#   python -m provider.terraform.mirror terraform.d/plugins   # prints the source address below
#   terraform init                                            # offline for ours
#   terraform apply
#
# Baseten's provider comes from its registry as usual (the tests use a stand-in for it).

terraform {
  required_version = ">= 1.4"

  backend "local" {
    path = "state/terraform.tfstate"
  }

  required_providers {
    baseten = {
      source  = "basetenlabs/baseten" # Baseten's provider: models, environments, secrets
      version = "~> 0.1"
    }
    baseten-chains = {
      source = "local.invalid/pulumi-baseten-chains/baseten" # this project: chain deployments
    }
  }
}

provider "baseten" {}        # BASETEN_API_KEY
provider "baseten-chains" {} # BASETEN_API_KEY, BASETEN_API_URL (or api_key / api_url here)

variable "chain_id" {
  type    = string
  default = "ch7k2p9q"
}

variable "environment" {
  type    = string
  default = "production"
}

module "chain" {
  source      = "./modules/chain-gate"
  chain_id    = var.chain_id
  environment = var.environment

  providers = {
    baseten-chains = baseten-chains
  }
}

output "chain_deployment_id" {
  value = module.chain.chain_deployment_id
}

output "instance_types" {
  value = module.chain.instance_types
}
