#!/usr/bin/env bash
# Load benchmark of the gateway: builds in release mode, starts the sandbox
# upstream, a caching gateway, a gateway with the cache off and a bare hyper
# server (the ceiling, examples/ceiling.rs) on one core, drives them with wrk
# pinned to another core, and measures in one run:
#
#   hit_hot   cache hits on one customer        vs the ceiling
#   peers     the same hit, in the same interleaved rounds: the ceiling; the gateway
#             with logs off, with a JSON access log, and production-like (client keys
#             + JSON access log to a file); nginx proxy_cache (one worker, same core,
#             keep-alive upstream, proxy_cache_lock on) with access_log off and with
#             a buffered JSON access_log; HAProxy's cache (nbthread 1, no log,
#             benches/peers/haproxy.cfg); Varnish (one thread pool, no log,
#             benches/peers/varnish.vcl). The caching peers' origin is the ceiling, so
#             they cache and serve the gateway's masked body and header set. With
#             GATEWAY_BIN_BASELINE, a second gateway binary (logs off, and
#             production-like) rotates in the same rounds (and in hit_1k): old vs new.
#   hit_1k    hits over a 1,000-customer set    vs the ceiling (same wrk script),
#             plus the production-like gateway (p99 with the access log on)
#   pipe      a gateway whose stdout/stderr is a pipe nobody reads: 2,000 hits in a row
#   miss      cache off: every read goes upstream and is masked, vs the sandbox direct
#             (32 connections for throughput, 1 connection for added latency)
#   write     PATCH /customer/update through the gateway vs signed, direct
#   burst     500 concurrent cold reads of one customer -> upstream request count
#   soak      RSS before/after >= 1,000,000 requests on the hit path
#   memory    100,000 distinct customers read -> cache weight and RSS vs cache.max_bytes
#
# The machine may be shared, so each comparison alternates short rounds of the
# two servers (ABBA order) and reports ratios measured side by side, never
# against numbers from another run.
#
# Writes the table between the markers in docs/benchmarks.md and the chart
# docs/benchmarks.svg (scripts/bench_chart.py); prints the table on stdout.
#
# Usage: scripts/bench.sh
# Environment (defaults): DURATION=10 seconds per server per scenario, split
# into ROUNDS=5 alternating rounds; CONNS=32; SERVER_CPU=0; LOAD_CPU=1;
# BENCH_PORT_BASE=28400; SOAK_REQUESTS=1000000; SOAK_MAX_SECS=90;
# MEMORY_IDS=100000; NO_DOCS=1 prints the table without touching docs/.
# BIN_DIR=dir: use the binaries already built there (paycombat-gateway,
# examples/ceiling, examples/loadgen) instead of building; GATEWAY_BIN_BASELINE=path:
# a second gateway binary measured beside the first (see peers); PEER_INSTALL=0: do
# not apt-get missing peers.
# Needs: cargo, wrk (Debian: apt-get install -y wrk), taskset (util-linux), curl,
# python3. The peers nginx, haproxy and varnish are installed with apt-get when
# missing (as root on Debian/Ubuntu, unless PEER_INSTALL=0); a peer still missing
# has its rows skipped.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

DURATION=${DURATION:-10}
ROUNDS=${ROUNDS:-5}
CONNS=${CONNS:-32}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
BASE=${BENCH_PORT_BASE:-28400}
SOAK_REQUESTS=${SOAK_REQUESTS:-1000000}
SOAK_MAX_SECS=${SOAK_MAX_SECS:-90}
MEMORY_IDS=${MEMORY_IDS:-100000}
ROUND_SECS=$(( DURATION / ROUNDS ))
(( ROUND_SECS >= 1 )) || ROUND_SECS=1

FIXTURE_ID=customer_67d84b19d50b490a8fa75ab20bbf275a
DETAIL=/api/v1/customer/customer
UPSTREAM_TOKEN=snd_ZGVtby1zYW5kYm94LXRva2Vu   # the sandbox's demo credentials (crates/sandbox)
UPSTREAM_SIGNATURE_KEY=demo-signature-key

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found. $2"
}
need wrk "Install it: apt-get install -y wrk (Debian/Ubuntu), brew install wrk (macOS has no taskset: not supported)."
need taskset "Install util-linux."
need curl "Install curl."
need python3 "Install python3 (the table and chart are written by scripts/bench_chart.py)."
need cargo "Install a Rust toolchain."

