/* diag.c: formats diagnostics (see diag.h).
 *
 * Everything printed goes through put_text, which writes printable ASCII,
 * tabs and valid UTF-8 as they are and any other byte (a C0 or C1 control
 * character, DEL, a byte that is not UTF-8) as \xNN, so neither the source
 * line nor a message can move the cursor or retitle the terminal.  The
 * caret line gives each echoed character as many columns as it was printed
 * with (4 for an escaped byte) and repeats tabs, so the underline stays
 * aligned.  A line too long to echo is cut to a window around the caret,
 * marked with "..." at the cut ends.  Line numbers come from an index of
 * line starts built once per spec, so printing the k-th diagnostic of a
 * 50 MB file costs a binary search, not a scan from its start. */
#include "compiler/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum { WINDOW_BEFORE = 60, WINDOW_AFTER = 100, DEFAULT_LIMIT = 100 };

static int limit(const diag_ctx *d) { return d->max_errors ? d->max_errors : DEFAULT_LIMIT; }

int diag_stopped(const diag_ctx *d) { return d->errors > limit(d); }

/* Offsets of every line start, in one pass; NULL (and a scan per call
 * instead) only when out of memory. */
static void index_lines(diag_ctx *d)
{
    if (d->lines || !d->src) return;
    size_t n = 1;
    for (const char *p = d->src, *end = d->src + d->len; (p = memchr(p, '\n', (size_t)(end - p))); p++) n++;
    d->lines = malloc(n * sizeof *d->lines);
    if (!d->lines) return;
    d->lines[0] = 0;
    d->n_lines = 1;
    for (const char *p = d->src, *end = d->src + d->len; (p = memchr(p, '\n', (size_t)(end - p))); p++)
        d->lines[d->n_lines++] = (uint32_t)(p - d->src + 1);
}

void diag_line_col(diag_ctx *d, uint32_t offset, int *line, int *col)
{
    if (offset > d->len) offset = (uint32_t)d->len;
    index_lines(d);
    if (!d->lines) {
        int l = 1;
        size_t bol = 0;
        for (size_t k = 0; k < offset; k++)
            if (d->src[k] == '\n') l++, bol = k + 1;
        *line = l;
        *col = (int)(offset - bol) + 1;
        return;
    }
    size_t lo = 0, hi = d->n_lines;     /* the last line start <= offset */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->lines[mid] <= offset) lo = mid;
        else hi = mid;
    }
    *line = (int)lo + 1;
    *col = (int)(offset - d->lines[lo]) + 1;
}

void diag_free(diag_ctx *d)
{
    free(d->lines);
    d->lines = NULL;
    d->n_lines = 0;
}

int diag_showing(const diag_ctx *d)
{
    return (d->out || d->sink) && !d->muted;
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
    if (cp >= 0x80 && cp <= 0x9f) return 0;     /* C1 controls: CSI (U+009B) is a command to some terminals */
    return len;
}

/* How s[k] prints: its byte length and its width in columns; *text is set
 * when it prints as itself, else it prints as \xNN (one byte, 4 columns). */
static size_t char_at(const char *s, size_t k, size_t end, int tabs_ok, int *text, int *width)
{
    unsigned char c = (unsigned char)s[k];
    if ((c >= 0x20 && c < 0x7f) || (c == '\t' && tabs_ok)) {
        *text = 1, *width = 1;
        return 1;
    }
    size_t len = c >= 0x80 ? utf8_at(s, k, end) : 0;
    *text = len > 0, *width = len > 0 ? 1 : 4;
    return len ? len : 1;
}

/* Write s[0, n) with every byte that is not text escaped. */
static void put_text(FILE *out, const char *s, size_t n)
{
    for (size_t k = 0; k < n;) {
        int text, width;
        size_t len = char_at(s, k, n, 0, &text, &width);
        if (text) fwrite(s + k, 1, len, out);
        else fprintf(out, "\\x%02x", (unsigned char)s[k]);
        k += len;
    }
}

/* A message, formatted, then written through put_text. */
static void put_message(FILE *out, const char *fmt, va_list ap)
{
    char small[1024], *big = NULL;
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(small, sizeof small, fmt, copy);
    va_end(copy);
    const char *msg = small;
    if (n >= (int)sizeof small && (big = malloc((size_t)n + 1))) {
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        msg = big;
    } else if (n >= (int)sizeof small) {
        n = (int)sizeof small - 1;
    }
    put_text(out, msg, n > 0 ? (size_t)n : 0);
    free(big);
}

/* Echo src[from, to) and, under it, spaces up to `start` then the underline to
 * `end`: as many columns per character as it printed with. */
static void echo(diag_ctx *d, size_t from, size_t to, size_t start, size_t end, char *under, size_t *u, size_t cap)
{
    for (size_t k = from; k < to;) {
        unsigned char c = (unsigned char)d->src[k];
        int text, width;
        size_t len = char_at(d->src, k, to, 1, &text, &width);
        if (text) fwrite(d->src + k, 1, len, d->out);
        else fprintf(d->out, "\\x%02x", c);
        char mark = k < start ? (c == '\t' ? '\t' : ' ') : k == start ? '^' : k < end ? '~' : 0;
        for (int w = 0; mark && w < width && *u + 2 < cap; w++) under[(*u)++] = w == 0 ? mark : mark == '^' ? '~' : mark;
        k += len;
    }
}

