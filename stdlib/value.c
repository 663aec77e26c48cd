/* value.c: equality and the canonical text form of language values.
 * The text form is part of the IR's stable output, so it must not depend
 * on the locale or on how a number was written in the source. */
#include "stdlib/value.h"
#include "stdlib/catalogue.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double value_as_double(hpt_value v)
{
    switch (v.type) {
    case V_BOOL: return v.u.b;
    case V_INT: return (double)v.u.i;
    case V_FLOAT: return v.u.f;
    default: return NAN;
    }
}

bool value_equal(hpt_value a, hpt_value b)
{
    if (value_is_number(a) && value_is_number(b)) {
        if (a.type == V_INT && b.type == V_INT) return a.u.i == b.u.i;
        return value_as_double(a) == value_as_double(b);
    }
    if (a.type != b.type) return false;
    switch (a.type) {
    case V_NONE: return true;
    case V_BOOL: return a.u.b == b.u.b;
    case V_STRING: return strcmp(a.u.s, b.u.s) == 0;
    case V_LIST:
        if (a.u.list.n != b.u.list.n) return false;
        for (int k = 0; k < a.u.list.n; k++)
            if (!value_equal(a.u.list.items[k], b.u.list.items[k])) return false;
        return true;
    case V_OBJECT:
        if (a.u.object.entry != b.u.object.entry) return false;
        for (int k = 0; k < a.u.object.entry->n_args; k++)
            if (!value_equal(a.u.object.args[k], b.u.object.args[k])) return false;
        return true;
    default: return false;
    }
}

/* Shortest %g that round-trips, always with a '.' or exponent so it reads back as a float. */
static size_t format_double(char *buf, size_t n, double f)
{
    char tmp[40];
    if (isnan(f)) return (size_t)snprintf(buf, n, "nan");
    if (isinf(f)) return (size_t)snprintf(buf, n, f < 0 ? "-inf" : "inf");
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, f);
        if (strtod(tmp, NULL) == f) break;
    }
    if (!strpbrk(tmp, ".eEn")) strcat(tmp, ".0");
    return (size_t)snprintf(buf, n, "%s", tmp);
}

static size_t format_string(char *buf, size_t n, const char *s)
{
    size_t len = 0;
#define PUT(c) do { if (len + 1 < n) buf[len] = (c); len++; } while (0)
    PUT('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') PUT('\\');
        if (*s == '\n') { PUT('\\'); PUT('n'); continue; }
        if (*s == '\t') { PUT('\\'); PUT('t'); continue; }
        if ((unsigned char)*s < 0x20) {     /* as JSON spells them; the lexer never lets one in */
            char hex[8];
            snprintf(hex, sizeof hex, "\\u%04x", (unsigned char)*s);
            for (const char *h = hex; *h; h++) PUT(*h);
            continue;
        }
        PUT(*s);
    }
    PUT('"');
#undef PUT
    if (n) buf[len < n ? len : n - 1] = 0;
    return len;
}

size_t value_format(char *buf, size_t n, hpt_value v)
{
    size_t len = 0;
    /* Append helper: keeps counting past n so callers can size a buffer. */
#define CAT(expr) do { size_t k_ = (expr); len += k_; } while (0)
#define REST (len < n ? buf + len : NULL), (len < n ? n - len : 0)
    switch (v.type) {
    case V_NONE: CAT((size_t)snprintf(REST, "None")); break;
    case V_BOOL: CAT((size_t)snprintf(REST, v.u.b ? "True" : "False")); break;
    case V_INT: CAT((size_t)snprintf(REST, "%lld", (long long)v.u.i)); break;
    case V_FLOAT: CAT(format_double(REST, v.u.f)); break;
    case V_STRING: CAT(format_string(REST, v.u.s)); break;
    case V_LIST:
        CAT((size_t)snprintf(REST, v.tuple ? "(" : "["));
        for (int k = 0; k < v.u.list.n; k++) {
            if (k) CAT((size_t)snprintf(REST, ", "));
            CAT(value_format(REST, v.u.list.items[k]));
        }
        if (v.tuple && v.u.list.n == 1) CAT((size_t)snprintf(REST, ","));
        CAT((size_t)snprintf(REST, v.tuple ? ")" : "]"));
        break;
    case V_OBJECT: {
        const st_entry *e = v.u.object.entry;
        CAT((size_t)snprintf(REST, "%s(", e->name));
        for (int k = 0; k < e->n_args; k++) {
            if (k) CAT((size_t)snprintf(REST, ", "));
            CAT((size_t)snprintf(REST, "%s = ", e->args[k].name));
            CAT(value_format(REST, v.u.object.args[k]));
        }
        CAT((size_t)snprintf(REST, ")"));
        break;
    }
    }
#undef CAT
#undef REST
    return len;
}

size_t value_fprint(FILE *out, hpt_value v)
{
    char small[128];
    size_t len = value_format(small, sizeof small, v);
    if (len < sizeof small) return fputs(small, out), len;
    char *big = malloc(len + 1);
    if (!big) return (size_t)-1;
    value_format(big, len + 1, v);
    fputs(big, out);
    free(big);
    return len;
}

const char *value_type_name(hpt_vtype t)
{
    static const char *const names[] = { "None", "bool", "int", "float", "string", "list", "object" };
    return names[t];
}
