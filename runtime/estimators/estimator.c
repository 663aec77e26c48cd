/* estimator.c: the classic estimators (estimator.h): their table, and what
 * they share.
 *
 * Each family lives in its own file and exports its row (family.h): linear.c
 * (RidgeClassifier, LogisticRegression), forest.c (RandomForestClassifier),
 * knn.c (KNeighborsClassifier).  Here: the params of a catalogue entry, the
 * checks before a fit, predicting a chunk of rows at a time, scoring and
 * freeing.  Rows are read a chunk at a time through data_gather, so the
 * features reach every estimator exactly as they reach a network (u8 * scale
 * or f32 * scale). */
#include "runtime/estimators/family.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One row per est_kind, in its order. */
static const est_family *const families[] = {
    [EST_RIDGE] = &est_ridge,
    [EST_LOGISTIC] = &est_logistic,
    [EST_FOREST] = &est_forest,
    [EST_KNN] = &est_knn,
};
enum { N_FAMILIES = sizeof families / sizeof *families };
_Static_assert(N_FAMILIES == EST_KNN + 1, "a row for every est_kind");

atomic_int est_running_fits;

int est_params_of(const st_entry *entry, const hpt_value *a, uint64_t seed, est_params *p, hpt_error *e)
{
    memset(p, 0, sizeof *p);
    p->seed = seed;
    for (int k = 0; k < N_FAMILIES; k++)
        if (families[k]->entry == entry->id) {
            p->kind = (est_kind)k;
            return families[k]->params(a, p, e);
        }
    return hpt_fail(e, "%s is not an estimator", entry->name);
}

void est_free(est_model *m)
{
    if (!m) return;
    free(m->coef), free(m->intercept);
    free(m->nodes), free(m->roots), free(m->probs);
    free(m->x), free(m->norms), free(m->y);
    free(m);
}

int est_has_proba(const est_model *m) { return families[m->p.kind]->has_proba; }
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

est_model *est_fit(const est_params *p, const data_set *set, const uint32_t *rows, int n, float scale, int n_classes,
                   hpt_error *e)
{
    const est_family *fam = families[p->kind];
    if (n < 1) return hpt_fail(e, "%s: no training rows", fam->name), NULL;
    if (n_classes < 2) return hpt_fail(e, "%s: needs at least 2 classes, the data has %d", fam->name, n_classes), NULL;
    if (n > 0xffffffe || set->sample_size > 0x7fffffff)
        return hpt_fail(e, "%s: %d rows of %zu features is too many", fam->name, n, set->sample_size), NULL;
    est_model *m = calloc(1, sizeof *m);
    if (!m) return hpt_fail(e, "%s: out of memory", fam->name), NULL;
    atomic_fetch_add(&est_running_fits, 1);
    m->p = *p;
    m->K = n_classes;
    m->F = (int)set->sample_size;
    m->R = n_classes == 2 ? 1 : n_classes;
    int rc = fam->fit(m, set, rows, n, scale, e);
    atomic_fetch_sub(&est_running_fits, 1);
    if (rc) {
        est_free(m);
        return NULL;
    }
    return m;
}

int est_predict(const est_model *m, const data_set *set, const uint32_t *rows, int n, float scale, int32_t *pred,
                float *proba, hpt_error *e)
{
    const est_family *fam = families[m->p.kind];
    int F = m->F, K = m->K;
    if (set->sample_size != (size_t)F)
        return hpt_fail(e, "%s has %zu features per row, but the estimator was fitted on %d", set->source,
                        set->sample_size, F);
    est_scratch s = { .x = malloc(sizeof *s.x * CHUNK * (size_t)F), .row = malloc(sizeof *s.row * (size_t)K) };
    int rc = 0;
    if (!s.x || !s.row || (fam->scratch && fam->scratch(m, &s)))
        rc = hpt_fail(e, "out of memory predicting %d rows", n);
    for (int i = 0; rc == 0 && i < n; i += CHUNK) {
        int c = n - i < CHUNK ? n - i : CHUNK;
        data_gather(set, rows + i, c, scale, s.x, NULL);
        fam->predict(m, s.x, c, &s, pred ? pred + i : NULL, proba ? proba + (size_t)i * K : NULL);
    }
    free(s.x), free(s.row), free(s.z), free(s.xd), free(s.D), free(s.cand);
    return rc;
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
