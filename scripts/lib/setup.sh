# Idempotent, cached set-up shared by `npm start`, `npm test` and `npm run bench`. Source it, then call the
# ensure_* functions you need. Each prints what it does while it works and is a fast no-op when done.
# Needs only Node, npm, Go and Debian's apt on the machine.

say() { printf '\033[1m[switchyard]\033[0m %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    say "need root to run: $*"; return 1
  fi
}

# npm dependencies from package-lock.json when node_modules is missing or older than the lock. `npm install`
# rather than `npm ci`: npm 11.19 writes locks without other platforms' optional packages and then refuses to
# `ci` from them; `install` takes the locked versions all the same.
ensure_node_modules() {
  local stamp=node_modules/.switchyard-lock-hash want
  want=$(sha256sum package.json package-lock.json | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  say "installing npm dependencies from package-lock.json (first run only)…"
  # `npm ci`: exactly the lock (it fails when package.json and the lock disagree, as the image builds would).
  npm ci --no-audit --no-fund --loglevel=error >&2
  want=$(sha256sum package.json package-lock.json | sha256sum | cut -d' ' -f1)
  echo "$want" > "$stamp"
}

APT_UPDATED=""
apt_install() { # <command to check> <packages...>
  local check=$1; shift
  command -v "$check" >/dev/null 2>&1 && return 0
  say "installing $* from Debian (apt-get; first run only)…"
  if [ -z "$APT_UPDATED" ]; then as_root apt-get update -qq >&2; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >&2
}

# Redis server for the rate-limit and cache tests (started per test on a free port by the harness).
ensure_redis() { apt_install redis-server redis-server; }

# PostgreSQL server binaries for the usage-ledger tests (test/support/postgres.ts starts a throw-away server per test
# file on a free port; no system service is used). Debian keeps them off PATH, under /usr/lib/postgresql/<major>/bin.
ensure_postgres() {
  if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then return 0; fi
  apt_install /nonexistent/initdb postgresql
}

# promtool (Debian's prometheus package) to check the chart's alerting rules.
ensure_promtool() { apt_install promtool prometheus || say "promtool unavailable: rule checks will be skipped"; }


# etcd + kube-apiserver + kubectl + helm built from Go modules into ~/.cache/switchyard (first run: minutes).
ensure_control_plane() {
  local dir
  dir=$(bash test/control-plane/build.sh | tail -n 1)
  export SWITCHYARD_CONTROL_PLANE_BIN_DIR="$dir"
}

# llama.cpp's llama-server (built with cmake from the sources in the llama-cpp-python sdist on PyPI: first run
# ~6 min on 2 idle cores, up to ~30 under load) and the tiny random-weight GGUF it serves (generated with the gguf package from PyPI), for the
# real-upstream tier (test/real). Both cached under ~/.cache/switchyard/llamacpp.
ensure_llamacpp() {
  local build model
  apt_install cmake cmake
  apt_install c++ g++
  say "llama-server for the real-upstream tests (built from the llama-cpp-python sdist on the first run: 6-30 min)…"
  build=$(bash test/real/llamacpp/build.sh)
  model=$(bash test/real/llamacpp/model.sh "$(sed -n 's/^VOCAB_DIR=//p' <<<"$build")")
  export SWITCHYARD_LLAMA_SERVER SWITCHYARD_LLAMA_LOAD_GATE SWITCHYARD_LLAMA_MODEL
  SWITCHYARD_LLAMA_SERVER=$(sed -n 's/^LLAMA_SERVER=//p' <<<"$build")
  SWITCHYARD_LLAMA_LOAD_GATE=$(sed -n 's/^LOAD_GATE=//p' <<<"$build")
  SWITCHYARD_LLAMA_MODEL=$(sed -n 's/^MODEL=//p' <<<"$model")
}

# The Prometheus Operator CRDs the chart's monitors are dry-run against (test/chart/monitoring-crds.ts), from its Go
# module, kept in the Go module cache.
ensure_monitoring_crds() {
  local version module=github.com/prometheus-operator/prometheus-operator
  version=$(sed -n "s/^export const PROMETHEUS_OPERATOR_VERSION = '\(.*\)';/\1/p" test/chart/monitoring-crds.ts)
  if ! (cd /tmp && GOPROXY=off go mod download "$module@$version" 2>/dev/null); then
    say "fetching the Prometheus Operator CRDs ($module@$version) from the Go module proxy (first run only)…"
    (cd /tmp && go mod download "$module@$version") >&2
  fi
}

# The one-node test cluster (test/cluster): containerd + runc, the CNI plugins, iptables for kube-proxy, buildah
# and mmdebstrap for the images, gcc for the pause binary — all from Debian.
ensure_cluster_tools() {
  apt_install containerd containerd
  apt_install runc runc
  apt_install /usr/lib/cni/bridge containernetworking-plugins
  apt_install iptables iptables
  apt_install buildah buildah
  apt_install mmdebstrap mmdebstrap
  apt_install gcc gcc
  [ -f "/usr/lib/$(gcc -print-multiarch)/libc.a" ] || apt_install /nonexistent/libc.a libc6-dev # gcc -static needs it
}

# The cluster's binaries and images (test/cluster/build.sh; first run: many minutes, then a no-op). Skipped when
# SWITCHYARD_SKIP_CLUSTER=1 (quick local loops; CI never sets it).
ensure_cluster() {
  if [ "${SWITCHYARD_SKIP_CLUSTER:-}" = 1 ]; then say "SWITCHYARD_SKIP_CLUSTER=1: not building the test cluster"; return 0; fi
  ensure_cluster_tools
  say "building the test cluster's binaries and images (cached; the first run takes many minutes)…"
  bash test/cluster/build.sh >/dev/null
}
