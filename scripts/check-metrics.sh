#!/usr/bin/env bash
# Starts the demo (sandbox upstream + gateway on loopback), drives a little
# traffic, scrapes /metrics and runs `promtool check metrics` on the scrape.
# Needs: a built debug binary (cargo build), promtool, curl.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked --quiet
bin=target/debug/paycombat-gateway
api=127.0.0.1:18080
admin=127.0.0.1:19090
log=$(mktemp)
"$bin" demo --listen "$api" --admin-listen "$admin" >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://$admin/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
id=customer_67d84b19d50b490a8fa75ab20bbf275a
for path in "customer/customer/$id" "customer/customer/$id" "customer/customer-wallet-is-ready/$id" "payin/retrieve-payin/p1"; do
  curl -fsS -H 'X-token: demo-client-key' "http://$api/api/v1/$path" >/dev/null
done
curl -sS "http://$api/api/v1/customer/customer/$id" >/dev/null   # 401, counted
scrape=$(curl -fsS "http://$admin/metrics")
echo "$scrape" | promtool check metrics
# A here-string, not a pipe: under pipefail, `grep -q` exiting at its first
# match would kill a writer still holding a scrape larger than the pipe buffer.
grep -q '^gateway_requests_total{' <<<"$scrape" || { echo "no gateway_requests_total in the scrape"; exit 1; }
echo "promtool check metrics: ok ($(grep -vc '^#' <<<"$scrape") samples)"
