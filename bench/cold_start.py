"""Cold start: `import function_app` time over the import time of the four Azure SDKs alone.

Each figure is the median of fresh interpreters. Usage: python -m bench.cold_start [runs]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from bench.common import ROOT, machine

SDKS = "import azure.functions, azure.cosmos, azure.communication.email, azure.identity"


def timed(code: str, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main(runs: int) -> None:
    print(f"machine: {machine()}")
    print(f"inputs: {runs} fresh interpreters each; baseline: {SDKS}")
    empty = timed("pass", runs)
    app = timed("import function_app", runs) - empty
    sdks = timed(SDKS, runs) - empty
    print(
        f"import function_app: {app * 1000:.0f} ms; four SDKs alone: {sdks * 1000:.0f} ms "
        f"(interpreter start {empty * 1000:.0f} ms subtracted)"
    )
    print(f"ratio app/SDKs: {app / sdks:.2f} (goal <= 1.2)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
