/* sema.c: from the AST to a checked IR (see sema.h).
 *
 * Invariants kept while walking:
 *   - s->guard is the condition under which the current model item exists
 *     (NULL = always): `if` conjoins its test, each unrolled `for` iteration
 *     conjoins `bound > i`.  Every hyperparameter defined or referenced under a
 *     guard collects that guard; its condition is the disjunction of them,
 *     without the guards that imply one already there (a loop's later
 *     iterations), so it stays small.  Hyperparameters of constants count only
 *     where the constant is used; those of unused constants are dropped.
 *   - An expression is lowered once, constant-folded where its operands are
 *     constant (a literal operand is folded without being allocated), and
 *     then checked against the catalogue argument it feeds by evaluating it
 *     over the values of the hyperparameters it depends on, so a range or
 *     type error names the values that cause it.  No folded or evaluated
 *     float is infinite or NaN (ir.c refuses them).
 *   - Names (hyperparameters, constants) are found through hash tables, so a
 *     spec of 100,000 constants lowers in linear time.
 *   - Errors are reported and lowering goes on with a NULL expression, which
 *     every consumer tolerates, so one run reports every error.  A call whose
 *     argument fails its check fails as a whole; a model item that cannot be
 *     lowered leaves a broken layer (args NULL) where it stood, so shapes.c,
 *     which runs after sema's errors too, stops there.
 *   - Each data call is probed (compiler/probe.h) where it is lowered, its
 *     facts kept for shapes.c (hand_on). */
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
} constant;

/* Names to indices, by open addressing over FNV-1a: a slot holds the name's
 * hash (high 32 bits) and its index + 1 (low 32; 0 is empty), so a probe
 * compares strings only when the hashes agree; cap is a power of 2, at least
 * twice the entries.  One for the hyperparameters, one for the constants, so
 * a name costs O(1) however many there are. */
typedef struct name_table {
    uint64_t *slots;
    int cap;
} name_table;

typedef struct loopvar {
    const char *name;
    int64_t value;
    struct loopvar *outer;
} loopvar;

typedef struct hp_info {
    const ast *def;             /* the hp.X(...) call that first defined it */
    ir_expr *condition;         /* disjunction of the guards seen so far */
    bool always;                /* referenced at least once unguarded */
    int terms;                  /* guards in condition */
} hp_info;

typedef struct sema {
    ir_program *p;
    diag_ctx *d;
    arena *a;
    constant *consts;           /* in definition order */
    int n_consts, cap_consts;
    name_table const_names;
    loopvar *loops;
    ir_hp *hps;
    hp_info *info;
    hpt_value *values;          /* cap_hps slots, all None between uses: the scratch assignment */
    name_table hp_names;
    int n_hps, cap_hps;
    ir_call *layers;
    int n_layers, cap_layers;
    int real_layers;            /* layers that are not broken (add_broken) */
    int layer_counts[ST_COUNT];
    ir_expr *guard;
    const ast *model, *data, *compile, *search, *tuner;
    const ast *search_args[search_nargs];   /* where each search() argument was written */
    long unrolled;              /* layers produced by unrolling, to stop runaway specs */
    long iterations;            /* loop iterations unrolled, likewise */
    bool no_input;              /* the first layer had no input shape (reported) */
    bool network;               /* some layer is more than Input, Flatten or an estimator: compile(...) is needed */
    const ast *estimator;       /* the first estimator of the model, for messages */
    bool defining;              /* lowering a constant: its hps are not used yet */
    int syntax_errors;
    const compile_options *options;
    shapes_context *next;       /* what the checks after sema need */
    /* The facts of each data call, by its arguments' array (a constant data
     * call used twice is one call, probed once). */
    struct probed { ir_expr **args; probe_facts facts; } probed[4];
    int n_probed;
    bool search_broken;         /* search(...) had errors: its settings are not known */
    bool compile_missing_said;  /* "the spec has no compile(...)" was reported */
} sema;

enum { ENUM_CAP = 4096, MAX_UNROLLED = 20000, MAX_LOOP = 1000 };

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

/* Append the distinct hyperparameters e reads to list[0..*n), at most cap. */
static void collect(const ir_expr *e, int *list, int *n, int cap)
{
    if (!e) return;
    if (e->op == X_HP) {
        for (int k = 0; k < *n; k++)
            if (list[k] == e->hp) return;
        if (*n < cap) list[(*n)++] = e->hp;
        return;
    }
    collect(e->a, list, n, cap);
    collect(e->b, list, n, cap);
    for (int k = 0; k < e->n_items; k++) collect(e->items[k], list, n, cap);
}

/* Note every hyperparameter e reads as used under the current guard. */
static void use_hps(sema *s, const ir_expr *e);

static bool depends_on_hp(const ir_expr *e)
{
    if (!e) return false;
    if (e->op == X_HP) return true;
    if (depends_on_hp(e->a) || depends_on_hp(e->b)) return true;
    for (int k = 0; k < e->n_items; k++)
        if (depends_on_hp(e->items[k])) return true;
    return false;
}

