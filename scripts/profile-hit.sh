#!/usr/bin/env bash
# Instruction-count profile of the cache-hit path (callgrind): deterministic, so
# unaffected by other load on the machine. Starts the sandbox and a gateway under
# valgrind, warms the fixture into the cache, switches instrumentation on for
# exactly COUNT hits over CONCURRENCY keep-alive connections (examples/loadgen
# `repeat`), dumps, and prints instructions per hit plus the
# top functions by inclusive cost. User space only: callgrind does not see the
# kernel. Every thread is counted, the access-log writer included.
#
# Usage: scripts/profile-hit.sh [prod|logs-off|no-auth]
#   prod      client keys + JSON access log (how it runs in production; default)
#   logs-off  client keys, no access log, log.level = warn
#   no-auth   auth.mode = none, no access log, log.level = warn
# Environment: COUNT=20000 CONCURRENCY=8 WARMUP=2000 PORT_BASE=28600 CPU=0;
# BIN_DIR (default target/release; must hold paycombat-gateway and
# examples/loadgen, built by `cargo build --release --bin paycombat-gateway
# --example loadgen`); LEGACY_LOG=1 for a build from before `log.access`
# (then the access log is `tracing` at info, and off means log.level = warn).
# Output: the callgrind file and logs stay in /tmp/paycombat-profile.*.
# Needs: valgrind (callgrind_control, callgrind_annotate), taskset, curl.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=${1:-prod}
COUNT=${COUNT:-20000}
CONCURRENCY=${CONCURRENCY:-8}
WARMUP=${WARMUP:-2000}
BASE=${PORT_BASE:-28600}
CPU=${CPU:-0}
BIN_DIR=${BIN_DIR:-${CARGO_TARGET_DIR:-$ROOT/target}/release}
GATEWAY=$BIN_DIR/paycombat-gateway
LOADGEN=$BIN_DIR/examples/loadgen
FIXTURE_ID=customer_67d84b19d50b490a8fa75ab20bbf275a
DETAIL=/api/v1/customer/customer/$FIXTURE_ID
CLIENT_KEY=profile-client-key

for tool in valgrind callgrind_control callgrind_annotate taskset curl; do
  command -v "$tool" >/dev/null || { echo "$tool not found (Debian: apt-get install -y valgrind util-linux curl)" >&2; exit 1; }
done
[[ -x $GATEWAY && -x $LOADGEN ]] || { echo "build first: cargo build --release --bin paycombat-gateway --example loadgen" >&2; exit 1; }

RUN=$(mktemp -d /tmp/paycombat-profile.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

printf '%s' snd_ZGVtby1zYW5kYm94LXRva2Vu >"$RUN/token"
printf '%s' demo-signature-key >"$RUN/signature_key"
printf '%s' profile-mask-key >"$RUN/mask_hmac_key"
HASH=$(printf '%s\n' "$CLIENT_KEY" | "$GATEWAY" hash-key)
cat >"$RUN/clients.toml" <<EOF
[[clients]]
name = "profile"
keys_sha256 = ["$HASH"]
allow = [{ methods = ["GET"], path = "/api/v1/**" }]
EOF

SANDBOX=127.0.0.1:$((BASE + 1))
API=127.0.0.1:$BASE
ADMIN=127.0.0.1:$((BASE + 10))
"$GATEWAY" sandbox --listen "$SANDBOX" >"$RUN/sandbox.log" 2>&1 &
PIDS+=("$!")

ENVS=(
  GATEWAY__UPSTREAM__BASE_URL="http://$SANDBOX"
  GATEWAY__UPSTREAM__TOKEN_FILE="$RUN/token"
  GATEWAY__UPSTREAM__SIGNATURE_KEY_FILE="$RUN/signature_key"
  GATEWAY__MASK__HMAC_KEY_FILE="$RUN/mask_hmac_key"
  GATEWAY__SERVER__LISTEN="$API"
  GATEWAY__ADMIN__LISTEN="$ADMIN"
  GATEWAY__CACHE__ROUTES__CUSTOMER_DETAIL__TTL=10m
  GATEWAY__LOG__FORMAT=json
)
KEY_HEADER=(--header "x-token: $CLIENT_KEY")
case $MODE in
  prod) ENVS+=(GATEWAY__AUTH__MODE=keys GATEWAY__AUTH__CLIENTS_FILE="$RUN/clients.toml" GATEWAY__LOG__LEVEL=info) ;;
  logs-off | no-auth)
    ENVS+=(GATEWAY__LOG__LEVEL=warn)
    [[ ${LEGACY_LOG:-0} == 1 ]] || ENVS+=(GATEWAY__LOG__ACCESS__OUTPUT=off)
    if [[ $MODE == no-auth ]]; then
      ENVS+=(GATEWAY__AUTH__MODE=none)
      KEY_HEADER=()
    else
      ENVS+=(GATEWAY__AUTH__MODE=keys GATEWAY__AUTH__CLIENTS_FILE="$RUN/clients.toml")
    fi
    ;;
  *) echo "unknown mode $MODE (prod, logs-off, no-auth)" >&2; exit 64 ;;
