/* kernels.h: the numerical kernels networks are trained with.
 *
 * Forward/backward pairs over raw float buffers in Keras's layout: batch
 * first, row-major, images NHWC (channels_last).  A Dense kernel is
 * (in, out), a Conv2D kernel (kh, kw, cin, cout), a bias (out).
 *
 * Conventions every pair keeps:
 *  - backward ACCUMULATES into parameter gradients (dw += ..., db += ...),
 *    so the trainer zeroes the gradient buffer once per step;
 *  - backward OVERWRITES the input gradient dx; dx may be NULL when nobody
 *    wants it (the first layer), and that work is skipped;
 *  - nothing allocates: scratch comes from the caller, sized by the
 *    kern_*_scratch_* function next to the kernel;
 *  - every GEMM is cblas_sgemm on the calling thread's BLAS.
 * Shapes are trusted (the compiler checked them); sizes are ints, element
 * counts of whole tensors size_t. */
#ifndef HPTC_KERNELS_H
#define HPTC_KERNELS_H
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ activations */

/* Keras activations.  GELU is the exact erf form (Keras's default
 * approximate=False); SOFTMAX is over the last axis. */
typedef enum kern_act { KERN_LINEAR, KERN_RELU, KERN_TANH, KERN_SIGMOID, KERN_GELU, KERN_SOFTMAX } kern_act;

/* 1 when the derivative of act needs the pre-activation z = x·W + b kept by
 * the forward pass (GELU only); LINEAR, RELU, TANH, SIGMOID and SOFTMAX
 * differentiate from the output y alone. */
int kern_act_needs_z(kern_act act);

/* The Activation layer: y = act(x), softmax over each row of `cols`.  y may
 * equal x (then GELU's backward has lost its input: keep x). */
void kern_act_forward(const float *x /* (rows, cols) */, float *y /* (rows, cols) */,
                      size_t rows, int cols, kern_act act);

/* dx = act'(x) ⊙ dy, for softmax the Jacobian-vector product
 * y ⊙ (dy - <dy, y>) per row.  x is read only for GELU (may be NULL
 * otherwise; GELU with x NULL yields NaN so the mistake shows), y is read
 * for the others.  dx may equal dy (in place). */
void kern_act_backward(const float *x /* (rows, cols) pre-activation */,
                       const float *y /* (rows, cols) output */,
                       const float *dy /* (rows, cols) */, float *dx /* (rows, cols) */,
                       size_t rows, int cols, kern_act act);

/* ------------------------------------------------------------------ Dense */

/* y = act(x·w + b): one GEMM, then bias and activation in one vectorised
 * pass over y.  b may be NULL (use_bias=False).  When z is non-NULL it
 * receives x·w + b; the caller must keep it for backward when
 * kern_act_needs_z(act).  For SOFTMAX, z holds the logits, which is what
 * the fused cross-entropy losses below want. */
void kern_dense_forward(const float *x /* (B, in) */, const float *w /* (in, out) */,
                        const float *b /* (out) or NULL */, float *y /* (B, out) */,
                        float *z /* (B, out) or NULL */, int B, int in, int out, kern_act act);

/* Given dy = dL/dy, computes dz = dL/dz IN PLACE in dy (dy is clobbered),
 * then db += colsum(dz), dw += xᵀ·dz, dx = dz·wᵀ (dx NULL: skipped).
 * z is read only for GELU; y for the other activations. */
void kern_dense_backward(const float *x /* (B, in) */, const float *w /* (in, out) */,
                         const float *y /* (B, out) */, const float *z /* (B, out) or NULL */,
                         float *dy /* (B, out), becomes dz */, float *dx /* (B, in) or NULL */,
                         float *dw /* (in, out) += */, float *db /* (out) += or NULL */,
                         int B, int in, int out, kern_act act);

/* ------------------------------------------------ Conv2D and pooling shape */

