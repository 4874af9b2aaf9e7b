#!/usr/bin/env bash
# Soak test: drives the gateway (release build, in-process with the sandbox upstream) with a
# mixed load of customer reads, writes and randomly injected upstream faults, then fails on
#   - any non-200 answer to a request that carried no injected fault,
#   - any response body holding a raw personal value (fixture values, per-customer values,
#     and first names written during the run),
#   - RSS growth beyond noise (last sample > first sample after warm-up x 1.5 + 16 MiB),
#   - open file descriptor growth beyond +32,
#   - an in-flight gauge that does not return to 0, or a cache above its bound.
#
# Usage: scripts/soak.sh [SECONDS]      (default: $DURATION, else 60)
# The load generator is tests/it/soak.rs (`soak_long`); a 5-second version runs in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-${DURATION:-60}}"
case "$seconds" in
  ''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 64 ;;
esac
echo "soak: ${seconds}s against a release build" >&2
SOAK_SECONDS="$seconds" exec cargo test --release --test it -- --ignored --nocapture soak_long