CPUS=$(nproc)
if (( CPUS < 2 )); then
  log "warning: $CPUS CPU: servers and load generator share it; numbers mean little"
  SERVER_CPU=0 LOAD_CPU=0
fi

if [[ -n ${BIN_DIR:-} ]]; then
  log "using the binaries in $BIN_DIR (no build)"
else
  log "building (release)"
  cargo build --release --locked --quiet --bin paycombat-gateway --example ceiling --example loadgen
  BIN_DIR=${CARGO_TARGET_DIR:-$ROOT/target}/release
fi
GATEWAY=$BIN_DIR/paycombat-gateway
BASELINE=${GATEWAY_BIN_BASELINE:-}
[[ -z $BASELINE || -x $BASELINE ]] || die "GATEWAY_BIN_BASELINE=$BASELINE is not an executable"

# The peers: installed like any Debian package when missing, else their rows are skipped.
have_peer() { # command package
  command -v "$1" >/dev/null 2>&1 && return 0
  if [[ ${PEER_INSTALL:-1} == 1 ]] && (( EUID == 0 )) && command -v apt-get >/dev/null 2>&1; then
    log "installing $2 (apt-get; PEER_INSTALL=0 skips)"
    # policy-rc.d or not, the package's own service is not what is measured: stop it.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null 2>&1; } || true
    { command -v service >/dev/null 2>&1 && service "$2" stop >/dev/null 2>&1; } || true
  fi
  command -v "$1" >/dev/null 2>&1
}
CEILING=$BIN_DIR/examples/ceiling
LOADGEN=$BIN_DIR/examples/loadgen

RUN=$(mktemp -d /tmp/paycombat-bench.XXXXXX)
RESULTS=$RUN/results.jsonl
: >"$RESULTS"
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
log "work dir $RUN (server logs, raw wrk output)"

printf '%s' "$UPSTREAM_TOKEN" >"$RUN/token"
printf '%s' "$UPSTREAM_SIGNATURE_KEY" >"$RUN/signature_key"
printf '%s' "bench-mask-hmac-key" >"$RUN/mask_hmac_key"

SANDBOX_ADDR=127.0.0.1:$((BASE + 1))
GW_ADDR=127.0.0.1:$BASE
GW_ADMIN=127.0.0.1:$((BASE + 10))
NOCACHE_ADDR=127.0.0.1:$((BASE + 2))
NOCACHE_ADMIN=127.0.0.1:$((BASE + 12))
CEILING_ADDR=127.0.0.1:$((BASE + 3))
LOG_ADDR=127.0.0.1:$((BASE + 4))
LOG_ADMIN=127.0.0.1:$((BASE + 14))
PROD_ADDR=127.0.0.1:$((BASE + 5))
PROD_ADMIN=127.0.0.1:$((BASE + 15))
NGINX_OFF_ADDR=127.0.0.1:$((BASE + 6))
NGINX_LOG_ADDR=127.0.0.1:$((BASE + 7))
PIPE_ADDR=127.0.0.1:$((BASE + 8))
PIPE_ADMIN=127.0.0.1:$((BASE + 18))
HAPROXY_ADDR=127.0.0.1:$((BASE + 9))
VARNISH_ADDR=127.0.0.1:$((BASE + 11))
BASE_ADDR=127.0.0.1:$((BASE + 16))
BASE_ADMIN=127.0.0.1:$((BASE + 17))
BASE_PROD_ADDR=127.0.0.1:$((BASE + 19))
BASE_PROD_ADMIN=127.0.0.1:$((BASE + 20))
CLIENT_KEY=bench-client-key

# Starts "$@" pinned to the server core; its pid is appended to PIDS.
start() {
  local name=$1
  shift
  env -u RUST_LOG -u GATEWAY_ENV taskset -c "$SERVER_CPU" "$@" >"$RUN/$name.log" 2>&1 &
  PIDS+=("$!")
}

wait_http() { # name url
  local _
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$2" 2>/dev/null && return 0
    sleep 0.1
  done
  die "$1 did not come up at $2 (log: $RUN/$1.log): $(tail -3 "$RUN/$1.log" 2>/dev/null)"
}

