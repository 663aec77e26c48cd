/* ir.c: evaluating, querying and printing the IR.
 *
 * Evaluation follows Python: int op int stays int except '/', which gives a
 * float; comparisons between numbers ignore int/float; `and`/`or` need
 * bools.  The printer is the documented, golden-tested text form: it must
 * stay byte-stable (see docs/ir.md), so every number goes through
 * value_format and every call lists every argument in catalogue order. */
#include "compiler/ir.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int eval_fail(char *why, size_t n, const char *msg)
{
    if (why && n) snprintf(why, n, "%s", msg);
    return -1;
}

/* Integer arithmetic as Python's, within 64 bits: what does not fit is an error,
 * never a wrapped value (nor undefined behaviour in C). */
static int int_binary(ir_xop op, int64_t a, int64_t b, hpt_value *out, char *why, size_t n)
{
    int64_t r;
    switch (op) {
    case X_LT: *out = value_bool(a < b); return 0;
    case X_LE: *out = value_bool(a <= b); return 0;
    case X_GT: *out = value_bool(a > b); return 0;
    case X_GE: *out = value_bool(a >= b); return 0;
    case X_ADD: if (__builtin_add_overflow(a, b, &r)) goto overflow; break;
    case X_SUB: if (__builtin_sub_overflow(a, b, &r)) goto overflow; break;
    case X_MUL: if (__builtin_mul_overflow(a, b, &r)) goto overflow; break;
    case X_POW:
        if (a == 0 && b < 0) return eval_fail(why, n, "division by zero: 0 to a negative power");
        if (b < 0) {
            *out = value_float(pow((double)a, (double)b));
            return 0;
        }
        /* By squaring: the base squared is needed only while bits remain, and then the
         * result is at least that large, so an overflow there is the result's own. */
        for (r = 1; b > 0;) {
            if ((b & 1) && __builtin_mul_overflow(r, a, &r)) goto overflow;
            b >>= 1;
            if (b > 0 && __builtin_mul_overflow(a, a, &a)) goto overflow;
        }
        break;
    case X_FLOORDIV:
    case X_MOD: {
        if (b == 0) return eval_fail(why, n, "division by zero");
        if (a == INT64_MIN && b == -1) {
            if (op == X_MOD) { *out = value_int(0); return 0; }
            goto overflow;
        }
        /* Python floors toward negative infinity. */
        int64_t d = a / b, m = a % b;
        if (m != 0 && ((m < 0) != (b < 0))) d--, m += b;
        r = op == X_FLOORDIV ? d : m;
        break;
    }
    default: return eval_fail(why, n, "bad operator");
    }
    *out = value_int(r);
    return 0;
overflow:
    return eval_fail(why, n, "integer overflow: the result does not fit in 64 bits");
}

static int finite_or_fail(hpt_value v, char *why, size_t n);
static int float_binary(ir_xop op, double a, double b, hpt_value *out, char *why, size_t n);

static int eval_binary(ir_xop op, hpt_value x, hpt_value y, hpt_value *out, char *why, size_t n)
{
    if (op == X_EQ || op == X_NE) {
        bool eq = value_equal(x, y);
        *out = value_bool(op == X_EQ ? eq : !eq);
        return 0;
    }
    if (op == X_AND || op == X_OR) {
        if (x.type != V_BOOL || y.type != V_BOOL) return eval_fail(why, n, "'and'/'or' need booleans");
        *out = value_bool(op == X_AND ? (x.u.b && y.u.b) : (x.u.b || y.u.b));
        return 0;
    }
    if (op == X_ADD && x.type == V_STRING && y.type == V_STRING)
        return eval_fail(why, n, "strings cannot be added; use an f-string");
    bool nx = value_is_number(x) || x.type == V_BOOL, ny = value_is_number(y) || y.type == V_BOOL;
    if (!nx || !ny) {
        char msg[128];
        snprintf(msg, sizeof msg, "arithmetic on %s and %s", value_type_name(x.type), value_type_name(y.type));
        return eval_fail(why, n, msg);
    }
    bool ints = x.type != V_FLOAT && y.type != V_FLOAT;
    if (ints && op != X_DIV) {
        if (int_binary(op, x.type == V_INT ? x.u.i : x.u.b, y.type == V_INT ? y.u.i : y.u.b, out, why, n)) return -1;
        return finite_or_fail(*out, why, n);    /* 0 ** -1 */
    }
    if (float_binary(op, value_as_double(x), value_as_double(y), out, why, n)) return -1;
    return finite_or_fail(*out, why, n);
}

