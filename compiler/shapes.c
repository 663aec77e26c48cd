/* shapes.c: see shapes.h.  Failures are collected per layer during the
 * walk over the space (below) and printed afterwards in layer order; the
 * first configuration too large for the memory after them.  A layer sema
 * could not lower (args NULL) ends every walk that reaches it, unreported:
 * sema said why, and a model with a hole has no shapes to speak of.
 *
 * The layers form a graph (ir_call.inputs): a layer reads the values of
 * earlier ones, and an absent layer's value is its first input's.  A value
 * is live from its layer to the last layer that reads it (the model's
 * output reads the last layer's); live values sit in slots, given out once
 * for the whole program like registers, so a walk's state is the layer it
 * is at plus its slots' shapes (a stack needs two slots, a merge block one
 * more per branch waiting to be joined). */
#include "compiler/shapes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool shapes_builtin_facts(const st_entry *source, probe_facts *f)
{
    if (source->id != ST_fashion_mnist && source->id != ST_mnist) return false;
    *f = (probe_facts){ .rank = 2, .shape = { 28, 28 }, .n_classes = 10, .classes_fixed = true };
    snprintf(f->source, sizeof f->source, "%s", source->name);
    snprintf(f->sample, sizeof f->sample, "28x28");
    return true;
}

static long long sample_size(const int *shape, int rank)
{
    long long size = 1;
    for (int k = 0; k < rank; k++) size *= shape[k];
    return size;
}

/* The runtime feeds each sample to the Input as its values in order (28x28,
 * 28x28x1 and 784 all take Fashion-MNIST), so the Input's size must be the
 * data's, and validation_data's samples must be as large. */
static void check_input(const ir_program *p, diag_ctx *d, const shapes_context *c)
{
    const ir_call *in = &p->layers[0];
    if (!c || !in->args || in->entry->id != ST_Input) return;
    hpt_value v;
    arena scratch = { 0 };
    char why[160];
    if (ir_eval(p, in->args[Input_shape], NULL, &scratch, &v, why, sizeof why) == 0 && v.type == V_LIST) {
        long long size = 1;
        char dims[80] = "";
        size_t len = 0;
        for (int k = 0; k < v.u.list.n && len < sizeof dims; k++) {
            size *= (long long)value_as_double(v.u.list.items[k]);
            len += (size_t)snprintf(dims + len, sizeof dims - len, "%s%lld", k ? "x" : "", (long long)v.u.list.items[k].u.i);
        }
        const probe_facts *f = &c->data;
        long long want = c->have_data && f->rank ? sample_size(f->shape, f->rank) : size;
        if (size != want) {
            diag_error(d, in->span.start, in->span.end, "the input has %lld values per sample (%s), but %s samples have %lld (%s)",
                       size, dims, f->source, want, f->sample);
            char shape[64] = "";
            for (int k = 0, n = 0; k < f->rank; k++) n += snprintf(shape + n, sizeof shape - (size_t)n, "%s%d", k ? ", " : "", f->shape[k]);
            if (f->rank == 2) diag_hint(d, "declare the input as Input(shape = [%s]) (or [%s, 1] for convolutions)", shape, shape);
            else diag_hint(d, "declare the input as Input(shape = [%s])", shape);
        }
        const probe_facts *g = &c->validation;
        if (c->have_validation && g->rank && sample_size(g->shape, g->rank) != size && size == want)
            diag_error(d, c->validation_at.start, c->validation_at.end,
                       "validation_data samples have %lld values (%s, in %s), but the model's input has %lld (%s)",
                       sample_size(g->shape, g->rank), g->sample, g->source, size, dims);
    }
    arena_free(&scratch);
}

/* Input j of layer k: the layer whose output it reads.  A layer without
 * inputs past the first (an IR built by hand) reads the one before it. */
static int input_of(const ir_program *p, int k, int j)
{
    const ir_call *c = &p->layers[k];
    return c->n_inputs ? c->inputs[j] : k - 1;
}

static int inputs_count(const ir_program *p, int k)
{
    return p->layers[k].n_inputs ? p->layers[k].n_inputs : k > 0;
}

/* A layer's plan from its inputs' shapes (in[j] of rank rank[j]): a merge
 * layer's multi-input rule, or the layer's own rule on its one input. */
static int plan_from(const st_entry *e, const hpt_value *args, int n_in, const int *const *in, const int *rank, int *out,
                     int *out_rank, st_weights *w, char *why, size_t n)
{
    static const int none[4];
    if (st_merge_rule_of(e)) return st_merge_plan(e, args, n_in, in, rank, out, out_rank, w, why, n);
    return st_layer_plan(e, args, n_in ? in[0] : none, n_in ? rank[0] : 0, out, out_rank, w, why, n);
}

int shapes_infer(const ir_program *p, const ir_assignment *a, int (*shapes)[4], int *ranks, char *why, size_t n)
{
    return shapes_plan(p, a, shapes, ranks, NULL, why, n);
}

int shapes_plan(const ir_program *p, const ir_assignment *a, int (*shapes)[4], int *ranks, st_weights *plans, char *why,
                size_t n)
{
    /* value[k]: the present layer whose output layer k's value is (itself, or
     * for an absent layer, its first input's). */
    int *value = malloc(((size_t)p->n_layers + 1) * sizeof *value);
    if (!value) {
        snprintf(why, n, "out of memory");
        return -1;
    }
    hpt_value args[32];
    int rc = 0;
    for (int k = 0; k < p->n_layers && rc == 0; k++) {
        const ir_call *c = &p->layers[k];
        int n_in = inputs_count(p, k);
        ranks[k] = 0;
        if (plans) plans[k] = (st_weights){ 0 };
        if (!ir_holds(p, c->guard, a)) {
            value[k] = n_in ? value[input_of(p, k, 0)] : k;
            continue;
        }
        const int *in[ST_MAX_INPUTS];
        int in_rank[ST_MAX_INPUTS];
        for (int j = 0; j < n_in && j < ST_MAX_INPUTS; j++) {
            int from = value[input_of(p, k, j)];
            in[j] = shapes[from], in_rank[j] = ranks[from];
        }
        arena scratch = { 0 };
        int out[4] = { 0 }, out_rank = 0;
        rc = ir_eval_call(p, c, a, &scratch, args, why, n);
        if (rc == 0) rc = plan_from(c->entry, args, n_in, in, in_rank, out, &out_rank, plans ? &plans[k] : NULL, why, n);
        arena_free(&scratch);
        if (rc) rc = -1 - k;
        memcpy(shapes[k], out, sizeof out);
        ranks[k] = rc ? 0 : out_rank;
        value[k] = k;
    }
    free(value);
    return rc;
}