/* The window of a long line: at most WINDOW_BEFORE columns before the caret
 * and WINDOW_AFTER from it, cut between characters.  Only the bytes near the
 * caret are looked at, so a 50 MB line costs no more than a short one. */
static void window_of(const diag_ctx *d, size_t bol, size_t eol, size_t start, size_t *from, size_t *to)
{
    int text, width;
    size_t lo = start - bol > 4 * WINDOW_BEFORE ? start - 4 * WINDOW_BEFORE : bol;
    /* Back to the lead byte of a character the cut falls inside, if any. */
    for (size_t j = 1; j <= 3 && lo - j >= bol && lo > bol && ((unsigned char)d->src[lo] & 0xc0) == 0x80; j++)
        if (utf8_at(d->src, lo - j, eol) > j) {
            lo -= j;
            break;
        }
    size_t starts[4 * WINDOW_BEFORE + 8];
    int widths[4 * WINDOW_BEFORE + 8], n = 0, total = 0;
    for (size_t k = lo; k < start && n < (int)(sizeof widths / sizeof widths[0]);) {
        starts[n] = k;
        k += char_at(d->src, k, eol, 1, &text, &widths[n]);
        total += widths[n++];
    }
    int first = 0;
    while (first < n && total > WINDOW_BEFORE) total -= widths[first++];
    *from = first < n ? starts[first] : start;
    size_t k = start;
    for (int cols = 0; k < eol && cols < WINDOW_AFTER;) {
        k += char_at(d->src, k, eol, 1, &text, &width);
        cols += width;
    }
    *to = k;
}

static void show_source(diag_ctx *d, uint32_t start, uint32_t end)
{
    int line, col;
    diag_line_col(d, start, &line, &col);
    size_t bol = start - (size_t)(col - 1);
    const char *nl = memchr(d->src + bol, '\n', d->len - bol);
    size_t eol = nl ? (size_t)(nl - d->src) : d->len, from = bol, to = eol;
    if (eol - bol > WINDOW_BEFORE + WINDOW_AFTER) window_of(d, bol, eol, start, &from, &to);
    char gutter[16];
    int width = snprintf(gutter, sizeof gutter, "%d", line);
    if (width < 4) width = 4;
    char under[4 * (WINDOW_BEFORE + WINDOW_AFTER) + 32];
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

/* The message as data: formatted and escaped as it prints, for d->sink.
 * Reads a copy of ap, so the caller may still print from ap. */
static void to_sink(diag_ctx *d, const char *level, uint32_t start, uint32_t end, const char *fmt, va_list ap)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem) return;
    va_list copy;
    va_copy(copy, ap);
    put_message(mem, fmt, copy);
    va_end(copy);
    if (fclose(mem) == 0 && text) {
        if (start != DIAG_NOWHERE && start > d->len) start = (uint32_t)d->len;
        if (end != DIAG_NOWHERE && end > d->len) end = (uint32_t)d->len;
        d->sink(d->sink_user, level, start, end, text);
    }
    free(text);
}

static void report(diag_ctx *d, const char *level, uint32_t start, uint32_t end, const char *fmt, va_list ap)
{
    if ((!d->out && !d->sink) || d->muted) return;
    if (d->sink) to_sink(d, level, start, end, fmt, ap);
    if (!d->out) return;
    put_text(d->out, d->file, strlen(d->file));
    if (start == DIAG_NOWHERE) {
        fprintf(d->out, ": %s: ", level);
        put_message(d->out, fmt, ap);
        fputc('\n', d->out);
        return;
    }
    if (start > d->len) start = (uint32_t)d->len;
    if (end > d->len) end = (uint32_t)d->len;
    int line, col;
    diag_line_col(d, start, &line, &col);
    fprintf(d->out, ":%d:%d: %s: ", line, col, level);
    put_message(d->out, fmt, ap);
    fputc('\n', d->out);
    show_source(d, start, end > start ? end : start + 1);
}

/* The limit's last line, said once when the count first passes it. */
static void said_enough(diag_ctx *d, int count, const char *what)
{
    if (!d->out || count != limit(d) + 1) return;
    put_text(d->out, d->file, strlen(d->file));
    fprintf(d->out, ": %s\n", what);
}

void diag_error(diag_ctx *d, uint32_t start, uint32_t end, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    d->muted = repeated(d, "error", start, end, fmt, ap);
    if (!d->muted) {
        d->errors++;
        if (d->errors > limit(d)) d->muted = 1;
        report(d, "error", start, end, fmt, ap);
        said_enough(d, d->errors, "too many errors; stopping here");
    }
    va_end(ap);
}

void diag_warning(diag_ctx *d, uint32_t start, uint32_t end, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    d->muted = repeated(d, "warning", start, end, fmt, ap);
    if (!d->muted) {
        d->warnings++;
        if (d->warnings > limit(d) || diag_stopped(d)) d->muted = 1;
        report(d, "warning", start, end, fmt, ap);
        if (!diag_stopped(d)) said_enough(d, d->warnings, "too many warnings; not showing more");
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
    if ((!d->out && !d->sink) || d->muted) return;
    va_list ap;
    va_start(ap, fmt);
    if (d->sink) to_sink(d, "hint", DIAG_NOWHERE, DIAG_NOWHERE, fmt, ap);
    if (!d->out) {
        va_end(ap);
        return;
    }
    fprintf(d->out, " %*s = hint: ", 4, "");
    put_message(d->out, fmt, ap);
    fputc('\n', d->out);
    va_end(ap);
}
