/* sema.c: from the AST to a checked IR (see sema.h).
 *
 * Invariants kept while walking:
 *   - s->guard is the condition under which the current model item exists
 *     (NULL = always): `if` conjoins its test, each unrolled `for` iteration
 *     conjoins `bound > i`.  Every hyperparameter defined or referenced under a
 *     guard collects that guard; its condition is the disjunction of them.
 *   - An expression is lowered once, constant-folded where its operands are
 *     constant, and then checked against the catalogue argument it feeds by
 *     evaluating it over the values of the hyperparameters it depends on, so a
 *     range or type error names the values that cause it.
 *   - Errors are reported and lowering goes on with a NULL expression, which
 *     every consumer tolerates, so one run reports every error. */
#include "compiler/sema.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct constant {
    const char *name;
    ir_expr *value;             /* NULL when its definition had errors */
    const ast *node;
    int used;
    struct constant *next;
} constant;

typedef struct loopvar {
    const char *name;
    int64_t value;
    struct loopvar *outer;
} loopvar;

typedef struct hp_info {
    const ast *def;             /* the hp.X(...) call that first defined it */
    ir_expr *condition;         /* disjunction of the guards seen so far */
    bool always;                /* referenced at least once unguarded */
} hp_info;

typedef struct sema {
    ir_program *p;
    diag_ctx *d;
    arena *a;
    constant *constants;
    loopvar *loops;
    ir_hp *hps;
    hp_info *info;
    int n_hps, cap_hps;
    ir_call *layers;
    int n_layers, cap_layers;
    int layer_counts[ST_COUNT];
    ir_expr *guard;
    const ast *model, *data, *compile, *search, *tuner;
    const ast *search_args[search_nargs];   /* where each search() argument was written */
    long unrolled;              /* layers produced by unrolling, to stop runaway specs */
    int syntax_errors;
} sema;

enum { ENUM_CAP = 4096, MAX_UNROLLED = 100000, MAX_LOOP = 1000 };

/* ---- small helpers ------------------------------------------------------ */

static ir_expr *new_expr(sema *s, ir_xop op)
{
    ir_expr *e = ARENA_NEW(s->a, ir_expr);
    if (e) e->op = op;
    return e;
}

static ir_expr *const_expr(sema *s, hpt_value v)
{
    ir_expr *e = new_expr(s, X_CONST);
    if (e) e->value = v;
    return e;
}

static ir_expr *binary(sema *s, ir_xop op, ir_expr *x, ir_expr *y)
{
    ir_expr *e = new_expr(s, op);
    if (e) e->a = x, e->b = y;
    return e;
}

/* guard && c, where either may be NULL (= true). */
static ir_expr *conjoin(sema *s, ir_expr *g, ir_expr *c)
{
    if (!g) return c;
    if (!c) return g;
    return binary(s, X_AND, g, c);
}

static ir_expr *negate(sema *s, ir_expr *c)
{
    ir_expr *e = new_expr(s, X_NOT);
    if (e) e->a = c;
    return e;
}

/* The dotted name of a callee ("hp.Int", "datasets.fashion_mnist"), or NULL. */
static const char *path_text(sema *s, const ast *n)
{
    if (!n) return NULL;
    if (n->kind == AST_NAME) return n->text;
    if (n->kind == AST_ATTR) {
        const char *left = path_text(s, n->a);
        return left ? arena_printf(s->a, "%s.%s", left, n->text) : NULL;
    }
    return NULL;
}

/* A constant expression tree (X_CONST, or lists of them) as a value. */
static bool const_value(sema *s, const ir_expr *e, hpt_value *out)
{
    if (!e) return false;
    if (e->op == X_CONST) {
        *out = e->value;
        return true;
    }
    if (e->op != X_LIST) return false;
    hpt_value *items = ARENA_ARRAY(s->a, hpt_value, e->n_items ? e->n_items : 1);
    if (!items) return false;
    for (int k = 0; k < e->n_items; k++)
        if (!const_value(s, e->items[k], &items[k])) return false;
    *out = (hpt_value){ .type = V_LIST, .tuple = e->tuple, .u.list = { items, e->n_items } };
    return true;
}

void sema_collect_hps(const ir_expr *e, char *set)
{
    if (!e) return;
    if (e->op == X_HP) set[e->hp] = 1;
    sema_collect_hps(e->a, set);
    sema_collect_hps(e->b, set);
    for (int k = 0; k < e->n_items; k++) sema_collect_hps(e->items[k], set);
}

static bool depends_on_hp(const ir_expr *e)
{
    if (!e) return false;
    if (e->op == X_HP) return true;
    if (depends_on_hp(e->a) || depends_on_hp(e->b)) return true;
    for (int k = 0; k < e->n_items; k++)
        if (depends_on_hp(e->items[k])) return true;
    return false;
}

/* "'units' = 32, 'pool' = True" for the hyperparameters in set. */
static void describe_assignment(const ir_program *p, const char *set, const hpt_value *values, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    for (int k = 0; k < p->n_hps && len + 1 < n; k++) {
        if (!set[k] || values[k].type == V_NONE) continue;
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
     * in sizes, so the ends are where they break). */
    double product = 1;
    int complete = 1;
    for (int k = 0; k < n; k++) {
        const ir_hp *h = &p->hps[hps[k]];
        long card = ir_hp_cardinality(h);
        choices[k] = choices_store + 64 * k;
        if (card > 0 && card <= 64) counts[k] = ir_hp_values(h, choices[k], 64);
        else counts[k] = 0;
        product *= counts[k] ? counts[k] : 2;
    }
    for (int k = 0; k < n; k++) {
        const ir_hp *h = &p->hps[hps[k]];
        if (counts[k] && product <= (double)cap) continue;
        if (counts[k] <= 2 && counts[k]) continue;
        if (h->kind == HP_INT || h->kind == HP_FLOAT) {
            product = product / (counts[k] ? counts[k] : 2) * 2;
            hpt_value all[64];
            int got = ir_hp_values(h, all, 64);
            choices[k][0] = h->min;
            /* the largest admitted value: the max itself unless a step skips it */
            long card = ir_hp_cardinality(h);
            if (card > 0 && card <= 64 && got > 0) choices[k][1] = all[got - 1];
            else if (card > 64 && h->step.type != V_NONE) {
                double lo = value_as_double(h->min), st = value_as_double(h->step);
                double top = h->sampling == SAMPLING_LOG ? lo * pow(st, (double)(card - 1)) : lo + st * (double)(card - 1);
                choices[k][1] = h->kind == HP_INT ? value_int((int64_t)llround(top)) : value_float(top);
            } else choices[k][1] = h->max;
            counts[k] = 2;
            complete = 0;
        }
    }
    enum_state st = { hps, n, choices, counts, values, cap, fn, user };
    int rc = enum_rec(&st, 0);
    if (rc == 2) complete = 0;
    free(choices_store), free(choices), free(counts);
    return complete;
}

/* ---- checking a value against a catalogue argument ---------------------- */

static bool is_int(hpt_value v) { return v.type == V_INT; }

