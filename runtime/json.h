/* json.h: hptc's one JSON writer (the store's hyperparameters, `hptc summary
 * --json`, `hptc best --json`, the report's embedded data).
 *
 * A json_writer streams to a FILE and keeps, per open object or array, how
 * many members it holds, so callers never place a comma: json_key writes the
 * separator and the key, a value in an array writes its own separator.
 * Separators are ", "; an array opened with json_open_lines puts each element
 * on its own line, indented two spaces, and closes on a line of its own.
 *
 * Strings escape '"', '\', newline and tab as \" \\ \n \t and every other
 * control character as \u00XX (the escapes hptc's value text uses, so a
 * string value is spelled the same in the IR and in the store).  Numbers that
 * JSON cannot spell (NaN, infinities) are written null.  With JSON_HTML the
 * text is also safe inside an HTML <script> block: < > & and U+2028/U+2029
 * become \u escapes, and every control character does too. */
#ifndef HPTC_JSON_H
#define HPTC_JSON_H
#include <stdio.h>
#include "stdlib/value.h"

#define JSON_MAX_DEPTH 16

enum { JSON_HTML = 1 };

typedef struct json_writer {
    FILE *out;
    int flags;
    int depth;
    struct {
        char close;             /* '}' or ']' */
        char lines;             /* json_open_lines */
        char keyed;             /* a key was written, its value is next */
        long count;             /* members so far */
    } level[JSON_MAX_DEPTH];
} json_writer;

void json_init(json_writer *w, FILE *out, int flags);
/* Open an object ('{') or an array ('['). */
void json_open(json_writer *w, char bracket);
/* An array with one element per line: "[\n  a,\n  b\n]" ("[\n]" when empty). */
void json_open_lines(json_writer *w);
void json_close(json_writer *w);
/* In an object: the separator and "key": ; the value follows. */
void json_key(json_writer *w, const char *key);

void json_string(json_writer *w, const char *s);       /* NULL writes "" */
/* %.17g; null when not finite. */
void json_number(json_writer *w, double v);
/* %.*g with `digits` significant digits; null when not finite. */
void json_number_digits(json_writer *w, double v, int digits);
void json_int(json_writer *w, long long v);
void json_bool(json_writer *w, int b);
void json_null(json_writer *w);
/* Text that is JSON already (a trial's stored hyperparameters), as it is
 * (under JSON_HTML, with < > & escaped). */
void json_raw(json_writer *w, const char *text);
/* A language value as the store keeps hyperparameters: bools true/false, a
 * non-finite float null, anything else in its canonical text (stdlib/value.h:
 * strings as JSON spells them, floats in the shortest form that reads back). */
void json_value(json_writer *w, hpt_value v);

#endif
