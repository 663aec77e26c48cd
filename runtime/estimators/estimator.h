/* estimator.h: the classic (scikit-learn) classifiers a model { } may hold
 * instead of a network: RidgeClassifier, LogisticRegression,
 * RandomForestClassifier and KNeighborsClassifier.
 *
 * Each is fitted on rows of a data_set (u8 or f32 features, multiplied by the
 * data's scale as data_gather does) and predicts class ids, and, except
 * Ridge, class probabilities.  Definitions follow scikit-learn 1.2 where
 * they decide the answer: Ridge's {-1, +1} one-vs-all targets and centred
 * least squares, LogisticRegression's lbfgs objective (sum of losses +
 * ||W||^2 / 2C, intercept unpenalised; one binomial row for two classes), the
 * forest's bootstrap, gini, max_features and probability averaging, k-NN's
 * uniform and 1/distance votes.  Random draws (bootstrap, feature sampling)
 * are keyed by the params' seed through runtime/rng.h, so a fit is a pure
 * function of (params, rows).  The prefix is est_. */
#ifndef HPTC_ESTIMATOR_H
#define HPTC_ESTIMATOR_H
#include <stdint.h>
#include "runtime/data/data.h"
#include "runtime/err.h"
#include "stdlib/catalogue.h"

typedef enum { EST_RIDGE, EST_LOGISTIC, EST_FOREST, EST_KNN } est_kind;

/* max_features of the forest: "sqrt", "log2", None (all), an int, a fraction. */
typedef enum { EST_MF_SQRT, EST_MF_LOG2, EST_MF_ALL, EST_MF_COUNT, EST_MF_FRACTION } est_max_features;

typedef struct est_params {
    est_kind kind;
    double alpha;               /* Ridge: L2 strength */
    int fit_intercept;          /* Ridge, LogisticRegression */
    double C, tol;              /* LogisticRegression: inverse L2 strength, gradient tolerance */
    int max_iter;
    int n_estimators;           /* forest */
    int max_depth;              /* 0: unbounded (None) */
    int min_samples_split;
    int bootstrap;
    est_max_features mf;
    double mf_value;            /* EST_MF_COUNT: the count; EST_MF_FRACTION: the fraction */
    int n_neighbors;            /* k-NN */
    int distance_weights;       /* weights = "distance" */
    uint64_t seed;
    int threads;                /* forest: threads growing trees; 0 = the cores other fits leave idle */
} est_params;

typedef struct est_model est_model;

/* The params of a catalogue estimator entry (ST_RidgeClassifier, ...) from
 * its evaluated arguments (entry->n_args values).  -1 with e filled when the
 * entry is no estimator. */
int est_params_of(const st_entry *entry, const hpt_value *args, uint64_t seed, est_params *p, hpt_error *e);

/* Fit on n rows of set (features * scale) with labels in [0, n_classes).
 * Returns NULL with e filled on a singular Ridge system, k > n for k-NN, or
 * out of memory. */
est_model *est_fit(const est_params *p, const data_set *set, const uint32_t *rows, int n, float scale, int n_classes,
                   hpt_error *e);
void est_free(est_model *m);

/* Whether the model has class probabilities (all but Ridge). */
int est_has_proba(const est_model *m);
int est_n_classes(const est_model *m);

/* Predict n rows: the class id of each into pred (may be NULL) and, when the
 * model has them, the probabilities into proba (n, n_classes) (may be NULL). */
int est_predict(const est_model *m, const data_set *set, const uint32_t *rows, int n, float scale, int32_t *pred,
                float *proba, hpt_error *e);

/* Accuracy and log loss (scikit-learn's log_loss: probabilities clipped to
 * [1e-15, 1 - 1e-15] and renormalised) over n rows; the loss is NaN for a
 * model without probabilities. */
int est_score(const est_model *m, const data_set *set, const uint32_t *rows, int n, float scale, double *log_loss,
              double *accuracy, hpt_error *e);

/* A linear model's coefficients (rows x features, row-major) and intercepts
 * (rows); rows is 1 for two classes (scikit-learn's binary coef_), else the
 * number of classes.  NULL for the forest and k-NN. */
const double *est_coefficients(const est_model *m, int *rows, int *features, const double **intercept);
/* L-BFGS iterations the last LogisticRegression fit took (0 otherwise). */
int est_iterations(const est_model *m);

#endif
