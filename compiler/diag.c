/* diag.c: formats diagnostics (see diag.h).  The source line is echoed with
 * any byte that is not printable ASCII or part of valid UTF-8 shown as '?',
 * so a message about a bad byte cannot corrupt the terminal; the caret line
 * repeats tabs so the underline stays aligned.  A line too long to echo is
 * cut to a window around the caret, marked with "..." at the cut ends. */
#include "compiler/diag.h"

#include <stdarg.h>
#include <string.h>

enum { WINDOW_BEFORE = 60, WINDOW_AFTER = 100 };

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
    return d->out && d->errors <= cap && !d->muted;
}

/* Length of the valid UTF-8 sequence starting at s[k] (before end), 0 if none. */
static size_t utf8_at(const char *s, size_t k, size_t end)
{
    const unsigned char *p = (const unsigned char *)s + k;
    unsigned c = p[0];
    size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (!len || k + len > end) return 0;
    unsigned cp = len == 1 ? c : c & (0x7fu >> len);
    for (size_t j = 1; j < len; j++) {
        if ((p[j] & 0xc0) != 0x80) return 0;
        cp = cp << 6 | (p[j] & 0x3f);
    }
    static const unsigned min_cp[] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return len;
}

/* Echo src[from, to) and, under it, spaces up to `start` then the underline to
 * `end`: one column per character, '?' for what is not text. */
static void echo(diag_ctx *d, size_t from, size_t to, size_t start, size_t end, char *under, size_t *u, size_t cap)
{
    for (size_t k = from; k < to;) {
        unsigned char c = (unsigned char)d->src[k];
        size_t len = c >= 0x80 ? utf8_at(d->src, k, to) : 1;
        if (c == '\t' || (c >= 0x20 && c < 0x7f) || len > 1) fwrite(d->src + k, 1, len ? len : 1, d->out);
        else fputc('?', d->out);
        char mark = k < start ? (c == '\t' ? '\t' : ' ') : k == start ? '^' : k < end ? '~' : 0;
        if (mark && *u + 2 < cap) under[(*u)++] = mark;
        k += len ? len : 1;
    }
}

static void show_source(diag_ctx *d, uint32_t start, uint32_t end)
{
    int line, col;
    diag_line_col(d, start, &line, &col);
    size_t bol = start - (size_t)(col - 1), eol = bol;
    while (eol < d->len && d->src[eol] != '\n') eol++;
    size_t from = bol, to = eol;
    /* A 1 MB line is not worth echoing: a window around the caret, cut at characters. */
    if (to - from > WINDOW_BEFORE + WINDOW_AFTER) {
        if (start > from + WINDOW_BEFORE) from = start - WINDOW_BEFORE;
        if (to > from + WINDOW_BEFORE + WINDOW_AFTER) to = from + WINDOW_BEFORE + WINDOW_AFTER;
        /* Cut between characters: a UTF-8 character has at most 3 continuation bytes. */
        for (int k = 0; k < 3 && from > bol && ((unsigned char)d->src[from] & 0xc0) == 0x80; k++) from--;
        for (int k = 0; k < 3 && to < eol && ((unsigned char)d->src[to] & 0xc0) == 0x80; k++) to++;
    }
    char gutter[16];
    int width = snprintf(gutter, sizeof gutter, "%d", line);
    if (width < 4) width = 4;
    char under[WINDOW_BEFORE + WINDOW_AFTER + 16];
    size_t u = 0;
    fprintf(d->out, " %*d | ", width, line);
    if (from > bol) fputs("...", d->out), memcpy(under, "   ", 3), u = 3;
    echo(d, from, to, start, end, under, &u, sizeof under);
    if (to < eol) fputs("...", d->out);
    if (start >= to) under[u++] = '^';     /* at the end of the line (or of the file) */
    under[u] = 0;
    fprintf(d->out, "\n %*s | %s\n", width, "", under);
}

/* FNV-1a over the level, the range and the message: the identity of a diagnostic. */
static uint64_t hash_of(const char *level, uint32_t start, uint32_t end, const char *msg)
{
    uint64_t h = 0xcbf29ce484222325ull;
    const char *parts[] = { level, msg };
    for (int k = 0; k < 2; k++)
        for (const char *p = parts[k]; *p; p++) h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
    return (h ^ start) * 0x100000001b3ull ^ end;
}

/* Is this diagnostic a repeat?  Remembers it when it is not. */
static int repeated(diag_ctx *d, const char *level, uint32_t start, uint32_t end, const char *fmt, va_list ap)
{
    char msg[512];
    va_list copy;
    va_copy(copy, ap);
    vsnprintf(msg, sizeof msg, fmt, copy);
    va_end(copy);
    uint64_t h = hash_of(level, start, end, msg);
    int n = d->n_seen < 128 ? d->n_seen : 128;
    for (int k = 0; k < n; k++)
        if (d->seen[k] == h) return 1;
    d->seen[d->n_seen++ % 128] = h;
    return 0;
}

static void report(diag_ctx *d, const char *level, uint32_t start, uint32_t end, const char *fmt, va_list ap)
{
    if (!printing(d)) return;
    if (start == DIAG_NOWHERE) {
        fprintf(d->out, "%s: %s: ", d->file, level);
        vfprintf(d->out, fmt, ap);
        fputc('\n', d->out);
        return;
    }
    if (start > d->len) start = (uint32_t)d->len;
    if (end > d->len) end = (uint32_t)d->len;
    int line, col;
    diag_line_col(d, start, &line, &col);
    fprintf(d->out, "%s:%d:%d: %s: ", d->file, line, col, level);
    vfprintf(d->out, fmt, ap);
    fputc('\n', d->out);
    show_source(d, start, end > start ? end : start + 1);
}

void diag_error(diag_ctx *d, uint32_t start, uint32_t end, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    d->muted = repeated(d, "error", start, end, fmt, ap);
    if (!d->muted) {
        d->errors++;
        report(d, "error", start, end, fmt, ap);
    }
    va_end(ap);
    int cap = d->max_errors ? d->max_errors : 100;
    if (d->out && !d->muted && d->errors == cap + 1) fprintf(d->out, "%s: too many errors; stopping here\n", d->file);
}

void diag_warning(diag_ctx *d, uint32_t start, uint32_t end, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    d->muted = repeated(d, "warning", start, end, fmt, ap);
    if (!d->muted) {
        d->warnings++;
        report(d, "warning", start, end, fmt, ap);
    }
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