esac

# stdout (the access log in `prod`) goes to a file, as a collector would take it.
env -u RUST_LOG -u GATEWAY_ENV "${ENVS[@]}" taskset -c "$CPU" \
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$RUN/callgrind.out" \
  "$GATEWAY" serve >"$RUN/gateway.stdout" 2>"$RUN/gateway.stderr" &
VG=$!
PIDS+=("$VG")
for _ in $(seq 1 300); do
  curl -fsS -o /dev/null "http://$ADMIN/readyz" 2>/dev/null && break
  sleep 0.2
done
curl -fsS -o /dev/null "http://$ADMIN/readyz" || { echo "gateway did not start: $(tail -5 "$RUN/gateway.stderr")" >&2; exit 1; }

"$LOADGEN" --addr "$API" "${KEY_HEADER[@]}" repeat --path "$DETAIL" --count "$WARMUP" --concurrency "$CONCURRENCY" >"$RUN/warmup.json"
callgrind_control -i on "$VG" >/dev/null 2>&1
"$LOADGEN" --addr "$API" "${KEY_HEADER[@]}" repeat --path "$DETAIL" --count "$COUNT" --concurrency "$CONCURRENCY" >"$RUN/measured.json"
# Let the access-log writer finish the batch that belongs to these requests.
sleep 1
callgrind_control -d "$VG" >/dev/null 2>&1
callgrind_control -i off "$VG" >/dev/null 2>&1
grep -q '"ok":'"$COUNT" "$RUN/measured.json" || { echo "not every request was a 200: $(cat "$RUN/measured.json")" >&2; exit 1; }

# The dump (part 1) holds exactly the measured requests; callgrind.out itself is
# what ran after instrumentation was switched off again.
OUT=$RUN/callgrind.out.1
ANNOTATED=$(callgrind_annotate --inclusive=yes "$OUT" 2>/dev/null)
TOTAL=$(callgrind_annotate "$OUT" 2>/dev/null | awk '/PROGRAM TOTALS/ && !t { gsub(",", "", $1); print $1; t = 1 }')
echo "mode=$MODE count=$COUNT concurrency=$CONCURRENCY binary=$GATEWAY"
awk -v t="$TOTAL" -v n="$COUNT" 'BEGIN { printf "instructions per hit: %.0f (total %d)\n", t / n, t }'
awk -v n="$COUNT" '
  /^-+$/ { sep++ ; next }
  sep >= 3 && $1 ~ /^[0-9,]+$/ && shown < 40 { v=$1; gsub(",", "", v); $1=""; printf "%8.0f  %s\n", v / n, substr($0, 1, 140); shown++ }'
echo "callgrind file: $OUT (callgrind_annotate --inclusive=yes $OUT)"
