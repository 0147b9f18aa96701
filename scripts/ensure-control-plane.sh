#!/usr/bin/env bash
# Makes sure the test control plane (etcd, kube-apiserver, kubectl, helm) is built and cached.
# Fast no-op when cached. The last line of stdout is the bin dir. See test/control-plane/README.md.
set -euo pipefail
exec bash "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/test/control-plane/build.sh" "$@"
