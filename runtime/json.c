/* json.c: see json.h.
 *
 * Invariant: level[depth - 1] describes the innermost open container;
 * depth 0 is the top, where a single value is written with no separator.
 * Nesting deeper than JSON_MAX_DEPTH is a caller's bug: the writer keeps
 * writing, but places separators for the deepest level it tracks. */
#include "runtime/json.h"

#include <math.h>

void json_init(json_writer *w, FILE *out, int flags)
{
    w->out = out;
    w->flags = flags;
    w->depth = 0;
}

static int top(const json_writer *w) { return (w->depth < JSON_MAX_DEPTH ? w->depth : JSON_MAX_DEPTH) - 1; }

/* Before a value: an array's separator, or nothing after a key. */
static void before_value(json_writer *w)
{
    int t = top(w);
    if (t < 0) return;
    if (w->level[t].keyed) {
        w->level[t].keyed = 0;
        return;
    }
    if (w->level[t].lines) fputs(w->level[t].count ? ",\n  " : "\n  ", w->out);
    else if (w->level[t].count) fputs(", ", w->out);
    w->level[t].count++;
}

static void open_level(json_writer *w, char bracket, int lines)
{
    before_value(w);
    fputc(bracket, w->out);
    w->depth++;
    int t = top(w);
    w->level[t].close = bracket == '{' ? '}' : ']';
    w->level[t].lines = (char)lines;
    w->level[t].keyed = 0;
    w->level[t].count = 0;
}

void json_open(json_writer *w, char bracket) { open_level(w, bracket, 0); }

void json_open_lines(json_writer *w) { open_level(w, '[', 1); }

void json_close(json_writer *w)
{
    int t = top(w);
    if (t < 0) return;
    if (w->level[t].lines) fputc('\n', w->out);
    fputc(w->level[t].close, w->out);
    w->depth--;
}

/* Bytes of a string's inside (quoted) or of raw JSON text (not quoted). */
static void put_bytes(json_writer *w, const char *s, int quoted)
{
    int html = w->flags & JSON_HTML;
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (quoted && (c == '"' || c == '\\')) fprintf(w->out, "\\%c", c);
        else if (quoted && !html && c == '\n') fputs("\\n", w->out);
        else if (quoted && !html && c == '\t') fputs("\\t", w->out);
        else if ((quoted || html) && c < 0x20) fprintf(w->out, "\\u%04x", c);
        else if (html && (c == '<' || c == '>' || c == '&')) fprintf(w->out, "\\u%04x", c);
        /* U+2028/U+2029 end a line in older JavaScript parsers. */
        else if (html && c == 0xe2 && (unsigned char)s[1] == 0x80 && ((unsigned char)s[2] & 0xfe) == 0xa8) {
            fprintf(w->out, "\\u%04x", 0x2028 + ((unsigned char)s[2] & 1));
            s += 2;
        } else fputc(c, w->out);
    }
}

static void put_string(json_writer *w, const char *s)
{
    fputc('"', w->out);
    put_bytes(w, s, 1);
    fputc('"', w->out);
}

void json_key(json_writer *w, const char *key)
{
    int t = top(w);
    if (t >= 0) {
        if (w->level[t].count) fputs(", ", w->out);
        w->level[t].count++;
        w->level[t].keyed = 1;
    }
    put_string(w, key);
    fputs(": ", w->out);
}

void json_string(json_writer *w, const char *s)
{
    before_value(w);
    put_string(w, s);
}

void json_number_digits(json_writer *w, double v, int digits)
{
    before_value(w);
    if (isfinite(v)) fprintf(w->out, "%.*g", digits, v);
    else fputs("null", w->out);
}

void json_number(json_writer *w, double v) { json_number_digits(w, v, 17); }

void json_int(json_writer *w, long long v)
{
    before_value(w);
    fprintf(w->out, "%lld", v);
}

void json_bool(json_writer *w, int b)
{
    before_value(w);
    fputs(b ? "true" : "false", w->out);
}

void json_null(json_writer *w)
{
    before_value(w);
    fputs("null", w->out);
}

void json_raw(json_writer *w, const char *text)
{
    before_value(w);
    put_bytes(w, text, 0);
}

void json_value(json_writer *w, hpt_value v)
{
    if (v.type == V_BOOL) {
        json_bool(w, v.u.b);
    } else if (v.type == V_FLOAT && !isfinite(v.u.f)) {
        json_null(w);
    } else if (v.type == V_STRING) {
        json_string(w, v.u.s);
    } else {
        before_value(w);
        value_fprint(w->out, v);
    }
}
