/* hps.c: see hps.h.  The parser knows the whole grammar of the JSON
 * tune_values_json writes (json.h's escapes, \u surrogate pairs), and
 * refuses anything else. */
#include "runtime/store/hps.h"

#include <stdlib.h>
#include <string.h>

static const char *skip_space(const char *c)
{
    while (*c == ' ' || *c == '\t' || *c == '\n' || *c == '\r') c++;
    return c;
}

static void put_utf8(char **o, unsigned cp)
{
    unsigned char *u = (unsigned char *)*o;
    if (cp < 0x80) *u++ = (unsigned char)cp;
    else if (cp < 0x800) *u++ = (unsigned char)(0xc0 | cp >> 6), *u++ = (unsigned char)(0x80 | (cp & 0x3f));
    else if (cp < 0x10000)
        *u++ = (unsigned char)(0xe0 | cp >> 12), *u++ = (unsigned char)(0x80 | (cp >> 6 & 0x3f)),
        *u++ = (unsigned char)(0x80 | (cp & 0x3f));
    else
        *u++ = (unsigned char)(0xf0 | cp >> 18), *u++ = (unsigned char)(0x80 | (cp >> 12 & 0x3f)),
        *u++ = (unsigned char)(0x80 | (cp >> 6 & 0x3f)), *u++ = (unsigned char)(0x80 | (cp & 0x3f));
    *o = (char *)u;
}

static int hex4(const char *c, unsigned *out)
{
    *out = 0;
    for (int k = 0; k < 4; k++) {
        int d = c[k] >= '0' && c[k] <= '9' ? c[k] - '0' : c[k] >= 'a' && c[k] <= 'f' ? c[k] - 'a' + 10
              : c[k] >= 'A' && c[k] <= 'F' ? c[k] - 'A' + 10 : -1;
        if (d < 0) return -1;
        *out = *out << 4 | (unsigned)d;
    }
    return 0;
}

/* string -> '"' (char | '\\' escape)* '"', decoded into malloc'd *out; the
 * text after it, or NULL when malformed.  A decoded string is never longer
 * than its JSON spelling, so the copy is sized by the spelling. */
static const char *json_string_in(const char *c, char **out)
{
    if (*c++ != '"') return NULL;
    char *buf = malloc(strlen(c) + 1), *o = buf;
    if (!buf) return NULL;
    for (; *c && *c != '"'; c++) {
        if (*c != '\\') {
            *o++ = *c;
            continue;
        }
        unsigned cp, low;
        switch (*++c) {
        case '"': case '\\': case '/': *o++ = *c; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u':
            if (hex4(c + 1, &cp)) goto bad;
            c += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && c[1] == '\\' && c[2] == 'u' && !hex4(c + 3, &low) && low >= 0xdc00 &&
                low < 0xe000)
                cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00), c += 6;
            if (!cp || (cp >= 0xd800 && cp < 0xe000)) goto bad;
            put_utf8(&o, cp);
            break;
        default: goto bad;
        }
    }
    if (*c != '"') goto bad;
    *o = 0;
    *out = buf;
    return c + 1;
bad:
    free(buf);
    return NULL;
}

void hps_free(hps_pair *pairs, int n)
{
    for (int k = 0; pairs && k < n; k++) free(pairs[k].name), free(pairs[k].value);
    free(pairs);
}

/* object -> '{' (string ':' value (',' string ':' value)*)? '}', the values
 * being strings, numbers, true, false or null.  -1 when malformed. */
int hps_parse(const char *json, hps_pair **out, int *n)
{
    int cap = 16, count = 0;
    hps_pair *pairs = malloc(sizeof *pairs * (size_t)cap);
    const char *c = skip_space(json);
    if (!pairs || *c++ != '{') goto bad;
    c = skip_space(c);
    while (*c != '}') {
        if (count == cap) {
            hps_pair *grown = realloc(pairs, sizeof *pairs * (size_t)(cap *= 2));
            if (!grown) goto bad;
            pairs = grown;
        }
        hps_pair *h = &pairs[count];
        *h = (hps_pair){ 0 };
        if (!(c = json_string_in(c, &h->name))) goto bad;
        count++;
        c = skip_space(c);
        if (*c++ != ':') goto bad;
        c = skip_space(c);
        if (*c == '"') {
            h->quoted = 1;
            if (!(c = json_string_in(c, &h->value))) goto bad;
        } else {
            size_t len = strcspn(c, ",} \t\r\n");
            if (!len || !(h->value = strndup(c, len))) goto bad;
            c += len;
        }
        c = skip_space(c);
        if (*c == ',') c = skip_space(c + 1);
        else if (*c != '}') goto bad;
    }
    if (*skip_space(c + 1)) goto bad;
    *out = pairs;
    *n = count;
    return 0;
bad:
    hps_free(pairs, count);
    return -1;
}

int hps_value(const ir_program *p, int k, const hps_pair *pair, arena *a, hpt_value *out)
{
    char why[200];
    if (!pair->quoted) {
        if (ir_parse_hp_value(p, k, pair->value, out, why, sizeof why)) return -1;
        if (out->type == V_STRING) out->u.s = arena_strdup(a, out->u.s);
        return 0;
    }
    const ir_hp *h = &p->hps[k];
    for (int v = 0; v < h->n_values; v++)
        if (h->values[v].type == V_STRING && !strcmp(h->values[v].u.s, pair->value)) return *out = h->values[v], 0;
    return -1;
}

int hps_values(const ir_program *p, const char *json, arena *a, hpt_value *values)
{
    for (int k = 0; k < p->n_hps; k++) values[k] = value_none();
    hps_pair *pairs;
    int n, rc = 0;
    if (hps_parse(json, &pairs, &n)) return -1;
    for (int i = 0; i < n && rc == 0; i++) {
        int k = ir_find_hp(p, pairs[i].name);
        rc = k < 0 ? -1 : hps_value(p, k, &pairs[i], a, &values[k]);
    }
    hps_free(pairs, n);
    return rc;
}