static int check_value(const st_arg *arg, hpt_value v, char *why, size_t n)
{
    if (v.type == V_NONE && (arg->flags & A_NONE_OK)) return 0;
    switch (arg->type) {
    case T_INT:
        if (!is_int(v)) goto wrong_type;
        break;
    case T_FLOAT:
        if (!value_is_number(v)) goto wrong_type;
        break;
    case T_BOOL:
        if (v.type != V_BOOL) goto wrong_type;
        return 0;
    case T_STRING:
        if (v.type != V_STRING) goto wrong_type;
        if (arg->choices && !st_choice_ok(arg->choices, v.u.s)) {
            snprintf(why, n, "must be one of %s, not \"%s\"", arg->choices, v.u.s);
            return -1;
        }
        return 0;
    case T_SHAPE:
        if (v.type != V_LIST) goto wrong_type;
        if (v.u.list.n < 1 || v.u.list.n > 3) {
            snprintf(why, n, "must have 1 to 3 axes, not %d", v.u.list.n);
            return -1;
        }
        for (int k = 0; k < v.u.list.n; k++)
            if (!is_int(v.u.list.items[k]) || v.u.list.items[k].u.i < 1 || v.u.list.items[k].u.i > 1000000) {
                snprintf(why, n, "must list positive integer sizes");
                return -1;
            }
        return 0;
    case T_INT_PAIR:
        if (v.type == V_LIST) {
            if (v.u.list.n != 2 || !is_int(v.u.list.items[0]) || !is_int(v.u.list.items[1])) {
                snprintf(why, n, "must be an int or a pair of ints");
                return -1;
            }
            for (int k = 0; k < 2; k++)
                if (v.u.list.items[k].u.i < arg->min || v.u.list.items[k].u.i > arg->max) {
                    snprintf(why, n, "must be at least %g, not %lld", arg->min, (long long)v.u.list.items[k].u.i);
                    return -1;
                }
            return 0;
        }
        if (!is_int(v)) goto wrong_type;
        break;
    case T_ACTIVATION:
        if (v.type == V_NONE) return 0;
        if (v.type != V_STRING) goto wrong_type;
        if (!st_find(ST_ACTIVATION, v.u.s)) {
            const char *near = st_suggest(ST_ACTIVATION, v.u.s, NULL);
            if (near) snprintf(why, n, "names no activation: \"%s\" (did you mean \"%s\"?)", v.u.s, near);
            else snprintf(why, n, "names no activation: \"%s\"", v.u.s);
            return -1;
        }
        return 0;
    case T_OPTIMIZER:
    case T_LOSS: {
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
    case T_METRICS:
        if (v.type != V_LIST) goto wrong_type;
        for (int k = 0; k < v.u.list.n; k++) {
            hpt_value m = v.u.list.items[k];
            if (m.type != V_STRING || !st_find(ST_METRIC, m.u.s)) {
                snprintf(why, n, "must list metric names such as \"accuracy\"");
                return -1;
            }
        }
        return 0;
    case T_CALLBACKS:
        if (v.type != V_LIST) goto wrong_type;
        for (int k = 0; k < v.u.list.n; k++)
            if (v.u.list.items[k].type != V_OBJECT || v.u.list.items[k].u.object.entry->kind != ST_CALLBACK) {
                snprintf(why, n, "must list callbacks such as EarlyStopping(...)");
                return -1;
            }
        return 0;
    case T_DATA:
        if (v.type != V_OBJECT || v.u.object.entry->kind != ST_DATA) {
            snprintf(why, n, "must be a data source such as csv(...)");
            return -1;
        }
        return 0;
    case T_SPLITTER:
        if (v.type == V_OBJECT && v.u.object.entry->kind == ST_SPLITTER) return 0;
        if (!is_int(v)) {
            snprintf(why, n, "must be a number of folds or StratifiedKFold(...)");
            return -1;
        }
        break;
    }
    /* Numbers: the range. */
    double x = value_as_double(v);
    if (!isnan(arg->min) && x < arg->min) {
        snprintf(why, n, "must be at least %g, not %g", arg->min, x);
        return -1;
    }
    if (!isnan(arg->max) && ((arg->flags & A_HI_OPEN) ? x >= arg->max : x > arg->max)) {
        snprintf(why, n, "must be %s %g, not %g", (arg->flags & A_HI_OPEN) ? "below" : "at most", arg->max, x);
        return -1;
    }
    return 0;
wrong_type:;
    static const char *const type_words[] = {
        [T_INT] = "an int", [T_FLOAT] = "a number", [T_BOOL] = "True or False", [T_STRING] = "a string",
        [T_SHAPE] = "a shape such as [28, 28]", [T_INT_PAIR] = "an int or a pair of ints",
        [T_ACTIVATION] = "an activation name", [T_METRICS] = "a list of metric names",
        [T_CALLBACKS] = "a list of callbacks", [T_DATA] = "a data source", [T_SPLITTER] = "a number of folds",
        [T_OPTIMIZER] = "an optimizer", [T_LOSS] = "a loss",
    };
    snprintf(why, n, "must be %s, not %s", type_words[arg->type],
             v.type == V_OBJECT ? v.u.object.entry->name : value_type_name(v.type));
    return -1;
}

typedef struct arg_check {
    sema *s;
    const st_entry *entry;
    const st_arg *arg;
    const ir_expr *e;
    const ast *node;
    const char *set;
    int failed;
} arg_check;

static int arg_check_one(void *user, hpt_value *values)
{
    arg_check *c = user;
    ir_assignment as = { values, c->s->p->n_hps };
    arena scratch = { 0 };
    hpt_value v;
    char why[300], with[300];
    int bad = 0;
    if (ir_eval(c->s->p, c->e, &as, &scratch, &v, why, sizeof why) == 0)
        bad = check_value(c->arg, v, why, sizeof why) != 0;
    else
        bad = 1;
    if (bad) {
        describe_assignment(c->s->p, c->set, values, with, sizeof with);
        diag_error(c->s->d, c->node->start, c->node->end, "%s argument '%s' %s%s%s", c->entry->name, c->arg->name,
                   why, *with ? ", with " : "", with);
        c->failed = 1;
    }
    arena_free(&scratch);
    return bad;
}

/* Check e (the value given for entry's argument k) over its hyperparameters. */
static void check_arg(sema *s, const st_entry *entry, int k, const ir_expr *e, const ast *node)
{
    const st_arg *arg = &entry->args[k];
    if (!e) return;
    if ((arg->flags & A_CONST) && depends_on_hp(e)) {
        diag_error(s->d, node->start, node->end, "%s argument '%s' must be a constant, not a hyperparameter",
                   entry->name, arg->name);
        return;
    }
    char *set = calloc((size_t)s->n_hps + 1, 1);
    int *list = malloc(sizeof(int) * ((size_t)s->n_hps + 1));
    hpt_value *values = calloc((size_t)s->n_hps + 1, sizeof *values);
    if (set && list && values) {
        sema_collect_hps(e, set);
        int n = 0;
        for (int j = 0; j < s->n_hps; j++)
            if (set[j]) list[n++] = j;
        s->p->n_hps = s->n_hps;  /* the evaluator reads names through p */
        s->p->hps = s->hps;
        arg_check c = { s, entry, arg, e, node, set, 0 };
        sema_enumerate(s->p, list, n, values, ENUM_CAP, arg_check_one, &c);
    }
    free(set), free(list), free(values);
}

/* ---- hyperparameters ---------------------------------------------------- */

static const char *const hp_params[][6] = {
    [HP_INT] = { "name", "min_value", "max_value", "step", "sampling", "default" },
    [HP_FLOAT] = { "name", "min_value", "max_value", "step", "sampling", "default" },
    [HP_CHOICE] = { "name", "values", "ordered", "default" },
    [HP_BOOLEAN] = { "name", "default" },
    [HP_FIXED] = { "name", "value" },
};
static const char *const hp_func_names[] = { "Int", "Float", "Choice", "Boolean", "Fixed" };

static bool same_definition(const ir_hp *x, const ir_hp *y)
{
    if (x->kind != y->kind || x->sampling != y->sampling || x->ordered != y->ordered) return false;
    if (!value_equal(x->min, y->min) || !value_equal(x->max, y->max) || !value_equal(x->step, y->step)) return false;
    if (x->step.type != y->step.type || !value_equal(x->default_value, y->default_value)) return false;
    if (x->n_values != y->n_values) return false;
    for (int k = 0; k < x->n_values; k++)
        if (!value_equal(x->values[k], y->values[k])) return false;
    return true;
}

static ir_expr *lower_expr(sema *s, const ast *n);

/* Note that hyperparameter k is used under the current guard. */
static void use_hp(sema *s, int k)
{
    hp_info *info = &s->info[k];
    if (info->always) return;
    if (!s->guard) {
        info->always = true;
        info->condition = NULL;
        return;
    }
    info->condition = info->condition ? binary(s, X_OR, info->condition, s->guard) : s->guard;
}

/* hp.Int(...) and friends: bind arguments, validate, find or register. */
static ir_expr *lower_hp(sema *s, const ast *call, const char *func)
{
    int kind = -1;
    for (int k = 0; k < 5; k++)
        if (!strcmp(func, hp_func_names[k])) kind = k;
    if (kind < 0) {
        const char *near = NULL;
        for (int k = 0; k < 5; k++)
            if (st_edit_distance(func, hp_func_names[k], 2) <= 2) near = hp_func_names[k];
        diag_error(s->d, call->a->start, call->a->end, "unknown hyperparameter type 'hp.%s'", func);
        if (near) diag_hint(s->d, "did you mean 'hp.%s'?", near);
        else diag_hint(s->d, "the types are hp.Int, hp.Float, hp.Choice, hp.Boolean and hp.Fixed");
        return NULL;
    }
    const char *const *params = hp_params[kind];
    int n_params = 0;
    while (n_params < 6 && params[n_params]) n_params++;
    hpt_value got[6];
    const ast *where[6] = { 0 };
    bool ok = true, seen_kw = false;
    int pos = 0;
    for (const ast *arg = call->first; arg; arg = arg->next) {
        int slot = -1;
        const ast *value = arg;
        if (arg->kind == AST_KWARG) {
            seen_kw = true;
            value = arg->a;
            for (int k = 0; k < n_params; k++)
                if (!strcmp(params[k], arg->text)) slot = k;
            if (slot < 0) {
                const char *near = NULL;
                for (int k = 0; k < n_params; k++)
                    if (st_edit_distance(arg->text, params[k], 2) <= 2) near = params[k];
                diag_error(s->d, arg->start, arg->start + (uint32_t)strlen(arg->text),
                           "hp.%s has no argument '%s'", func, arg->text);
                if (near) diag_hint(s->d, "did you mean '%s'?", near);
                ok = false;
                continue;
            }
        } else {
            if (seen_kw) {
                diag_error(s->d, arg->start, arg->end, "positional argument after keyword arguments");
                ok = false;
                continue;
            }
            slot = pos++;
            if (slot >= n_params) {
                diag_error(s->d, arg->start, arg->end, "hp.%s takes at most %d arguments", func, n_params);
                ok = false;
                continue;
            }
        }
        if (where[slot]) {
            diag_error(s->d, arg->start, arg->end, "argument '%s' given twice", params[slot]);
            ok = false;
            continue;
        }
        where[slot] = value;
        ir_expr *e = lower_expr(s, value);
        if (!e) { ok = false; continue; }
        if (!const_value(s, e, &got[slot])) {
            diag_error(s->d, value->start, value->end, "hp.%s argument '%s' must be a constant", func, params[slot]);
            ok = false;
        }
    }
    if (!ok) return NULL;
    int needed = kind == HP_INT || kind == HP_FLOAT ? 3 : kind == HP_BOOLEAN ? 1 : 2;
    for (int k = 0; k < needed; k++)
        if (!where[k]) {
            diag_error(s->d, call->start, call->end, "hp.%s is missing its '%s' argument", func, params[k]);
            return NULL;
        }
    if (got[0].type != V_STRING || !got[0].u.s[0]) {
        diag_error(s->d, where[0]->start, where[0]->end, "a hyperparameter's name must be a non-empty string");
        return NULL;
    }
    ir_hp h = { .name = got[0].u.s, .kind = kind, .step = value_none(), .default_value = value_none(),
                .span = { call->start, call->end } };
#define FAIL_AT(k, ...) do { diag_error(s->d, where[k] ? where[k]->start : call->start, \
                                        where[k] ? where[k]->end : call->end, __VA_ARGS__); return NULL; } while (0)
    if (kind == HP_INT || kind == HP_FLOAT) {
        for (int k = 1; k <= 3; k++) {
            if (!where[k]) continue;
            bool good = kind == HP_INT ? got[k].type == V_INT : value_is_number(got[k]);
            if (!good) FAIL_AT(k, "hp.%s %s must be %s", func, params[k], kind == HP_INT ? "an int" : "a number");
        }
        h.min = got[1], h.max = got[2];
        if (kind == HP_FLOAT) h.min = value_float(value_as_double(h.min)), h.max = value_float(value_as_double(h.max));
        if (where[3]) h.step = kind == HP_FLOAT ? value_float(value_as_double(got[3])) : got[3];
        if (where[4]) {
            if (got[4].type != V_STRING || !st_choice_ok("linear|log|reverse_log", got[4].u.s))
                FAIL_AT(4, "sampling must be \"linear\", \"log\" or \"reverse_log\"");
            h.sampling = got[4].u.s[0] == 'l' ? (got[4].u.s[1] == 'i' ? SAMPLING_LINEAR : SAMPLING_LOG)
                                              : SAMPLING_REVERSE_LOG;
        }
        double lo = value_as_double(h.min), hi = value_as_double(h.max);
        if (lo > hi) {
            diag_error(s->d, where[1]->start, where[2]->end, "min_value (%g) is greater than max_value (%g)", lo, hi);
            diag_hint(s->d, "max_value is inclusive; swap the two bounds");
            return NULL;
        }
        if (h.sampling != SAMPLING_LINEAR && lo <= 0) {
            FAIL_AT(where[4] ? 4 : 1, "%s sampling needs min_value > 0, but min_value is %g",
                    h.sampling == SAMPLING_LOG ? "log" : "reverse_log", lo);
        }
        if (h.step.type != V_NONE) {
            double st = value_as_double(h.step);
            if (h.sampling == SAMPLING_LOG ? st <= 1 : st <= 0)
                FAIL_AT(3, "step must be %s, not %g", h.sampling == SAMPLING_LOG ? "greater than 1 under log sampling (it multiplies)" : "positive", st);
        }
        h.default_value = where[5] ? got[5] : h.min;
        if (kind == HP_FLOAT && value_is_number(h.default_value)) h.default_value = value_float(value_as_double(h.default_value));
    } else if (kind == HP_CHOICE) {
        if (got[1].type != V_LIST) FAIL_AT(1, "hp.Choice values must be a list, such as [1e-2, 1e-3]");
        if (got[1].u.list.n == 0) FAIL_AT(1, "hp.Choice needs at least one value");
        h.values = (hpt_value *)got[1].u.list.items;
        h.n_values = got[1].u.list.n;
        bool numeric = true;
        for (int k = 0; k < h.n_values; k++) {
            hpt_value v = h.values[k];
            if (v.type == V_LIST || v.type == V_OBJECT || v.type == V_NONE)
                FAIL_AT(1, "hp.Choice values must be numbers, strings or booleans");
            if (!value_is_number(v)) numeric = false;
            if ((value_is_number(v) != value_is_number(h.values[0])) || (!value_is_number(v) && v.type != h.values[0].type))
                FAIL_AT(1, "hp.Choice values must all have one type, but %s and %s are mixed",
                        value_type_name(h.values[0].type), value_type_name(v.type));
            for (int j = 0; j < k; j++)
                if (value_equal(v, h.values[j])) {
                    char text[64];
                    value_format(text, sizeof text, v);
                    FAIL_AT(1, "hp.Choice lists %s twice", text);
                }
        }
        h.ordered = numeric;
        if (where[2]) {
            if (got[2].type != V_BOOL) FAIL_AT(2, "ordered must be True or False");
            if (got[2].u.b && !numeric) FAIL_AT(2, "ordered = True needs numeric values");
            h.ordered = got[2].u.b;
        }
        h.default_value = where[3] ? got[3] : h.values[0];
    } else if (kind == HP_BOOLEAN) {
        h.default_value = where[1] ? got[1] : value_bool(false);
    } else {
        if (got[1].type == V_LIST || got[1].type == V_OBJECT) FAIL_AT(1, "hp.Fixed value must be a number, string or boolean");
        h.values = ARENA_NEW(s->a, hpt_value);
        if (!h.values) return NULL;
        h.values[0] = got[1];
        h.n_values = 1;
        h.default_value = got[1];
    }
    int default_slot = kind == HP_CHOICE ? 3 : kind == HP_BOOLEAN ? 1 : 5;
    if (kind != HP_FIXED && !ir_hp_admits(&h, h.default_value)) {
        char text[64];
        value_format(text, sizeof text, h.default_value);
        FAIL_AT(default_slot, "default %s is not a value of hyperparameter '%s'", text, h.name);
    }
