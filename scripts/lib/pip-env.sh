# shellcheck shell=bash
# Point pip at the machine's local wheel indexes when it has them, so that resolution
# never waits on retries of an unreachable public index. Sourced by the other scripts.
# Respects PIP_INDEX_URL / PIP_EXTRA_INDEX_URL already set by the user; leaves "$@" alone.
if [ -z "${PIP_INDEX_URL:-}" ] && command -v pip3 >/dev/null 2>&1; then
  _evalbot_indexes=()
  read -r -a _evalbot_indexes <<<"$(pip3 config list 2>/dev/null | sed -n "s/^global\.extra-index-url='\(.*\)'$/\1/p" | head -n1)"
  if [ "${#_evalbot_indexes[@]}" -gt 0 ]; then
    export PIP_INDEX_URL="${_evalbot_indexes[0]}"
    if [ "${#_evalbot_indexes[@]}" -gt 1 ]; then export PIP_EXTRA_INDEX_URL="${_evalbot_indexes[*]:1}"; fi
  fi
  unset _evalbot_indexes
fi
