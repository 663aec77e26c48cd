/* oracle_tpe.c: TPE, as Optuna's default TPESampler (univariate), and the
 * Parzen estimators BOHB shares.
 *
 * Trials 0 .. n_startup_trials-1 are random.  Trial k after that uses the
 * completed trials among 0 .. k - ORACLE_LAG (waiting until all of those have
 * reported), so its proposal does not depend on --jobs or on the order
 * results come in.  As Optuna: the n completed trials are split by loss into
 * the gamma(n) = min(ceil(n / 10), 25) best ("below") and the rest; then
 * every active hyperparameter, in definition order, gets a Parzen estimator
 * l over the below trials where it was active and g over the others, and
 * takes the best of 24 candidates drawn from l by log l - log g.
 *
 * Optuna's estimator (prior_weight 1, consider_magic_clip, no endpoints):
 * one truncated normal per observation plus a prior at the centre of the
 * range with sigma = its width; each sigma is the larger gap to a
 * neighbour among the sorted observations, the prior's centre and the
 * bounds (the outermost take their inner gap), clipped to
 * [width / min(100, m + 2), width]; mixture weights 1 (older ones ramp down
 * once there are more than 25) and the prior's 1, normalised.  Numbers live
 * in an internal coordinate u: x, log x, or -log(max + min - x) for
 * reverse_log; a stepped range adds half a step at both ends and scores a
 * value by the mass of its cell, as Optuna's discrete distributions.
 * Categorical and Boolean hyperparameters use Optuna's categorical
 * estimator: each observation puts 1 on its choice plus prior_weight /
 * (m + 1) on every choice. */
#include "runtime/tune/oracle_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_EI_CANDIDATES 24
#define PRIOR_WEIGHT 1.0

/* ---- the normal distribution ------------------------------------------- */

static double ncdf(double x) { return 0.5 * erfc(-x / M_SQRT2); }

/* log(Phi(hi) - Phi(lo)) for lo <= hi, accurate in both tails. */
static double log_mass(double lo, double hi)
{
    double d;
    if (lo >= 0) d = 0.5 * (erfc(lo / M_SQRT2) - erfc(hi / M_SQRT2));
    else if (hi <= 0) d = 0.5 * (erfc(-hi / M_SQRT2) - erfc(-lo / M_SQRT2));
    else d = 0.5 * (erf(hi / M_SQRT2) - erf(lo / M_SQRT2));
    return log(d > 1e-300 ? d : 1e-300);
}