/* ---- the model's size --------------------------------------------------------
 *
 * Every configuration's parameters must fit in memory with their gradients
 * and the optimizer's state.  The walk below merges states with the same
 * future, so the largest configuration is found as a maximum over the walk's
 * graph: each memo state keeps the largest cost of any continuation from it
 * (its future), known once every walk from it has ended (a walk never meets
 * a state of its own ancestors: layers only advance).  Each walk logs its
 * steps (the layer it passed, the state it entered) on a stack; when it ends,
 * its steps get their futures from the end backwards, and its result goes to
 * the walk it split from, which keeps the largest of its children's.  A
 * walk's end, or its meeting a state already walked, adds the cost of its
 * path to the future: a sum over memory is the error, at the largest layer. */
typedef struct cost {
    double params, stats;   /* trainable parameters, non-trainable statistics */
    double big_floats;      /* the layer taking the most memory, its floats and parameters */
    double big_params;
    int big;                /* -1: none */
    bool valid;             /* false: every configuration from here fails a shape check */
} cost;

typedef struct step_log {
    int future;             /* index of the memo state entered at this step, or -1 */
    int layer;              /* the layer passed, or -1 */
    double params, stats;
} step_log;

/* ---- checking over the whole space ----------------------------------------
 *
 * A depth-first walk through the layers that assigns a hyperparameter only
 * when a guard or a shape argument needs it (so `a or b` with a = True never
 * splits on b), splitting the walk once per value.  Two walks that reach the
 * same layer with the same input shape and the same values of every
 * hyperparameter still needed further on have the same future, so the second
 * stops there (a memo of such states): a chain of 150 nested ifs is 150
 * walks, 30 independent optional layers are 60 steps, not 2^30.  Each
 * hyperparameter's default is tried first, so the first walk is the default
 * trial; large dimensions (more than 64 values) then contribute their two
 * ends, where shape rules, monotone in sizes, break first.  Past STEP_CAP
 * layer steps the walk stops and says so in a warning.  The hyperparameters
 * named in a message are those the shape on the way to the failure depended
 * on (its provenance), not every one assigned. */

enum { BRANCH_CAP = 64, STEP_CAP = 1000000 };
/* A model is a network, or Input (and Flatten) then one estimator. */
enum { MODE_INPUT, MODE_NETWORK, MODE_ESTIMATOR };
enum { UNSET = -2, INACTIVE = -1 };     /* status[h]; >= 0 is the index of its value */

typedef struct failure {
    char *message;      /* the first failing walk's message, malloc'd */
    bool ok_seen;       /* present and fine on some walk: the values are the cause */
} failure;

typedef struct walker {
    const ir_program *p;
    hpt_value *values;
    int *status;
    hpt_value **branch;     /* per hp: the values tried, NULL until needed */
    int *n_branch;
    int *last_use;          /* last layer whose guard or shape depends on the hp (transitively) */
    int *stack, depth;      /* assigned hps, in order */
    char *origin;           /* hps the walk's current shape depends on */
    int *origin_log, n_origin;  /* ... in the order they were added, to undo */
    failure *fail;          /* n_layers + 1: the last slot is the model's output */
    uint64_t (*seen)[2];    /* fingerprints of the states walked (memo_state) */
    int32_t *seen_future;   /* with the model's size checked: each state's future (index) */
    size_t seen_used, seen_cap;
    long steps;
    hpt_value args[32];     /* the layer being walked: evaluated shape arguments */
    /* The graph: layer k reads the values of in_list[in_from[k] .. in_from[k + 1]);
     * layer k's value sits in slot slot_of[k] while live; the slots of the
     * values last read at layer k are frees[frees_at[k] .. frees_at[k + 1]). */
    int *in_from, *in_list, *slot_of, *frees, *frees_at;
    int n_slots;
    int *tables;            /* per frame of the walk: its slots, slot_ints each (see SLOT) */
    int slot_ints;          /* SLOT + words */
    int words;              /* of a slot's provenance: a bit per hyperparameter */
    uint32_t *provenance;   /* the layer being walked: what its shape depends on */
    size_t cap_tables;      /* frames' room in tables */
    char why[300];
    uint64_t sum[2];        /* the state's values (memo_state); frames keep their own */
    int *dies, *dies_at;    /* dies[dies_at[k] .. dies_at[k + 1]): hps last needed at layer k */
    /* Layer k's guard as the terms of its conjunction, terms[term_from[k] ..
     * + term_count[k]), with prefixes[j] the node meaning terms up to j all
     * hold (guards are left-deep: conjoin(outer, cond)).  A walk evaluates
     * each term once: a split re-enters the layer where its parent stopped. */
    const ir_expr **terms, **prefixes;
    int *term_from, *term_count;
    size_t n_terms, cap_terms;
    long long classes;      /* the data's classes (0: not known) */
    bool classes_fixed;     /* the source defines them: the output must be exactly as wide */
    const char *classes_from;   /* the source whose labels need the most outputs */
    int sparse;
    bool network;           /* compile(...) is there: a network is allowed */
    bool oom;
    /* Each configuration's size (see "The model's size" below); memory 0: not checked. */
    double memory, per_param;   /* bytes available; floats per trainable parameter (weights,
                                   gradients, optimizer state) */
    cost *futures;          /* per memo state: the largest continuation from it */
    size_t n_futures, cap_futures;
    step_log *log;          /* the steps of the walks in progress, a stack */
    size_t n_log, cap_log;
    char *size_message;     /* the first configuration too large, malloc'd */
    int size_layer;
} walker;

/* A state's identity: the layer, the input shape, and the values of the
 * assigned hyperparameters still needed from here on.  Those values enter as
 * two independent 64-bit sums of mixed (hp, status) pairs, kept up to date as
 * hyperparameters are assigned and as they stop being needed, so building a
 * key costs the same with 3 or 3000 hyperparameters assigned.  (Two states
 * merge wrongly only if their 128-bit fingerprints collide.) */
static uint64_t mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static void account(walker *w, int h, int status, int sign)
{
    uint64_t x = (uint64_t)(uint32_t)h << 32 | (uint32_t)(status + 2);
    w->sum[0] += (uint64_t)sign * mix(x);
    w->sum[1] += (uint64_t)sign * mix(x ^ 0x5bd1e9955bd1e995ull);
}