/* Output length of one spatial axis: "valid" floor((in - k) / s) + 1,
 * "same" ceil(in / s).  0 when the window does not fit (valid, in < k) or an
 * argument is not positive. */
int kern_conv_out_size(int in, int k, int stride, int same);

/* The geometry of a 2-D window op.  Padding is TF's: for "same",
 * pad_total = max((out - 1) * s + k - in, 0) and the smaller half,
 * pad_total / 2, goes before (top/left). */
typedef struct kern_geom {
    int B, H, W, C;        /* input (B, H, W, C) */
    int kh, kw, sh, sw;    /* window and strides */
    int same;              /* 1 "same", 0 "valid" */
    int OH, OW;            /* output (B, OH, OW, F) */
    int pad_top, pad_left;
    int F;                 /* conv: filters; pooling: C */
    int chunk;             /* conv: images per im2col GEMM (<= B) */
} kern_geom;

/* Fill g for a Conv2D with F filters.  Returns 0, or -1 when a size is not
 * positive or the output would be empty. */
int kern_conv_geom(kern_geom *g, int B, int H, int W, int C, int F,
                   int kh, int kw, int sh, int sw, int same);

/* Fill g for a pooling layer (Keras's strides default to the pool size; the
 * caller resolves that).  Returns 0 or -1 as kern_conv_geom. */
int kern_pool_geom(kern_geom *g, int B, int H, int W, int C,
                   int ph, int pw, int sh, int sw, int same);

/* ----------------------------------------------------------------- Conv2D */

/* Floats of scratch both conv kernels need: one im2col block of
 * chunk·OH·OW rows by kh·kw·C, or 0 for a 1x1 stride-1 conv, which needs no
 * im2col.  Non-decreasing in B, so size it for the largest batch. */
size_t kern_conv2d_scratch_floats(const kern_geom *g);

/* y = act(conv(x, w) + b), im2col + one sgemm per chunk of images, bias and
 * activation fused in one pass.  z as for Dense. */
void kern_conv2d_forward(const kern_geom *g, const float *x /* (B, H, W, C) */,
                         const float *w /* (kh, kw, C, F) */, const float *b /* (F) or NULL */,
                         float *y /* (B, OH, OW, F) */, float *z /* (B, OH, OW, F) or NULL */,
                         kern_act act, float *scratch);

/* dy becomes dz in place; db += Σ dz, dw += colᵀ·dz, dx = col2im(dz·wᵀ)
 * (dx NULL: skipped). */
void kern_conv2d_backward(const kern_geom *g, const float *x /* (B, H, W, C) */,
                          const float *w /* (kh, kw, C, F) */, const float *y /* (B, OH, OW, F) */,
                          const float *z /* (B, OH, OW, F) or NULL */,
                          float *dy /* (B, OH, OW, F), becomes dz */,
                          float *dx /* (B, H, W, C) or NULL */,
                          float *dw /* (kh, kw, C, F) += */, float *db /* (F) += or NULL */,
                          kern_act act, float *scratch);

/* ---------------------------------------------------------------- pooling */

/* int32 slots max pooling's argmax needs: one per output element. */
size_t kern_maxpool2d_scratch_ints(const kern_geom *g);

/* y = max over each window (padding never wins).  argmax, when non-NULL,
 * receives for each output the flat index (h·W + w)·C + c of the winner
 * inside its image, the first maximum in row-major window order on ties. */
void kern_maxpool2d_forward(const kern_geom *g, const float *x /* (B, H, W, C) */,
                            float *y /* (B, OH, OW, C) */, int32_t *argmax /* (B, OH, OW, C) or NULL */);

/* dx = 0, then each dy is added to its window's argmax. */
void kern_maxpool2d_backward(const kern_geom *g, const float *dy /* (B, OH, OW, C) */,
                             float *dx /* (B, H, W, C) */, const int32_t *argmax /* (B, OH, OW, C) */);

/* y = mean over the valid cells of each window: with "same" padding the
 * divisor is the count of cells inside the image, as TF does. */
