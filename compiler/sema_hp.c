/* sema_hp.c: hyperparameters (see sema_state.h).
 *
 * hp.Int, hp.Float, hp.Choice, hp.Boolean and hp.Fixed, as the catalogue's
 * ST_HP_KINDS rows declare them.  sema_expr.c binds a call's arguments (by
 * position or name, each a constant); here they are validated, one
 * define_* per kind (bounds in order, a sampling that fits the range, a
 * step that moves, Choice values of one type and each once), and the
 * default must be one of the values.  A name seen before must come
 * with the same definition and is the same hyperparameter; a new one is
 * registered.  Each use under a guard adds the guard to the
 * hyperparameter's condition, unless a guard already there covers it, so a
 * loop's later iterations add nothing.
 */
#include "compiler/sema_state.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The catalogue's hp.* rows are in ir_hp_kind's order, and the kinds share
 * the positions this file reads by one name (hp_Int_min_value for Float's too). */
_Static_assert(ST_HP_Int == (int)HP_INT && ST_HP_Float == (int)HP_FLOAT && ST_HP_Choice == (int)HP_CHOICE &&
                   ST_HP_Boolean == (int)HP_BOOLEAN && ST_HP_Fixed == (int)HP_FIXED && ST_HP_COUNT == 5,
               "stdlib/catalogue.h's ST_HP_KINDS rows follow compiler/ir.h's ir_hp_kind");
_Static_assert(hp_Int_name == 0 && hp_Float_name == 0 && hp_Choice_name == 0 && hp_Boolean_name == 0 &&
                   hp_Fixed_name == 0,
               "every hp.* call takes its name first");
_Static_assert((int)hp_Float_min_value == (int)hp_Int_min_value && (int)hp_Float_max_value == (int)hp_Int_max_value &&
                   (int)hp_Float_step == (int)hp_Int_step && (int)hp_Float_sampling == (int)hp_Int_sampling &&
                   (int)hp_Float_default == (int)hp_Int_default && (int)hp_Int_min_value < (int)hp_Int_step,
               "hp.Int and hp.Float take the same arguments, the bounds before the step");
_Static_assert((int)hp_Int_nargs <= HP_MAX_ARGS && (int)hp_Float_nargs <= HP_MAX_ARGS && (int)hp_Choice_nargs <= HP_MAX_ARGS &&
                   (int)hp_Boolean_nargs <= HP_MAX_ARGS && (int)hp_Fixed_nargs <= HP_MAX_ARGS,
               "HP_MAX_ARGS holds every kind's arguments");

/* The kind called hp.func, or NULL (reported, with the nearest kind). */
const st_hp *sema_hp_kind(sema *s, const ast *call, const char *func)
{
    const st_hp *kind = st_find_hp(func);
    if (kind) return kind;
    const char *near = NULL;
    char all[160];
    size_t len = 0;
    for (int k = 0; k < ST_HP_COUNT; k++) {
        if (st_edit_distance(func, st_hps[k].name, 2) <= 2) near = st_hps[k].name;
        len += (size_t)snprintf(all + len, sizeof all - len, "%shp.%s", k == 0 ? "" : k == ST_HP_COUNT - 1 ? " and " : ", ",
                                st_hps[k].name);
    }
    diag_error(s->d, call->a->start, call->a->end, "unknown hyperparameter type 'hp.%s'", func);
    if (near) diag_hint(s->d, "did you mean 'hp.%s'?", near);
    else diag_hint(s->d, "the types are %s", all);
    return NULL;
}

/* ---- definitions compared and described --------------------------------- */

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
    static const char *const samplings[] = { "\"linear\"", "\"log\"", "\"reverse_log\"" };
    char x[128] = "", y[128] = "";
    const char *field = NULL;
    if (now->kind != first->kind) {
        snprintf(buf, n, "as an hp.%s, but its first definition is an hp.%s", st_hps[now->kind].name,
                 st_hps[first->kind].name);
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

/* ---- hp.X(...): validate, register -------------------------------------- */

/* An error at argument k of the call, or at the call when k was not given. */
#define FAIL_AT(c, k, ...) do { diag_error(s->d, (c)->where[k] ? (c)->where[k]->start : (c)->call->start, \
                                           (c)->where[k] ? (c)->where[k]->end : (c)->call->end, __VA_ARGS__); \
                                return false; } while (0)

/* hp.Int and hp.Float: bounds of the kind's type and in order, a sampling
 * that fits the range, a step that moves; the default is min_value. */