#undef FAIL_AT

    for (int k = 0; k < s->n_hps; k++) {
        if (strcmp(s->hps[k].name, h.name)) continue;
        if (!same_definition(&s->hps[k], &h)) {
            diag_error(s->d, call->start, call->end, "hyperparameter '%s' is redefined differently", h.name);
            diag_note(s->d, s->info[k].def->start, s->info[k].def->end, "'%s' first defined here", h.name);
            diag_hint(s->d, "repeat the same definition to reuse it, or give this one another name");
            return NULL;
        }
        use_hp(s, k);
        ir_expr *e = new_expr(s, X_HP);
        if (e) e->hp = k;
        return e;
    }
    if (s->n_hps == s->cap_hps) {
        int cap = s->cap_hps ? s->cap_hps * 2 : 16;
        ir_hp *hps = realloc(s->hps, sizeof *hps * (size_t)cap);
        hp_info *info = hps ? realloc(s->info, sizeof *info * (size_t)cap) : NULL;
        if (hps) s->hps = hps;
        if (!info) {
            diag_error(s->d, call->start, call->end, "out of memory");
            return NULL;
        }
        s->info = info;
        s->cap_hps = cap;
    }
    s->hps[s->n_hps] = h;
    s->info[s->n_hps] = (hp_info){ .def = call };
    use_hp(s, s->n_hps);
    ir_expr *e = new_expr(s, X_HP);
    if (e) e->hp = s->n_hps;
    s->n_hps++;
    return e;
}