void kern_avgpool2d_forward(const kern_geom *g, const float *x /* (B, H, W, C) */,
                            float *y /* (B, OH, OW, C) */);
void kern_avgpool2d_backward(const kern_geom *g, const float *dy /* (B, OH, OW, C) */,
                             float *dx /* (B, H, W, C) */);

/* ------------------------------------------------------ BatchNormalization */

/* Floats of per-layer state BN needs: 6·C.  The first 2·C (batch mean and
 * 1/sqrt(var + eps)) are written by forward_train and read by backward, so
 * the block belongs to the layer for the whole step; the rest is scratch. */
size_t kern_batchnorm_scratch_floats(int C);

/* Training mode over the last axis of x seen as (N, C): normalise with the
 * batch mean and biased batch variance, y = (x - mean)/sqrt(var + eps)·gamma
 * + beta (gamma/beta NULL: scale/center off), and update
 * moving = moving·momentum + batch·(1 - momentum).  Keras defaults:
 * momentum 0.99, epsilon 1e-3. */
void kern_batchnorm_forward_train(const float *x /* (N, C) */, float *y /* (N, C) */,
                                  const float *gamma /* (C) or NULL */, const float *beta /* (C) or NULL */,
                                  float *moving_mean /* (C) */, float *moving_var /* (C) */,
                                  size_t N, int C, float momentum, float epsilon, float *state);

/* Inference mode: the moving statistics instead of the batch's. */
void kern_batchnorm_forward_infer(const float *x /* (N, C) */, float *y /* (N, C) */,
                                  const float *gamma /* (C) or NULL */, const float *beta /* (C) or NULL */,
                                  const float *moving_mean /* (C) */, const float *moving_var /* (C) */,
                                  size_t N, int C, float epsilon);

/* The gradient through training mode (batch statistics included):
 * dgamma += Σ dy·x̂, dbeta += Σ dy, dx = gamma/σ·(dy - mean(dy) - x̂·mean(dy·x̂)).
 * state is the block forward_train filled. */
void kern_batchnorm_backward(const float *x /* (N, C) */, const float *dy /* (N, C) */,
                             float *dx /* (N, C) or NULL */, const float *gamma /* (C) or NULL */,
                             float *dgamma /* (C) += or NULL */, float *dbeta /* (C) += or NULL */,
                             size_t N, int C, float *state);

/* ----------------------------------------------------- LayerNormalization */

/* Each row of x seen as (N, F) normalised over its F features, in training
 * and at inference alike: y = (x - mean)/sqrt(var + eps)·gamma + beta, with
 * the row's mean and biased variance (gamma/beta NULL: scale/center off).
 * state (2·N floats) gets each row's mean and 1/sqrt(var + eps) for
 * backward.  Keras's default epsilon is 1e-3. */
void kern_layernorm_forward(const float *x /* (N, F) */, float *y /* (N, F) */,
                            const float *gamma /* (F) or NULL */, const float *beta /* (F) or NULL */,
                            size_t N, int F, float epsilon, float *state /* (2N) */);

/* dgamma += Σ_rows dy·x̂, dbeta += Σ_rows dy, and per row, with g = dy·gamma,
 * dx = inv·(g - mean(g) - x̂·mean(g·x̂)).  state is forward's. */
void kern_layernorm_backward(const float *x /* (N, F) */, const float *dy /* (N, F) */,
                             float *dx /* (N, F) or NULL */, const float *gamma /* (F) or NULL */,
                             float *dgamma /* (F) += or NULL */, float *dbeta /* (F) += or NULL */,
                             size_t N, int F, const float *state /* (2N) */);

/* ---------------------------------------------------------------- Dropout */

