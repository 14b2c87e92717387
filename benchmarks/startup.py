"""How long `htrkit --help` and `htrkit plugins` take, from process start to exit.

    python benchmarks/startup.py [--runs 10]

Target (issue #2): `htrkit --help` in under 0.5 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def timed(args: list[str], runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "htrkit", *args], capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    print(f"python {sys.version.split()[0]}, {runs} runs each")
    print(f"{'command':<24}{'median s':>10}{'max s':>10}")
    for args in (["--help"], ["--version"], ["plugins"], ["run", "--help"]):
        median, worst = timed(args, runs)
        print(f"{'htrkit ' + ' '.join(args):<24}{median:>10.3f}{worst:>10.3f}")


if __name__ == "__main__":
    main()
