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

/* Distinct configurations, or -1 when some active dimension is continuous,
 * or -2 when the conditions make too many distinct states to count (more
 * than two million steps).  Exact up to 2^53; printed as "more than 1e18"
 * from 1e18 on. */
double space_size(const ir_program *p);
void space_print(const ir_program *p, FILE *out);
/* Hyperparameter k's line of space_print without its name, its kind and
 * its condition: its values, sampling and default (the language server's
 * hover on an hp.* call). */
void space_print_hp(const ir_program *p, int k, FILE *out);
/* A condition as Keras Tuner states it ("num_layers > 1", "block == \"cnn\""). */
void space_print_condition(const ir_program *p, const ir_expr *cond, FILE *out);

#endif
