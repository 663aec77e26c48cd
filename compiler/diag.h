/* diag.h: compiler diagnostics in one format everywhere, as clang's:
 *
 *   spec.hpt:7:3: error: unknown layer 'Dropot'
 *       7 |   Dropot(0.2)
 *         |   ^~~~~~
 *         = hint: did you mean 'Dropout'?
 *
 * Positions are byte ranges; line and column are computed only here, from an
 * index of line starts built once, when the first position is printed.
 * Errors are counted and compilation goes on, so one run reports them all.
 * A diagnostic identical to one already given (same level, place and text,
 * as a loop body unrolled three times produces) is dropped with its notes
 * and hints, and not counted.  Past max_errors errors (or as many warnings)
 * nothing more is printed; past the error limit the compiler stops early
 * (diag_stopped), so a 50 MB file of mistakes ends in milliseconds.
 *
 * Nothing a diagnostic prints reaches the terminal as a command: a control
 * character or a byte that is not UTF-8 text, in the source line, the file
 * name or a message (which may quote a data file's header), is shown
 * escaped as \x1b. */
#ifndef HPTC_DIAG_H
#define HPTC_DIAG_H
#include <stdint.h>
#include <stdio.h>

/* A diagnostic as data, for a caller that shows it itself (the language
 * server): level "error", "warning", "note" or "hint"; the byte range
 * (DIAG_NOWHERE for the spec as a whole, and for a hint, which belongs to
 * the error or warning before it); the message as `hptc check` prints it,
 * with the same escapes. */
typedef void (*diag_sink)(void *user, const char *level, uint32_t start, uint32_t end, const char *message);

typedef struct diag_ctx {
    const char *file;           /* name shown in messages ("<stdin>" for -) */
    const char *src;
    size_t len;
    FILE *out;                  /* NULL: count only (unless sink is set) */
    diag_sink sink;             /* also given every diagnostic printed; NULL: none */
    void *sink_user;
    int errors, warnings;
    int max_errors;             /* stop printing after this many errors, and as many warnings (0 = 100) */
    uint64_t seen[128];         /* hashes of the latest diagnostics, for dropping repeats */
    int n_seen;
    int muted;                  /* the last diagnostic is not printed: drop its notes and hints */
    uint32_t *lines;            /* offsets of the line starts, malloc'd when first needed */
    size_t n_lines;
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
void diag_line_col(diag_ctx *d, uint32_t offset, int *line, int *col);
/* Is the last error or warning being printed?  A hint that costs work (a
 * did-you-mean search over many names) is worth computing only then. */
int diag_showing(const diag_ctx *d);
/* Past the error limit: nothing more will be printed, so the front end may
 * stop where it is. */
int diag_stopped(const diag_ctx *d);
/* Release the line index. */
void diag_free(diag_ctx *d);

#endif
