#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>

/* The libFuzzer entry point. Each fuzz/fuzz_*.c defines it; clang links it
 * with libFuzzer (make fuzz), gcc with fuzz/replay.c (make replay), which
 * feeds it every file of a corpus so that old crashes stay tests. It
 * returns 0; a failed check calls abort(). */
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* A memory file (memfd) holding data[0..size), positioned at its start, for
 * the readers that take a descriptor. Aborts if it cannot make one. */
int fuzz_memfd(const unsigned char *data, size_t size);

#endif
