#!/usr/bin/env bash
# make bench: gslb measured with dnsperf on 127.0.0.1, with the repository's own zone, geo
# database and workloads (see docs/performance.md).
#
#   bench/run_bench.sh            gslb alone: static and the three geo-ECS workloads, static and
#                                 geo-ecs-unique signed (DO=1), latency at a fixed load, TCP, health
#                                 churn, and the in-process cost per query
#   bench/run_bench.sh --peers    first the peers (gdnsd, PowerDNS, Knot) through an external
#                                 harness ($PEERS_DIR/run_peers.sh), then gslb on the same query
#                                 files, then the ratios
#
# Knobs: BENCH_PORT (5310), BENCH_HTTP_PORT (8063), BENCH_WORKERS (1), BENCH_MODES, DURATION (4),
# REPS (3), LAT_QPS (1000), LAT_DURATION (3), TCP_DURATION (3), CHURN (1), INPROCESS (1),
# SIGNED (1; 0 for a build from before DNSSEC: no signed rows), BENCH_WORK (bench/run),
# BENCH_GSLB (the gslb command to measure: another build, to compare).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
WORK="${BENCH_WORK:-$HERE/run}"
PORT="${BENCH_PORT:-5310}"
HTTP_PORT="${BENCH_HTTP_PORT:-8063}"
WORKERS="${BENCH_WORKERS:-1}"
read -r -a MODES <<<"${BENCH_MODES:-static static-signed geo-ecs-varied geo-ecs-unique geo-ecs-unique-signed geo-ecs-wide}"
DURATION="${DURATION:-4}"
REPS="${REPS:-3}"
LAT_QPS="${LAT_QPS:-1000}"
LAT_DURATION="${LAT_DURATION:-3}"
TCP_DURATION="${TCP_DURATION:-3}"
CHURN="${CHURN:-1}"
INPROCESS="${INPROCESS:-1}"
SIGNED="${SIGNED:-1}"
PY="$ROOT/.venv/bin/python"
GSLB="${BENCH_GSLB:-$ROOT/.venv/bin/gslb}"
QUERIES="$WORK/queries"
PEERS_RUN=""

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
command -v dnsperf >/dev/null || { echo "dnsperf is missing (make bench installs it)" >&2; exit 1; }
rm -rf "$WORK"
mkdir -p "$WORK" "$QUERIES"

if [ "${1:-}" = --peers ]; then
    if [ -z "${PEERS_DIR:-}" ] || [ ! -f "$PEERS_DIR/run_peers.sh" ]; then
        echo "make bench-peers needs PEERS_DIR: a folder with the peers harness (run_peers.sh), e.g." >&2
        echo "  make bench-peers PEERS_DIR=/path/to/bench/peers   (see docs/performance.md)" >&2
        exit 2
    fi
    export PEERS_WORK="$WORK/peers"
    log "the peers, through $PEERS_DIR/run_peers.sh (about 10 minutes)"
    bash "$PEERS_DIR/run_peers.sh" >"$WORK/peers.log" 2>&1 || { tail -20 "$WORK/peers.log" >&2; exit 1; }
    PEERS_RUN="$PEERS_WORK/run"
    # gslb gets the very files the peers got.
    for pair in static.txt:static.txt www.txt:www.txt near.txt:near.txt www-ecs-varied.blob:varied.blob \
                www-ecs-unique.blob:unique.blob www-ecs-wide.blob:wide.blob; do
        ln -sf "$PEERS_RUN/queries/${pair%%:*}" "$QUERIES/${pair#*:}"
    done
    "$PY" "$HERE/workloads.py" "$QUERIES" --signed-only   # their unique queries with DO=1, for the signed rows
else
    "$PY" "$HERE/workloads.py" "$QUERIES"
fi

