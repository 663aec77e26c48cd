/* estimator.c: fitting and predicting the classic estimators (see estimator.h).
 *
 * Rows are read a chunk at a time through data_gather, so the features reach
 * every estimator exactly as they reach a network (u8 * scale or f32 *
 * scale).  The linear models work in double, as scikit-learn does on float64
 * input, so their coefficients can be compared to 1e-4; Ridge on bytes builds
 * X'X in float, exactly (ridge_normal_u8), at twice the double rate.
 *
 * The forest bins each feature once per fit: its distinct training values,
 * when there are at most 256 of them (always so for u8 images and for
 * small-integer CSV columns), make the bins exact, and a split between two
 * bins gets scikit-learn's threshold, the midpoint of the two values; a
 * feature with more distinct values gets 256 quantile bins (approximate).
 * A node scans a per-bin class histogram when it is large and sorts its
 * few samples' codes when it is small.  Trees are grown depth first on an
 * explicit stack; their nodes go into one array per forest.
 *
 * k-NN ranks training rows by ||a||^2 - 2 a.b + ||b||^2 from sgemm, then
 * re-ranks the best few by the exact distance in double, ties going to the
 * lower training row, and votes with the exact distances. */
#include "runtime/estimators/estimator.h"
#include "runtime/rng.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* LAPACK, Fortran calling convention (OpenBLAS exports it). */
void dposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda, double *b, const int *ldb,
            int *info);

enum { CHUNK = 256, MAX_BINS = 256, SMALL_NODE = 24, KNN_EXTRA = 4 };

typedef struct tree_node {
    int32_t feature;            /* -1: a leaf */
    float threshold;            /* go left when x <= threshold */
    int32_t left, right;        /* a leaf: right is its row in probs */
} tree_node;

struct est_model {
    est_params p;
    int K, F;
    /* linear models: R rows of F coefficients, R intercepts */
    int R, iterations;
    double *coef, *intercept;
    /* forest */
    tree_node *nodes;
    int n_nodes, cap_nodes;
    int32_t *roots;
    float *probs;               /* (leaves, K) */
    int n_leaves, cap_leaves;
    /* k-NN: the training rows, their squared norms and labels */
    float *x, *norms;
    int32_t *y;
    int n;
};

int est_params_of(const st_entry *entry, const hpt_value *a, uint64_t seed, est_params *p, hpt_error *e)
{
    memset(p, 0, sizeof *p);
    p->seed = seed;
    switch (entry->id) {
    case ST_RidgeClassifier:
        p->kind = EST_RIDGE;
        p->alpha = value_as_double(a[RidgeClassifier_alpha]);
        p->fit_intercept = a[RidgeClassifier_fit_intercept].u.b;
        return 0;
    case ST_LogisticRegression:
        p->kind = EST_LOGISTIC;
        p->C = value_as_double(a[LogisticRegression_C]);
        p->max_iter = (int)a[LogisticRegression_max_iter].u.i;
        p->tol = value_as_double(a[LogisticRegression_tol]);
        p->fit_intercept = a[LogisticRegression_fit_intercept].u.b;
        if (!(p->C > 0)) return hpt_fail(e, "LogisticRegression: C must be positive, but it is %g", p->C);
        return 0;
    case ST_RandomForestClassifier: {
        p->kind = EST_FOREST;
        p->n_estimators = (int)a[RandomForestClassifier_n_estimators].u.i;
        hpt_value d = a[RandomForestClassifier_max_depth];
        p->max_depth = d.type == V_INT ? (int)d.u.i : 0;
        p->min_samples_split = (int)a[RandomForestClassifier_min_samples_split].u.i;
        p->bootstrap = a[RandomForestClassifier_bootstrap].u.b;
        hpt_value mf = a[RandomForestClassifier_max_features];
        if (mf.type == V_NONE) p->mf = EST_MF_ALL;
        else if (mf.type == V_STRING) p->mf = !strcmp(mf.u.s, "log2") ? EST_MF_LOG2 : EST_MF_SQRT;
        else if (mf.type == V_INT) p->mf = EST_MF_COUNT, p->mf_value = (double)mf.u.i;
        else p->mf = EST_MF_FRACTION, p->mf_value = value_as_double(mf);
        return 0;
    }
    case ST_KNeighborsClassifier:
        p->kind = EST_KNN;
        p->n_neighbors = (int)a[KNeighborsClassifier_n_neighbors].u.i;
        p->distance_weights = !strcmp(a[KNeighborsClassifier_weights].u.s, "distance");
        return 0;
    default:
        return hpt_fail(e, "%s is not an estimator", entry->name);
    }
}

void est_free(est_model *m)
{
    if (!m) return;
    free(m->coef), free(m->intercept);
    free(m->nodes), free(m->roots), free(m->probs);
    free(m->x), free(m->norms), free(m->y);
    free(m);
}

int est_has_proba(const est_model *m) { return m->p.kind != EST_RIDGE; }
int est_n_classes(const est_model *m) { return m->K; }
int est_iterations(const est_model *m) { return m->iterations; }

const double *est_coefficients(const est_model *m, int *rows, int *features, const double **intercept)
{
    if (!m->coef) return NULL;
    *rows = m->R;
    *features = m->F;
    if (intercept) *intercept = m->intercept;
    return m->coef;
}

/* ---- Ridge ----------------------------------------------------------------
 *
 * scikit-learn's RidgeClassifier: targets +1 for the class and -1 elsewhere
 * (one column for two classes, +1 meaning class 1), X and Y centred on their
 * means when fitting an intercept, then (Xc'Xc + alpha I) W' = Xc'Yc by
 * Cholesky, and intercept = mean(Y) - mean(X) . W. */

/* Bytes: the Gram matrix of up to 256 rows of byte values is exact in float
 * (every partial sum is an integer below 256 * 255^2 < 2^24), so ssyrk, at
 * twice dsyrk's rate, builds X'X exactly chunk by chunk; the centring and the
 * scale follow in double from exact column and class sums.  Fills A's upper
 * triangle with Xc'Xc, B with Yc'Xc, and the means. */
