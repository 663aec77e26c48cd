/* sema_values.c: a value against a catalogue argument, over the space
 * (see sema_state.h).
 *
 * An argument that depends on hyperparameters is evaluated for every
 * assignment of the ones it reads (sema_enumerate: full grids while they
 * stay under ENUM_CAP assignments, else each large dimension by its two
 * ends, where monotone rules break), and each value is checked against the
 * argument's type, range, choices and flags (check_value, one function per
 * kind of type).  A failure is reported once per argument, naming the
 * values of the hyperparameters that cause it.  The scratch assignment
 * s->values is all None again when a check returns.
 */
#include "compiler/sema_state.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "'units' = 32, 'pool' = True" for the hyperparameters in hps[0..m), in definition order. */
void sema_describe_assignment(const ir_program *p, const int *hps, int m, const hpt_value *values, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    for (int last = -1;;) {
        int k = INT32_MAX;
        for (int j = 0; j < m; j++)
            if (hps[j] > last && hps[j] < k) k = hps[j];
        if (k == INT32_MAX || len + 1 >= n) break;
        last = k;
        if (values[k].type == V_NONE) continue;
        char v[64];
        value_format(v, sizeof v, values[k]);
        len += (size_t)snprintf(buf + len, n - len, "%s'%s' = %s", len ? ", " : "", p->hps[k].name, v);
    }
}

/* ---- enumeration over the space ----------------------------------------- */

typedef struct enum_state {
    const int *hps;
    int n;
    hpt_value **choices;
    int *counts;
    hpt_value *values;
    long budget;
    int (*fn)(void *, hpt_value *);
    void *user;
} enum_state;

static int enum_rec(enum_state *st, int k)
{
    if (k == st->n) {
        if (st->budget-- <= 0) return 2;
        return st->fn(st->user, st->values) ? 1 : 0;
    }
    for (int j = 0; j < st->counts[k]; j++) {
        st->values[st->hps[k]] = st->choices[k][j];
        int rc = enum_rec(st, k + 1);
        if (rc) return rc;
    }
    return 0;
}

/* Enumerate assignments of the hyperparameters hps[0..n) over their grid values
 * (continuous ones by their two ends), at most `cap` of them, calling fn on
 * each until it returns non-zero.  Other slots of values[] are left as they are.
 * Returns 1 when the enumeration was complete, 0 when capped or cornered. */
int sema_enumerate(const ir_program *p, const int *hps, int n, hpt_value *values, long cap,
                   int (*fn)(void *, hpt_value *), void *user)
{
    hpt_value *choices_store = malloc(sizeof(hpt_value) * 64 * (size_t)(n ? n : 1));
    hpt_value **choices = malloc(sizeof *choices * (size_t)(n ? n : 1));
    int *counts = malloc(sizeof *counts * (size_t)(n ? n : 1));
    if (!choices_store || !choices || !counts) {
        free(choices_store), free(choices), free(counts);
        return 0;
    }
    /* Full grids while the product stays under cap; otherwise each large
     * dimension contributes its two ends (shape and range rules are monotone
     * in sizes, so the ends are where they break).  A Choice of names (an
     * activation's) up to cap values is tried in full: its values are not
     * ordered, any one of them may be misspelt. */
    double product = 1;
    int complete = 1;
    for (int k = 0; k < n; k++) {
        const ir_hp *h = &p->hps[hps[k]];
        long card = ir_hp_cardinality(h);
        choices[k] = choices_store + 64 * k;
        if (card > 0 && card <= 64) counts[k] = ir_hp_values(h, choices[k], 64);
        else if (h->kind == HP_CHOICE && !h->ordered && card <= cap) choices[k] = h->values, counts[k] = (int)card;
        else counts[k] = 0;
        product *= counts[k] ? counts[k] : 2;
    }
    for (int k = 0; k < n; k++) {
        if (counts[k] && product <= (double)cap) continue;
        if (counts[k] <= 2 && counts[k]) continue;
        product = product / (counts[k] ? counts[k] : 2) * 2;
        choices[k] = choices_store + 64 * k;
        ir_hp_ends(&p->hps[hps[k]], choices[k]);
        counts[k] = 2;
        complete = 0;
    }
    enum_state st = { hps, n, choices, counts, values, cap, fn, user };
    int rc = enum_rec(&st, 0);
    if (rc == 2) complete = 0;
    free(choices_store), free(choices), free(counts);
    return complete;
}

/* ---- checking a value against a catalogue argument ---------------------- */

