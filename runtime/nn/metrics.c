/* metrics.c: see metrics.h.  AUC keeps one true- and false-positive count
 * per threshold; a prediction p is above thresholds 0 .. floor(p·199 - tiny),
 * so each sample adds to a prefix of the counts: it is counted once in a
 * histogram and the prefix sums are taken at the end. */
#include "runtime/nn/metrics.h"
#include "stdlib/catalogue.h"

#include <math.h>
#include <string.h>

static const char *const keys[METRIC_COUNT] = {
#define METRIC_KEY(ID, key, st) key,
    METRICS(METRIC_KEY)
#undef METRIC_KEY
};
static const int entries[METRIC_COUNT] = {
#define METRIC_ST(ID, key, st) st,
    METRICS(METRIC_ST)
#undef METRIC_ST
};

const char *metric_key(metric_id m) { return keys[m]; }

int metric_of_name(const char *name)
{
    const st_entry *e = st_find(ST_METRIC, name);
    for (int m = 0; e && m < METRIC_COUNT; m++)
        if (entries[m] == e->id) return m;
    return -1;
}

unsigned metric_mask(hpt_value list)
{
    unsigned mask = 0;
    for (int k = 0; list.type == V_LIST && k < list.u.list.n; k++) {
        hpt_value v = list.u.list.items[k];
        int m = v.type == V_STRING ? metric_of_name(v.u.s) : -1;
        if (m >= 0) mask |= 1u << m;
    }
    return mask;
}

int metric_maximize(const char *name)
{
    const char *base = strncmp(name, "val_", 4) ? name : name + 4;
    if (!strcmp(base, "loss") || st_find(ST_LOSS, base)) return 0;
    const st_entry *e = st_find(ST_METRIC, base);
    if (e) return e->id == ST_accuracy || e->id == ST_AUC || e->id == ST_Precision || e->id == ST_Recall;
    /* Not a name hptc computes (the checker refuses those): the old rule. */
    return !strstr(base, "loss") && !strstr(base, "error");
}

void metric_reset(metric_acc *a, unsigned mask)
{
    memset(a, 0, sizeof *a);
    a->mask = mask;
}

/* The thresholds Keras's AUC uses; index 0 is just below 0, the last just above 1. */
static double threshold(int i)
{
    if (i == 0) return -1e-7;
    if (i == METRIC_AUC_THRESHOLDS - 1) return 1 + 1e-7;
    return (double)i / (METRIC_AUC_THRESHOLDS - 1);
}

void metric_add(metric_acc *a, const float *pred, const float *target, int B, int K, int logits)
{
    size_t n = (size_t)B * K;
    unsigned classify = a->mask & ((1u << METRIC_AUC) | (1u << METRIC_PRECISION) | (1u << METRIC_RECALL));
    for (size_t i = 0; i < n; i++) {
        double p = pred[i], y = target[i], d = p - y;
        a->abs_sum += fabs(d);
        a->sq_sum += d * d;
        if (!classify) continue;
        if (logits) p = p >= 0 ? 1 / (1 + exp(-p)) : exp(p) / (1 + exp(p));
        int positive = y > 0.5;
        a->positives += positive, a->negatives += !positive;
        if (p > 0.5) positive ? a->tp_half++ : a->fp_half++;
        else if (positive) a->fn_half++;
        /* The last threshold p exceeds: thresholds increase, so count it
         * there and sum suffixes later.  p <= -1e-7 exceeds none. */
        int hi = -1;
        if (p > threshold(0)) {
            hi = (int)floor(p * (METRIC_AUC_THRESHOLDS - 1));
            if (hi > METRIC_AUC_THRESHOLDS - 1) hi = METRIC_AUC_THRESHOLDS - 1;
            if (hi < 0) hi = 0;
            while (hi > 0 && !(p > threshold(hi))) hi--;
            while (hi + 1 < METRIC_AUC_THRESHOLDS && p > threshold(hi + 1)) hi++;
        }
        if (hi >= 0) positive ? a->tp[hi]++ : a->fp[hi]++;
    }
    a->count += (long)n;
}

/* Keras's AUC (ROC, interpolation): tp and fp at each threshold are the
 * samples above it, the suffix sums of the per-threshold histogram. */
static double auc(const metric_acc *a)
{
    double tpr[METRIC_AUC_THRESHOLDS], fpr[METRIC_AUC_THRESHOLDS];
    long tp = 0, fp = 0;
    for (int i = METRIC_AUC_THRESHOLDS - 1; i >= 0; i--) {
        tp += a->tp[i], fp += a->fp[i];
        /* divide_no_nan: 0 where there is nothing to divide by */
        tpr[i] = a->positives ? (double)tp / (double)a->positives : 0;
        fpr[i] = a->negatives ? (double)fp / (double)a->negatives : 0;
    }
    double area = 0;
    for (int i = 0; i + 1 < METRIC_AUC_THRESHOLDS; i++) area += (fpr[i] - fpr[i + 1]) * (tpr[i] + tpr[i + 1]) / 2;
    return area;
}

void metric_values(const metric_acc *a, double out[METRIC_COUNT])
{
    for (int m = 0; m < METRIC_COUNT; m++) out[m] = NAN;
    double count = a->count ? (double)a->count : NAN;
    if (a->mask & (1u << METRIC_MAE)) out[METRIC_MAE] = a->abs_sum / count;
    if (a->mask & (1u << METRIC_MSE)) out[METRIC_MSE] = a->sq_sum / count;
    if (a->mask & (1u << METRIC_RMSE)) out[METRIC_RMSE] = sqrt(a->sq_sum / count);
    if (a->mask & (1u << METRIC_AUC)) out[METRIC_AUC] = auc(a);
    long pp = a->tp_half + a->fp_half, ap = a->tp_half + a->fn_half;
    if (a->mask & (1u << METRIC_PRECISION)) out[METRIC_PRECISION] = pp ? (double)a->tp_half / (double)pp : 0;
    if (a->mask & (1u << METRIC_RECALL)) out[METRIC_RECALL] = ap ? (double)a->tp_half / (double)ap : 0;
}
