/* cost.c: a configuration's parameters, FLOPs and training memory (cost.h).
 *
 * One walk of the layers under the assignment (shapes_plan: the same shape
 * rules the checker and the runtime run, each giving its layer's weight
 * tensors and costs in a st_weights), then sums:
 *
 *   params  the trainable tensors' elements: what the runtime allocates as
 *           its parameters (the runtime lays its buffer out by the same rule);
 *   flops   the rules' forward FLOPs per sample (the runtime's summary
 *           prints the same sum);
 *   memory  what runtime/nn/trial.c's point_buffers allocates for a batch of
 *           search(batch_size = ...) samples, in bytes (floats of 4 bytes):
 *             weights + statistics, gradients, optimizer state (per
 *             trainable parameter: Adam 2, RMSprop 1, SGD 0, with momentum
 *             one more: st_optimizer_state);
 *             the input batch, each present layer's output (none for a view:
 *             Flatten, Reshape), what it keeps for its backward pass
 *             (st_weights.kept: gates, pooling winners) and its workspace
 *             (an im2col block);
 *             the two gradient buffers as large as the largest activation,
 *             and for a graph (a merge layer) each layer's own gradient and
 *             one more sum buffer; the batch's targets.
 *           Approximated: the pre-activation some layers keep (gelu's, the
 *           last layer's when the loss fuses its softmax) is left out, as
 *           are the global max poolings' winners over sequences; a graph's
 *           gradients are counted for every layer (the runtime skips those
 *           without trainable weights upstream); the im2col block is sized
 *           for 1024 output rows even when the batch is smaller.  Not
 *           counted at all: the data set, the process itself (libraries,
 *           oneDNN's primitives and packed weights), the copy of the best
 *           weights a search keeps, allocator overhead.  A measured peak RSS
 *           is therefore higher (docs/language.md states the ratio seen). */
#include "compiler/cost.h"

#include <stdio.h>
#include <stdlib.h>

#include "compiler/shapes.h"

/* An argument of compile(...) or search(...) under the assignment, or V_NONE. */
static hpt_value call_arg(const ir_program *p, const ir_call *c, int arg, const ir_assignment *a, arena *scratch)
{
    hpt_value v = value_none();
    char why[160];
    if (!c->entry || !c->args || ir_eval(p, c->args[arg], a, scratch, &v, why, sizeof why)) return value_none();
    return v;
}

int cost_of(const ir_program *p, const ir_assignment *a, model_cost *out, char *why, size_t why_len)
{
    *out = (model_cost){ 0 };
    if (p->n_layers == 0) return 0;
    size_t n = (size_t)p->n_layers;
    int (*shapes)[4] = malloc(n * sizeof *shapes);
    int *ranks = malloc(n * sizeof *ranks);
    st_weights *plans = malloc(n * sizeof *plans);
    if (!shapes || !ranks || !plans) {
        free(shapes), free(ranks), free(plans);
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    int rc = shapes_plan(p, a, shapes, ranks, plans, why, why_len);
    if (rc == 0) {
        arena scratch = { 0 };
        hpt_value batch = call_arg(p, &p->search, search_batch_size, a, &scratch);
        double B = batch.type == V_INT && batch.u.i > 0 ? (double)batch.u.i : 32;     /* Keras's default */
        int opt = p->compile.entry ? st_optimizer_state(call_arg(p, &p->compile, compile_optimizer, a, &scratch)) : 0;
        arena_free(&scratch);
        if (opt < 0) opt = 2;   /* not known: the most any optimizer keeps */
        double params = 0, stats = 0, floats = 0, largest = 0, outputs = 0, last = 0;
        bool graph = false;
        for (size_t k = 0; k < n; k++) {
            if (!ranks[k]) continue;    /* absent */
            double trainable, statistics, size = 1;
            st_weights_count(&plans[k], &trainable, &statistics);
            params += trainable, stats += statistics;
            out->flops += plans[k].flops;
            for (int j = 0; j < ranks[k]; j++) size *= shapes[k][j];
            if (size > largest) largest = size;
            last = size;
            graph = graph || p->layers[k].n_inputs > 1;
            /* The Input's value is the batch itself; a view has no buffer of its own. */
            if (!plans[k].view) floats += B * size, outputs += size;
            floats += B * plans[k].kept + plans[k].workspace;
        }
        floats += 2 * B * largest + B * last;                       /* gradient buffers, targets */
        if (graph) floats += B * outputs + B * largest;             /* each layer's gradient, their sum */
        floats += params * (2 + opt) + stats;                       /* weights, gradients, optimizer, statistics */
        out->params = params;
        out->memory_bytes = 4 * floats;
    }
    free(shapes), free(ranks), free(plans);
    return rc ? -1 : 0;
}
