/* latency.c: measured inference time per sample (latency.h). */
#include "runtime/tune/latency.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include "runtime/nn/trial.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int latency_measure(const ir_program *p, const hpt_value *values, int dtype_policy, uint64_t seed, double *ms,
                    char *why, size_t n)
{
    hpt_error e;
    trial *t = trial_expand(p, values, LATENCY_BATCH, seed, &e);
    if (!t) {
        snprintf(why, n, "%.300s", e.message);
        return -1;
    }
    if (trial_estimator(t, NULL)) {
        trial_free(t);
        snprintf(why, n, "latency_ms is measured for networks, and this configuration is a classic estimator");
        return -1;
    }
    if (trial_set_dtype_policy(t, (trial_dtype_policy)dtype_policy, &e)) {
        trial_free(t);
        snprintf(why, n, "%.300s", e.message);
        return -1;
    }
    memset(trial_input(t), 0, sizeof(float) * trial_input_size(t) * LATENCY_BATCH);
    trial_forward(t, LATENCY_BATCH, 0, 0);
    double times[LATENCY_REPS];
    for (int r = 0; r < LATENCY_REPS; r++) {
        double t0 = now();
        trial_forward(t, LATENCY_BATCH, 0, 0);
        times[r] = now() - t0;
    }
    for (int i = 1; i < LATENCY_REPS; i++)
        for (int j = i; j > 0 && times[j - 1] > times[j]; j--) {
            double x = times[j];
            times[j] = times[j - 1], times[j - 1] = x;
        }
    *ms = times[LATENCY_REPS / 2] * 1e3 / LATENCY_BATCH;
    trial_free(t);
    return 0;
}