/* Every float a spec computes is finite: an inf or a NaN would pass or fail
 * range checks by accident (NaN compares false with everything). */
static int finite_or_fail(hpt_value v, char *why, size_t n)
{
    if (v.type != V_FLOAT || isfinite(v.u.f)) return 0;
    return eval_fail(why, n, isnan(v.u.f) ? "the result is not a number (NaN)"
                                          : "float overflow: the result is too large for a 64-bit float (it would be infinity)");
}

static int float_binary(ir_xop op, double a, double b, hpt_value *out, char *why, size_t n)
{
    switch (op) {
    case X_LT: *out = value_bool(a < b); return 0;
    case X_LE: *out = value_bool(a <= b); return 0;
    case X_GT: *out = value_bool(a > b); return 0;
    case X_GE: *out = value_bool(a >= b); return 0;
    case X_ADD: *out = value_float(a + b); return 0;
    case X_SUB: *out = value_float(a - b); return 0;
    case X_MUL: *out = value_float(a * b); return 0;
    case X_POW:
        if (a == 0 && b < 0) return eval_fail(why, n, "division by zero: 0 to a negative power");
        *out = value_float(pow(a, b));
        return 0;
    case X_DIV:
        if (b == 0) return eval_fail(why, n, "division by zero");
        *out = value_float(a / b);
        return 0;
    case X_FLOORDIV:
    case X_MOD: {
        if (b == 0) return eval_fail(why, n, "division by zero");
        double d = floor(a / b);
        *out = value_float(op == X_FLOORDIV ? d : a - d * b);
        return 0;
    }
    default: return eval_fail(why, n, "bad operator");
    }
}

int ir_eval(const ir_program *p, const ir_expr *e, const ir_assignment *as, arena *scratch,
            hpt_value *out, char *why, size_t n)
{
    hpt_value x, y;
    switch (e->op) {
    case X_CONST: *out = e->value; return 0;
    case X_HP:
        if (!as || e->hp >= as->n) return eval_fail(why, n, "hyperparameter without a value");
        *out = as->values[e->hp];
        if (out->type == V_NONE && p->hps[e->hp].kind != HP_FIXED) {
            char msg[200];
            snprintf(msg, sizeof msg, "hyperparameter '%s' is inactive here", p->hps[e->hp].name);
            return eval_fail(why, n, msg);
        }
        return 0;
    case X_LIST:
    case X_OBJECT: {
        hpt_value *items = ARENA_ARRAY(scratch, hpt_value, e->n_items ? e->n_items : 1);
        if (!items) return eval_fail(why, n, "out of memory");
        for (int k = 0; k < e->n_items; k++)
            if (ir_eval(p, e->items[k], as, scratch, &items[k], why, n)) return -1;
        if (e->op == X_LIST) {
            *out = (hpt_value){ .type = V_LIST, .tuple = e->tuple, .u.list = { items, e->n_items } };
        } else {
            *out = (hpt_value){ .type = V_OBJECT, .u.object = { e->entry, items } };
        }
        return 0;
    }
    case X_NEG:
        if (ir_eval(p, e->a, as, scratch, &x, why, n)) return -1;
        if (x.type == V_INT && x.u.i == INT64_MIN) return eval_fail(why, n, "integer overflow: the result does not fit in 64 bits");
        if (x.type == V_INT) *out = value_int(-x.u.i);
        else if (x.type == V_FLOAT) *out = value_float(-x.u.f);
        else return eval_fail(why, n, "'-' needs a number");
        return 0;
    case X_NOT:
        if (ir_eval(p, e->a, as, scratch, &x, why, n)) return -1;
        if (x.type != V_BOOL) return eval_fail(why, n, "'not' needs a boolean");
        *out = value_bool(!x.u.b);
        return 0;
    case X_AND:
    case X_OR:
        /* Short-circuit, so `n > 2 and hp_only_active_when_n_gt_2` is fine. */
        if (ir_eval(p, e->a, as, scratch, &x, why, n)) return -1;
        if (x.type != V_BOOL) return eval_fail(why, n, "'and'/'or' need booleans");
        if (x.u.b == (e->op == X_OR)) { *out = x; return 0; }
        if (ir_eval(p, e->b, as, scratch, &y, why, n)) return -1;
        return eval_binary(e->op, x, y, out, why, n);
    default:
        if (ir_eval(p, e->a, as, scratch, &x, why, n)) return -1;
        if (ir_eval(p, e->b, as, scratch, &y, why, n)) return -1;
        return eval_binary(e->op, x, y, out, why, n);
    }
}

