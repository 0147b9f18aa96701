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
if [ "$name" = fleet ]; then ensure_redis; fi # exact caps lease in a real redis-server
[ -f "test/bench/$name.ts" ] || { say "no benchmark test/bench/$name.ts; available: $(ls test/bench | grep -v -e lib.ts -e passthrough.ts -e proxy-llamacpp.ts -e llm-aware-workload.ts -e synthetic-cluster.ts -e pick-cost.ts | sed 's/\.ts$//' | tr '\n' ' ')"; exit 2; }
exec npx --no-install tsx "test/bench/$name.ts" "$@"
