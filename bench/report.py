"""Print `make bench` results: gslb's table and, when the peers ran in the same run, the ratios.

usage: report.py RUN_DIR   (the run_peers.sh run folder: results*.tsv from the peers,
                            target-gslb/results*.tsv from gslb)
Medians over repetitions; qps from dnsperf's summary, p50/p99 from its per-query lines.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

COLUMNS = ["server", "mode", "affinity", "rep", "qps", "avg", "p50", "p99", "lost", "cpu0", "cpu1"]
PEERS = ("gdnsd", "pdns-geoip", "knot")


def load(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append(dict(zip(COLUMNS, line.split("\t"), strict=False)))
    return rows


def medians(rows: list[dict[str, str]]) -> dict[tuple[str, str, str], dict[str, float]]:
    groups: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault((row["server"], row["mode"], row["affinity"]), []).append(row)
    result = {}
    for key, members in groups.items():
        result[key] = {
            field: statistics.median(float(r[field]) for r in members if r.get(field) not in (None, "", "NA"))
            for field in ("qps", "p50", "p99", "lost")
            if any(r.get(field) not in (None, "", "NA") for r in members)
        }
    return result


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.3f}"


def main(run: Path) -> int:
    ours = medians(load(run / "target-gslb" / "results.tsv"))
    latency = medians(load(run / "target-gslb" / "results-lat.tsv"))
    peers = medians(load(run / "results.tsv"))
    if not ours:
        print(f"no gslb results in {run / 'target-gslb'}", file=sys.stderr)
        return 1
    print("## gslb (median of repetitions; pinned = server on cpu0, dnsperf on cpu1)\n")
    print("| mode | cores | qps | p50 ms | p99 ms | lost % |")
    print("|---|---|---:|---:|---:|---:|")
    for (_, mode, affinity), row in sorted(ours.items(), key=lambda item: (item[0][1], item[0][2])):
        print(f"| {mode} | {affinity} | {row['qps']:,.0f} | {ms(row.get('p50'))} | {ms(row.get('p99'))} "
              f"| {row.get('lost', 0):.2f} |")
    if latency:
        print("\n## Latency at a fixed 1,000 queries/s (pinned)\n")
        print("| mode | p50 ms | p99 ms |")
        print("|---|---:|---:|")
        for (_, mode, _), row in sorted(latency.items()):
            print(f"| {mode} | {ms(row.get('p50'))} | {ms(row.get('p99'))} |")
    tcp = medians(load(run / "target-gslb" / "results-tcp.tsv"))
    peers_tcp = medians(load(run / "results-tcp.tsv"))
    if tcp:
        line = f"\nTCP (static, pipelined, shared cores): gslb {next(iter(tcp.values()))['qps']:,.0f} queries/s"
        others = [f"{key[0]} {row['qps']:,.0f}" for key, row in sorted(peers_tcp.items())]
        print(line + (f"; peers in the same run: {', '.join(others)}" if others else ""))
    if peers:
        print("\n## Ratios to the peers in the same run (pinned, qps)\n")
        names = [p for p in PEERS if any(key[0] == p for key in peers)]
        print("| mode | gslb | " + " | ".join(f"{p} | gslb/{p}" for p in names) + " |")
        print("|---|---:|" + "---:|---:|" * len(names))
        for (_, mode, affinity), row in sorted(ours.items()):
            if affinity != "pinned":
                continue
            cells = []
            for peer in names:
                other = peers.get((peer, mode, "pinned"))
                cells += [f"{other['qps']:,.0f}", f"{row['qps'] / other['qps']:.2f}"] if other else ["-", "-"]
            print(f"| {mode} | {row['qps']:,.0f} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
