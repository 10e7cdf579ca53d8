#!/usr/bin/env bash
# The test command: installs what the tests need, then lint, typecheck and every test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/node-env.sh
source scripts/lib/pip-env.sh
source scripts/lib/redis-env.sh
# bubblewrap, a Python the sandbox's uids can run, and the environment cache (in the checkout
# where they can reach it, so a second run reuses it).
source scripts/lib/sandbox-env.sh
trap evalbot_stop_redis EXIT
evalbot_start_redis
echo "== lint" && pnpm -s lint
echo "== typecheck" && pnpm -s typecheck
echo "== tests" && pnpm -s exec vitest run "$@"
