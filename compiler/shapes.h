/* shapes.h: tensor shapes checked over the whole search space.
 *
 * For every combination of the hyperparameters that decide shapes (those in
 * layer guards and in shape arguments such as units, kernel_size, padding),
 * the layers present are run through their stdlib shape rules, by a walk that
 * assigns a hyperparameter only when a layer needs it and never walks the
 * same state twice (see shapes.c).  A layer that breaks is reported once,
 * with the hyperparameter values on the way to it ("... but the input is 5x5
 * when 'pool' = True").  Dimensions of more than 64 values are tried at their
 * ends, where monotone shape rules break first; a space that would take more
 * than a million steps is checked in part, the default trial first, with a
 * warning. */
#ifndef HPTC_SHAPES_H
#define HPTC_SHAPES_H
#include "compiler/diag.h"
#include "compiler/ir.h"

/* Returns the number of errors reported. */
int shapes_check(const ir_program *p, diag_ctx *d);

/* Output shape of every present layer under one assignment (for the runtime
 * and `hptc space`).  shapes is n_layers x 4 ints, ranks n_layers; absent
 * layers get rank 0.  Returns -1 with a sentence in why when a rule fails. */
int shapes_infer(const ir_program *p, const ir_assignment *a, int (*shapes)[4], int *ranks, char *why, size_t n);

/* Classes the data source is known to have before loading it (10 for the
 * built-in datasets), or 0 when only the data can tell. */
int shapes_known_classes(const ir_program *p);

#endif