bool ir_holds(const ir_program *p, const ir_expr *cond, const ir_assignment *a)
{
    if (!cond) return true;
    hpt_value v;
    arena scratch = { 0 };
    int rc = ir_eval(p, cond, a, &scratch, &v, NULL, 0);
    arena_free(&scratch);
    return rc == 0 && v.type == V_BOOL && v.u.b;
}

int ir_eval_call(const ir_program *p, const ir_call *c, const ir_assignment *a, arena *scratch,
                 hpt_value *args_out, char *why, size_t n)
{
    for (int k = 0; k < c->entry->n_args; k++)
        if (ir_eval(p, c->args[k], a, scratch, &args_out[k], why, n)) return -1;
    return 0;
}

/* A condition may name a hyperparameter defined after its own (one used
 * under two guards), so one pass in definition order can read a parent not
 * yet cleared: repeat until nothing changes.  Clearing only ever makes
 * conditions fail (an inactive operand is an evaluation error), so this ends,
 * in one pass for the usual parents-first spaces. */
void ir_deactivate(const ir_program *p, hpt_value *values)
{
    ir_assignment a = { values, p->n_hps };
    for (bool changed = true; changed;) {
        changed = false;
        for (int k = 0; k < p->n_hps; k++)
            if (p->hps[k].condition && values[k].type != V_NONE && !ir_holds(p, p->hps[k].condition, &a)) {
                values[k] = value_none();
                changed = true;
            }
    }
}

void ir_default_assignment(const ir_program *p, hpt_value *values)
{
    for (int k = 0; k < p->n_hps; k++) values[k] = p->hps[k].default_value;
    ir_deactivate(p, values);
}

int ir_find_hp(const ir_program *p, const char *name)
{
    for (int k = 0; k < p->n_hps; k++)
        if (strcmp(p->hps[k].name, name) == 0) return k;
    return -1;
}

static bool near_multiple(double x, double base, double step)
{
    double k = (x - base) / step;
    return fabs(k - round(k)) < 1e-9 * fmax(1.0, fabs(k));
}

/* ---- the values of a range ------------------------------------------------
 *
 * An hp.Int's bounds and step are int64 and may be anything the checker
 * accepted (-9223372036854775807 .. 9223372036854775807 step 9223372036854775807
 * is 3 values), so nothing here computes with them in a signed or a double
 * intermediate: the span hi - lo and k * step are unsigned 64-bit (both fit:
 * k * step <= span < 2^64), and the value lo + k * step is formed in unsigned
 * arithmetic and converted back, which is exact because it lies in [lo, hi].
 * A log step multiplies with overflow checks.  Floats are computed in double,
 * with a count that saturates instead of overflowing a long. */

typedef enum { RANGE_LINEAR, RANGE_LOG, RANGE_CONTINUOUS } range_kind;