start_gateway() { # name listen admin [VAR=value...]; GW_BIN overrides the binary
  local name=$1 listen=$2 admin=$3
  shift 3
  start "$name" env \
    GATEWAY__UPSTREAM__BASE_URL="http://$SANDBOX_ADDR" \
    GATEWAY__UPSTREAM__TOKEN_FILE="$RUN/token" \
    GATEWAY__UPSTREAM__SIGNATURE_KEY_FILE="$RUN/signature_key" \
    GATEWAY__MASK__HMAC_KEY_FILE="$RUN/mask_hmac_key" \
    GATEWAY__AUTH__MODE=none \
    GATEWAY__LOG__LEVEL=warn \
    GATEWAY__LOG__ACCESS__OUTPUT=off \
    GATEWAY__SERVER__LISTEN="$listen" \
    GATEWAY__ADMIN__LISTEN="$admin" \
    "$@" "${GW_BIN:-$GATEWAY}" serve
  wait_http "$name" "http://$admin/readyz"
}

log "starting sandbox, gateways and ceiling on CPU $SERVER_CPU; wrk on CPU $LOAD_CPU"
start sandbox "$GATEWAY" sandbox --listen "$SANDBOX_ADDR"
SANDBOX_PID=${PIDS[-1]}
wait_http sandbox "http://$SANDBOX_ADDR/__sandbox/counts"
# A long TTL keeps warmed entries fresh for the whole run (the default is 30s);
# cache.max_bytes stays at its default (64 MiB) for the memory scenario.
start_gateway gateway "$GW_ADDR" "$GW_ADMIN" GATEWAY__CACHE__ROUTES__CUSTOMER_DETAIL__TTL=10m
GW_PID=${PIDS[-1]}
start_gateway gateway-nocache "$NOCACHE_ADDR" "$NOCACHE_ADMIN" GATEWAY__CACHE__ENABLED=false
NOCACHE_PID=${PIDS[-1]}
# The JSON access log, to a file (later assignments of the same variable win).
LOG_ENV=(GATEWAY__CACHE__ROUTES__CUSTOMER_DETAIL__TTL=10m GATEWAY__LOG__FORMAT=json GATEWAY__LOG__LEVEL=info
  GATEWAY__LOG__ACCESS__OUTPUT=file)
start_gateway gateway-log "$LOG_ADDR" "$LOG_ADMIN" "${LOG_ENV[@]}" GATEWAY__LOG__ACCESS__FILE="$RUN/gateway-log.access.log"
LOG_PID=${PIDS[-1]}
# Production-like: client keys on, JSON access log to a file.
printf '[[clients]]\nname = "bench"\nkeys_sha256 = ["%s"]\nallow = [{ methods = ["GET"], path = "/api/v1/**" }]\n' \
  "$(printf '%s\n' "$CLIENT_KEY" | "$GATEWAY" hash-key)" >"$RUN/clients.toml"
start_gateway gateway-prod "$PROD_ADDR" "$PROD_ADMIN" "${LOG_ENV[@]}" GATEWAY__LOG__ACCESS__FILE="$RUN/gateway-prod.access.log" \
  GATEWAY__AUTH__MODE=keys GATEWAY__AUTH__CLIENTS_FILE="$RUN/clients.toml"
PROD_PID=${PIDS[-1]}
KEY=(-H "x-token: $CLIENT_KEY")
if [[ -n $BASELINE ]]; then
  log "baseline gateway: $BASELINE"
  GW_BIN=$BASELINE start_gateway gateway-base "$BASE_ADDR" "$BASE_ADMIN" GATEWAY__CACHE__ROUTES__CUSTOMER_DETAIL__TTL=10m
  BASE_PID=${PIDS[-1]}
  GW_BIN=$BASELINE start_gateway gateway-base-prod "$BASE_PROD_ADDR" "$BASE_PROD_ADMIN" "${LOG_ENV[@]}" \
    GATEWAY__LOG__ACCESS__FILE="$RUN/gateway-base-prod.access.log" \
    GATEWAY__AUTH__MODE=keys GATEWAY__AUTH__CLIENTS_FILE="$RUN/clients.toml"
  BASE_PROD_PID=${PIDS[-1]}
