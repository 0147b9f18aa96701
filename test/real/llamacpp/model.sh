#!/usr/bin/env bash
# Generates the tiny random-weight llama GGUF that the real tier's llama-server replicas serve (make_model.py), with
# the `gguf` package from PyPI (pins.env) installed into a throw-away venv under the cache, and the tokenizer and
# chat template of a vocab-only GGUF shipped with the llama.cpp sources (build.sh puts them in its vocab dir).
#
# Usage: model.sh <vocab dir>
# Output: ${SWITCHYARD_CACHE_DIR:-$HOME/.cache/switchyard}/llamacpp/models/<key>/tiny-llama.gguf (~17 MB), where
# <key> hashes make_model.py, pins.env, the vocab file and the Python version. Idempotent, flock-serialised, atomic.
# Stdout: `MODEL=<path>`.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${SWITCHYARD_CACHE_DIR:-${HOME:-/root}/.cache/switchyard}/llamacpp/models"
# shellcheck source=pins.env
source "$HERE/pins.env"
VOCAB="${1:?usage: model.sh <vocab dir>}/ggml-vocab-phi-3.gguf"

log() { printf '[tiny model] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[ -f "$VOCAB" ] || die "no vocab file at $VOCAB"
KEY="$(
  {
    python3 --version 2>&1
    cat "$HERE/make_model.py" "$HERE/pins.env"
    sha256sum <"$VOCAB"
  } | sha256sum | cut -c1-16
)"
OUT="$CACHE_ROOT/$KEY"
MODEL="$OUT/tiny-llama.gguf"

finish() {
  touch "$OUT" 2>/dev/null || true
  printf 'MODEL=%s\n' "$MODEL"
  exit 0
}

built() { [ -f "$MODEL" ]; }
if built; then finish; fi
# shellcheck source=cache.sh
source "$HERE/cache.sh"
begin_build "generation of the tiny model"
t=$SECONDS
log "installing gguf $GGUF_VERSION from PyPI into a venv (first run only)…"
python3 -m venv "$TMP/venv" >&2
"$TMP/venv/bin/python" -m pip install --quiet --disable-pip-version-check "gguf==$GGUF_VERSION" >&2
log "generating the tiny llama model from $(basename "$VOCAB")…"
mkdir -p "$TMP/out"
"$TMP/venv/bin/python" "$HERE/make_model.py" "$VOCAB" "$TMP/out/tiny-llama.gguf" >&2
# Smoke test: the file reads back as a llama model with its tokenizer and chat template.
"$TMP/venv/bin/python" - "$TMP/out/tiny-llama.gguf" >&2 <<'EOF' || die "the generated model does not read back"
import sys
from gguf import GGUFReader
r = GGUFReader(sys.argv[1])
f = r.fields
assert bytes(f["general.architecture"].parts[-1]).decode() == "llama"
assert "tokenizer.chat_template" in f and len(f["tokenizer.ggml.tokens"].data) > 1000
assert len(r.tensors) == 2 + 2 * 9 + 1
EOF
publish "$TMP/out"
log "generated in $((SECONDS - t))s: $MODEL ($(du -h "$MODEL" | cut -f1))"
finish
