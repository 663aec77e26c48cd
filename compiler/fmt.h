/* fmt.h: placeholder until the formatter lands. */
#ifndef HPTC_FMT_H
#define HPTC_FMT_H
#include <stddef.h>
#include <stdio.h>
typedef struct fmt_result { char *text; size_t len; int errors; } fmt_result;
fmt_result fmt_format(const char *file, const char *src, size_t len, FILE *diag_out);
#endif