"$ROOT/.venv/bin/gslb" geodb build "$HERE/geo-bench.csv" "$WORK/geo-bench.mmdb" >/dev/null
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$WORK/token"
ZONES="$HERE/zones"
SIGNING="dnssec: {keys: $WORK/keys}"
if [ "$SIGNED" = 1 ]; then
    "$ROOT/.venv/bin/gslb" dnssec keygen example.test --keys "$WORK/keys" >/dev/null  # the bench zone is signed
else  # a build of gslb from before DNSSEC: the same zone without its switch, and no signed rows
    ZONES="$WORK/zones"; SIGNING=""
    mkdir -p "$ZONES"; grep -v '^dnssec:' "$HERE/zones/example.test.yaml" > "$ZONES/example.test.yaml"
    kept=(); for mode in "${MODES[@]}"; do [[ $mode == *-signed ]] || kept+=("$mode"); done; MODES=("${kept[@]}")
fi
cat > "$WORK/gslb.yaml" <<YAML
dns:
  listen: ["127.0.0.1:$PORT"]
  workers: $WORKERS
http: {listen: "127.0.0.1:$HTTP_PORT", token_file: $WORK/token}
zones: $ZONES
state_dir: $WORK/state
geodb: $WORK/geo-bench.mmdb
$SIGNING
YAML

"$GSLB" serve -c "$WORK/gslb.yaml" --log-level WARNING > "$WORK/gslb.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    dig +short +time=1 +tries=1 @127.0.0.1 -p "$PORT" static.example.test A >/dev/null 2>&1 && break
    sleep 0.1
done
PIDS="$SERVER$( (pgrep -P "$SERVER" || true) | sed 's/^/,/' | tr -d '\n')"   # and its workers, if any
measure() { "$PY" "$HERE/measure.py" --port "$PORT" --queries "$QUERIES" --server-pids "$PIDS" "$@"; }

log "gslb: ${MODES[*]}, $REPS repetitions of ${DURATION}s, server pinned to cpu0 and dnsperf to cpu1"
for rep in $(seq "$REPS"); do               # repetitions interleaved: slow drifts spread evenly
    order=("${MODES[@]}")
    if [ $((rep % 2)) = 0 ]; then            # every other repetition backwards: a signed row and its
        order=()                             # unsigned row stay neighbours, each first half the time
        for ((i = ${#MODES[@]} - 1; i >= 0; i--)); do order+=("${MODES[i]}"); done
    fi
    for mode in "${order[@]}"; do
        measure --mode "$mode" --rep "$rep" --duration "$DURATION" --out "$WORK/gslb.tsv"
    done
    if [ "$CHURN" = 1 ]; then
        "$PY" "$HERE/churn.py" --dns-port "$PORT" --http-port "$HTTP_PORT" --token-file "$WORK/token" \
            --seconds "$DURATION" >> "$WORK/churn.jsonl" &
        CHURNER=$!
        measure --mode geo-ecs-unique --label geo-ecs-unique-churn --rep "$rep" --duration "$DURATION" \
            --out "$WORK/gslb-churn.tsv"
        wait "$CHURNER"
    fi
done
if [ "$LAT_QPS" != 0 ]; then
    for rep in $(seq "$REPS"); do
        measure --mode geo-ecs-unique --rep "$rep" --duration "$LAT_DURATION" --max-qps "$LAT_QPS" \
            --out "$WORK/gslb-lat.tsv"
    done
fi
if [ "$TCP_DURATION" != 0 ]; then
    measure --mode static --affinity shared --duration "$TCP_DURATION" --tcp --out "$WORK/gslb-tcp.tsv"
fi
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
trap - EXIT

if [ "$INPROCESS" = 1 ]; then
    log "in-process cost per query (no sockets)"
    for mode in unique unique-do wide; do
        taskset -c 0 "$PY" "$HERE/inprocess.py" --geodb "$WORK/geo-bench.mmdb" --queries "$QUERIES" --mode "$mode" \
            >> "$WORK/inprocess.jsonl"
    done
fi
echo
"$PY" "$HERE/report.py" "$WORK" ${PEERS_RUN:+"$PEERS_RUN"} | tee "$WORK/report.md"
