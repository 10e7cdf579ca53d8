#!/usr/bin/env bash
# The test command: installs what the tests need, then lint, typecheck and every test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/node-env.sh
source scripts/lib/pip-env.sh
source scripts/lib/redis-env.sh
trap evalbot_stop_redis EXIT
evalbot_start_redis
# Environments and pip's cache live in the checkout, so a second run reuses them.
export EVALBOT_CACHE_DIR="${EVALBOT_CACHE_DIR:-$PWD/.cache/evalbot}"
mkdir -p "$EVALBOT_CACHE_DIR"
echo "== lint" && pnpm -s lint
echo "== typecheck" && pnpm -s typecheck
echo "== tests" && pnpm -s exec vitest run "$@"