static int new_future(walker *w)
{
    if (w->n_futures == w->cap_futures) {
        size_t cap = w->cap_futures ? w->cap_futures * 2 : 4096;
        cost *grown = realloc(w->futures, cap * sizeof *grown);
        if (!grown) {
            w->oom = true;
            return -1;
        }
        w->futures = grown, w->cap_futures = cap;
    }
    w->futures[w->n_futures] = (cost){ .big = -1 };
    return (int)w->n_futures++;
}

/* Seen before?  States are kept as 128-bit fingerprints in an open-addressing
 * set (16 bytes a state: the walk of a 10,000-line spec visits 10^5 of them).
 * With the model's size checked, *future is the state's future: a new one's,
 * or the one found. */
/* A slot of a walk's table: rank, shape[4], then its provenance (the
 * hyperparameters the value's shape depended on, a bit each, for messages:
 * not part of the state); all 0 while no value is live in it. */
enum { SLOT = 5 };

static int memo_state(walker *w, int k, const int *table, int mode, int *future)
{
    *future = -1;
    uint64_t a = mix((uint64_t)(uint32_t)k << 32 | (uint32_t)mode), b = mix(a ^ 0x5bd1e9955bd1e995ull);
    for (int j = 0; j < w->n_slots; j++)
        for (const int *v = table + (size_t)j * (size_t)w->slot_ints, *end = v + SLOT; v < end; v++) {
            a = mix(a ^ (uint32_t)*v);
            b = mix(b + 3 * (uint64_t)(uint32_t)*v + 1);
        }
    uint64_t f0 = mix(a ^ w->sum[0]) | 1;      /* never 0: 0 marks an empty slot */
    uint64_t f1 = mix(b + 3 * w->sum[1]);
    if (w->seen_used * 2 >= w->seen_cap) {
        size_t cap = w->seen_cap ? w->seen_cap * 2 : 4096;
        uint64_t (*grown)[2] = calloc(cap, sizeof *grown);
        int32_t *futures = w->memory > 0 ? malloc(cap * sizeof *futures) : NULL;
        if (!grown || (w->memory > 0 && !futures)) {
            free(grown), free(futures);
            w->oom = true;
            return 1;
        }
        for (size_t j = 0; j < w->seen_cap; j++) {
            if (!w->seen[j][0]) continue;
            size_t at = w->seen[j][1] & (cap - 1);
            while (grown[at][0]) at = (at + 1) & (cap - 1);
            grown[at][0] = w->seen[j][0], grown[at][1] = w->seen[j][1];
            if (futures) futures[at] = w->seen_future[j];
        }
        free(w->seen), free(w->seen_future);
        w->seen = grown, w->seen_cap = cap, w->seen_future = futures;
    }
    /* Indexed by f1: f0's lowest bit is always set, which would leave every even slot empty. */
    size_t at = f1 & (w->seen_cap - 1);
    for (; w->seen[at][0]; at = (at + 1) & (w->seen_cap - 1))
        if (w->seen[at][0] == f0 && w->seen[at][1] == f1) {
            if (w->seen_future) *future = w->seen_future[at];
            return 1;
        }
    w->seen[at][0] = f0, w->seen[at][1] = f1;
    if (w->seen_future) *future = w->seen_future[at] = new_future(w);
    w->seen_used++;
    return 0;
}

/* Evaluate e as far as the assigned hyperparameters allow, in Python's order
 * (`and`/`or` short-circuit, so `a or b` with a = True never needs b).
 * Returns OK with *out set, the first unassigned hyperparameter it needs
 * (>= 0), or FAILED (an inactive operand, a type error: a guard that fails
 * to evaluate is false, as in ir_holds).  One pass, so a guard of n terms
 * costs n, not n^2. */
enum { OK = -1, FAILED = -2 };

static int lazy(walker *w, const ir_expr *e, arena *scratch, hpt_value *out, char *why, size_t n)
{
    ir_assignment as = { w->values, w->p->n_hps };
    hpt_value x, y = value_none();
    int r;
    switch (e->op) {
    case X_CONST:
        *out = e->value;
        return OK;
    case X_HP:
        if (w->status[e->hp] == UNSET) return e->hp;
        return ir_eval(w->p, e, &as, scratch, out, why, n) ? FAILED : OK;
    case X_LIST:
    case X_OBJECT:
        for (int k = 0; k < e->n_items; k++)
            if ((r = lazy(w, e->items[k], scratch, &x, why, n)) != OK) return r;
        return ir_eval(w->p, e, &as, scratch, out, why, n) ? FAILED : OK;
    case X_AND:
    case X_OR:
        if ((r = lazy(w, e->a, scratch, &x, why, n)) != OK) return r;
        if (x.type == V_BOOL && x.u.b == (e->op == X_OR)) {
            *out = x;
            return OK;
        }
        if ((r = lazy(w, e->b, scratch, &y, why, n)) != OK) return r;
        break;
    case X_NEG:
    case X_NOT:
        if ((r = lazy(w, e->a, scratch, &x, why, n)) != OK) return r;
        break;
    default:
        if ((r = lazy(w, e->a, scratch, &x, why, n)) != OK) return r;
        if ((r = lazy(w, e->b, scratch, &y, why, n)) != OK) return r;
        break;
    }
    /* Combine the operands' values with the IR's own evaluator. */
    ir_expr ca = { .op = X_CONST, .value = x }, cb = { .op = X_CONST, .value = y };
    ir_expr op = { .op = e->op, .a = &ca, .b = &cb };
    return ir_eval(w->p, &op, &as, scratch, out, why, n) ? FAILED : OK;
}

/* A guard or condition: OK with *truth set, or the hyperparameter it needs. */
static int lazy_holds(walker *w, const ir_expr *cond, bool *truth)
{
    *truth = true;
    if (!cond) return OK;
    arena scratch = { 0 };
    hpt_value v;
    int r = lazy(w, cond, &scratch, &v, NULL, 0);
    arena_free(&scratch);
    *truth = r == OK && v.type == V_BOOL && v.u.b;
    return r >= 0 ? r : OK;
}

static void set_status(walker *w, int h, int status)
{
    account(w, h, status, 1);
    w->status[h] = status;
    w->values[h] = status >= 0 ? w->branch[h][status] : value_none();
    w->stack[w->depth++] = h;
}

static void unwind(walker *w, int depth)
{
    while (w->depth > depth) {
        int h = w->stack[--w->depth];
        w->status[h] = UNSET;
        w->values[h] = value_none();
    }
}