static int ridge_normal_u8(const est_model *m, const data_set *set, const uint32_t *rows, int n, float scale,
                           double *A, double *B, double *mx, double *my, float *xb)
{
    int F = m->F, R = m->R, K = m->K, centre = m->p.fit_intercept;
    size_t ss = set->sample_size;
    float *G = malloc(sizeof *G * (size_t)F * F);
    double *sx = calloc((size_t)F, sizeof *sx), *S = calloc((size_t)K * F, sizeof *S);
    long *count = calloc((size_t)K, sizeof *count);
    if (!G || !sx || !S || !count) {
        free(G), free(sx), free(S), free(count);
        return -1;
    }
    for (int i = 0; i < n; i += CHUNK) {
        int c = n - i < CHUNK ? n - i : CHUNK;
        for (int r = 0; r < c; r++) {
            const uint8_t *src = set->u8 + rows[i + r] * ss;
            int label = set->labels[rows[i + r]];
            float *d = xb + (size_t)r * F;
            double *sk = S + (size_t)label * F;
            count[label]++;
            for (int f = 0; f < F; f++) d[f] = src[f], sx[f] += src[f], sk[f] += src[f];
        }
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, F, c, 1.0f, xb, F, 0.0f, G, F);
        for (int a = 0; a < F; a++)
            for (int b = a; b < F; b++) A[(size_t)a * F + b] += G[(size_t)a * F + b];
    }
    double s2 = (double)scale * scale;
    for (int a = 0; a < F; a++) {
        if (centre) mx[a] = scale * sx[a] / n;
        for (int b = a; b < F; b++)
            A[(size_t)a * F + b] = s2 * (A[(size_t)a * F + b] - (centre ? sx[a] * sx[b] / n : 0));
    }
    /* Column k's targets are +1 on its class (class 1 for the one binary column), -1 elsewhere. */
    for (int k = 0; k < R; k++) {
        int pos = R == 1 ? 1 : k;
        if (centre) my[k] = (2.0 * count[pos] - n) / n;
        for (int f = 0; f < F; f++)
            B[(size_t)k * F + f] = scale * (2 * S[(size_t)pos * F + f] - sx[f] - (centre ? my[k] * sx[f] : 0));
    }
    free(G), free(sx), free(S), free(count);
    return 0;
}

static int fit_ridge(est_model *m, const data_set *set, const uint32_t *rows, int n, float scale, hpt_error *e)
{
    int F = m->F, R = m->R;
    double *mx = calloc((size_t)F, sizeof *mx), *my = calloc((size_t)R, sizeof *my);
    double *A = calloc((size_t)F * F, sizeof *A), *B = calloc((size_t)R * F, sizeof *B);
    double *xc = malloc(sizeof *xc * CHUNK * (size_t)F), *yc = malloc(sizeof *yc * CHUNK * (size_t)R);
    float *x = malloc(sizeof *x * CHUNK * (size_t)F);
    int32_t *y = malloc(sizeof *y * CHUNK);
    m->coef = calloc((size_t)R * F, sizeof *m->coef);
    m->intercept = calloc((size_t)R, sizeof *m->intercept);
    int rc = -1;
    if (!mx || !my || !A || !B || !xc || !yc || !x || !y || !m->coef || !m->intercept) {
        hpt_fail(e, "RidgeClassifier: out of memory for %d features", F);
        goto out;
    }
#define TARGET(label, r) (R == 1 ? ((label) == 1 ? 1.0 : -1.0) : ((label) == (r) ? 1.0 : -1.0))
    if (set->u8) {
        if (ridge_normal_u8(m, set, rows, n, scale, A, B, mx, my, x)) {
            hpt_fail(e, "RidgeClassifier: out of memory for %d features", F);
            goto out;
        }
        goto solve;
    }
    if (m->p.fit_intercept) {
        for (int i = 0; i < n; i += CHUNK) {
            int c = n - i < CHUNK ? n - i : CHUNK;
            data_gather(set, rows + i, c, scale, x, y);
            for (int r = 0; r < c; r++) {
                for (int f = 0; f < F; f++) mx[f] += x[(size_t)r * F + f];
                for (int k = 0; k < R; k++) my[k] += TARGET(y[r], k);
            }
        }
        for (int f = 0; f < F; f++) mx[f] /= n;
        for (int k = 0; k < R; k++) my[k] /= n;
    }
    for (int i = 0; i < n; i += CHUNK) {
        int c = n - i < CHUNK ? n - i : CHUNK;
        data_gather(set, rows + i, c, scale, x, y);
        for (int r = 0; r < c; r++) {
            for (int f = 0; f < F; f++) xc[(size_t)r * F + f] = x[(size_t)r * F + f] - mx[f];
            for (int k = 0; k < R; k++) yc[(size_t)r * R + k] = TARGET(y[r], k) - my[k];
        }
        /* A (upper, row-major) += Xc'Xc; B (R, F) += Yc'Xc. */
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, F, c, 1.0, xc, F, 1.0, A, F);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, R, F, c, 1.0, yc, R, xc, F, 1.0, B, F);
    }
#undef TARGET
solve:
    for (int f = 0; f < F; f++) A[(size_t)f * F + f] += m->p.alpha;
    /* Row-major upper is column-major lower; B's rows are the right-hand sides. */
    int info = 0;
    dposv_("L", &F, &R, A, &F, B, &F, &info);
    if (info != 0) {
        hpt_fail(e, "RidgeClassifier: X'X + alpha I is not positive definite (alpha = %g with linearly dependent "
                 "features?): use alpha > 0", m->p.alpha);
        goto out;
    }
    memcpy(m->coef, B, sizeof *B * (size_t)R * F);
    for (int k = 0; k < R; k++) {
        double dot = 0;
        for (int f = 0; f < F; f++) dot += mx[f] * B[(size_t)k * F + f];
        m->intercept[k] = my[k] - dot;
    }
    rc = 0;
out:
    free(mx), free(my), free(A), free(B), free(xc), free(yc), free(x), free(y);
    return rc;
}

/* ---- LogisticRegression ------------------------------------------------------
 *
 * scikit-learn's lbfgs objective: f(W, b) = sum_i loss_i + ||W||^2 / 2C with
 * the multinomial loss logsumexp(z_i) - z_i,y over K rows for three or more
 * classes, and the binomial loss log(1 + e^z) - y z over one row for two.
 * Minimised by L-BFGS (10 pairs, scipy's default), stopping when the
 * largest gradient component is at most tol (scipy's gtol), when the relative
 * decrease of f is at most 2.2e-9 (scipy's factr 1e7), or after max_iter
 * iterations.  Starting from zero, every gradient sums to zero over the
 * classes, so the coefficients and intercepts do too, as scikit-learn's. */

typedef struct logistic_problem {
    const double *X;            /* (n, F) */
    const int32_t *y;
    int n, F, R, intercept;
    double inv_C;
    double *Z;                  /* (n, R) scratch */
} logistic_problem;

