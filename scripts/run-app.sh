#!/usr/bin/env bash
# `pnpm cairn|cairnctl|discovery|bench <args>`: build what the app needs
# (a cache hit when nothing changed), then run it from the caller's directory
# with every argument passed through. CAIRN_RUNTIME=bun|deno runs it there.
set -euo pipefail
app="$1"
shift
root="$(cd "$(dirname "$0")/.." && pwd)"
case "$app" in
  bench) dir="$root/bench" ;;
  *) dir="$root/apps/$app" ;;
esac
if [ ! -f "$dir/package.json" ]; then
  echo "run-app: $app is not part of this checkout yet ($dir does not exist)" >&2
  exit 1
fi
pkg="$(node -p "require('$dir/package.json').name")"
(cd "$root" && TURBO_TELEMETRY_DISABLED=1 turbo run build --filter="$pkg..." --output-logs=errors-only >&2)
entry="$dir/dist/main.js"
case "${CAIRN_RUNTIME:-node}" in
  node) exec node "$entry" "$@" ;;
  # The real binaries: the .bin wrappers would not pass signals on.
  bun) exec "$root/node_modules/bun/bin/bun.exe" "$entry" "$@" ;;
  deno) exec "$root/node_modules/deno/deno" run -A "$entry" "$@" ;;
  *) echo "run-app: CAIRN_RUNTIME must be node, bun or deno, not '${CAIRN_RUNTIME}'" >&2; exit 2 ;;
esac
