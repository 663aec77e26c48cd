/* oracle_bayes.c: BayesianOptimization, as Keras Tuner's oracle of that name.
 *
 * The first num_initial_points trials (None: 3 x the number of
 * hyperparameters, as Keras Tuner's 3 * len(space)) are random, without
 * repeats.  Trial k after that fits a Gaussian process to the completed
 * trials among 0 .. k - ORACLE_LAG (waiting until all of those have
 * reported, so results do not depend on --jobs) and proposes the minimiser
 * of the lower confidence bound mu - beta * sigma of the loss (the score,
 * negated when it rises).
 *
 * The model, as Keras Tuner's: inputs are the non-Fixed hyperparameters
 * encoded in [0, 1] by value_to_prob (discrete values at their bucket's
 * centre, log sampling in log space); an inactive hyperparameter is encoded
 * at its default's position; outputs are standardised (normalize_y); the
 * kernel is Matern 5/2 with unit amplitude plus alpha on the diagonal.
 * Keras Tuner keeps the length scale at 1; here one isotropic length scale
 * is chosen by the log marginal likelihood over a log-spaced grid of
 * N_LENGTH values in [0.03, 3].  Cholesky factors come from LAPACK (dpotrf,
 * dpotrs) and the triangular solves of the predictive variance from BLAS.
 * Instead of Keras Tuner's 50 L-BFGS-B restarts, the acquisition is
 * minimised over N_RANDOM uniform candidates and two rounds of Gaussian
 * perturbations around the best; the best candidate whose decoded
 * configuration has not been tried is proposed (random when all have).
 *
 * That method refits in cubic time and scores every candidate against
 * every point: 27 ms a trial on average over 400 trials, 107 ms over
 * 1,000 (0.3 s for the last ones; bench/oracles.sh).  So (issue
 * 15) it runs as above only while the model has at most EXACT_POINTS
 * points.  Past them, the cheap method: the Gaussian process is fitted on a
 * window of at most WINDOW points, the WINDOW_BEST lowest losses and then,
 * greedily, the point farthest from those chosen (so the model still knows
 * every region the search has been to and does not send it back); outputs
 * are standardised over the window; the length scale's grid is searched
 * once every LENGTH_EVERY trials (for the points trial k - k % LENGTH_EVERY
 * saw, so a pure function of the trial number and the results), and
 * FAST_RANDOM uniform candidates replace N_RANDOM, with INCUMBENTS x
 * INCUMBENT_EACH more drawn close around the best points observed (a
 * trust region: measured over 1,000 trials on 5 seeds, it brings the mean
 * best from 0.39881 to 0.39827 on Branin, exact 0.39795, and from -3.2268
 * to -3.2395 on Hartmann-6, exact -3.2444).  Its cost per trial is
 * bounded whatever the number of trials.  orc_bayes_set_exact keeps the
 * exact method reachable for the benches and tests that compare the two
 * (bench/oracles.sh). */
#include "runtime/tune/oracle_impl.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK, Fortran calling convention (OpenBLAS exports them). */
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *lda, double *b,
             const int *ldb, int *info);

#define N_LENGTH 10
#define N_RANDOM 2000
#define N_LOCAL_SEEDS 10
#define N_LOCAL_EACH 30
/* The cheap method (issue 15): up to EXACT_POINTS points it is the exact
 * one; past them, FAST_SEARCH's fewer candidates, the length scale searched
 * every LENGTH_EVERY trials, and the Gaussian process over a window of at
 * most WINDOW points (WINDOW_BEST of the best and the rest spread out). */
#define EXACT_POINTS 64
#define WINDOW 128
#define WINDOW_BEST 32
#define LENGTH_EVERY 8
#define FAST_RANDOM 500
#define FAST_LOCAL_SEEDS 10
#define FAST_LOCAL_EACH 30
/* ... and candidates close around the INCUMBENTS best points observed,
 * INCUMBENT_EACH each (see model_propose). */
#define INCUMBENTS 5
#define INCUMBENT_EACH 30

