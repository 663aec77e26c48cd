/* latency.h: the latency_ms objective (issue 15, pareto): a trial's
 * inference time per sample, measured the same way for every trial. */
#ifndef HPTC_LATENCY_H
#define HPTC_LATENCY_H
#include <stddef.h>
#include "compiler/ir.h"

/* Build the configuration's network for batches of LATENCY_BATCH under the
 * dtype policy, run one forward pass (inference: no dropout) to warm up,
 * then LATENCY_REPS passes, and give the median pass's milliseconds divided
 * by LATENCY_BATCH.  The inputs are zeros and the weights the initial ones:
 * a dense network's time does not depend on the values, so this is the
 * trained model's time without reading its checkpoint.  -1 with a sentence
 * in why (an estimator, which has no network; out of memory). */
enum { LATENCY_BATCH = 256, LATENCY_REPS = 5 };
int latency_measure(const ir_program *p, const hpt_value *values, int dtype_policy, uint64_t seed, double *ms,
                    char *why, size_t n);

#endif