/* ---- expressions -------------------------------------------------------- */

static ir_expr *lower_call(sema *s, const ast *call, const st_entry *entry, ir_expr ***args_out, const ast **arg_nodes);

static ir_expr *lower_fstring(sema *s, const ast *n)
{
    /* f"units_{i}": each {name} is a loop variable or a constant. */
    const char *t = n->text;
    size_t cap = strlen(t) * 2 + 64, len = 0;
    char *out = arena_alloc(s->a, cap);
    if (!out) return NULL;
    for (size_t k = 0; t[k]; k++) {
        if (t[k] == '{' && t[k + 1] == '{') { out[len++] = '{'; k++; continue; }
        if (t[k] == '}' && t[k + 1] == '}') { out[len++] = '}'; k++; continue; }
        if (t[k] != '{') { out[len++] = t[k]; continue; }
        const char *close = strchr(t + k, '}');
        if (!close) {
            diag_error(s->d, n->start, n->end, "f-string has '{' without '}'");
            return NULL;
        }
        char name[64];
        size_t nl = (size_t)(close - (t + k + 1));
        if (nl == 0 || nl >= sizeof name) {
            diag_error(s->d, n->start, n->end, "f-string field must be a name, such as {i}");
            return NULL;
        }
        memcpy(name, t + k + 1, nl);
        name[nl] = 0;
        hpt_value v;
        bool found = false;
        for (loopvar *l = s->loops; l && !found; l = l->outer)
            if (!strcmp(l->name, name)) v = value_int(l->value), found = true;
        for (constant *c = s->constants; c && !found; c = c->next)
            if (!strcmp(c->name, name) && c->value && c->value->op == X_CONST) v = c->value->value, found = true, c->used = 1;
        if (!found) {
            diag_error(s->d, n->start, n->end, "f-string field {%s} is not a loop variable or constant", name);
            return NULL;
        }
        char text[128];
        if (v.type == V_STRING) snprintf(text, sizeof text, "%s", v.u.s);
        else value_format(text, sizeof text, v);
        size_t tl = strlen(text);
        if (len + tl + 1 >= cap) {
            diag_error(s->d, n->start, n->end, "f-string too long");
            return NULL;
        }
        memcpy(out + len, text, tl);
        len += tl;
        k += nl + 1;
    }
    out[len] = 0;
    return const_expr(s, value_string(out));
}

static ir_expr *fold(sema *s, ir_expr *e, const ast *n)
{
    if (!e) return NULL;
    bool all_const = e->a && e->a->op == X_CONST && (!e->b || e->b->op == X_CONST);
    if (!all_const || e->op == X_CONST) return e;
    hpt_value v;
    char why[160];
    arena scratch = { 0 };
    int rc = ir_eval(s->p, e, NULL, &scratch, &v, why, sizeof why);
    arena_free(&scratch);
    if (rc) {
        diag_error(s->d, n->start, n->end, "%s", why);
        return NULL;
    }
    return const_expr(s, v);
}

static const char *const *constant_names(sema *s)
{
    static _Thread_local const char *names[64];
    int k = 0;
    for (loopvar *l = s->loops; l && k < 62; l = l->outer) names[k++] = l->name;
    for (constant *c = s->constants; c && k < 62; c = c->next) names[k++] = c->name;
    names[k] = NULL;
    return names;
}