typedef struct bayes_state {
    long max_trials, n_initial;
    double alpha, beta;
    int d;                      /* dimensions: the non-Fixed hyperparameters */
    int *dim_hp;                /* d hyperparameter indices */
    int exhausted;
    int length_trial;           /* scheduled_length's cache: the trial k0 it was computed for (-1 none) */
    double length;
    int exact;                  /* today's method (a full refit over every point): benches and tests only */
} bayes_state;

typedef struct gp {
    int n, d;
    const double *x;            /* n x d, row-major */
    double *l;                  /* n x n Cholesky factor, column-major lower */
    double *coef;               /* K^-1 y */
    double length;
} gp;

static double matern52(double dist, double length)
{
    double r = sqrt(5.0) * dist / length;
    return (1 + r + r * r / 3) * exp(-r);
}

static double dist(const double *a, const double *b, int d)
{
    double s = 0;
    for (int j = 0; j < d; j++) s += (a[j] - b[j]) * (a[j] - b[j]);
    return sqrt(s);
}

/* Factor K + alpha I for one length scale; the log marginal likelihood, or
 * -inf when the matrix is not positive definite. */
static double factor(gp *g, const double *y, double alpha, double length)
{
    int n = g->n, info = 0, one = 1;
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++) {
            double k = matern52(dist(&g->x[(size_t)i * g->d], &g->x[(size_t)j * g->d], g->d), length);
            g->l[(size_t)j * n + i] = g->l[(size_t)i * n + j] = k + (i == j ? alpha : 0);
        }
    dpotrf_("L", &n, g->l, &n, &info);
    if (info != 0) return -INFINITY;
    memcpy(g->coef, y, sizeof *y * (size_t)n);
    dpotrs_("L", &n, &one, g->l, &n, g->coef, &n, &info);
    if (info != 0) return -INFINITY;
    double lml = -0.5 * n * log(2 * M_PI);
    for (int i = 0; i < n; i++) lml += -0.5 * y[i] * g->coef[i] - log(g->l[(size_t)i * n + i]);
    g->length = length;
    return lml;
}

/* Fit with the length scale of highest marginal likelihood; -1 if none works. */
static int fit(gp *g, const double *y, double alpha)
{
    double best = -INFINITY, best_length = 0;
    for (int i = 0; i < N_LENGTH; i++) {
        double length = 0.03 * pow(100.0, i / (N_LENGTH - 1.0));
        double lml = factor(g, y, alpha > 1e-10 ? alpha : 1e-10, length);
        if (lml > best) best = lml, best_length = length;
    }
    if (best == -INFINITY) return -1;
    return factor(g, y, alpha > 1e-10 ? alpha : 1e-10, best_length) == -INFINITY ? -1 : 0;
}

/* Lower confidence bound (standardised units) of m candidates c (m x d). */
static void acquisition(const gp *g, const double *c, int m, double beta, double *ks, double *out)
{
    int n = g->n, d = g->d;
    for (int j = 0; j < m; j++)
        for (int i = 0; i < n; i++) ks[(size_t)j * n + i] = matern52(dist(&c[(size_t)j * d], &g->x[(size_t)i * d], d), g->length);
    for (int j = 0; j < m; j++) {
        double mu = 0;
        for (int i = 0; i < n; i++) mu += ks[(size_t)j * n + i] * g->coef[i];
        out[j] = mu;
    }
    /* v = L^-1 k*, sigma^2 = 1 - |v|^2 */
    cblas_dtrsm(CblasColMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit, n, m, 1.0, g->l, n, ks, n);
    for (int j = 0; j < m; j++) {
        double v = 1;
        for (int i = 0; i < n; i++) v -= ks[(size_t)j * n + i] * ks[(size_t)j * n + i];
        out[j] -= beta * sqrt(v > 0 ? v : 0);
    }
}