/* f and its gradient at w = [W (R, F) | b (R)]. */
static double logistic_loss_grad(const logistic_problem *q, const double *w, double *g)
{
    int n = q->n, F = q->F, R = q->R;
    const double *W = w, *b = w + (size_t)R * F;
    double *Z = q->Z, f = 0;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, R, F, 1.0, q->X, F, W, F, 0.0, Z, R);
    for (int i = 0; i < n; i++) {
        double *z = Z + (size_t)i * R;
        if (q->intercept)
            for (int k = 0; k < R; k++) z[k] += b[k];
        if (R == 1) {
            /* log(1 + e^z) - y z, stable both ways; dz = sigmoid(z) - y. */
            double t = z[0], yi = q->y[i] == 1;
            f += (t > 0 ? t + log1p(exp(-t)) : log1p(exp(t))) - yi * t;
            z[0] = (t >= 0 ? 1.0 / (1.0 + exp(-t)) : exp(t) / (1.0 + exp(t))) - yi;
            continue;
        }
        double mx = z[0], s = 0;
        for (int k = 1; k < R; k++) mx = z[k] > mx ? z[k] : mx;
        for (int k = 0; k < R; k++) s += exp(z[k] - mx);
        f += mx + log(s) - z[q->y[i]];
        for (int k = 0; k < R; k++) z[k] = exp(z[k] - mx) / s;
        z[q->y[i]] -= 1.0;
    }
    /* dW = dZ' X + W / C; db = column sums of dZ. */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, R, F, n, 1.0, Z, R, q->X, F, 0.0, g, F);
    double pen = 0;
    for (size_t j = 0; j < (size_t)R * F; j++) {
        pen += W[j] * W[j];
        g[j] += W[j] * q->inv_C;
    }
    f += 0.5 * q->inv_C * pen;
    double *gb = g + (size_t)R * F;
    for (int k = 0; k < R; k++) gb[k] = 0;
    if (q->intercept)
        for (int i = 0; i < n; i++)
            for (int k = 0; k < R; k++) gb[k] += Z[(size_t)i * R + k];
    return f;
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t j = 0; j < n; j++) s += a[j] * b[j];
    return s;
}

static double max_abs(const double *a, size_t n)
{
    double m = 0;
    for (size_t j = 0; j < n; j++) m = fabs(a[j]) > m ? fabs(a[j]) : m;
    return m;
}

enum { LBFGS_M = 10 };

/* L-BFGS from w (in place); returns the iterations taken. */
static int lbfgs(const logistic_problem *q, double *w, size_t N, double tol, int max_iter, double *work)
{
    double *g = work, *d = g + N, *wn = d + N, *gn = wn + N, *S = gn + N, *Y = S + LBFGS_M * N;
    double rho[LBFGS_M], alpha[LBFGS_M];
    int used = 0, head = 0, it = 0;
    double f = logistic_loss_grad(q, w, g);
    while (it < max_iter && max_abs(g, N) > tol) {
        /* Two-loop recursion: d = -H g. */
        for (size_t j = 0; j < N; j++) d[j] = -g[j];
        for (int k = 0; k < used; k++) {
            int s = (head - 1 - k + LBFGS_M) % LBFGS_M;
            alpha[s] = rho[s] * dot(S + s * N, d, N);
            for (size_t j = 0; j < N; j++) d[j] -= alpha[s] * Y[s * N + j];
        }
        if (used) {
            int s = (head - 1 + LBFGS_M) % LBFGS_M;
            double gamma = dot(S + s * N, Y + s * N, N) / dot(Y + s * N, Y + s * N, N);
            for (size_t j = 0; j < N; j++) d[j] *= gamma;
        }
        for (int k = used - 1; k >= 0; k--) {
            int s = (head - 1 - k + LBFGS_M) % LBFGS_M;
            double beta = rho[s] * dot(Y + s * N, d, N);
            for (size_t j = 0; j < N; j++) d[j] += (alpha[s] - beta) * S[s * N + j];
        }
        double slope = dot(g, d, N);
        if (slope >= 0) {
            /* Not a descent direction (rounding): restart from steepest descent. */
            for (size_t j = 0; j < N; j++) d[j] = -g[j];
            slope = -dot(g, g, N);
            used = 0;
        }
        /* The first step is scaled to length 1, as scipy's; then try the full step. */
        double step = used ? 1.0 : fmin(1.0, 1.0 / sqrt(dot(d, d, N)));
        double fn = f;
        int ok = 0;
        for (int tries = 0; tries < 40; tries++) {
            for (size_t j = 0; j < N; j++) wn[j] = w[j] + step * d[j];
            fn = logistic_loss_grad(q, wn, gn);
            if (isfinite(fn) && fn <= f + 1e-4 * step * slope) {
                ok = 1;
                break;
            }
            /* Backtrack to the minimiser of the quadratic through f, slope and fn, within [0.1, 0.5]. */
            double t = isfinite(fn) ? -slope * step * step / (2 * (fn - f - slope * step)) : 0.1 * step;
            step = fmax(0.1 * step, fmin(0.5 * step, t));
        }
        if (!ok) break;
        it++;
        double *s = S + head * N, *yv = Y + head * N;
        for (size_t j = 0; j < N; j++) s[j] = wn[j] - w[j], yv[j] = gn[j] - g[j];
        double sy = dot(s, yv, N);
        if (sy > 1e-10 * dot(yv, yv, N)) {
            rho[head] = 1.0 / sy;
            head = (head + 1) % LBFGS_M;
            if (used < LBFGS_M) used++;
        }
        double decrease = (f - fn) / fmax(fmax(fabs(f), fabs(fn)), 1.0);
        memcpy(w, wn, sizeof *w * N);
        memcpy(g, gn, sizeof *g * N);
        f = fn;
        if (decrease <= 1e7 * DBL_EPSILON) break;
    }
    return it;
}

static int fit_logistic(est_model *m, const data_set *set, const uint32_t *rows, int n, float scale, hpt_error *e)
{
    int F = m->F, R = m->R;
    size_t N = (size_t)R * F + (size_t)R;
    logistic_problem q = { .n = n, .F = F, .R = R, .intercept = m->p.fit_intercept, .inv_C = 1.0 / m->p.C };
    double *X = malloc(sizeof *X * (size_t)n * F), *w = calloc(N, sizeof *w);
    double *work = malloc(sizeof *work * (4 + 2 * LBFGS_M) * N);
    int32_t *y = malloc(sizeof *y * (size_t)n);
    float *x = malloc(sizeof *x * CHUNK * (size_t)F);
    q.Z = malloc(sizeof *q.Z * (size_t)n * R);
    m->coef = malloc(sizeof *m->coef * (size_t)R * F);
    m->intercept = malloc(sizeof *m->intercept * (size_t)R);
    int rc = -1;
    if (!X || !w || !work || !y || !x || !q.Z || !m->coef || !m->intercept) {
        hpt_fail(e, "LogisticRegression: out of memory for %d rows of %d features", n, F);
        goto out;
    }
    for (int i = 0; i < n; i += CHUNK) {
        int c = n - i < CHUNK ? n - i : CHUNK;
        data_gather(set, rows + i, c, scale, x, y + i);
        for (size_t j = 0; j < (size_t)c * F; j++) X[(size_t)i * F + j] = x[j];
    }
    q.X = X, q.y = y;
    m->iterations = lbfgs(&q, w, N, m->p.tol, m->p.max_iter, work);
    memcpy(m->coef, w, sizeof *w * (size_t)R * F);
    memcpy(m->intercept, w + (size_t)R * F, sizeof *w * (size_t)R);
    rc = 0;
out:
    free(X), free(w), free(work), free(y), free(x), free(q.Z);
    return rc;
}

