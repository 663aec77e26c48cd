/* input.c: the Input layer.  It is always layer 0 of a trial; its output is
 * the trial's input buffer, which the caller fills before each step, so it
 * has no forward or backward of its own. */
#include "runtime/nn/layers/layers.h"

const layer_ops layer_input = { .flags = LAYER_BLAS };