static ir_expr *lower_expr(sema *s, const ast *n)
{
    if (!n) return NULL;
    switch (n->kind) {
    case AST_INT: return const_expr(s, value_int(n->ival));
    case AST_FLOAT: return const_expr(s, value_float(n->fval));
    case AST_BOOL: return const_expr(s, value_bool(n->ival != 0));
    case AST_NONE: return const_expr(s, value_none());
    case AST_STRING: return const_expr(s, value_string(n->text));
    case AST_FSTRING: return lower_fstring(s, n);
    case AST_NAME: {
        for (loopvar *l = s->loops; l; l = l->outer)
            if (!strcmp(l->name, n->text)) return const_expr(s, value_int(l->value));
        for (constant *c = s->constants; c; c = c->next)
            if (!strcmp(c->name, n->text)) {
                c->used = 1;
                /* A constant holding a hyperparameter uses it here, under this guard. */
                if (c->value) {
                    char *set = calloc((size_t)s->n_hps + 1, 1);
                    if (set) {
                        sema_collect_hps(c->value, set);
                        for (int k = 0; k < s->n_hps; k++)
                            if (set[k]) use_hp(s, k);
                    }
                    free(set);
                }
                return c->value;
            }
        if (st_find(ST_ACTIVATION, n->text) || st_find(ST_METRIC, n->text)) {
            diag_error(s->d, n->start, n->end, "unknown name '%s'", n->text);
            diag_hint(s->d, "names of activations, losses and metrics are strings: \"%s\"", n->text);
            return NULL;
        }
        diag_error(s->d, n->start, n->end, "unknown name '%s'", n->text);
        const char *near = st_suggest(-1, n->text, constant_names(s));
        if (near) diag_hint(s->d, "did you mean '%s'?", near);
        return NULL;
    }
    case AST_ATTR: {
        const char *path = path_text(s, n);
        diag_error(s->d, n->start, n->end, "'%s' is not a value", path ? path : n->text);
        if (path && st_find(-1, path)) diag_hint(s->d, "call it: %s()", path);
        return NULL;
    }
    case AST_CALL: {
        const char *path = path_text(s, n->a);
        if (!path) {
            diag_error(s->d, n->start, n->end, "only named things can be called");
            return NULL;
        }
        if (!strncmp(path, "hp.", 3)) return lower_hp(s, n, path + 3);
        if (!strcmp(path, "range")) {
            diag_error(s->d, n->start, n->end, "range(...) is only allowed as the bound of a for loop");
            return NULL;
        }
        const st_entry *entry = st_find(-1, path);
        if (!entry) {
            diag_error(s->d, n->a->start, n->a->end, "unknown name '%s'", path);
            const char *near = st_suggest(-1, path, NULL);
            if (near) diag_hint(s->d, "did you mean '%s'?", near);
            return NULL;
        }
        if (entry->kind == ST_LAYER || entry->kind == ST_COMPILE || entry->kind == ST_SEARCH) {
            diag_error(s->d, n->a->start, n->a->end, "%s(...) cannot be used as a value", entry->name);
            if (entry->kind == ST_LAYER) diag_hint(s->d, "layers go inside model { ... }");
            return NULL;
        }
        if (entry->kind == ST_ACTIVATION || entry->kind == ST_METRIC) {
            diag_error(s->d, n->a->start, n->a->end, "'%s' is not called; write it as a string: \"%s\"", entry->name, entry->name);
            return NULL;
        }
        ir_expr **args;
        return lower_call(s, n, entry, &args, NULL);
    }
    case AST_LIST:
    case AST_TUPLE: {
        ir_expr *e = new_expr(s, X_LIST);
        if (!e) return NULL;
        e->tuple = n->kind == AST_TUPLE;
        e->items = ARENA_ARRAY(s->a, ir_expr *, n->n ? n->n : 1);
        bool ok = e->items != NULL;
        int k = 0;
        for (const ast *c = n->first; c && ok; c = c->next) {
            e->items[k] = lower_expr(s, c);
            if (!e->items[k++]) ok = false;
        }
        e->n_items = k;
        return ok ? e : NULL;
    }
    case AST_UNARY: {
        ir_expr *x = lower_expr(s, n->a);
        if (!x) return NULL;
        ir_expr *e = new_expr(s, (ir_xop)n->op);
        if (e) e->a = x;
        return fold(s, e, n);
    }
    case AST_BINARY: {
        ir_expr *x = lower_expr(s, n->a), *y = lower_expr(s, n->b);
        if (!x || !y) return NULL;
        return fold(s, binary(s, (ir_xop)n->op, x, y), n);
    }
    case AST_KWARG:
        diag_error(s->d, n->start, n->end, "'%s = ...' is only allowed inside a call's parentheses", n->text);
        return NULL;
    default:
        diag_error(s->d, n->start, n->end, "expected a value");
        return NULL;
    }
}

/* Bind the arguments of a call to entry's parameters, lower them, check them
 * over the space, and fill in defaults.  Returns an X_OBJECT expression. */
static ir_expr *lower_call(sema *s, const ast *call, const st_entry *entry, ir_expr ***args_out, const ast **arg_nodes)
{
    int n_args = entry->n_args;
    ir_expr **args = ARENA_ARRAY(s->a, ir_expr *, n_args ? n_args : 1);
    const ast **where = calloc((size_t)(n_args ? n_args : 1), sizeof *where);
    if (!args || !where) {
        free(where);
        return NULL;
    }
    bool ok = true, seen_kw = false;
    int pos = 0;
    for (const ast *arg = call->first; arg; arg = arg->next) {
        int slot;
        const ast *value = arg;
        if (arg->kind == AST_KWARG) {
            seen_kw = true;
            value = arg->a;
            slot = st_arg_index(entry, arg->text);
            if (slot < 0) {
                const char *names[64];
                int k = 0;
                for (; k < n_args && k < 63; k++) names[k] = entry->args[k].name;
                names[k] = NULL;
                diag_error(s->d, arg->start, arg->start + (uint32_t)strlen(arg->text),
                           "%s has no argument '%s'", entry->name, arg->text);
                const char *near = st_suggest(ST_KIND_COUNT, arg->text, names);
                if (near) diag_hint(s->d, "did you mean '%s'?", near);
                else if (n_args == 0) diag_hint(s->d, "%s takes no arguments", entry->name);
                ok = false;
                lower_expr(s, value);   /* still check what is inside */
                continue;
            }
        } else {
            if (seen_kw) {
                diag_error(s->d, arg->start, arg->end, "positional argument after keyword arguments");
                ok = false;
                continue;
            }
            slot = pos++;
            /* input_shape is keyword-only in Keras; do not let it eat a stray positional. */
            if (slot >= n_args || !strcmp(entry->args[slot].name, "input_shape")) {
                int max = n_args - (n_args && !strcmp(entry->args[n_args - 1].name, "input_shape"));
                diag_error(s->d, arg->start, arg->end, "%s takes %s%d positional argument%s", entry->name,
                           max ? "at most " : "", max, max == 1 ? "" : "s");
                ok = false;
                continue;
            }
        }
        if (where[slot]) {
            diag_error(s->d, arg->start, arg->end, "argument '%s' given twice", entry->args[slot].name);
            diag_note(s->d, where[slot]->start, where[slot]->end, "first given here");
            ok = false;
            continue;
        }
        where[slot] = value;
        args[slot] = lower_expr(s, value);
        if (!args[slot]) ok = false;
        else check_arg(s, entry, slot, args[slot], value);
    }
    for (int k = 0; k < n_args; k++) {
        if (where[k]) continue;
        if (entry->args[k].flags & A_REQ) {
            diag_error(s->d, call->start, call->end, "%s is missing its required argument '%s'", entry->name,
                       entry->args[k].name);
            diag_hint(s->d, "%s: %s", entry->args[k].name, entry->args[k].doc);
            ok = false;
        }
        args[k] = const_expr(s, entry->args[k].default_value);
    }
    if (arg_nodes)
        for (int k = 0; k < n_args; k++) arg_nodes[k] = where[k];
    free(where);
    *args_out = args;
    if (!ok) return NULL;
    ir_expr *e = new_expr(s, X_OBJECT);
    if (!e) return NULL;
    e->entry = entry;
    e->items = args;
    e->n_items = n_args;
    return e;
}

/* ---- the model ---------------------------------------------------------- */

static const char *snake_name(sema *s, const st_entry *e)
{
    static const char *const names[ST_COUNT] = {
        [ST_Input] = "input_layer", [ST_Flatten] = "flatten", [ST_Dense] = "dense", [ST_Dropout] = "dropout",
        [ST_Conv2D] = "conv2d", [ST_MaxPooling2D] = "max_pooling2d", [ST_AveragePooling2D] = "average_pooling2d",
        [ST_BatchNormalization] = "batch_normalization", [ST_Activation] = "activation",
    };
    int count = s->layer_counts[e->id]++;
    const char *base = names[e->id] ? names[e->id] : e->name;
    return count ? arena_printf(s->a, "%s_%d", base, count) : base;
}

