# shellcheck shell=bash
# What the sandbox for PR code needs on this machine. Sourced by the other scripts.
# - bubblewrap (and util-linux's prlimit/setpriv), installed with apt-get when running as root;
# - as root, PR code runs as uids of its own (EVALBOT_SANDBOX_UIDS), which must reach the Python
#   interpreter and the cache directory: an interpreter under /root (pyenv) is out of their
#   reach, so Debian's /usr/bin/python3 (with venv) is used instead, via EVALBOT_PYTHON;
# - EVALBOT_CACHE_DIR defaults to .cache/evalbot in the checkout, or to /var/cache (root's own,
#   not a world-writable directory where someone could plant it first) when the checkout itself
#   is out of those uids' reach.
evalbot_reachable_by_sandbox() { # PATH: can an unprivileged uid reach it?
  setpriv --reuid=65534 --regid=65534 --clear-groups test -e "$1" 2>/dev/null
}
_evalbot_apt=()
command -v bwrap >/dev/null 2>&1 || _evalbot_apt+=(bubblewrap)
command -v setpriv >/dev/null 2>&1 || _evalbot_apt+=(util-linux)
if [ "$(id -u)" = 0 ] && [ -z "${EVALBOT_PYTHON:-}" ]; then
  _evalbot_py=$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))' 2>/dev/null || true)
  if [ -z "$_evalbot_py" ] || ! evalbot_reachable_by_sandbox "$_evalbot_py"; then
    export EVALBOT_PYTHON=/usr/bin/python3
    /usr/bin/python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || _evalbot_apt+=(python3 python3-venv)
  fi
  unset _evalbot_py
fi
if [ "${#_evalbot_apt[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "evalbot: the sandbox for PR code needs ${_evalbot_apt[*]}; install it (sudo apt-get install ${_evalbot_apt[*]})" >&2
    exit 1
  fi
  echo "evalbot: installing ${_evalbot_apt[*]} (the sandbox for PR code)" >&2
  [ -n "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v lock)" ] || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${_evalbot_apt[@]}" >/dev/null
fi
unset _evalbot_apt
if [ -z "${EVALBOT_CACHE_DIR:-}" ]; then
  if [ "$(id -u)" != 0 ] || evalbot_reachable_by_sandbox "$PWD"; then
    export EVALBOT_CACHE_DIR="$PWD/.cache/evalbot"
  else
    export EVALBOT_CACHE_DIR="/var/cache/evalbot-checkout-$(printf %s "$PWD" | sha256sum | cut -c1-12)"
  fi
fi
mkdir -p "$EVALBOT_CACHE_DIR"
[ "$(id -u)" != 0 ] || chmod 755 "$EVALBOT_CACHE_DIR"
