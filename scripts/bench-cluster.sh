#!/usr/bin/env bash
# Cluster-mode benchmark: what sharing invalidations and rate limits through Redis
# costs, next to the same gateway in single-process mode. Starts a real
# redis-server, the sandbox, a single-process gateway (off) and two cluster-mode
# gateways (on, on2) sharing the Redis, all on SERVER_CPU, and drives them with
# wrk pinned to LOAD_CPU:
#
#   hit_anon   cache hits, auth.mode = "none"         off vs on (the hit path itself)
#   hit_rl     cache hits by a rate-limited client    off (local bucket) vs on (Redis GCRA)
#   write      PATCH update, one connection           off vs on (publish + confirmations under the lease rule)
#   lag        writes through `on`, applied by `on2`  the received-invalidation histogram
#
# Each comparison alternates short rounds of the two sides (ABBA), so background
# load hits both alike. Prints a Markdown table; with WRITE_DOCS=1 it also
# replaces the section between the cluster markers in docs/benchmarks.md.
#
# Usage: scripts/bench-cluster.sh
# Environment (defaults): ROUNDS=4, ROUND_SECS=3, CONNS=32, SERVER_CPU=0,
# LOAD_CPU=1, BENCH_PORT_BASE=28600, WRITES=300.
# Needs: cargo, wrk, taskset, curl, python3, redis-server.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

ROUNDS=${ROUNDS:-4}
ROUND_SECS=${ROUND_SECS:-3}
CONNS=${CONNS:-32}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
BASE=${BENCH_PORT_BASE:-28600}
WRITES=${WRITES:-300}

FIXTURE_ID=customer_67d84b19d50b490a8fa75ab20bbf275a
DETAIL=/api/v1/customer/customer
CLIENT_KEY=bench-cluster-client-key

