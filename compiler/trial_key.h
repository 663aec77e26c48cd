/* trial_key.h: the canonical text of one trial of a spec — everything that
 * decides the numbers a trial produces, for one assignment of the
 * hyperparameters, and nothing else.
 *
 * Two trials with equal keys (of the same spec or of two versions of it)
 * train the same network the same way: `hptc diff` and `hptc run
 * --warm-start` reuse a stored trial of an old spec for a new one exactly
 * when the keys agree (docs/results.md, "A changed spec").  The key is one
 * fact per line:
 *   data fashion_mnist(scale = 0.00392156862745098)
 *   layer 0 Input(shape = [28, 28])
 *   layer 3 Dense(units = 512, activation = "relu", ...) reads (2)
 *   compile Adam(...) ...
 *   search(epochs = 50, validation_split = 0.2, ...)
 *   executions_per_trial 1
 * the data's arguments but its paths (the data itself is held by its
 * fingerprint, in the store); the layers present under the assignment (a
 * guard that holds), numbered as a trial numbers them (the numbers key the
 * weights' random initialisation), each with every argument evaluated and
 * the layers it reads (a layer left out stands for what it reads); compile
 * and search, every argument evaluated; the tuner's executions_per_trial
 * (the score is their mean).  Layer names, comments, formatting, the
 * tuner's other arguments and the order of hyperparameters are not in it.
 * A trial's seed is its own (the store keeps it), not the key's. */
#ifndef HPTC_TRIAL_KEY_H
#define HPTC_TRIAL_KEY_H
#include "compiler/ir.h"

/* The key of the trial p runs under values (p->n_hps slots, inactive ones
 * V_NONE), malloc'd; NULL with a sentence in why when an argument fails to
 * evaluate under it (or memory is short). */
char *ir_trial_key(const ir_program *p, const hpt_value *values, char *why, size_t why_len);

#endif
