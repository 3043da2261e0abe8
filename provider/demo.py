"""``python -m provider.demo`` (``make demo``): the root Pulumi program, run end to end locally.

Starts the Baseten API emulator with the ``rollout`` scenario (a deployment going BUILDING ->
DEPLOYING -> ACTIVE, played at 3x speed), then runs the project's ``__main__.py`` under
:func:`provider.testing.run_program` twice, as ``pulumi preview`` and as ``pulumi up`` would:
the preview sends nothing and leaves outputs unknown; the update holds the endpoint file back
until the gate opens, printing the gate's progress, then prints the stack outputs.

No Baseten account and no Pulumi CLI are needed. For the real thing, see the README
(``pulumi config set --secret baseten:apiKey ...`` then ``pulumi up``). The program is the
repository's, so the demo runs from a clone; an installed package has no program beside it
and says so (exit 2) rather than fail on a missing file.
"""

from __future__ import annotations

import functools
import json
import secrets
import sys
import time
from pathlib import Path
from typing import Any

from .emulator import Emulator, apply_scenario
from .resource import CONFIG_API_KEY, CONFIG_API_URL
from .testing import ProgramError, ProgramResult, Unknown, run_program

PROJECT_DIR = Path(__file__).resolve().parents[1]
PROJECT = "baseten-chain-gate"
SPEED = 3.0


def whole_numbers(value: Any) -> Any:
    """``value`` with integral floats as ints, as ``pulumi stack output`` shows them.

    Outputs cross the engine as protobuf Structs, whose only number type is a double: a replica
    count comes back as ``1.0``.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [whole_numbers(v) for v in value]
    return value


def _print_outputs(result: ProgramResult) -> None:
    for name in sorted(result.outputs):
        value = result.outputs[name]
        if isinstance(value, str | Unknown):
            text = str(value) if isinstance(value, str) else repr(value)
        else:
            text = json.dumps(whole_numbers(value), sort_keys=True)
        if len(text) > 110:
            text = text[:107] + "..."
        print(f"    {name:<20} {text}")


def main() -> int:
    if not (PROJECT_DIR / "Pulumi.yaml").is_file() or not (PROJECT_DIR / "__main__.py").is_file():
        print(
            f"error: the demo runs the Pulumi program of a clone of this repository; there is "
            f"none beside this installation ({PROJECT_DIR}). Clone it and run make demo.",
            file=sys.stderr,
        )
        return 2
    endpoint_file = PROJECT_DIR / "build" / "demo-chain-endpoint.json"
    # A throwaway key: the emulator checks it like Baseten would; it is never printed.
    key = secrets.token_hex(16)
    start = time.monotonic()
    with Emulator(api_key=key, clock=lambda: (time.monotonic() - start) * SPEED) as emu:
        apply_scenario(emu, "rollout")
        config = {
            CONFIG_API_KEY: key,
            CONFIG_API_URL: emu.url,
            f"{PROJECT}:chainId": "ch7k2p9q",
            f"{PROJECT}:environment": "production",
            f"{PROJECT}:endpointFile": str(endpoint_file),
        }
        print(f"Baseten API emulator on {emu.url}, scenario 'rollout' at {SPEED:g}x speed")
        print("Program: ./__main__.py (ChainDeployment gated on ACTIVE -> ChainEndpointFile)\n")
        run = functools.partial(
            run_program,
            PROJECT_DIR,
            config=config,
            secret_keys=[CONFIG_API_KEY],
            project=PROJECT,
        )
        try:
            print("== preview (like `pulumi preview`): nothing is read, outputs are unknown")
            preview = run(preview=True)
            _print_outputs(preview)
            print(f"    requests sent to Baseten: {len(emu.requests)}\n")

            print("== update (like `pulumi up`): the gate holds the endpoint file back")
            began = time.monotonic()
            result = run(preview=False, echo=lambda line: print(f"    {line}"))
        except ProgramError as exc:
            print(f"the program failed: {exc}", file=sys.stderr)
            return 1
        waited = time.monotonic() - began
        print(f"\n    gate opened after {waited:.1f}s and {len(emu.requests)} GETs")
        print("  stack outputs:")
        _print_outputs(result)
    print(f"\n  endpoint file written after the gate: {endpoint_file}")
    print(endpoint_file.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
