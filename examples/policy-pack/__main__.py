"""The Baseten chains policy pack: one stack policy per rule of `provider.policy`.

The engine runs this file (`python -u -m pulumi.policy ENGINE_ADDRESS PACK_DIR`); building the
`PolicyPack` starts the Analyzer gRPC server, prints its port and blocks. Every policy lives in
the importable `provider.policy.pack` module, where the tests call them directly too.
"""

from pulumi_policy import PolicyPack

from provider.policy.pack import PACK_DESCRIPTION, PACK_NAME, stack_policies

PolicyPack(name=PACK_NAME, policies=stack_policies(), description=PACK_DESCRIPTION)
