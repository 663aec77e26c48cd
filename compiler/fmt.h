/* fmt.h: `hptc fmt`, the canonical layout of a .hpt spec.
 *
 * Specs live in version control, so the layout is a function of the syntax
 * tree and the comments alone: formatting is idempotent, keeps every comment
 * and blank-line group, and never changes what the spec means. */
#ifndef HPTC_FMT_H
#define HPTC_FMT_H
#include <stddef.h>
#include <stdio.h>

typedef struct fmt_result {
    char *text;         /* malloc'd, NUL-terminated, caller frees; NULL on errors */
    size_t len;
    int errors;         /* syntax errors (or 1 for out of memory) */
} fmt_result;

/* Format src (len bytes, named `file` in diagnostics) canonically.  On syntax
 * errors text is NULL, errors > 0 and the diagnostics went to diag_out (NULL:
 * counted only).  An empty or blank input gives "" (len 0); anything else
 * ends with exactly one newline. */
fmt_result fmt_format(const char *file, const char *src, size_t len, FILE *diag_out);

#endif
