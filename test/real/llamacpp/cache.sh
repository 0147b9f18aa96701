# Shared steps of build.sh and model.sh (sourced): one keyed output directory per set of pins under a cache root,
# made by one process at a time (flock), in a temporary directory renamed into place once complete.
# The sourcing script defines log(), CACHE_ROOT, KEY, OUT and finish() (prints the result and exits 0).

# Takes the cache root's lock (waiting for another builder), then returns only if OUT still needs making:
# a builder that finished meanwhile makes this a no-op (finish). Sets TMP, removed on exit unless published.
begin_build() { # <what is built, for the waiting message>
  mkdir -p "$CACHE_ROOT"
  exec 9>"$CACHE_ROOT/.lock"
  if ! flock -n 9; then
    log "another $1 is running; waiting for it…"
    flock 9
  fi
  if built; then finish; fi
  TMP="$(mktemp -d "$CACHE_ROOT/.build-$KEY.XXXXXX")"
  trap 'rm -rf "$TMP"' EXIT
}

# Moves the finished directory into place as OUT and prunes outputs of other pins unused for 14 days.
publish() { # <finished directory inside TMP>
  chmod 755 "$1"
  rm -rf "$OUT" # a directory without the finished output can only be debris
  mv "$1" "$OUT"
  rm -rf "$TMP"
  trap - EXIT
  find "$CACHE_ROOT" -mindepth 1 -maxdepth 1 -type d -name '????????????????' -mtime +14 -exec rm -rf {} + 2>/dev/null || true
}