/* The values to try for h: its default first (so the first walk is the
 * default trial, checked whatever happens later), then its grid, or its two
 * ends when the grid is large. */
static int branches(walker *w, int h)
{
    if (w->branch[h]) return w->n_branch[h];
    const ir_hp *hp = &w->p->hps[h];
    long card = ir_hp_cardinality(hp);
    hpt_value grid[BRANCH_CAP];
    int m = card > 0 && card <= BRANCH_CAP ? ir_hp_values(hp, grid, BRANCH_CAP) : 0;
    if (!m) {
        ir_hp_ends(hp, grid);
        m = 2;
    }
    hpt_value *v = malloc(((size_t)m + 1) * sizeof *v);
    if (!v) {
        w->oom = true;
        return 0;
    }
    int n = 1;
    v[0] = hp->default_value;
    for (int j = 0; j < m; j++)
        if (!value_equal(grid[j], v[0]) || grid[j].type != v[0].type) v[n++] = grid[j];
    w->branch[h] = v;
    w->n_branch[h] = n;
    return n;
}

/* Layer k failed; `from` the hyperparameters its inputs' shapes and its own
 * depended on (a bit each), NULL: every one the walk's shapes did. */
static void record_failure(walker *w, int k, const char *why, const uint32_t *from)
{
    failure *f = &w->fail[k];
    if (f->message) return;
    const ir_program *p = w->p;
    char with[400];
    size_t len = 0;
    with[0] = 0;
    for (int h = 0; h < p->n_hps && len + 1 < sizeof with; h++) {
        bool named = from ? (from[h / 32] >> (h % 32) & 1u) != 0 : w->origin[h] != 0;
        if (!named || w->status[h] < 0) continue;
        char v[64];
        value_format(v, sizeof v, w->values[h]);
        len += (size_t)snprintf(with + len, sizeof with - len, "%s'%s' = %s", len ? ", " : "", p->hps[h].name, v);
    }
    size_t need = strlen(why) + strlen(with) + 16;
    f->message = malloc(need);
    if (f->message) snprintf(f->message, need, "%s%s%s", why, *with ? "\x1f" : "", with);
}

/* Note that the walk's shapes now depend on the hyperparameters in e, and
 * (bits not NULL) the layer's being walked. */
static void depend(walker *w, const ir_expr *e, uint32_t *bits)
{
    if (!e) return;
    if (e->op == X_HP && w->status[e->hp] >= 0) {
        if (bits) bits[e->hp / 32] |= 1u << (e->hp % 32);
        if (!w->origin[e->hp]) {
            w->origin[e->hp] = 1;
            w->origin_log[w->n_origin++] = e->hp;
        }
    }
    depend(w, e->a, bits);
    depend(w, e->b, bits);
    for (int k = 0; k < e->n_items; k++) depend(w, e->items[k], bits);
}

/* Its slots: where a walk keeps the live values. */
static int *table_of(const walker *w, int table) { return w->tables + (size_t)table * (size_t)w->n_slots * (size_t)w->slot_ints; }
static int *slot_at(const walker *w, int *table, int layer) { return table + (size_t)w->slot_of[layer] * (size_t)w->slot_ints; }

/* One walk in progress: where it is, and the split it is waiting on. */
typedef struct frame {
    int k;
    int table;              /* its slots: table_of(w, table) (its place on the stack) */
    int mode;               /* MODE_*: what the layers so far were */
    int named;              /* the estimator, or the last network layer, for messages */
    int depth, origins;     /* the walker's marks when the walk began, to undo */
    uint64_t sum[2];        /* the walker's sums when the walk began or split */
    int h, v, n, at;        /* the split: hp, value index, count, depth before it (h < 0: none) */
    int held;               /* at layer k: guard terms known true */
    cost path;              /* the model's size: the layers passed since the first */
    cost rest;              /* ... the largest continuation after this walk's last step */
    bool rest_set;
    size_t log_from;        /* this walk's steps: log[log_from ..] */
} frame;

/* Past layer f->k: the hyperparameters last needed there no longer tell states apart. */
static void advance(walker *w, frame *f)
{
    for (int j = w->dies_at[f->k]; j < w->dies_at[f->k + 1]; j++)
        if (w->status[w->dies[j]] != UNSET) account(w, w->dies[j], w->status[w->dies[j]], -1);
    /* Values read for the last time here: their slots no longer tell states apart. */
    int *table = table_of(w, f->table);
    for (int j = w->frees_at[f->k]; j < w->frees_at[f->k + 1]; j++)
        memset(table + (size_t)w->frees[j] * (size_t)w->slot_ints, 0, (size_t)w->slot_ints * sizeof *table);
    f->k++;
    f->held = 0;
}

/* ---- the model's size: the walk's side (see the section above) ---------- */

static double floats_of(const walker *w, double params, double stats) { return params * w->per_param + stats; }

static void cost_add(const walker *w, cost *c, int layer, double params, double stats)
{
    c->params += params, c->stats += stats;
    double f = floats_of(w, params, stats);
    if (layer >= 0 && f > c->big_floats) c->big = layer, c->big_floats = f, c->big_params = params;
}

/* 7840010250 as "7,840,010,250". */
static const char *grouped(double x, char *buf, size_t n)
{
    char digits[64];
    int len = snprintf(digits, sizeof digits, "%.0f", x), o = 0;
    for (int k = 0; k < len && o + 2 < (int)n; k++) {
        if (k && (len - k) % 3 == 0) buf[o++] = ',';
        buf[o++] = digits[k];
    }
    buf[o] = 0;
    return buf;
}

/* 125.4 GiB, 1.01 GiB, 300.0 MiB, 2.4 TiB. */
static const char *in_bytes(double x, char *buf, size_t n)
{
    static const char *const units[] = { "MiB", "GiB", "TiB", "PiB" };
    int u = 0;
    for (x /= 1 << 20; x >= 1024 && u < 3; u++) x /= 1024;
    snprintf(buf, n, x < 10 ? "%.2f %s" : "%.1f %s", x, units[u]);
    return buf;
}

/* A walk's end, with rest the largest continuation after it (NULL: none):
 * the first configuration whose size passes the memory is the error. */