/* Inverted dropout: y = x·s, s = 1/(1 - rate), where kept, 0 where
 * dropped (TF multiplies by the reciprocal too).  The mask is a pure
 * function of (key, element index): element i is kept when the 16-bit lane
 * i % 4 of rng_at(key, i / 4) is >= round(rate·65536), so backward
 * recomputes it and a step is reproducible (rate is resolved to 1/65536).
 * The runtime derives a fresh key per layer and step.  y may equal x. */
void kern_dropout_forward(const float *x, float *y, size_t n, float rate, uint64_t key);
/* dx = dy·s where the same mask kept, else 0.  dx may equal dy. */
void kern_dropout_backward(const float *dy, float *dx, size_t n, float rate, uint64_t key);

/* ----------------------------------------------------------------- losses */

/* Every loss returns its mean over the batch (Keras's sum_over_batch_size)
 * and, when the gradient pointer is non-NULL, writes dL/d(input) already
 * divided by B.  Labels must lie in [0, K); a row with a bad label adds NaN
 * to the loss and gets a zero gradient. */

/* Sparse categorical cross-entropy from logits, fused with the softmax:
 * mean(logsumexp(z) - z[label]), the row max subtracted first so logits of
 * ±1000 are fine; dz = (softmax(z) - onehot)/B.
 *
 * When the last layer is a softmax and the loss is "from probabilities",
 * the runtime calls this on the pre-softmax values instead (as Keras's TF
 * backend does): exactly the same loss and gradient except where Keras
 * would clip a probability to [1e-7, 1 - 1e-7], i.e. where the model is
 * confidently wrong (loss > 16.1) or right (p > 1 - 1e-7); there the fused
 * form gives the true, larger loss and a non-zero gradient. */
double kern_sparse_softmax_ce(const float *logits /* (B, K) */, const int32_t *labels /* (B) */,
                              float *dlogits /* (B, K) or NULL */, int B, int K);

/* Categorical cross-entropy from logits with a target distribution (one-hot
 * or soft): -Σ t·log softmax(z); dz = (softmax(z)·Σt - t)/B. */
double kern_softmax_ce(const float *logits /* (B, K) */, const float *target /* (B, K) */,
                       float *dlogits /* (B, K) or NULL */, int B, int K);

/* From probabilities, as Keras 3: p is renormalised to sum 1 per row,
 * clipped to [1e-7, 1 - 1e-7], and the loss is -Σ t·log p.  The gradient
 * is that of this exact function (zero through a clipped entry). */
double kern_ce_probs(const float *probs /* (B, K) */, const float *target /* (B, K) */,
                     float *dprobs /* (B, K) or NULL */, int B, int K);
double kern_sparse_ce_probs(const float *probs /* (B, K) */, const int32_t *labels /* (B) */,
                            float *dprobs /* (B, K) or NULL */, int B, int K);

/* Mean squared error over batch and features: Σ (p - t)² / (B·F);
 * dp = 2(p - t)/(B·F). */
double kern_mse(const float *pred /* (B, F) */, const float *target /* (B, F) */,
                float *dpred /* (B, F) or NULL */, int B, int F);

/* Rows whose argmax (the first one on ties) equals the label / the argmax
 * of the one-hot target: Keras's (sparse_)categorical_accuracy, as a count. */
int kern_accuracy_sparse(const float *scores /* (B, K) */, const int32_t *labels /* (B) */, int B, int K);
int kern_accuracy_onehot(const float *scores /* (B, K) */, const float *target /* (B, K) */, int B, int K);

/* ----------------------------------------------------------- initialisers */

/* Keras glorot_uniform: U(-l, l), l = sqrt(6 / (fan_in + fan_out)), element
 * i drawn from rng_at(key, i).  Dense: fan_in = in, fan_out = out; Conv2D:
 * fan_in = kh·kw·cin, fan_out = kh·kw·cout. */
void kern_glorot_uniform(float *w, size_t n, int fan_in, int fan_out, uint64_t key);
void kern_fill(float *w, size_t n, float value);
void kern_zeros(float *w, size_t n);
void kern_ones(float *w, size_t n);

#endif
