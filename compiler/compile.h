/* compile.h: the compiler's public entry point — spec text to checked IR.
 *
 * Parses (grammar/), lowers and checks names, types and ranges
 * (compiler/sema.c), then checks shapes over the whole search space
 * (compiler/shapes.c).  Diagnostics are written to diag_out as they are
 * found; the caller decides the exit status from the counts. */
#ifndef HPTC_COMPILE_H
#define HPTC_COMPILE_H
#include <stdio.h>
#include "compiler/ir.h"

typedef struct compile_result {
    ir_program *program;    /* NULL on errors; free with ir_free */
    int errors, warnings;
} compile_result;

compile_result compile_spec(const char *file, const char *src, size_t len, FILE *diag_out);

#endif
