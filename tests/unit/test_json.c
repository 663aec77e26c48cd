/* test_json.c: the one JSON writer (runtime/json.h).
 *
 * Each case writes into a memory stream and compares the text byte for byte
 * with what hptc wrote before the writer existed (summary --json's layout:
 * ", " between members, the trials one per line; strings escaped as the
 * value text escapes them; NaN and infinities null), then the HTML-safe mode
 * the report's embedded data needs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/json.h"
#include "tests/unit/check.h"

typedef struct sink {
    char *text;
    size_t len;
    FILE *f;
    json_writer w;
} sink;

static json_writer *sink_open(sink *s, int flags)
{
    s->text = NULL, s->len = 0;
    s->f = open_memstream(&s->text, &s->len);
    json_init(&s->w, s->f, flags);
    return &s->w;
}

/* Close the stream and compare; frees the text. */
static void sink_check(sink *s, const char *want, const char *what)
{
    fclose(s->f);
    int ok = s->text && !strcmp(s->text, want);
    CHECK(ok, "%s", what);
    if (!ok) printf("      got  %s\n      want %s\n", s->text ? s->text : "(null)", want);
    free(s->text);
}

int main(void)
{
    sink s;
    json_writer *w;

    w = sink_open(&s, 0);
    json_open(w, '{');
    json_key(w, "project"), json_string(w, "my_dir/p");
    json_key(w, "objective");
    json_open(w, '{');
    json_key(w, "name"), json_string(w, "val_loss");
    json_key(w, "direction"), json_string(w, "min");
    json_close(w);
    json_key(w, "best_trial"), json_int(w, -1);
    json_close(w);
    sink_check(&s, "{\"project\": \"my_dir/p\", \"objective\": {\"name\": \"val_loss\", \"direction\": \"min\"}, "
                   "\"best_trial\": -1}",
               "nested objects: ', ' between members, none before the first");

    w = sink_open(&s, 0);
    json_open(w, '[');
    json_open(w, '[');
    json_int(w, 1), json_number(w, 0.5), json_number(w, NAN), json_number(w, INFINITY), json_number(w, -INFINITY);
    json_close(w);
    json_open(w, '[');
    json_close(w);
    json_close(w);
    sink_check(&s, "[[1, 0.5, null, null, null], []]", "arrays: separators, non-finite numbers null, an empty array");

    w = sink_open(&s, 0);
    json_number(w, 0.1);
    sink_check(&s, "0.10000000000000001", "a number has 17 significant digits (it reads back exactly)");

    w = sink_open(&s, 0);
    json_open_lines(w);
    json_close(w);
    sink_check(&s, "[\n]", "an empty one-per-line array, as summary --json writes no trials");

    w = sink_open(&s, 0);
    json_open_lines(w);
    json_open(w, '{'), json_key(w, "id"), json_int(w, 0), json_close(w);
    json_open(w, '{'), json_key(w, "id"), json_int(w, 1), json_close(w);
    json_close(w);
    sink_check(&s, "[\n  {\"id\": 0},\n  {\"id\": 1}\n]", "a one-per-line array: each element on its own line");

    w = sink_open(&s, 0);
    json_string(w, "a\"b\\c\nd\te\x01" "f/<g>");
    sink_check(&s, "\"a\\\"b\\\\c\\nd\\te\\u0001f/<g>\"", "string escapes as the value text spells them");

    w = sink_open(&s, 0);
    json_string(w, NULL);
    sink_check(&s, "\"\"", "a NULL string is empty");

    w = sink_open(&s, 0);
    json_open(w, '{');
    json_key(w, "hyperparameters"), json_raw(w, "{\"units\": 64}");
    json_key(w, "ok"), json_bool(w, 1);
    json_key(w, "none"), json_null(w);
    json_close(w);
    sink_check(&s, "{\"hyperparameters\": {\"units\": 64}, \"ok\": true, \"none\": null}", "raw JSON, bools, null");

    /* Values as the store keeps hyperparameters (tune_values_json). */
    w = sink_open(&s, 0);
    json_open(w, '{');
    json_key(w, "units"), json_value(w, value_int(512));
    json_key(w, "lr"), json_value(w, value_float(0.001));
    json_key(w, "x"), json_value(w, value_float(2));
    json_key(w, "act"), json_value(w, value_string("re\"lu"));
    json_key(w, "bn"), json_value(w, value_bool(0));
    json_key(w, "inf"), json_value(w, value_float(INFINITY));
    json_close(w);
    sink_check(&s, "{\"units\": 512, \"lr\": 0.001, \"x\": 2.0, \"act\": \"re\\\"lu\", \"bn\": false, \"inf\": null}",
               "values: ints, the shortest float that reads back, strings, bools, non-finite null");

    /* The report's <script> block: no < > & or control character unescaped,
     * in strings and in raw text alike. */
    w = sink_open(&s, JSON_HTML);
    json_open(w, '[');
    json_string(w, "</script>&\n\xe2\x80\xa8");
    json_raw(w, "{\"a\": \"<b>\"}");
    json_close(w);
    sink_check(&s, "[\"\\u003c/script\\u003e\\u0026\\u000a\\u2028\", {\"a\": \"\\u003cb\\u003e\"}]",
               "HTML-safe mode escapes < > &, control characters and U+2028");

    return check_exit();
}
