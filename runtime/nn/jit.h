/* jit.h: the LLVM JIT backend: per-trial fused loops specialised to the
 * trial's exact sizes.
 *
 * A trial describes what it needs as a jit_spec (one jit_layer per layer,
 * the loss's class count, the optimizer and the parameter count); jit_get
 * generates one LLVM module for it, runs LLVM's -O3 pipeline for the host
 * CPU, compiles it with ORC LLJIT and returns the kernels.  Compiled code is
 * cached by a signature of the spec (sizes and structure only: learning
 * rates, dropout rates, momenta are run-time arguments), so trials of the
 * same shape share one compilation, and stays until jit_shutdown.  The
 * cache is safe to use from several threads.
 *
 * The jit_* kernels below have the interface of their kern_* / optim_step
 * counterparts, so the two backends can be compared tensor by tensor; GEMMs
 * stay cblas_sgemm.  In a build without LLVM (no HPTC_JIT) everything here
 * exists, jit_get fails with a message saying so, and nothing else may be
 * called. */
#ifndef HPTC_JIT_H
#define HPTC_JIT_H
#include <stddef.h>
#include <stdint.h>
#include "runtime/err.h"
#include "runtime/nn/kernels.h"
#include "runtime/nn/optim.h"

typedef enum jit_layer_kind {
    JIT_NONE,           /* the layer runs on the BLAS backend's kernels */
    JIT_ELEMENTWISE,    /* bias + activation (+ the following Dropout), forward and/or backward */
    JIT_BATCHNORM       /* BatchNormalization's training-mode reductions, both ways */
} jit_layer_kind;

typedef struct jit_layer {
    jit_layer_kind kind;
    int cols;           /* the last axis: features F, channels C, or softmax's row length */
    kern_act act;       /* forward activation */
    kern_act bwd_act;   /* the one backward differentiates (LINEAR where the loss fused a softmax) */
    int bias;           /* forward adds b (cols), backward accumulates db */
    int keep_z;         /* forward stores the pre-activation z */
    int dropout;        /* a Dropout follows: forward writes its output too, backward applies its mask */
    int forward;        /* generate the forward epilogue (0: only the backward chain, as for Conv2D) */
} jit_layer;

typedef struct jit_spec {
    const jit_layer *layers;
    int n_layers;
    int loss_classes;   /* > 0: the fused sparse softmax cross-entropy over this many classes */
    optim_config opt;   /* only the kind and which terms are present matter for the code */
    size_t n_params;    /* 0: no optimizer kernel */
} jit_spec;

typedef struct jit_code jit_code;

/* Counters of the compile cache, for tests and benchmarks. */
typedef struct jit_stats {
    long compiles, hits;
    double last_compile_ms;     /* the latest jit_get that compiled: generation, -O3 and codegen */
    double last_lookup_ms;      /* the latest jit_get, compiled or cached */
    double startup_ms;          /* once per process: LLVM's target and the LLJIT (not in the above) */
} jit_stats;

/* 1 when this build has the JIT backend. */
int jit_available(void);

/* "LLVM 16.0.6, host CPU sapphirerapids, AVX-512" (or why there is none). */
void jit_describe(char *buf, size_t n);

/* The compiled kernels for spec, from the cache or compiled now.  NULL with e
 * filled when this build has no JIT or LLVM fails.  The code lives until
 * jit_shutdown. */
const jit_code *jit_get(const jit_spec *spec, hpt_error *e);

/* The module jit_get would compile, as LLVM IR text after the -O3 pipeline
 * (optimized 1) or as generated (0); malloc'd, the caller frees it.  NULL
 * with e filled as jit_get. */
char *jit_emit_ir(const jit_spec *spec, int optimized, hpt_error *e);

void jit_get_stats(jit_stats *s);

/* Release every compiled kernel and LLVM itself (tests, process exit).  No
 * jit_code may be used afterwards; a later jit_get starts afresh. */
void jit_shutdown(void);

/* ------------------------------------------------------------------ kernels
 * `layer` indexes spec->layers; rows are batch rows (times spatial
 * positions), the column count is the spec's.  `key` and `rate` are the
 * Dropout's (kern_dropout_forward's mask, bit for bit); ignored when the
 * spec has no dropout for the layer. */

/* y = act(src + b) over (rows, cols); z (keep_z) gets src + b; ydrop, when
 * non-NULL and the spec fuses a Dropout, gets the Dropout's output.  src may
 * equal y. */
void jit_forward(const jit_code *c, int layer, const float *src, float *y, float *z, const float *b,
                 size_t rows, float *ydrop, float rate, uint64_t key);

/* dy becomes dz in place: the Dropout's mask (if fused), then the
 * activation's derivative (from y, or z for GELU); db += colsum(dz). */
void jit_backward(const jit_code *c, int layer, const float *y, const float *z, float *dy, float *db,
                  size_t rows, float rate, uint64_t key);

/* kern_dense_forward / kern_dense_backward with the epilogue and the
 * backward chain generated; ydrop as jit_forward. */
void jit_dense_forward(const jit_code *c, int layer, const float *x, const float *w, const float *b, float *y,
                       float *z, float *ydrop, int B, int in, int out, float rate, uint64_t key);
void jit_dense_backward(const jit_code *c, int layer, const float *x, const float *w, const float *y,
                        const float *z, float *dy, float *dx, float *dw, float *db, int B, int in, int out,
                        float rate, uint64_t key);

/* kern_sparse_softmax_ce fused with kern_accuracy_sparse over scores
 * (*correct, may be NULL); dlogits may be NULL. */
double jit_sparse_softmax_ce(const jit_code *c, const float *logits, const float *scores, const int32_t *labels,
                             float *dlogits, int B, int *correct);

/* optim_step over the spec's n_params in one fused loop. */
void jit_optim_step(const jit_code *c, const optim_config *cfg, float *params, const float *grads, float *state,
                    long step);
/* The same in ranges, as optim_prepare/optim_update: the step's scalars
 * once, then any range [lo, hi) of the n_params, each element once. */
#define JIT_OPTIM_SCALARS 16
void jit_optim_prepare(const optim_config *cfg, long step, float k[JIT_OPTIM_SCALARS]);
void jit_optim_update(const jit_code *c, const float k[JIT_OPTIM_SCALARS], float *params, const float *grads,
                      float *state, size_t lo, size_t hi);

/* kern_batchnorm_forward_train / kern_batchnorm_backward (gamma and beta
 * present, as the runtime always allocates them). */
void jit_batchnorm_forward_train(const jit_code *c, int layer, const float *x, float *y, const float *gamma,
                                 const float *beta, float *moving_mean, float *moving_var, size_t N,
                                 float momentum, float epsilon, float *state);
void jit_batchnorm_backward(const jit_code *c, int layer, const float *x, const float *dy, float *dx,
                            const float *gamma, float *dgamma, float *dbeta, size_t N, float *state);

#endif
