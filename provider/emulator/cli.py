"""The command line, ``python -m provider.emulator``: serve a scenario until interrupted."""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

from .emulator import DEFAULT_API_KEY, Emulator
from .http_server import HOST
from .scenarios import SCENARIOS, apply_scenario
from .validation import check_seconds

__all__ = ["main"]


def _non_negative(text: str) -> float:
    try:
        value = float(text)
        check_seconds("latency", value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _parser() -> argparse.ArgumentParser:
    width = max(len(name) for name in SCENARIOS)
    lines = [f"  {name:<{width}}  {desc}" for name, (desc, _) in SCENARIOS.items()]
    return argparse.ArgumentParser(
        prog="python -m provider.emulator",
        description="Serve a local stand-in for the Baseten chains API on 127.0.0.1.",
        epilog="scenarios (a timed one counts from its deployment's first request):\n"
        + "\n".join(lines),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until Ctrl-C or SIGTERM; returns the exit status (0)."""
    parser = _parser()
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument(
        "--scenario",
        default="default",
        choices=sorted(SCENARIOS),
        metavar="NAME",
        help="scenario to serve, see below (default: %(default)s)",
    )
    parser.add_argument(
        "--latency",
        type=_non_negative,
        default=0.0,
        help="seconds to wait before every answer (default: 0)",
    )
    parser.add_argument(
        "--api-key", default=DEFAULT_API_KEY, help="key clients must send (default: %(default)s)"
    )
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=None,
        metavar="N",
        help="answer 429 + Retry-After beyond N requests per second per key and endpoint, "
        "as Baseten does (its limit is 100; default: no limit)",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error("--port must be 0-65535")

    try:
        emu = Emulator(
            args.api_key,
            latency=args.latency,
            fixtures=False,
            port=args.port,
            rate_limit=args.rate_limit,
        )
    except ValueError as exc:
        parser.error(str(exc))
    apply_scenario(emu, args.scenario)
    try:
        emu.start()
    except OSError as exc:
        print(f"cannot listen on {HOST}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    try:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, _on_signal)
        print(
            f"Baseten API emulator on {emu.url} (scenario: {args.scenario}); "
            f"export BASETEN_API_URL={emu.url} BASETEN_API_KEY={shlex.quote(emu.api_key)}",
            flush=True,
        )
        # A timed wait keeps the main thread responsive to signals on every platform.
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        emu.close()
    return 0