fi

# The ceiling serves exactly what the gateway answers for a hit on the fixture; it is
# also the caching peers' origin (a bare server of the masked body).
curl -fsS -o /dev/null "http://$GW_ADDR$DETAIL/$FIXTURE_ID"
curl -fsS -D "$RUN/hit.headers" -o "$RUN/hit.body" "http://$GW_ADDR$DETAIL/$FIXTURE_ID"
grep -qi '^cache-status:.*hit' "$RUN/hit.headers" || die "second read of the fixture was not a cache hit"
start ceiling "$CEILING" --listen "$CEILING_ADDR" --body-file "$RUN/hit.body" --headers-file "$RUN/hit.headers"
CEILING_PID=${PIDS[-1]}
wait_http ceiling "http://$CEILING_ADDR$DETAIL/$FIXTURE_ID"

# The caching peers (nginx, HAProxy, Varnish) in front of the ceiling.
# shellcheck source=scripts/bench-peers.sh
source "$ROOT/scripts/bench-peers.sh"

FIXED=$ROOT/benches/wrk/fixed.lua
IDS=$ROOT/benches/wrk/ids.lua

TICKS_PER_SEC=$(getconf CLK_TCK)
# CPU time (user + system, clock ticks) used so far by the given processes.
cpu_ticks() {
  local total=0 p
  for p in "$@"; do
    [[ -r /proc/$p/stat ]] || continue
    total=$(( total + $(awk '{ print $14 + $15 }' "/proc/$p/stat") ))
  done
  echo "$total"
}

# One wrk run; appends a result line (with the CPU time the measured servers,
# the pids in SIDE_PIDS, used meanwhile) and echoes wrk's summary.
wrk_run() { # scenario side conns secs wrk-args...
  local scenario=$1 side=$2 conns=$3 secs=$4 out before after
  shift 4
  # SIDE_PIDS is a space-separated list: split on purpose. The first pid is the
  # server measured (its own CPU is recorded too); any others are what it calls.
  local first=${SIDE_PIDS%% *} first_before first_after
  # shellcheck disable=SC2086
  before=$(cpu_ticks $SIDE_PIDS)
  first_before=$(cpu_ticks "$first")
  out=$(taskset -c "$LOAD_CPU" wrk -t1 -c"$conns" -d"${secs}s" --latency "$@" | tee -a "$RUN/wrk.log" | grep '^{"requests"' | tail -1) || true
  # shellcheck disable=SC2086
  after=$(cpu_ticks $SIDE_PIDS)
  first_after=$(cpu_ticks "$first")
  [[ -n "$out" ]] || die "wrk printed no summary for $scenario/$side (see $RUN/wrk.log)"
  printf '{"kind":"wrk","scenario":"%s","side":"%s","conns":%d,"cpu_s":%s,"cpu_own_s":%s,%s\n' "$scenario" "$side" "$conns" \
    "$(awk -v t=$(( after - before )) -v hz="$TICKS_PER_SEC" 'BEGIN { print t / hz }')" \
    "$(awk -v t=$(( first_after - first_before )) -v hz="$TICKS_PER_SEC" 'BEGIN { print t / hz }')" "${out#\{}" >>"$RESULTS"
  printf '%s\n' "$out"
}

# Alternates ROUNDS rounds of A_ARGS (servers A_PIDS) and B_ARGS (B_PIDS),
# ABBA order, so drift in the machine's background load hits both sides alike.
alternate() { # scenario conns side-a side-b
  local scenario=$1 conns=$2 a=$3 b=$4 r
  for r in $(seq 1 "$ROUNDS"); do
    if (( r % 2 )); then
      SIDE_PIDS=$A_PIDS wrk_run "$scenario" "$a" "$conns" "$ROUND_SECS" "${A_ARGS[@]}" >/dev/null
      SIDE_PIDS=$B_PIDS wrk_run "$scenario" "$b" "$conns" "$ROUND_SECS" "${B_ARGS[@]}" >/dev/null
    else
      SIDE_PIDS=$B_PIDS wrk_run "$scenario" "$b" "$conns" "$ROUND_SECS" "${B_ARGS[@]}" >/dev/null
      SIDE_PIDS=$A_PIDS wrk_run "$scenario" "$a" "$conns" "$ROUND_SECS" "${A_ARGS[@]}" >/dev/null
    fi
  done
}