/* Inverse of Phi: Acklam's rational approximation, then one Halley step. */
static double ndtri(double p)
{
    static const double a[] = { -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00 };
    static const double b[] = { -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                6.680131188771972e+01, -1.328068155288572e+01 };
    static const double c[] = { -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00 };
    static const double d[] = { 7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                3.754408661907416e+00 };
    if (p <= 0) return -INFINITY;
    if (p >= 1) return INFINITY;
    double x, q, r;
    if (p < 0.02425) {
        q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p > 1 - 0.02425) {
        q = sqrt(-2 * log1p(-p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else {
        q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    double e = ncdf(x) - p, u = e * sqrt(2 * M_PI) * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

/* A draw of N(0, 1) truncated to [lo, hi], by the inverse CDF; the interval
 * is mirrored into the lower half so Phi keeps its precision in the tails. */
static double truncnorm(rng *r, double lo, double hi)
{
    int flip = lo > 0;
    if (flip) {
        double t = lo;
        lo = -hi, hi = -t;
    }
    double plo = ncdf(lo), phi = ncdf(hi);
    double z = phi - plo > 1e-300 ? ndtri(plo + rng_double(r) * (phi - plo)) : hi;
    if (!(z >= lo)) z = lo;
    if (!(z <= hi)) z = hi;
    return flip ? -z : z;
}

/* ---- one hyperparameter's coordinate ----------------------------------- */

typedef enum { U_CONT, U_GRID, U_INT } ucoord_kind;

typedef struct ucoord {
    ucoord_kind kind;
    ir_sampling tr;             /* x -> u */
    double lo, hi;              /* the range in x */
    double a, b;                /* the range in u, half steps included */
    double u0, du;              /* U_GRID: u_k = u0 + k du */
    long n;
} ucoord;

static double to_u(const ucoord *c, double x)
{
    if (c->tr == SAMPLING_LOG) return log(x);
    if (c->tr == SAMPLING_REVERSE_LOG) return -log(c->hi + c->lo - x);
    return x;
}

static double from_u(const ucoord *c, double u)
{
    if (c->tr == SAMPLING_LOG) return exp(u);
    if (c->tr == SAMPLING_REVERSE_LOG) return c->hi + c->lo - exp(-u);
    return u;
}

static ucoord make_coord(const ir_hp *h)
{
    ucoord c = { .lo = value_as_double(h->min), .hi = value_as_double(h->max) };
    ir_sampling s = orc_log_ok(h) ? h->sampling : SAMPLING_LINEAR;
    if (orc_stepped(h)) {
        /* The grid is uniform in x, or in log x for a log step. */
        c.kind = U_GRID;
        c.n = ir_hp_cardinality(h);
        double st = h->step.type == V_NONE ? 1 : value_as_double(h->step);
        c.tr = s == SAMPLING_LOG && h->step.type != V_NONE ? SAMPLING_LOG : SAMPLING_LINEAR;
        c.u0 = to_u(&c, c.lo);
        c.du = c.tr == SAMPLING_LOG ? log(st) : st;
        c.a = c.u0 - c.du / 2, c.b = c.u0 + (double)(c.n - 1) * c.du + c.du / 2;
    } else if (h->kind == HP_INT) {
        c.kind = U_INT, c.tr = s;
        c.a = to_u(&c, c.lo - 0.5), c.b = to_u(&c, c.hi + 0.5);
    } else {
        c.kind = U_CONT, c.tr = s;
        c.a = to_u(&c, c.lo), c.b = to_u(&c, c.hi);
    }
    return c;
}

static double value_u(const ir_hp *h, const ucoord *c, hpt_value v)
{
    if (c->kind == U_GRID) {
        double k;
        ir_hp_nearest(h, v, &k);
        return c->u0 + k * c->du;
    }
    return to_u(c, value_as_double(v));
}

static hpt_value u_value(const ir_hp *h, const ucoord *c, double u)
{
    if (c->kind == U_GRID) {
        double k = round((u - c->u0) / c->du);
        return ir_hp_value_at(h, k < 0 ? 0 : k > (double)(c->n - 1) ? c->n - 1 : (long)k);
    }
    double x = from_u(c, u);
    x = x < c->lo ? c->lo : x > c->hi ? c->hi : x;
    if (c->kind == U_INT) return orc_int_value(h, round(x));
    return value_float(x);
}

/* The cell of a discrete value in u, [*ca, *cb]. */
static void u_cell(const ucoord *c, double u, double *ca, double *cb)
{
    if (c->kind == U_GRID) {
        *ca = u - c->du / 2, *cb = u + c->du / 2;
    } else {
        double x = round(from_u(c, u));
        *ca = to_u(c, x - 0.5), *cb = to_u(c, x + 0.5);
    }
}

/* ---- Parzen estimators ------------------------------------------------- */

typedef struct parzen {
    int m;                      /* components, the prior last */
    double *w;                  /* mixture weights, normalised */
    double *mu, *sigma;         /* numeric */
    double *p;                  /* categorical: m rows of n_choices */
    int n_choices;
} parzen;

/* Optuna's default_weights(n) for the m observations, the prior's appended. */
static void mixture_weights(double *w, int m, int ramp)
{
    for (int i = 0; i < m; i++) w[i] = 1;
    if (ramp && m > 25) {
        int k = m - 25;     /* np.linspace(1 / m, 1, k) for the oldest */
        for (int i = 0; i < k; i++) w[i] = k == 1 ? 1.0 / m : 1.0 / m + (1 - 1.0 / m) * i / (k - 1);
    }
    w[m] = PRIOR_WEIGHT;
    double sum = 0;
    for (int i = 0; i <= m; i++) sum += w[i];
    for (int i = 0; i <= m; i++) w[i] /= sum;
}

/* obs[m] in u; fills e->mu, e->sigma (m + 1 entries). */
static void numeric_kernels(parzen *e, const ucoord *c, const double *obs, int m, int *order)
{
    double a = c->a, b = c->b, prior = 0.5 * (a + b);
    int n = m + 1;
    for (int i = 0; i < m; i++) e->mu[i] = obs[i];
    e->mu[m] = prior;
    /* Sort the centres (the prior's included) and take neighbour gaps. */
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = 1; i < n; i++) {
        int t = order[i], j = i;
        while (j > 0 && e->mu[order[j - 1]] > e->mu[t]) order[j] = order[j - 1], j--;
        order[j] = t;
    }
    for (int s = 0; s < n; s++) {
        double left = s == 0 ? a : e->mu[order[s - 1]], right = s == n - 1 ? b : e->mu[order[s + 1]];
        double here = e->mu[order[s]];
        double sg = fmax(here - left, right - here);
        if (n >= 2 && s == 0) sg = right - here;           /* consider_endpoints = False */
        if (n >= 2 && s == n - 1) sg = here - left;
        e->sigma[order[s]] = sg;
    }
    double maxsigma = b - a, minsigma = (b - a) / fmin(100.0, (double)m + 2);
    for (int i = 0; i < m; i++) e->sigma[i] = fmin(fmax(e->sigma[i], minsigma), maxsigma);
    e->sigma[m] = b - a;
}

static void categorical_kernels(parzen *e, const int *obs, int m)
{
    int nc = e->n_choices;
    for (int i = 0; i <= m; i++) {
        double *row = &e->p[(size_t)i * nc], sum = 0;
        for (int j = 0; j < nc; j++) row[j] = PRIOR_WEIGHT / (m + 1);
        if (i < m) row[obs[i]] += 1;
        for (int j = 0; j < nc; j++) sum += row[j];
        for (int j = 0; j < nc; j++) row[j] /= sum;
    }
}

static int pick_component(const parzen *e, rng *r)
{
    double u = rng_double(r), acc = 0;
    for (int i = 0; i < e->m - 1; i++) {
        acc += e->w[i];
        if (u < acc) return i;
    }
    return e->m - 1;
}

static double numeric_sample(const parzen *e, const ucoord *c, rng *r)
{
    int i = pick_component(e, r);
    double mu = e->mu[i], sg = fmax(e->sigma[i], 1e-12);
    double u = mu + sg * truncnorm(r, (c->a - mu) / sg, (c->b - mu) / sg);
    return u < c->a ? c->a : u > c->b ? c->b : u;
}

static double logsumexp(const double *x, int n)
{
    double m = -INFINITY, s = 0;
    for (int i = 0; i < n; i++) m = fmax(m, x[i]);
    if (m == -INFINITY) return m;
    for (int i = 0; i < n; i++) s += exp(x[i] - m);
    return m + log(s);
}

/* log density (continuous) or log mass (discrete) of u under e. */
static double numeric_logpdf(const parzen *e, const ucoord *c, double u, double *tmp)
{
    double ca = 0, cb = 0;
    if (c->kind != U_CONT) u_cell(c, u, &ca, &cb);
    for (int i = 0; i < e->m; i++) {
        double mu = e->mu[i], sg = fmax(e->sigma[i], 1e-12);
        double z = log_mass((c->a - mu) / sg, (c->b - mu) / sg);
        double v;
        if (c->kind == U_CONT) {
            double t = (u - mu) / sg;
            v = -0.5 * t * t - log(sg) - 0.5 * log(2 * M_PI) - z;
        } else {
            v = log_mass((fmax(ca, c->a) - mu) / sg, (fmin(cb, c->b) - mu) / sg) - z;
        }
        tmp[i] = log(e->w[i]) + v;
    }
    return logsumexp(tmp, e->m);
}

static int categorical_sample(const parzen *e, rng *r)
{
    const double *row = &e->p[(size_t)pick_component(e, r) * e->n_choices];
    double u = rng_double(r), acc = 0;
    for (int j = 0; j < e->n_choices - 1; j++) {
        acc += row[j];
        if (u < acc) return j;
    }
    return e->n_choices - 1;
}

static double categorical_logpmf(const parzen *e, int j)
{
    double s = 0;
    for (int i = 0; i < e->m; i++) s += e->w[i] * e->p[(size_t)i * e->n_choices + j];
    return log(s > 1e-300 ? s : 1e-300);
}

/* ---- the proposal ------------------------------------------------------ */

/* A categorical hyperparameter's choices: Choice's values, Boolean's False, True. */
static int n_choices(const ir_hp *h) { return h->kind == HP_BOOLEAN ? 2 : h->n_values; }

static int choice_index(const ir_hp *h, hpt_value v)
{
    if (h->kind == HP_BOOLEAN) return v.type == V_BOOL && v.u.b;
    for (int j = 0; j < h->n_values; j++)
        if (value_equal(v, h->values[j])) return j;
    return 0;
}

static hpt_value choice_value(const ir_hp *h, int j)
{
    return h->kind == HP_BOOLEAN ? value_bool(j != 0) : h->values[j];
}

typedef struct scratch {
    double *obs_u, *w, *mu, *sigma, *p, *tmp;
    int *obs_i, *order;
} scratch;

/* Build the estimator of hyperparameter k over the trials `ids` where it is active. */
static void build(const oracle *o, int k, const ucoord *c, const int *ids, int n, int ramp, scratch *s,
                  int which, parzen *e)
{
    const ir_hp *h = &o->p->hps[k];
    size_t stride = (size_t)o->n_trials + 2;
    int m = 0;
    double *obs_u = s->obs_u + which * stride;
    int *obs_i = s->obs_i + which * stride;
    for (int i = 0; i < n; i++) {
        hpt_value v = o->trials[ids[i]].values[k];
        if (v.type == V_NONE) continue;
        if (c) obs_u[m++] = value_u(h, c, v);
        else obs_i[m++] = choice_index(h, v);
    }
    e->m = m + 1;
    e->w = s->w + which * stride;
    e->mu = s->mu + which * stride;
    e->sigma = s->sigma + which * stride;
    mixture_weights(e->w, m, ramp);
    if (c) {
        numeric_kernels(e, c, obs_u, m, s->order);
    } else {
        e->n_choices = n_choices(h);
        e->p = s->p + which * stride * (size_t)e->n_choices;
        categorical_kernels(e, obs_i, m);
    }
}

int orc_tpe_propose(oracle *o, int trial, const int *below, int n_below, const int *above, int n_above, int ramp,
                    hpt_value *values)
{
    const ir_program *p = o->p;
    size_t stride = (size_t)o->n_trials + 2;
    int max_choices = 2;
    for (int k = 0; k < p->n_hps; k++)
        if (p->hps[k].kind == HP_CHOICE && p->hps[k].n_values > max_choices) max_choices = p->hps[k].n_values;
    scratch s = {
        malloc(sizeof(double) * 2 * stride), malloc(sizeof(double) * 2 * stride), malloc(sizeof(double) * 2 * stride),
        malloc(sizeof(double) * 2 * stride), malloc(sizeof(double) * 2 * stride * (size_t)max_choices),
        malloc(sizeof(double) * stride), malloc(sizeof(int) * 2 * stride), malloc(sizeof(int) * stride),
    };
    int rc = -1;
    if (!s.obs_u || !s.w || !s.mu || !s.sigma || !s.p || !s.tmp || !s.obs_i || !s.order) goto out;
    rng r = orc_stream(o, trial, ORC_MODEL);
    for (int k = 0; k < p->n_hps; k++) values[k] = value_none();
    for (int k = 0; k < p->n_hps; k++) {
        const ir_hp *h = &p->hps[k];
        if (!orc_active(p, k, values)) continue;
        if (h->kind == HP_FIXED) {
            values[k] = h->values[0];
            continue;
        }
        parzen l, g;
        if (h->kind == HP_CHOICE || h->kind == HP_BOOLEAN) {
            build(o, k, NULL, below, n_below, ramp, &s, 0, &l);
            build(o, k, NULL, above, n_above, ramp, &s, 1, &g);
            int best = 0;
            double best_score = -INFINITY;
            for (int i = 0; i < N_EI_CANDIDATES; i++) {
                int j = categorical_sample(&l, &r);
                double score = categorical_logpmf(&l, j) - categorical_logpmf(&g, j);
                if (score > best_score) best_score = score, best = j;
            }
            values[k] = choice_value(h, best);
        } else {
            ucoord c = make_coord(h);
            build(o, k, &c, below, n_below, ramp, &s, 0, &l);
            build(o, k, &c, above, n_above, ramp, &s, 1, &g);
            double best = 0.5 * (c.a + c.b), best_score = -INFINITY;
            for (int i = 0; i < N_EI_CANDIDATES; i++) {
                double u = numeric_sample(&l, &c, &r);
                if (c.kind != U_CONT) u = value_u(h, &c, u_value(h, &c, u));     /* align to the grid */
                double score = numeric_logpdf(&l, &c, u, s.tmp) - numeric_logpdf(&g, &c, u, s.tmp);
                if (score > best_score) best_score = score, best = u;
            }
            values[k] = u_value(h, &c, best);
        }
    }
    rc = 0;
out:
    free(s.obs_u), free(s.w), free(s.mu), free(s.sigma), free(s.p), free(s.tmp), free(s.obs_i), free(s.order);
    return rc;
}

/* ---- the TPE oracle ---------------------------------------------------- */

typedef struct tpe_state {
    long max_trials, n_startup;
} tpe_state;

static oracle_status tpe_next(oracle *o, oracle_request *out)
{
    tpe_state *s = o->state;
    int k = o->n_trials;
    if (k >= s->max_trials) return ORACLE_DONE;
    hpt_value *values = malloc(sizeof *values * ((size_t)o->p->n_hps + 1));
    int *ids = malloc(sizeof *ids * ((size_t)k + 1));
    oracle_status st = ORACLE_DONE;
    if (!values || !ids) goto out;
    int n = 0;
    if (k >= s->n_startup) {
        if (orc_lagged_results(o, k, ids, &n) == ORACLE_WAIT) {
            st = ORACLE_WAIT;
            goto out;
        }
    }
    if (n == 0) {
        /* Optuna's startup trials come from its RandomSampler, with repeats. */
        rng r = orc_stream(o, k, ORC_SAMPLE);
        orc_sample(o->p, &r, values);
    } else {
        orc_sort_by_loss(o, ids, n);
        int n_below = (int)ceil(0.1 * n);
        if (n_below > 25) n_below = 25;
        /* Both halves back in chronological order, for the weights' ramp. */
        for (int i = 1; i < n_below; i++)
            for (int j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
                int t = ids[j];
                ids[j] = ids[j - 1], ids[j - 1] = t;
            }
        for (int i = n_below + 1; i < n; i++)
            for (int j = i; j > n_below && ids[j - 1] > ids[j]; j--) {
                int t = ids[j];
                ids[j] = ids[j - 1], ids[j - 1] = t;
            }
        if (orc_tpe_propose(o, k, ids, n_below, ids + n_below, n - n_below, 1, values)) goto out;
        orc_make_feasible(o, k, values);   /* within the tuner's limits */
    }
    if (orc_propose(o, values, o->default_epochs, 0, -1, -1, -1, out) == 0) st = ORACLE_TRIAL;
out:
    free(values), free(ids);
    return st;
}

static long tpe_planned(const oracle *o) { return ((const tpe_state *)o->state)->max_trials; }

static void tpe_describe(const oracle *o, char *buf, size_t n)
{
    const tpe_state *s = o->state;
    snprintf(buf, n, "TPE: %d of %ld trials proposed (%ld random at start), %d done", o->n_trials, s->max_trials,
             s->n_startup, o->n_reported);
}

static const orc_ops tpe_ops = {
    .next = tpe_next, .planned = tpe_planned, .describe = tpe_describe,
};

int orc_tpe_init(oracle *o, const oracle_config *cfg, hpt_error *e)
{
    tpe_state *s = calloc(1, sizeof *s);
    if (!s) return hpt_fail(e, "out of memory");
    s->max_trials = orc_arg_int(cfg, TPE_max_trials, 10);
    s->n_startup = orc_arg_int(cfg, TPE_n_startup_trials, 10);
    o->state = s, o->ops = &tpe_ops;
    return 0;
}

void orc_tpe_plan(const oracle_config *cfg, FILE *out) { orc_plan_trials(cfg, TPE_max_trials, out); }
