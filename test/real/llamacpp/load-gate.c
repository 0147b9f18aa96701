/*
 * A slow disk for llama-server's model, to hold a real server in its "Loading model" state for as long as a test
 * needs (the tiny test model loads in milliseconds). Preloaded with LD_PRELOAD; while the file named by
 * SWITCHYARD_LOAD_GATE does not exist, opening a `.gguf` file waits for it (polling every 10 ms). The server's HTTP
 * listener is already up by then and answers 503 "Loading model" on every path, as it does while a big model loads.
 * Without SWITCHYARD_LOAD_GATE nothing changes.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int is_model(const char *path) {
  size_t n = path ? strlen(path) : 0;
  return n >= 5 && strcmp(path + n - 5, ".gguf") == 0;
}

static void wait_for_gate(const char *path) {
  const char *gate = getenv("SWITCHYARD_LOAD_GATE");
  if (!gate || !*gate || !is_model(path)) return;
  struct stat st;
  const struct timespec tick = {0, 10 * 1000 * 1000};
  while (stat(gate, &st) != 0) nanosleep(&tick, NULL);
}

#define FORWARD(name)                                                  \
  FILE *name(const char *path, const char *mode) {                     \
    static FILE *(*real)(const char *, const char *);                  \
    if (!real) real = (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, #name); \
    wait_for_gate(path);                                               \
    return real(path, mode);                                           \
  }

FORWARD(fopen)
FORWARD(fopen64)
