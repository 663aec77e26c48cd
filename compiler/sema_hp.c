/* sema_hp.c: hyperparameters (see sema_impl.h).
 *
 * hp.Int, hp.Float, hp.Choice, hp.Boolean and hp.Fixed, as the catalogue's
 * ST_HP_KINDS rows declare them: the arguments are bound by position or
 * name, must be constants, and are validated (bounds in order, a sampling
 * that fits the range, a step that moves, Choice values of one type and each
 * once, a default that is one of the values).  A name seen before must come
 * with the same definition and is the same hyperparameter; a new one is
 * registered.  Each use under a guard adds the guard to the
 * hyperparameter's condition, unless a guard already there covers it, so a
 * loop's later iterations add nothing.
 */
#include "compiler/sema_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* How a redefinition differs from the first definition, by the first field
 * that differs: "with max_value = 256, but its first definition has 512". */
static void hp_difference(const ir_hp *now, const ir_hp *first, char *buf, size_t n)
{
    static const char *const kinds[] = { "an hp.Int", "an hp.Float", "an hp.Choice", "an hp.Boolean", "an hp.Fixed" };
    static const char *const samplings[] = { "\"linear\"", "\"log\"", "\"reverse_log\"" };
    char x[128] = "", y[128] = "";
    const char *field = NULL;
    if (now->kind != first->kind) {
        snprintf(buf, n, "as %s, but its first definition is %s", kinds[now->kind], kinds[first->kind]);
        return;
    }
    if (!value_equal(now->min, first->min) || now->min.type != first->min.type) {
        field = "min_value";
        value_format(x, sizeof x, now->min), value_format(y, sizeof y, first->min);
    } else if (!value_equal(now->max, first->max) || now->max.type != first->max.type) {
        field = "max_value";
        value_format(x, sizeof x, now->max), value_format(y, sizeof y, first->max);
    } else if (!value_equal(now->step, first->step) || now->step.type != first->step.type) {
        field = "step";
        value_format(x, sizeof x, now->step), value_format(y, sizeof y, first->step);
    } else if (now->sampling != first->sampling) {
        field = "sampling";
        snprintf(x, sizeof x, "%s", samplings[now->sampling]), snprintf(y, sizeof y, "%s", samplings[first->sampling]);
    } else if (now->n_values != first->n_values || !value_equal(
                   (hpt_value){ .type = V_LIST, .u.list = { now->values, now->n_values } },
                   (hpt_value){ .type = V_LIST, .u.list = { first->values, first->n_values } })) {
        field = now->kind == HP_FIXED ? "value" : "values";
        hpt_value a = { .type = V_LIST, .u.list = { now->values, now->n_values } };
        hpt_value b = { .type = V_LIST, .u.list = { first->values, first->n_values } };
        value_format(x, sizeof x, now->kind == HP_FIXED ? now->values[0] : a);
        value_format(y, sizeof y, first->kind == HP_FIXED ? first->values[0] : b);
    } else if (now->ordered != first->ordered) {
        field = "ordered";
        snprintf(x, sizeof x, "%s", now->ordered ? "True" : "False"), snprintf(y, sizeof y, "%s", first->ordered ? "True" : "False");
    } else {
        field = "default";
        value_format(x, sizeof x, now->default_value), value_format(y, sizeof y, first->default_value);
    }
    snprintf(buf, n, "with %s = %s, but its first definition has %s = %s", field, x, field, y);
}

/* The values a hyperparameter takes, for hints: "32 .. 512 step 32", "[\"relu\", \"tanh\"]". */
static void describe_domain(const ir_hp *h, char *buf, size_t n)
{
    char lo[48], hi[48], st[48];
    if (h->kind == HP_INT || h->kind == HP_FLOAT) {
        value_format(lo, sizeof lo, h->min), value_format(hi, sizeof hi, h->max);
        if (h->step.type == V_NONE) snprintf(buf, n, "%s .. %s", lo, hi);
        else {
            value_format(st, sizeof st, h->step);
            snprintf(buf, n, "%s .. %s step %s%s", lo, hi, h->sampling == SAMPLING_LOG ? "x" : "", st);
        }
    } else if (h->kind == HP_BOOLEAN) {
        snprintf(buf, n, "True or False");
    } else {
        value_format(buf, n, (hpt_value){ .type = V_LIST, .u.list = { h->values, h->n_values } });
    }
}

