# shellcheck shell=bash
# Point pip at the machine's local wheel indexes when it has them, so that resolution
# never waits on retries of an unreachable public index. Sourced by the other scripts.
# Respects PIP_INDEX_URL / PIP_EXTRA_INDEX_URL already set by the user.
if [ -z "${PIP_INDEX_URL:-}" ] && command -v pip3 >/dev/null 2>&1; then
  _evalbot_extra="$(pip3 config list 2>/dev/null | sed -n "s/^global\.extra-index-url='\(.*\)'$/\1/p" | head -n1)"
  if [ -n "$_evalbot_extra" ]; then
    # shellcheck disable=SC2086
    set -- $_evalbot_extra
    export PIP_INDEX_URL="$1"
    shift
    if [ "$#" -gt 0 ]; then export PIP_EXTRA_INDEX_URL="$*"; fi
  fi
  unset _evalbot_extra
fi
