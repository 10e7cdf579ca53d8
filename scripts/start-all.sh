#!/usr/bin/env bash
# `pnpm start`: gateway, one worker and the dashboard in one terminal, configured from .env.
# Stops all three when any exits or on Ctrl-C. For production use docker compose.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .env ]; then set -a; source .env; set +a; fi
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
pnpm --filter @evalbot/gateway start & pids+=($!)
pnpm --filter @evalbot/worker start & pids+=($!)
pnpm --filter @evalbot/dashboard start & pids+=($!)
wait -n
