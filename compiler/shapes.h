/* shapes.h: tensor shapes checked over the whole search space.
 *
 * For every combination of the hyperparameters that decide shapes (those in
 * layer guards and in shape arguments such as units, kernel_size, padding),
 * the layers present are run through their stdlib shape rules along the
 * graph (each on its inputs' shapes, a merge on all of its branches'), by a walk that
 * assigns a hyperparameter only when a layer needs it and never walks the
 * same state twice (see shapes.c).  A layer that breaks is reported once,
 * with the hyperparameter values on the way to it ("... but the input is 5x5
 * when 'pool' = True").  Dimensions of more than 64 values are tried at their
 * ends, where monotone shape rules break first; a space that would take more
 * than a million steps is checked in part, the default trial first, with a
 * warning.  Given the data's facts (compiler/probe.h), the same walk checks
 * the Input against the samples and the output against the classes; given
 * the memory, each configuration's parameters against it. */
#ifndef HPTC_SHAPES_H
#define HPTC_SHAPES_H
#include "compiler/diag.h"
#include "compiler/ir.h"
#include "compiler/probe.h"

/* What the checks over the space know beyond the IR (filled by sema). */
typedef struct shapes_context {
    bool compile_written;       /* compile(...) is in the spec, even if it had errors, or its
                                   absence was reported already: a network is not an error here */
    bool have_data, have_validation;
    probe_facts data;           /* the data's facts (rank 0, n_classes 0: not known) */
    probe_facts validation;     /* search(validation_data = ...)'s */
    ir_span validation_at;      /* where validation_data was written */
    double memory_bytes;        /* 0: each configuration's size is not checked */
} shapes_context;

/* Check every configuration's shapes; with c (may be NULL), also the model
 * against the data (the Input's size, the output's width against the
 * classes) and each configuration's weights, gradients and optimizer state
 * against memory_bytes, reported at the layer that holds the most.  A layer
 * whose lowering failed (args NULL) ends the walks that reach it, silently.
 * Returns the number of errors reported. */
int shapes_check(const ir_program *p, diag_ctx *d, const shapes_context *c);

/* Output shape of every present layer under one assignment (for the runtime
 * and `hptc space`), each layer run on its inputs' shapes (a merge on all of
 * them).  shapes is n_layers x 4 ints, ranks n_layers; absent layers get
 * rank 0, and a layer reading one gets the shape it passes through (its
 * first input's).  Returns -1 - k with a sentence in why when layer k's rule
 * fails (-1 when out of memory). */
int shapes_infer(const ir_program *p, const ir_assignment *a, int (*shapes)[4], int *ranks, char *why, size_t n);

/* shapes_infer, with each present layer's plan from its rule (its weights
 * and costs, catalogue.h's st_weights) in plans[k] (n_layers of them; an
 * absent layer's all zero), for compiler/cost.c. */
int shapes_plan(const ir_program *p, const ir_assignment *a, int (*shapes)[4], int *ranks, st_weights *plans, char *why,
                size_t n);

/* The facts of a built-in dataset (fashion_mnist, mnist: 28x28, 10 classes)
 * into *f; false for another source. */
bool shapes_builtin_facts(const st_entry *source, probe_facts *f);

#endif