static range_kind range_of(const ir_hp *h)
{
    if (h->kind == HP_INT) return h->sampling == SAMPLING_LOG && h->step.type != V_NONE ? RANGE_LOG : RANGE_LINEAR;
    if (h->step.type == V_NONE) return RANGE_CONTINUOUS;
    return h->sampling == SAMPLING_LOG ? RANGE_LOG : RANGE_LINEAR;
}

/* An hp.Int's step: given, or 1 (whatever the sampling, without a step the values are consecutive). */
static uint64_t int_step(const ir_hp *h)
{
    return h->step.type == V_INT && h->step.u.i > 0 ? (uint64_t)h->step.u.i : 1;
}

/* The number of steps past min: (max - min) / step for a linear Int, the
 * largest k with min * step^k <= max for a log one, each exact. */
static uint64_t int_last_index(const ir_hp *h)
{
    int64_t lo = h->min.u.i, hi = h->max.u.i;
    if (hi < lo) return 0;
    if (range_of(h) == RANGE_LINEAR) return ((uint64_t)hi - (uint64_t)lo) / int_step(h);
    uint64_t k = 0;
    for (int64_t x = lo, st = (int64_t)int_step(h); x > 0 && !__builtin_mul_overflow(x, st, &x) && x <= hi;) k++;
    return k;
}

/* The k-th value of an hp.Int (k <= int_last_index), exactly. */
static int64_t int_value_at(const ir_hp *h, uint64_t k)
{
    int64_t lo = h->min.u.i;
    uint64_t last = int_last_index(h);
    if (k > last) k = last;
    if (range_of(h) == RANGE_LINEAR) return (int64_t)((uint64_t)lo + k * int_step(h));
    int64_t x = lo;
    for (uint64_t j = 0; j < k; j++) x *= (int64_t)int_step(h);    /* no overflow: x <= max for every j <= last */
    return x;
}

/* The number of steps past min of a stepped Float, as a double (may be huge). */
static double float_last_index(const ir_hp *h)
{
    double lo = value_as_double(h->min), hi = value_as_double(h->max), st = value_as_double(h->step);
    double q = range_of(h) == RANGE_LOG ? log(hi / lo) / log(st) : (hi - lo) / st;
    q = floor(q + 1e-9);
    return q >= 0 ? q : 0;      /* NaN and negatives: min alone */
}

static double float_value_at(const ir_hp *h, double k)
{
    double lo = value_as_double(h->min), hi = value_as_double(h->max), st = value_as_double(h->step);
    double x = range_of(h) == RANGE_LOG ? lo * pow(st, k) : lo + st * k;
    /* The count allows 1e-9 of a step for rounding; past what ir_hp_admits allows, max itself. */
    return x > hi + 1e-12 * fabs(hi) || !isfinite(x) ? hi : x;
}

/* A double as one of [lo, hi]'s int64s, with no conversion out of range. */
static int64_t clamp_int(double x, int64_t lo, int64_t hi)
{
    if (!(x > (double)lo)) return lo;
    if (x >= (double)hi) return hi;
    return (int64_t)x;          /* x < (double)hi <= 2^63: representable */
}

bool ir_hp_admits(const ir_hp *h, hpt_value v)
{
    switch (h->kind) {
    case HP_BOOLEAN: return v.type == V_BOOL;
    case HP_FIXED: return value_equal(v, h->values[0]);
    case HP_CHOICE:
        for (int k = 0; k < h->n_values; k++)
            if (value_equal(v, h->values[k]) && (v.type == V_STRING) == (h->values[k].type == V_STRING)) return true;
        return false;
    case HP_INT: {
        if (v.type != V_INT || v.u.i < h->min.u.i || v.u.i > h->max.u.i) return false;
        if (range_of(h) == RANGE_LINEAR) return ((uint64_t)v.u.i - (uint64_t)h->min.u.i) % int_step(h) == 0;
        for (uint64_t k = 0, last = int_last_index(h); k <= last; k++)
            if (int_value_at(h, k) == v.u.i) return true;
        return false;
    }
    case HP_FLOAT: {
        if (!value_is_number(v)) return false;
        double x = value_as_double(v), lo = value_as_double(h->min), hi = value_as_double(h->max);
        if (!(x >= lo - 1e-12 * fabs(lo) && x <= hi + 1e-12 * fabs(hi))) return false;
        if (h->step.type == V_NONE) return true;
        double st = value_as_double(h->step);
        if (h->sampling == SAMPLING_LOG) return near_multiple(log(x), log(lo), log(st));
        return near_multiple(x, lo, st);
    }
    }
    return false;
}

