/* layers.h: the layer-operations table.  Each layer kind the runtime can
 * train lives in one file of runtime/nn/layers/ that fills one layer_ops row
 * (its plan, sizes, init, forward, backward and its JIT description); the
 * table is indexed by the catalogue id (ST_Dense, ...).  trial.c walks the
 * layers and calls their rows: it knows no layer kind.
 *
 * A layer's shape and weight tensors come from the catalogue's shape rule
 * (st_layer_plan), so the checker's memory bound and the runtime's layout
 * are one rule; the row's plan reads the rest of the evaluated arguments
 * (activation, geometry, rates) into the trial_layer.  Adding a layer: one
 * catalogue row and shape rule, one file here, its row in layers.c's table,
 * and its kernels in kernels.c when it needs new ones. */
#ifndef HPTC_LAYERS_H
#define HPTC_LAYERS_H
#include <stddef.h>
#include <stdint.h>
#include "compiler/ir.h"
#include "runtime/nn/jit.h"
#include "runtime/nn/kernels.h"
#include "stdlib/catalogue.h"

typedef struct trial_layer trial_layer;
typedef struct layer_ops layer_ops;
struct onnx_graph;   /* runtime/nn/onnx.h */

/* One layer of an expanded trial: its plan (shapes, weights, settings) and
 * its views into the trial's buffers, pointed once by trial_expand. */
struct trial_layer {
    const ir_call *call;
    const layer_ops *ops;
    int index;                  /* position in the trial (0 is the Input): keys dropout masks, names JIT code */
    /* The layers whose outputs this one reads, in order: the one before it
     * in a stack; a merge layer's branches (ir_call.inputs, with absent
     * layers passed through).  None for the Input. */
    trial_layer *from[ST_MAX_INPUTS];
    int n_from;
    /* The layer after, when it is this one's only reader (a following
     * Dropout can then be fused into this layer's output pass); else NULL. */
    trial_layer *next;
    int in[3], in_rank, outs[3], out_rank;
    size_t in_size, out_size;   /* per sample */
    /* Weight tensors, in the shape rule's (Keras's get_weights) order: n_trainable
     * trained ones, then n_stats statistics; a size may be 0 (no bias). */
    int n_trainable, n_stats;
    size_t size[ST_MAX_TENSORS];
    float *weight[ST_MAX_TENSORS];  /* into the trial's parameters */
    float *grad[ST_MAX_TENSORS];    /* into its gradients (trainable tensors only) */
    const char *initializer;    /* Dense and Conv2D kernels */
    kern_act act;
    float rate, momentum, epsilon;
    int kh, kw, sh, sw, same;   /* Conv2D and pooling */
    kern_act cell_act, gate_act;    /* LSTM and GRU: activation, recurrent_activation */
    int return_sequences, unit_forget_bias; /* LSTM and GRU (the second LSTM only) */
    const char *recurrent_initializer; /* LSTM and GRU */
    float *y, *z;               /* (max_batch, out_size); z only when needed */
    float *out;                 /* this forward's output: y, or a view of the input */
    float *scratch;             /* im2col block / normalisation state */
    int32_t *argmax;            /* MaxPooling2D */
    double flops;               /* forward, per sample */
    int drop_fused;             /* JIT: the previous layer's epilogue writes this Dropout's output */
    /* The layer's own kernel state (oneDNN primitives, weights packed for
     * its GEMMs), made on first use and freed by its row's release. */
    void *kernel_state;
    /* Set by forward: this step's backward OVERWRITES the layer's parameter
     * gradients (Dense on oneDNN) rather than accumulating into them, so the
     * trial need not zero them first. */
    int sets_grads;
};

/* The optimizer's update of params[lo, hi) (trial.c's, for fused_update). */
typedef void (*layer_update_fn)(void *ctx, size_t lo, size_t hi);

/* What a forward or backward needs from the trial besides its layer. */
typedef struct layer_run {
    int B;                      /* samples in the batch */
    int training;               /* dropout on, batch statistics */
    long step;                  /* keys dropout masks */
    uint64_t dropout_seed;      /* rng_key(trial seed, RNG_DROPOUT) */
    const jit_code *jit;        /* NULL: the BLAS backend's kernels */
    int skip_act;               /* backward: the loss already differentiated this layer's activation */
    int bf16;                   /* mixed_bfloat16: GEMM operands in bf16, everything else f32 */
    /* Changes whenever the trial's weights may have changed (an optimizer
     * step, a load): a layer that keeps its weights packed repacks them when
     * this differs from the version it packed. */
    unsigned long weights_version;
} layer_run;

