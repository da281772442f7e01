#!/bin/sh
# The core (src/, include/) must never include Lua headers.
hits=$(grep -rlE '#[[:space:]]*include[[:space:]]*[<"](lua|lauxlib|lualib|luaconf)\.h' src include 2>/dev/null)
if [ -n "$hits" ]; then
  echo "layering violation: the C core includes Lua headers: $hits" >&2
  exit 1
fi