static void check_size(walker *w, const frame *f, const cost *rest)
{
    if (w->memory <= 0 || w->size_message || (rest && !rest->valid)) return;
    cost total = f->path;
    if (rest) {
        total.params += rest->params, total.stats += rest->stats;
        if (rest->big_floats > total.big_floats) total.big = rest->big, total.big_floats = rest->big_floats, total.big_params = rest->big_params;
    }
    double bytes = floats_of(w, total.params, total.stats) * sizeof(float);
    if (bytes <= w->memory || total.big < 0) return;
    char all[40], here[40], with[400], need_text[40], have_text[40];
    size_t len = 0;
    with[0] = 0;
    for (int h = 0; h < w->p->n_hps && len + 1 < sizeof with; h++) {
        if (!w->origin[h] || w->status[h] < 0) continue;
        char v[64];
        value_format(v, sizeof v, w->values[h]);
        len += (size_t)snprintf(with + len, sizeof with - len, "%s'%s' = %s", len ? ", " : "", w->p->hps[h].name, v);
    }
    size_t need = 600 + len;
    w->size_message = malloc(need);
    if (!w->size_message) return;
    snprintf(w->size_message, need,
             "this layer holds %s of the model's %s parameters, whose weights, gradients and optimizer state take %s, "
             "more than the %s of memory%s%s",
             grouped(total.big_params, here, sizeof here), grouped(total.params, all, sizeof all),
             in_bytes(bytes, need_text, sizeof need_text), in_bytes(w->memory, have_text, sizeof have_text),
             *with ? " when " : "", with);
    w->size_layer = total.big;
}

/* Log this step of the walk (the state entered, -1: none). */
static void log_step(walker *w, int future)
{
    if (w->n_log == w->cap_log) {
        size_t cap = w->cap_log ? w->cap_log * 2 : 1024;
        step_log *grown = realloc(w->log, cap * sizeof *grown);
        if (!grown) {
            w->oom = true;
            return;
        }
        w->log = grown, w->cap_log = cap;
    }
    w->log[w->n_log++] = (step_log){ .future = future, .layer = -1 };
}

/* f has ended: its steps' futures, from its end backwards, and its result to
 * the walk it split from (the largest of its children's). */
static void finish_walk(walker *w, frame *f, frame *parent)
{
    if (w->memory <= 0) return;
    cost acc = f->rest_set ? f->rest : (cost){ .big = -1 };
    for (size_t j = w->n_log; j > f->log_from; j--) {
        const step_log *e = &w->log[j - 1];
        if (e->layer >= 0) cost_add(w, &acc, e->layer, e->params, e->stats);
        if (e->future >= 0) w->futures[e->future] = acc;
    }
    w->n_log = f->log_from;
    if (parent && acc.valid &&
        (!parent->rest_set || floats_of(w, acc.params, acc.stats) > floats_of(w, parent->rest.params, parent->rest.stats)))
        parent->rest = acc, parent->rest_set = true;
}

/* Run f's walk over its layers until it ends (0) or splits on a hyperparameter
 * (1: f->h set and its first value assigned). */
