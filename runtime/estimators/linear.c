/* linear.c: the linear models, RidgeClassifier and LogisticRegression
 * (estimator.h; their rows of the table, family.h).
 *
 * Both work in double, as scikit-learn does on float64 input, so their
 * coefficients can be compared to 1e-4; Ridge on bytes builds X'X in float,
 * exactly (ridge_normal_u8), at twice the double rate.  Both leave R rows of
 * F coefficients and R intercepts (one row for two classes, scikit-learn's
 * binary coef_) and predict the same way, one dgemm per chunk of rows. */
#include "runtime/estimators/family.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* LAPACK, Fortran calling convention (OpenBLAS exports it). */
void dposv_(const char *uplo, const int *n, const int *nrhs, double *a, const int *lda, double *b, const int *ldb,
            int *info);

static int ridge_params(const hpt_value *a, est_params *p, hpt_error *e)
{
    p->alpha = value_as_double(a[RidgeClassifier_alpha]);
    p->fit_intercept = a[RidgeClassifier_fit_intercept].u.b;
    return 0;
}

static int logistic_params(const hpt_value *a, est_params *p, hpt_error *e)
{
    p->C = value_as_double(a[LogisticRegression_C]);
    p->max_iter = (int)a[LogisticRegression_max_iter].u.i;
    p->tol = value_as_double(a[LogisticRegression_tol]);
    p->fit_intercept = a[LogisticRegression_fit_intercept].u.b;
    if (!(p->C > 0)) return hpt_fail(e, "LogisticRegression: C must be positive, but it is %g", p->C);
    return 0;
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
static void linear_predict(const est_model *m, const float *x, int c, est_scratch *s, int32_t *pred, float *proba)
{
    int F = m->F, R = m->R, K = m->K;
    double *xd = s->xd, *z = s->z;
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
        double sum = 0;
        for (int k = 0; k < R; k++) sum += exp(zr[k] - zr[best]);
        for (int k = 0; k < R; k++) pr[k] = (float)(exp(zr[k] - zr[best]) / sum);
    }
}

static int linear_scratch(const est_model *m, est_scratch *s)
{
    s->z = malloc(sizeof *s->z * CHUNK * (size_t)(m->R > 0 ? m->R : 1));
    s->xd = malloc(sizeof *s->xd * CHUNK * (size_t)m->F);
    return s->z && s->xd ? 0 : -1;
}

const est_family est_ridge = { "RidgeClassifier", ST_RidgeClassifier, 0, ridge_params, fit_ridge, linear_scratch,
                               linear_predict };
const est_family est_logistic = { "LogisticRegression", ST_LogisticRegression, 1, logistic_params, fit_logistic,
                                  linear_scratch, linear_predict };
