#!/usr/bin/env bash
# Builds the binaries of Switchyard's test control plane from Go modules:
#   kube-apiserver, kubectl  <- k8s.io/kubernetes   (module ./k8s)
#   kubelet, kube-controller-manager, kube-scheduler, kube-proxy (the one-node cluster of test/cluster)
#                            <- k8s.io/kubernetes   (the same module, in the same `go build`)
#   etcd                     <- go.etcd.io/etcd/server/v3 (module ./etcd)
#   helm                     <- helm.sh/helm/v3     (module ./helm)
#
# Output: ${SWITCHYARD_CACHE_DIR:-$HOME/.cache/switchyard}/control-plane/<key>/bin/
# where <key> hashes the go.mod/go.sum/main files, this script and the Go version.
# Idempotent: a cached build is a fast no-op. Atomic: everything is built into a
# temporary directory that is renamed into place only once all binaries passed a
# smoke test, so an interrupted build is never taken as done.
#
# KUBEBUILDER_ASSETS: if set and it holds kube-apiserver and etcd (and optionally
# kubectl), those are used (symlinked into the bin dir) instead of being built.
#
# Progress goes to stderr. The last line of stdout is the bin dir; the same path
# is also written to <cache>/control-plane/bin-dir.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${SWITCHYARD_CACHE_DIR:-${HOME:-/root}/.cache/switchyard}/control-plane"

log() { printf '[control-plane] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v go >/dev/null 2>&1 || die "Go is required to build the test control plane (go 1.26+ not found in PATH)"

# Pinned versions, read from the go.mod files (single source of truth).
mod_version() { # <go.mod> <module path>
  awk -v m="$2" '($1 == m || ($1 == "require" && $2 == m)) { print ($1 == "require" ? $3 : $2); exit }' "$1"
}
K8S_VERSION="$(mod_version "$HERE/k8s/go.mod" k8s.io/kubernetes)"
ETCD_VERSION="$(mod_version "$HERE/etcd/go.mod" go.etcd.io/etcd/server/v3)"
HELM_VERSION="$(mod_version "$HERE/helm/go.mod" helm.sh/helm/v3)"
HELM_CLIENT_GO="$(mod_version "$HERE/helm/go.mod" k8s.io/client-go)"
[ -n "$K8S_VERSION" ] && [ -n "$ETCD_VERSION" ] && [ -n "$HELM_VERSION" ] && [ -n "$HELM_CLIENT_GO" ] ||
  die "could not read pinned versions from $HERE/{k8s,etcd,helm}/go.mod"

GO_VERSION="$(go env GOVERSION) $(go env GOOS)/$(go env GOARCH)"

# Binaries taken from KUBEBUILDER_ASSETS instead of being built.
ASSETS=""
declare -A FROM_ASSETS=()
if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
  if [ -x "$KUBEBUILDER_ASSETS/kube-apiserver" ] && [ -x "$KUBEBUILDER_ASSETS/etcd" ]; then
    ASSETS="$(cd "$KUBEBUILDER_ASSETS" && pwd -P)"
    FROM_ASSETS[kube-apiserver]=1
    FROM_ASSETS[etcd]=1
    [ -x "$ASSETS/kubectl" ] && FROM_ASSETS[kubectl]=1
  else
    log "KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no kube-apiserver and etcd; building them instead"
  fi
fi

KEY="$(
  {
    printf 'go=%s\nassets=%s\nfrom_assets=%s\n' "$GO_VERSION" "$ASSETS" "$(printf '%s ' "${!FROM_ASSETS[@]}" | tr ' ' '\n' | sort | tr '\n' ' ')"
    for f in build.sh k8s/go.mod k8s/go.sum k8s/tools.go etcd/go.mod etcd/go.sum etcd/main.go \
      helm/go.mod helm/go.sum helm/tools.go; do
      printf '== %s\n' "$f"
      cat "$HERE/$f"
    done
  } | sha256sum | cut -c1-16
)"
OUT="$CACHE_ROOT/$KEY"
BIN="$OUT/bin"

finish() {
  touch "$OUT" 2>/dev/null || true # last use, for pruning
  printf '%s\n' "$BIN" >"$CACHE_ROOT/bin-dir.tmp.$$" && mv -f "$CACHE_ROOT/bin-dir.tmp.$$" "$CACHE_ROOT/bin-dir"
  printf '%s\n' "$BIN"
  exit 0
}

# Fast path: already built.
[ -d "$BIN" ] && { mkdir -p "$CACHE_ROOT"; finish; }

mkdir -p "$CACHE_ROOT"
# One build at a time (parallel test workers may all ask at once).
exec 9>"$CACHE_ROOT/.lock"
if ! flock -n 9; then
  log "another build of the control plane is running; waiting for it…"
  flock 9
fi
[ -d "$BIN" ] && finish