/* The arena regions a layer takes for batches of up to B samples. */
typedef struct layer_sizes {
    size_t y;                   /* floats of output; 0 for a view (Flatten, Reshape) */
    size_t scratch;             /* floats of scratch */
    size_t ints;                /* int32 of scratch (argmax) */
} layer_sizes;

enum {
    LAYER_BLAS = 1 << 0,        /* runs on the BLAS backend's C kernels (every row today) */
    LAYER_JIT = 1 << 1,         /* has code in the JIT backend (its jit function); without it the layer
                                 * runs its C kernels under --backend jit too */
    LAYER_ACT_OF_INPUT = 1 << 2,/* applies its activation to its input (Activation): a fused loss reads the input */
};

struct layer_ops {
    int flags;                  /* LAYER_* */
    /* After the shape rule: read the arguments into L (activation, geometry,
     * rates) and count its forward FLOPs.  0, or -1 with why filled. */
    int (*plan)(trial_layer *L, const hpt_value *args, char *why, size_t n);
    void (*sizes)(const trial_layer *L, size_t B, layer_sizes *s);
    /* Keras's initial weights; key is the layer's draw.  NULL: all zeros. */
    void (*init)(trial_layer *L, uint64_t key);
    /* Set L->out from x (B, in_size). */
    void (*forward)(trial_layer *L, const layer_run *r, const float *x);
    /* dy (B, out_size) to dx (B, in_size; NULL for the first layer: no
     * input gradient), accumulating into L->grad.  Returns 1 when the
     * gradient is now in dx, 0 when it stayed in dy (in place). */
    int (*backward)(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx);
    /* The layer's part of the JIT spec (LAYER_JIT only); last_fused: the
     * loss fused this last layer's softmax. */
    void (*jit)(const trial_layer *L, int last_fused, jit_layer *J);
    /* Free L->kernel_state (NULL: the layer keeps none). */
    void (*release)(trial_layer *L);
    /* The optimizer's update of this layer's trainable tensors (one flat
     * range from L->weight[0], `offset` floats into the parameters), run by
     * the layer so that it can pack its kernel in the same pass while the
     * fresh values are in cache: it calls update(ctx, lo, hi) on ranges of
     * the parameters covering its tensors once each, and records
     * r->weights_version (the version after this step) as packed.  Returns 0
     * when it has nothing to fuse this run (the trial updates the range
     * itself).  NULL: never. */
    int (*fused_update)(trial_layer *L, const layer_run *r, layer_update_fn update, void *ctx, size_t offset);
    /* Merge layers only (Add, Concatenate, Residual): forward reads every
     * input, L->from[k]->out (x is the first's); backward is not called,
     * this is, once per input i in order: write input i's gradient into dx
     * (overwriting it; dx NULL: no input gradient is wanted, only the
     * gradients of the weights on that input's path), reading dy, which it
     * leaves as it is. */
    void (*backward_input)(trial_layer *L, const layer_run *r, const float *dy, int i, float *dx);
    /* The layer's inference graph in ONNX (runtime/nn/onnx.h's builder): read
     * the inputs, write nodes and initializers, set the output.  0, or -1
     * (onnx_fail says why).  NULL: the layer cannot be exported. */
    int (*onnx)(const trial_layer *L, struct onnx_graph *g);
};

/* The row of a catalogue entry, or NULL when the runtime has no kernels for it. */
const layer_ops *layer_ops_of(const st_entry *e);

/* The layer's plan: shape rule (st_layer_plan, or st_merge_plan over every
 * input's shape for a merge layer), weight sizes, then its row's plan.
 * L->from, n_from, in and in_rank set (in: the first input's shape); fills
 * the rest.  0, or -1 with why. */
int layer_plan(trial_layer *L, const hpt_value *args, char *why, size_t n);

/* Elements of every weight tensor, trainable and statistics. */
size_t layer_weight_count(const trial_layer *L);

/* Helpers the rows share. */
kern_act layer_act_of(hpt_value v);
void layer_init_kernel(float *w, size_t n, int fan_in, int fan_out, const char *how, uint64_t key);
uint64_t layer_dropout_key(const layer_run *r, int layer);
/* The next layer is a Dropout the JIT backend fuses into this layer's epilogue. */
int layer_fuses_dropout(const trial_layer *next);

/* The JIT's bias + activation epilogue of a Dense, Conv2D (forward 0: its
 * backward chain only) or Activation layer, with a following Dropout fused in. */
void layer_jit_elementwise(const trial_layer *L, int last_fused, int forward, jit_layer *J);

#endif