# Rounds over any number of sides, named on the command line; side X runs
# wrk with the array X_ARGS against the servers X_PIDS. Odd rounds go
# forwards, even rounds backwards, so every side sees the same drift on average.
rotate() { # scenario conns side...
  local scenario=$1 conns=$2 r side
  shift 2
  local order
  for r in $(seq 1 "$ROUNDS"); do
    order=("$@")
    if (( r % 2 == 0 )); then
      order=()
      for side in "$@"; do order=("$side" "${order[@]}"); done
    fi
    for side in "${order[@]}"; do
      local -n args="${side}_ARGS" pids="${side}_PIDS"
      SIDE_PIDS=$pids wrk_run "$scenario" "$side" "$conns" "$ROUND_SECS" "${args[@]}" >/dev/null
      unset -n args pids
    done
  done
}

proc_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
fact() { printf '{"kind":"fact",%s}\n' "$1" >>"$RESULTS"; }
sum_requests() { # jq-free: total requests of the gateway side in the given scenarios
  python3 - "$RESULTS" "$@" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(sum(r["requests"] for r in rows if r["kind"] == "wrk" and r["side"] == "gateway" and r["scenario"] in sys.argv[2:]))
EOF
}
sandbox_count() { # route
  curl -fsS "http://$SANDBOX_ADDR/__sandbox/counts" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][sys.argv[1]])' "$1"
}

log "warm-up (not recorded)"
taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d2s "http://$GW_ADDR$DETAIL/$FIXTURE_ID" >/dev/null
taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d1s "http://$CEILING_ADDR$DETAIL/$FIXTURE_ID" >/dev/null
taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d1s "http://$LOG_ADDR$DETAIL/$FIXTURE_ID" >/dev/null
taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d1s "${KEY[@]}" "http://$PROD_ADDR$DETAIL/$FIXTURE_ID" >/dev/null
WARM=()
if (( NGINX )); then WARM+=("$NGINX_OFF_ADDR" "$NGINX_LOG_ADDR"); fi
if (( HAPROXY )); then WARM+=("$HAPROXY_ADDR"); fi
if (( VARNISH )); then WARM+=("$VARNISH_ADDR"); fi
if [[ -n $BASELINE ]]; then WARM+=("$BASE_ADDR"); fi
for addr in "${WARM[@]}"; do
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d1s "http://$addr$DETAIL/$FIXTURE_ID" >/dev/null
done
if [[ -n $BASELINE ]]; then
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d1s "${KEY[@]}" "http://$BASE_PROD_ADDR$DETAIL/$FIXTURE_ID" >/dev/null
fi
RSS_START=$(proc_kib "$GW_PID" VmRSS)
RSS_SAMPLES="[0,$RSS_START]"

log "hit_hot: ${ROUNDS} x ${ROUND_SECS}s per side, $CONNS connections"
A_ARGS=(-s "$FIXED" "http://$GW_ADDR$DETAIL/$FIXTURE_ID") A_PIDS=$GW_PID
B_ARGS=(-s "$FIXED" "http://$CEILING_ADDR$DETAIL/$FIXTURE_ID") B_PIDS=$CEILING_PID
alternate hit_hot "$CONNS" gateway ceiling
HITS=$(sum_requests hit_hot)
RSS_SAMPLES+=",[$HITS,$(proc_kib "$GW_PID" VmRSS)]"

