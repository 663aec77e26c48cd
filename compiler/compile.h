/* compile.h: the compiler's public entry point — spec text to checked IR.
 *
 * Parses (grammar/), lowers and checks names, types and ranges
 * (compiler/sema.c), then checks shapes over the whole search space
 * (compiler/shapes.c), the data against the model when the caller gives a
 * probe (compiler/probe.h), and each configuration's size against the
 * memory given.  Diagnostics are written to diag_out as they are found, every
 * independent error in one run; the caller decides the exit status from the
 * counts. */
#ifndef HPTC_COMPILE_H
#define HPTC_COMPILE_H
#include <stdio.h>
#include "compiler/diag.h"
#include "compiler/ir.h"
#include "compiler/probe.h"

/* What the caller knows that the spec does not say. */
typedef struct compile_options {
    probe_fn probe;             /* NULL: the data is not looked at */
    void *probe_user;
    double memory_bytes;        /* the machine's memory: a configuration whose weights, gradients
                                   and optimizer state need more is an error; 0: not checked */
    diag_sink sink;             /* every diagnostic also given as data (compiler/diag.h); NULL: none */
    void *sink_user;
} compile_options;

typedef struct compile_result {
    ir_program *program;    /* NULL on errors; free with ir_free */
    int errors, warnings;
} compile_result;

/* The largest spec read, in bytes.  A 10,000-line spec is 400 KB; at this
 * size any spec checks in a few seconds (bench/check_big.sh), and a larger
 * one is refused with an error saying so instead of taking minutes. */
#define COMPILE_MAX_SPEC_BYTES (8u << 20)

compile_result compile_spec(const char *file, const char *src, size_t len, FILE *diag_out);
/* The same, with the caller's options (NULL: none, as compile_spec). */
compile_result compile_spec_with(const char *file, const char *src, size_t len, FILE *diag_out,
                                 const compile_options *options);

#endif
