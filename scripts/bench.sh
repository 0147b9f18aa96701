#!/usr/bin/env bash
# `npm run bench -- <name> [args]`: runs test/bench/<name>.ts (default: proxy). Benchmarks print figures only.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
ensure_node_modules
apt_install wrk wrk
ensure_postgres
if [[ " $* " == *" --upstream llamacpp "* || " $* " == *" --upstream=llamacpp "* ]]; then ensure_llamacpp; fi
name=${1:-proxy}; shift || true
[ -f "test/bench/$name.ts" ] || { say "no benchmark test/bench/$name.ts; available: $(ls test/bench | grep -v -e lib.ts -e passthrough.ts -e proxy-llamacpp.ts | sed 's/\.ts$//' | tr '\n' ' ')"; exit 2; }
exec npx --no-install tsx "test/bench/$name.ts" "$@"
