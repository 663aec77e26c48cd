/* onednn_pool.h: MaxPooling2D and AveragePooling2D on oneDNN's pooling
 * primitives, behind kern_maxpool2d / kern_avgpool2d's contract (kernels.h):
 * NHWC, TF's padding ("same" puts the smaller half before), max pooling's
 * padding never wins, average pooling divides by the cells inside the image.
 * oneDNN's kernels run vectorised over the channels and keep max pooling's
 * winners in their own workspace; the C kernels stay the fallback.
 *
 * A state belongs to one layer (one geometry, B apart) and keeps the
 * primitives of the last two batch sizes. */
#ifndef HPTC_ONEDNN_POOL_H
#define HPTC_ONEDNN_POOL_H
#include "runtime/err.h"
#include "runtime/nn/kernels.h"

typedef struct onednn_pool onednn_pool;

/* max 1: max pooling, 0: average.  NULL with e filled when oneDNN has no engine. */
onednn_pool *onednn_pool_new(int max, hpt_error *e);
void onednn_pool_free(onednn_pool *p);

/* y = pool(x) over g (training: keep what backward needs).  0, or -1 with
 * e filled and nothing written when oneDNN refuses (use the C kernel). */
int onednn_pool_forward(onednn_pool *p, const kern_geom *g, const float *x, float *y, int training, hpt_error *e);
/* dx = the gradient of the last training forward at this batch size. */
int onednn_pool_backward(onednn_pool *p, const kern_geom *g, const float *dy, float *dx, hpt_error *e);

#endif
