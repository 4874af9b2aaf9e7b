#!/usr/bin/env bash
# Runs the README's "Run it on a host" recipe exactly as written there: the
# shell block after the `<!-- host-recipe -->` marker is extracted and run,
# with its loopback ports moved to free ones (so it can run next to a demo or
# another CI job). Checks that the customer read came back masked and that
# /admin/config showed file paths, not secrets. Every process the recipe
# starts is stopped (TERM, then KILL after 10 s), whatever happens.
#
# Usage: scripts/host-recipe.sh            (builds the debug binary)
#        PAYCOMBAT_GATEWAY_BIN=target/release/paycombat-gateway scripts/host-recipe.sh
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${PAYCOMBAT_GATEWAY_BIN:-target/debug/paycombat-gateway}
if [ -z "${PAYCOMBAT_GATEWAY_BIN:-}" ]; then
  cargo build --locked --quiet --bin paycombat-gateway
fi
[ -x "$bin" ] || { echo "no binary at $bin" >&2; exit 1; }
# The recipe calls `paycombat-gateway` by name, as an installed binary.
PATH="$(cd "$(dirname "$bin")" && pwd):$PATH"
export PATH

block=$(awk '/<!-- host-recipe -->/ { armed = 1; next }
             armed && /^```sh$/ { inside = 1; next }
             inside && /^```$/ { exit }
             inside { print }' README.md)
[ -n "$block" ] || { echo "README.md has no host-recipe block" >&2; exit 1; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
    echo $((20000 + RANDOM % 40000))
}
sandbox_port=$(free_port) api_port=$(free_port) admin_port=$(free_port)
block=$(printf '%s\n' "$block" | sed -e "s/127\.0\.0\.1:8081/127.0.0.1:$sandbox_port/g" \
  -e "s/127\.0\.0\.1:8080/127.0.0.1:$api_port/g" -e "s/127\.0\.0\.1:9090/127.0.0.1:$admin_port/g")

out=$(mktemp)
stop() {
  local pid
  for pid in ${GATEWAY_PID:-} ${SANDBOX_PID:-}; do
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  [ -n "${DIR:-}" ] && rm -rf "$DIR"
  rm -f "$out"
}
trap stop EXIT
trap 'exit 143' TERM INT

echo "running the README recipe (sandbox :$sandbox_port, gateway :$api_port, admin :$admin_port)"
status=0
eval "$block" >"$out" 2>&1 || status=$?
cat "$out"
if [ "$status" -ne 0 ]; then
  echo "the recipe failed (exit $status)" >&2
  [ -n "${DIR:-}" ] && tail -n 20 "$DIR"/*.log >&2 2>/dev/null
  exit 1
fi

fail() { echo "host recipe: $*" >&2; exit 1; }
grep -q '^ready$' "$out" || fail "/readyz never answered ready"
grep -q '"first_name":"\[REDACTED\]"' "$out" || fail "the customer read was not masked"
grep -q '"kim"' "$out" && fail "a personal value reached the client"
grep -q '"token":{"file":' "$out" || fail "/admin/config did not show the token file"
for secret in snd_ZGVtby1zYW5kYm94LXRva2Vu demo-signature-key "$(cat "$DIR/admin_token")" "$(cat "$DIR/mask_hmac_key")"; do
  grep -qF -- "$secret" "$out" && fail "a secret appeared in an answer"
done
echo "host recipe: ok"