static int run(walker *w, frame *f)
{
    const ir_program *p = w->p;
    hpt_value *args = w->args;
    char *why = w->why;
    size_t why_len = sizeof w->why;
    memcpy(w->sum, f->sum, sizeof w->sum);
    while (f->k <= p->n_layers && !w->oom) {
        int k = f->k;
        int *table = table_of(w, f->table);
        if (++w->steps > STEP_CAP) return 0;
        int future = -1;
        if (w->depth > 0 && memo_state(w, k, table, f->mode, &future)) {
            if (future >= 0) {      /* its continuations are known: the largest ends this walk */
                f->rest = w->futures[future], f->rest_set = true;
                check_size(w, f, &f->rest);
            }
            return 0;
        }
        if (w->memory > 0) log_step(w, future);
        if (k < p->n_layers && !p->layers[k].args) return 0;     /* a layer lowering could not make: stop here */
        if (k == p->n_layers) {
            /* The model's output (the last layer's value): flat, and one value per class for a classification loss. */
            const int *model_out = slot_at(w, table, p->n_layers - 1), out_rank = model_out[0], *out = model_out + 1;
            const uint32_t *from = (const uint32_t *)(model_out + SLOT);
            if (f->mode == MODE_ESTIMATOR) {
                w->fail[k].ok_seen = true;      /* an estimator takes the data's classes */
            } else if (!w->network) {
                record_failure(w, k, "the model is a network (it holds no estimator) and there is no compile(...) for it", from);
            } else if (out_rank != 1) {
                record_failure(w, k, "the model's output must be flat (one axis); add Flatten() and a Dense layer", from);
            } else if (w->sparse && w->classes_fixed && out[0] != w->classes) {
                snprintf(why, why_len, "the model outputs %d values, but the data has %lld classes", out[0], w->classes);
                record_failure(w, k, why, from);
            } else if (w->classes > out[0]) {
                /* Labels past the outputs fail every trial, whatever the loss. */
                snprintf(why, why_len, "the model outputs %d values, but the labels in %s go up to %lld (%lld classes)",
                         out[0], w->classes_from, w->classes - 1, w->classes);
                record_failure(w, k, why, from);
            } else {
                w->fail[k].ok_seen = true;
                f->rest = (cost){ .big = -1, .valid = true }, f->rest_set = true;
                check_size(w, f, &f->rest);
            }
            return 0;
        }
        const ir_call *c = &p->layers[k];
        /* What this layer needs: its guard, term by term from where this walk
         * left it, then (when present) its shape arguments. */
        arena scratch = { 0 };
        const ir_expr **terms = w->terms + w->term_from[k], **prefixes = w->prefixes + w->term_from[k];
        bool present = true;
        int need = OK, rc = 0;
        while (f->held < w->term_count[k]) {
            need = lazy_holds(w, terms[f->held], &present);
            if (need != OK || !present) break;
            f->held++;
        }
        /* Constant arguments (use_bias) for the model's size; shape ones are evaluated below. */
        for (int j = 0; j < c->entry->n_args; j++) args[j] = c->args[j]->op == X_CONST ? c->args[j]->value : value_none();
        for (int j = 0; present && need == OK && rc == 0 && j < c->entry->n_args; j++)
            if (c->entry->args[j].flags & A_SHAPE) {
                need = lazy(w, c->args[j], &scratch, &args[j], why, why_len);
                if (need == FAILED) rc = -1, need = OK;
            }
        if (need >= 0) {
            arena_free(&scratch);
            /* The needed one's condition may need others first; a cycle of conditions leaves it inactive.
             * Defined under the terms known to hold (an if nested in ifs), it is active. */
            int h = need, up;
            bool active = f->held > 0 && p->hps[h].condition == prefixes[f->held - 1];
            for (int guard = 0; !active && (up = lazy_holds(w, p->hps[h].condition, &active)) >= 0; h = up)
                if (++guard > p->n_hps) {
                    active = false;
                    break;
                }
            if (!active) {
                set_status(w, h, INACTIVE);
                continue;
            }
            f->n = branches(w, h);
            if (f->n == 0) return 0;
            f->h = h, f->v = 0, f->at = w->depth;
            memcpy(f->sum, w->sum, sizeof f->sum);
            set_status(w, h, 0);
            return 1;
        }
        /* Its provenance: its inputs', and the guard terms evaluated (a
         * split's child finds the terms before its parent's stop noted). */
        int n_in = w->in_from[k + 1] - w->in_from[k], evaluated = present ? f->held : f->held + 1;
        const int *reads = w->in_list + w->in_from[k];
        uint32_t *from = w->provenance;
        memset(from, 0, (size_t)w->words * sizeof *from);
        for (int j = 0; j < n_in; j++) {
            const uint32_t *bits = (const uint32_t *)slot_at(w, table, reads[j]) + SLOT;
            for (int b = 0; b < w->words; b++) from[b] |= bits[b];
        }
        for (int t = 0; t < evaluated; t++) depend(w, terms[t], from);
        if (!present) {
            /* Absent: its value is its first input's. */
            arena_free(&scratch);
            int *slot = slot_at(w, table, k);
            if (n_in) memcpy(slot, slot_at(w, table, reads[0]), SLOT * sizeof *slot);
            memcpy(slot + SLOT, from, (size_t)w->words * sizeof *from);
            advance(w, f);
            continue;
        }
        int out[4] = { 0 }, out_rank = 0, mode = f->mode, named = f->named;
        st_weights weights;
        /* An estimator is the whole model after Input and Flatten; nothing follows it. */
        if (rc == 0 && f->mode == MODE_ESTIMATOR) {
            snprintf(why, why_len, "%s cannot follow the estimator %s: an estimator must be the last layer of the model",
                     c->entry->name, p->layers[f->named].entry->name);
            rc = -1;
        } else if (rc == 0 && c->entry->kind == ST_ESTIMATOR && f->mode == MODE_NETWORK) {
            snprintf(why, why_len, "the estimator %s cannot follow the network layer %s: an estimator stands alone, "
                     "after Input (and Flatten) only", c->entry->name, p->layers[f->named].name);
            rc = -1;
        } else if (c->entry->kind == ST_ESTIMATOR) {
            mode = MODE_ESTIMATOR, named = k;
        } else if (c->entry->id != ST_Input && c->entry->id != ST_Flatten) {
            mode = MODE_NETWORK, named = k;
        }
        if (rc == 0) {
            const int *in[ST_MAX_INPUTS];
            int in_rank[ST_MAX_INPUTS];
            for (int j = 0; j < n_in && j < ST_MAX_INPUTS; j++) {
                const int *slot = slot_at(w, table, reads[j]);
                in_rank[j] = slot[0], in[j] = slot + 1;
            }
            rc = plan_from(c->entry, args, n_in, in, in_rank, out, &out_rank, &weights, why, why_len);
        }
        arena_free(&scratch);
        for (int j = 0; j < c->entry->n_args; j++)
            if (c->entry->args[j].flags & A_SHAPE) depend(w, c->args[j], from);
        if (rc) {
            record_failure(w, k, why, from);
            return 0;
        }
        w->fail[k].ok_seen = true;
        if (w->memory > 0 && w->n_log > 0) {
            step_log *e = &w->log[w->n_log - 1];
            st_weights_count(&weights, &e->params, &e->stats);
            e->layer = k;
            cost_add(w, &f->path, k, e->params, e->stats);
        }
        int *slot = slot_at(w, table, k);
        slot[0] = out_rank;
        memcpy(slot + 1, out, 4 * sizeof *slot);
        memcpy(slot + SLOT, from, (size_t)w->words * sizeof *from);
        f->mode = mode, f->named = named;
        advance(w, f);
    }
    return 0;
}

/* Every walk from the first layer, depth first, on a stack of frames in the
 * heap (a path may split thousands of times: no C recursion). */
static void walk(walker *w)
{
    frame *stack = NULL, child = { .h = -1, .path = { .big = -1 } };
    size_t top = 0, cap = 0;
    bool push = true;
    for (;;) {
        if (push) {
            if (top == cap) {
                frame *grown = realloc(stack, (cap = cap ? cap * 2 : 64) * sizeof *grown);
                int *tables = grown ? realloc(w->tables, cap * (size_t)w->n_slots * (size_t)w->slot_ints * sizeof *tables) : NULL;
                if (grown) stack = grown;
                if (!tables) {
                    w->oom = true;
                    break;
                }
                w->tables = tables, w->cap_tables = cap;
            }
            /* The child's slots start as its parent's (none for the first walk). */
            size_t stride = (size_t)w->n_slots * (size_t)w->slot_ints;
            if (top) memcpy(w->tables + top * stride, w->tables + (top - 1) * stride, stride * sizeof *w->tables);
            else memset(w->tables, 0, stride * sizeof *w->tables);
            child.table = (int)top;
            child.depth = w->depth, child.origins = w->n_origin, child.h = -1;
            child.rest_set = false, child.log_from = w->n_log;
            memcpy(child.sum, w->sum, sizeof child.sum);
            stack[top++] = child;
        }
        frame *f = &stack[top - 1];
        if (f->h < 0) {
            push = run(w, f);               /* a fresh walk: run it until it splits or ends */
        } else {
            unwind(w, f->at);               /* back from a child: the split's next value */
            memcpy(w->sum, f->sum, sizeof w->sum);
            push = ++f->v < f->n && !w->oom && w->steps <= STEP_CAP;
            if (push) set_status(w, f->h, f->v);
        }
        if (push) {
            child = *f;                     /* the child goes on from where f split */
            continue;
        }
        /* f is done: its result to its parent, undo what it assigned, and pop. */
        finish_walk(w, f, top >= 2 ? &stack[top - 2] : NULL);
        while (w->n_origin > f->origins) w->origin[w->origin_log[--w->n_origin]] = 0;
        unwind(w, f->depth);
        if (--top == 0) break;
    }
    free(stack);
}

/* last_use[h]: the last layer whose guard or shape arguments read h, directly
 * or through the condition of a hyperparameter they read. */