/* Scores X W' + b of a chunk (one dgemm, in double as the fit), then
 * probabilities (LogisticRegression) or the class of the largest score
 * (Ridge; the sign of the one score for two classes).  xd is (CHUNK, F). */
static void linear_predict(const est_model *m, const float *x, int c, double *xd, double *z, int32_t *pred, float *proba)
{
    int F = m->F, R = m->R, K = m->K;
    for (size_t j = 0; j < (size_t)c * F; j++) xd[j] = x[j];
    for (int r = 0; r < c; r++) memcpy(z + (size_t)r * R, m->intercept, sizeof *z * (size_t)R);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c, R, F, 1.0, xd, F, m->coef, F, 1.0, z, R);
    for (int r = 0; r < c; r++) {
        double *zr = z + (size_t)r * R;
        int best = 0;
        if (R == 1) best = zr[0] > 0;
        else
            for (int k = 1; k < R; k++) best = zr[k] > zr[best] ? k : best;
        if (pred) pred[r] = best;
        if (!proba || m->p.kind != EST_LOGISTIC) continue;
        float *pr = proba + (size_t)r * K;
        if (R == 1) {
            double p1 = zr[0] >= 0 ? 1.0 / (1.0 + exp(-zr[0])) : exp(zr[0]) / (1.0 + exp(zr[0]));
            pr[0] = (float)(1 - p1), pr[1] = (float)p1;
            continue;
        }
        double s = 0;
        for (int k = 0; k < R; k++) s += exp(zr[k] - zr[best]);
        for (int k = 0; k < R; k++) pr[k] = (float)(exp(zr[k] - zr[best]) / s);
    }
}

/* ---- RandomForestClassifier ------------------------------------------------ */

/* Each training row's bin per feature, column-major, and each bin's range of values. */
typedef struct bins {
    uint8_t *code;              /* (F, n) */
    float *lo, *hi;             /* (F, MAX_BINS) */
} bins;

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static int make_bins(bins *B, const data_set *set, const uint32_t *rows, int n, int F, float scale)
{
    B->code = malloc((size_t)F * n);
    B->lo = malloc(sizeof *B->lo * (size_t)F * MAX_BINS);
    B->hi = malloc(sizeof *B->hi * (size_t)F * MAX_BINS);
    float *x = malloc(sizeof *x * CHUNK * (size_t)F), *col = malloc(sizeof *col * ((size_t)n + 1));
    if (!B->code || !B->lo || !B->hi || !x || !col) {
        free(x), free(col);
        return -1;
    }
    if (set->u8) {
        /* Bytes: the feature's distinct values come from a 256-entry table. */
        int *map = malloc(sizeof *map * 256 * (size_t)F);
        if (!map) {
            free(x), free(col);
            return -1;
        }
        memset(map, 0, sizeof *map * 256 * (size_t)F);
        size_t ss = set->sample_size;
        for (int i = 0; i < n; i++) {
            const uint8_t *s = set->u8 + rows[i] * ss;
            for (int f = 0; f < F; f++) map[(size_t)f * 256 + s[f]] = 1;
        }
        for (int f = 0; f < F; f++) {
            int *mf = map + (size_t)f * 256, nb = 0;
            float vals[256];
            int order[256];
            for (int b = 0; b < 256; b++)
                if (mf[b]) vals[nb] = (float)b * scale, order[nb++] = b;
            /* Sort the present bytes by their value (a negative scale reverses them). */
            for (int i = 1; i < nb; i++)
                for (int j = i; j > 0 && vals[j - 1] > vals[j]; j--) {
                    float t = vals[j]; vals[j] = vals[j - 1]; vals[j - 1] = t;
                    int o = order[j]; order[j] = order[j - 1]; order[j - 1] = o;
                }
            /* Equal values (a scale of 0) share a bin. */
            int code = -1;
            for (int k = 0; k < nb; k++) {
                if (k == 0 || vals[k] != vals[k - 1]) code++;
                mf[order[k]] = code;
                B->lo[(size_t)f * MAX_BINS + code] = B->hi[(size_t)f * MAX_BINS + code] = vals[k];
            }
        }
        for (int i = 0; i < n; i++) {
            const uint8_t *s = set->u8 + rows[i] * ss;
            for (int f = 0; f < F; f++) B->code[(size_t)f * n + i] = (uint8_t)map[(size_t)f * 256 + s[f]];
        }
        free(map), free(x), free(col);
        return 0;
    }
    /* Floats: sort each column; up to 256 distinct values are exact bins, more get quantile bins. */
    float *all = malloc(sizeof *all * (size_t)n * F);
    if (!all) {
        free(x), free(col);
        return -1;
    }
    for (int i = 0; i < n; i += CHUNK) {
        int c = n - i < CHUNK ? n - i : CHUNK;
        data_gather(set, rows + i, c, scale, x, NULL);
        for (int r = 0; r < c; r++)
            for (int f = 0; f < F; f++) all[(size_t)f * n + i + r] = x[(size_t)r * F + f];
    }
    for (int f = 0; f < F; f++) {
        float *v = all + (size_t)f * n, *lo = B->lo + (size_t)f * MAX_BINS, *hi = B->hi + (size_t)f * MAX_BINS;
        memcpy(col, v, sizeof *col * (size_t)n);
        qsort(col, (size_t)n, sizeof *col, cmp_float);
        int d = 0;
        for (int i = 0; i < n; i++)
            if (i == 0 || col[i] != col[d - 1]) col[d++] = col[i];
        int nb = d <= MAX_BINS ? d : MAX_BINS;
        /* Bin b holds distinct values [b*d/nb, (b+1)*d/nb). */
        for (int b = 0; b < nb; b++) lo[b] = col[(size_t)b * d / nb], hi[b] = col[(size_t)(b + 1) * d / nb - 1];
        for (int i = 0; i < n; i++) {
            int a = 0, z = nb - 1;
            while (a < z) {
                int mid = (a + z) / 2;
                if (v[i] <= hi[mid]) z = mid;
                else a = mid + 1;
            }
            B->code[(size_t)f * n + i] = (uint8_t)a;
        }
    }
    free(all), free(x), free(col);
    return 0;
}

