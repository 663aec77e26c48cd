/* diag.h: compiler diagnostics in one format everywhere, as clang's:
 *
 *   spec.hpt:7:3: error: unknown layer 'Dropot'
 *       7 |   Dropot(0.2)
 *         |   ^~~~~~
 *         = hint: did you mean 'Dropout'?
 *
 * Positions are byte ranges; line and column are computed only here.
 * Errors are counted and compilation goes on, so one run reports them all.
 * A diagnostic identical to one already given (same level, place and text,
 * as a loop body unrolled three times produces) is dropped with its notes
 * and hints, and not counted. */
#ifndef HPTC_DIAG_H
#define HPTC_DIAG_H
#include <stdint.h>
#include <stdio.h>

typedef struct diag_ctx {
    const char *file;           /* name shown in messages ("<stdin>" for -) */
    const char *src;
    size_t len;
    FILE *out;                  /* NULL: count only */
    int errors, warnings;
    int max_errors;             /* stop printing after this many (0 = 100) */
    uint64_t seen[128];         /* hashes of the latest diagnostics, for dropping repeats */
    int n_seen;
    int muted;                  /* the last diagnostic was a repeat: drop its notes and hints */
} diag_ctx;

/* The position of a diagnostic about the spec as a whole ("the spec has no
 * model block"): printed as "file: error: ..." without a source line. */
#define DIAG_NOWHERE UINT32_MAX

void diag_error(diag_ctx *d, uint32_t start, uint32_t end, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void diag_warning(diag_ctx *d, uint32_t start, uint32_t end, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A note about another place (where a name was first defined...). */
void diag_note(diag_ctx *d, uint32_t start, uint32_t end, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A hint line under the last error or warning ("did you mean ...?"). */
void diag_hint(diag_ctx *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1-based line and column (in bytes) of an offset. */
void diag_line_col(const diag_ctx *d, uint32_t offset, int *line, int *col);

#endif