static void add_layer(sema *s, const ast *call, const st_entry *entry, ir_expr **args)
{
    if (s->n_layers == s->cap_layers) {
        int cap = s->cap_layers ? s->cap_layers * 2 : 16;
        ir_call *grown = realloc(s->layers, sizeof *grown * (size_t)cap);
        if (!grown) return;
        s->layers = grown;
        s->cap_layers = cap;
    }
    s->layers[s->n_layers++] = (ir_call){
        .entry = entry, .args = args, .guard = s->guard, .name = snake_name(s, entry),
        .span = { call->start, call->end },
    };
}

static void lower_items(sema *s, const ast *block);

static void lower_layer(sema *s, const ast *call)
{
    const char *path = path_text(s, call->a);
    const st_entry *entry = path ? st_find(ST_LAYER, path) : NULL;
    if (!entry) {
        const st_entry *other = path ? st_find(-1, path) : NULL;
        if (other) {
            diag_error(s->d, call->a->start, call->a->end, "'%s' is %s %s, not a layer", path,
                       other->kind == ST_ACTIVATION || other->kind == ST_OPTIMIZER ? "an" : "a", st_kind_name(other->kind));
            if (other->kind == ST_ACTIVATION) diag_hint(s->d, "use Activation(\"%s\") or activation = \"%s\"", path, path);
        } else {
            diag_error(s->d, call->a->start, call->a->end, "unknown layer '%s'", path ? path : "?");
            const char *near = path ? st_suggest(ST_LAYER, path, NULL) : NULL;
            if (near) diag_hint(s->d, "did you mean '%s'?", near);
        }
        for (const ast *a = call->first; a; a = a->next) lower_expr(s, a->kind == AST_KWARG ? a->a : a);
        return;
    }
    ir_expr **args;
    const ast *where[32] = { 0 };
    if (!lower_call(s, call, entry, &args, where)) return;
    if (s->unrolled++ > MAX_UNROLLED) {
        if (s->unrolled == MAX_UNROLLED + 2)
            diag_error(s->d, call->start, call->end, "the model unrolls to more than %d layers", MAX_UNROLLED);
        return;
    }
    bool first = s->n_layers == 0;
    if (first && entry->id != ST_Input) {
        /* Keras: input_shape on the first layer stands in for Input(). */
        int k = st_arg_index(entry, "input_shape");
        hpt_value shape;
        if (k < 0 || !const_value(s, args[k], &shape) || shape.type == V_NONE) {
            diag_error(s->d, call->start, call->end, "the model's first layer needs an input shape");
            diag_hint(s->d, "start the model with Input(shape = [28, 28]), or give input_shape = (28, 28) to this layer");
            return;
        }
        if (s->guard) {
            diag_error(s->d, call->start, call->end, "the model's first layer cannot be conditional");
            return;
        }
        ir_expr **in_args = ARENA_ARRAY(s->a, ir_expr *, Input_nargs);
        if (!in_args) return;
        in_args[Input_shape] = args[k];
        add_layer(s, call, &st_catalogue[ST_Input], in_args);
    } else if (first && s->guard) {
        diag_error(s->d, call->start, call->end, "the model's Input cannot be conditional");
        return;
    } else if (!first) {
        if (entry->id == ST_Input) {
            diag_error(s->d, call->start, call->end, "Input(...) must be the model's first layer");
            return;
        }
        int k = st_arg_index(entry, "input_shape");
        if (k >= 0 && where[k])
            diag_warning(s->d, where[k]->start, where[k]->end,
                         "input_shape has no effect here: only the first layer's is used");
    }
    add_layer(s, call, entry, args);
    if (entry->id == ST_Dropout && where[Dropout_rate] && args[Dropout_rate]->op == X_CONST &&
        value_as_double(args[Dropout_rate]->value) == 0)
        diag_warning(s->d, where[Dropout_rate]->start, where[Dropout_rate]->end,
                     "Dropout with rate 0 has no effect");
}

/* for_item -> 'for' NAME 'in' range '(' [start ','] stop ')' block */
static void lower_for(sema *s, const ast *n)
{
    const ast *it = n->a;
    const char *path = it && it->kind == AST_CALL ? path_text(s, it->a) : NULL;
    if (!path || strcmp(path, "range") || it->n < 1 || it->n > 2 || it->first->kind == AST_KWARG ||
        (it->n == 2 && it->first->next->kind == AST_KWARG)) {
        diag_error(s->d, it ? it->start : n->start, it ? it->end : n->end, "a for loop runs over range(n) or range(start, stop)");
        return;
    }
    const ast *start_node = it->n == 2 ? it->first : NULL, *stop_node = it->n == 2 ? it->first->next : it->first;
    int64_t start = 0;
    if (start_node) {
        ir_expr *e = lower_expr(s, start_node);
        if (!e) return;
        if (e->op != X_CONST || e->value.type != V_INT) {
            diag_error(s->d, start_node->start, start_node->end, "range's start must be an integer constant");
            return;
        }
        start = e->value.u.i;
    }
    ir_expr *stop = lower_expr(s, stop_node);
    if (!stop) return;
    /* The bound's largest value decides how far to unroll. */
    char *set = calloc((size_t)s->n_hps + 1, 1);
    int *list = malloc(sizeof(int) * ((size_t)s->n_hps + 1));
    hpt_value *values = calloc((size_t)s->n_hps + 1, sizeof *values);
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    bool ok = set && list && values;
    if (ok) {
        sema_collect_hps(stop, set);
        int m = 0;
        for (int k = 0; k < s->n_hps; k++)
            if (set[k]) {
                list[m++] = k;
                long card = ir_hp_cardinality(&s->hps[k]);
                if (card < 0 || s->hps[k].kind == HP_FLOAT) ok = false;
            }
        if (!ok) {
            diag_error(s->d, stop_node->start, stop_node->end,
                       "a for loop's bound must be an integer constant or depend on integer hyperparameters");
            diag_hint(s->d, "use hp.Int(\"num_layers\", 1, 3) or hp.Choice over integers");
        } else {
            s->p->hps = s->hps;
            s->p->n_hps = s->n_hps;
            long cap = 1;
            for (int k = 0; k < m; k++) cap *= ir_hp_cardinality(&s->hps[list[k]]);
            hpt_value *vals = values;
            /* Walk every combination exhaustively: bounds are small integer spaces. */
            long total = cap > 100000 ? 100000 : cap;
            for (long idx = 0; idx < total && ok; idx++) {
                long rest = idx;
                for (int k = 0; k < m; k++) {
                    hpt_value all[1024];
                    int cnt = ir_hp_values(&s->hps[list[k]], all, 1024);
                    vals[list[k]] = all[rest % cnt];
                    rest /= cnt;
                }
                ir_assignment as = { vals, s->n_hps };
                arena scratch = { 0 };
                hpt_value v;
                char why[160];
                if (ir_eval(s->p, stop, &as, &scratch, &v, why, sizeof why) || v.type != V_INT) {
                    diag_error(s->d, stop_node->start, stop_node->end, "a for loop's bound must be an integer");
                    ok = false;
                } else {
                    if (v.u.i < lo) lo = v.u.i;
                    if (v.u.i > hi) hi = v.u.i;
                }
                arena_free(&scratch);
            }
        }
    }
    free(set), free(list), free(values);
    if (!ok) return;
    if (hi - start > MAX_LOOP) {
        diag_error(s->d, stop_node->start, stop_node->end, "a for loop may run at most %d times, but this one runs up to %lld",
                   MAX_LOOP, (long long)(hi - start));
        return;
    }
    ir_expr *outer = s->guard;
    for (int64_t i = start; i < hi; i++) {
        ir_expr *cond = NULL;
        if (i >= lo) cond = binary(s, X_GT, stop, const_expr(s, value_int(i)));  /* only some trials get here */
        s->guard = conjoin(s, outer, cond);
        loopvar var = { n->text, i, s->loops };
        s->loops = &var;
        lower_items(s, n->b);
        s->loops = var.outer;
    }
    s->guard = outer;
}

