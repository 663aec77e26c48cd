/* losses.h: the element-wise losses of binary classification and
 * regression, each with its gradient, as Keras 3 computes them.
 *
 * Each takes predictions and targets of one shape (B, K), returns the mean
 * over all B·K elements (Keras averages over the last axis, then over the
 * batch: the same thing) and, when the gradient pointer is non-NULL, writes
 * d loss / d prediction there (overwriting it).  Sums run in double.  The
 * multi-class losses live in kernels.h (kern_sparse_softmax_ce, kern_mse). */
#ifndef HPTC_LOSSES_H
#define HPTC_LOSSES_H

/* Binary cross-entropy on logits, TensorFlow's sigmoid_cross_entropy_with_logits:
 * max(x, 0) - x·y + log(1 + exp(-|x|)), stable for any x; dx = (σ(x) - y)/(B·K).
 * This is what a sigmoid output fused into the loss computes. */
double loss_bce_logits(const float *x /* (B, K) */, const float *y /* (B, K) */, float *dx /* (B, K) or NULL */,
                       int B, int K);
/* Binary cross-entropy on probabilities, as Keras: p clipped to [1e-7, 1 - 1e-7],
 * -(y·log p + (1 - y)·log(1 - p)); the gradient of exactly that (zero
 * through a clipped entry). */
double loss_bce_probs(const float *p /* (B, K) */, const float *y /* (B, K) */, float *dp /* (B, K) or NULL */,
                      int B, int K);
/* Mean absolute error |p - y|; dp = sign(p - y)/(B·K), 0 where p == y (TensorFlow's sign). */
double loss_mae(const float *p /* (B, K) */, const float *y /* (B, K) */, float *dp /* (B, K) or NULL */, int B, int K);
/* Huber: with d = p - y, d²/2 where |d| <= delta, else delta·|d| - delta²/2;
 * dp = clip(d, -delta, delta)/(B·K). */
double loss_huber(const float *p /* (B, K) */, const float *y /* (B, K) */, float *dp /* (B, K) or NULL */, int B,
                  int K, float delta);

#endif
