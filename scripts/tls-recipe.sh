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

. scripts/recipe-lib.sh
recipe_binary
recipe_run tls-recipe "TLS recipe" 8443

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