/* if_item -> 'if' expr block [ 'else' (block | if_item) ] */
static void lower_if(sema *s, const ast *n)
{
    ir_expr *cond = lower_expr(s, n->a);
    if (!cond) return;
    if (cond->op == X_CONST) {
        if (cond->value.type != V_BOOL) {
            diag_error(s->d, n->a->start, n->a->end, "an if condition must be True or False, not %s",
                       value_type_name(cond->value.type));
            return;
        }
        /* A constant condition: only the branch taken exists. */
        const ast *taken = cond->value.u.b ? n->first : n->b;
        if (taken && taken->kind == AST_IF) lower_if(s, taken);
        else if (taken) lower_items(s, taken);
        return;
    }
    if (cond->op == X_HP && s->hps[cond->hp].kind != HP_BOOLEAN) {
        diag_error(s->d, n->a->start, n->a->end, "an if condition must be a boolean, but '%s' is not an hp.Boolean",
                   s->hps[cond->hp].name);
        diag_hint(s->d, "compare it: if hp.Choice(...) == \"cnn\" { ... }");
        return;
    }
    ir_expr *outer = s->guard;
    s->guard = conjoin(s, outer, cond);
    lower_items(s, n->first);
    if (n->b) {
        s->guard = conjoin(s, outer, negate(s, cond));
        if (n->b->kind == AST_IF) lower_if(s, n->b);
        else lower_items(s, n->b);
    }
    s->guard = outer;
}

static void lower_items(sema *s, const ast *block)
{
    if (!block) return;
    for (const ast *item = block->first; item; item = item->next) {
        switch (item->kind) {
        case AST_CALL: lower_layer(s, item); break;
        case AST_FOR: lower_for(s, item); break;
        case AST_IF: lower_if(s, item); break;
        default: diag_error(s->d, item->start, item->end, "expected a layer, a for loop or an if"); break;
        }
    }
}

/* ---- statements --------------------------------------------------------- */

static void set_call(sema *s, ir_call *slot, const ast **seen, const ast *n, const st_entry *entry, ir_expr **args)
{
    *seen = n;
    slot->entry = entry;
    slot->args = args;
    slot->span = (ir_span){ n->start, n->end };
}

static void lower_statement(sema *s, const ast *n)
{
    if (n->kind == AST_MODEL) {
        if (s->model) {
            diag_error(s->d, n->start, n->start + 5, "a spec has one model block");
            diag_note(s->d, s->model->start, s->model->start + 5, "the first one is here");
            return;
        }
        s->model = n;
        lower_items(s, n);
        return;
    }
    if (n->kind == AST_CALL) {
        const char *path = path_text(s, n->a);
        const st_entry *entry = path ? st_find(-1, path) : NULL;
        if (entry && (entry->kind == ST_COMPILE || entry->kind == ST_SEARCH)) {
            const ast **seen = entry->kind == ST_COMPILE ? &s->compile : &s->search;
            if (*seen) {
                diag_error(s->d, n->a->start, n->a->end, "%s(...) is given twice", entry->name);
                diag_note(s->d, (*seen)->start, (*seen)->a->end, "first given here");
                return;
            }
            ir_expr **args;
            const ast **where = entry->kind == ST_SEARCH ? s->search_args : NULL;
            if (lower_call(s, n, entry, &args, where))
                set_call(s, entry->kind == ST_COMPILE ? &s->p->compile : &s->p->search, seen, n, entry, args);
            else
                *seen = n;
            return;
        }
        if (entry && entry->kind == ST_LAYER) {
            diag_error(s->d, n->a->start, n->a->end, "layer %s outside the model block", entry->name);
            diag_hint(s->d, "layers go inside model { ... }");
            return;
        }
        diag_error(s->d, n->a->start, n->a->end, "'%s' is not a statement", path ? path : "this");
        const char *extra[] = { "compile", "search", "model", NULL };
        const char *near = path ? st_suggest(ST_KIND_COUNT, path, extra) : NULL;
        if (near) diag_hint(s->d, "did you mean '%s'?", near);
        else diag_hint(s->d, "a spec holds data = ..., model { ... }, compile(...), tuner = ... and search(...)");
        return;
    }
    if (n->kind == AST_ASSIGN) {
        bool is_data = !strcmp(n->text, "data"), is_tuner = !strcmp(n->text, "tuner");
        if (is_data || is_tuner) {
            const ast **seen = is_data ? &s->data : &s->tuner;
            if (*seen) {
                diag_error(s->d, n->start, n->end, "'%s' is assigned twice", n->text);
                diag_note(s->d, (*seen)->start, (*seen)->end, "first assigned here");
                return;
            }
            *seen = n;
            int kind = is_data ? ST_DATA : ST_TUNER;
            const ast *v = n->a;
            const char *path = v && v->kind == AST_CALL ? path_text(s, v->a) : NULL;
            const st_entry *entry = path ? st_find(kind, path) : NULL;
            if (!entry) {
                diag_error(s->d, v->start, v->end, "%s must be %s", n->text,
                           is_data ? "a data source such as datasets.fashion_mnist(...)" : "a tuner such as Hyperband(...)");
                const char *near = path ? st_suggest(kind, path, NULL) : NULL;
                if (near) diag_hint(s->d, "did you mean '%s'?", near);
                lower_expr(s, v);
                return;
            }
            ir_expr **args;
            if (lower_call(s, v, entry, &args, NULL))
                set_call(s, is_data ? &s->p->data : &s->p->tuner, seen, n, entry, args);
            return;
        }
        for (constant *c = s->constants; c; c = c->next)
            if (!strcmp(c->name, n->text)) {
                diag_error(s->d, n->start, n->start + (uint32_t)strlen(n->text), "'%s' is assigned twice", n->text);
                diag_note(s->d, c->node->start, c->node->end, "first assigned here");
                return;
            }
        if (!strcmp(n->text, "hp") || !strcmp(n->text, "range") || st_find(-1, n->text)) {
            diag_error(s->d, n->start, n->start + (uint32_t)strlen(n->text), "'%s' is a built-in name and cannot be assigned", n->text);
            return;
        }
        constant *c = ARENA_NEW(s->a, constant);
        if (!c) return;
        /* Hyperparameters defined in a constant count as used only where the constant is. */
        int before = s->n_hps;
        c->value = lower_expr(s, n->a);
        for (int k = before; k < s->n_hps; k++) s->info[k].always = false, s->info[k].condition = NULL;
        c->name = n->text;
        c->node = n;
        c->next = s->constants;
        s->constants = c;
        return;
    }
}

