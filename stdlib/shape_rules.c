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

/* "(28, 28)": a sample's shape as a message shows it. */
static const char *shape_text(const int *in, int rank, char *buf, size_t n)
{
    size_t len = (size_t)snprintf(buf, n, "(");
    for (int k = 0; k < rank && len < n; k++) len += (size_t)snprintf(buf + len, n - len, "%s%d", k ? ", " : "", in[k]);
    if (len < n) snprintf(buf + len, n - len, rank == 1 ? ",)" : ")");
    return buf;
}

/* A sample's values must count in an int (the kernels index with them). */
static int too_large(long long size, const char *what, char *why, size_t n)
{
    if (size <= 2147483647) return 0;
    snprintf(why, n, "%s has %lld values per sample, more than 2147483647", what, size);
    return -1;
}

int st_shape_input(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, char *why, size_t n)
{
    hpt_value s = args[Input_shape];
    if (s.type != V_LIST || s.u.list.n < 1 || s.u.list.n > 3) {
        snprintf(why, n, "Input shape must have 1 to 3 axes");
        return -1;
    }
    long long size = 1;
    for (int k = 0; k < s.u.list.n; k++) size *= (long long)(out[k] = (int)value_as_double(s.u.list.items[k]));
    *out_rank = s.u.list.n;
    return too_large(size, "the Input", why, n);
}

int st_shape_flatten(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, char *why, size_t n)
{
    long long size = 1;
    for (int k = 0; k < in_rank; k++) size *= in[k];     /* at most 3 axes of at most 2^31: fits */
    if (too_large(size, "Flatten's output", why, n)) return -1;
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
        char shape[64];
        snprintf(why, n, "Dense needs a flat input, but the input has shape %s; add Flatten() before it",
                 shape_text(in, in_rank, shape, sizeof shape));
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
    return too_large((long long)out[0] * out[1] * out[2], "Conv2D's output", why, n);
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

/* use_bias given as True, or not known (None: it may be a hyperparameter): counted. */
static bool biased(hpt_value v) { return !(v.type == V_BOOL && !v.u.b); }

void st_layer_params(const st_entry *e, const hpt_value *args, const int *in, int in_rank, const int *out,
                     int out_rank, double *trainable, double *stats)
{
    *trainable = *stats = 0;
    switch (e->id) {
    case ST_Dense: {
        double units = out_rank ? out[0] : 0, inputs = in_rank ? in[0] : 0;
        *trainable = inputs * units + (biased(args[Dense_use_bias]) ? units : 0);
        return;
    }
    case ST_Conv2D: {
        int kh, kw;
        st_pair(args[Conv2D_kernel_size], &kh, &kw);
        double channels = in_rank == 3 ? in[2] : 1, filters = out_rank == 3 ? out[2] : 0;
        *trainable = (double)kh * kw * channels * filters +
                     (biased(args[Conv2D_use_bias]) ? filters : 0);
        return;
    }
    case ST_BatchNormalization: {
        double channels = in_rank ? in[in_rank - 1] : 0;
        *trainable = 2 * channels;      /* gamma, beta */
        *stats = 2 * channels;          /* moving mean, moving variance */
        return;
    }
    default: return;
    }
}

int st_optimizer_state(hpt_value opt)
{
    const st_entry *e = opt.type == V_OBJECT ? opt.u.object.entry : opt.type == V_STRING ? st_find(ST_OPTIMIZER, opt.u.s) : NULL;
    if (!e || e->kind != ST_OPTIMIZER) return -1;
    const hpt_value *a = opt.type == V_OBJECT ? opt.u.object.args : NULL;
    switch (e->id) {
    case ST_Adam:
    case ST_AdamW: return 2;
    case ST_SGD: return a && value_as_double(a[SGD_momentum]) != 0 ? 1 : 0;
    case ST_RMSprop: return a && value_as_double(a[RMSprop_momentum]) > 0 ? 2 : 1;
    default: return -1;
    }
}