typedef struct grower {
    est_model *m;
    const bins *B;
    const int32_t *y;
    int n, F, K, max_features;
    uint32_t *samples;          /* the tree's distinct samples, partitioned node by node */
    uint32_t *spill;            /* (n): the right side of a partition, in order */
    int32_t *weight;            /* (n) bootstrap counts */
    int *features;              /* a permutation, drawn from per node */
    int32_t *hist;              /* (MAX_BINS, K) */
    uint8_t *seen;              /* (MAX_BINS + 1): bins present in the node */
    uint32_t *label_weight;     /* (n): label << 16 | bootstrap count (Poisson(1): never near 2^16) */
    int64_t *left, *total;      /* (K) */
    uint32_t *keys;             /* small nodes: code << 16 | position */
    rng r;
} grower;

typedef struct split { int feature, code; float threshold; double proxy; } split;

/* Gini's proxy for a split: sum_k L_k^2 / wL + sum_k R_k^2 / wR (larger is better). */
static inline void consider_split(const grower *g, int feature, int code, int next_code, double sqL, double wL, double sqR,
                           double wR, split *best)
{
    double proxy = sqL / wL + sqR / wR;
    if (proxy > best->proxy) {
        const float *hi = g->B->hi + (size_t)feature * MAX_BINS, *lo = g->B->lo + (size_t)feature * MAX_BINS;
        best->proxy = proxy, best->feature = feature, best->code = code;
        best->threshold = hi[code] / 2.0f + lo[next_code] / 2.0f;
        /* The midpoint may round up to the next value: keep it below, as scikit-learn does. */
        if (best->threshold >= lo[next_code]) best->threshold = hi[code];
    }
}

/* The best split of samples[start, end) on one feature; returns 0 when the feature is constant there. */
static int scan_feature(grower *g, int feature, int start, int end, double wsum, double sqsum, split *best)
{
    const uint8_t *code = g->B->code + (size_t)feature * g->n;
    int K = g->K, cnt = end - start;
    int64_t *left = g->left;
    for (int k = 0; k < K; k++) left[k] = 0;
    double sqL = 0, sqR = sqsum, wL = 0;
    if (cnt <= SMALL_NODE) {
        uint32_t *keys = g->keys;
        for (int i = 0; i < cnt; i++) keys[i] = (uint32_t)code[g->samples[start + i]] << 16 | (uint32_t)i;
        for (int i = 1; i < cnt; i++)
            for (int j = i; j > 0 && keys[j - 1] > keys[j]; j--) {
                uint32_t t = keys[j]; keys[j] = keys[j - 1]; keys[j - 1] = t;
            }
        if (keys[0] >> 16 == keys[cnt - 1] >> 16) return 0;
        for (int i = 0; i < cnt;) {
            int c = (int)(keys[i] >> 16);
            for (; i < cnt && (int)(keys[i] >> 16) == c; i++) {
                uint32_t s = g->samples[start + (keys[i] & 0xffff)];
                int k = g->y[s];
                int64_t w = g->weight[s], L = left[k], R = g->total[k] - L;
                sqL += (double)(2 * L * w + w * w);
                sqR -= (double)(2 * R * w - w * w);
                left[k] += w, wL += (double)w;
            }
            if (i < cnt) consider_split(g, feature, c, (int)(keys[i] >> 16), sqL, wL, sqR, wsum - wL, best);
        }
        return 1;
    }
    /* One pass: a bin's class counts are cleared when the bin is first met.
     * (A bin's total is summed at the scan: one read-modify-write per sample.) */
    int lo = 255, hi = 0;
    uint8_t *seen = g->seen;
    int32_t *hist = g->hist;
    memset(seen, 0, MAX_BINS + 1);
    for (int i = start; i < end; i++) {
        uint32_t s = g->samples[i], yw = g->label_weight[s];
        int c = code[s];
        int32_t *h = hist + (size_t)c * K;
        if (!seen[c]) {
            seen[c] = 1;
            for (int k = 0; k < K; k++) h[k] = 0;
            lo = c < lo ? c : lo, hi = c > hi ? c : hi;
        }
        h[yw >> 16] += (int32_t)(yw & 0xffff);
    }
    if (hi <= lo) return 0;
    seen[hi + 1] = 1;
    for (int c = lo; c < hi; c++) {
        if (!seen[c]) continue;
        const int32_t *h = hist + (size_t)c * K;
        int64_t bin = 0;
        for (int k = 0; k < K; k++) {
            int64_t w = h[k];
            if (!w) continue;
            int64_t L = left[k], R = g->total[k] - L;
            sqL += (double)(2 * L * w + w * w);
            sqR -= (double)(2 * R * w - w * w);
            left[k] += w;
            bin += w;
        }
        wL += (double)bin;
        int next = c + 1;
        while (!seen[next]) next++;
        consider_split(g, feature, c, next, sqL, wL, sqR, wsum - wL, best);
    }
    return 1;
}

static int32_t new_node(est_model *m)
{
    if (m->n_nodes == m->cap_nodes) {
        int cap = m->cap_nodes ? m->cap_nodes * 2 : 1024;
        tree_node *grown = realloc(m->nodes, sizeof *grown * (size_t)cap);
        if (!grown) return -1;
        m->nodes = grown, m->cap_nodes = cap;
    }
    return m->n_nodes++;
}

static int make_leaf(grower *g, int32_t node, double wsum)
{
    est_model *m = g->m;
    if (m->n_leaves == m->cap_leaves) {
        int cap = m->cap_leaves ? m->cap_leaves * 2 : 1024;
        float *grown = realloc(m->probs, sizeof *grown * (size_t)cap * g->K);
        if (!grown) return -1;
        m->probs = grown, m->cap_leaves = cap;
    }
    float *p = m->probs + (size_t)m->n_leaves * g->K;
    for (int k = 0; k < g->K; k++) p[k] = (float)(g->total[k] / wsum);
    m->nodes[node] = (tree_node){ .feature = -1, .left = -1, .right = m->n_leaves++ };
    return 0;
}

typedef struct pending { int32_t node; int start, end, depth; } pending;

