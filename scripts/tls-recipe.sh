#!/usr/bin/env bash
# Runs the README's TLS recipe ("TLS and client certificates" > "Try it")
# exactly as written there: the shell block after the `<!-- tls-recipe -->`
# marker is extracted and run, with its loopback ports moved to free ones.
# Checks that the request with the client certificate came back masked as
# client "billing" over TLS, and that the one without a certificate was
# refused at the handshake. Every process the recipe starts is stopped.
#
# Usage: scripts/tls-recipe.sh            (builds the debug binary)
#        PAYCOMBAT_GATEWAY_BIN=target/release/paycombat-gateway scripts/tls-recipe.sh
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${PAYCOMBAT_GATEWAY_BIN:-target/debug/paycombat-gateway}
if [ -z "${PAYCOMBAT_GATEWAY_BIN:-}" ]; then
  cargo build --locked --quiet --bin paycombat-gateway
fi
[ -x "$bin" ] || { echo "no binary at $bin" >&2; exit 1; }
PATH="$(cd "$(dirname "$bin")" && pwd):$PATH"
export PATH

block=$(awk '/<!-- tls-recipe -->/ { armed = 1; next }
             armed && /^```sh$/ { inside = 1; next }
             inside && /^```$/ { exit }
             inside { print }' README.md)
[ -n "$block" ] || { echo "README.md has no tls-recipe block" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
    echo $((20000 + RANDOM % 40000))
}
sandbox_port=$(free_port) api_port=$(free_port) admin_port=$(free_port)
block=$(printf '%s\n' "$block" | sed -e "s/127\.0\.0\.1:8081/127.0.0.1:$sandbox_port/g" \
  -e "s/127\.0\.0\.1:8443/127.0.0.1:$api_port/g" -e "s/localhost:8443/localhost:$api_port/g" \
  -e "s/127\.0\.0\.1:9090/127.0.0.1:$admin_port/g")

out=$(mktemp)
here=$PWD
stop() {
  local pid
  for pid in ${GATEWAY_PID:-} ${SANDBOX_PID:-}; do
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  cd "$here"
  [ -n "${DIR:-}" ] && rm -rf "$DIR"
  rm -f "$out"
}
trap stop EXIT
trap 'exit 143' TERM INT

echo "running the README TLS recipe (sandbox :$sandbox_port, gateway :$api_port, admin :$admin_port)"
status=0
eval "$block" >"$out" 2>&1 || status=$?
cat "$out"
if [ "$status" -ne 0 ]; then
  echo "the recipe failed (exit $status)" >&2
  [ -n "${DIR:-}" ] && tail -n 20 "$DIR"/*.log >&2 2>/dev/null
  exit 1
fi

fail() { echo "tls recipe: $*" >&2; exit 1; }
grep -q '^configuration is valid' "$out" || fail "check-config did not pass"
grep -q '^ready$' "$out" || fail "/readyz never answered ready"
grep -q '"first_name":"\[REDACTED\]"' "$out" || fail "the request with a certificate was not answered (masked)"
grep -q '^refused: ' "$out" || fail "the request without a certificate was not refused"
grep -q '^gateway_requests_total{.*client="billing".*status_class="2xx"} 1$' "$out" ||
  fail "the certificate did not identify client billing"
grep -q '^gateway_tls_handshake_failures_total{reason="no_client_certificate"} 1$' "$out" ||
  fail "the refused handshake was not counted"
echo "tls recipe: ok"