static void mark_use(const ir_program *p, const ir_expr *e, int k, int *last_use, int depth)
{
    if (!e || depth > p->n_hps + 1) return;
    if (e->op == X_HP) {
        if (last_use[e->hp] >= k) return;
        last_use[e->hp] = k;
        mark_use(p, p->hps[e->hp].condition, k, last_use, depth + 1);
        return;
    }
    mark_use(p, e->a, k, last_use, depth);
    mark_use(p, e->b, k, last_use, depth);
    for (int j = 0; j < e->n_items; j++) mark_use(p, e->items[j], k, last_use, depth);
}

/* Layer k's guard as terms (see walker); consecutive layers under one guard
 * share theirs. */
static bool flatten_guards(walker *w)
{
    const ir_program *p = w->p;
    w->term_from = malloc(((size_t)p->n_layers + 1) * sizeof *w->term_from);
    w->term_count = malloc(((size_t)p->n_layers + 1) * sizeof *w->term_count);
    w->cap_terms = 16;      /* never NULL: terms + 0 is taken for guardless layers */
    w->terms = malloc(w->cap_terms * sizeof *w->terms);
    w->prefixes = malloc(w->cap_terms * sizeof *w->prefixes);
    if (!w->term_from || !w->term_count || !w->terms || !w->prefixes) return false;
    for (int k = 0; k < p->n_layers; k++) {
        const ir_expr *g = p->layers[k].guard;
        if (k > 0 && g == p->layers[k - 1].guard) {
            w->term_from[k] = w->term_from[k - 1], w->term_count[k] = w->term_count[k - 1];
            continue;
        }
        int n = 0;
        for (const ir_expr *e = g; e; e = e->op == X_AND ? e->a : NULL) n++;
        if (w->n_terms + (size_t)n > w->cap_terms) {
            size_t cap = (w->n_terms + (size_t)n) * 2;
            const ir_expr **t = realloc(w->terms, cap * sizeof *t), **q = t ? realloc(w->prefixes, cap * sizeof *q) : NULL;
            if (t) w->terms = t;
            if (q) w->prefixes = q;
            if (!t || !q) return false;
            w->cap_terms = cap;
        }
        /* Down the left spine: the node at depth j from the top covers terms 0 .. n - 1 - j. */
        int j = n - 1;
        for (const ir_expr *e = g; e; e = e->op == X_AND ? e->a : NULL, j--) {
            w->terms[w->n_terms + (size_t)j] = e->op == X_AND && j > 0 ? e->b : e;
            w->prefixes[w->n_terms + (size_t)j] = e;
        }
        w->term_from[k] = (int)w->n_terms, w->term_count[k] = n;
        w->n_terms += (size_t)n;
    }
    return true;
}

/* The graph's reads (in_from, in_list) and its slots: each layer's value gets
 * the lowest slot free when it is made and gives it back after the last
 * layer that reads it (frees); the model's output is read at the end. */
static bool plan_slots(walker *w)
{
    const ir_program *p = w->p;
    size_t n = (size_t)p->n_layers;
    int total = 0;
    for (int k = 0; k < p->n_layers; k++) total += inputs_count(p, k);
    int *last_read = malloc(n * sizeof *last_read), *slot_free = malloc((n + 1) * sizeof *slot_free);
    w->in_from = malloc((n + 1) * sizeof *w->in_from);
    w->in_list = malloc(((size_t)total + 1) * sizeof *w->in_list);
    w->slot_of = malloc(n * sizeof *w->slot_of);
    w->frees = malloc((n + 1) * sizeof *w->frees);
    w->frees_at = calloc(n + 2, sizeof *w->frees_at);
    bool ok = last_read && slot_free && w->in_from && w->in_list && w->slot_of && w->frees && w->frees_at;
    for (int k = 0, at = 0; ok && k < p->n_layers; k++) {
        w->in_from[k] = at;
        last_read[k] = k;       /* read by nobody: free as soon as made */
        for (int j = 0; j < inputs_count(p, k); j++) {
            int from = input_of(p, k, j);
            if (from < 0 || from >= k) from = k - 1;    /* not an IR sema makes: read as a stack */
            if (from < 0) continue;
            w->in_list[at++] = from;
            last_read[from] = k;
        }
        w->in_from[k + 1] = at;
    }
    if (ok) last_read[n - 1] = p->n_layers;
    /* Bucket the values by the layer that reads them last, then hand out slots in layer order. */
    for (size_t k = 0; ok && k < n; k++) w->frees_at[last_read[k] + 1]++;
    for (size_t k = 0; ok && k <= n; k++) w->frees_at[k + 1] += w->frees_at[k];
    int *fill = ok ? malloc((n + 1) * sizeof *fill) : NULL;
    ok = ok && fill;
    if (ok) memcpy(fill, w->frees_at, (n + 1) * sizeof *fill);
    int *dying = ok ? malloc((n + 1) * sizeof *dying) : NULL;      /* values by the layer they die at */
    ok = ok && dying;
    for (size_t k = 0; ok && k < n; k++) dying[fill[last_read[k]]++] = (int)k;
    int n_free = 0;
    w->n_slots = 0;
    for (int k = 0; ok && k < p->n_layers; k++) {
        int slot = w->n_slots;
        if (n_free) {       /* the lowest free slot, so the same layer gets the same slot on every run */
            int best = 0;
            for (int j = 1; j < n_free; j++) if (slot_free[j] < slot_free[best]) best = j;
            slot = slot_free[best], slot_free[best] = slot_free[--n_free];
        } else {
            w->n_slots++;
        }
        w->slot_of[k] = slot;
        for (int j = w->frees_at[k]; j < w->frees_at[k + 1]; j++) {
            w->frees[j] = w->slot_of[dying[j]];
            slot_free[n_free++] = w->frees[j];
        }
    }
    free(last_read), free(slot_free), free(fill), free(dying);
    return ok;
}

/* The classes the output must cover: the data's, or validation_data's when
 * its labels go further (the runtime checks both against the outputs). */
static void classes_of(walker *w, const shapes_context *c)
{
    static const probe_facts none = { .source = "the data" };
    const probe_facts *data = c && c->have_data ? &c->data : &none;
    const probe_facts *val = c && c->have_validation ? &c->validation : &none;
    const probe_facts *most = val->n_classes > data->n_classes ? val : data;
    w->classes = most->n_classes;
    w->classes_fixed = most->classes_fixed;
    w->classes_from = most->labels[0] ? most->labels : most->source;
}

/* Floats of optimizer state per trainable parameter: the optimizer's, or
 * Adam's 2 (the most any takes) when it depends on a hyperparameter. */