static bool is_int(hpt_value v) { return v.type == V_INT; }

/* A value as a message names it: the string "10", the float 2.5, True, a list. */
void sema_describe_value(hpt_value v, char *buf, size_t n)
{
    char text[80];
    switch (v.type) {
    case V_NONE: snprintf(buf, n, "None"); return;
    case V_BOOL: snprintf(buf, n, "%s", v.u.b ? "True" : "False"); return;
    case V_LIST: snprintf(buf, n, "a %s", v.tuple ? "tuple" : "list"); return;
    case V_OBJECT: snprintf(buf, n, "%s(...)", v.u.object.entry->name); return;
    default:
        value_format(text, sizeof text, v);
        snprintf(buf, n, "the %s %s", value_type_name(v.type), text);
    }
}

/* Does s hold a control character (a newline or a tab made by an escape)? */
bool sema_has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return true;
    return false;
}

/* The checks a string argument's flags ask for (A_NONEMPTY, A_FOLDER): every
 * catalogue string is a name, a path or a keyword, printed in tables and
 * used as a file name, so none may hold a control character either. */
static int check_text(const st_arg *arg, const char *s, char *why, size_t n, const char **hint)
{
    char text[300];
    value_format(text, sizeof text, value_string(s));
    if (sema_has_control(s)) {
        snprintf(why, n, "must not hold a control character, but it is %s", text);
        *hint = "names and paths are printed in tables and used as file names: write them on one line, without \\n or \\t";
        return -1;
    }
    if ((arg->flags & (A_NONEMPTY | A_FOLDER)) && !*s) {
        snprintf(why, n, "must not be empty");
        *hint = arg->flags & A_FOLDER ? "it names the project's folder inside directory, such as \"my_search\""
                                      : "\".\" is the working directory";
        return -1;
    }
    if ((arg->flags & A_FOLDER) && (!strcmp(s, ".") || !strcmp(s, "..") || strchr(s, '/'))) {
        snprintf(why, n, "must name one folder inside directory, not %s", text);
        *hint = strchr(s, '/') ? "put the path in directory = \"...\" and the last folder's name in project_name"
                               : "the project's folder is made inside directory: give it a name such as \"my_search\"";
        return -1;
    }
    return 0;
}

/* Each checker below takes one value for arg, writes why it fails (and
 * perhaps a hint) and returns -1, or returns 0.  None is handled before
 * them (check_value), so each sees None only where its type takes it. */

/* "must be an int, not the string \"10\"": a value of another type. */
static int wrong_type(const st_arg *arg, hpt_value v, char *why, size_t n)
{
    static const char *const type_words[] = {
        [T_INT] = "an int", [T_FLOAT] = "a number", [T_BOOL] = "True or False", [T_STRING] = "a string",
        [T_SHAPE] = "a shape such as [28, 28]", [T_INT_PAIR] = "an int or a pair of ints",
        [T_ACTIVATION] = "an activation name", [T_METRICS] = "a list of metric names",
        [T_CALLBACKS] = "a list of callbacks", [T_DATA] = "a data source", [T_SPLITTER] = "a number of folds",
        [T_FEATURES] = "\"sqrt\", \"log2\", a count or a fraction",
        [T_FLOAT_PAIR] = "a number or a (lower, upper) pair",
        [T_PADDING] = "an int, a pair of ints or a pair of pairs",
        [T_OPTIMIZER] = "an optimizer", [T_LOSS] = "a loss",
        [T_LR] = "a number or a learning-rate schedule such as CosineDecay(...)", [T_NUMBERS] = "a list of numbers",
        [T_OBJECTIVE] = "a metric name, a list of them, Objective(...) or Pareto(...)",
    };
    char what[120];
    sema_describe_value(v, what, sizeof what);
    snprintf(why, n, "must be %s, not %s", type_words[arg->type], what);
    return -1;
}

/* A number against arg's range, written so that a NaN fails it (every
 * comparison with NaN is false). */
static int check_range(const st_arg *arg, hpt_value v, char *why, size_t n)
{
    double x = value_as_double(v);
    char text[64];
    value_format(text, sizeof text, v);
    if (!isfinite(x)) {
        snprintf(why, n, "must be a finite number, but it is %s", text);
        return -1;
    }
    if (!isnan(arg->min) && !(x >= arg->min)) {
        snprintf(why, n, "must be at least %g, but it is %s", arg->min, text);
        return -1;
    }
    if (!isnan(arg->max) && !((arg->flags & A_HI_OPEN) ? x < arg->max : x <= arg->max)) {
        snprintf(why, n, "must be %s %g, but it is %s", (arg->flags & A_HI_OPEN) ? "less than" : "at most", arg->max, text);
        return -1;
    }
    return 0;
}

