/* oracle_common.c: what every oracle builds on (oracle_impl.h) — the record
 * of trials, and Keras Tuner's sampling and encoding of hyperparameters.
 *
 * Every trial proposed is kept (values, epochs, result) for the oracle's
 * lifetime, so the values pointer handed out in an oracle_request stays
 * valid until oracle_free.  Configurations are compared on their active
 * values only, through a hash set of trial ids.  All randomness comes from
 * orc_stream(seed, trial, purpose): nothing depends on when results arrive,
 * only on which results the tuner's rules allow it to use.
 *
 * Sampling follows Keras Tuner's HyperParameter.random_sample, which maps a
 * uniform draw through prob_to_value: stepped ranges pick one of their
 * values uniformly (a log step multiplies), Int without step under log or
 * reverse_log sampling draws over [min, max + 1) and truncates, Floats
 * without step are continuous.  Stepped values are computed exactly as
 * ir_hp_values lists them, so every value drawn is one ir_hp_admits takes. */
#include "compiler/space.h"
#include "runtime/tune/oracle_impl.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- arguments, streams ------------------------------------------------ */

long orc_arg_int(const oracle_config *cfg, int index, long dflt)
{
    if (!cfg->args) return dflt;
    hpt_value v = cfg->args[index];
    if (v.type == V_INT) return (long)v.u.i;
    if (v.type == V_FLOAT) return (long)v.u.f;
    return dflt;
}

double orc_arg_float(const oracle_config *cfg, int index, double dflt)
{
    if (!cfg->args || !value_is_number(cfg->args[index])) return dflt;
    return value_as_double(cfg->args[index]);
}

rng orc_stream(const oracle *o, int trial, int purpose)
{
    uint64_t k = rng_key(rng_key(rng_key(o->seed, RNG_ORACLE), (uint64_t)trial), (uint64_t)purpose);
    return rng_stream(k);
}

/* ---- configurations: hashing and the set of those tried ----------------- */

static uint64_t hash_value(uint64_t h, hpt_value v)
{
    h = rng_key(h, (uint64_t)v.type);
    switch (v.type) {
    case V_NONE: break;
    case V_BOOL: h = rng_key(h, v.u.b); break;
    case V_INT: h = rng_key(h, (uint64_t)v.u.i); break;
    case V_FLOAT: {
        double x = v.u.f == 0 ? 0 : v.u.f;      /* -0 == 0 */
        uint64_t bits;
        memcpy(&bits, &x, sizeof bits);
        h = rng_key(h, bits);
        break;
    }
    case V_STRING: h = rng_key(h, ir_hash_bytes(v.u.s, strlen(v.u.s))); break;
    case V_LIST:
        for (int k = 0; k < v.u.list.n; k++) h = hash_value(h, v.u.list.items[k]);
        break;
    case V_OBJECT: h = rng_key(h, (uint64_t)(uintptr_t)v.u.object.entry); break;
    }
    return h;
}

static uint64_t hash_config(const oracle *o, const hpt_value *values)
{
    uint64_t h = 0x6f7261636c65ull;
    for (int k = 0; k < o->p->n_hps; k++) h = hash_value(rng_key(h, (uint64_t)k), values[k]);
    return h;
}

static bool same_config(const oracle *o, const hpt_value *a, const hpt_value *b)
{
    for (int k = 0; k < o->p->n_hps; k++) {
        if ((a[k].type == V_NONE) != (b[k].type == V_NONE)) return false;
        if (a[k].type != V_NONE && !value_equal(a[k], b[k])) return false;
    }
    return true;
}

int orc_find(const oracle *o, const hpt_value *values)
{
    if (!o->hash_cap) return -1;
    size_t mask = o->hash_cap - 1;
    for (size_t i = hash_config(o, values) & mask;; i = (i + 1) & mask) {
        int t = o->hash[i];
        if (t < 0) return -1;
        if (same_config(o, o->trials[t].values, values)) return t;
    }
}

