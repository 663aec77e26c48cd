/* shape_rules.c: the shape rule of every layer, as pure functions of the
 * evaluated arguments and one sample's input shape (no batch axis).
 * The checker runs them over the whole search space; the runtime runs them
 * once per trial to plan memory, so both always agree. */
#include "stdlib/catalogue.h"

#include <stdio.h>

void st_pair(hpt_value v, int *h, int *w)
{
    if (v.type == V_LIST && v.u.list.n == 2) {
        *h = (int)value_as_double(v.u.list.items[0]);
        *w = (int)value_as_double(v.u.list.items[1]);
    } else {
        *h = *w = (int)value_as_double(v);
    }
}

int st_conv_out(int in, int k, int stride, int same)
{
    if (same) return (in + stride - 1) / stride;
    return in < k ? 0 : (in - k) / stride + 1;
}

static void copy_shape(const int *in, int rank, int *out, int *out_rank)
{
    for (int k = 0; k < rank; k++) out[k] = in[k];
    *out_rank = rank;
}

int st_shape_input(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, char *why, size_t n)
{
    hpt_value s = args[Input_shape];
    if (s.type != V_LIST || s.u.list.n < 1 || s.u.list.n > 3) {
        snprintf(why, n, "Input shape must have 1 to 3 axes");
        return -1;
    }
    for (int k = 0; k < s.u.list.n; k++) out[k] = (int)value_as_double(s.u.list.items[k]);
    *out_rank = s.u.list.n;
    return 0;
}

int st_shape_flatten(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, char *why, size_t n)
{
    long size = 1;
    for (int k = 0; k < in_rank; k++) size *= in[k];
    out[0] = (int)size;
    *out_rank = 1;
    return 0;
}

int st_shape_same(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, char *why, size_t n)
{
    copy_shape(in, in_rank, out, out_rank);
    return 0;
}

int st_shape_dense(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, char *why, size_t n)
{
    /* Keras applies Dense to the last axis; hptc's kernels are 2-D, so ask for a Flatten. */
    if (in_rank != 1) {
        snprintf(why, n, "Dense needs a flat input, but the input has shape %s; add Flatten() before it",
                 in_rank == 2 ? "(H, W)" : "(H, W, C)");
        return -1;
    }
    out[0] = (int)value_as_double(args[Dense_units]);
    *out_rank = 1;
    return 0;
}

/* Images are (H, W, C); a (H, W) input is read as one channel, as Keras users
 * expect after Input(shape = [28, 28]) feeding a convolution. */
static int spatial(const char *layer, const int *in, int in_rank, int *h, int *w, int *c, char *why, size_t n)
{
    if (in_rank == 3) { *h = in[0]; *w = in[1]; *c = in[2]; return 0; }
    if (in_rank == 2) { *h = in[0]; *w = in[1]; *c = 1; return 0; }
    snprintf(why, n, "%s needs an image input (height, width, channels), but the input has %d axis", layer, in_rank);
    return -1;
}

static int window(const char *layer, const char *what, int h, int w, int kh, int kw, int sh, int sw, int same,
                  int *oh, int *ow, char *why, size_t n)
{
    if (!same && (h < kh || w < kw)) {
        snprintf(why, n, "%s(%s=%dx%d) needs an input of at least %dx%d, but the input is %dx%d",
                 layer, what, kh, kw, kh, kw, h, w);
        return -1;
    }
    *oh = st_conv_out(h, kh, sh, same);
    *ow = st_conv_out(w, kw, sw, same);
    return 0;
}

int st_shape_conv2d(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, char *why, size_t n)
{
    int h, w, c, kh, kw, sh, sw;
    if (spatial("Conv2D", in, in_rank, &h, &w, &c, why, n)) return -1;
    st_pair(args[Conv2D_kernel_size], &kh, &kw);
    st_pair(args[Conv2D_strides], &sh, &sw);
    int same = args[Conv2D_padding].type == V_STRING && args[Conv2D_padding].u.s[0] == 's';
    if (window("Conv2D", "kernel_size", h, w, kh, kw, sh, sw, same, &out[0], &out[1], why, n)) return -1;
    out[2] = (int)value_as_double(args[Conv2D_filters]);
    *out_rank = 3;
    return 0;
}

/* MaxPooling2D and AveragePooling2D share argument positions (POOL_ARGS). */
static int pool2d(const char *layer, const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank,
                  char *why, size_t n)
{
    int h, w, c, ph, pw, sh, sw;
    if (spatial(layer, in, in_rank, &h, &w, &c, why, n)) return -1;
    st_pair(args[MaxPooling2D_pool_size], &ph, &pw);
    if (args[MaxPooling2D_strides].type == V_NONE) sh = ph, sw = pw;
    else st_pair(args[MaxPooling2D_strides], &sh, &sw);
    int same = args[MaxPooling2D_padding].type == V_STRING && args[MaxPooling2D_padding].u.s[0] == 's';
    if (window(layer, "pool_size", h, w, ph, pw, sh, sw, same, &out[0], &out[1], why, n)) return -1;
    out[2] = c;
    *out_rank = 3;
    return 0;
}

int st_shape_maxpool2d(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, char *why, size_t n)
{
    return pool2d("MaxPooling2D", args, in, in_rank, out, out_rank, why, n);
}

int st_shape_avgpool2d(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, char *why, size_t n)
{
    return pool2d("AveragePooling2D", args, in, in_rank, out, out_rank, why, n);
}

int st_shape_estimator(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, char *why, size_t n)
{
    /* The features are the sample's values in order, whatever its shape. */
    out[0] = 0;
    *out_rank = 1;
    return 0;
}
