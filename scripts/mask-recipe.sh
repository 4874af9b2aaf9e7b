#!/usr/bin/env bash
# Runs the README's `mask` example ("Try a body offline") exactly as written
# there, as on a fresh clone: the shell block after the `<!-- mask-recipe -->`
# marker, from the repository root, with no GATEWAY_* variable set. Checks that
# both commands masked the fixture (personal values gone, per-rule counts on
# stderr) and that the throwaway HMAC key was announced.
#
# Usage: scripts/mask-recipe.sh            (builds the debug binary)
#        PAYCOMBAT_GATEWAY_BIN=target/release/paycombat-gateway scripts/mask-recipe.sh
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/recipe-lib.sh
recipe_binary
# A fresh shell knows nothing of the gateway: no layer, no key, no clients file.
for v in $(env | sed -n 's/^\(GATEWAY_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
recipe_run mask-recipe "mask example" 8080

fail() { echo "mask recipe: $*" >&2; exit 1; }
# One masked body per `mask` command in the block.
runs=$(sed -n '/^<!-- mask-recipe -->$/,/^```$/p' README.md | grep -c 'paycombat-gateway mask')
[ "$runs" -ge 2 ] || fail "the README block should hold the mask commands"
[ "$(grep -c '^masked values: [1-9]' "$out")" -eq "$runs" ] || fail "every command should report masked values"
[ "$(grep -c '"first_name":"\[REDACTED\]"' "$out")" -eq "$runs" ] || fail "a body was not masked"
grep -q 'random throwaway key' "$out" || fail "the throwaway HMAC key was not announced"
for value in fatur4@paycombat.com '"kim"' 33777777 +6285156781124 'GRAND RUDENSIA'; do
  grep -qF -- "$value" "$out" && fail "a personal value ($value) was printed"
done
echo "mask recipe: ok"