/* The metrics the spec computes, for checking objective and monitor names. */
static bool metric_computed(sema *s, const char *name, bool *needs_validation)
{
    *needs_validation = !strncmp(name, "val_", 4);
    const char *base = *needs_validation ? name + 4 : name;
    if (!strcmp(base, "loss")) return true;
    hpt_value metrics;
    if (!s->p->compile.entry || !const_value(s, s->p->compile.args[compile_metrics], &metrics)) return true;
    const st_entry *m = st_find(ST_METRIC, base);
    for (int k = 0; m && k < metrics.u.list.n; k++)
        if (metrics.u.list.items[k].type == V_STRING && st_find(ST_METRIC, metrics.u.list.items[k].u.s) == m)
            return true;
    return false;
}

static bool has_validation(sema *s)
{
    if (!s->p->search.entry) return false;
    ir_expr *split = s->p->search.args[search_validation_split];
    ir_expr *vdata = s->p->search.args[search_validation_data];
    ir_expr *cv = s->p->search.args[search_cv];
    if (split && (split->op != X_CONST || value_as_double(split->value) > 0)) return true;
    if (vdata && !(vdata->op == X_CONST && vdata->value.type == V_NONE)) return true;
    if (cv && !(cv->op == X_CONST && cv->value.type == V_NONE)) return true;
    return false;
}

static void check_metric_name(sema *s, const char *what, const char *name, const ast *at_node, uint32_t at, uint32_t end)
{
    bool needs_val;
    if (!metric_computed(s, name, &needs_val)) {
        diag_error(s->d, at, end, "%s '%s' is never computed", what, name);
        const char *cands[] = { "loss", "val_loss", "accuracy", "val_accuracy", NULL };
        const char *near = st_suggest(ST_KIND_COUNT, name, cands);
        if (near && strcmp(near, name)) diag_hint(s->d, "did you mean '%s'?", near);
        else diag_hint(s->d, "add it to compile(metrics = [...]), or use loss / val_loss");
    } else if (needs_val && !has_validation(s)) {
        diag_error(s->d, at, end, "%s '%s' needs validation data", what, name);
        diag_hint(s->d, "set validation_split = 0.2 (or validation_data) in search(...)");
    }
    (void)at_node;
}

/* Where in the source a call's argument was written, or the call itself. */
static void arg_span(const ast *call, const st_entry *e, const char *name, uint32_t *start, uint32_t *end)
{
    *start = call->start;
    *end = call->end;
    int pos = 0;
    for (const ast *a = call->first; a; a = a->next, pos++) {
        bool hit = a->kind == AST_KWARG ? !strcmp(a->text, name) : (pos < e->n_args && !strcmp(e->args[pos].name, name));
        if (hit) {
            *start = a->kind == AST_KWARG ? a->a->start : a->start;
            *end = a->kind == AST_KWARG ? a->a->end : a->end;
            return;
        }
    }
}

static void final_checks(sema *s, const ast *root)
{
    uint32_t eof = (uint32_t)s->d->len;
    /* After syntax errors a missing block is likely the one that failed to parse. */
    if (s->syntax_errors) return;
    if (!s->model) {
        diag_error(s->d, eof, eof, "the spec has no model { ... } block");
    } else if (s->n_layers == 0 && s->d->errors == 0) {
        diag_error(s->d, s->model->start, s->model->start + 5, "the model has no layers");
    }
    if (!s->data) {
        diag_error(s->d, eof, eof, "the spec has no data = ... statement");
        diag_hint(s->d, "data = datasets.fashion_mnist(scale = 1/255)");
    }
    if (!s->compile) {
        diag_error(s->d, eof, eof, "the spec has no compile(...) statement");
        diag_hint(s->d, "compile(optimizer = \"adam\", loss = \"sparse_categorical_crossentropy\", metrics = [\"accuracy\"])");
    }
    /* Without search(...) every argument takes its default. */
    if (!s->p->search.entry) {
        const st_entry *e = &st_catalogue[ST_search];
        s->p->search.entry = e;
        s->p->search.args = ARENA_ARRAY(s->a, ir_expr *, e->n_args);
        for (int k = 0; s->p->search.args && k < e->n_args; k++)
            s->p->search.args[k] = const_expr(s, e->args[k].default_value);
    }
    if (s->p->tuner.entry && s->d->errors == 0) {
        const st_entry *t = s->p->tuner.entry;
        int k = st_arg_index(t, "objective");
        hpt_value obj;
        if (const_value(s, s->p->tuner.args[k], &obj) && obj.type == V_STRING) {
            uint32_t a, b;
            arg_span(s->tuner->a, t, "objective", &a, &b);
            check_metric_name(s, "objective", obj.u.s, s->tuner, a, b);
        }
        bool hyperband = t->id == ST_Hyperband || t->id == ST_BOHB;
        if (hyperband && s->search_args[search_epochs])
            diag_warning(s->d, s->search_args[search_epochs]->start, s->search_args[search_epochs]->end,
                         "epochs has no effect under %s: the tuner sets each trial's epochs (up to max_epochs), as in Keras Tuner",
                         t->name);
    }
    if (s->search_args[search_validation_split] && s->search_args[search_validation_data])
        diag_warning(s->d, s->search_args[search_validation_split]->start, s->search_args[search_validation_split]->end,
                     "validation_split has no effect when validation_data is given");
    /* EarlyStopping monitors must be computed too. */
    hpt_value cbs;
    if (s->p->search.args && s->search && const_value(s, s->p->search.args[search_callbacks], &cbs) == false) {
        ir_expr *list = s->p->search.args[search_callbacks];
        for (int k = 0; list && list->op == X_LIST && k < list->n_items; k++) {
            ir_expr *cb = list->items[k];
            if (cb->op != X_OBJECT || cb->entry->id != ST_EarlyStopping) continue;
            ir_expr *mon = cb->items[EarlyStopping_monitor];
            if (mon->op == X_CONST && mon->value.type == V_STRING && s->d->errors == 0) {
                uint32_t a = s->search->start, b = s->search->end;
                if (s->search_args[search_callbacks]) a = s->search_args[search_callbacks]->start, b = s->search_args[search_callbacks]->end;
                check_metric_name(s, "EarlyStopping monitor", mon->value.u.s, NULL, a, b);
            }
        }
    }
    for (constant *c = s->constants; c; c = c->next)
        if (!c->used)
            diag_warning(s->d, c->node->start, c->node->start + (uint32_t)strlen(c->name),
                         "'%s' is assigned but never used%s", c->name,
                         c->value && depends_on_hp(c->value) ? ": its hyperparameters take no part in the search" : "");
    (void)root;
}

int sema_lower(ir_program *p, const ast *root, diag_ctx *d)
{
    sema s = { .p = p, .d = d, .a = &p->arena, .syntax_errors = d->errors };
    int before = d->errors;
    for (const ast *n = root ? root->first : NULL; n; n = n->next) lower_statement(&s, n);
    p->hps = s.hps;
    p->n_hps = s.n_hps;
    final_checks(&s, root);
    /* Move the growing arrays into the arena so the program owns everything. */
    p->hps = ARENA_ARRAY(s.a, ir_hp, s.n_hps ? s.n_hps : 1);
    for (int k = 0; p->hps && k < s.n_hps; k++) {
        p->hps[k] = s.hps[k];
        p->hps[k].condition = s.info[k].always ? NULL : s.info[k].condition;
    }
    p->n_hps = p->hps ? s.n_hps : 0;
    p->layers = ARENA_ARRAY(s.a, ir_call, s.n_layers ? s.n_layers : 1);
    if (p->layers && s.n_layers) memcpy(p->layers, s.layers, sizeof *p->layers * (size_t)s.n_layers);
    p->n_layers = p->layers ? s.n_layers : 0;
    free(s.hps);
    free(s.info);
    free(s.layers);
    return d->errors - before;
}
