/* space.h: the search space as people read it (`hptc space`).
 *
 * Every hyperparameter with its type, values, sampling, default and the
 * condition under which it is active, and the number of distinct
 * configurations: exact when every hyperparameter is finite, counting only
 * hyperparameters that are active (num_layers = 1 has no units_1). */
#ifndef HPTC_SPACE_H
#define HPTC_SPACE_H
#include <stdio.h>
#include "compiler/ir.h"

/* Distinct configurations, or -1 when some active dimension is continuous.
 * Exact up to 2^53; spaces are capped at 1e18 configurations ("> 1e18"). */
double space_size(const ir_program *p);
void space_print(const ir_program *p, FILE *out);
/* A condition as Keras Tuner states it ("num_layers > 1", "block == \"cnn\""). */
void space_print_condition(const ir_program *p, const ir_expr *cond, FILE *out);

#endif