/* "'units' = 32, 'pool' = True" for the hyperparameters in hps[0..m), in definition order. */
static void describe_assignment(const ir_program *p, const int *hps, int m, const hpt_value *values, char *buf, size_t n)
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
static int sema_enumerate(const ir_program *p, const int *hps, int n, hpt_value *values, long cap,
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
static void describe_value(hpt_value v, char *buf, size_t n)
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
static bool has_control(const char *s)
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
    if (has_control(s)) {
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

static int check_value(const st_arg *arg, hpt_value v, char *why, size_t n, const char **hint)
{
    *hint = NULL;
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
        return check_text(arg, v.u.s, why, n, hint);
    case T_SHAPE:
        if (v.type != V_LIST) goto wrong_type;
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
    case T_INT_PAIR:
        if (v.type == V_LIST) {
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
        if (!is_int(v)) goto wrong_type;
        break;
    case T_ACTIVATION:
        if (v.type == V_NONE) return 0;
        if (v.type != V_STRING) goto wrong_type;
        if (!st_find(ST_ACTIVATION, v.u.s)) {
            const char *near = st_suggest(ST_ACTIVATION, v.u.s, NULL);
            if (near) snprintf(why, n, "names no activation: \"%s\" (did you mean \"%s\"?)", v.u.s, near);
            else snprintf(why, n, "names no activation: \"%s\" (they are relu, tanh, sigmoid, gelu, softmax, linear)", v.u.s);
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
    case T_FEATURES:
        /* scikit-learn's max_features: a rule's name, a count, or a fraction of the features. */
        if (v.type == V_STRING) {
            if (st_choice_ok(arg->choices, v.u.s)) return 0;
            const char *near = NULL;
            for (const char *p = arg->choices; p && *p;) {
                const char *bar = strchr(p, '|');
                size_t len = bar ? (size_t)(bar - p) : strlen(p);
                char word[32];
                snprintf(word, sizeof word, "%.*s", (int)len, p);
                if (!near && st_edit_distance(v.u.s, word, 2) <= 2) near = p;
                if (near == p) {
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
        goto wrong_type;
    case T_SPLITTER:
        if (v.type == V_OBJECT && v.u.object.entry->kind == ST_SPLITTER) return 0;
        if (!is_int(v)) {
            snprintf(why, n, "must be a number of folds or StratifiedKFold(...)");
            return -1;
        }
        break;
    }
    /* Numbers: the range, written so that a NaN fails it (every comparison with NaN is false). */
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
wrong_type:;
    static const char *const type_words[] = {
        [T_INT] = "an int", [T_FLOAT] = "a number", [T_BOOL] = "True or False", [T_STRING] = "a string",
        [T_SHAPE] = "a shape such as [28, 28]", [T_INT_PAIR] = "an int or a pair of ints",
        [T_ACTIVATION] = "an activation name", [T_METRICS] = "a list of metric names",
        [T_CALLBACKS] = "a list of callbacks", [T_DATA] = "a data source", [T_SPLITTER] = "a number of folds",
        [T_FEATURES] = "\"sqrt\", \"log2\", a count or a fraction",
        [T_OPTIMIZER] = "an optimizer", [T_LOSS] = "a loss",
    };
    char what[120];
    describe_value(v, what, sizeof what);
    snprintf(why, n, "must be %s, not %s", type_words[arg->type], what);
    return -1;
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
        describe_assignment(c->s->p, c->hps, c->n_hps, values, with, sizeof with);
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
static bool check_arg(sema *s, const st_entry *entry, int k, const ir_expr *e, const ast *node)
{
    const st_arg *arg = &entry->args[k];
    if (!e) return false;
    if ((arg->flags & A_CONST) && depends_on_hp(e)) {
        diag_error(s->d, node->start, node->end, "%s argument '%s' must be a constant, not a hyperparameter",
                   entry->name, arg->name);
        diag_hint(s->d, "%s", entry->kind == ST_TUNER ? "the tuner's settings hold for the whole search; search over the model, compile and search(...) instead"
                                                        : "this setting is fixed before any trial runs");
        return false;
    }
    /* Only the hyperparameters e reads vary; the scratch assignment is None elsewhere. */
    int list[64], n = 0;
    collect(e, list, &n, 64);
    s->p->n_hps = s->n_hps;  /* the evaluator reads names through p */
    s->p->hps = s->hps;
    arg_check c = { s, entry, arg, e, node, list, n, 0 };
    sema_enumerate(s->p, list, n, s->values, ENUM_CAP, arg_check_one, &c);
    for (int j = 0; j < n; j++) s->values[list[j]] = value_none();
    return !c.failed;
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

static ir_expr *lower_expr(sema *s, const ast *n);

static constant *find_constant(sema *s, const char *name);

/* Is name a loop variable or a constant here? */
static bool bound_name(sema *s, const char *name)
{
    for (loopvar *l = s->loops; l; l = l->outer)
        if (!strcmp(l->name, name)) return true;
    return find_constant(s, name) != NULL;
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

static void use_hps(sema *s, const ir_expr *e)
{
    if (!e) return;
    if (e->op == X_HP) use_hp(s, e->hp);
    use_hps(s, e->a);
    use_hps(s, e->b);
    for (int k = 0; k < e->n_items; k++) use_hps(s, e->items[k]);
}

/* ---- names: open addressing over FNV-1a ------------------------------------ */

static uint32_t name_hash(const char *name)
{
    uint32_t h = 2166136261u;
    for (; *name; name++) h = (h ^ (unsigned char)*name) * 16777619u;
    /* FNV's low bits barely depend on the last characters (units_1, units_2, ...),
     * and the table indexes by them: mix the high bits down. */
    h ^= h >> 16;
    h *= 0x7feb352du;
    return h ^ (h >> 15);
}

/* The name of entry k of the table: a hyperparameter's or a constant's. */
static const char *entry_name(const sema *s, const name_table *t, int k)
{
    return t == &s->hp_names ? s->hps[k].name : s->consts[k].name;
}

static int table_find(const sema *s, const name_table *t, const char *name)
{
    if (!t->cap) return -1;
    uint32_t mask = (uint32_t)t->cap - 1, h = name_hash(name);
    for (uint32_t j = h & mask; t->slots[j]; j = (j + 1) & mask) {
        int k = (int)(uint32_t)t->slots[j] - 1;
        if ((uint32_t)(t->slots[j] >> 32) == h && !strcmp(entry_name(s, t, k), name)) return k;
    }
    return -1;
}

/* Index entry k under name (the entry is about to hold it); false when out of memory. */
static bool table_add(sema *s, name_table *t, const char *name, int k)
{
    if ((k + 1) * 2 > t->cap) {
        int cap = t->cap ? t->cap * 2 : 64;
        uint64_t *slots = calloc((size_t)cap, sizeof *slots);
        if (!slots) return false;
        for (int j = 0; j < t->cap; j++) {
            if (!t->slots[j]) continue;
            uint32_t at = (uint32_t)(t->slots[j] >> 32) & (uint32_t)(cap - 1);
            while (slots[at]) at = (at + 1) & (uint32_t)(cap - 1);
            slots[at] = t->slots[j];
        }
        free(t->slots);
        t->slots = slots;
        t->cap = cap;
    }
    uint32_t h = name_hash(name), at = h & (uint32_t)(t->cap - 1);
    while (t->slots[at]) at = (at + 1) & (uint32_t)(t->cap - 1);
    t->slots[at] = (uint64_t)h << 32 | (uint32_t)(k + 1);
    return true;
}

static int find_hp(sema *s, const char *name) { return table_find(s, &s->hp_names, name); }

static constant *find_constant(sema *s, const char *name)
{
    int k = table_find(s, &s->const_names, name);
    return k < 0 ? NULL : &s->consts[k];
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
        if (slot == 0 && value->kind == AST_NAME && !bound_name(s, value->text)) {
            diag_error(s->d, value->start, value->end, "a hyperparameter's name must be a string, such as \"%s\"", value->text);
            ok = false;
            continue;
        }
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
    if (has_control(got[0].u.s)) {
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

    for (int k = find_hp(s, h.name); k >= 0; k = -1) {
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
    if (!table_add(s, &s->hp_names, h.name, s->n_hps)) {
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
        constant *c = found ? NULL : find_constant(s, name);
        if (c && c->value && c->value->op == X_CONST) v = c->value->value, found = true, c->used = 1;
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

/* A literal's value, without allocating (most literals of a spec are folded away). */
static bool literal(const ast *n, hpt_value *v)
{
    switch (n ? n->kind : AST_ERROR) {
    case AST_INT: *v = value_int(n->ival); return true;
    case AST_FLOAT: *v = value_float(n->fval); return true;
    case AST_BOOL: *v = value_bool(n->ival != 0); return true;
    case AST_NONE: *v = value_none(); return true;
    case AST_STRING: *v = value_string(n->text); return true;
    default: return false;
    }
}

/* An operand: a literal in *slot (not allocated), or lowered. */
static ir_expr *operand(sema *s, const ast *n, ir_expr *slot)
{
    if (!literal(n, &slot->value)) return lower_expr(s, n);
    slot->op = X_CONST;
    return slot;
}

/* x op y (y NULL for a unary op): folded to one constant when both are
 * constant, with an error at n when that fails (a division by zero, an
 * overflow); otherwise a node, operands copied out of their stack slots. */
static ir_expr *operate(sema *s, ir_xop op, ir_expr *x, ir_expr *y, const ast *n, const ir_expr *slots)
{
    if (!x || (n->kind == AST_BINARY && !y)) return NULL;
    if (x->op == X_CONST && (!y || y->op == X_CONST)) {
        ir_expr e = { .op = op, .a = x, .b = y };
        hpt_value v;
        char why[160];
        arena scratch = { 0 };
        int rc = ir_eval(s->p, &e, NULL, &scratch, &v, why, sizeof why);
        arena_free(&scratch);
        if (rc) {
            diag_error(s->d, n->start, n->end, "%s", why);
            return NULL;
        }
        return const_expr(s, v);
    }
    if (x == &slots[0] || x == &slots[1]) x = const_expr(s, x->value);
    if (y == &slots[0] || y == &slots[1]) y = const_expr(s, y->value);
    return x && (y || n->kind != AST_BINARY) ? binary(s, op, x, y) : NULL;
}

static const char *const *constant_names(sema *s)
{
    static _Thread_local const char *names[64];
    int k = 0;
    for (loopvar *l = s->loops; l && k < 62; l = l->outer) names[k++] = l->name;
    for (int j = s->n_consts - 1; j >= 0 && k < 62; j--) names[k++] = s->consts[j].name;   /* the latest */
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
        constant *c = find_constant(s, n->text);
        if (c) {
            c->used = 1;
            /* A constant holding a hyperparameter uses it here, under this guard. */
            use_hps(s, c->value);
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
        else diag_hint(s->d, "a name is a loop variable or a constant assigned above it (%s = ...)", n->text);
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
        ir_expr slots[2] = { 0 };
        return operate(s, (ir_xop)n->op, operand(s, n->a, &slots[0]), NULL, n, slots);
    }
    case AST_BINARY: {
        ir_expr slots[2] = { 0 };
        ir_expr *x = operand(s, n->a, &slots[0]), *y = operand(s, n->b, &slots[1]);
        return operate(s, (ir_xop)n->op, x, y, n, slots);
    }
    case AST_KWARG:
        diag_error(s->d, n->start, n->end, "'%s = ...' is only allowed inside a call's parentheses", n->text);
        return NULL;
    case AST_ERROR:
        return NULL;    /* reported by the lexer */
    default:
        diag_error(s->d, n->start, n->end, "expected a value");
        return NULL;
    }
}

/* ---- the data ----------------------------------------------------------- */

/* A data call's facts: a built-in dataset's, or what the caller's probe finds
 * in the files, its failure reported at the argument it names (the path that
 * does not open, the label column that is not in the header).  Arguments that
 * depend on a hyperparameter (scale) reach the probe as None. */
static void probe_data(sema *s, const ast *call, const st_entry *entry, ir_expr **args, const ast **where)
{
    if (s->n_probed == (int)(sizeof s->probed / sizeof s->probed[0])) return;
    probe_facts *f = &s->probed[s->n_probed].facts;
    memset(f, 0, sizeof *f);
    if (shapes_builtin_facts(entry, f)) {
        s->probed[s->n_probed++].args = args;
        return;
    }
    if (!s->options || !s->options->probe) return;
    hpt_value values[16];
    for (int k = 0; k < entry->n_args && k < 16; k++) values[k] = args[k] && args[k]->op == X_CONST ? args[k]->value : value_none();
    if (s->options->probe(s->options->probe_user, s->p->file, entry, values, f) == 0) {
        s->probed[s->n_probed++].args = args;
        return;
    }
    for (int k = 0; k < f->n_failures && k < (int)(sizeof f->failures / sizeof f->failures[0]); k++) {
        const probe_failure *why = &f->failures[k];
        const ast *at = why->arg >= 0 && why->arg < entry->n_args && where[why->arg] ? where[why->arg] : call;
        diag_error(s->d, at->start, at->end, "%s", why->message);
        if (why->hint[0]) diag_hint(s->d, "%s", why->hint);
    }
}

static const probe_facts *facts_of(const sema *s, ir_expr *const *args)
{
    for (int k = 0; args && k < s->n_probed; k++)
        if (s->probed[k].args == args) return &s->probed[k].facts;
    return NULL;
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
    bool ok = true, seen_kw = false, misbound = false;
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
                misbound = true;
                lower_expr(s, value);   /* still check what is inside */
                continue;
            }
        } else {
            if (seen_kw) {
                diag_error(s->d, arg->start, arg->end, "positional argument after keyword arguments");
                diag_hint(s->d, "put positional arguments first, or name this one: %s(name = value)", entry->name);
                ok = false;
                misbound = true;
                continue;
            }
            slot = pos++;
            /* input_shape is keyword-only in Keras; do not let it eat a stray positional. */
            if (slot >= n_args || !strcmp(entry->args[slot].name, "input_shape")) {
                int max = n_args - (n_args && !strcmp(entry->args[n_args - 1].name, "input_shape"));
                diag_error(s->d, arg->start, arg->end, "%s takes %s%d positional argument%s", entry->name,
                           max ? "at most " : "", max, max == 1 ? "" : "s");
                ok = false;
                misbound = true;
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
        /* A value that fails its check makes the call fail too: what follows (shapes) must not see it. */
        if (!args[slot] || !check_arg(s, entry, slot, args[slot], value)) ok = false;
    }
    for (int k = 0; k < n_args; k++) {
        if (where[k]) continue;
        /* After a misspelt or misplaced argument, a missing one is most likely that one. */
        if ((entry->args[k].flags & A_REQ) && !misbound) {
            diag_error(s->d, call->start, call->end, "%s is missing its required argument '%s'", entry->name,
                       entry->args[k].name);
            diag_hint(s->d, "add %s = ... (%s)", entry->args[k].name, entry->args[k].doc);
            ok = false;
        } else if (entry->args[k].flags & A_REQ) {
            ok = false;
        }
        args[k] = const_expr(s, entry->args[k].default_value);
    }
    if (ok && entry->kind == ST_DATA) probe_data(s, call, entry, args, where);
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
        [ST_LayerNormalization] = "layer_normalization", [ST_Reshape] = "reshape",
        [ST_GlobalAveragePooling2D] = "global_average_pooling2d",
        [ST_RidgeClassifier] = "ridge_classifier", [ST_LogisticRegression] = "logistic_regression",
        [ST_RandomForestClassifier] = "random_forest_classifier", [ST_KNeighborsClassifier] = "k_neighbors_classifier",
    };
    int count = s->layer_counts[e->id]++;
    const char *base = names[e->id] ? names[e->id] : e->name;
    return count ? arena_printf(s->a, "%s_%d", base, count) : base;
}

/* Room for one more layer; false when memory is short (the layer is dropped). */
static bool room_for_layer(sema *s)
{
    if (s->n_layers < s->cap_layers) return true;
    int cap = s->cap_layers ? s->cap_layers * 2 : 16;
    ir_call *grown = realloc(s->layers, sizeof *grown * (size_t)cap);
    if (!grown) return false;
    s->layers = grown;
    s->cap_layers = cap;
    return true;
}

static void add_layer(sema *s, const ast *call, const st_entry *entry, ir_expr **args)
{
    if (!room_for_layer(s)) return;
    s->layers[s->n_layers++] = (ir_call){
        .entry = entry, .args = args, .guard = s->guard, .name = snake_name(s, entry),
        .span = { call->start, call->end },
    };
    s->real_layers++;
}

static void lower_items(sema *s, const ast *block);
static void lower_statement(sema *s, const ast *n);

/* A model item that could not be lowered: a layer with no arguments in its
 * place, where the checks over the space stop (see sema.h).  Only after an
 * error, so no program that compiles holds one. */
static void add_broken(sema *s, const ast *where)
{
    const ir_call *last = s->n_layers ? &s->layers[s->n_layers - 1] : NULL;
    if (last && !last->args && last->guard == s->guard) return;    /* one is enough */
    if (!room_for_layer(s)) return;
    s->layers[s->n_layers++] = (ir_call){ .guard = s->guard, .name = "", .span = { where->start, where->end } };
}

static void lower_one_layer(sema *s, const ast *call);

static void lower_layer(sema *s, const ast *call)
{
    /* Every layer written counts, checked or not, so runaway loops stop cheaply. */
    if (s->unrolled++ >= MAX_UNROLLED) {
        if (s->unrolled == MAX_UNROLLED + 1) {
            diag_error(s->d, call->start, call->end, "the model unrolls to more than %d layers", MAX_UNROLLED);
            add_broken(s, call);
        }
        return;
    }
    int layers = s->n_layers;
    lower_one_layer(s, call);
    if (s->n_layers == layers) add_broken(s, call);   /* every way out without a layer is an error */
}

static void lower_one_layer(sema *s, const ast *call)
{
    const char *path = path_text(s, call->a);
    const st_entry *entry = path ? st_find(ST_LAYER, path) : NULL;
    if (!entry && path) entry = st_find(ST_ESTIMATOR, path);
    if (!entry) {
        const st_entry *other = path ? st_find(-1, path) : NULL;
        if (other) {
            diag_error(s->d, call->a->start, call->a->end, "'%s' is %s %s, not a layer", path,
                       other->kind == ST_ACTIVATION || other->kind == ST_OPTIMIZER ? "an" : "a", st_kind_name(other->kind));
            if (other->kind == ST_ACTIVATION) diag_hint(s->d, "use Activation(\"%s\") or activation = \"%s\"", path, path);
        } else {
            diag_error(s->d, call->a->start, call->a->end, "unknown layer '%s'", path ? path : "?");
            const char *near = path ? st_suggest(ST_LAYER, path, NULL) : NULL;
            if (!near && path) near = st_suggest(ST_ESTIMATOR, path, NULL);
            if (near) diag_hint(s->d, "did you mean '%s'?", near);
        }
        for (const ast *a = call->first; a; a = a->next) lower_expr(s, a->kind == AST_KWARG ? a->a : a);
        return;
    }
    /* Noted before the arguments are checked, so a bad one does not also bring "no compile(...)". */
    if (entry->kind == ST_ESTIMATOR && !s->estimator) s->estimator = call;
    if (entry->kind == ST_LAYER && entry->id != ST_Input && entry->id != ST_Flatten) s->network = true;
    ir_expr **args;
    const ast *where[32] = { 0 };
    if (!lower_call(s, call, entry, &args, where)) return;
    bool first = s->real_layers == 0;       /* broken layers before it do not count */
    if (first && entry->kind == ST_ESTIMATOR) {
        /* An estimator takes no input_shape: the features' count comes from Input. */
        if (s->no_input) return;
        s->no_input = true;
        diag_error(s->d, call->start, call->end, "the model's first layer needs an input shape");
        diag_hint(s->d, "start the model with Input(shape = [F]), F being the number of features (or the images' [28, 28])");
        return;
    }
    if (first && entry->id != ST_Input) {
        /* Keras: input_shape on the first layer stands in for Input(). */
        int k = st_arg_index(entry, "input_shape");
        hpt_value shape;
        if (s->no_input) return;    /* said once, for the first layer */
        if (k < 0 || !const_value(s, args[k], &shape) || shape.type == V_NONE) {
            s->no_input = true;
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
            if (s->layers[0].span.start != call->start && s->n_layers > 0)
                diag_note(s->d, s->layers[0].span.start, s->layers[0].span.end, "the model already starts here");
            diag_hint(s->d, "declare the input once: Input(shape = ...) at the top, or input_shape = ... on the first layer");
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

static bool lower_for_items(sema *s, const ast *n);

/* A loop whose bound could not be lowered (or that was cut short) leaves a
 * broken layer in its place. */
static void lower_for(sema *s, const ast *n)
{
    if (!lower_for_items(s, n)) add_broken(s, n);
}

/* for_item -> 'for' NAME 'in' range '(' [start ','] stop ')' block
 * False after an error about the loop itself (its body's are the body's). */
static bool lower_for_items(sema *s, const ast *n)
{
    const ast *it = n->a;
    const char *path = it && it->kind == AST_CALL ? path_text(s, it->a) : NULL;
    if (!path || strcmp(path, "range") || it->n < 1 || it->n > 2 || it->first->kind == AST_KWARG ||
        (it->n == 2 && it->first->next->kind == AST_KWARG)) {
        diag_error(s->d, it ? it->start : n->start, it ? it->end : n->end, "a for loop runs over range(n) or range(start, stop)");
        diag_hint(s->d, "for i in range(3) { ... } repeats its body; range(hp.Int(\"depth\", 1, 3)) searches the depth");
        return false;
    }
    const ast *start_node = it->n == 2 ? it->first : NULL, *stop_node = it->n == 2 ? it->first->next : it->first;
    int64_t start = 0;
    if (start_node) {
        ir_expr *e = lower_expr(s, start_node);
        if (!e) return false;
        if (e->op != X_CONST || e->value.type != V_INT) {
            diag_error(s->d, start_node->start, start_node->end, "range's start must be an integer constant");
            return false;
        }
        start = e->value.u.i;
    }
    ir_expr *stop = lower_expr(s, stop_node);
    if (!stop) return false;
    /* The bound's largest value decides how far to unroll: evaluate it for every
     * combination of the hyperparameters it reads (bounds are small integer spaces). */
    int list[16], m = 0;
    collect(stop, list, &m, 16);
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    const char *culprit = NULL;
    bool ok = true;
    long total = 1;
    for (int k = 0; k < m; k++) {
        long card = ir_hp_cardinality(&s->hps[list[k]]);
        if (s->hps[list[k]].kind == HP_FLOAT) culprit = s->hps[list[k]].name;
        if (card < 0 || s->hps[list[k]].kind == HP_FLOAT) ok = false;
        else if (total <= 100000) total *= card;
    }
    if (!ok) {
        if (culprit)
            diag_error(s->d, stop_node->start, stop_node->end,
                       "a for loop's bound must be an integer, but '%s' is an hp.Float", culprit);
        else
            diag_error(s->d, stop_node->start, stop_node->end,
                       "a for loop's bound must be an integer constant or depend on integer hyperparameters");
        diag_hint(s->d, "use hp.Int(\"num_layers\", 1, 3) or hp.Choice over integers");
        return false;
    }
    if (total > 100000 || m == 16) {
        diag_error(s->d, stop_node->start, stop_node->end,
                   "a for loop's bound takes too many values to unroll (more than 100000 combinations)");
        diag_hint(s->d, "bound the loop by one hp.Int, such as range(hp.Int(\"num_layers\", 1, 3))");
        return false;
    }
    s->p->hps = s->hps;
    s->p->n_hps = s->n_hps;
    for (long idx = 0; idx < total && ok; idx++) {
        long rest = idx;
        for (int k = 0; k < m; k++) {
            long card = ir_hp_cardinality(&s->hps[list[k]]);
            s->values[list[k]] = ir_hp_value_at(&s->hps[list[k]], rest % card);
            rest /= card;
        }
        ir_assignment as = { s->values, s->n_hps };
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
    for (int k = 0; k < m; k++) s->values[list[k]] = value_none();
    if (!ok) return false;
    /* Unsigned: the difference of two int64 may not fit in one. */
    if (hi > start && (uint64_t)hi - (uint64_t)start > (uint64_t)MAX_LOOP) {
        diag_error(s->d, stop_node->start, stop_node->end, "a for loop may run at most %d times, but this one runs up to %llu",
                   MAX_LOOP, (unsigned long long)((uint64_t)hi - (uint64_t)start));
        return false;
    }
    ir_expr *outer = s->guard;
    for (int64_t i = start; i < hi; i++) {
        /* Nested loops multiply: bound the total work, empty bodies included. */
        if (s->iterations++ >= MAX_UNROLLED) {
            if (s->iterations == MAX_UNROLLED + 1)
                diag_error(s->d, stop_node->start, stop_node->end, "the model's loops run more than %d iterations in all",
                           MAX_UNROLLED);
            s->guard = outer;
            return false;
        }
        ir_expr *cond = NULL;
        if (i >= lo) cond = binary(s, X_GT, stop, const_expr(s, value_int(i)));  /* only some trials get here */
        s->guard = conjoin(s, outer, cond);
        loopvar var = { n->text, i, s->loops };
        s->loops = &var;
        lower_items(s, n->b);
        s->loops = var.outer;
    }
    s->guard = outer;
    return true;
}

typedef struct cond_check {
    sema *s;
    const ir_expr *e;
    const int *hps;
    int n_hps;
    long truths, falses;
    const ast *node;
    bool failed;
} cond_check;

static int cond_one(void *user, hpt_value *values)
{
    cond_check *c = user;
    ir_assignment as = { values, c->s->p->n_hps };
    arena scratch = { 0 };
    hpt_value v;
    char why[300], with[300];
    int rc = ir_eval(c->s->p, c->e, &as, &scratch, &v, why, sizeof why);
    if (rc == 0 && v.type == V_BOOL) {
        if (v.u.b) c->truths++;
        else c->falses++;
    } else {
        if (rc == 0) {
            char what[120];
            describe_value(v, what, sizeof what);
            snprintf(why, sizeof why, "an if condition must be True or False, not %s", what);
        }
        describe_assignment(c->s->p, c->hps, c->n_hps, values, with, sizeof with);
        diag_error(c->s->d, c->node->start, c->node->end, "%s%s%s", why, *with ? " when " : "", with);
        c->failed = true;
    }
    arena_free(&scratch);
    return c->failed;
}

/* A condition over hyperparameters must be a bool for every value they take;
 * one that is never (or always) true is worth a warning: a block never built. */
static bool check_condition(sema *s, const ir_expr *cond, const ast *node)
{
    int list[64], n = 0;
    collect(cond, list, &n, 64);
    s->p->n_hps = s->n_hps;
    s->p->hps = s->hps;
    cond_check c = { s, cond, list, n, 0, 0, node, false };
    int complete = sema_enumerate(s->p, list, n, s->values, ENUM_CAP, cond_one, &c);
    for (int j = 0; j < n; j++) s->values[list[j]] = value_none();
    if (c.failed) return false;
    if (complete && (!c.truths || !c.falses)) {
        diag_warning(s->d, node->start, node->end, "this condition is %s true, whatever the hyperparameters",
                     c.truths ? "always" : "never");
        diag_hint(s->d, "%s", c.truths ? "its else branch is never built" : "the block under it is never built");
    }
    return true;
}

/* if_item -> 'if' expr block [ 'else' (block | if_item) ] */
static void lower_if(sema *s, const ast *n)
{
    /* A condition that cannot be lowered leaves a broken layer in the if's place. */
    ir_expr *cond = lower_expr(s, n->a);
    if (!cond) {
        add_broken(s, n);
        return;
    }
    if (cond->op == X_CONST) {
        if (cond->value.type != V_BOOL) {
            char what[120];
            describe_value(cond->value, what, sizeof what);
            diag_error(s->d, n->a->start, n->a->end, "an if condition must be True or False, not %s", what);
            diag_hint(s->d, "compare it, as in: if depth > 1 { ... }");
            add_broken(s, n);
            return;
        }
        /* A constant condition: only the branch taken exists. */
        const ast *taken = cond->value.u.b ? n->first : n->b;
        if (taken && taken->kind == AST_IF) lower_if(s, taken);
        else if (taken) lower_items(s, taken);
        return;
    }
    if (cond->op == X_HP && s->hps[cond->hp].kind != HP_BOOLEAN) {
        const ir_hp *h = &s->hps[cond->hp];
        diag_error(s->d, n->a->start, n->a->end, "an if condition must be a boolean, but '%s' is not an hp.Boolean",
                   h->name);
        bool text = h->kind == HP_CHOICE || h->kind == HP_FIXED ? h->values[0].type == V_STRING : false;
        if (text) diag_hint(s->d, "compare it: if hp.Choice(\"%s\", ...) == \"...\" { ... }", h->name);
        else diag_hint(s->d, "compare it, as in: if hp.%s(\"%s\", ...) > 0 { ... }; or use hp.Boolean(\"%s\")",
                       h->kind == HP_INT ? "Int" : h->kind == HP_FLOAT ? "Float" : h->kind == HP_CHOICE ? "Choice" : "Fixed",
                       h->name, h->name);
        add_broken(s, n);
        return;
    }
    if (!check_condition(s, cond, n->a)) {
        add_broken(s, n);
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
    for (const ast *item = block->first; item && !diag_stopped(s->d); item = item->next) {
        switch (item->kind) {
        case AST_CALL: lower_layer(s, item); break;
        case AST_FOR: lower_for(s, item); break;
        case AST_IF: lower_if(s, item); break;
        case AST_ASSIGN:
            diag_error(s->d, item->start, item->start + (uint32_t)strlen(item->text),
                       "constants are assigned outside the model block");
            diag_hint(s->d, "move '%s = ...' above model { ... }", item->text);
            /* Define it anyway (once), so its uses below are not errors too. */
            if (!bound_name(s, item->text)) lower_statement(s, item);
            break;
        default:
            diag_error(s->d, item->start, item->end, "expected a layer, a for loop or an if");
            add_broken(s, item);
            break;
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
                *seen = n, s->search_broken |= entry->kind == ST_SEARCH;
            return;
        }
        /* After a syntax error, a statement out of place is most likely its echo (a lost brace). */
        if (s->syntax_errors) return;
        if (entry && (entry->kind == ST_LAYER || entry->kind == ST_ESTIMATOR)) {
            diag_error(s->d, n->a->start, n->a->end, "%s %s outside the model block", st_kind_name(entry->kind), entry->name);
            diag_hint(s->d, "layers go inside model { ... }");
            return;
        }
        diag_error(s->d, n->a->start, n->a->end, "'%s' is not a statement", path ? path : "this");
        const char *extra[] = { "compile", "search", NULL };
        const char *near = path ? st_suggest(ST_KIND_COUNT, path, extra) : NULL;
        if (near) diag_hint(s->d, "did you mean '%s'?", near);
        else diag_hint(s->d, "a spec holds data = ..., model { ... }, compile(...), tuner = ... and search(...)");
        /* The statement meant is there, misspelt: do not also call it missing. */
        if (near && !strcmp(near, "compile") && !s->compile) s->compile = n;
        if (near && !strcmp(near, "search") && !s->search) s->search = n;
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
            if (!v || v->kind == AST_ERROR) return;
            const char *path = v->kind == AST_CALL ? path_text(s, v->a) : NULL;
            const st_entry *entry = path ? st_find(kind, path) : NULL;
            if (!entry) {
                diag_error(s->d, v->start, v->end, "%s must be %s", n->text,
                           is_data ? "a data source such as datasets.fashion_mnist(...)" : "a tuner such as Hyperband(...)");
                const char *near = path ? st_suggest(kind, path, NULL) : NULL;
                if (near) diag_hint(s->d, "did you mean '%s'?", near);
                else if (is_data && v->kind == AST_STRING)
                    diag_hint(s->d, "to read a file, call a data source: csv(\"%s\"), npy(x = ..., y = ...) or idx(...)", v->text);
                else if (is_data)
                    diag_hint(s->d, "the data sources are datasets.fashion_mnist, datasets.mnist, csv, npy and idx");
                else
                    diag_hint(s->d, "the tuners are RandomSearch, GridSearch, BayesianOptimization, Hyperband, TPE and BOHB");
                if (!path) lower_expr(s, v);
                return;
            }
            ir_expr **args;
            if (lower_call(s, v, entry, &args, NULL))
                set_call(s, is_data ? &s->p->data : &s->p->tuner, seen, n, entry, args);
            return;
        }
        const constant *first = find_constant(s, n->text);
        if (first) {
            diag_error(s->d, n->start, n->start + (uint32_t)strlen(n->text), "'%s' is assigned twice", n->text);
            diag_note(s->d, first->node->start, first->node->end, "first assigned here");
            return;
        }
        if (!strcmp(n->text, "hp") || !strcmp(n->text, "range") || st_find(-1, n->text)) {
            diag_error(s->d, n->start, n->start + (uint32_t)strlen(n->text), "'%s' is a built-in name and cannot be assigned", n->text);
            return;
        }
        /* Hyperparameters in a constant count as used only where the constant is. */
        s->defining = true;
        constant c = { .name = n->text, .value = lower_expr(s, n->a), .node = n };
        s->defining = false;
        if (s->n_consts == s->cap_consts) {
            int cap = s->cap_consts ? s->cap_consts * 2 : 64;
            constant *grown = realloc(s->consts, sizeof *grown * (size_t)cap);
            if (!grown) {
                diag_error(s->d, n->start, n->end, "out of memory");
                return;
            }
            s->consts = grown, s->cap_consts = cap;
        }
        s->consts[s->n_consts] = c;
        if (!table_add(s, &s->const_names, c.name, s->n_consts)) {
            diag_error(s->d, n->start, n->end, "out of memory");
            return;
        }
        s->n_consts++;
        return;
    }
}

/* The metrics the spec computes, for checking objective and monitor names. */
static bool metric_computed(sema *s, const char *name, bool *needs_validation)
{
    *needs_validation = !strncmp(name, "val_", 4);
    const char *base = *needs_validation ? name + 4 : name;
    if (!strcmp(base, "loss")) return true;
    /* Estimators always report accuracy (and a loss). */
    if (s->estimator && !s->network && st_find(ST_METRIC, base)) return true;
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
    if (s->search_broken) return true;      /* not known: say nothing */
    if (!s->p->search.entry) return false;
    ir_expr *split = s->p->search.args[search_validation_split];
    ir_expr *vdata = s->p->search.args[search_validation_data];
    ir_expr *cv = s->p->search.args[search_cv];
    if (split && (split->op != X_CONST || value_as_double(split->value) > 0)) return true;
    if (vdata && !(vdata->op == X_CONST && vdata->value.type == V_NONE)) return true;
    if (cv && !(cv->op == X_CONST && cv->value.type == V_NONE)) return true;
    return false;
}

/* A name the tuner or a callback watches must be computed and, for a val_
 * name, have validation data: two independent errors, both reported. */
static void check_metric_name(sema *s, const char *what, const char *name, uint32_t at, uint32_t end)
{
    bool needs_val;
    if (!metric_computed(s, name, &needs_val)) {
        diag_error(s->d, at, end, "%s '%s' is never computed", what, name);
        const char *cands[] = { "loss", "val_loss", "accuracy", "val_accuracy", NULL };
        const char *near = st_suggest(ST_KIND_COUNT, name, cands);
        const st_entry *metric = st_find(ST_METRIC, needs_val ? name + 4 : name);
        if (near && strcmp(near, name)) diag_hint(s->d, "did you mean '%s'?", near);
        else if (metric) diag_hint(s->d, "add \"%s\" to compile(metrics = [...])", metric->name);
        else diag_hint(s->d, "the metrics are loss and those listed in compile(metrics = [...]); val_ names need validation data");
    }
    if (needs_val && !has_validation(s)) {
        diag_error(s->d, at, end, "%s '%s' needs validation data", what, name);
        diag_hint(s->d, "set validation_split = 0.2 (or validation_data) in search(...)");
    }
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
    /* After syntax errors a missing block is likely the one that failed to parse. */
    if (s->syntax_errors) return;
    if (!root || !root->first) {
        diag_error(s->d, DIAG_NOWHERE, DIAG_NOWHERE, "the spec is empty");
        diag_hint(s->d, "a spec needs at least data = ..., model { ... } and compile(...)");
        return;
    }
    if (!s->model) {
        diag_error(s->d, DIAG_NOWHERE, DIAG_NOWHERE, "the spec has no model { ... } block");
        diag_hint(s->d, "model { Input(shape = [28, 28]) Flatten() Dense(10) }");
    } else if (s->n_layers == 0 && s->d->errors == 0) {
        diag_error(s->d, s->model->start, s->model->start + 5, "the model has no layers");
    }
    if (!s->data) {
        diag_error(s->d, DIAG_NOWHERE, DIAG_NOWHERE, "the spec has no data = ... statement");
        diag_hint(s->d, "data = datasets.fashion_mnist(scale = 1/255)");
    }
    if (!s->compile && s->estimator && !s->network) {
        /* Every branch is an estimator: nothing to compile. */
    } else if (s->compile && s->estimator && !s->network && s->model) {
        diag_warning(s->d, s->compile->start, s->compile->a->end,
                     "compile(...) has no effect: every branch of the model is a classic estimator");
        diag_hint(s->d, "estimators have their own settings, e.g. LogisticRegression(C = 0.5); remove compile(...)");
    } else if (!s->compile) {
        s->compile_missing_said = true;
        diag_error(s->d, DIAG_NOWHERE, DIAG_NOWHERE, "the spec has no compile(...) statement");
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
    /* Checked after other errors too: a missing metric and missing validation
     * data are independent of them (values not known are taken as fine). */
    if (s->p->tuner.entry) {
        const st_entry *t = s->p->tuner.entry;
        int k = st_arg_index(t, "objective");
        hpt_value obj;
        if (const_value(s, s->p->tuner.args[k], &obj) && obj.type == V_STRING) {
            uint32_t a, b;
            arg_span(s->tuner->a, t, "objective", &a, &b);
            check_metric_name(s, "objective", obj.u.s, a, b);
        }
        /* search(epochs = ...) under Hyperband or BOHB is what Keras Tuner's users
         * write (its intro does): no warning; `hptc space` says who sets the epochs. */
    }
    if (s->search_args[search_validation_split] && s->search_args[search_validation_data])
        diag_warning(s->d, s->search_args[search_validation_split]->start, s->search_args[search_validation_split]->end,
                     "validation_split has no effect when validation_data is given");
    /* An estimator is fitted once: the training loop's settings do not reach it. */
    if (s->estimator && !s->network) {
        static const int loop_args[] = { search_epochs, search_batch_size, search_shuffle, search_callbacks };
        for (size_t k = 0; k < sizeof loop_args / sizeof loop_args[0]; k++) {
            const ast *at = s->search_args[loop_args[k]];
            if (at)
                diag_warning(s->d, at->start, at->end,
                             "%s has no effect: every branch of the model is a classic estimator, fitted once",
                             st_catalogue[ST_search].args[loop_args[k]].name);
        }
    }
    /* Each fold validates on its own rows: another validation set would be ignored. */
    const ast *cv = s->search_args[search_cv];
    const ast *other = s->search_args[search_validation_data] ? s->search_args[search_validation_data]
                                                                : s->search_args[search_validation_split];
    if (cv && other && cv->kind != AST_NONE) {
        diag_error(s->d, other->start, other->end, "%s cannot be combined with cv: each fold validates on its own rows",
                   s->search_args[search_validation_data] ? "validation_data" : "validation_split");
        diag_hint(s->d, "remove it; with cv = k the score is the mean of the k folds' val_ metrics");
    }
    /* EarlyStopping monitors must be computed too. */
    ir_expr *list = s->p->search.args && s->search ? s->p->search.args[search_callbacks] : NULL;
    const ast *written = s->search_args[search_callbacks];
    /* The list as written, when it was written in place, to point at the monitor itself. */
    const ast *item = written && written->kind == AST_LIST && list && list->op == X_LIST && written->n == list->n_items
                          ? written->first : NULL;
    for (int k = 0; list && list->op == X_LIST && k < list->n_items; k++, item = item ? item->next : NULL) {
        ir_expr *cb = list->items[k];
        if (cb->op != X_OBJECT || cb->entry->id != ST_EarlyStopping) continue;
        ir_expr *mon = cb->items[EarlyStopping_monitor];
        if (mon->op == X_CONST && mon->value.type == V_STRING) {
            uint32_t a = s->search->start, b = s->search->end;
            if (written) a = written->start, b = written->end;
            if (item && item->kind == AST_CALL) arg_span(item, cb->entry, "monitor", &a, &b);
            check_metric_name(s, "EarlyStopping monitor", mon->value.u.s, a, b);
        }
    }
    for (int k = 0; k < s->n_consts; k++) {
        const constant *c = &s->consts[k];
        if (c->used || !c->value) continue;
        diag_warning(s->d, c->node->start, c->node->start + (uint32_t)strlen(c->name), "'%s' is assigned but never used%s",
                     c->name, depends_on_hp(c->value) ? ": its hyperparameters take no part in the search" : "");
    }
}

/* What shapes_check needs that the IR does not hold. */
static void hand_on(sema *s, shapes_context *next)
{
    next->compile_written = s->compile != NULL || s->compile_missing_said;
    const probe_facts *f = s->p->data.entry ? facts_of(s, s->p->data.args) : NULL;
    if (f) next->data = *f, next->have_data = true;
    const ir_expr *v = s->p->search.args ? s->p->search.args[search_validation_data] : NULL;
    const ast *at = s->search_args[search_validation_data];
    f = v && v->op == X_OBJECT ? facts_of(s, v->items) : NULL;
    if (f && at) next->validation = *f, next->have_validation = true, next->validation_at = (ir_span){ at->start, at->end };
}

/* Rewrite every X_HP under e through map, in two passes because constants
 * share nodes: the first stores -1 - map[hp] (marking it done), the second
 * turns marks back into indices. */
static void renumber(ir_expr *e, const int *map, int pass)
{
    if (!e) return;
    if (e->op == X_HP) {
        if (pass == 0 && e->hp >= 0) e->hp = -1 - map[e->hp];
        if (pass == 1 && e->hp < 0) e->hp = -1 - e->hp;
        return;
    }
    renumber(e->a, map, pass);
    renumber(e->b, map, pass);
    for (int k = 0; k < e->n_items; k++) renumber(e->items[k], map, pass);
}

/* Hyperparameters of constants never used take no part in the search: drop
 * them, so the space, the tuner and the IR hold only what trials use. */
static void drop_unused(sema *s)
{
    int *map = malloc(sizeof *map * ((size_t)s->n_hps + 1)), n = 0;
    if (!map) return;
    for (int k = 0; k < s->n_hps; k++) map[k] = s->info[k].always || s->info[k].condition ? n++ : -1;
    if (n < s->n_hps) {
        for (int pass = 0; pass < 2; pass++) {
            for (int k = 0; k < s->n_hps; k++)
                if (map[k] >= 0) renumber(s->info[k].condition, map, pass);
            for (int k = 0; k < s->n_layers; k++) {
                renumber(s->layers[k].guard, map, pass);
                /* A broken layer (add_broken) has no arguments. */
                for (int j = 0; s->layers[k].args && j < s->layers[k].entry->n_args; j++)
                    renumber(s->layers[k].args[j], map, pass);
            }
            ir_call *calls[] = { &s->p->data, &s->p->compile, &s->p->search, &s->p->tuner };
            for (int c = 0; c < 4; c++)
                for (int j = 0; calls[c]->entry && calls[c]->args && j < calls[c]->entry->n_args; j++)
                    renumber(calls[c]->args[j], map, pass);
        }
        for (int k = 0; k < s->n_hps; k++)
            if (map[k] >= 0) s->hps[map[k]] = s->hps[k], s->info[map[k]] = s->info[k];
        s->n_hps = n;
    }
    free(map);
}

int sema_lower(ir_program *p, const ast *root, diag_ctx *d, const compile_options *options, shapes_context *next)
{
    sema s = { .p = p, .d = d, .a = &p->arena, .syntax_errors = d->errors, .options = options, .next = next };
    int before = d->errors;
    /* Past the error limit nothing more is printed: stop (a 50 MB file of mistakes ends at once). */
    for (const ast *n = root ? root->first : NULL; n && !diag_stopped(d); n = n->next) lower_statement(&s, n);
    p->hps = s.hps;
    p->n_hps = s.n_hps;
    final_checks(&s, root);
    if (d->errors == before) drop_unused(&s);
    if (next) hand_on(&s, next);
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
    free(s.values);
    free(s.hp_names.slots);
    free(s.consts);
    free(s.const_names.slots);
    free(s.layers);
    return d->errors - before;
}