static bool define_range(sema *s, const hp_call *c, ir_hp *h)
{
    bool is_int = h->kind == HP_INT;
    const char *func = c->kind->name;
    for (int k = hp_Int_min_value; k <= hp_Int_step; k++) {
        if (!c->where[k]) continue;
        bool good = is_int ? c->got[k].type == V_INT : value_is_number(c->got[k]);
        if (!good) FAIL_AT(c, k, "hp.%s %s must be %s", func, c->kind->args[k].name, is_int ? "an int" : "a number");
    }
    h->min = c->got[hp_Int_min_value], h->max = c->got[hp_Int_max_value];
    if (!is_int) h->min = value_float(value_as_double(h->min)), h->max = value_float(value_as_double(h->max));
    hpt_value step = c->got[hp_Int_step], sampling = c->got[hp_Int_sampling];
    if (c->where[hp_Int_step]) h->step = is_int ? step : value_float(value_as_double(step));
    if (c->where[hp_Int_sampling]) {
        if (sampling.type != V_STRING || !st_choice_ok("linear|log|reverse_log", sampling.u.s))
            FAIL_AT(c, hp_Int_sampling, "sampling must be \"linear\", \"log\" or \"reverse_log\"");
        h->sampling = sampling.u.s[0] == 'l' ? (sampling.u.s[1] == 'i' ? SAMPLING_LINEAR : SAMPLING_LOG)
                                             : SAMPLING_REVERSE_LOG;
    }
    double lo = value_as_double(h->min), hi = value_as_double(h->max);
    bool ordered = is_int ? h->min.u.i <= h->max.u.i : lo <= hi;     /* int64s compare exactly */
    if (!ordered) {
        diag_error(s->d, c->where[hp_Int_min_value]->start, c->where[hp_Int_max_value]->end,
                   "min_value (%g) is greater than max_value (%g)", lo, hi);
        diag_hint(s->d, "max_value is inclusive; swap the two bounds");
        return false;
    }
    if (h->sampling != SAMPLING_LINEAR && !(lo > 0)) {
        const ast *at = c->where[hp_Int_min_value];
        diag_error(s->d, at->start, at->end, "%s sampling needs min_value > 0, but min_value is %g",
                   h->sampling == SAMPLING_LOG ? "log" : "reverse_log", lo);
        diag_hint(s->d, "log sampling spreads values evenly by ratio, so the range must lie above 0: min_value = 1e-4, say");
        return false;
    }
    if (h->step.type != V_NONE) {
        double st = value_as_double(h->step);
        if (h->sampling == SAMPLING_LOG ? !(st > 1) : !(st > 0))
            FAIL_AT(c, hp_Int_step, "step must be %s, not %g",
                    h->sampling == SAMPLING_LOG ? "greater than 1 under log sampling (it multiplies)" : "positive", st);
    }
    h->default_value = c->where[hp_Int_default] ? c->got[hp_Int_default] : h->min;
    if (!is_int && value_is_number(h->default_value)) h->default_value = value_float(value_as_double(h->default_value));
    return true;
}

/* hp.Choice: a non-empty list of numbers, strings or booleans, of one type,
 * each once; ordered when numeric unless told; the default is the first. */
static bool define_choice(sema *s, const hp_call *c, ir_hp *h)
{
    hpt_value values = c->got[hp_Choice_values], ordered = c->got[hp_Choice_ordered];
    if (values.type != V_LIST) FAIL_AT(c, hp_Choice_values, "hp.Choice values must be a list, such as [1e-2, 1e-3]");
    if (values.u.list.n == 0) FAIL_AT(c, hp_Choice_values, "hp.Choice needs at least one value");
    h->values = (hpt_value *)values.u.list.items;
    h->n_values = values.u.list.n;
    bool numeric = true;
    for (int k = 0; k < h->n_values; k++) {
        hpt_value v = h->values[k];
        if (v.type == V_LIST || v.type == V_OBJECT || v.type == V_NONE)
            FAIL_AT(c, hp_Choice_values, "hp.Choice values must be numbers, strings or booleans");
        if (!value_is_number(v)) numeric = false;
        if ((value_is_number(v) != value_is_number(h->values[0])) || (!value_is_number(v) && v.type != h->values[0].type))
            FAIL_AT(c, hp_Choice_values, "hp.Choice values must all have one type, but %s and %s are mixed",
                    value_type_name(h->values[0].type), value_type_name(v.type));
    }
    int twice = first_repeat(h->values, h->n_values);
    if (twice >= 0) {
        char text[64];
        value_format(text, sizeof text, h->values[twice]);
        FAIL_AT(c, hp_Choice_values, "hp.Choice lists %s twice", text);
    }
    h->ordered = numeric;
    if (c->where[hp_Choice_ordered]) {
        if (ordered.type != V_BOOL) FAIL_AT(c, hp_Choice_ordered, "ordered must be True or False");
        if (ordered.u.b && !numeric) FAIL_AT(c, hp_Choice_ordered, "ordered = True needs numeric values");
        h->ordered = ordered.u.b;
    }
    h->default_value = c->where[hp_Choice_default] ? c->got[hp_Choice_default] : h->values[0];
    return true;
}

