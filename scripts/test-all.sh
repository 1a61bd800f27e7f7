#!/usr/bin/env bash
# The whole test suite, as the README's quick start and CI run it:
# outside programs first, then build, typecheck, lint and test every package.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
bash scripts/ensure-tools.sh
# One task at a time per package keeps the 2-core machine from thrashing
# while several packages run process-heavy tests.
exec turbo run build typecheck lint test --concurrency=2 "$@"
