#!/usr/bin/env bash
# `pnpm demo`, the README's first command: install what is missing, then run `evalbot demo`
# (evalbot on this machine on a demo PR; see `pnpm evalbot demo --help` for its options).
set -euo pipefail
cd "$(dirname "$0")/.."
args=("$@")
source scripts/lib/node-env.sh
source scripts/lib/pip-env.sh
source scripts/lib/redis-env.sh

# The demo starts (and stops) its own private redis-server: only make sure there is one to start.
needs_redis=1
for arg in "${args[@]}"; do
  case "$arg" in --redis-url | --redis-url=*) needs_redis=0 ;; esac
done
if [ "$needs_redis" = 1 ]; then evalbot_install_redis; fi
for tool in git python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "evalbot: $tool is missing; install it (Debian: sudo apt-get install $tool)" >&2
    exit 1
  fi
done
# bubblewrap for the sandbox PR code runs in, a Python its uids can run, and the cache of
# virtual environments (TensorFlow for ml-demo), in the checkout so only the first run builds it.
source scripts/lib/sandbox-env.sh
if ! "${EVALBOT_PYTHON:-python3}" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  echo "evalbot: ${EVALBOT_PYTHON:-python3} cannot create virtual environments; install python3-venv (Debian: sudo apt-get install python3-venv)" >&2
  exit 1
fi
exec node --import tsx apps/cli/src/main.ts demo "${args[@]}"