TMP="$(mktemp -d "$CACHE_ROOT/.build-$KEY.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/bin"

export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"
export CGO_ENABLED=0 # static binaries, like the upstream releases

log "building into $OUT (key $KEY, $GO_VERSION)"
t_all=$SECONDS

gobuild() { # <module dir> <ldflags> <packages...>
  local dir="$1" ldflags="$2"
  shift 2
  (cd "$HERE/$dir" && go build -trimpath -ldflags="-s -w $ldflags" -o "$TMP/bin/" "$@")
}

# kube-apiserver and kubectl
k8s_pkgs=()
[ -n "${FROM_ASSETS[kube-apiserver]:-}" ] || k8s_pkgs+=(k8s.io/kubernetes/cmd/kube-apiserver)
[ -n "${FROM_ASSETS[kubectl]:-}" ] || k8s_pkgs+=(k8s.io/kubernetes/cmd/kubectl)
# The node binaries of test/cluster, in the same `go build` so that the shared packages compile once.
NODE_BINARIES=(kubelet kube-controller-manager kube-scheduler kube-proxy)
k8s_pkgs+=("${NODE_BINARIES[@]/#/k8s.io/kubernetes/cmd/}")
if [ "${#k8s_pkgs[@]}" -gt 0 ]; then
  k8s_mm="${K8S_VERSION#v}"
  k8s_major="${k8s_mm%%.*}"
  k8s_minor="${k8s_mm#*.}"
  k8s_minor="${k8s_minor%%.*}"
  k8s_date="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" 2>/dev/null | sed -n 's/.*"Time": *"\([^"]*\)".*/\1/p' | head -1)"
  k8s_ld=""
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    k8s_ld+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=$k8s_major -X $p.gitMinor=$k8s_minor"
    k8s_ld+=" -X $p.gitTreeState=clean -X $p.gitCommit= -X $p.buildDate=${k8s_date:-1970-01-01T00:00:00Z}"
  done
  names="$(printf "%s, " "${k8s_pkgs[@]##*/}")"
  log "building ${names%, } from k8s.io/kubernetes@$K8S_VERSION (first run only, 10-20 minutes on 2 cores)…"
  t=$SECONDS
  gobuild k8s "$k8s_ld" "${k8s_pkgs[@]}"
  log "  done in $((SECONDS - t))s"
fi

# etcd
if [ -z "${FROM_ASSETS[etcd]:-}" ]; then
  log "building etcd from go.etcd.io/etcd/server/v3@$ETCD_VERSION (first run only, about a minute)…"
  t=$SECONDS
  gobuild etcd "" .
  log "  done in $((SECONDS - t))s"
fi

# helm (its Makefile sets the Kubernetes version it assumes from its client-go: v0.N -> 1.N)
log "building helm from helm.sh/helm/v3@$HELM_VERSION (first run only, a minute or two)…"
t=$SECONDS
hk="${HELM_CLIENT_GO#v0.}"
hk_minor="${hk%%.*}"
helm_ld="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  helm_ld+=" -X $p.k8sVersionMajor=1 -X $p.k8sVersionMinor=$hk_minor"
done
gobuild helm "$helm_ld" helm.sh/helm/v3/cmd/helm
log "  done in $((SECONDS - t))s"

for b in "${!FROM_ASSETS[@]}"; do
  ln -s "$ASSETS/$b" "$TMP/bin/$b"
  log "using $b from KUBEBUILDER_ASSETS ($ASSETS/$b)"
done

# Smoke test every binary before publishing the directory.
"$TMP/bin/kube-apiserver" --version >&2 || die "kube-apiserver does not run"
"$TMP/bin/etcd" --version >&2 || die "etcd does not run"
"$TMP/bin/kubectl" version --client >&2 || die "kubectl does not run"
for b in "${NODE_BINARIES[@]}"; do "$TMP/bin/$b" --version >&2 || die "$b does not run"; done
"$TMP/bin/helm" version --short >&2 || die "helm does not run"

printf 'k8s.io/kubernetes %s\ngo.etcd.io/etcd/server/v3 %s\nhelm.sh/helm/v3 %s\ngo %s\nassets %s\n' \
  "$K8S_VERSION" "$ETCD_VERSION" "$HELM_VERSION" "$GO_VERSION" "${ASSETS:-none}" >"$TMP/versions.txt"
chmod 755 "$TMP"
rm -rf "$OUT" # a directory without bin/ can only be debris
mv "$TMP" "$OUT"
trap - EXIT
# Prune builds of other pins that nothing used for 14 days (each is ~250 MB).
find "$CACHE_ROOT" -mindepth 1 -maxdepth 1 -type d -name '????????????????' -mtime +14 -exec rm -rf {} + 2>/dev/null || true
log "built in $((SECONDS - t_all))s: $BIN"
finish