/* T_INT: an int in the range. */
static int check_int(const st_arg *arg, hpt_value v, char *why, size_t n, const char **hint)
{
    return is_int(v) ? check_range(arg, v, why, n) : wrong_type(arg, v, why, n);
}

/* T_FLOAT: a number (an int is one) in the range. */
static int check_float(const st_arg *arg, hpt_value v, char *why, size_t n, const char **hint)
{
    return value_is_number(v) ? check_range(arg, v, why, n) : wrong_type(arg, v, why, n);
}

/* T_BOOL: True or False. */
static int check_bool(const st_arg *arg, hpt_value v, char *why, size_t n, const char **hint)
{
    return v.type == V_BOOL ? 0 : wrong_type(arg, v, why, n);
}

/* T_STRING: one of the choices when there are, and what its flags ask. */
static int check_string(const st_arg *arg, hpt_value v, char *why, size_t n, const char **hint)
{
    if (v.type != V_STRING) return wrong_type(arg, v, why, n);
    if (arg->choices && !st_choice_ok(arg->choices, v.u.s)) {
        snprintf(why, n, "must be one of %s, not \"%s\"", arg->choices, v.u.s);
        if (strchr(arg->doc, '"')) *hint = arg->doc;    /* a doc that spells the values out, with their meaning */
        return -1;
    }
    return check_text(arg, v.u.s, why, n, hint);
}

/* T_SHAPE: 1 to 3 positive sizes. */
static int check_shape(const st_arg *arg, hpt_value v, char *why, size_t n, const char **hint)
{
    if (v.type != V_LIST) return wrong_type(arg, v, why, n);
    if (v.u.list.n < 1 || v.u.list.n > 3) {
        snprintf(why, n, "must have 1 to 3 axes, not %d", v.u.list.n);
        return -1;
    }
    for (int k = 0, inferred = 0; k < v.u.list.n; k++) {
        /* Reshape's target_shape may leave one size, -1, to be inferred. */
        if ((arg->flags & A_INFER_ONE) && is_int(v.u.list.items[k]) && v.u.list.items[k].u.i == -1 && !inferred++)
            continue;
        if (!is_int(v.u.list.items[k]) || v.u.list.items[k].u.i < 1 || v.u.list.items[k].u.i > 1000000) {
            snprintf(why, n, inferred > 1 ? "may leave one size only to be inferred (-1), not two"
                                           : "must list positive integer sizes");
            return -1;
        }
    }
    return 0;
}

/* T_INT_PAIR: an int in the range, or a pair of them. */
static int check_int_pair(const st_arg *arg, hpt_value v, char *why, size_t n, const char **hint)
{
    if (v.type != V_LIST) return check_int(arg, v, why, n, hint);
    if (v.u.list.n != 2 || !is_int(v.u.list.items[0]) || !is_int(v.u.list.items[1])) {
        snprintf(why, n, "must be an int or a pair of ints");
        return -1;
    }
    for (int k = 0; k < 2; k++) {
        long long x = (long long)v.u.list.items[k].u.i;
        if (x < arg->min || x > arg->max) {
            snprintf(why, n, "must be %s %g, but one of its sizes is %lld", x < arg->min ? "at least" : "at most",
                     x < arg->min ? arg->min : arg->max, x);
            return -1;
        }
    }
    return 0;
}

/* T_PADDING: an int pair (T_INT_PAIR), or a pair of them, ((top, bottom), (left, right)). */
static int check_padding(const st_arg *arg, hpt_value v, char *why, size_t n, const char **hint)
{
    if (v.type != V_LIST || v.u.list.n != 2 || v.u.list.items[0].type != V_LIST) return check_int_pair(arg, v, why, n, hint);
    for (int k = 0; k < 2; k++) {
        hpt_value side = v.u.list.items[k];
        if (side.type != V_LIST || check_int_pair(arg, side, why, n, hint)) {
            snprintf(why, n, "must be an int, a pair of ints, or ((top, bottom), (left, right)) of ints from %g to %g",
                     arg->min, arg->max);
            return -1;
        }
    }
    return 0;
}