static bool expr_equal(const ir_expr *x, const ir_expr *y)
{
    if (x == y) return true;
    if (!x || !y || x->op != y->op || x->n_items != y->n_items || x->tuple != y->tuple) return false;
    if (x->op == X_CONST) return x->value.type == y->value.type && value_equal(x->value, y->value);
    if (x->op == X_HP) return x->hp == y->hp;
    if (x->op == X_OBJECT && x->entry != y->entry) return false;
    for (int k = 0; k < x->n_items; k++)
        if (!expr_equal(x->items[k], y->items[k])) return false;
    return expr_equal(x->a, y->a) && expr_equal(x->b, y->b);
}

/* Does g imply d?  Sound, not complete: equal expressions, a conjunction and
 * its terms, and n > i implying n > j for j <= i (likewise >=), which is how
 * the guards of a loop's later iterations imply its first. */
static bool implies(const ir_expr *g, const ir_expr *d)
{
    if (expr_equal(g, d)) return true;
    if (d->op == X_AND) return implies(g, d->a) && implies(g, d->b);
    if (g->op == X_AND) return implies(g->a, d) || implies(g->b, d);
    if ((g->op == X_GT || g->op == X_GE) && g->op == d->op && expr_equal(g->a, d->a) && g->b->op == X_CONST &&
        d->b->op == X_CONST && value_is_number(g->b->value) && value_is_number(d->b->value))
        return value_as_double(g->b->value) >= value_as_double(d->b->value);
    return false;
}

/* Is g already covered by the disjunction c: does it imply one of its terms? */
static bool covered(const ir_expr *c, const ir_expr *g)
{
    for (; c && c->op == X_OR && !implies(g, c); c = c->a)
        if (implies(g, c->b)) return true;
    return c && implies(g, c);
}

/* Note that hyperparameter k is used under the current guard. */
static void use_hp(sema *s, int k)
{
    hp_info *info = &s->info[k];
    if (info->always || s->defining) return;
    if (!s->guard) {
        info->always = true;
        info->condition = NULL;
        return;
    }
    if (info->condition && covered(info->condition, s->guard)) return;
    /* Past this many distinct guards the condition costs more to evaluate than
     * it saves: call the hyperparameter always active (sampling it unused is harmless). */
    if (++info->terms > 64) {
        info->always = true;
        info->condition = NULL;
        return;
    }
    info->condition = info->condition ? binary(s, X_OR, info->condition, s->guard) : s->guard;
}

void sema_use_hps(sema *s, const ir_expr *e)
{
    if (!e) return;
    if (e->op == X_HP) use_hp(s, e->hp);
    sema_use_hps(s, e->a);
    sema_use_hps(s, e->b);
    for (int k = 0; k < e->n_items; k++) sema_use_hps(s, e->items[k]);
}

/* A number, string or bool, hashed so that values equal as value_equal says
 * (1 and 1.0, 0.0 and -0.0) hash alike. */
