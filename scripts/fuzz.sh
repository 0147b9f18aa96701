#!/usr/bin/env bash
# `npm run fuzz -- [--cases N] [--seed S] [...]`: the client-side and upstream-answer fuzzers against a proxy process
# (test/fuzz/cli.ts; `--help` lists the flags). Loopback only; prints a summary and exits 1 when an invariant broke.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
ensure_node_modules
exec npx --no-install tsx test/fuzz/cli.ts "$@"