/* T_ACTIVATION: an activation's name, or None (linear). */
static int check_activation(const st_arg *arg, hpt_value v, char *why, size_t n, const char **hint)
{
    if (v.type == V_NONE) return 0;
    if (v.type != V_STRING) return wrong_type(arg, v, why, n);
    if (st_find(ST_ACTIVATION, v.u.s)) return 0;
    const char *near = st_suggest(ST_ACTIVATION, v.u.s, NULL);
    if (near) snprintf(why, n, "names no activation: \"%s\" (did you mean \"%s\"?)", v.u.s, near);
    else snprintf(why, n, "names no activation: \"%s\" (they are relu, tanh, sigmoid, gelu, softmax, linear)", v.u.s);
    return -1;
}

/* T_OPTIMIZER, T_LOSS: an object of that kind, or its name. */
static int check_object_or_name(const st_arg *arg, hpt_value v, char *why, size_t n, const char **hint)
{
    int kind = arg->type == T_OPTIMIZER ? ST_OPTIMIZER : ST_LOSS;
    if (v.type == V_OBJECT && (int)v.u.object.entry->kind == kind) return 0;
    if (v.type == V_STRING) {
        if (st_find(kind, v.u.s)) return 0;
        const char *near = st_suggest(kind, v.u.s, NULL);
        if (near) snprintf(why, n, "names no %s: \"%s\" (did you mean \"%s\"?)", st_kind_name(kind), v.u.s, near);
        else snprintf(why, n, "names no %s: \"%s\"", st_kind_name(kind), v.u.s);
        return -1;
    }
    snprintf(why, n, "must be %s %s or its name", kind == ST_OPTIMIZER ? "an" : "a", st_kind_name(kind));
    return -1;
}

/* T_METRICS: a list of metric names. */
static int check_metrics(const st_arg *arg, hpt_value v, char *why, size_t n, const char **hint)
{
    if (v.type != V_LIST) return wrong_type(arg, v, why, n);
    for (int k = 0; k < v.u.list.n; k++) {
        hpt_value m = v.u.list.items[k];
        if (m.type != V_STRING || !st_find(ST_METRIC, m.u.s)) {
            snprintf(why, n, "must list metric names such as \"accuracy\"");
            return -1;
        }
    }
    return 0;
}

/* T_CALLBACKS: a list of callback objects. */
static int check_callbacks(const st_arg *arg, hpt_value v, char *why, size_t n, const char **hint)
{
    if (v.type != V_LIST) return wrong_type(arg, v, why, n);
    for (int k = 0; k < v.u.list.n; k++)
        if (v.u.list.items[k].type != V_OBJECT || v.u.list.items[k].u.object.entry->kind != ST_CALLBACK) {
            snprintf(why, n, "must list callbacks such as EarlyStopping(...)");
            return -1;
        }
    return 0;
}

/* T_DATA: a data source object. */
static int check_data(const st_arg *arg, hpt_value v, char *why, size_t n, const char **hint)
{
    if (v.type == V_OBJECT && v.u.object.entry->kind == ST_DATA) return 0;
    snprintf(why, n, "must be a data source such as csv(...)");
    return -1;
}

/* T_FEATURES, scikit-learn's max_features: a rule's name (the choices), a
 * count, or a fraction of the features. */
static int check_features(const st_arg *arg, hpt_value v, char *why, size_t n, const char **hint)
{
    if (v.type == V_STRING) {
        if (st_choice_ok(arg->choices, v.u.s)) return 0;
        for (const char *p = arg->choices; p && *p;) {
            const char *bar = strchr(p, '|');
            size_t len = bar ? (size_t)(bar - p) : strlen(p);
            char word[32];
            snprintf(word, sizeof word, "%.*s", (int)len, p);
            if (st_edit_distance(v.u.s, word, 2) <= 2) {
                snprintf(why, n, "must be \"sqrt\", \"log2\", a count, a fraction or None, not \"%s\" (did you mean \"%s\"?)",
                         v.u.s, word);
                return -1;
            }
            p = bar ? bar + 1 : NULL;
        }
        snprintf(why, n, "must be \"sqrt\", \"log2\", a count, a fraction or None, not \"%s\"", v.u.s);
        return -1;
    }
    if (is_int(v)) {
        if (v.u.i >= 1) return 0;
        snprintf(why, n, "must be a count of at least 1, but it is %lld", (long long)v.u.i);
        return -1;
    }
    if (v.type == V_FLOAT) {
        if (v.u.f > 0 && v.u.f <= 1) return 0;
        snprintf(why, n, "must be a fraction in (0, 1] as a float, but it is %g", v.u.f);
        return -1;
    }
    return wrong_type(arg, v, why, n);
}