static int hash_insert(oracle *o, int trial)
{
    if (orc_find(o, o->trials[trial].values) >= 0) return 0;
    if (2 * ((size_t)o->n_trials + 1) > o->hash_cap) {
        size_t cap = o->hash_cap ? 2 * o->hash_cap : 64;
        int *h = malloc(sizeof *h * cap);
        if (!h) return -1;
        for (size_t i = 0; i < cap; i++) h[i] = -1;
        int *old = o->hash;
        size_t old_cap = o->hash_cap;
        o->hash = h, o->hash_cap = cap;
        for (size_t i = 0; i < old_cap; i++) {
            if (old[i] < 0) continue;
            size_t j = hash_config(o, o->trials[old[i]].values) & (cap - 1);
            while (h[j] >= 0) j = (j + 1) & (cap - 1);
            h[j] = old[i];
        }
        free(old);
    }
    size_t mask = o->hash_cap - 1, i = hash_config(o, o->trials[trial].values) & mask;
    while (o->hash[i] >= 0) i = (i + 1) & mask;
    o->hash[i] = trial;
    return 0;
}

int orc_propose(oracle *o, const hpt_value *values, int epochs, int initial_epoch, int parent,
                int bracket, int round, oracle_request *out)
{
    if (o->n_trials == o->cap_trials) {
        int cap = o->cap_trials ? 2 * o->cap_trials : 64;
        orc_trial *t = realloc(o->trials, sizeof *t * (size_t)cap);
        if (!t) return -1;
        o->trials = t, o->cap_trials = cap;
    }
    int n = o->p->n_hps;
    hpt_value *copy = malloc(sizeof *copy * (size_t)(n ? n : 1));
    if (!copy) return -1;
    if (n) memcpy(copy, values, sizeof *copy * (size_t)n);
    int id = o->n_trials;
    o->trials[id] = (orc_trial){ .values = copy, .score = NAN, .loss = NAN, .epochs = epochs,
                                 .initial_epoch = initial_epoch, .parent = parent, .bracket = bracket,
                                 .round = round, .slot = -1 };
    o->n_trials++;
    if (hash_insert(o, id)) {
        o->n_trials--;
        free(copy);
        return -1;
    }
    *out = (oracle_request){ .trial = id, .values = copy, .epochs = epochs, .initial_epoch = initial_epoch,
                             .parent = parent, .bracket = bracket, .round = round };
    return 0;
}

void orc_sort_by_loss(const oracle *o, int *ids, int n)
{
    /* Insertion sort: stable, and n is a search's trial count. */
    for (int i = 1; i < n; i++) {
        int t = ids[i], j = i;
        while (j > 0 && o->trials[ids[j - 1]].loss > o->trials[t].loss) ids[j] = ids[j - 1], j--;
        ids[j] = t;
    }
}

/* ---- Keras Tuner's prob_to_value / value_to_prob ------------------------ */

/* hp_utils.prob_to_index: the bucket of prob among n equal ones. */
static long prob_index(double prob, long n)
{
    long k = (long)floor(prob * (double)n);
    return k >= n ? n - 1 : k < 0 ? 0 : k;
}

