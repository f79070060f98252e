"""`python -m tests.hostile`: every hostile case against a fresh stack, as a table.

Each case runs once unmeasured (payloads built, lazy server state in place), then again and
again for at least 2.5 s while it is measured. Prints, per case: the status of each reply,
the p99 and worst latency of the concurrent Health probe, the p99 of a concurrent small
Embed, and the server's peak memory over idle. A case that breaks an expectation is listed
as FAIL with the reason; the run goes on.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from pathlib import Path

from nomic_serve.models.embedded import ensure_embedded_model

from ..support.models import build_vision_model
from .cases import CASES
from .stack import Stack

LIVENESS_P99_MS = 50.0
RSS_BUDGET_MB = 300.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", help="run the cases whose name contains this")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nomic-hostile-") as scratch:
        folder = Path(scratch)
        cache = folder / "cache"
        ensure_embedded_model(cache)
        vision = build_vision_model(folder / "vision")
        stack = Stack(folder, cache=cache, vision_model=vision)
        print(
            f"idle RSS {stack.idle_rss_mb:.0f} MB; budget +{RSS_BUDGET_MB:.0f} MB, Health p99 "
            f"<= {LIVENESS_P99_MS:.0f} ms"
        )
        print(
            f"{'case':36} {'s':>6} {'health p99/max ms':>18} {'embed p99':>10} {'RSS +MB':>8}",
            end="",
        )
        print("  replies")
        failed = 0
        try:
            for case in CASES:
                if args.only and args.only not in case.name:
                    continue
                verdict = "ok"
                try:
                    case.run(stack)  # warm, as the tests do: payloads built, lazy state set up
                    stack.wait_quiet()
                    replies, measured = stack.run_measured(case.run)
                except AssertionError as error:
                    with stack.measure() as measured:
                        pass
                    replies, verdict = [], f"FAIL {error}"
                problems = [p for reply in replies for p in reply.problems()]
                window = measured.liveness
                if window.failures:
                    problems.append(f"probe failures: {Counter(window.failures)}")
                if window.health_p99 > LIVENESS_P99_MS:
                    problems.append(f"Health p99 {window.health_p99:.0f} ms")
                if measured.rss_over_idle_mb > RSS_BUDGET_MB:
                    problems.append(f"RSS +{measured.rss_over_idle_mb:.0f} MB")
                if problems and verdict == "ok":
                    verdict = "FAIL " + "; ".join(problems[:3])
                failed += verdict != "ok"
                codes = Counter(reply.code for reply in replies)
                print(
                    f"{case.name:36} {measured.seconds:6.1f} "
                    f"{window.health_p99:8.1f} / {window.health_max:7.1f} {window.embed_p99:10.1f} "
                    f"{measured.rss_over_idle_mb:8.0f}  {dict(codes)} {verdict[:300]}",
                    flush=True,
                )
        finally:
            stack.close()
        print(f"{failed} of {len(CASES)} cases failed")


if __name__ == "__main__":
    main()
