/* knn.c: KNeighborsClassifier (estimator.h; its row of the table, family.h).
 *
 * The fit keeps the training rows, their squared norms and labels.  k-NN
 * ranks training rows by ||a||^2 - 2 a.b + ||b||^2 from sgemm, then re-ranks
 * the best few (KNN_EXTRA more than k, against float rounding) by the exact
 * distance in double, ties going to the lower training row, and votes with
 * the exact distances. */
#include "runtime/estimators/family.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { KNN_EXTRA = 4 };

typedef struct neighbour { double d; int i; } neighbour;

static int knn_params(const hpt_value *a, est_params *p, hpt_error *e)
{
    p->n_neighbors = (int)a[KNeighborsClassifier_n_neighbors].u.i;
    p->distance_weights = !strcmp(a[KNeighborsClassifier_weights].u.s, "distance");
    return 0;
}

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


/* cand has room for n_neighbors + KNN_EXTRA candidates. */
static void knn_predict(const est_model *m, const float *x, int c, est_scratch *s, int32_t *pred, float *proba)
{
    float *D = s->D, *row = s->row;
    neighbour *cand = s->cand;
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

static int knn_scratch(const est_model *m, est_scratch *s)
{
    s->D = malloc(sizeof *s->D * CHUNK * (size_t)m->n);
    s->cand = malloc(sizeof *s->cand * ((size_t)m->p.n_neighbors + KNN_EXTRA));
    return s->D && s->cand ? 0 : -1;
}

const est_family est_knn = { "KNeighborsClassifier", ST_KNeighborsClassifier, 1, knn_params, fit_knn, knn_scratch,
                             knn_predict };