# Top up to SOAK_REQUESTS hit requests since RSS_START, at the rate just
# measured, in two runs so the RSS trail has a midpoint.
REMAINING=$(( SOAK_REQUESTS - HITS ))
if (( REMAINING > 0 )); then
  SECS=$(python3 - "$RESULTS" "$REMAINING" "$SOAK_MAX_SECS" <<'EOF'
import json, math, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
g = [r for r in rows if r["kind"] == "wrk" and r["side"] == "gateway" and r["scenario"] == "hit_hot"]
rps = sum(r["requests"] for r in g) / max(1e-9, sum(r["duration_us"] for r in g) / 1e6)
print(min(int(sys.argv[3]), max(2, math.ceil(int(sys.argv[2]) / max(rps, 1.0) * 1.1))))
EOF
)
  log "soak: ~$REMAINING more hit requests (${SECS}s)"
  for half in $(( SECS / 2 )) $(( SECS - SECS / 2 )); do
    SIDE_PIDS=$GW_PID wrk_run soak gateway "$CONNS" "$half" -s "$FIXED" "http://$GW_ADDR$DETAIL/$FIXTURE_ID" >/dev/null
    HITS=$(sum_requests hit_hot soak)
    RSS_SAMPLES+=",[$HITS,$(proc_kib "$GW_PID" VmRSS)]"
  done
fi
fact "\"name\":\"soak\",\"requests\":$HITS,\"target_requests\":$SOAK_REQUESTS,\"rss_kib\":[$RSS_SAMPLES]"

log "peers: ceiling, gateway (logs off, JSON access log, production-like), nginx (log off, JSON log), haproxy, varnish${BASELINE:+, baseline gateway (logs off, production-like)}"
# Read through `rotate`'s namerefs.
# shellcheck disable=SC2034
{
  ceiling_ARGS=(-s "$FIXED" "http://$CEILING_ADDR$DETAIL/$FIXTURE_ID") ceiling_PIDS=$CEILING_PID
  gateway_ARGS=(-s "$FIXED" "http://$GW_ADDR$DETAIL/$FIXTURE_ID") gateway_PIDS=$GW_PID
  gateway_log_ARGS=(-s "$FIXED" "http://$LOG_ADDR$DETAIL/$FIXTURE_ID") gateway_log_PIDS=$LOG_PID
  gateway_prod_ARGS=("${KEY[@]}" -s "$FIXED" "http://$PROD_ADDR$DETAIL/$FIXTURE_ID") gateway_prod_PIDS=$PROD_PID
  if (( NGINX )); then
    nginx_off_ARGS=(-s "$FIXED" "http://$NGINX_OFF_ADDR$DETAIL/$FIXTURE_ID") nginx_off_PIDS=$NGINX_OFF_PID
    nginx_log_ARGS=(-s "$FIXED" "http://$NGINX_LOG_ADDR$DETAIL/$FIXTURE_ID") nginx_log_PIDS=$NGINX_LOG_PID
  fi
  haproxy_ARGS=(-s "$FIXED" "http://$HAPROXY_ADDR$DETAIL/$FIXTURE_ID") haproxy_PIDS=${HAPROXY_PID:-}
  varnish_ARGS=(-s "$FIXED" "http://$VARNISH_ADDR$DETAIL/$FIXTURE_ID") varnish_PIDS=${VARNISH_PID:-}
  gateway_base_ARGS=(-s "$FIXED" "http://$BASE_ADDR$DETAIL/$FIXTURE_ID") gateway_base_PIDS=${BASE_PID:-}
  gateway_base_prod_ARGS=("${KEY[@]}" -s "$FIXED" "http://$BASE_PROD_ADDR$DETAIL/$FIXTURE_ID") gateway_base_prod_PIDS=${BASE_PROD_PID:-}
}
PEERS=(ceiling gateway gateway_log gateway_prod)
if (( NGINX )); then PEERS+=(nginx_off nginx_log); fi
if (( HAPROXY )); then PEERS+=(haproxy); fi
if (( VARNISH )); then PEERS+=(varnish); fi
if [[ -n $BASELINE ]]; then PEERS+=(gateway_base gateway_base_prod); fi
rotate peers "$CONNS" "${PEERS[@]}"

log "hit_1k: warming 1,000 customers, then random reads among them"
taskset -c "$LOAD_CPU" "$LOADGEN" --addr "$GW_ADDR" sweep --prefix 00000001 --count 1000 --concurrency "$CONNS" >>"$RUN/loadgen.log"
taskset -c "$LOAD_CPU" "$LOADGEN" --addr "$PROD_ADDR" --header "x-token: $CLIENT_KEY" sweep --prefix 00000001 --count 1000 --concurrency "$CONNS" >>"$RUN/loadgen.log"
HIT_1K=(gateway ceiling gateway_prod)
if [[ -n $BASELINE ]]; then
  taskset -c "$LOAD_CPU" "$LOADGEN" --addr "$BASE_ADDR" sweep --prefix 00000001 --count 1000 --concurrency "$CONNS" >>"$RUN/loadgen.log"
  HIT_1K+=(gateway_base)
