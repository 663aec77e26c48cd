/* resize2d.c: ZeroPadding2D and UpSampling2D over (B, H, W, C) images, on
 * the kernels of kernels_spatial.h.  ZeroPadding2D adds zero rows above and
 * below and zero columns left and right; UpSampling2D repeats each row and
 * column by integer factors ("nearest") or interpolates ("bilinear",
 * half-pixel centres as tf.image.resize).  No weights; no JIT code (the
 * same kernels on both backends). */
#include "runtime/nn/layers/layers.h"
#include "runtime/nn/onnx.h"
#include "runtime/nn/kernels_spatial.h"

#include <stdlib.h>
#include <string.h>

typedef struct resize {
    int pad[4];                 /* ZeroPadding2D: top, bottom, left, right */
    int fh, fw, bilinear;       /* UpSampling2D */
} resize;

static void image(const trial_layer *L, int *H, int *W, int *C)
{
    *H = L->in[0], *W = L->in[1], *C = L->in_rank == 3 ? L->in[2] : 1;
}

static resize *state_new(trial_layer *L, char *why, size_t n)
{
    resize *s = calloc(1, sizeof *s);
    if (!s) snprintf(why, n, "out of memory");
    return L->kernel_state = s;
}

static void release(trial_layer *L)
{
    free(L->kernel_state);
    L->kernel_state = NULL;
}

static void sizes(const trial_layer *L, size_t B, layer_sizes *s) { s->y = B * L->out_size; }

/* -------------------------------------------------------------- ZeroPadding2D */

static int pad_plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    resize *s = state_new(L, why, n);
    if (!s) return -1;
    st_padding2d(args[ZeroPadding2D_padding], s->pad);
    return 0;
}

static void pad_forward(trial_layer *L, const layer_run *r, const float *x)
{
    const resize *s = L->kernel_state;
    int H, W, C;
    image(L, &H, &W, &C);
    L->out = L->y;
    kern_zero_pad2d_forward(x, L->y, r->B, H, W, C, s->pad);
}

static int pad_backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx)
{
    const resize *s = L->kernel_state;
    int H, W, C;
    image(L, &H, &W, &C);
    if (dx) kern_zero_pad2d_backward(dy, dx, r->B, H, W, C, s->pad);
    return 1;
}

/* ONNX: Pad with zeros, on whichever layout the input has. */
static int pad_onnx(const trial_layer *L, onnx_graph *g)
{
    const resize *s = L->kernel_state;
    /* A (H, W) sample has no channel axis to move: it is padded as it is. */
    int layout = L->in_rank == 3 && onnx_has(g, L, 0, ONNX_CF) ? ONNX_CF : ONNX_HPTC, r = L->in_rank + 1;
    int64_t pads[8] = { 0 };
    int h = layout == ONNX_CF ? 2 : 1;  /* the height's axis; the width's is next */
    pads[h] = s->pad[0], pads[r + h] = s->pad[1], pads[h + 1] = s->pad[2], pads[r + h + 1] = s->pad[3];
    const char *x = onnx_input(g, L, 0, layout, 0);
    onnx_output(g, L, onnx_op2(g, L, "Pad", x, onnx_int64s(g, L, 2 * r, pads)), layout);
    return 0;
}

const layer_ops layer_zero_padding2d = { .flags = LAYER_BLAS, .plan = pad_plan, .sizes = sizes, .forward = pad_forward,
                                         .backward = pad_backward, .release = release, .onnx = pad_onnx };

/* --------------------------------------------------------------- UpSampling2D */

static int up_plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    resize *s = state_new(L, why, n);
    if (!s) return -1;
    st_pair(args[UpSampling2D_size], &s->fh, &s->fw);
    s->bilinear = !strcmp(args[UpSampling2D_interpolation].u.s, "bilinear");
    return 0;
}

static void up_forward(trial_layer *L, const layer_run *r, const float *x)
{
    const resize *s = L->kernel_state;
    int H, W, C;
    image(L, &H, &W, &C);
    L->out = L->y;
    kern_upsample2d_forward(x, L->y, r->B, H, W, C, s->fh, s->fw, s->bilinear);
}

static int up_backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx)
{
    const resize *s = L->kernel_state;
    int H, W, C;
    image(L, &H, &W, &C);
    if (dx) kern_upsample2d_backward(dy, dx, r->B, H, W, C, s->fh, s->fw, s->bilinear);
    return 1;
}

/* ONNX: Resize by the integer factors; nearest reads floor(i / f) (asymmetric),
 * bilinear has half-pixel centres as tf.image.resize. */
static int up_onnx(const trial_layer *L, onnx_graph *g)
{
    const resize *s = L->kernel_state;
    float scales[4] = { 1, 1, (float)s->fh, (float)s->fw };
    int64_t four = 4;
    onnx_attrs a = { 0 };
    const char *in[3] = { onnx_input(g, L, 0, ONNX_CF, 1), "", onnx_floats(g, L, "scales", scales, 1, &four) };
    onnx_attr_string(&a, "mode", s->bilinear ? "linear" : "nearest");
    onnx_attr_string(&a, "coordinate_transformation_mode", s->bilinear ? "half_pixel" : "asymmetric");
    if (!s->bilinear) onnx_attr_string(&a, "nearest_mode", "floor");
    onnx_output(g, L, onnx_node(g, L, "Resize", &a, 3, in, 1, NULL), ONNX_CF);
    return 0;
}

const layer_ops layer_upsampling2d = { .flags = LAYER_BLAS, .plan = up_plan, .sizes = sizes, .forward = up_forward,
                                       .backward = up_backward, .release = release, .onnx = up_onnx };