double ir_hp_count(const ir_hp *h)
{
    switch (h->kind) {
    case HP_BOOLEAN: return 2;
    case HP_FIXED: return 1;
    case HP_CHOICE: return h->n_values;
    case HP_INT: return (double)int_last_index(h) + 1;
    case HP_FLOAT: return range_of(h) == RANGE_CONTINUOUS ? -1 : float_last_index(h) + 1;
    }
    return -1;
}

long ir_hp_cardinality(const ir_hp *h)
{
    if (h->kind == HP_INT) {
        uint64_t last = int_last_index(h);
        return last >= (uint64_t)LONG_MAX ? LONG_MAX : (long)last + 1;
    }
    double n = ir_hp_count(h);
    if (n < 0) return -1;
    return n >= (double)LONG_MAX ? LONG_MAX : (long)n;
}

hpt_value ir_hp_value_at(const ir_hp *h, long k)
{
    if (k < 0) k = 0;
    switch (h->kind) {
    case HP_BOOLEAN: return value_bool(k != 0);
    case HP_FIXED: return h->values[0];
    case HP_CHOICE: return h->values[k < h->n_values ? k : h->n_values - 1];
    case HP_INT: return value_int(int_value_at(h, (uint64_t)k));
    case HP_FLOAT: return value_float(range_of(h) == RANGE_CONTINUOUS ? value_as_double(h->min) : float_value_at(h, (double)k));
    }
    return value_none();
}

hpt_value ir_hp_last(const ir_hp *h)
{
    switch (h->kind) {
    case HP_INT: return value_int(int_value_at(h, int_last_index(h)));
    case HP_FLOAT: return range_of(h) == RANGE_CONTINUOUS ? h->max : value_float(float_value_at(h, float_last_index(h)));
    default: return ir_hp_value_at(h, ir_hp_cardinality(h) - 1);
    }
}

void ir_hp_ends(const ir_hp *h, hpt_value ends[2])
{
    if (h->kind == HP_INT || h->kind == HP_FLOAT) {
        ends[0] = h->min, ends[1] = ir_hp_last(h);
        return;
    }
    if (h->kind == HP_BOOLEAN) {
        ends[0] = value_bool(false), ends[1] = value_bool(true);
        return;
    }
    ends[0] = h->values[0], ends[1] = h->values[h->n_values - 1];
    if (!value_is_number(ends[0])) return;
    for (int k = 1; k < h->n_values; k++) {
        if (value_as_double(h->values[k]) < value_as_double(ends[0])) ends[0] = h->values[k];
        if (value_as_double(h->values[k]) > value_as_double(ends[1])) ends[1] = h->values[k];
    }
}

hpt_value ir_hp_value_at_fraction(const ir_hp *h, double fraction)
{
    if (!(fraction > 0)) fraction = 0;
    if (h->kind == HP_INT) {
        /* count may be 2^64 (every int64 but one): k = floor(fraction * count), in [0, last]. */
        uint64_t last = int_last_index(h);
        double k = floor(fraction * ((double)last + 1));
        return value_int(int_value_at(h, k >= (double)last ? last : (uint64_t)k));
    }
    double n = ir_hp_count(h);
    if (n < 0) return h->min;
    double k = floor(fraction * n);
    if (h->kind == HP_FLOAT) return value_float(float_value_at(h, k >= n - 1 ? n - 1 : k));
    return ir_hp_value_at(h, k >= n - 1 ? (long)n - 1 : (long)k);
}

