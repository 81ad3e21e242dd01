"""Print a benchmark run: gslb's table, the extras, and the ratios to the peers when they ran too.

usage: report.py RUN_DIR [PEERS_RUN_DIR]

RUN_DIR holds what bench/run_bench.sh wrote: gslb.tsv (the matrix), gslb-lat.tsv (fixed load),
gslb-tcp.tsv, gslb-churn.tsv with churn.jsonl (health churn), inprocess.jsonl. PEERS_RUN_DIR is
the peers harness's run folder (results.tsv), given by `make bench-peers`. Figures are medians
over repetitions; ratios compare medians from the same run.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

COLUMNS = ["server", "mode", "affinity", "rep", "qps", "avg", "p50", "p99", "lost", "cpu0", "cpu1"]
PEERS = ("gdnsd", "pdns-geoip", "knot")
Key = tuple[str, str, str]


def load(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    return [dict(zip(COLUMNS, line.split("\t"), strict=False)) for line in path.read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def medians(rows: list[dict[str, str]]) -> dict[Key, dict[str, float]]:
    groups: dict[Key, list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault((row["server"], row["mode"], row["affinity"]), []).append(row)
    result = {}
    for key, members in groups.items():
        values = {}
        for name in ("qps", "p50", "p99", "lost"):
            numbers = [float(r[name]) for r in members if r.get(name) not in (None, "", "NA")]
            if numbers:
                values[name] = statistics.median(numbers)
        result[key] = values
    return result


def ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.3f}"


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def main(run: Path, peers_run: Path | None) -> int:
    ours = medians(load(run / "gslb.tsv"))
    if not ours:
        print(f"no gslb results in {run}", file=sys.stderr)
        return 1
    print("## gslb (medians of the repetitions; pinned: server on cpu0, dnsperf on cpu1)\n")
    print("| mode | cores | qps | p50 ms | p99 ms | lost % |")
    print("|---|---|---:|---:|---:|---:|")
    for (_, mode, affinity), row in sorted(ours.items(), key=lambda item: (item[0][1], item[0][2])):
        print(f"| {mode} | {affinity} | {row['qps']:,.0f} | {ms(row.get('p50'))} | {ms(row.get('p99'))} "
              f"| {row.get('lost', 0):.2f} |")
    _signed(load(run / "gslb.tsv"), ours)
    latency = medians(load(run / "gslb-lat.tsv"))
    for (_, mode, _), row in sorted(latency.items()):
        print(f"\nFixed load ({mode}, {row['qps']:,.0f} queries/s offered, pinned): "
              f"p50 {ms(row.get('p50'))} ms, p99 {ms(row.get('p99'))} ms")
    tcp = medians(load(run / "gslb-tcp.tsv"))
    for (_, mode, _), row in sorted(tcp.items()):
        print(f"\nTCP ({mode}, pipelined, shared cores): {row['qps']:,.0f} queries/s")
    _churn(run, ours)
    for item in jsonl(run / "inprocess.jsonl"):
        print(f"\nIn-process, {item['mode']} workload, {item['path']} path: {item['us_per_query']} us per query "
              f"({item['queries']:,} queries, {item['compiled_share']:.0%} from the compiled path)")
    if peers_run is not None:
        _ratios(ours, medians(load(peers_run / "results.tsv")))
        _tcp_ratios(tcp, medians(load(peers_run / "results-tcp.tsv")))
    return 0


def _signed(rows: list[dict[str, str]], ours: dict[Key, dict[str, float]]) -> None:
    """Signed (DO=1) against unsigned rows of the same run: the ratio docs/dnssec.md promises (>= 0.8).

    Besides the ratio of the medians, each repetition's signed run is compared with its unsigned
    neighbour (measured right before or after it): on a shared machine the load of other work
    comes and goes within seconds, and neighbours see the same load far more often than medians
    taken over the whole run do.
    """
    pairs = sorted((mode, affinity) for (_, mode, affinity) in ours if mode.endswith("-signed"))
    if not pairs:
        return
    qps = {(r["mode"], r["affinity"], r["rep"]): float(r["qps"]) for r in rows if r.get("qps") not in (None, "NA")}
    print("\n## Signed (DO=1) against unsigned, same run\n")
    print("| mode | cores | unsigned qps | signed qps | ratio of medians | median of neighbour ratios |")
    print("|---|---|---:|---:|---:|---:|")
    for mode, affinity in pairs:
        plain_mode = mode.removesuffix("-signed")
        signed, plain = ours[("gslb", mode, affinity)], ours.get(("gslb", plain_mode, affinity))
        if not plain:
            continue
        ratios = [value / qps[(plain_mode, affinity, rep)] for (m, a, rep), value in qps.items()
                  if m == mode and a == affinity and (plain_mode, affinity, rep) in qps]
        neighbours = f"{statistics.median(ratios):.2f} (of {len(ratios)})" if ratios else "-"
        print(f"| {plain_mode} | {affinity} | {plain['qps']:,.0f} | {signed['qps']:,.0f} "
              f"| {signed['qps'] / plain['qps']:.2f} | {neighbours} |")


def _churn(run: Path, ours: dict[Key, dict[str, float]]) -> None:
    churn = medians(load(run / "gslb-churn.tsv"))
    checks = jsonl(run / "churn.jsonl")
    for (_, mode, affinity), row in churn.items():
        calm = ours.get(("gslb", mode.removesuffix("-churn"), affinity))
        ratio = f", {row['qps'] / calm['qps']:.2f}x the calm figure" if calm else ""
        print(f"\nHealth churn ({mode}, a pool flipped every 100 ms): {row['qps']:,.0f} queries/s{ratio}")
    if checks:
        print(f"  answers checked against the health of their moment: {sum(c['answers'] for c in checks):,}, "
              f"wrong: {sum(c['wrong'] for c in checks)}, flips: {sum(c['flips'] for c in checks)}")


def _ratios(ours: dict[Key, dict[str, float]], peers: dict[Key, dict[str, float]]) -> None:
    names = [p for p in PEERS if any(key[0] == p for key in peers)]
    if not names:
        print("\n(no peer results found)")
        return
    print("\n## Ratios to the peers in the same run (pinned, qps)\n")
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



def _tcp_ratios(ours: dict[Key, dict[str, float]], peers: dict[Key, dict[str, float]]) -> None:
    """The peers' TCP rows (static, pipelined, shared cores) beside gslb's, as one line per mode."""
    for (_, mode, affinity), row in sorted(ours.items()):
        others = [(peer, peers[(peer, mode.removesuffix("-tcp"), affinity)]) for peer in PEERS
                  if (peer, mode.removesuffix("-tcp"), affinity) in peers]
        if others:
            cells = ", ".join(f"{peer} {other['qps']:,.0f} ({row['qps'] / other['qps']:.2f})" for peer, other in others)
            print(f"\nTCP peers ({mode}, {affinity} cores; gslb/peer in brackets): {cells}")


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None))