fi
# shellcheck disable=SC2034
{
  gateway_ARGS=(-s "$IDS" "http://$GW_ADDR" -- 00000001 1000)
  ceiling_ARGS=(-s "$IDS" "http://$CEILING_ADDR" -- 00000001 1000)
  gateway_prod_ARGS=("${KEY[@]}" -s "$IDS" "http://$PROD_ADDR" -- 00000001 1000)
  gateway_base_ARGS=(-s "$IDS" "http://$BASE_ADDR" -- 00000001 1000)
}
rotate hit_1k "$CONNS" "${HIT_1K[@]}"

# 64 KiB of queue (the default 1 MiB would hold all 2,000 lines): pipe and queue fill
# after ~400 lines, and the rest must be dropped and counted, not waited for.
log "pipe: a gateway whose stdout and stderr go into a pipe nobody reads"
mkfifo "$RUN/unread.pipe"
# Holds the pipe open (read-write, so opening it never blocks) and never reads it.
sleep 100000 <>"$RUN/unread.pipe" &
PIDS+=("$!")
env -u RUST_LOG -u GATEWAY_ENV taskset -c "$SERVER_CPU" env \
  GATEWAY__UPSTREAM__BASE_URL="http://$SANDBOX_ADDR" GATEWAY__UPSTREAM__TOKEN_FILE="$RUN/token" \
  GATEWAY__UPSTREAM__SIGNATURE_KEY_FILE="$RUN/signature_key" GATEWAY__MASK__HMAC_KEY_FILE="$RUN/mask_hmac_key" \
  GATEWAY__AUTH__MODE=keys GATEWAY__AUTH__CLIENTS_FILE="$RUN/clients.toml" \
  GATEWAY__LOG__FORMAT=json GATEWAY__LOG__LEVEL=info GATEWAY__LOG__ACCESS__OUTPUT=stdout \
  GATEWAY__LOG__QUEUE_BYTES=65536 \
  GATEWAY__SERVER__LISTEN="$PIPE_ADDR" GATEWAY__ADMIN__LISTEN="$PIPE_ADMIN" \
  "$GATEWAY" serve >"$RUN/unread.pipe" 2>&1 &