static double clamp01(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

/* Ranges sampled as a finite list of values: those with a step, and linear
 * Ints (Keras Tuner gives them step 1); an Int with log sampling and no step
 * is drawn over [min, max + 1) and truncated instead. */
bool orc_stepped(const ir_hp *h)
{
    if (h->step.type != V_NONE) return true;
    return h->kind == HP_INT && h->sampling == SAMPLING_LINEAR;
}

bool orc_log_ok(const ir_hp *h)
{
    return value_as_double(h->min) > 0 && value_as_double(h->max) > 0;
}

hpt_value orc_int_value(const ir_hp *h, double x)
{
    int64_t lo = h->min.u.i, hi = h->max.u.i;
    if (!(x > (double)lo)) return value_int(lo);
    if (x >= (double)hi) return value_int(hi);
    return value_int((int64_t)x);   /* x < (double)hi <= 2^63: it fits */
}

/* Numerical._sample_numerical_value over [lo, hi]. */
static double numeric_from_prob(ir_sampling s, double prob, double lo, double hi)
{
    if (s == SAMPLING_LOG) return lo * pow(hi / lo, prob);
    if (s == SAMPLING_REVERSE_LOG) return hi + lo - lo * pow(hi / lo, 1 - prob);
    return lo + prob * (hi - lo);
}

static double numeric_to_prob(ir_sampling s, double x, double lo, double hi)
{
    if (hi == lo) return 0.5;
    if (s == SAMPLING_LOG) return clamp01(log(x / lo) / log(hi / lo));
    if (s == SAMPLING_REVERSE_LOG) return clamp01(1 - log((hi + lo - x) / lo) / log(hi / lo));
    return clamp01((x - lo) / (hi - lo));
}

hpt_value orc_prob_to_value(const ir_hp *h, double prob)
{
    prob = clamp01(prob);
    switch (h->kind) {
    case HP_BOOLEAN: return value_bool(prob >= 0.5);
    case HP_FIXED: return h->values[0];
    case HP_CHOICE: return h->values[prob_index(prob, h->n_values)];
    case HP_INT:
    case HP_FLOAT: break;
    }
    /* Stepped values are ir_hp_values' list, indexed exactly whatever the bounds. */
    if (orc_stepped(h)) return ir_hp_value_at_fraction(h, prob);
    double lo = value_as_double(h->min), hi = value_as_double(h->max);
    ir_sampling s = orc_log_ok(h) ? h->sampling : SAMPLING_LINEAR;
    if (h->kind == HP_INT) {
        /* [min, max + 1) so that max can be drawn; int() truncates. */
        return orc_int_value(h, floor(numeric_from_prob(s, prob, lo, hi + 1)));
    }
    double x = numeric_from_prob(s, prob, lo, hi);
    return value_float(x < lo ? lo : x > hi ? hi : x);
}

double orc_value_to_prob(const ir_hp *h, hpt_value v)
{
    switch (h->kind) {
    case HP_BOOLEAN: return v.type == V_BOOL && v.u.b ? 0.75 : 0.25;
    case HP_FIXED: return 0.5;
    case HP_CHOICE:
        for (int k = 0; k < h->n_values; k++)
            if (value_equal(v, h->values[k])) return (k + 0.5) / h->n_values;
        return 0.5;
    case HP_INT:
    case HP_FLOAT: break;
    }
    if (!value_is_number(v)) return 0.5;
    double x = value_as_double(v);
    if (orc_stepped(h)) {
        double k;
        ir_hp_nearest(h, v, &k);
        return (k + 0.5) / ir_hp_count(h);
    }
    double lo = value_as_double(h->min), hi = value_as_double(h->max);
    ir_sampling s = orc_log_ok(h) ? h->sampling : SAMPLING_LINEAR;
    if (h->kind == HP_INT) return numeric_to_prob(s, x + 0.5, lo, hi + 1);
    return numeric_to_prob(s, x, lo, hi);
}

/* ---- random configurations --------------------------------------------- */

bool orc_active(const ir_program *p, int k, const hpt_value *values)
{
    if (!p->hps[k].condition) return true;
    ir_assignment a = { (hpt_value *)values, p->n_hps };
    return ir_holds(p, p->hps[k].condition, &a);
}

void orc_sample(const ir_program *p, rng *r, hpt_value *values)
{
    /* Drawn again while over the tuner's limits (oracle_limits.c). */
    for (int tries = 0; tries < ORC_SAMPLE_TRIES; tries++) {
        for (int k = 0; k < p->n_hps; k++) values[k] = value_none();
        for (int k = 0; k < p->n_hps; k++)
            if (orc_active(p, k, values)) values[k] = orc_prob_to_value(&p->hps[k], rng_double(r));
        if (orc_feasible(p, values)) return;
    }
}

int orc_sample_new(oracle *o, rng *r, hpt_value *values)
{
    for (int c = 0; c < ORC_MAX_COLLISIONS; c++) {
        orc_sample(o->p, r, values);
        if (orc_find(o, values) < 0) return 0;
    }
    /* Nearly exhausted, or small: pick uniformly among the untried ones. */
    orc_odometer d;
    if (orc_odo_init(&d, o->p, 0, ORC_ENUM_CAP)) return -1;
    long untried = 0;
    do untried += orc_find(o, d.cur) < 0 && orc_feasible(o->p, d.cur);
    while (orc_odo_next(&d));
    int rc = -1;
    if (untried > 0) {
        long pick = (long)rng_below(r, (uint64_t)untried);
        orc_odo_free(&d);
        if (orc_odo_init(&d, o->p, 0, ORC_ENUM_CAP)) return -1;
        do {
            if (orc_find(o, d.cur) < 0 && orc_feasible(o->p, d.cur) && pick-- == 0) {
                memcpy(values, d.cur, sizeof *values * (size_t)o->p->n_hps);
                rc = 0;
                break;
            }
        } while (orc_odo_next(&d));
    }
    orc_odo_free(&d);
    return rc;
}

/* ---- the grid ------------------------------------------------------------ */

static long raw_count(const ir_hp *h, int grid)
{
    long n = ir_hp_cardinality(h);
    return n < 0 && grid ? 10 : n;  /* ir_hp_values' ten points */
}

static hpt_value raw_value(const ir_hp *h, long k)
{
    switch (h->kind) {
    case HP_BOOLEAN: return value_bool(k != 0);
    case HP_FIXED: return h->values[0];
    case HP_CHOICE: return h->values[k];
    case HP_INT:
    case HP_FLOAT: break;
    }
    if (ir_hp_cardinality(h) >= 0) return ir_hp_value_at(h, k);
    /* A Float without step: ir_hp_values' ten evenly spaced points. */
    double lo = value_as_double(h->min), hi = value_as_double(h->max), t = k / 9.0;
    return value_float(h->sampling == SAMPLING_LOG ? lo * pow(hi / lo, t) : lo + (hi - lo) * t);
}

static long raw_position(const ir_hp *h, hpt_value v, long n)
{
    if ((h->kind == HP_INT || h->kind == HP_FLOAT) && ir_hp_cardinality(h) >= 0) {
        if (!value_is_number(v)) return -1;
        double k;
        hpt_value near = ir_hp_nearest(h, v, &k);
        return value_equal(near, v) && k < (double)LONG_MAX ? (long)k : -1;
    }
    for (long k = 0; k < n; k++)
        if (value_equal(raw_value(h, k), v)) return k;
    return -1;
}

static hpt_value axis_value(const ir_hp *h, const orc_axis *a, long i)
{
    if (!a->reorder) return raw_value(h, i);
    if (i == 0) return h->default_value;
    long j = i - 1;
    return raw_value(h, a->pd < 0 || j < a->pd ? j : j + 1);
}

static void odo_refresh(orc_odometer *d)
{
    const ir_program *p = d->p;
    for (int k = 0; k < p->n_hps; k++) d->cur[k] = value_none();
    for (int k = 0; k < p->n_hps; k++)
        if (orc_active(p, k, d->cur)) d->cur[k] = axis_value(&p->hps[k], &d->ax[k], d->idx[k]);
}

int orc_odo_init(orc_odometer *d, const ir_program *p, int grid, long cap)
{
    int n = p->n_hps;
    memset(d, 0, sizeof *d);
    d->p = p;
    d->ax = calloc((size_t)n + 1, sizeof *d->ax);
    d->idx = calloc((size_t)n + 1, sizeof *d->idx);
    d->cur = calloc((size_t)n + 1, sizeof *d->cur);
    if (!d->ax || !d->idx || !d->cur) return orc_odo_free(d), -1;
    double product = 1;
    for (int k = 0; k < n; k++) {
        const ir_hp *h = &p->hps[k];
        long raw = raw_count(h, grid);
        if (raw <= 0) return orc_odo_free(d), -1;
        orc_axis *a = &d->ax[k];
        a->reorder = h->default_value.type != V_NONE && h->kind != HP_FIXED;
        a->pd = a->reorder ? raw_position(h, h->default_value, raw) : 0;
        a->n = raw + (a->reorder && a->pd < 0);
        product *= (double)a->n;
    }
    if (!grid && product > (double)cap) return orc_odo_free(d), -1;
    odo_refresh(d);
    return 0;
}

int orc_odo_next(orc_odometer *d)
{
    /* Activity is that of the current configuration: conditions refer only
     * to earlier hyperparameters, which the turn below leaves alone. */
    for (int k = d->p->n_hps - 1; k >= 0; k--) {
        if (d->cur[k].type != V_NONE && d->idx[k] + 1 < d->ax[k].n) {
            d->idx[k]++;
            odo_refresh(d);
            return 1;
        }
        d->idx[k] = 0;
    }
    odo_refresh(d);
    return 0;
}

void orc_odo_free(orc_odometer *d)
{
    free(d->ax), free(d->idx), free(d->cur);
    d->ax = NULL, d->idx = NULL, d->cur = NULL;
}

static void mark_refs(const ir_expr *e, bool *referenced)
{
    if (!e) return;
    if (e->op == X_HP) referenced[e->hp] = true;
    mark_refs(e->a, referenced);
    mark_refs(e->b, referenced);
    int n = e->op == X_OBJECT && e->entry ? e->entry->n_args : e->n_items;
    for (int k = 0; k < n; k++)
        if (e->items) mark_refs(e->items[k], referenced);
}

long orc_space_size(const ir_program *p, int grid, long cap)
{
    orc_odometer d;
    if (orc_odo_init(&d, p, grid, grid ? LONG_MAX : cap)) return -1;
    /* Only the hyperparameters conditions refer to decide what is active:
     * enumerate those (the others held at one value) and multiply in the
     * sizes of the others that are active. */
    bool *referenced = calloc((size_t)p->n_hps + 1, sizeof *referenced);
    long *size = calloc((size_t)p->n_hps + 1, sizeof *size);
    double count = -1;
    if (referenced && size) {
        for (int k = 0; k < p->n_hps; k++) mark_refs(p->hps[k].condition, referenced);
        for (int k = 0; k < p->n_hps; k++) {
            size[k] = d.ax[k].n;
            if (!referenced[k]) d.ax[k].n = 1;
        }
        count = 0;
        do {
            double product = 1;
            for (int k = 0; k < p->n_hps; k++)
                if (!referenced[k] && d.cur[k].type != V_NONE) product *= (double)size[k];
            count += product;
        } while (count <= (double)cap && orc_odo_next(&d));
    }
    free(referenced), free(size);
    orc_odo_free(&d);
    return count < 0 || count > (double)cap ? -1 : (long)count;
}

void orc_plan_trials(const oracle_config *cfg, int max_trials_arg, FILE *out)
{
    long max = (long)cfg->args[max_trials_arg].u.i, epochs = cfg->default_epochs;
    double size = space_size(cfg->p);
    long trials = size >= 0 && size < max ? (long)size : max;
    fprintf(out, "  %ld trial%s of up to %ld epoch%s each", trials, trials == 1 ? "" : "s", epochs,
            epochs == 1 ? "" : "s");
    if (trials < max) fprintf(out, " (the space has only %ld configurations)", trials);
    fputc('\n', out);
}

oracle_status orc_lagged_results(const oracle *o, int k, int *ids, int *n)
{
    *n = 0;
    for (int t = 0; t <= k - ORACLE_LAG; t++) {
        if (!o->trials[t].reported) return ORACLE_WAIT;
        if (orc_done_ok(o, t)) ids[(*n)++] = t;
    }
    return ORACLE_TRIAL;
}