/* Decode a point of [0, 1]^d: parents first, inactive ones V_NONE. */
static void decode(const oracle *o, const double *x, hpt_value *values)
{
    const ir_program *p = o->p;
    for (int k = 0; k < p->n_hps; k++) values[k] = value_none();
    for (int k = 0, j = 0; k < p->n_hps; k++) {
        const ir_hp *h = &p->hps[k];
        double prob = 0.5;
        if (h->kind != HP_FIXED) prob = x[j++];
        if (orc_active(p, k, values)) values[k] = orc_prob_to_value(h, prob);
    }
}

static void encode(const oracle *o, const bayes_state *s, const hpt_value *values, double *x)
{
    for (int j = 0; j < s->d; j++) {
        const ir_hp *h = &o->p->hps[s->dim_hp[j]];
        hpt_value v = values[s->dim_hp[j]];
        x[j] = orc_value_to_prob(h, v.type == V_NONE ? h->default_value : v);
    }
}

typedef struct ranked { double acq; int index; } ranked;

static int by_acquisition(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->acq != y->acq) return x->acq < y->acq ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

static double clip01(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

/* How many candidates one proposal scores: EXACT_SEARCH's in the exact
 * method, FAST_SEARCH's in the cheap one past EXACT_POINTS points. */
typedef struct search_plan { int n_random, n_local_seeds, n_local_each; } search_plan;
static const search_plan EXACT_SEARCH = { N_RANDOM, N_LOCAL_SEEDS, N_LOCAL_EACH };
static const search_plan FAST_SEARCH = { FAST_RANDOM, FAST_LOCAL_SEEDS, FAST_LOCAL_EACH };

typedef struct by_loss_entry { double loss; int id; } by_loss_entry;

static int by_loss(const void *a, const void *b)
{
    const by_loss_entry *x = a, *y = b;
    if (x->loss != y->loss) return x->loss < y->loss ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* The window: the WINDOW_BEST lowest losses (ties by id), then, to fill it, the
 * point farthest from those chosen so far, one at a time (ties: the
 * earliest), so the window still covers every region the search has seen
 * and the model does not send it back to places it has left.  Kept in
 * chronological order.  A pure function of the points (ids, chronological;
 * x, their encodings), so of the trial number and the results it may use.
 * Returns the window's size, its ids in win. */
static double sq_dist(const double *a, const double *b, int d)
{
    double s = 0;
    for (int j = 0; j < d; j++) s += (a[j] - b[j]) * (a[j] - b[j]);
    return s;
}

static int choose_window(const oracle *o, const int *ids, const double *x_all, int d, int n, int *win)
{
    by_loss_entry *e = malloc(sizeof *e * (size_t)n);
    unsigned char *in = calloc((size_t)n, 1);
    double *near = malloc(sizeof *near * (size_t)n);       /* squared distance to the window */
    if (!e || !in || !near) {
        free(e), free(in), free(near);
        return -1;
    }
    int n_best = WINDOW_BEST < n ? WINDOW_BEST : n;
    for (int i = 0; i < n; i++) e[i] = (by_loss_entry){ o->trials[ids[i]].loss, i }, near[i] = INFINITY;
    qsort(e, (size_t)n, sizeof *e, by_loss);
    for (int i = 0; i < n_best; i++) in[e[i].id] = 1;
    /* near[i]: squared distance from point i to the window, updated with
     * each point added (all the best ones at first). */
    for (int i = 0; i < n; i++)
        for (int k = 0; k < n_best && !in[i]; k++) {
            double s2 = sq_dist(&x_all[(size_t)i * d], &x_all[(size_t)e[k].id * d], d);
            if (s2 < near[i]) near[i] = s2;
        }
    for (int taken = n_best; taken < WINDOW; taken++) {
        int far = -1;
        for (int i = 0; i < n; i++)
            if (!in[i] && (far < 0 || near[i] > near[far])) far = i;
        if (far < 0) break;
        in[far] = 1;
        for (int i = 0; i < n; i++)
            if (!in[i]) {
                double s2 = sq_dist(&x_all[(size_t)i * d], &x_all[(size_t)far * d], d);
                if (s2 < near[i]) near[i] = s2;
            }
    }
    int m = 0;
    for (int i = 0; i < n; i++)
        if (in[i]) win[m++] = ids[i];
    free(e), free(in), free(near);
    return m;
}

/* The model's inputs x and standardised outputs y over the points ids (n,
 * chronological), or over their window when cheap and there are more than
 * WINDOW.  Returns how many points, -1 when out of memory. */
static int model_data(const oracle *o, const bayes_state *s, const int *ids, int n, int cheap, double *x, double *y)
{
    int d = s->d, m = n;
    int *win = NULL;
    if (cheap && n > WINDOW) {
        double *x_all = malloc(sizeof *x_all * (size_t)n * d);
        win = malloc(sizeof *win * WINDOW);
        m = x_all && win ? 0 : -1;
        for (int i = 0; m == 0 && i < n; i++) encode(o, s, o->trials[ids[i]].values, &x_all[(size_t)i * d]);
        if (m == 0) m = choose_window(o, ids, x_all, d, n, win);
        free(x_all);
    }
    double mean = 0, var = 0;
    for (int i = 0; i < m; i++) mean += o->trials[win ? win[i] : ids[i]].loss / m;
    for (int i = 0; i < m; i++) {
        double dy = o->trials[win ? win[i] : ids[i]].loss - mean;
        var += dy * dy / m;
    }
    double sd = var > 0 ? sqrt(var) : 1;
    for (int i = 0; i < m; i++) {
        int t = win ? win[i] : ids[i];
        encode(o, s, o->trials[t].values, &x[(size_t)i * d]);
        y[i] = (o->trials[t].loss - mean) / sd;
    }
    free(win);
    return m;
}

/* The cheap method's length scale for trial k: the most likely one (fit's
 * grid search) for the model of the points trial k0 = k - k % LENGTH_EVERY
 * saw, so the grid is searched once every LENGTH_EVERY trials and the
 * choice stays a pure function of k and the results (a resume recomputes
 * it; the cache only saves the work).  0 when trial k0 saw no more than
 * EXACT_POINTS points or its fit failed: the caller then searches the grid. */
static double scheduled_length(const oracle *o, bayes_state *s, int k, const int *ids, int n)
{
    int k0 = k - k % LENGTH_EVERY, n0 = 0;
    if (s->length_trial == k0) return s->length;
    while (n0 < n && ids[n0] <= k0 - ORACLE_LAG) n0++;
    double length = 0;
    if (n0 > EXACT_POINTS) {
        int m = n0 < WINDOW ? n0 : WINDOW;
        double *x = malloc(sizeof *x * (size_t)m * s->d), *y = malloc(sizeof *y * (size_t)m);
        double *l = malloc(sizeof *l * (size_t)m * m), *coef = malloc(sizeof *coef * (size_t)m);
        if (x && y && l && coef && model_data(o, s, ids, n0, 1, x, y) == m) {
            gp g = { m, s->d, x, l, coef, 1 };
            if (fit(&g, y, s->alpha) == 0) length = g.length;
        }
        free(x), free(y), free(l), free(coef);
    }
    s->length_trial = k0, s->length = length;
    return length;
}

/* The model's proposal into values; 1 when every candidate had been tried,
 * -1 when the model cannot be fitted. */
static int model_propose(oracle *o, bayes_state *s, const int *ids, int n_all, int trial, hpt_value *values)
{
    int cheap = !s->exact && n_all > EXACT_POINTS;
    const search_plan *plan = cheap ? &FAST_SEARCH : &EXACT_SEARCH;
    int n = cheap && n_all > WINDOW ? WINDOW : n_all, d = s->d;
    int m_max = plan->n_random + 2 * plan->n_local_seeds * plan->n_local_each + (cheap ? INCUMBENTS * INCUMBENT_EACH : 0);
    int m_block = plan->n_random > plan->n_local_seeds * plan->n_local_each ? plan->n_random
                                                                              : plan->n_local_seeds * plan->n_local_each;
    double *x = malloc(sizeof *x * (size_t)n * d), *y = malloc(sizeof *y * (size_t)n);
    double *l = malloc(sizeof *l * (size_t)n * n), *coef = malloc(sizeof *coef * (size_t)n);
    double *cand = malloc(sizeof *cand * (size_t)m_max * d), *acq = malloc(sizeof *acq * (size_t)m_max);
    double *ks = malloc(sizeof *ks * (size_t)n * m_block);
    int *order = malloc(sizeof *order * (size_t)m_max);
    int rc = -1;
    if (!x || !y || !l || !coef || !cand || !acq || !ks || !order) goto out;
    if (model_data(o, s, ids, n_all, cheap, x, y) != n) goto out;
    gp g = { n, d, x, l, coef, 1 };
    double length = cheap ? scheduled_length(o, s, trial, ids, n_all) : 0;
    double alpha = s->alpha > 1e-10 ? s->alpha : 1e-10;
    if (length > 0 ? factor(&g, y, alpha, length) == -INFINITY : fit(&g, y, s->alpha) != 0) goto out;

    rng r = orc_stream(o, trial, ORC_MODEL);
    int m = plan->n_random;
    for (size_t i = 0; i < (size_t)m * d; i++) cand[i] = rng_double(&r);
    acquisition(&g, cand, m, s->beta, ks, acq);
    /* Two rounds of local search around the best candidates so far. */
    for (int round = 0; round < 2; round++) {
        double spread = round == 0 ? 0.1 : 0.02;
        for (int i = 0; i < m; i++) order[i] = i;
        for (int i = 0; i < plan->n_local_seeds && i < m; i++)      /* partial selection of the best */
            for (int j = i + 1; j < m; j++)
                if (acq[order[j]] < acq[order[i]]) {
                    int t = order[i];
                    order[i] = order[j], order[j] = t;
                }
        int base = m;
        for (int i = 0; i < plan->n_local_seeds; i++)
            for (int e = 0; e < plan->n_local_each; e++) {
                double *c = &cand[(size_t)m * d];
                const double *seed = &cand[(size_t)order[i] * d];
                for (int j = 0; j < d; j++) c[j] = clip01(seed[j] + spread * rng_normal(&r));
                m++;
            }
        acquisition(&g, &cand[(size_t)base * d], m - base, s->beta, ks, &acq[base]);
    }
    /* The cheap method also searches close around the best points observed
     * (a trust region around the incumbents): with fewer candidates and a
     * window it otherwise settles less precisely inside a basin than the
     * exact method does. */
    if (cheap) {
        by_loss_entry best[INCUMBENTS];
        int n_best = 0;
        for (int i = 0; i < n_all; i++) {       /* insertion into the INCUMBENTS lowest losses, ties by id */
            by_loss_entry e = { o->trials[ids[i]].loss, ids[i] };
            int at = n_best < INCUMBENTS ? n_best++ : INCUMBENTS;
            while (at > 0 && by_loss(&e, &best[at - 1]) < 0) {
                if (at < INCUMBENTS) best[at] = best[at - 1];
                at--;
            }
            if (at < INCUMBENTS) best[at] = e;
        }
        int base = m;
        double *centre = malloc(sizeof *centre * (size_t)d);
        if (!centre) goto out;
        for (int i = 0; i < n_best; i++) {
            encode(o, s, o->trials[best[i].id].values, centre);
            for (int e = 0; e < INCUMBENT_EACH; e++) {
                double spread = e % 2 ? 0.01 : 0.05, *c = &cand[(size_t)m * d];
                for (int j = 0; j < d; j++) c[j] = clip01(centre[j] + spread * rng_normal(&r));
                m++;
            }
        }
        free(centre);
        acquisition(&g, &cand[(size_t)base * d], m - base, s->beta, ks, &acq[base]);
    }
    /* The best candidate not tried yet: usually the best of all, found by
     * one pass; the full ranking (ties by index) only when it was tried. */
    int first = 0;
    for (int i = 1; i < m; i++)
        if (acq[i] < acq[first]) first = i;
    decode(o, &cand[(size_t)first * d], values);
    if (orc_find(o, values) < 0) {
        rc = 0;
        goto out;
    }
    ranked *rank = malloc(sizeof *rank * (size_t)m);
    if (!rank) goto out;
    for (int i = 0; i < m; i++) rank[i] = (ranked){ acq[i], i };
    qsort(rank, (size_t)m, sizeof *rank, by_acquisition);
    rc = 1;
    for (int i = 0; i < m; i++) {
        decode(o, &cand[(size_t)rank[i].index * d], values);
        if (orc_find(o, values) < 0 && orc_feasible(o->p, values)) {
            rc = 0;
            break;
        }
    }
    free(rank);
out:
    free(x), free(y), free(l), free(coef), free(cand), free(acq), free(ks), free(order);
    return rc;
}

static oracle_status bayes_next(oracle *o, oracle_request *out)
{
    bayes_state *s = o->state;
    int k = o->n_trials;
    if (s->exhausted || k >= s->max_trials) return ORACLE_DONE;
    hpt_value *values = malloc(sizeof *values * ((size_t)o->p->n_hps + 1));
    int *ids = malloc(sizeof *ids * ((size_t)k + 1));
    oracle_status st = ORACLE_DONE;
    if (!values || !ids) goto out;
    int n = 0;
    if (k >= s->n_initial && s->d > 0) {
        if (orc_lagged_results(o, k, ids, &n) == ORACLE_WAIT) {
            st = ORACLE_WAIT;
            goto out;
        }
    }
    /* A Gaussian process needs two points to standardise its outputs. */
    if (n < 2 || model_propose(o, s, ids, n, k, values) != 0) {
        rng r = orc_stream(o, k, ORC_SAMPLE);
        if (orc_sample_new(o, &r, values)) {
            s->exhausted = 1;
            goto out;
        }
    }
    if (orc_propose(o, values, o->default_epochs, 0, -1, -1, -1, out) == 0) st = ORACLE_TRIAL;
out:
    free(values), free(ids);
    return st;
}

static long bayes_planned(const oracle *o) { return ((const bayes_state *)o->state)->max_trials; }

static void bayes_describe(const oracle *o, char *buf, size_t n)
{
    const bayes_state *s = o->state;
    snprintf(buf, n, "Bayesian optimization: %d of %ld trials proposed (%ld random at start), %d done", o->n_trials,
             s->max_trials, s->n_initial, o->n_reported);
}

static void bayes_free(void *state)
{
    bayes_state *s = state;
    if (s) free(s->dim_hp);
    free(s);
}

static const orc_ops bayes_ops = {
    .next = bayes_next, .planned = bayes_planned, .describe = bayes_describe, .free_state = bayes_free,
};

int orc_bayes_init(oracle *o, const oracle_config *cfg, hpt_error *e)
{
    bayes_state *s = calloc(1, sizeof *s);
    if (!s) return hpt_fail(e, "out of memory");
    o->state = s, o->ops = &bayes_ops;
    const ir_program *p = o->p;
    s->max_trials = orc_arg_int(cfg, BayesianOptimization_max_trials, 10);
    s->n_initial = orc_arg_int(cfg, BayesianOptimization_num_initial_points, 3L * p->n_hps);
    s->alpha = orc_arg_float(cfg, BayesianOptimization_alpha, 1e-4);
    s->beta = orc_arg_float(cfg, BayesianOptimization_beta, 2.6);
    s->length_trial = -1;
    s->dim_hp = malloc(sizeof *s->dim_hp * ((size_t)p->n_hps + 1));
    if (!s->dim_hp) return hpt_fail(e, "out of memory");
    for (int k = 0; k < p->n_hps; k++)
        if (p->hps[k].kind != HP_FIXED) s->dim_hp[s->d++] = k;
    return 0;
}

void orc_bayes_set_exact(oracle *o, int exact)
{
    if (o->tuner->id == ST_BayesianOptimization) ((bayes_state *)o->state)->exact = exact;
}

void orc_bayes_plan(const oracle_config *cfg, FILE *out) { orc_plan_trials(cfg, BayesianOptimization_max_trials, out); }
