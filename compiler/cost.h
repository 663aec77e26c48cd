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
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "compiler/diag.h"
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

/* ---- the tuner's limits (max_model_size, max_flops, max_memory) ----------- */

typedef struct cost_limits {
    double max_params;          /* max_model_size: trainable parameters; 0 = no limit */
    double max_flops;           /* max_flops: forward FLOPs per sample; 0 = no limit */
    double max_memory_bytes;    /* max_memory (given in MB, 10^6 bytes); 0 = no limit */
} cost_limits;

/* The limits the spec's tuner sets (all 0 when none, or no tuner). */
cost_limits cost_limits_of(const ir_program *p);
bool cost_limited(const cost_limits *l);
/* Whether c meets every limit: true, or false with the first it breaks in
 * why ("412,042 trainable parameters, more than max_model_size = 100,000"). */
bool cost_within(const cost_limits *l, const model_cost *c, char *why, size_t why_len);
/* cost_of and cost_within in one: 1 feasible, 0 not (why says which limit),
 * -1 when the cost cannot be computed (why says why).  Always 1 without limits. */
int cost_feasible(const ir_program *p, const ir_assignment *a, char *why, size_t why_len);

/* ---- costs over the space (compiler/cost_space.c) ---------------------------
 *
 * A region is one combination of the hyperparameters that decide which
 * layers exist (those an `if` or `for` guard reads), the others ranging.
 * The configurations of the hyperparameters that change a cost (guards,
 * layer arguments other than training-only ones, batch_size, optimizer) are
 * enumerated when there are few enough (about two million layer plans in
 * all), each grid of more than 4096 values and each continuous range at its
 * ends; else the ranges and the feasible share come from random draws (as
 * RandomSearch draws) plus the two corners, every size at its smallest and
 * at its largest. */
typedef struct cost_range {
    model_cost lo, hi;
    double weight;              /* configurations (or draws) counted */
    double feasible;            /* ... of which meet the tuner's limits */
    long n;                     /* costs seen (the corners too) */
} cost_range;

typedef struct cost_survey {
    cost_range all;
    bool exact;                 /* every configuration enumerated */
    double combinations;        /* exact: the distinct combinations of the hyperparameters that change a cost */
    bool ends;                  /* ... but some dimensions at their ends only */
    long draws;                 /* not exact: random configurations drawn */
    long failed;                /* configurations whose cost could not be computed */
} cost_survey;

/* The checker's part: a limit that no configuration meets is an error at
 * the limit as written (at[0..2]: max_model_size, max_flops, max_memory),
 * saying the smallest cost the space has; when the space is only sampled, a
 * warning.  Returns the number of errors reported. */
int cost_check_limits(const ir_program *p, diag_ctx *d, const ir_span at[3]);
/* Survey the space: overall ranges and the feasible share (no listing). */
int cost_survey_space(const ir_program *p, cost_survey *out);
/* `hptc space`'s cost section: per region and overall, the ranges of params,
 * FLOPs and memory, how they were found, and the share meeting the limits. */
void cost_print_space(const ir_program *p, FILE *out);

#endif