/* Grow one tree over samples[0, count) with their weights. */
static int grow_tree(grower *g, int count, pending *stack)
{
    est_model *m = g->m;
    int K = g->K, top = 0;
    int32_t root = new_node(m);
    if (root < 0) return -1;
    stack[top++] = (pending){ root, 0, count, 0 };
    while (top > 0) {
        pending nd = stack[--top];
        double wsum = 0;
        for (int k = 0; k < K; k++) g->total[k] = 0;
        for (int i = nd.start; i < nd.end; i++) g->total[g->y[g->samples[i]]] += g->weight[g->samples[i]];
        double sqsum = 0;
        int classes = 0;
        for (int k = 0; k < K; k++) {
            wsum += (double)g->total[k];
            sqsum += (double)g->total[k] * (double)g->total[k];
            classes += g->total[k] > 0;
        }
        int cnt = nd.end - nd.start;
        if (classes <= 1 || cnt < m->p.min_samples_split || (m->p.max_depth && nd.depth >= m->p.max_depth)) {
            if (make_leaf(g, nd.node, wsum)) return -1;
            continue;
        }
        /* scikit-learn's draw: features without replacement until max_features are
         * visited and one of them was not constant in the node. */
        split best = { .feature = -1, .proxy = -INFINITY };
        int visited = 0, constant = 0;
        for (int j = 0; j < g->F && (visited < g->max_features || visited <= constant); j++) {
            int r = j + (int)rng_below(&g->r, (uint64_t)(g->F - j));
            int f = g->features[r];
            g->features[r] = g->features[j], g->features[j] = f;
            visited++;
            if (!scan_feature(g, f, nd.start, nd.end, wsum, sqsum, &best)) constant++;
        }
        if (best.feature < 0) {
            if (make_leaf(g, nd.node, wsum)) return -1;
            continue;
        }
        const uint8_t *code = g->B->code + (size_t)best.feature * g->n;
        /* A stable partition: samples stay in increasing order within every node, so
         * the scans read each feature's codes front to back (4x fewer cache misses). */
        int i = nd.start, spill = 0;
        for (int q = nd.start; q < nd.end; q++) {
            uint32_t smp = g->samples[q];
            if (code[smp] <= best.code) g->samples[i++] = smp;
            else g->spill[spill++] = smp;
        }
        memcpy(g->samples + i, g->spill, sizeof *g->spill * (size_t)spill);
        int32_t left = new_node(m), right = left >= 0 ? new_node(m) : -1;
        if (right < 0) return -1;
        m->nodes[nd.node] = (tree_node){ .feature = best.feature, .threshold = best.threshold, .left = left, .right = right };
        /* Left child on top: nodes are grown in depth-first, left-first order. */
        stack[top++] = (pending){ right, i, nd.end, nd.depth + 1 };
        stack[top++] = (pending){ left, nd.start, i, nd.depth + 1 };
    }
    return 0;
}

static int resolve_max_features(const est_params *p, int F)
{
    double v;
    switch (p->mf) {
    case EST_MF_SQRT: v = floor(sqrt((double)F)); break;
    case EST_MF_LOG2: v = floor(log2((double)F)); break;
    case EST_MF_COUNT: v = p->mf_value; break;
    case EST_MF_FRACTION: v = floor(p->mf_value * F); break;
    default: v = F;
    }
    return v < 1 ? 1 : v > F ? F : (int)v;
}

/* One thread's share of the forest: trees first, first + step, ... grown
 * into its own node and leaf arrays (the `part` shell), merged in the end.
 * A tree depends only on its index (its own random stream, the feature
 * permutation reset), so the forest is the same for any number of threads. */
typedef struct forest_worker {
    grower g;
    est_model part;             /* only nodes, probs and their counts */
    int32_t *root_of;           /* (T): a tree's root within its worker's part */
    pending *stack;
    int first, step, T, rc, tree;
    const est_params *p;
    pthread_t thread;
} forest_worker;

static void worker_free(forest_worker *w)
{
    grower *g = &w->g;
    free(g->samples), free(g->spill), free(g->weight), free(g->features), free(g->hist), free(g->seen);
    free(g->label_weight), free(g->left), free(g->total), free(g->keys), free(w->stack);
    free(w->part.nodes), free(w->part.probs);
}

static int worker_alloc(forest_worker *w, int n, int F, int K)
{
    grower *g = &w->g;
    g->samples = malloc(sizeof *g->samples * (size_t)n);
    g->spill = malloc(sizeof *g->spill * (size_t)n);
    g->weight = malloc(sizeof *g->weight * (size_t)n);
    g->features = malloc(sizeof *g->features * (size_t)F);
    g->hist = malloc(sizeof *g->hist * MAX_BINS * (size_t)K);
    g->seen = malloc(MAX_BINS + 2);
    g->label_weight = malloc(sizeof *g->label_weight * (size_t)n);
    g->left = malloc(sizeof *g->left * (size_t)K);
    g->total = malloc(sizeof *g->total * (size_t)K);
    g->keys = malloc(sizeof *g->keys * (SMALL_NODE + 1));
    /* Depth-first growth keeps at most one pending sibling per level: n + 1 entries suffice. */
    w->stack = malloc(sizeof *w->stack * ((size_t)n + 2));
    return g->samples && g->spill && g->weight && g->features && g->hist && g->seen && g->label_weight && g->left &&
                   g->total && g->keys && w->stack ? 0 : -1;
}

static void *worker_run(void *arg)
{
    forest_worker *w = arg;
    grower *g = &w->g;
    int n = g->n;
    for (int t = w->first; t < w->T; t += w->step) {
        g->r = rng_stream(rng_key(w->p->seed, (uint64_t)t));
        for (int f = 0; f < g->F; f++) g->features[f] = f;
        int count = 0;
        if (w->p->bootstrap) {
            memset(g->weight, 0, sizeof *g->weight * (size_t)n);
            for (int i = 0; i < n; i++) g->weight[rng_below(&g->r, (uint64_t)n)]++;
            for (int i = 0; i < n; i++)
                if (g->weight[i]) g->samples[count++] = (uint32_t)i;
        } else {
            for (int i = 0; i < n; i++) g->weight[i] = 1, g->samples[count++] = (uint32_t)i;
        }
        for (int i = 0; i < n; i++) g->label_weight[i] = (uint32_t)g->y[i] << 16 | (uint32_t)g->weight[i];
        w->root_of[t] = w->part.n_nodes;
        if (grow_tree(g, count, w->stack)) {
            w->rc = -1, w->tree = t;
            break;
        }
    }
    return NULL;
}

/* Fits running in this process now: a forest takes the cores the others leave. */
static atomic_int running_fits;

static int forest_threads(const est_params *p, int n)
{
    if (p->threads > 0) return p->threads;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    long idle = cpus - (atomic_load(&running_fits) - 1);
    /* Small forests are done before a thread would start. */
    if (idle <= 1 || (double)n * p->n_estimators < 5e4) return 1;
    return (int)(idle < 8 ? idle : 8);
}