/* T_SPLITTER: a number of folds in the range, or a splitter object. */
static int check_splitter(const st_arg *arg, hpt_value v, char *why, size_t n, const char **hint)
{
    if (v.type == V_OBJECT && v.u.object.entry->kind == ST_SPLITTER) return 0;
    if (!is_int(v)) {
        snprintf(why, n, "must be a number of folds or StratifiedKFold(...)");
        return -1;
    }
    return check_range(arg, v, why, n);
}

/* T_FLOAT_PAIR, an augmentation factor as Keras takes it: f >= 0 for the
 * range (-f, f), or a pair (lower, upper) with lower <= upper; each bound
 * within the argument's range. */
static int check_float_pair(const st_arg *arg, hpt_value v, char *why, size_t n, const char **hint)
{
    double lo, hi;
    if (value_is_number(v)) {
        hi = value_as_double(v), lo = -hi;
        if (!(hi >= 0)) {
            snprintf(why, n, "must not be negative alone (f means the range (-f, f)), but it is %g", hi);
            *hint = "give a (lower, upper) pair for a range that is not symmetric";
            return -1;
        }
    } else if (v.type == V_LIST && v.u.list.n == 2 && value_is_number(v.u.list.items[0]) &&
               value_is_number(v.u.list.items[1])) {
        lo = value_as_double(v.u.list.items[0]), hi = value_as_double(v.u.list.items[1]);
        if (!(lo <= hi)) {
            snprintf(why, n, "must have lower <= upper, but it is (%g, %g)", lo, hi);
            return -1;
        }
    } else {
        return wrong_type(arg, v, why, n);
    }
    if (!isfinite(lo) || !isfinite(hi) || (!isnan(arg->min) && lo < arg->min) || (!isnan(arg->max) && hi > arg->max)) {
        char range[64];
        if (isnan(arg->min) && isnan(arg->max)) snprintf(range, sizeof range, "finite");
        else if (isnan(arg->max)) snprintf(range, sizeof range, "at least %g", arg->min);
        else if (isnan(arg->min)) snprintf(range, sizeof range, "at most %g", arg->max);
        else snprintf(range, sizeof range, "between %g and %g", arg->min, arg->max);
        snprintf(why, n, "must have bounds %s, but its range is (%g, %g)", range, lo, hi);
        return -1;
    }
    return 0;
}

/* T_NUMBERS: a non-empty list of numbers, each in the range. */
static int check_numbers(const st_arg *arg, hpt_value v, char *why, size_t n, const char **hint)
{
    if (v.type != V_LIST || v.u.list.n == 0) return wrong_type(arg, v, why, n);
    for (int k = 0; k < v.u.list.n; k++) {
        if (!value_is_number(v.u.list.items[k])) return wrong_type(arg, v, why, n);
        if (check_range(arg, v.u.list.items[k], why, n)) return -1;
    }
    return 0;
}

/* PiecewiseConstantDecay(boundaries, values): increasing boundaries and one
 * value more than boundaries, as Keras requires. */
static int check_piecewise(const hpt_value *a, char *why, size_t n)
{
    hpt_value b = a[PiecewiseConstantDecay_boundaries], v = a[PiecewiseConstantDecay_values];
    if (b.type != V_LIST || v.type != V_LIST) return 0;    /* each argument was checked on its own */
    if (v.u.list.n != b.u.list.n + 1) {
        snprintf(why, n, "is a PiecewiseConstantDecay of %d values for %d boundaries; it needs one value more than "
                 "boundaries", v.u.list.n, b.u.list.n);
        return -1;
    }
    if (b.u.list.n > 64) {
        snprintf(why, n, "PiecewiseConstantDecay takes at most 64 boundaries, not %d", b.u.list.n);
        return -1;
    }
    for (int k = 1; k < b.u.list.n; k++)
        if (!(value_as_double(b.u.list.items[k]) > value_as_double(b.u.list.items[k - 1]))) {
            snprintf(why, n, "PiecewiseConstantDecay's boundaries must increase, but boundary %d is not above the one "
                     "before it", k + 1);
            return -1;
        }
    return 0;
}

/* T_LR: a learning rate in the range, or a learning-rate schedule object. */
static int check_lr(const st_arg *arg, hpt_value v, char *why, size_t n, const char **hint)
{
    if (v.type == V_OBJECT && v.u.object.entry->kind == ST_SCHEDULE)
        return v.u.object.entry->id == ST_PiecewiseConstantDecay ? check_piecewise(v.u.object.args, why, n) : 0;
    return value_is_number(v) ? check_range(arg, v, why, n) : wrong_type(arg, v, why, n);
}

