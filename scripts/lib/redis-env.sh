# shellcheck shell=bash
# Start a private Redis on a free loopback port unless REDIS_URL is already set.
# Only what this file starts is stopped, by evalbot_stop_redis (call it from an EXIT trap).
EVALBOT_STARTED_REDIS_PID=""
# Install Debian's redis-server when it is missing (as root); otherwise say how to get it.
evalbot_install_redis() {
  if command -v redis-server >/dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "evalbot: installing redis-server from Debian" >&2
    apt-get install -y -qq redis-server >/dev/null 2>&1 ||
      { apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; }
  else
    echo "evalbot: redis-server is missing; install it (Debian: sudo apt-get install redis-server) or set REDIS_URL" >&2
    return 1
  fi
}
evalbot_start_redis() {
  if [ -n "${REDIS_URL:-}" ]; then return 0; fi
  evalbot_install_redis
  local dir port
  dir="$(mktemp -d "${TMPDIR:-/tmp}/evalbot-redis.XXXXXX")"
  port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --save '' --appendonly no \
    --daemonize no --logfile "$dir/redis.log" &
  EVALBOT_STARTED_REDIS_PID=$!
  EVALBOT_STARTED_REDIS_DIR="$dir"
  for _ in $(seq 1 100); do
    if redis-cli -p "$port" ping >/dev/null 2>&1; then break; fi
    sleep 0.05
  done
  export REDIS_URL="redis://127.0.0.1:$port"
  echo "evalbot: started redis-server on $REDIS_URL" >&2
}
evalbot_stop_redis() {
  if [ -n "$EVALBOT_STARTED_REDIS_PID" ]; then
    kill "$EVALBOT_STARTED_REDIS_PID" 2>/dev/null || true
    wait "$EVALBOT_STARTED_REDIS_PID" 2>/dev/null || true
    rm -rf "$EVALBOT_STARTED_REDIS_DIR"
    EVALBOT_STARTED_REDIS_PID=""
  fi
}
