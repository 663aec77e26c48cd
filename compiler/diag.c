/* diag.c: formats diagnostics (see diag.h).  The source line is echoed with
 * any byte that is not printable ASCII or valid UTF-8 shown as '?', so a
 * message about a bad byte cannot corrupt the terminal; the caret line
 * repeats tabs so the underline stays aligned. */
#include "compiler/diag.h"

#include <stdarg.h>
#include <string.h>

void diag_line_col(const diag_ctx *d, uint32_t offset, int *line, int *col)
{
    int l = 1;
    size_t bol = 0;
    if (offset > d->len) offset = (uint32_t)d->len;
    for (size_t k = 0; k < offset; k++)
        if (d->src[k] == '\n') l++, bol = k + 1;
    *line = l;
    *col = (int)(offset - bol) + 1;
}

static int printing(diag_ctx *d)
{
    int cap = d->max_errors ? d->max_errors : 100;
    return d->out && d->errors <= cap;
}

static void show_source(diag_ctx *d, uint32_t start, uint32_t end)
{
    int line, col;
    diag_line_col(d, start, &line, &col);
    size_t bol = start - (size_t)(col - 1), eol = bol;
    while (eol < d->len && d->src[eol] != '\n') eol++;
    if (eol - bol > 400) eol = bol + 400;   /* a 1 MB line is not worth echoing */
    char gutter[16];
    int width = snprintf(gutter, sizeof gutter, "%d", line);
    if (width < 4) width = 4;
    fprintf(d->out, " %*d | ", width, line);
    for (size_t k = bol; k < eol; k++) {
        unsigned char c = (unsigned char)d->src[k];
        fputc(c == '\t' || (c >= 0x20 && c < 0x7f) || c >= 0x80 ? c : '?', d->out);
    }
    fprintf(d->out, "\n %*s | ", width, "");
    for (size_t k = bol; k < start && k < eol; k++) {
        unsigned char c = (unsigned char)d->src[k];
        if (c == '\t') fputc('\t', d->out);
        else if ((c & 0xc0) != 0x80) fputc(' ', d->out);  /* one column per UTF-8 character */
    }
    fputc('^', d->out);
    for (size_t k = start + 1; k < end && k < eol; k++)
        if (((unsigned char)d->src[k] & 0xc0) != 0x80) fputc('~', d->out);
    fputc('\n', d->out);
}

static void report(diag_ctx *d, const char *level, uint32_t start, uint32_t end, const char *fmt, va_list ap)
{
    if (!printing(d)) return;
    int line, col;
    diag_line_col(d, start, &line, &col);
    fprintf(d->out, "%s:%d:%d: %s: ", d->file, line, col, level);
    vfprintf(d->out, fmt, ap);
    fputc('\n', d->out);
    show_source(d, start, end > start ? end : start + 1);
}

void diag_error(diag_ctx *d, uint32_t start, uint32_t end, const char *fmt, ...)
{
    d->errors++;
    va_list ap;
    va_start(ap, fmt);
    report(d, "error", start, end, fmt, ap);
    va_end(ap);
    int cap = d->max_errors ? d->max_errors : 100;
    if (d->out && d->errors == cap + 1) fprintf(d->out, "%s: too many errors; stopping here\n", d->file);
}

void diag_warning(diag_ctx *d, uint32_t start, uint32_t end, const char *fmt, ...)
{
    d->warnings++;
    va_list ap;
    va_start(ap, fmt);
    report(d, "warning", start, end, fmt, ap);
    va_end(ap);
}

void diag_note(diag_ctx *d, uint32_t start, uint32_t end, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    report(d, "note", start, end, fmt, ap);
    va_end(ap);
}

void diag_hint(diag_ctx *d, const char *fmt, ...)
{
    if (!printing(d)) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(d->out, " %*s = hint: ", 4, "");
    vfprintf(d->out, fmt, ap);
    fputc('\n', d->out);
    va_end(ap);
}
