#!/usr/bin/env bash
# Runs the README's sandbox-faults example ("Sandbox faults" under Subcommands)
# exactly as written there: the shell block after the `<!-- sandbox-recipe -->`
# marker, with its loopback port moved to a free one. Checks that the fault
# header and the standing fault each shaped an answer, that clearing it worked,
# and that the counts saw both customer reads. The sandbox it starts is stopped
# whatever happens.
#
# Usage: scripts/sandbox-recipe.sh         (builds the debug binary)
#        PAYCOMBAT_GATEWAY_BIN=target/release/paycombat-gateway scripts/sandbox-recipe.sh
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/recipe-lib.sh
recipe_binary
recipe_run sandbox-recipe "sandbox example" 8080

fail() { echo "sandbox recipe: $*" >&2; exit 1; }
grep -q '^HTTP/1.1 503' "$out" || fail "the fault header did not make a 503"
grep -qF '{"status":false,"message":"sandbox fault: 503 Service Unavailable","data":null}' "$out" ||
  fail "the 503 was not paycombat's envelope"
grep -q '^502$' "$out" || fail "the standing fault did not make a 502"
grep -qF '"data":{"fault":null}' "$out" || fail "the standing fault was not cleared"
grep -qF '"customer_detail":2' "$out" || fail "the counts did not see both customer reads"
echo "sandbox recipe: ok"