hpt_value ir_hp_nearest(const ir_hp *h, hpt_value v, double *index)
{
    if (h->kind == HP_INT && range_of(h) == RANGE_LINEAR) {
        int64_t lo = h->min.u.i, hi = h->max.u.i;
        int64_t x = v.type == V_INT ? (v.u.i < lo ? lo : v.u.i > hi ? hi : v.u.i) : clamp_int(round(value_as_double(v)), lo, hi);
        uint64_t off = (uint64_t)x - (uint64_t)lo, st = int_step(h), q = off / st;
        if (off % st > st / 2 && q < int_last_index(h)) q++;
        *index = (double)q;
        return value_int(int_value_at(h, q));
    }
    double n = ir_hp_count(h), x = value_as_double(v), lo = value_as_double(h->min);
    double st = h->step.type == V_NONE ? 1 : value_as_double(h->step);
    double k = round(range_of(h) == RANGE_LOG ? log(x / lo) / log(st) : (x - lo) / st);
    if (!(k > 0)) k = 0;
    if (k > n - 1) k = n - 1;
    *index = k;
    return h->kind == HP_INT ? value_int(int_value_at(h, (uint64_t)k)) : value_float(float_value_at(h, k));
}

int ir_hp_values(const ir_hp *h, hpt_value *out, int cap)
{
    long n = ir_hp_cardinality(h);
    int count = 0;
    switch (h->kind) {
    case HP_BOOLEAN:
        /* Keras Tuner's grid tries False first. */
        if (cap > 0) out[count++] = value_bool(false);
        if (cap > 1) out[count++] = value_bool(true);
        return count;
    case HP_FIXED:
    case HP_CHOICE:
        for (int k = 0; k < h->n_values && k < cap; k++) out[count++] = h->values[k];
        return count;
    case HP_INT:
    case HP_FLOAT: {
        double lo = value_as_double(h->min), hi = value_as_double(h->max);
        bool log_steps = h->sampling == SAMPLING_LOG;
        if (n < 0) {
            /* A Float without step: ten evenly spaced values (geometric under log). */
            for (int k = 0; k < 10 && k < cap; k++) {
                double t = k / 9.0;
                double x = log_steps ? lo * pow(hi / lo, t) : lo + (hi - lo) * t;
                out[count++] = value_float(x);
            }
            return count;
        }
        for (long k = 0; k < n && count < cap; k++) out[count++] = ir_hp_value_at(h, k);
        return count;
    }
    }
    return 0;
}

/* "relu" as the spec and `hptc best` write a string: its text, unescaped
 * into buf (\" \\ \n \t); NULL when text is not one. */
static char *quoted_string(const char *text, char *buf, size_t size)
{
    size_t len = strlen(text), o = 0;
    if (len < 2 || text[0] != '"' || text[len - 1] != '"' || len > size) return NULL;
    for (size_t k = 1; k + 1 < len; k++) {
        char c = text[k];
        if (c == '\\') {
            c = text[++k];
            if (k + 1 >= len) return NULL;
            c = c == 'n' ? '\n' : c == 't' ? '\t' : c;
        } else if (c == '"') {
            return NULL;
        }
        buf[o++] = c;
    }
    buf[o] = 0;
    return buf;
}

int ir_parse_hp_value(const ir_program *p, int hp, const char *text, hpt_value *out, char *why, size_t n)
{
    const ir_hp *h = &p->hps[hp];
    char *end, unquoted[512];
    hpt_value v;
    if (quoted_string(text, unquoted, sizeof unquoted)) {
        /* A string, whatever it spells ("64" is not 64): it must be one of
         * the hyperparameter's own strings, which ir_hp_coerce points v at. */
        v = value_string(unquoted);
        if (!ir_hp_coerce(h, &v) || v.u.s == unquoted) {
            snprintf(why, n, "%s is not a value hyperparameter '%s' can take", text, h->name);
            return -1;
        }
        *out = v;
        return 0;
    }
    if (h->kind == HP_BOOLEAN || !strcmp(text, "True") || !strcmp(text, "False") ||
        !strcmp(text, "true") || !strcmp(text, "false")) {
        v = value_bool(text[0] == 'T' || text[0] == 't');
    } else {
        long long i = strtoll(text, &end, 10);
        if (*text && !*end) {
            v = value_int(i);
        } else {
            double f = strtod(text, &end);
            if (*text && !*end) v = value_float(f);
            else v = value_string(text);
        }
    }
    if (!ir_hp_coerce(h, &v)) {
        snprintf(why, n, "'%s' is not a value hyperparameter '%s' can take", text, h->name);
        return -1;
    }
    *out = v;
    return 0;
}