/* hp.Boolean: False and True; the default is False. */
static bool define_boolean(sema *s, const hp_call *c, ir_hp *h)
{
    h->default_value = c->where[hp_Boolean_default] ? c->got[hp_Boolean_default] : value_bool(false);
    return true;
}

/* hp.Fixed: one number, string or boolean. */
static bool define_fixed(sema *s, const hp_call *c, ir_hp *h)
{
    hpt_value v = c->got[hp_Fixed_value];
    if (v.type == V_LIST || v.type == V_OBJECT) FAIL_AT(c, hp_Fixed_value, "hp.Fixed value must be a number, string or boolean");
    h->values = ARENA_NEW(s->a, hpt_value);
    if (!h->values) return false;
    h->values[0] = v;
    h->n_values = 1;
    h->default_value = v;
    return true;
}

/* Each kind's own checks, which fill in the definition from the bound arguments. */
static bool (*const define_kind[ST_HP_COUNT])(sema *, const hp_call *, ir_hp *) = {
    [ST_HP_Int] = define_range, [ST_HP_Float] = define_range, [ST_HP_Choice] = define_choice,
    [ST_HP_Boolean] = define_boolean, [ST_HP_Fixed] = define_fixed,
};

#undef FAIL_AT

/* The default, given or not, must be one of the values (Fixed's is its value). */
static bool check_default(sema *s, const hp_call *c, const ir_hp *h)
{
    if (h->kind == HP_FIXED || ir_hp_admits(h, h->default_value)) return true;
    int slot = st_hp_arg_index(c->kind, "default");
    const ast *at = c->where[slot] ? c->where[slot] : c->call;
    char text[64], domain[200];
    value_format(text, sizeof text, h->default_value);
    describe_domain(h, domain, sizeof domain);
    diag_error(s->d, at->start, at->end, "default %s is not a value of hyperparameter '%s'", text, h->name);
    diag_hint(s->d, "'%s' takes %s", h->name, domain);
    return false;
}

static ir_expr *hp_expr(sema *s, int k)
{
    ir_expr *e = new_expr(s, X_HP);
    if (e) e->hp = k;
    return e;
}

/* Room for one more hyperparameter in s->hps, s->info and s->values; false
 * when memory is short (reported at call). */
static bool room_for_hp(sema *s, const ast *call)
{
    if (s->n_hps < s->cap_hps) return true;
    int cap = s->cap_hps ? s->cap_hps * 2 : 16;
    ir_hp *hps = realloc(s->hps, sizeof *hps * (size_t)cap);
    if (hps) s->hps = hps;
    hp_info *info = hps ? realloc(s->info, sizeof *info * (size_t)cap) : NULL;
    if (info) s->info = info;
    hpt_value *values = info ? realloc(s->values, sizeof *values * (size_t)cap) : NULL;
    if (!values) {
        diag_error(s->d, call->start, call->end, "out of memory");
        return false;
    }
    for (int k = s->cap_hps; k < cap; k++) values[k] = value_none();
    s->values = values;
    s->cap_hps = cap;
    return true;
}

/* The hyperparameter h names: the one of that name, when its definition is
 * the same (a different one is an error), or h registered; used under the
 * current guard either way. */
static ir_expr *register_hp(sema *s, const ast *call, const ir_hp *h)
{
    int k = sema_find_hp(s, h->name);
    if (k >= 0) {
        if (!same_definition(&s->hps[k], h)) {
            char how[400];
            hp_difference(h, &s->hps[k], how, sizeof how);
            diag_error(s->d, call->start, call->end, "hyperparameter '%s' is redefined %s", h->name, how);
            diag_note(s->d, s->info[k].def->start, s->info[k].def->end, "'%s' first defined here", h->name);
            diag_hint(s->d, "repeat the same definition to reuse it, or give this one another name");
            return NULL;
        }
        use_hp(s, k);
        return hp_expr(s, k);
    }
    if (!room_for_hp(s, call)) return NULL;
    if (!sema_table_add(s, &s->hp_names, h->name, s->n_hps)) {
        diag_error(s->d, call->start, call->end, "out of memory");
        return NULL;
    }
    s->hps[s->n_hps] = *h;
    s->info[s->n_hps] = (hp_info){ .def = call };
    use_hp(s, s->n_hps);
    ir_expr *e = hp_expr(s, s->n_hps);
    s->n_hps++;
    return e;
}

/* The hyperparameter a bound hp.* call defines (each kind's checks, then the
 * default), registered or found: an X_HP, or NULL (reported). */
ir_expr *sema_define_hp(sema *s, const hp_call *c)
{
    const ast *call = c->call;
    ir_hp h = { .name = c->got[hp_Int_name].u.s, .kind = (ir_hp_kind)c->kind->id, .step = value_none(),
                .default_value = value_none(), .span = { call->start, call->end } };
    if (!define_kind[c->kind->id](s, c, &h) || !check_default(s, c, &h)) return NULL;
    return register_hp(s, call, &h);
}
