/* matmul.h: a Dense layer's GEMMs on oneDNN's matmul primitives, with the
 * kernel kept packed between steps.
 *
 * The f32 kernel in Keras's layout (in, out) stays the master copy: the
 * optimizer updates it, checkpoints and export read it.  In float32,
 * oneDNN's brgemm reads it in place: no GEMM call repacks it (OpenBLAS
 * repacks it on every call at M = 32).  Under mixed_bfloat16 this module
 * keeps a bf16 copy in the blocked VNNI layout the bf16 kernels read,
 * written by the optimizer's own pass (dense_mm_pack_rows), or by a reorder
 * when the weights changed otherwise.  Under mixed_bfloat16
 * the forward keeps its input in bf16 for the weight gradient, and the
 * backward's dz goes to bf16 in the pass that makes it, so each operand is
 * converted once per step.
 *
 * oneDNN was chosen by bench/gemm_rate.c at the trials' shapes (NOTES.md,
 * issue 13): at the seed MLP's 32x784x512 its packed f32 brgemm runs the
 * forward at 1.96x OpenBLAS's sgemm, dz·Wᵀ at 1.79x, xᵀ·dz at 1.16x, and its
 * bf16 kernels at 2.1-4x; OpenBLAS has no bf16 GEMM.  libxsmm 1.17 is as fast
 * in bf16 but has no packed-weights or post-op machinery to build on.
 *
 * Primitives are made per batch size (the full batch, the last one, an
 * evaluation's) in a small cache; oneDNN's own primitive cache makes a
 * second trial of the same shape cheap. */
#ifndef HPTC_MATMUL_H
#define HPTC_MATMUL_H
#include "runtime/err.h"
#include <stdint.h>
#include "runtime/nn/kernels.h"

typedef struct dense_mm dense_mm;

/* A Dense of in -> out, bias or not, in bf16 or f32, applying act in the
 * GEMM's output pass (dense_mm_fuses(act) must hold; KERN_LINEAR leaves
 * x·W + b).  NULL with e filled when oneDNN cannot make an engine or memory
 * is short; its primitives are made on first use. */
dense_mm *dense_mm_new(int in, int out, int has_bias, int bf16, kern_act act, hpt_error *e);
void dense_mm_free(dense_mm *m);

/* The activations oneDNN applies in the GEMM's output pass (as a post-op);
 * others (GELU, softmax) leave z = x·W + b for the caller's pass. */
int dense_mm_fuses(kern_act act);

/* y = act(x·W + b) for the first B rows of x, w being the master kernel at
 * weights version `version` (repacked only when it changed).  Under bf16, x
 * is kept (converted) for dense_mm_backward. */
int dense_mm_forward(dense_mm *m, const float *x, const float *w, unsigned long version, const float *b,
                     float *y, int B, hpt_error *e);

/* Given dz (B, out) = dL/d(x·W + b): dw = xᵀ·dz and db = colsum(dz), both
 * OVERWRITTEN (a Dense's gradients have no other term), dx = dz·Wᵀ (dx NULL:
 * skipped).  x is the forward's input (its bf16 copy under bf16).  When
 * oneDNN fails (out of memory), the step's GEMMs still run, in f32 on
 * OpenBLAS, and -1 says so with e filled. */
int dense_mm_backward(dense_mm *m, const float *x, const float *dz, const float *w, unsigned long version,
                      float *dx, float *dw, float *db, int B, hpt_error *e);

/* 1 when the layer keeps its own copy of the kernel (bf16, VNNI-packed);
 * 0 when oneDNN reads the f32 master as it is (float32: measured faster than
 * packing a copy every step, whose writes cost more than the packed layout
 * saves in the GEMM). */
int dense_mm_keeps_copy(const dense_mm *m);

/* Packing fused with the optimizer: when the forward's packed layout is one
 * this module writes itself (dense_mm_pack_rows_known, true once a forward
 * has run), the caller updates the master rows [k0, k1) and packs them at
 * once, while they are in cache, k0 a multiple of dense_mm_pack_rows_step
 * and k1 too unless it is `in`; then dense_mm_set_packed records the
 * version the packed copy now holds, and the next forward does not repack. */
int dense_mm_pack_rows_known(const dense_mm *m);
int dense_mm_pack_rows_step(const dense_mm *m);
void dense_mm_pack_rows(dense_mm *m, const float *w, int k0, int k1);
void dense_mm_set_packed(dense_mm *m, unsigned long version);

/* What this thread's Dense layers spent, for benchmarks (bench/step_rate.c):
 * ticks of the time-stamp counter inside GEMM primitives, inside packing by
 * reorder (the weights changed outside a step), inside the bf16 shadow's
 * writes fused into the optimizer's pass, and the GEMMs' FLOPs.  Counting
 * costs a few nanoseconds a call. */
typedef struct dense_mm_stats {
    uint64_t gemm_ticks, pack_ticks, shadow_ticks;
    double gemm_flops;
} dense_mm_stats;
dense_mm_stats dense_mm_get_stats(void);


#endif
