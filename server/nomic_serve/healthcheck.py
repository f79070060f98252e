"""`nomic-serve-health`: the standard gRPC health check from the command line.

The image's HEALTHCHECK and anything else that can only run a command (Compose, systemd, a
preStop hook) use it; exit 0 means SERVING, anything else is printed and exits 1.
"""

from __future__ import annotations

import argparse
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from .config import Settings
from .errors import ConfigError

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nomic-serve-health", description=__doc__)
    parser.add_argument("--target", help="HOST:PORT of the server (default 127.0.0.1:$GRPC_PORT)")
    parser.add_argument(
        "--service", default="", help='health entry: "" (the process), "text" or "vision"'
    )
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds (default 2)")
    args = parser.parse_args(argv)
    if args.target is None:
        try:
            args.target = f"127.0.0.1:{Settings.from_env().grpc_port}"
        except ConfigError as exc:
            print(f"nomic-serve-health: {exc}", file=sys.stderr)
            return 1
    with grpc.insecure_channel(args.target) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=args.service), timeout=args.timeout
            )
        except grpc.RpcError as exc:
            print(f"{args.target} {args.service!r}: {exc.code().name}", file=sys.stderr)
            return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    print(f"{args.target} {args.service!r}: {status}")
    return 0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1


if __name__ == "__main__":
    raise SystemExit(main())
