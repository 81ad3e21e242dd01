#!/usr/bin/env bash
# make bench: gslb through the same dnsperf matrix as the peers (../shared/bench/peers), one run.
#
#   bench/run_bench.sh            gslb alone: static geo geo-ecs near-ecs geo-ecs-varied, then TCP
#   bench/run_bench.sh --peers    first the peers (gdnsd, PowerDNS, Knot: installed with apt by
#                                 run_peers.sh, about 10 minutes), then gslb, then the ratios
#
# Knobs: BENCH_PORT (5310), BENCH_WORKERS (1), BENCH_MODES, and run_peers.sh's DURATION, REPS,
# LAT_QPS, LAT_DURATION. Traffic goes to 127.0.0.1 only.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
PEERS="${PEERS_DIR:-$ROOT/../shared/bench/peers}"
WORK="${BENCH_WORK:-$HERE/run}"
PORT="${BENCH_PORT:-5310}"
WORKERS="${BENCH_WORKERS:-1}"
read -r -a MODES <<<"${BENCH_MODES:-static geo geo-ecs near-ecs geo-ecs-varied}"
PY="$ROOT/.venv/bin/python"
GSLB="$ROOT/.venv/bin/gslb"
export PEERS_WORK="$WORK/peers"
RUN="$PEERS_WORK/run"

[ -x "$PEERS/run_peers.sh" ] || [ -f "$PEERS/run_peers.sh" ] || { echo "no peers harness at $PEERS" >&2; exit 1; }
command -v dnsperf >/dev/null || { echo "dnsperf is missing (make bench installs it)" >&2; exit 1; }

if [ "${1:-}" = --peers ]; then
    bash "$PEERS/run_peers.sh"          # installs, starts, measures and stops the peers
fi

# The peers' inputs, made with the peers' own scripts, unless their run left them already.
mkdir -p "$RUN/queries"
[ -f "$RUN/geo-test.mmdb" ] || "$PY" "$PEERS/build_mmdb.py" "$RUN/geo-test.mmdb" >/dev/null
echo "static.example.test A" > "$RUN/queries/static.txt"
echo "www.example.test A" > "$RUN/queries/www.txt"
echo "near.example.test A" > "$RUN/queries/near.txt"
[ -f "$RUN/queries/www-ecs-varied.blob" ] || "$PY" "$PEERS/mk_ecs_blob.py" "$RUN/queries/www-ecs-varied.blob" 1536

cat > "$WORK/gslb.yaml" <<YAML
dns:
  listen: ["127.0.0.1:$PORT"]
  workers: $WORKERS
http: {listen: "127.0.0.1:0"}
zones: $ROOT/bench/zones
state_dir: $WORK/state
geodb: $RUN/geo-test.mmdb
YAML

"$GSLB" serve -c "$WORK/gslb.yaml" --log-level WARNING > "$WORK/gslb.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    dig +short +time=1 +tries=1 @127.0.0.1 -p "$PORT" static.example.test A >/dev/null 2>&1 && break
    sleep 0.1
done
PIDS="$(pgrep -d, -P "$SERVER" || true)"            # worker processes, if any
PIDS="$SERVER${PIDS:+,$PIDS}"

OUT="$RUN/target-gslb"
rm -f "$OUT/results-tcp.tsv"                      # a previous run's TCP row must not be summarized again
bash "$PEERS/run_peers.sh" target gslb "$PORT" "$PIDS" "${MODES[@]}"

# TCP, pipelined, the way the peers' TCP row is measured (shared cores, one run), in their TSV columns.
dnsperf -s 127.0.0.1 -c 4 -T 2 -q 100 -t 2 -p "$PORT" -d "$RUN/queries/static.txt" -l "${TCP_DURATION:-3}" \
    -m tcp > "$OUT/tcp.out" 2>&1 || true
awk '/Queries per second:/{q=$4} /Average Latency \(s\):/{a=$4} /Queries lost:/{gsub(/[()%]/,"",$4); l=$4}
     END{printf "gslb\tstatic\tshared\t1\t%s\t%s\tNA\tNA\t%s\tNA\tNA\n", q, a, l}' "$OUT/tcp.out" \
    > "$OUT/results-tcp.tsv"

"$PY" "$HERE/report.py" "$RUN"
