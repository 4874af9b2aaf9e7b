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

. scripts/recipe-lib.sh
recipe_binary
recipe_run host-recipe "recipe" 8080

fail() { echo "host recipe: $*" >&2; exit 1; }
grep -q '^ready$' "$out" || fail "/readyz never answered ready"
grep -q '"first_name":"\[REDACTED\]"' "$out" || fail "the customer read was not masked"
grep -q '"kim"' "$out" && fail "a personal value reached the client"
grep -q '"token_file":"/' "$out" || fail "/admin/config did not show the token file"
for secret in snd_ZGVtby1zYW5kYm94LXRva2Vu demo-signature-key "$(cat "$DIR/admin_token")" "$(cat "$DIR/mask_hmac_key")"; do
  grep -qF -- "$secret" "$out" && fail "a secret appeared in an answer"
done
echo "host recipe: ok"
