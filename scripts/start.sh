#!/usr/bin/env bash
# `npm start`: the quickstart. Two simulated vLLM replicas on 127.0.0.1:8001-8002 and the proxy in standalone
# mode on 127.0.0.1:8080 (admin on 127.0.0.1:9090), configured from crds/samples/quickstart.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
ensure_node_modules
exec npx --no-install tsx scripts/quickstart.ts "$@"