static uint64_t value_hash(hpt_value v)
{
    uint64_t h;
    if (value_is_number(v)) {
        double x = value_as_double(v) + 0.0;    /* -0.0 + 0.0 is +0.0 */
        memcpy(&h, &x, sizeof h);
    } else if (v.type == V_STRING) {
        h = 0xcbf29ce484222325ull;
        for (const char *c = v.u.s; *c; c++) h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
    } else {
        h = v.type == V_BOOL ? 2 + v.u.b : 0;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
}

/* The index of the first value that repeats an earlier one, or -1: a hash
 * set of indices, so a Choice of a million values costs a million steps. */
static int first_repeat(const hpt_value *values, int n)
{
    size_t cap = 16;
    while (cap < 2 * (size_t)n) cap *= 2;
    int *set = calloc(cap, sizeof *set), found = -1;     /* index + 1; 0 is empty */
    if (!set) {     /* out of memory: the quadratic way */
        for (int k = 0; k < n && found < 0; k++)
            for (int j = 0; j < k && found < 0; j++)
                if (value_equal(values[k], values[j])) found = k;
        return found;
    }
    for (int k = 0; k < n && found < 0; k++) {
        size_t at = value_hash(values[k]) & (cap - 1);
        for (; set[at] && found < 0; at = (at + 1) & (cap - 1))
            if (value_equal(values[k], values[set[at] - 1])) found = k;
        if (found < 0) set[at] = k + 1;
    }
    free(set);
    return found;
}

/* hp.Int(...) and friends: bind arguments, validate, find or register. */
ir_expr *sema_lower_hp(sema *s, const ast *call, const char *func)
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
                else if (kind == HP_INT || kind == HP_FLOAT)
                    diag_hint(s->d, "hp.%s takes name, min_value, max_value, step, sampling and default", func);
                else if (kind == HP_CHOICE) diag_hint(s->d, "hp.Choice takes name, values, ordered and default");
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
        if (slot == 0 && value->kind == AST_NAME && !sema_bound_name(s, value->text)) {
            diag_error(s->d, value->start, value->end, "a hyperparameter's name must be a string, such as \"%s\"", value->text);
            ok = false;
            continue;
        }
        ir_expr *e = sema_lower_expr(s, value);
        if (!e) { ok = false; continue; }
        if (!sema_const_value(s, e, &got[slot])) {
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
    if (sema_has_control(got[0].u.s)) {
        char text[300];
        value_format(text, sizeof text, got[0]);
        diag_error(s->d, where[0]->start, where[0]->end, "a hyperparameter's name must not hold a control character, but it is %s", text);
        diag_hint(s->d, "names are printed in tables, one per line: write it without \\n or \\t");
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
        bool ordered = kind == HP_INT ? h.min.u.i <= h.max.u.i : lo <= hi;     /* int64s compare exactly */
        if (!ordered) {
            diag_error(s->d, where[1]->start, where[2]->end, "min_value (%g) is greater than max_value (%g)", lo, hi);
            diag_hint(s->d, "max_value is inclusive; swap the two bounds");
            return NULL;
        }
        if (h.sampling != SAMPLING_LINEAR && !(lo > 0)) {
            diag_error(s->d, where[1]->start, where[1]->end, "%s sampling needs min_value > 0, but min_value is %g",
                       h.sampling == SAMPLING_LOG ? "log" : "reverse_log", lo);
            diag_hint(s->d, "log sampling spreads values evenly by ratio, so the range must lie above 0: min_value = 1e-4, say");
            return NULL;
        }
        if (h.step.type != V_NONE) {
            double st = value_as_double(h.step);
            if (h.sampling == SAMPLING_LOG ? !(st > 1) : !(st > 0))
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
        }
        int twice = first_repeat(h.values, h.n_values);
        if (twice >= 0) {
            char text[64];
            value_format(text, sizeof text, h.values[twice]);
            FAIL_AT(1, "hp.Choice lists %s twice", text);
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
        char domain[200];
        value_format(text, sizeof text, h.default_value);
        describe_domain(&h, domain, sizeof domain);
        diag_error(s->d, where[default_slot] ? where[default_slot]->start : call->start,
                   where[default_slot] ? where[default_slot]->end : call->end,
                   "default %s is not a value of hyperparameter '%s'", text, h.name);
        diag_hint(s->d, "'%s' takes %s", h.name, domain);
        return NULL;
    }
#undef FAIL_AT

    for (int k = sema_find_hp(s, h.name); k >= 0; k = -1) {
        if (!same_definition(&s->hps[k], &h)) {
            char how[400];
            hp_difference(&h, &s->hps[k], how, sizeof how);
            diag_error(s->d, call->start, call->end, "hyperparameter '%s' is redefined %s", h.name, how);
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
        if (hps) s->hps = hps;
        hp_info *info = hps ? realloc(s->info, sizeof *info * (size_t)cap) : NULL;
        if (info) s->info = info;
        hpt_value *values = info ? realloc(s->values, sizeof *values * (size_t)cap) : NULL;
        if (!values) {
            diag_error(s->d, call->start, call->end, "out of memory");
            return NULL;
        }
        for (int k = s->cap_hps; k < cap; k++) values[k] = value_none();
        s->values = values;
        s->cap_hps = cap;
    }
    if (!sema_table_add(s, &s->hp_names, h.name, s->n_hps)) {
        diag_error(s->d, call->start, call->end, "out of memory");
        return NULL;
    }
    s->hps[s->n_hps] = h;
    s->info[s->n_hps] = (hp_info){ .def = call };
    use_hp(s, s->n_hps);
    ir_expr *e = new_expr(s, X_HP);
    if (e) e->hp = s->n_hps;
    s->n_hps++;
    return e;
}