static int fit_forest(est_model *m, const data_set *set, const uint32_t *rows, int n, float scale, hpt_error *e)
{
    int F = m->F, K = m->K, T = m->p.n_estimators;
    if (K > 0xffff) return hpt_fail(e, "RandomForestClassifier: %d classes is more than it handles (65535)", K);
    int W = forest_threads(&m->p, n);
    W = W < T ? W : T;
    bins B = { 0 };
    int32_t *y = malloc(sizeof *y * (size_t)n), *root_of = malloc(sizeof *root_of * (size_t)T);
    forest_worker *w = calloc((size_t)W, sizeof *w);
    m->roots = malloc(sizeof *m->roots * (size_t)T);
    int rc = -1, started = 0;
    if (!y || !root_of || !w || !m->roots || make_bins(&B, set, rows, n, F, scale)) goto oom;
    for (int i = 0; i < n; i++) y[i] = set->labels[rows[i]];
    for (int k = 0; k < W; k++) {
        w[k] = (forest_worker){ .g = { .m = &w[k].part, .B = &B, .y = y, .n = n, .F = F, .K = K,
                                       .max_features = resolve_max_features(&m->p, F) },
                                .part = { .K = K, .p = m->p }, .root_of = root_of, .first = k, .step = W, .T = T, .p = &m->p };
        w[k].g.m = &w[k].part;
        if (worker_alloc(&w[k], n, F, K)) goto oom;
    }
    /* Worker 0 runs here; one whose thread cannot start runs here too. */
    for (int k = 1; k < W; k++) started += pthread_create(&w[k].thread, NULL, worker_run, &w[k]) == 0 ? 1 << k : 0;
    for (int k = 0; k < W; k++) {
        if (k == 0 || !(started & 1 << k)) worker_run(&w[k]);
        else pthread_join(w[k].thread, NULL);
    }
    /* Merge the parts: node and leaf indices shift by what precedes them. */
    int nodes = 0, leaves = 0;
    for (int k = 0; k < W; k++) {
        if (w[k].rc) {
            hpt_fail(e, "RandomForestClassifier: out of memory growing tree %d", w[k].tree + 1);
            goto out;
        }
        nodes += w[k].part.n_nodes, leaves += w[k].part.n_leaves;
    }
    m->nodes = malloc(sizeof *m->nodes * (size_t)(nodes ? nodes : 1));
    m->probs = malloc(sizeof *m->probs * (size_t)(leaves ? leaves : 1) * K);
    if (!m->nodes || !m->probs) goto oom;
    for (int k = 0; k < W; k++) {
        int node0 = m->n_nodes, leaf0 = m->n_leaves;
        for (int j = 0; j < w[k].part.n_nodes; j++) {
            tree_node nd = w[k].part.nodes[j];
            if (nd.feature >= 0) nd.left += node0, nd.right += node0;
            else nd.right += leaf0;
            m->nodes[node0 + j] = nd;
        }
        memcpy(m->probs + (size_t)leaf0 * K, w[k].part.probs, sizeof *m->probs * (size_t)w[k].part.n_leaves * K);
        for (int t = k; t < T; t += W) m->roots[t] = node0 + root_of[t];
        m->n_nodes += w[k].part.n_nodes, m->n_leaves += w[k].part.n_leaves;
    }
    m->cap_nodes = m->n_nodes, m->cap_leaves = m->n_leaves;
    rc = 0;
    goto out;
oom:
    hpt_fail(e, "RandomForestClassifier: out of memory for %d rows of %d features", n, F);
out:
    for (int k = 0; w && k < W; k++) worker_free(&w[k]);
    free(w), free(y), free(root_of);
    free(B.code), free(B.lo), free(B.hi);
    return rc;
}

static void forest_predict(const est_model *m, const float *x, int c, int32_t *pred, float *proba, float *row)
{
    int K = m->K, F = m->F, T = m->p.n_estimators;
    for (int r = 0; r < c; r++) {
        const float *xr = x + (size_t)r * F;
        float *p = proba ? proba + (size_t)r * K : row;
        for (int k = 0; k < K; k++) p[k] = 0;
        for (int t = 0; t < T; t++) {
            const tree_node *nd = &m->nodes[m->roots[t]];
            while (nd->feature >= 0) nd = &m->nodes[xr[nd->feature] <= nd->threshold ? nd->left : nd->right];
            const float *leaf = m->probs + (size_t)nd->right * K;
            for (int k = 0; k < K; k++) p[k] += leaf[k];
        }
        int best = 0;
        for (int k = 0; k < K; k++) {
            p[k] /= (float)T;
            best = p[k] > p[best] ? k : best;
        }
        if (pred) pred[r] = best;
    }
}

/* ---- KNeighborsClassifier ------------------------------------------------- */

static int fit_knn(est_model *m, const data_set *set, const uint32_t *rows, int n, float scale, hpt_error *e)
{
    int F = m->F;
    if (m->p.n_neighbors > n)
        return hpt_fail(e, "KNeighborsClassifier: n_neighbors = %d, but there are only %d training rows",
                        m->p.n_neighbors, n);
    m->x = malloc(sizeof *m->x * (size_t)n * F);
    m->norms = malloc(sizeof *m->norms * (size_t)n);
    m->y = malloc(sizeof *m->y * (size_t)n);
    if (!m->x || !m->norms || !m->y) return hpt_fail(e, "KNeighborsClassifier: out of memory for %d rows", n);
    m->n = n;
    data_gather(set, rows, n, scale, m->x, m->y);
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int f = 0; f < F; f++) s += (double)m->x[(size_t)i * F + f] * m->x[(size_t)i * F + f];
        m->norms[i] = (float)s;
    }
    return 0;
}

typedef struct neighbour { double d; int i; } neighbour;