bool ir_hp_coerce(const ir_hp *h, hpt_value *v)
{
    /* An int written for a Float, or 1e-3 for a Choice of floats, is fine. */
    if (h->kind == HP_FLOAT && v->type == V_INT) *v = value_float((double)v->u.i);
    if (h->kind == HP_CHOICE || h->kind == HP_FIXED)
        for (int k = 0; k < h->n_values; k++)
            if (value_equal(*v, h->values[k])) *v = h->values[k];
    return ir_hp_admits(h, *v);
}

/* Lines counted from a cursor that only moves forward while the offsets asked
 * for grow (as hyperparameters and layers do in the printed IR), so printing
 * n of them costs one pass over the source, not n. */
typedef struct line_cursor { uint32_t offset; int line; } line_cursor;

static int line_at(const ir_program *p, line_cursor *c, uint32_t offset)
{
    if (offset > p->source_len) offset = (uint32_t)p->source_len;
    if (offset < c->offset) c->offset = 0, c->line = 1;
    for (const char *q = p->source + c->offset, *end = p->source + offset; (q = memchr(q, '\n', (size_t)(end - q))); q++)
        c->line++;
    c->offset = offset;
    return c->line;
}

int ir_line_of(const ir_program *p, uint32_t offset)
{
    line_cursor c = { 0, 1 };
    return line_at(p, &c, offset);
}

uint64_t ir_hash_bytes(const void *data, size_t n)
{
    const unsigned char *b = data;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t k = 0; k < n; k++) h = (h ^ b[k]) * 0x100000001b3ull;
    return h;
}

void ir_free(ir_program *p)
{
    if (!p) return;
    arena a = p->arena;     /* the program lives in its own arena */
    arena_free(&a);
}

/* ---- the text form ---------------------------------------------------- */

static const char *const op_text[] = {
    [X_NEG] = "-", [X_NOT] = "not ", [X_ADD] = "+", [X_SUB] = "-", [X_MUL] = "*", [X_DIV] = "/",
    [X_FLOORDIV] = "//", [X_MOD] = "%", [X_POW] = "**", [X_EQ] = "==", [X_NE] = "!=", [X_LT] = "<",
    [X_LE] = "<=", [X_GT] = ">", [X_GE] = ">=", [X_AND] = "and", [X_OR] = "or",
};


static void print_args(const ir_program *p, const st_entry *e, ir_expr *const *args, FILE *out)
{
    fprintf(out, "%s(", e->name);
    for (int k = 0; k < e->n_args; k++) {
        fprintf(out, "%s%s = ", k ? ", " : "", e->args[k].name);
        ir_print_expr(p, args[k], out);
    }
    fputc(')', out);
}

/* Binary operations print fully parenthesised: the IR is read by tools, not
 * people, and this way no precedence table is part of the format. */
void ir_print_expr(const ir_program *p, const ir_expr *e, FILE *out)
{
    switch (e->op) {
    case X_CONST: value_fprint(out, e->value); break;
    case X_HP: fprintf(out, "%%%s", p->hps[e->hp].name); break;
    case X_LIST:
        fputc(e->tuple ? '(' : '[', out);
        for (int k = 0; k < e->n_items; k++) {
            if (k) fputs(", ", out);
            ir_print_expr(p, e->items[k], out);
        }
        if (e->tuple && e->n_items == 1) fputc(',', out);
        fputc(e->tuple ? ')' : ']', out);
        break;
    case X_OBJECT: print_args(p, e->entry, e->items, out); break;
    case X_NEG:
    case X_NOT:
        fprintf(out, "(%s", op_text[e->op]);
        ir_print_expr(p, e->a, out);
        fputc(')', out);
        break;
    default:
        fputc('(', out);
        ir_print_expr(p, e->a, out);
        fprintf(out, " %s ", op_text[e->op]);
        ir_print_expr(p, e->b, out);
        fputc(')', out);
    }
}

