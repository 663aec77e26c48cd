/* cost.h: what one configuration of the space costs, known from the compiled
 * spec before anything trains (issue 15).
 *
 * The same walk the checker and the runtime use (shapes_infer and the
 * catalogue's shape rules, which count every layer's weights) gives, for one
 * assignment of the hyperparameters, the model's trainable parameters, its
 * forward FLOPs per sample and the peak memory a training step needs at the
 * search's batch size.  `hptc space` prints their ranges over the space, the
 * tuners' max_model_size / max_flops / max_memory constraints are checked
 * with them before a trial is built, and `params`, `flops` and `memory_mb`
 * are objectives a multi-objective search can minimise. */
#ifndef HPTC_COST_H
#define HPTC_COST_H
#include <stddef.h>
#include "compiler/ir.h"

typedef struct model_cost {
    double params;              /* trainable parameters (Keras's count_params() without non-trainable) */
    double flops;               /* forward floating-point operations per sample, a multiply-add counting 2 */
    double memory_bytes;        /* peak memory of one training step at the search's batch size: weights,
                                   gradients, optimizer state, activations kept for the backward pass */
} model_cost;

/* The cost of the configuration `a` (p->n_hps values, inactive ones V_NONE).
 * Returns 0, or -1 with a sentence in why (a shape rule failed, out of
 * memory). */
int cost_of(const ir_program *p, const ir_assignment *a, model_cost *out, char *why, size_t why_len);

#endif
