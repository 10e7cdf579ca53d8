# shellcheck shell=bash
# Make sure pnpm and the workspace's packages are installed. Sourced by the other scripts.
if ! command -v pnpm >/dev/null 2>&1; then
  echo "evalbot: installing pnpm 10 with npm" >&2
  npm install -g pnpm@10.34.9 >/dev/null
fi
if [ ! -d node_modules/.pnpm ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ]; then
  pnpm install --frozen-lockfile --reporter=silent
fi
