#!/usr/bin/env bash
# `npm start`: the quickstart. Two simulated vLLM replicas on 127.0.0.1:8001-8002 and the proxy in standalone
# mode on 127.0.0.1:8080 (admin on 127.0.0.1:9090), configured from crds/samples/quickstart.yaml.
# PORT, ADMIN_PORT and SIM_PORTS=port1,port2 move them (0 = a free port); the banner prints the real URLs.
# `node --import tsx` rather than `npx tsx`: one process, so Ctrl-C stops it with exit code 0 (npm exec exits 130).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
ensure_node_modules
exec node --import tsx scripts/quickstart.ts "$@"