static const char *const hp_kind_name[] = { "int", "float", "choice", "boolean", "fixed" };
static const char *const sampling_name[] = { "linear", "log", "reverse_log" };

static void print_hp(const ir_program *p, const ir_hp *h, line_cursor *lines, FILE *out)
{
    fprintf(out, "  %%%s = %s", h->name, hp_kind_name[h->kind]);
    if (h->kind == HP_INT || h->kind == HP_FLOAT) {
        fputs(" [", out);
        value_fprint(out, h->min);
        fputs(", ", out);
        value_fprint(out, h->max);
        fputc(']', out);
        if (h->step.type != V_NONE) {
            fputs(" step ", out);
            value_fprint(out, h->step);
        }
        fprintf(out, " %s", sampling_name[h->sampling]);
    } else if (h->kind == HP_CHOICE || h->kind == HP_FIXED) {
        fputs(" [", out);
        for (int k = 0; k < h->n_values; k++) {
            if (k) fputs(", ", out);
            value_fprint(out, h->values[k]);
        }
        fputc(']', out);
        if (h->kind == HP_CHOICE) fputs(h->ordered ? " ordered" : " unordered", out);
    }
    fputs(" default ", out);
    value_fprint(out, h->default_value);
    if (h->condition) {
        fputs(" when ", out);
        ir_print_expr(p, h->condition, out);
    }
    fprintf(out, "    ; line %d\n", line_at(p, lines, h->span.start));
}

static void print_call(const ir_program *p, const char *lhs, const ir_call *c, FILE *out)
{
    if (!c->entry) return;
    if (lhs) fprintf(out, "%s = ", lhs);
    print_args(p, c->entry, c->args, out);
    fputc('\n', out);
}

void ir_print(const ir_program *p, FILE *out)
{
    fprintf(out, "; hptc IR version %d\n", p->version);
    fprintf(out, "; spec %016llx, %d hyperparameter%s, %d layer%s\n", (unsigned long long)p->spec_hash,
            p->n_hps, p->n_hps == 1 ? "" : "s", p->n_layers, p->n_layers == 1 ? "" : "s");
    fputs("space {\n", out);
    line_cursor lines = { 0, 1 };
    for (int k = 0; k < p->n_hps; k++) print_hp(p, &p->hps[k], &lines, out);
    fputs("}\n", out);
    print_call(p, "data", &p->data, out);
    fputs("model {\n", out);
    for (int k = 0; k < p->n_layers; k++) {
        const ir_call *c = &p->layers[k];
        fprintf(out, "  %s = ", c->name);
        print_args(p, c->entry, c->args, out);
        /* A stack is the default: only a layer reading another than the one
         * before it (a branch's first, a merge) says what it reads. */
        bool stacked = k == 0 ? c->n_inputs == 0 : c->n_inputs == 1 && c->inputs[0] == k - 1;
        if (!stacked) {
            fputs(" <- (", out);
            for (int j = 0; j < c->n_inputs; j++)
                fprintf(out, "%s%s", j ? ", " : "", c->inputs[j] >= 0 && c->inputs[j] < k ? p->layers[c->inputs[j]].name : "?");
            fputc(')', out);
        }
        if (c->guard) {
            fputs(" when ", out);
            ir_print_expr(p, c->guard, out);
        }
        fprintf(out, "    ; line %d\n", line_at(p, &lines, c->span.start));
    }
    fputs("}\n", out);
    print_call(p, NULL, &p->compile, out);
    print_call(p, NULL, &p->search, out);
    print_call(p, "tuner", &p->tuner, out);
}
