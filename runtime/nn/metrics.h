/* metrics.h: the metrics compile(metrics = [...]) adds to loss and accuracy
 * (AUC, Precision, Recall, mae, mse, RootMeanSquaredError), accumulated
 * over an epoch as Keras's stateful metrics are, and which way each one is
 * better: Keras Tuner's direction inference for objectives and monitors.
 *
 * A metric_acc holds counts and sums only, so adding a batch costs one pass
 * over its outputs and the epoch's value is exact whatever the batching:
 *   AUC        Keras's AUC(): 200 thresholds (0 - 1e-7, i/199 for i = 1..198,
 *              1 + 1e-7); a prediction above a threshold is positive there;
 *              the ROC curve's area by the trapezoid rule ("interpolation")
 *   Precision  TP / (TP + FP) at threshold 0.5 (0 when nothing is predicted positive)
 *   Recall     TP / (TP + FN) at threshold 0.5 (0 when no label is positive)
 *   mae, mse   means over every output of every sample
 *   RootMeanSquaredError  sqrt of the epoch's mse
 * The classification metrics read probabilities and 0/1 targets (a target
 * counts as positive when it is above 0.5); a loss that reads logits gets
 * them through a sigmoid first. */
#ifndef HPTC_METRICS_H
#define HPTC_METRICS_H
#include <stddef.h>
#include "stdlib/value.h"

/* X(ID, key, catalogue id): key is the name an epoch's record uses (Keras's
 * default name of the metric object). */
#define METRICS(X) \
    X(AUC, "auc", ST_AUC) \
    X(PRECISION, "precision", ST_Precision) \
    X(RECALL, "recall", ST_Recall) \
    X(MAE, "mae", ST_mae) \
    X(MSE, "mse", ST_mse) \
    X(RMSE, "root_mean_squared_error", ST_RootMeanSquaredError)

#define METRIC_ENUM(ID, ...) METRIC_##ID,
typedef enum metric_id { METRICS(METRIC_ENUM) METRIC_COUNT } metric_id;
#undef METRIC_ENUM

#define METRIC_AUC_THRESHOLDS 200

typedef struct metric_acc {
    unsigned mask;              /* 1 << metric_id of those computed */
    double abs_sum, sq_sum;
    long count;                 /* outputs seen */
    long tp[METRIC_AUC_THRESHOLDS], fp[METRIC_AUC_THRESHOLDS];
    long positives, negatives;
    long tp_half, fp_half, fn_half;
} metric_acc;

/* The key an epoch's record names metric m by: "auc", "root_mean_squared_error". */
const char *metric_key(metric_id m);
/* The metric a name (any catalogue spelling: "AUC", "rmse", "mean_absolute_error")
 * stands for, or -1 (loss, accuracy and unknown names). */
int metric_of_name(const char *name);
/* The metrics of an evaluated compile(metrics = [...]) list, as a mask. */
unsigned metric_mask(hpt_value list);

/* Keras Tuner's direction: 1 when name (with or without val_) is better
 * larger (accuracy, auc, precision, recall), 0 when smaller (loss, errors,
 * mae, mse, rmse and any other loss name). */
int metric_maximize(const char *name);

void metric_reset(metric_acc *a, unsigned mask);
/* Add a batch: pred and target (B, K); logits 1 when pred must go through a sigmoid. */
void metric_add(metric_acc *a, const float *pred, const float *target, int B, int K, int logits);
/* The values of the masked metrics; NaN for the others. */
void metric_values(const metric_acc *a, double out[METRIC_COUNT]);

#endif
