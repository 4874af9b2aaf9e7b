#!/usr/bin/env bash
# The long cluster-mode history check: three gateways, one real redis-server, each
# replica through its own steerable loopback link, concurrent writers and readers,
# and every fault (Redis SIGSTOP, CLIENT PAUSE WRITE / ALL, pub/sub connections
# killed, Redis killed and restarted, one replica paused, a slow replica link, a
# replica's connections cut), repeated. Asserts zero stale reads (a read that started
# after a write completed returning older data) and prints the per-phase table,
# then the write latency the lease costs (no fault, Redis stopped).
#
# Usage: scripts/cluster-history.sh
# Environment (defaults): SCALE=4 (multiplies every phase and fault duration),
# ROUNDS=3 (repetitions of the fault schedule).
# Needs: cargo, redis-server.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_PROFILE_DEV_DEBUG=${CARGO_PROFILE_DEV_DEBUG:-0}
export CLUSTER_HISTORY_SCALE=${SCALE:-4} CLUSTER_HISTORY_ROUNDS=${ROUNDS:-3}
echo "cluster history: scale $CLUSTER_HISTORY_SCALE, $CLUSTER_HISTORY_ROUNDS rounds, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
cargo test --locked --test it cluster_history::no_stale_read -- --nocapture --test-threads 1 2>&1 |
  grep -E '^(\||cluster history|write waits|STALE|test result)'
cargo test --locked --test it cluster_faults::what_the_lease_costs_a_write -- --nocapture 2>&1 |
  grep -E '^(write latency|test result)'
