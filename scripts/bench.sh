#!/usr/bin/env bash
# `pnpm bench [ingestion|e2e|scale|memory|sandbox ...]`: the benchmarks (bench/run.ts), with
# what the sandbox for PR code needs on this machine (bubblewrap, a Python its uids can run).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/node-env.sh
source scripts/lib/pip-env.sh
source scripts/lib/sandbox-env.sh
exec node --import tsx bench/run.ts "$@"
