/* objectives.h: what a tuner's objective asks for (issue 15, pareto).
 *
 * `objective = "val_accuracy"` is one metric, its direction inferred as
 * Keras Tuner does; `Objective("val_accuracy", "max")` gives the direction,
 * as kt.Objective; `Pareto(a, b[, c[, d]])` asks for the Pareto front of two
 * to four objectives: the trials that no other trial beats on every one.
 * Besides metrics, a Pareto objective may name a cost of the configuration,
 * known before training from compiler/cost.h (params, flops, memory_mb), or
 * latency_ms, measured on the trained model; costs are minimised unless an
 * Objective says otherwise.
 *
 * The checker (compiler/sema.c) and the runtime read the same evaluated
 * value through objectives_from_value; the store keeps the set as text
 * (objectives_format / objectives_parse) in its meta "objectives". */
#ifndef HPTC_OBJECTIVES_H
#define HPTC_OBJECTIVES_H
#include <stddef.h>
#include "stdlib/value.h"

enum { OBJECTIVES_MAX = 4 };

typedef enum {
    OBJ_METRIC,         /* a metric of the training, at its best epoch (mean over executions) */
    OBJ_PARAMS,         /* trainable parameters (cost_of) */
    OBJ_FLOPS,          /* forward FLOPs per sample (cost_of) */
    OBJ_MEMORY_MB,      /* peak training-step memory in MB of 10^6 bytes (cost_of) */
    OBJ_LATENCY_MS,     /* measured inference time per sample of the trained model */
} objective_kind;

typedef struct objective_set {
    int n;                              /* 1 unless pareto or sum */
    int pareto;
    int sum;                            /* objective = [...]: Keras Tuner's MultiObjective, one score */
    char name[OBJECTIVES_MAX][64];
    int maximize[OBJECTIVES_MAX];       /* 1, 0, or -1: not given, infer from the metric's name */
    objective_kind kind[OBJECTIVES_MAX];
    int primary;                        /* the first metric: training keeps its best epoch; -1 if none */
} objective_set;

/* The cost a name stands for, or OBJ_METRIC. */
objective_kind objective_kind_of(const char *name);
/* Read an evaluated objective argument (string, Objective or Pareto).
 * Returns 0, or -1 with a sentence in why: a Pareto of one objective, a
 * Pareto inside a Pareto, a name twice, no metric among them, a cost alone. */
int objectives_from_value(hpt_value v, objective_set *out, char *why, size_t n);
/* The name of a sum (directions resolved): "multi_objective(val_loss,-val_accuracy)",
 * each maximised metric subtracted, as Keras Tuner's MultiObjective.get_value;
 * the runtime reads it back (tune_metric).  -1 when it does not fit in n. */
int objectives_sum_name(const objective_set *s, char *buf, size_t n);
/* "val_accuracy max, params min" (directions resolved; "sum of ..." for a sum), and back. */
void objectives_format(const objective_set *s, char *buf, size_t n);
int objectives_parse(const char *text, objective_set *out);

#endif