/* T_OBJECTIVE: a name, or Objective(...) / Pareto(...); sema.c checks the names. */
static int check_objective_arg(const st_arg *arg, hpt_value v, char *why, size_t n, const char **hint)
{
    if (v.type == V_OBJECT && v.u.object.entry->kind == ST_OBJECTIVE) return 0;
    if (v.type == V_STRING) return check_string(arg, v, why, n, hint);
    if (v.type == V_LIST) return 0;     /* Keras Tuner's list, summed; its items are sema.c's */
    return wrong_type(arg, v, why, n);
}

/* One checker per argument type of the catalogue. */
static int (*const checkers[])(const st_arg *, hpt_value, char *, size_t, const char **) = {
    [T_INT] = check_int, [T_FLOAT] = check_float, [T_BOOL] = check_bool, [T_STRING] = check_string,
    [T_SHAPE] = check_shape, [T_INT_PAIR] = check_int_pair, [T_ACTIVATION] = check_activation,
    [T_OPTIMIZER] = check_object_or_name, [T_LOSS] = check_object_or_name, [T_METRICS] = check_metrics,
    [T_CALLBACKS] = check_callbacks, [T_DATA] = check_data, [T_SPLITTER] = check_splitter,
    [T_FEATURES] = check_features, [T_FLOAT_PAIR] = check_float_pair,
    [T_PADDING] = check_padding,
    [T_LR] = check_lr, [T_NUMBERS] = check_numbers,
    [T_OBJECTIVE] = check_objective_arg,
};

/* Does v fit arg?  0, or -1 with why it does not (and perhaps a hint). */
static int check_value(const st_arg *arg, hpt_value v, char *why, size_t n, const char **hint)
{
    *hint = NULL;
    if (v.type == V_NONE && (arg->flags & A_NONE_OK)) return 0;
    return checkers[arg->type](arg, v, why, n, hint);
}

typedef struct arg_check {
    sema *s;
    const st_entry *entry;
    const st_arg *arg;
    const ir_expr *e;
    const ast *node;
    const int *hps;         /* the hyperparameters e reads */
    int n_hps;
    int failed;
} arg_check;

static int arg_check_one(void *user, hpt_value *values)
{
    arg_check *c = user;
    ir_assignment as = { values, c->s->p->n_hps };
    arena scratch = { 0 };
    hpt_value v;
    char why[400], with[300];
    const char *hint = NULL;
    int bad = 0;
    if (ir_eval(c->s->p, c->e, &as, &scratch, &v, why, sizeof why) == 0)
        bad = check_value(c->arg, v, why, sizeof why, &hint) != 0;
    else
        bad = 1;
    if (bad) {
        sema_describe_assignment(c->s->p, c->hps, c->n_hps, values, with, sizeof with);
        diag_error(c->s->d, c->node->start, c->node->end, "%s argument '%s' %s%s%s", c->entry->name, c->arg->name,
                   why, *with ? " when " : "", with);
        if (hint) diag_hint(c->s->d, "%s", hint);
        c->failed = 1;
    }
    arena_free(&scratch);
    return bad;
}

/* Check e (the value given for entry's argument k) over its hyperparameters;
 * false when some value fails (reported). */
bool sema_check_arg(sema *s, const st_entry *entry, int k, const ir_expr *e, const ast *node)
{
    const st_arg *arg = &entry->args[k];
    if (!e) return false;
    if ((arg->flags & A_CONST) && sema_depends_on_hp(e)) {
        diag_error(s->d, node->start, node->end, "%s argument '%s' must be a constant, not a hyperparameter",
                   entry->name, arg->name);
        diag_hint(s->d, "%s", entry->kind == ST_TUNER ? "the tuner's settings hold for the whole search; search over the model, compile and search(...) instead"
                                                        : "this setting is fixed before any trial runs");
        return false;
    }
    /* Only the hyperparameters e reads vary; the scratch assignment is None elsewhere. */
    int list[64], n = 0;
    sema_collect(e, list, &n, 64);
    s->p->n_hps = s->n_hps;  /* the evaluator reads names through p */
    s->p->hps = s->hps;
    arg_check c = { s, entry, arg, e, node, list, n, 0 };
    sema_enumerate(s->p, list, n, s->values, ENUM_CAP, arg_check_one, &c);
    for (int j = 0; j < n; j++) s->values[list[j]] = value_none();
    return !c.failed;
}
