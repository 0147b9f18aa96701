#!/usr/bin/env bash
# Builds llama.cpp's `llama-server` for the real-upstream test tier (test/real) from the llama.cpp sources vendored
# in the PyPI sdist of llama-cpp-python (pins.env), with cmake and the system C++ compiler. Offline: no web UI
# download, no HTTPS, no native CPU tuning (the binary runs on any x86-64 or arm64 machine of the same OS).
#
# Output: ${SWITCHYARD_CACHE_DIR:-$HOME/.cache/switchyard}/llamacpp/<key>/
#   bin/llama-server        the server (static llama/ggml libraries)
#   vocab/*.gguf            the vocab-only GGUF files shipped with the sources (tokenizers for model.sh)
#   versions.txt            what was built, from which sdist, with which compiler
# and ${SWITCHYARD_CACHE_DIR:-…}/llamacpp/load-gate/<key>.so, the LD_PRELOAD library of load-gate.c (seconds to build).
# where <key> hashes pins.env, the cmake flags, the output layout, the compiler and cmake versions and the machine
# architecture (not the rest of this script: editing a message does not rebuild).
# Idempotent (a cached build is a fast no-op), serialised with flock, atomic (built in a temporary directory renamed
# into place once the server passed a smoke test). First build: ~15-20 minutes on 2 cores, niced.
#
# Progress goes to stderr. Stdout: `LLAMA_SERVER=<path>`, `VOCAB_DIR=<path>`, `LOAD_GATE=<path>` lines.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${SWITCHYARD_CACHE_DIR:-${HOME:-/root}/.cache/switchyard}/llamacpp"
# shellcheck source=pins.env
source "$HERE/pins.env"

log() { printf '[llama.cpp] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

for tool in cmake c++ cc python3 flock; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is required to build llama-server (not found in PATH)"
done

# Offline: no web UI (built or downloaded), no HTTPS; portable: no -march=native; static llama/ggml libraries.
# (LLAMA_CURL is gone at this commit — setting it only warns; downloads go through cpp-httplib, which without
# OpenSSL cannot reach an HTTPS hub.)
CMAKE_FLAGS=(
  -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=OFF -DGGML_OPENMP=OFF -DGGML_CCACHE=OFF
  -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON -DLLAMA_BUILD_COMMON=ON -DLLAMA_BUILD_APP=OFF
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
  -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF
  -DLLAMA_BUILD_NUMBER=0 "-DLLAMA_BUILD_COMMIT=$LLAMA_CPP_COMMIT"
)
LAYOUT="bin/llama-server vocab/*.gguf versions.txt"
TOOLCHAIN="$(c++ --version | head -1); $(cmake --version | head -1); $(uname -s)/$(uname -m)"
KEY="$(
  {
    printf 'toolchain=%s\nlayout=%s\n' "$TOOLCHAIN" "$LAYOUT"
    printf '%s\n' "${CMAKE_FLAGS[@]}"
    cat "$HERE/pins.env"
  } | sha256sum | cut -c1-16
)"
OUT="$CACHE_ROOT/$KEY"

# The load gate: tiny, keyed by its source alone, built before anything else (no lock: builders write the same file).
GATE_KEY="$({ cc --version | head -1; uname -sm; cat "$HERE/load-gate.c"; } | sha256sum | cut -c1-16)"
GATE="$CACHE_ROOT/load-gate/$GATE_KEY.so"
if [ ! -f "$GATE" ]; then
  mkdir -p "$CACHE_ROOT/load-gate"
  cc -O2 -Wall -Werror -shared -fPIC -o "$GATE.tmp.$$" "$HERE/load-gate.c" -ldl || die "could not build load-gate.so"
  mv -f "$GATE.tmp.$$" "$GATE"
fi

finish() {
  touch "$OUT" 2>/dev/null || true # last use, for pruning
  printf 'LLAMA_SERVER=%s\nVOCAB_DIR=%s\nLOAD_GATE=%s\n' "$OUT/bin/llama-server" "$OUT/vocab" "$GATE"
  exit 0
}

built() { [ -x "$OUT/bin/llama-server" ]; }
if built; then finish; fi
# shellcheck source=cache.sh
source "$HERE/cache.sh"
begin_build "build of llama-server"
t_all=$SECONDS

SDIST="llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION.tar.gz"
log "downloading the llama-cpp-python $LLAMA_CPP_PYTHON_VERSION sdist from PyPI (first run only, ~75 MB)…"
python3 -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
  "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -d "$TMP/dl" >&2
[ -f "$TMP/dl/$SDIST" ] || die "pip did not download $SDIST"
echo "$LLAMA_CPP_PYTHON_SHA256  $TMP/dl/$SDIST" | sha256sum -c --quiet - >&2 ||
  die "$SDIST does not have the pinned sha256 ($LLAMA_CPP_PYTHON_SHA256)"

log "unpacking the vendored llama.cpp sources…"
tar -xzf "$TMP/dl/$SDIST" -C "$TMP" "llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION/vendor/llama.cpp"
SRC="$TMP/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION/vendor/llama.cpp"
rm -rf "$TMP/dl"

JOBS="${SWITCHYARD_BUILD_JOBS:-2}"
log "building llama-server (llama.cpp $LLAMA_CPP_COMMIT) with $TOOLCHAIN, -j$JOBS, niced (first run only, ~15-20 min)…"
t=$SECONDS
nice -n 10 cmake -S "$SRC" -B "$TMP/build" "${CMAKE_FLAGS[@]}" >"$TMP/configure.log" 2>&1 ||
  { tail -n 30 "$TMP/configure.log" >&2; die "cmake configure failed"; }
nice -n 10 cmake --build "$TMP/build" --target llama-server -j "$JOBS" >"$TMP/build.log" 2>&1 ||
  { grep -n -B2 -A8 'error' "$TMP/build.log" | head -n 60 >&2; die "the build failed"; }
log "  compiled in $((SECONDS - t))s"

mkdir -p "$TMP/out/bin" "$TMP/out/vocab"
cp "$TMP/build/bin/llama-server" "$TMP/out/bin/"
strip "$TMP/out/bin/llama-server" 2>/dev/null || true
cp "$SRC"/models/ggml-vocab-*.gguf "$TMP/out/vocab/"

# Smoke test: the binary runs and reports its build.
"$TMP/out/bin/llama-server" --version >"$TMP/version.txt" 2>&1 || { cat "$TMP/version.txt" >&2; die "llama-server does not run"; }
grep -q "version" "$TMP/version.txt" || { cat "$TMP/version.txt" >&2; die "llama-server --version printed no version"; }

{
  printf 'llama-cpp-python %s (sdist sha256 %s)\nllama.cpp %s\ntoolchain %s\n' \
    "$LLAMA_CPP_PYTHON_VERSION" "$LLAMA_CPP_PYTHON_SHA256" "$LLAMA_CPP_COMMIT" "$TOOLCHAIN"
  cat "$TMP/version.txt"
} >"$TMP/out/versions.txt"
publish "$TMP/out"
log "built in $((SECONDS - t_all))s: $OUT"
finish