log() { printf '[bench-cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
for tool in wrk taskset curl python3 redis-server cargo; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done
if (( $(nproc) < 2 )); then SERVER_CPU=0 LOAD_CPU=0; fi

log "building (release)"
cargo build --release --locked --quiet --bin paycombat-gateway
GATEWAY=${CARGO_TARGET_DIR:-$ROOT/target}/release/paycombat-gateway

RUN=$(mktemp -d /tmp/paycombat-bench-cluster.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
log "work dir $RUN"

printf '%s' snd_ZGVtby1zYW5kYm94LXRva2Vu >"$RUN/token"   # the sandbox's demo credentials
printf '%s' demo-signature-key >"$RUN/signature_key"
printf '%s' bench-mask-hmac-key >"$RUN/mask_hmac_key"
HASH=$(printf '%s' "$CLIENT_KEY" | sha256sum | cut -d' ' -f1)
# A limit far above what wrk reaches: every request is allowed, each one decided.
cat >"$RUN/clients.toml" <<EOF
[[clients]]
name = "bench"
keys_sha256 = ["$HASH"]
rate_limit = { per_second = 1000000, burst = 1000000 }
allow = [{ methods = ["*"], path = "/api/v1/**" }]
EOF

REDIS_PORT=$((BASE + 20))
SANDBOX=127.0.0.1:$((BASE + 1))
start() { # name cmd...
  local name=$1
  shift
  env -u RUST_LOG -u GATEWAY_ENV taskset -c "$SERVER_CPU" "$@" >"$RUN/$name.log" 2>&1 &
  PIDS+=("$!")
}
wait_http() {
  local _
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$2" 2>/dev/null && return 0
    sleep 0.1
  done
  die "$1 did not come up (log: $RUN/$1.log)"
}

start redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no
start sandbox "$GATEWAY" sandbox --listen "$SANDBOX"
wait_http sandbox "http://$SANDBOX/__sandbox/counts"

declare -A API ADMIN PID
gateway() { # name offset auth cluster?
  local name=$1 api=127.0.0.1:$((BASE + $2)) admin=127.0.0.1:$((BASE + 10 + $2)) auth=$3
  local extra=()
  [[ $4 == on ]] && extra=(GATEWAY__CLUSTER__REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0")
  start "$name" env \
    GATEWAY__UPSTREAM__BASE_URL="http://$SANDBOX" \
    GATEWAY__UPSTREAM__TOKEN_FILE="$RUN/token" \
    GATEWAY__UPSTREAM__SIGNATURE_KEY_FILE="$RUN/signature_key" \
    GATEWAY__MASK__HMAC_KEY_FILE="$RUN/mask_hmac_key" \
    GATEWAY__AUTH__MODE="$auth" GATEWAY__AUTH__CLIENTS_FILE="$RUN/clients.toml" \
    GATEWAY__CACHE__ROUTES__CUSTOMER_DETAIL__TTL=10m \
    GATEWAY__LOG__LEVEL=warn \
    GATEWAY__SERVER__LISTEN="$api" GATEWAY__ADMIN__LISTEN="$admin" \
    "${extra[@]}" "$GATEWAY" serve
  PID[$name]=${PIDS[-1]}
  API[$name]=$api
  ADMIN[$name]=$admin
  wait_http "$name" "http://$admin/readyz"
}
gateway off 2 keys off
gateway on 3 keys on
gateway on2 4 keys on
gateway anon_off 5 none off
gateway anon_on 6 none on
for g in on on2 anon_on; do
  for _ in $(seq 1 50); do
    curl -fsS "http://${ADMIN[$g]}/metrics" 2>/dev/null | grep -q '^gateway_cluster_lease_held 1' && break
    sleep 0.1
  done
done

AUTH=(-H "x-token: $CLIENT_KEY")
for g in off on on2 anon_off anon_on; do   # warm the fixture everywhere
  curl -fsS -o /dev/null "${AUTH[@]}" "http://${API[$g]}$DETAIL/$FIXTURE_ID"
done

RESULTS=$RUN/results.txt
: >"$RESULTS"
wrk_rps() { # side conns url...
  local side=$1 conns=$2 out
  shift 2
  out=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$conns" -d"${ROUND_SECS}s" --latency "$@")
  printf '%s\n' "$out" >>"$RUN/wrk.log"
  python3 - "$side" <<EOF >>"$RESULTS"
import re, sys
text = """$out"""
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
def us(label):
    m = re.search(r"^\s+%s\s+([\d.]+)(us|ms|s)\b" % label, text, re.M)
    v, u = float(m.group(1)), m.group(2)
    return v * {"us": 1, "ms": 1e3, "s": 1e6}[u]
print(sys.argv[1], rps, us("50%"), us("99%"))
EOF
}
alternate() { # scenario urlA urlB conns
  local r
  for r in $(seq 1 "$ROUNDS"); do
    if (( r % 2 )); then
      wrk_rps "$1/off" "$4" "${AUTH[@]}" "$2"; wrk_rps "$1/on" "$4" "${AUTH[@]}" "$3"
    else
      wrk_rps "$1/on" "$4" "${AUTH[@]}" "$3"; wrk_rps "$1/off" "$4" "${AUTH[@]}" "$2"
    fi
  done
}

log "hit_anon: ${ROUNDS} x ${ROUND_SECS}s per side"
alternate hit_anon "http://${API[anon_off]}$DETAIL/$FIXTURE_ID" "http://${API[anon_on]}$DETAIL/$FIXTURE_ID" "$CONNS"
log "hit_rl: rate-limited client, local bucket vs Redis GCRA"
alternate hit_rl "http://${API[off]}$DETAIL/$FIXTURE_ID" "http://${API[on]}$DETAIL/$FIXTURE_ID" "$CONNS"

log "write + lag: $WRITES sequential PATCHes per side, interleaved"
WRITE_ID=customer_00000006000000000000000000000001
write_once() { # side
  curl -fsS -o /dev/null -w '%{time_total}\n' -X PATCH "${AUTH[@]}" -H 'content-type: application/json' \
    --data "{\"customer_id\":\"$WRITE_ID\",\"description\":\"bench\"}" "http://${API[$1]}/api/v1/customer/update" \
    | awk -v s="$1" '{ print "write/" s, $1 * 1e6 }' >>"$RUN/writes.txt"
}
: >"$RUN/writes.txt"
for i in $(seq 1 "$WRITES"); do
  if (( i % 2 )); then write_once off; write_once on; else write_once on; write_once off; fi
done
curl -fsS "http://${ADMIN[on2]}/metrics" >"$RUN/on2.metrics"
curl -fsS "http://${ADMIN[on]}/metrics" >"$RUN/on.metrics"

TABLE=$(python3 - "$RESULTS" "$RUN/writes.txt" "$RUN/on2.metrics" "$RUN/on.metrics" "$ROUNDS" "$ROUND_SECS" "$CONNS" "$WRITES" <<'EOF'
import statistics, sys
results, writes, on2, on, rounds, secs, conns, nwrites = sys.argv[1:9]
rows = {}
for line in open(results):
    side, rps, p50, p99 = line.split()
    rows.setdefault(side, []).append((float(rps), float(p50), float(p99)))
def med(side, i):
    return statistics.median(r[i] for r in rows[side])
out = ["| scenario | cluster off | cluster on | on / off |", "|---|---|---|---|"]
for sc, what in [("hit_anon", "cache hit, no client auth"), ("hit_rl", "cache hit, rate-limited client")]:
    a, b = med(sc + "/off", 0), med(sc + "/on", 0)
    out.append(f"| {what}: req/s (median of {rounds} × {secs} s, {conns} conns) | {a:,.0f} | {b:,.0f} | {b / a:.2f} |")
    a, b = med(sc + "/off", 1), med(sc + "/on", 1)
    out.append(f"| {what}: p50 latency | {a:,.0f} µs | {b:,.0f} µs | {b / a:.2f} |")
    a, b = med(sc + "/off", 2), med(sc + "/on", 2)
    out.append(f"| {what}: p99 latency | {a:,.0f} µs | {b:,.0f} µs | {b / a:.2f} |")
w = {}
for line in open(writes):
    side, us = line.split()
    w.setdefault(side, []).append(float(us))
def q(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, round((len(v) - 1) * p))]
for p, name in [(0.5, "p50"), (0.99, "p99")]:
    a, b = q(w["write/off"], p), q(w["write/on"], p)
    out.append(f"| write (PATCH update, 1 connection, {nwrites} each): {name} | {a:,.0f} µs | {b:,.0f} µs | {b / a:.2f} |")
def hist(path, name):
    buckets, total, count = [], 0.0, 0.0
    for line in open(path):
        if line.startswith(name + "_bucket"):
            le = line.split('le="')[1].split('"')[0]
            buckets.append((float("inf") if le == "+Inf" else float(le), float(line.split()[-1])))
        elif line.startswith(name + "_sum"):
            total = float(line.split()[-1])
        elif line.startswith(name + "_count"):
            count = float(line.split()[-1])
    return buckets, total, count
def upper(buckets, count, p):
    for le, c in buckets:
        if c >= p * count:
            return le
buckets, total, count = hist(on2, "gateway_cluster_invalidation_lag_seconds")
if count:
    out.append(f"| cross-replica invalidation lag (publish on `on` → applied on `on2`, {count:.0f} writes) | – | mean {total / count * 1e3:.2f} ms, p50 ≤ {upper(buckets, count, .5) * 1e3:g} ms, p99 ≤ {upper(buckets, count, .99) * 1e3:g} ms | – |")
waits = {l.split('outcome="')[1].split('"')[0]: l.split()[-1] for l in open(on) if l.startswith("gateway_cluster_write_waits_total{")}
out.append(f"| writes by how their wait ended (`gateway_cluster_write_waits_total`: confirmed / lease / unconfirmed) | – | {waits.get('confirmed', '?')} / {waits.get('lease', '?')} / {waits.get('unconfirmed', '?')} | – |")
print("\n".join(out))
EOF
)
MODEL=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
HEADER="Run $(date -u +%Y-%m-%dT%H:%MZ), revision $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(nproc) CPUs ($MODEL), load $(cut -d' ' -f1-3 /proc/loadavg); servers on CPU $SERVER_CPU, wrk on CPU $LOAD_CPU; \`scripts/bench-cluster.sh\`."
printf '%s\n\n%s\n' "$HEADER" "$TABLE"

if [[ ${WRITE_DOCS:-0} == 1 ]]; then
  python3 - "$ROOT/docs/benchmarks.md" "$HEADER" "$TABLE" <<'EOF'
import sys
path, header, table = sys.argv[1:4]
text = open(path).read()
begin, end = "<!-- bench-cluster:begin -->", "<!-- bench-cluster:end -->"
block = f"{begin}\n{header}\n\n{table}\n{end}"
if begin in text:
    text = text[: text.index(begin)] + block + text[text.index(end) + len(end):]
else:
    text = text.rstrip("\n") + "\n\n## Cluster mode (`scripts/bench-cluster.sh`)\n\n" + block + "\n"
open(path, "w").write(text)
EOF
  log "docs/benchmarks.md updated"
fi
