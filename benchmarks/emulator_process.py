"""Serve an emulator with N extra deployments from its own process (so benchmark CPU figures
count the client only). Prints the URL on the first line; stops when stdin closes, then prints
a JSON line of what it answered: requests by status, and how many distinct paths got a 200."""

from __future__ import annotations

import argparse
import collections
import json
import sys

from provider.emulator import Emulator, make_deployment

BENCH_CHAIN = "chbench01"


def deployment_ids(count: int) -> list[str]:
    return [f"dpb{n:05d}" for n in range(count)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--deployments", type=int, default=100)
    parser.add_argument("--rate-limit", type=int, default=None)
    args = parser.parse_args()
    with Emulator(api_key=args.api_key, latency=args.latency, rate_limit=args.rate_limit) as emu:
        for deployment_id in deployment_ids(args.deployments):
            emu.add_deployment(BENCH_CHAIN, make_deployment(BENCH_CHAIN, deployment_id))
        print(emu.url, flush=True)
        sys.stdin.read()  # until the parent closes our stdin
        answered = emu.requests
    statuses = collections.Counter(r.status for r in answered)
    served = len({r.path for r in answered if r.status == 200})
    print(json.dumps({"statuses": dict(statuses), "served": served}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
