"""One dnsperf run against the server on 127.0.0.1, written as one row of a results table.

usage: measure.py --port P --queries DIR --mode MODE --rep N --out results.tsv [--affinity pinned|shared]
                  [--server-pids 1,2] [--duration S] [--max-qps Q] [--tcp] [--label NAME]

The dnsperf flags are those of the peers' runs (4 clients, 2 threads, 100 queries in flight,
2 s timeout), so figures compare. "pinned" puts every thread of the server on cpu0 and dnsperf on
cpu1; "shared" lets both use both cores. qps, average latency and loss come from dnsperf's own
summary; p50 and p99 from the latency it prints for every response (-v), counted in a 1 us
histogram as they stream by. cpu0/cpu1 are whole-machine busy shares from /proc/stat.

Row: server mode affinity rep qps avg p50 p99 lost cpu0 cpu1 (seconds and percent).
"""

from __future__ import annotations

import argparse
import subprocess
from collections import Counter
from pathlib import Path

DNSPERF = ["dnsperf", "-s", "127.0.0.1", "-c", "4", "-T", "2", "-q", "100", "-t", "2"]
MODES = {
    "static": ["-d", "static.txt"],
    "geo": ["-d", "www.txt"],
    "geo-ecs": ["-d", "www.txt", "-E", "8:000118000a0300"],  # ECS 10.3.0.0/24 (DE)
    "near-ecs": ["-d", "near.txt", "-E", "8:000118000a0300"],
    "geo-ecs-varied": ["-B", "-d", "varied.blob"],
    "geo-ecs-unique": ["-B", "-d", "unique.blob"],
    "geo-ecs-wide": ["-B", "-d", "wide.blob"],
    # Signed answers (DO=1) from the same zone: static with dnsperf's DO bit, unique with DO in each query.
    "static-signed": ["-D", "-d", "static.txt"],
    "geo-ecs-unique-signed": ["-B", "-d", "unique-do.blob"],
}


def cpu_times() -> list[tuple[int, int]]:
    """(total, idle) jiffies of cpu0 and cpu1."""
    found = []
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(("cpu0 ", "cpu1 ")):
            values = [int(v) for v in line.split()[1:]]
            found.append((sum(values), values[3] + values[4]))
    return found


def busy(before: list[tuple[int, int]], after: list[tuple[int, int]]) -> list[str]:
    shares = []
    for (total0, idle0), (total1, idle1) in zip(before, after, strict=True):
        elapsed = total1 - total0
        shares.append(f"{100 * (elapsed - (idle1 - idle0)) / elapsed:.0f}" if elapsed else "NA")
    return shares


def percentile(histogram: Counter[int], share: float) -> float | None:
    """The latency (seconds) below which `share` of the responses came back."""
    total = sum(histogram.values())
    if not total:
        return None
    seen = 0
    for micros in sorted(histogram):
        seen += histogram[micros]
        if seen >= total * share:
            return micros / 1e6
    return None


def pin(pids: list[str], affinity: str) -> None:
    cores = "0" if affinity == "pinned" else "0,1"
    for pid in pids:
        subprocess.run(["taskset", "-a", "-cp", cores, pid], check=True, stdout=subprocess.DEVNULL)


def run(args: argparse.Namespace) -> list[str]:
    command = [*DNSPERF, "-p", str(args.port), "-l", str(args.duration), "-v"]
    for item in MODES[args.mode]:
        command.append(str(args.queries / item) if item.endswith((".txt", ".blob")) else item)
    if args.max_qps:
        command += ["-Q", str(args.max_qps)]
    if args.tcp:
        command += ["-m", "tcp"]
    if args.affinity == "pinned":
        command = ["taskset", "-c", "1", *command]
    pin([p for p in args.server_pids.split(",") if p], args.affinity)
    histogram: Counter[int] = Counter()
    summary: dict[str, str] = {}
    before = cpu_times()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("> T "):
                continue  # no reply before the timeout: counted as lost by dnsperf's summary
            if line.startswith("> "):
                histogram[round(float(line.rsplit(None, 1)[1]) * 1e6)] += 1
            elif ":" in line:
                key, _, value = line.strip().partition(":")
                summary.setdefault(key.strip(), value.strip())  # the first: TCP adds connection stats below
    after = cpu_times()
    qps = summary.get("Queries per second", "NA").split()[0]
    avg = summary.get("Average Latency (s)", "NA").split()[0]
    lost = summary.get("Queries lost", "NA").split("(")[-1].rstrip("%)") if "Queries lost" in summary else "NA"
    p50, p99 = percentile(histogram, 0.50), percentile(histogram, 0.99)
    return ["gslb", args.label or args.mode + ("-tcp" if args.tcp else ""), args.affinity, str(args.rep), qps, avg,
            f"{p50:.6f}" if p50 is not None else "NA", f"{p99:.6f}" if p99 is not None else "NA", lost,
            *busy(before, after)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--mode", choices=sorted(MODES), required=True)
    parser.add_argument("--rep", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--affinity", choices=("pinned", "shared"), default="pinned")
    parser.add_argument("--server-pids", default="")
    parser.add_argument("--duration", type=float, default=4)
    parser.add_argument("--max-qps", type=int, default=0)
    parser.add_argument("--tcp", action="store_true")
    parser.add_argument("--label", default="", help="the mode as written in the row (default: --mode)")
    args = parser.parse_args()
    row = run(args)
    with args.out.open("a") as out:
        out.write("\t".join(row) + "\n")
    print("  " + " ".join(row))


if __name__ == "__main__":
    main()
