"""`make scale-demo`: three replicas behind the gateway Envoy, killed and restarted under load.

Starts three servers (the embedded MiniLM) on loopback ports and the gateway config that
`nomic-serve-envoy-config --gateway` renders, then runs the scenarios of the e2e test
(tests/e2e/test_scale_out.py) and prints what they measured: requests sent and failed,
latency overall and during each fault, and the gateway's retries and ejections.

    python -m tests.bench.scale_demo [--seconds 30] [--skip-rolling]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from ..support.scale_out import (
    GRPC_WORKERS,
    REST_WORKERS,
    Cluster,
    kill_and_terminate,
    replica_env,
    rolling_restart,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="load duration, at least")
    parser.add_argument("--skip-rolling", action="store_true", help="no rolling restart")
    args = parser.parse_args()
    cache = os.environ.get("CACHE_DIR")  # default: the server's own (~/.cache/nomic-serve)
    with tempfile.TemporaryDirectory(prefix="nomic-serve-scale-") as folder:
        print("starting three replicas and the gateway...", file=sys.stderr, flush=True)
        cluster = Cluster(
            Path(folder),
            replica_env(Path(cache) if cache else None),
            [sys.executable, "-m", "nomic_serve"],
        )
        print(
            f"3 replicas (embedded MiniLM, no embedding cache) behind the gateway Envoy; "
            f"closed loop of {GRPC_WORKERS} gRPC + {REST_WORKERS} REST workers, single-text "
            "Embed, every vector checked\n",
            flush=True,
        )
        try:
            reports = [kill_and_terminate(cluster, args.seconds)]
            print(reports[0].table() + "\n", flush=True)
            if not args.skip_rolling:
                cluster.heal()
                reports.append(rolling_restart(cluster))
                print(reports[1].table() + "\n", flush=True)
        finally:
            cluster.close()
    return 1 if any(report.failed for report in reports) else 0


if __name__ == "__main__":
    raise SystemExit(main())