PIDS+=("$!")
wait_http gateway-pipe "http://$PIPE_ADMIN/readyz"
PIPE_LOADGEN=(taskset -c "$LOAD_CPU" "$LOADGEN" --addr "$PIPE_ADDR" --header "x-token: $CLIENT_KEY" repeat --path "$DETAIL/$FIXTURE_ID" --concurrency 1)
"${PIPE_LOADGEN[@]}" --count 1 >/dev/null
PIPE_START=$(date +%s.%N)
PIPE_OUT=$(timeout 30 "${PIPE_LOADGEN[@]}" --count 2000 || echo '{"timed_out":true}')
PIPE_SECS=$(awk -v a="$PIPE_START" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
PIPE_DROPPED=$(curl -fsS "http://$PIPE_ADMIN/metrics" | awk '$1 == "gateway_log_lines_dropped_total{stream=\"access\"}" { print $2 }')
fact "\"name\":\"pipe\",\"requests\":2000,\"seconds\":$PIPE_SECS,\"dropped\":${PIPE_DROPPED:-0},\"loadgen\":$PIPE_OUT"

log "miss: cache off vs the sandbox direct ($CONNS connections, then 1)"
DIRECT_AUTH=(-H "X-token: $UPSTREAM_TOKEN")
# The gateway side's CPU includes the sandbox it calls.
A_ARGS=(-s "$FIXED" "http://$NOCACHE_ADDR$DETAIL/$FIXTURE_ID") A_PIDS="$NOCACHE_PID $SANDBOX_PID"
B_ARGS=("${DIRECT_AUTH[@]}" -s "$FIXED" "http://$SANDBOX_ADDR$DETAIL/$FIXTURE_ID") B_PIDS=$SANDBOX_PID
alternate miss "$CONNS" gateway direct
alternate miss_c1 1 gateway direct

log "write: PATCH update through the gateway vs signed, direct"
WRITE_ID=customer_00000003000000000000000000000001
WRITE_BODY="{\"customer_id\":\"$WRITE_ID\",\"description\":\"bench-write\"}"
WRITE_SIG=$(python3 -c 'import hashlib, hmac, sys; print(hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())' "$UPSTREAM_SIGNATURE_KEY" "$WRITE_BODY")
A_ARGS=(-s "$FIXED" "http://$GW_ADDR/api/v1/customer/update" -- PATCH "$WRITE_BODY") A_PIDS="$GW_PID $SANDBOX_PID"
B_ARGS=("${DIRECT_AUTH[@]}" -H "signature: $WRITE_SIG" -s "$FIXED" "http://$SANDBOX_ADDR/api/v1/customer/update" -- PATCH "$WRITE_BODY") B_PIDS=$SANDBOX_PID
alternate write "$CONNS" gateway direct

log "burst: 500 concurrent cold reads of one customer"
burst() { # name suffix [header]
  local before after out id=customer_00000004$2
  before=$(sandbox_count customer_detail)
  out=$(taskset -c "$LOAD_CPU" "$LOADGEN" --addr "$GW_ADDR" ${3:+--header "$3"} burst --path "$DETAIL/$id" --connections 500)
  after=$(sandbox_count customer_detail)
  fact "\"name\":\"$1\",\"upstream_requests\":$((after - before)),\"loadgen\":$out"
}
burst burst 000000000000000000000001
# The upstream answers after 100ms, so every one of the 500 arrives while the fill is in flight.
burst burst_slow_upstream 000000000000000000000002 "x-sandbox-fault: delay=100ms"

log "memory: $MEMORY_IDS distinct customers through the gateway (cache.max_bytes default)"
SWEEP=$(taskset -c "$LOAD_CPU" "$LOADGEN" --addr "$GW_ADDR" sweep --prefix 00000005 --count "$MEMORY_IDS" --concurrency "$CONNS")
METRICS=$(curl -fsS "http://$GW_ADMIN/metrics")
metric() { awk -v m="$1" '$1 == m { print $2 }' <<<"$METRICS"; }
fact "\"name\":\"memory\",\"ids\":$MEMORY_IDS,\"weighted_bytes\":$(metric gateway_cache_weighted_bytes),\"max_bytes\":$(metric gateway_cache_max_bytes),\"entries\":$(metric gateway_cache_entries),\"rss_kib\":$(proc_kib "$GW_PID" VmRSS),\"hwm_kib\":$(proc_kib "$GW_PID" VmHWM),\"loadgen\":$SWEEP"

REVISION=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
# --no-optional-locks: only look, never refresh the index.
if [[ -n $(git -C "$ROOT" --no-optional-locks status --porcelain --untracked-files=no 2>/dev/null) ]]; then
  REVISION+=" + local changes"
fi
MODEL=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
fact "$(python3 -c 'import json, sys; print(json.dumps({"name": "machine", "nproc": int(sys.argv[1]), "model": sys.argv[2], "kernel": sys.argv[3], "load": sys.argv[4], "when": sys.argv[5], "revision": sys.argv[6], "duration": int(sys.argv[7]), "rounds": int(sys.argv[8]), "conns": int(sys.argv[9]), "server_cpu": sys.argv[10], "load_cpu": sys.argv[11]})[1:-1])' \
  "$CPUS" "$MODEL" "$(uname -r)" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(date -u +%Y-%m-%dT%H:%MZ)" \
  "$REVISION" "$DURATION" "$ROUNDS" "$CONNS" "$SERVER_CPU" "$LOAD_CPU")"

CHART_ARGS=("$RESULTS" --criterion-dir "${CARGO_TARGET_DIR:-$ROOT/target}/criterion")
if [[ ${NO_DOCS:-0} != 1 ]]; then
  CHART_ARGS+=(--markdown "$ROOT/docs/benchmarks.md" --svg "$ROOT/docs/benchmarks.svg")
fi
python3 "$ROOT/scripts/bench_chart.py" "${CHART_ARGS[@]}"
log "raw results: $RESULTS"