static int optimizer_state(const ir_program *p)
{
    hpt_value v;
    arena scratch = { 0 };
    char why[100];
    int n = -1;
    if (p->compile.args && ir_eval(p, p->compile.args[compile_optimizer], NULL, &scratch, &v, why, sizeof why) == 0)
        n = st_optimizer_state(v);
    arena_free(&scratch);
    return n >= 0 ? n : 2;
}

int shapes_check(const ir_program *p, diag_ctx *d, const shapes_context *c)
{
    if (p->n_layers == 0) return 0;
    int before = d->errors;
    check_input(p, d, c);
    size_t nh = (size_t)p->n_hps + 1;
    walker w = { .p = p };
    classes_of(&w, c);
    w.values = calloc(nh, sizeof *w.values);
    w.status = malloc(nh * sizeof *w.status);
    w.branch = calloc(nh, sizeof *w.branch);
    w.n_branch = calloc(nh, sizeof *w.n_branch);
    w.last_use = malloc(nh * sizeof *w.last_use);
    w.stack = malloc(nh * 2 * sizeof *w.stack);
    w.origin = calloc(nh, 1);
    w.origin_log = malloc(nh * sizeof *w.origin_log);
    w.fail = calloc((size_t)p->n_layers + 1, sizeof *w.fail);
    if (!w.values || !w.status || !w.branch || !w.n_branch || !w.last_use || !w.stack || !w.fail || !w.origin ||
        !w.origin_log || !flatten_guards(&w) || !plan_slots(&w)) {
        diag_error(d, DIAG_NOWHERE, DIAG_NOWHERE, "out of memory");
        goto out;
    }
    for (int h = 0; h < p->n_hps; h++) w.status[h] = UNSET, w.last_use[h] = -1;
    w.words = (p->n_hps + 31) / 32, w.slot_ints = SLOT + w.words;
    w.provenance = calloc((size_t)w.words + 1, sizeof *w.provenance);
    for (int k = 0; k < p->n_layers; k++) {
        const ir_call *l = &p->layers[k];
        mark_use(p, l->guard, k, w.last_use, 0);
        for (int j = 0; l->args && j < l->entry->n_args; j++)
            if (l->entry->args[j].flags & A_SHAPE) mark_use(p, l->args[j], k, w.last_use, 0);
    }
    /* Bucket the hps by the layer they are last needed at. */
    w.dies = malloc(nh * sizeof *w.dies);
    w.dies_at = calloc((size_t)p->n_layers + 2, sizeof *w.dies_at);
    int *fill = malloc(((size_t)p->n_layers + 1) * sizeof *fill);
    if (!w.dies || !w.dies_at || !fill || !w.provenance) {
        free(fill);
        diag_error(d, DIAG_NOWHERE, DIAG_NOWHERE, "out of memory");
        goto out;
    }
    for (int h = 0; h < p->n_hps; h++)
        if (w.last_use[h] >= 0) w.dies_at[w.last_use[h] + 1]++;
    for (int k = 0; k <= p->n_layers; k++) w.dies_at[k + 1] += w.dies_at[k];
    memcpy(fill, w.dies_at, ((size_t)p->n_layers + 1) * sizeof *fill);
    for (int h = 0; h < p->n_hps; h++)
        if (w.last_use[h] >= 0) w.dies[fill[w.last_use[h]]++] = h;
    free(fill);
    w.network = p->compile.entry != NULL || (c && c->compile_written);
    if (w.network && c && c->memory_bytes > 0) w.memory = c->memory_bytes, w.per_param = 2 + optimizer_state(p);
    if (p->compile.entry) {
        ir_expr *loss = p->compile.args[compile_loss];
        const st_entry *e = NULL;
        if (loss->op == X_OBJECT) e = loss->entry;
        else if (loss->op == X_CONST && loss->value.type == V_STRING) e = st_find(ST_LOSS, loss->value.u.s);
        w.sparse = e && e->id == ST_SparseCategoricalCrossentropy;
        /* An element-wise loss (mse, mae, huber, binary cross-entropy) reads
         * the label as a number on one output, so the labels' values say
         * nothing of the outputs; with several outputs the run checks them. */
        if (e && e->id != ST_SparseCategoricalCrossentropy && e->id != ST_CategoricalCrossentropy) w.classes = 0;
    }
    walk(&w);
    if (w.oom) diag_error(d, DIAG_NOWHERE, DIAG_NOWHERE, "out of memory while checking shapes");
    else if (w.steps > STEP_CAP && d->errors == 0)     /* after an error, a truncated model's walk is no news */
        diag_warning(d, DIAG_NOWHERE, DIAG_NOWHERE,
                     "shapes were checked on part of the search space only, the default trial included: "
                     "checking all of it takes more than %d steps", STEP_CAP);
    for (int k = 0; k <= p->n_layers; k++) {
        failure *f = &w.fail[k];
        if (!f->message) continue;
        char *with = strchr(f->message, '\x1f');
        if (with) *with++ = 0;
        /* Breaking under every value means the hyperparameters are not the cause. */
        const ir_call *at = k < p->n_layers ? &p->layers[k] : &p->layers[p->n_layers - 1];
        if (with && f->ok_seen) {
            diag_error(d, at->span.start, at->span.end, "%s when %s", f->message, with);
            diag_hint(d, "shapes are checked for every value the hyperparameters can take");
        } else {
            diag_error(d, at->span.start, at->span.end, "%s", f->message);
        }
    }
    if (w.size_message) {
        const ir_call *at = &p->layers[w.size_layer];
        diag_error(d, at->span.start, at->span.end, "%s", w.size_message);
        diag_hint(d, "make the layer smaller (a lower max_value for its size), or check against another machine's "
                     "memory with HPTC_MEMORY_LIMIT=BYTES");
    }
out:
    for (int k = 0; w.fail && k <= p->n_layers; k++) free(w.fail[k].message);
    for (int h = 0; w.branch && h < p->n_hps; h++) free(w.branch[h]);
    free(w.values), free(w.status), free(w.branch), free(w.n_branch), free(w.last_use), free(w.stack), free(w.fail);
    free(w.origin), free(w.origin_log), free(w.dies), free(w.dies_at);
    free(w.terms), free(w.prefixes), free(w.term_from), free(w.term_count);
    free(w.seen), free(w.seen_future), free(w.futures), free(w.log), free(w.size_message);
    free(w.in_from), free(w.in_list), free(w.slot_of), free(w.frees), free(w.frees_at), free(w.tables), free(w.provenance);
    return d->errors - before;
}