/* cand has room for n_neighbors + KNN_EXTRA candidates. */
static void knn_predict(const est_model *m, const float *x, int c, float *D, neighbour *cand, int32_t *pred,
                        float *proba, float *row)
{
    int F = m->F, K = m->K, n = m->n, k = m->p.n_neighbors;
    int keep = k + KNN_EXTRA < n ? k + KNN_EXTRA : n;
    /* D = -2 x X' (c, n); the query's own norm does not change its ranking. */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, c, n, F, -2.0f, x, F, m->x, F, 0.0f, D, n);
    for (int r = 0; r < c; r++) {
        const float *dr = D + (size_t)r * n, *xr = x + (size_t)r * F;
        /* The `keep` smallest approximate distances, sorted, lower row first on ties. */
        int have = 0;
        for (int i = 0; i < n; i++) {
            double d = (double)dr[i] + m->norms[i];
            if (have == keep && d >= cand[have - 1].d) continue;
            int j = have < keep ? have++ : have - 1;
            for (; j > 0 && cand[j - 1].d > d; j--) cand[j] = cand[j - 1];
            cand[j] = (neighbour){ d, i };
        }
        /* Exact distances of those, re-ranked. */
        for (int j = 0; j < have; j++) {
            const float *t = m->x + (size_t)cand[j].i * F;
            double s = 0;
            for (int f = 0; f < F; f++) {
                double dd = (double)xr[f] - t[f];
                s += dd * dd;
            }
            cand[j].d = sqrt(s);
        }
        for (int a = 1; a < have; a++)
            for (int j = a; j > 0 && (cand[j - 1].d > cand[j].d || (cand[j - 1].d == cand[j].d && cand[j - 1].i > cand[j].i)); j--) {
                neighbour t = cand[j]; cand[j] = cand[j - 1]; cand[j - 1] = t;
            }
        float *p = proba ? proba + (size_t)r * K : row;
        for (int q = 0; q < K; q++) p[q] = 0;
        int exact = 0;
        for (int j = 0; j < k; j++) exact += cand[j].d == 0;
        double total = 0;
        for (int j = 0; j < k; j++) {
            /* scikit-learn: with a neighbour at distance 0, only such neighbours vote. */
            double w = !m->p.distance_weights ? 1.0 : exact ? (cand[j].d == 0) : 1.0 / cand[j].d;
            p[m->y[cand[j].i]] += (float)w;
            total += w;
        }
        int b = 0;
        for (int q = 0; q < K; q++) {
            p[q] = (float)(p[q] / total);
            b = p[q] > p[b] ? q : b;
        }
        if (pred) pred[r] = b;
    }
}

/* ---- dispatch -------------------------------------------------------------- */

est_model *est_fit(const est_params *p, const data_set *set, const uint32_t *rows, int n, float scale, int n_classes,
                   hpt_error *e)
{
    static const char *const names[] = { "RidgeClassifier", "LogisticRegression", "RandomForestClassifier",
                                         "KNeighborsClassifier" };
    if (n < 1) return hpt_fail(e, "%s: no training rows", names[p->kind]), NULL;
    if (n_classes < 2) return hpt_fail(e, "%s: needs at least 2 classes, the data has %d", names[p->kind], n_classes), NULL;
    if (n > 0xffffffe || set->sample_size > 0x7fffffff)
        return hpt_fail(e, "%s: %d rows of %zu features is too many", names[p->kind], n, set->sample_size), NULL;
    est_model *m = calloc(1, sizeof *m);
    if (!m) return hpt_fail(e, "%s: out of memory", names[p->kind]), NULL;
    atomic_fetch_add(&running_fits, 1);
    m->p = *p;
    m->K = n_classes;
    m->F = (int)set->sample_size;
    m->R = n_classes == 2 ? 1 : n_classes;
    int rc;
    switch (p->kind) {
    case EST_RIDGE: rc = fit_ridge(m, set, rows, n, scale, e); break;
    case EST_LOGISTIC: rc = fit_logistic(m, set, rows, n, scale, e); break;
    case EST_FOREST: rc = fit_forest(m, set, rows, n, scale, e); break;
    default: rc = fit_knn(m, set, rows, n, scale, e); break;
    }
    atomic_fetch_sub(&running_fits, 1);
    if (rc) {
        est_free(m);
        return NULL;
    }
    return m;
}

int est_predict(const est_model *m, const data_set *set, const uint32_t *rows, int n, float scale, int32_t *pred,
                float *proba, hpt_error *e)
{
    int F = m->F, K = m->K;
    if (set->sample_size != (size_t)F)
        return hpt_fail(e, "%s has %zu features per row, but the estimator was fitted on %d", set->source,
                        set->sample_size, F);
    float *x = malloc(sizeof *x * CHUNK * (size_t)F), *row = malloc(sizeof *row * (size_t)K);
    double *z = malloc(sizeof *z * CHUNK * (size_t)(m->R > 0 ? m->R : 1));
    double *xd = m->coef ? malloc(sizeof *xd * CHUNK * (size_t)F) : NULL;
    float *D = m->p.kind == EST_KNN ? malloc(sizeof *D * CHUNK * (size_t)m->n) : NULL;
    neighbour *cand = m->p.kind == EST_KNN ? malloc(sizeof *cand * ((size_t)m->p.n_neighbors + KNN_EXTRA)) : NULL;
    if (!x || !row || !z || (m->p.kind == EST_KNN && (!D || !cand)) || (m->coef && !xd)) {
        free(x), free(row), free(z), free(D), free(xd), free(cand);
        return hpt_fail(e, "out of memory predicting %d rows", n);
    }
    for (int i = 0; i < n; i += CHUNK) {
        int c = n - i < CHUNK ? n - i : CHUNK;
        data_gather(set, rows + i, c, scale, x, NULL);
        int32_t *pr = pred ? pred + i : NULL;
        float *pp = proba ? proba + (size_t)i * K : NULL;
        switch (m->p.kind) {
        case EST_RIDGE:
        case EST_LOGISTIC: linear_predict(m, x, c, xd, z, pr, pp); break;
        case EST_FOREST: forest_predict(m, x, c, pr, pp, row); break;
        default: knn_predict(m, x, c, D, cand, pr, pp, row); break;
        }
    }
    free(x), free(row), free(z), free(D), free(xd), free(cand);
    return 0;
}

int est_score(const est_model *m, const data_set *set, const uint32_t *rows, int n, float scale, double *log_loss,
              double *accuracy, hpt_error *e)
{
    *log_loss = *accuracy = NAN;
    if (n <= 0) return 0;
    int K = m->K, proba = est_has_proba(m);
    int32_t *pred = malloc(sizeof *pred * (size_t)n);
    float *p = proba ? malloc(sizeof *p * (size_t)n * K) : NULL;
    if (!pred || (proba && !p)) {
        free(pred), free(p);
        return hpt_fail(e, "out of memory scoring %d rows", n);
    }
    int rc = est_predict(m, set, rows, n, scale, pred, p, e);
    if (rc == 0) {
        long correct = 0;
        double loss = 0;
        for (int i = 0; i < n; i++) {
            int32_t label = set->labels[rows[i]];
            correct += pred[i] == label;
            if (!proba) continue;
            /* scikit-learn's log_loss: clip to [eps, 1 - eps], renormalise, -log p(label). */
            const double eps = 1e-15;
            double sum = 0, mine = 0;
            for (int k = 0; k < K; k++) {
                double q = fmin(fmax((double)p[(size_t)i * K + k], eps), 1 - eps);
                sum += q;
                if (k == label) mine = q;
            }
            loss -= log(mine / sum);
        }
        *accuracy = (double)correct / n;
        if (proba) *log_loss = loss / n;
    }
    free(pred), free(p);
    return rc;
}
