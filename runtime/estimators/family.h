/* family.h: what estimator.c shares with the estimator families' files,
 * linear.c (RidgeClassifier, LogisticRegression), forest.c
 * (RandomForestClassifier) and knn.c (KNeighborsClassifier).  Nothing outside
 * runtime/estimators/ includes it.
 *
 * Each family file exports one row per estimator, an est_family: its name,
 * catalogue entry, how its params are read, how it fits and how it predicts a
 * chunk of rows.  estimator.c holds the table of rows, indexed by est_kind,
 * and does everything common (checks, the chunked gather, scoring, freeing),
 * so adding an estimator is one file with its row, one table entry and one
 * est_kind.  The model is one struct for every family; each fills its part. */
#ifndef HPTC_ESTIMATOR_FAMILY_H
#define HPTC_ESTIMATOR_FAMILY_H
#include <stdatomic.h>

#include "runtime/estimators/estimator.h"

/* Rows gathered (data_gather) and predicted at a time. */
enum { CHUNK = 256 };

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

/* What est_predict allocates once per call and lends to every chunk: x and
 * row always, the rest by the family's scratch(); est_predict frees all. */
typedef struct est_scratch {
    float *x;                   /* (CHUNK, F): the gathered rows */
    float *row;                 /* (K): one row's probabilities when proba is NULL */
    double *z, *xd;             /* linear: (CHUNK, R) scores, (CHUNK, F) the rows in double */
    float *D;                   /* k-NN: (CHUNK, n) distances to the training rows */
    struct neighbour *cand;     /* k-NN: its candidates (knn.c) */
} est_scratch;

typedef struct est_family {
    const char *name;           /* scikit-learn's class name, in messages */
    int entry;                  /* its catalogue entry, ST_RidgeClassifier, ... */
    int has_proba;              /* predicts class probabilities */
    /* Fills p's fields of this family from the entry's evaluated arguments. */
    int (*params)(const hpt_value *args, est_params *p, hpt_error *e);
    /* Fits m (p, K, F, R set) on n rows of set (features * scale). */
    int (*fit)(est_model *m, const data_set *set, const uint32_t *rows, int n, float scale, hpt_error *e);
    /* Allocates the family's part of s; -1 when out of memory.  NULL: none. */
    int (*scratch)(const est_model *m, est_scratch *s);
    /* Predicts c <= CHUNK gathered rows x (c, F): pred (c) and proba (c, K),
     * either may be NULL. */
    void (*predict)(const est_model *m, const float *x, int c, est_scratch *s, int32_t *pred, float *proba);
} est_family;

extern const est_family est_ridge, est_logistic;     /* linear.c */
extern const est_family est_forest;                  /* forest.c */
extern const est_family est_knn;                     /* knn.c */

/* Fits running in this process now (estimator.c counts them): a forest
 * takes the cores the others leave. */
extern atomic_int est_running_fits;

#endif
