/* shape_rules.c: the shape rule of every layer, as pure functions of the
 * evaluated arguments and one sample's input shape (no batch axis): the
 * output shape and the weight tensors the layer holds (st_weights, Keras's
 * get_weights() order).  The checker runs them over the whole search space
 * (shapes, and the model's memory bound from the weights); the runtime runs
 * them once per trial to plan its layers and lay out its parameters, so both
 * always agree. */
#include "stdlib/catalogue.h"

#include <stdio.h>
#include <string.h>

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

/* use_bias given as True, or not known (None: the checker's value of an
 * argument that depends on a hyperparameter it has not fixed): counted. */
static int biased(hpt_value v) { return !(v.type == V_BOOL && !v.u.b); }

/* Values in one sample of a shape. */
static double values_of(const int *shape, int rank)
{
    double size = 1;
    for (int k = 0; k < rank; k++) size *= shape[k];
    return size;
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

int st_shape_input(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
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

int st_shape_flatten(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    long long size = 1;
    for (int k = 0; k < in_rank; k++) size *= in[k];     /* at most 3 axes of at most 2^31: fits */
    if (too_large(size, "Flatten's output", why, n)) return -1;
    out[0] = (int)size;
    *out_rank = 1;
    wts->view = 1;
    return 0;
}

int st_shape_same(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    copy_shape(in, in_rank, out, out_rank);
    return 0;
}

/* Activation: the identity on shapes, one operation per value. */
int st_shape_activation(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    copy_shape(in, in_rank, out, out_rank);
    wts->flops = values_of(in, in_rank);
    return 0;
}

int st_shape_dense(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
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
    wts->n_trainable = 2;
    wts->size[0] = (double)in[0] * out[0];                 /* kernel (in, units) */
    wts->size[1] = biased(args[Dense_use_bias]) ? out[0] : 0;
    wts->flops = 2.0 * wts->size[0];                        /* a multiply-add per kernel weight */
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

int st_shape_conv2d(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    int h, w, c, kh, kw, sh, sw;
    if (spatial("Conv2D", in, in_rank, &h, &w, &c, why, n)) return -1;
    st_pair(args[Conv2D_kernel_size], &kh, &kw);
    st_pair(args[Conv2D_strides], &sh, &sw);
    int same = args[Conv2D_padding].type == V_STRING && args[Conv2D_padding].u.s[0] == 's';
    if (window("Conv2D", "kernel_size", h, w, kh, kw, sh, sw, same, &out[0], &out[1], why, n)) return -1;
    out[2] = (int)value_as_double(args[Conv2D_filters]);
    *out_rank = 3;
    wts->n_trainable = 2;
    wts->size[0] = (double)kh * kw * c * out[2];           /* kernel (kh, kw, C, filters) */
    wts->size[1] = biased(args[Conv2D_use_bias]) ? out[2] : 0;
    wts->flops = 2.0 * out[0] * out[1] * wts->size[0];      /* a multiply-add per kernel weight per position */
    /* The im2col block of the kernels' fallback: up to 1024 output rows of whole images (none for 1x1 stride 1). */
    double per_image = (double)out[0] * out[1];
    if (kh * kw * sh * sw != 1) wts->workspace = ceil(1024 / per_image) * per_image * kh * kw * c;
    return too_large((long long)out[0] * out[1] * out[2], "Conv2D's output", why, n);
}

/* MaxPooling2D and AveragePooling2D share argument positions (POOL_ARGS). */
static int pool2d(const char *layer, const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank,
                  st_weights *wts, char *why, size_t n)
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
    wts->flops = values_of(out, 3) * ph * pw;              /* an operation per window value */
    if (layer[0] == 'M') wts->kept = values_of(out, 3);    /* max pooling's winners (int32) */
    return 0;
}

int st_shape_maxpool2d(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    return pool2d("MaxPooling2D", args, in, in_rank, out, out_rank, wts, why, n);
}

int st_shape_avgpool2d(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    return pool2d("AveragePooling2D", args, in, in_rank, out, out_rank, wts, why, n);
}

/* BatchNormalization: gamma and beta (trained), moving mean and variance (not), one per channel. */
int st_shape_batchnorm(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    copy_shape(in, in_rank, out, out_rank);
    double channels = in_rank ? in[in_rank - 1] : 0;
    *wts = (st_weights){ .n_trainable = 2, .n_stats = 2, .size = { channels, channels, channels, channels } };
    wts->flops = 4.0 * values_of(in, in_rank);             /* subtract, scale, multiply, add per value */
    wts->workspace = 6.0 * channels;                       /* the batch's statistics */
    return 0;
}

/* LayerNormalization normalises the last axis only (axis = -1, or its index
 * counting the batch axis, in_rank); gamma and beta are one per feature, and
 * either may be left out (scale, center False; None, not known, counts). */
int st_shape_layernorm(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    int axis = (int)value_as_double(args[LayerNormalization_axis]);
    if (args[LayerNormalization_axis].type != V_NONE && axis != -1 && axis != in_rank) {
        snprintf(why, n, "LayerNormalization normalises the last axis only: axis must be -1 (or %d for this input), not %d",
                 in_rank, axis);
        return -1;
    }
    copy_shape(in, in_rank, out, out_rank);
    double features = in_rank ? in[in_rank - 1] : 0;
    wts->n_trainable = 2;
    wts->size[0] = biased(args[LayerNormalization_scale]) ? features : 0;   /* gamma */
    wts->size[1] = biased(args[LayerNormalization_center]) ? features : 0;  /* beta */
    wts->flops = 5.0 * values_of(in, in_rank);
    wts->kept = in_rank && features ? 2.0 * values_of(in, in_rank) / features : 0;  /* mean and 1/std per position */
    return 0;
}

int st_shape_global_avgpool2d(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    int h, w, c;
    if (spatial("GlobalAveragePooling2D", in, in_rank, &h, &w, &c, why, n)) return -1;
    int keep = args[GlobalAveragePooling2D_keepdims].type == V_BOOL && args[GlobalAveragePooling2D_keepdims].u.b;
    if (keep) {
        out[0] = out[1] = 1, out[2] = c;
        *out_rank = 3;
    } else {
        out[0] = c;
        *out_rank = 1;
    }
    wts->flops = values_of(in, in_rank);                   /* an add per input value */
    return 0;
}

/* Reshape: target_shape's sizes, one -1 taking what the others leave. */
int st_shape_reshape(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    hpt_value s = args[Reshape_target_shape];
    if (s.type != V_LIST || s.u.list.n < 1 || s.u.list.n > 3) {
        snprintf(why, n, "Reshape's target_shape must list 1 to 3 sizes");
        return -1;
    }
    long long size = 1, known = 1;
    for (int k = 0; k < in_rank; k++) size *= in[k];
    int infer = -1;
    for (int k = 0; k < s.u.list.n; k++) {
        out[k] = (int)value_as_double(s.u.list.items[k]);
        if (out[k] == -1 && infer < 0) infer = k;
        else if (out[k] == -1) {
            snprintf(why, n, "Reshape's target_shape may hold one -1 only");
            return -1;
        } else known *= out[k];
    }
    *out_rank = s.u.list.n;
    char a[64], b[64];
    shape_text(in, in_rank, a, sizeof a);
    shape_text(out, *out_rank, b, sizeof b);
    if (infer < 0 && known != size) {
        snprintf(why, n, "Reshape(target_shape=%s) needs %lld values per sample, but the input %s has %lld", b, known,
                 a, size);
        return -1;
    }
    if (infer >= 0 && size % known) {
        snprintf(why, n, "Reshape(target_shape=%s) cannot infer its -1: the input %s has %lld values, not a multiple of %lld",
                 b, a, size, known);
        return -1;
    }
    if (infer >= 0) out[infer] = (int)(size / known);
    wts->view = 1;
    return 0;
}

/* Embedding: a (steps,) sample of integer indices to (steps, output_dim);
 * the table (input_dim, output_dim) is its one weight tensor. */
int st_shape_embedding(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    if (in_rank != 1) {
        char shape[64];
        snprintf(why, n, "Embedding needs a sequence of indices (steps,), but the input has shape %s",
                 shape_text(in, in_rank, shape, sizeof shape));
        return -1;
    }
    if (args[Embedding_mask_zero].type == V_BOOL && args[Embedding_mask_zero].u.b) {
        snprintf(why, n, "Embedding(mask_zero=True) is not supported: hptc has no masks");
        return -1;
    }
    out[0] = in[0];
    out[1] = (int)value_as_double(args[Embedding_output_dim]);
    *out_rank = 2;
    wts->n_trainable = 1;
    wts->size[0] = value_as_double(args[Embedding_input_dim]) * out[1];   /* table (input_dim, output_dim) */
    wts->flops = (double)out[0] * out[1];                  /* a copy per output value */
    return too_large((long long)out[0] * out[1], "Embedding's output", why, n);
}

/* The activations a recurrent layer computes from its outputs alone (the
 * backward differentiates from them); None (not known yet) passes. */
static int recurrent_act_ok(const char *layer, const char *arg, hpt_value v, char *why, size_t n)
{
    if (v.type != V_STRING) return 0;
    const st_entry *e = st_find(ST_ACTIVATION, v.u.s);
    if (!e || e->id == ST_tanh || e->id == ST_sigmoid || e->id == ST_relu || e->id == ST_linear) return 0;
    snprintf(why, n, "%s(%s=\"%s\") is not supported: use tanh, sigmoid, relu or linear", layer, arg, v.u.s);
    return -1;
}

/* LSTM (gates 4) and GRU (gates 3) over a (steps, features) sample: (units,),
 * or (steps, units) with return_sequences.  Weights in Keras's order:
 * kernel (features, gates*units), recurrent_kernel (units, gates*units),
 * bias (gates*units; GRU's reset_after keeps two rows, input and recurrent). */
static int recurrent(const char *layer, int gates, int bias_rows, const hpt_value *args, const int *in, int in_rank,
                     int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    /* LSTM and GRU share RECURRENT_ARGS's positions. */
    if (in_rank != 2) {
        char shape[64];
        snprintf(why, n, "%s needs a sequence input (steps, features), but the input has shape %s; "
                 "Input(shape = [steps, features]), Reshape or Embedding gives one", layer, shape_text(in, in_rank, shape, sizeof shape));
        return -1;
    }
    if (recurrent_act_ok(layer, "activation", args[LSTM_activation], why, n) ||
        recurrent_act_ok(layer, "recurrent_activation", args[LSTM_recurrent_activation], why, n))
        return -1;
    int units = (int)value_as_double(args[LSTM_units]);
    int seq = args[LSTM_return_sequences].type == V_BOOL && args[LSTM_return_sequences].u.b;
    if (seq) out[0] = in[0], out[1] = units, *out_rank = 2;
    else out[0] = units, *out_rank = 1;
    wts->n_trainable = 3;
    wts->size[0] = (double)in[1] * gates * units;          /* kernel (features, gates*units) */
    wts->size[1] = (double)units * gates * units;          /* recurrent_kernel (units, gates*units) */
    wts->size[2] = biased(args[LSTM_use_bias]) ? (double)bias_rows * gates * units : 0;
    /* Per step: the input's and the state's multiply-adds, and about 10
     * operations per unit for the gates' activations and the cell update. */
    double T = in[0], F = in[1], U = units, G = (double)gates * units;
    wts->flops = 2.0 * T * (wts->size[0] + wts->size[1]) + 10.0 * T * U;
    /* Kept per sample for the backward pass (runtime/nn/layers/recurrent.c's
     * layout): each step's input, gates, states (and the LSTM's tanh(c), the
     * GRU's recurrent gates), their gradients. */
    wts->kept = T * (2 * F + 2 * G + 2 * U) + U + (gates == 4 ? T * U : T * G) + 2 * U + G;
    wts->workspace = G * U;
    return too_large((long long)in[0] * gates * units, layer, why, n);
}

_Static_assert((int)GRU_units == (int)LSTM_units && (int)GRU_activation == (int)LSTM_activation &&
               (int)GRU_recurrent_activation == (int)LSTM_recurrent_activation && (int)GRU_use_bias == (int)LSTM_use_bias &&
               (int)GRU_return_sequences == (int)LSTM_return_sequences &&
               (int)GRU_bias_initializer == (int)LSTM_bias_initializer,
               "LSTM and GRU share RECURRENT_ARGS's positions");

int st_shape_lstm(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    return recurrent("LSTM", 4, 1, args, in, in_rank, out, out_rank, wts, why, n);
}

int st_shape_gru(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    if (args[GRU_reset_after].type == V_BOOL && !args[GRU_reset_after].u.b) {
        snprintf(why, n, "GRU(reset_after=False) is not supported: hptc has Keras 2's default form, reset_after=True");
        return -1;
    }
    return recurrent("GRU", 3, 2, args, in, in_rank, out, out_rank, wts, why, n);
}

int st_layer_plan(const st_entry *e, const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank,
                  st_weights *w, char *why, size_t why_len)
{
    st_weights none;
    *out_rank = 0;
    if (!w) w = &none;
    *w = (st_weights){ 0 };
    return e->shape(args, in, in_rank, out, out_rank, w, why, why_len);
}

void st_weights_count(const st_weights *w, double *trainable, double *stats)
{
    *trainable = *stats = 0;
    for (int k = 0; k < w->n_trainable; k++) *trainable += w->size[k];
    for (int k = w->n_trainable; k < w->n_trainable + w->n_stats; k++) *stats += w->size[k];
}

int st_shape_estimator(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    /* The features are the sample's values in order, whatever its shape. */
    out[0] = 0;
    *out_rank = 1;
    return 0;
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

/* The augmentation layers: an image, (height, width, channels) or (height,
 * width) read as one channel, given back in its shape. */
static int image_same(const char *layer, const int *in, int in_rank, int *out, int *out_rank, char *why, size_t n)
{
    int h, w, c;
    if (in_rank == 1) {
        snprintf(why, n, "%s needs an image input (height, width, channels), but the input has 1 axis; "
                 "add Reshape([height, width, channels]) before it", layer);
        return -1;
    }
    if (spatial(layer, in, in_rank, &h, &w, &c, why, n)) return -1;
    copy_shape(in, in_rank, out, out_rank);
    return 0;
}

/* The transforms read four pixels per value, a multiply-add each (training only); a flip moves values. */
#define IMAGE_RULE(rule, layer, flops_per_value)                                                                 \
    int rule(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, \
             size_t n)                                                                                           \
    {                                                                                                            \
        wts->flops = (flops_per_value) * values_of(in, in_rank);                                                \
        return image_same(layer, in, in_rank, out, out_rank, why, n);                                            \
    }
IMAGE_RULE(st_shape_random_flip, "RandomFlip", 0)
IMAGE_RULE(st_shape_random_translation, "RandomTranslation", 8)
IMAGE_RULE(st_shape_random_rotation, "RandomRotation", 8)
IMAGE_RULE(st_shape_random_zoom, "RandomZoom", 8)
#undef IMAGE_RULE
/* ---- merge layers ------------------------------------------------------------ */

static int same_shape(const int *a, int ra, const int *b, int rb)
{
    if (ra != rb) return 0;
    for (int k = 0; k < ra; k++)
        if (a[k] != b[k]) return 0;
    return 1;
}

int st_merge_add(const hpt_value *args, int n_in, const int *const *in, const int *in_rank, int *out, int *out_rank,
                 st_weights *wts, char *why, size_t n)
{
    for (int k = 1; k < n_in; k++)
        if (!same_shape(in[0], in_rank[0], in[k], in_rank[k])) {
            char a[64], b[64];
            snprintf(why, n, "Add needs branches of one shape, but branch 1 gives %s and branch %d gives %s",
                     shape_text(in[0], in_rank[0], a, sizeof a), k + 1, shape_text(in[k], in_rank[k], b, sizeof b));
            return -1;
        }
    copy_shape(in[0], in_rank[0], out, out_rank);
    wts->flops = values_of(out, *out_rank) * (n_in - 1);   /* an add per value per further branch */
    return 0;
}

int st_merge_concatenate(const hpt_value *args, int n_in, const int *const *in, const int *in_rank, int *out,
                         int *out_rank, st_weights *wts, char *why, size_t n)
{
    int rank = in_rank[0];
    int axis = (int)value_as_double(args[Concatenate_axis]);
    /* Keras counts the batch axis: axis 1 is a sample's first; -1 its last. */
    int at = axis < 0 ? rank + axis : axis - 1;
    if (axis == 0 || at < 0 || at >= rank) {
        snprintf(why, n, "Concatenate's axis %d does not exist in samples of %d ax%s (give -1 to %d, or 1 to %d)", axis,
                 rank, rank == 1 ? "is" : "es", -rank, rank);
        return -1;
    }
    copy_shape(in[0], rank, out, out_rank);
    long long joined = in[0][at];
    for (int k = 1; k < n_in; k++) {
        int ok = in_rank[k] == rank;
        for (int j = 0; ok && j < rank; j++) ok = j == at || in[k][j] == in[0][j];
        if (!ok) {
            char a[64], b[64];
            snprintf(why, n, "Concatenate along axis %d needs branches that agree on every other axis, but branch 1 gives %s "
                     "and branch %d gives %s", axis, shape_text(in[0], rank, a, sizeof a), k + 1,
                     shape_text(in[k], in_rank[k], b, sizeof b));
            return -1;
        }
        joined += in[k][at];
    }
    if (joined > 2147483647) {
        snprintf(why, n, "Concatenate joins %lld values along axis %d, more than 2147483647", joined, axis);
        return -1;
    }
    out[at] = (int)joined;
    long long size = 1;
    for (int j = 0; j < rank; j++) size *= out[j];
    return too_large(size, "Concatenate's output", why, n);
}

/* The stride of a 1x1 "valid" convolution taking `from` positions to `to`
 * (floor((from - 1) / s) + 1 == to), or 0 when none does. */
static int projection_stride(int from, int to)
{
    if (to < 1 || to > from) return 0;
    int s = (from + to - 1) / to;
    return (from - 1) / s + 1 == to ? s : 0;
}

int st_merge_residual(const hpt_value *args, int n_in, const int *const *in, const int *in_rank, int *out, int *out_rank,
                      st_weights *wts, char *why, size_t n)
{
    if (n_in != 2) {
        snprintf(why, n, "Residual joins its input and its body's output, not %d branches", n_in);
        return -1;
    }
    const int *x = in[0], *f = in[1];
    int rank = in_rank[0];
    copy_shape(f, in_rank[1], out, out_rank);
    wts->flops = values_of(out, *out_rank);                /* the add */
    if (same_shape(x, rank, f, in_rank[1])) return 0;
    char a[64], b[64];
    shape_text(x, rank, a, sizeof a);
    shape_text(f, in_rank[1], b, sizeof b);
    const hpt_value p = args[Residual_projection];
    if (p.type == V_STRING && !strcmp(p.u.s, "never")) {
        snprintf(why, n, "Residual's body turns %s into %s, and projection = \"never\" needs them equal", a, b);
        return -1;
    }
    /* The projection Keras's ResNets use: a 1x1 convolution, strided down to
     * the body's size, for images; a dense map of the last axis otherwise. */
    int ok = rank == in_rank[1];
    if (ok && rank == 3)
        ok = projection_stride(x[0], f[0]) && projection_stride(x[1], f[1]);
    else if (ok)
        for (int j = 0; j + 1 < rank; j++) ok = ok && x[j] == f[j];
    if (!ok) {
        snprintf(why, n, "Residual cannot project its input %s onto its body's output %s: %s", a, b,
                 rank != in_rank[1] ? "they have different numbers of axes"
                 : rank == 3 ? "no strided 1x1 convolution maps one's height and width onto the other's"
                 : "only the last axis may differ");
        return -1;
    }
    wts->n_trainable = 2;
    wts->size[0] = (double)x[rank - 1] * f[rank - 1];     /* kernel (1, 1, C, F) or (C, F) */
    wts->size[1] = f[rank - 1];                           /* bias */
    wts->flops = values_of(out, *out_rank) * (2.0 * x[rank - 1] + 1);  /* the projection's multiply-adds, the add */
    /* Strided images read a gathered copy of the input. */
    if (rank == 3 && (x[0] != f[0] || x[1] != f[1])) wts->kept = values_of(out, *out_rank) / f[2] * x[2];
    return 0;
}

st_merge_rule st_merge_rule_of(const st_entry *e)
{
#define MERGE_ROW(ID, rule) [ST_##ID] = rule,
    static const st_merge_rule rules[ST_COUNT] = { ST_MERGES(MERGE_ROW) };
#undef MERGE_ROW
    return e && e->kind == ST_LAYER ? rules[e->id] : NULL;
}

int st_merge_plan(const st_entry *e, const hpt_value *args, int n_in, const int *const *in, const int *in_rank, int *out,
                  int *out_rank, st_weights *w, char *why, size_t why_len)
{
    st_weights none;
    st_merge_rule rule = st_merge_rule_of(e);
    *out_rank = 0;
    if (!w) w = &none;
    *w = (st_weights){ 0 };
    if (!rule || n_in < 2 || n_in > ST_MAX_INPUTS) {
        snprintf(why, why_len, "%s joins 2 to %d branches, not %d", e->name, ST_MAX_INPUTS, n_in);
        return -1;
    }
    return rule(args, n_in, in, in_rank, out, out_rank, w, why, why_len);
}

/* ---- sequence and separable convolutions, 1-D pooling, global max pooling,
 * padding and upsampling ------------------------------------------------------ */

/* Sequences are (steps, channels), as Keras's 1-D layers take them. */
static int sequence(const char *layer, const int *in, int in_rank, int *steps, int *c, char *why, size_t n)
{
    if (in_rank == 2) { *steps = in[0]; *c = in[1]; return 0; }
    char shape[64];
    snprintf(why, n, "%s needs a sequence input (steps, channels), but the input has shape %s%s", layer,
             shape_text(in, in_rank, shape, sizeof shape),
             in_rank == 1 ? "; add Reshape([-1, 1]) before it" : "");
    return -1;
}

static int is_string(hpt_value v, const char *s) { return v.type == V_STRING && !strcmp(v.u.s, s); }

int st_shape_conv1d(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    int steps, c;
    if (sequence("Conv1D", in, in_rank, &steps, &c, why, n)) return -1;
    int k = (int)value_as_double(args[Conv1D_kernel_size]), s = (int)value_as_double(args[Conv1D_strides]);
    int d = (int)value_as_double(args[Conv1D_dilation_rate]);
    if (s > 1 && d > 1) {
        snprintf(why, n, "Conv1D cannot combine strides = %d with dilation_rate = %d (one of them must be 1, as in Keras)",
                 s, d);
        return -1;
    }
    long long span = (long long)(k - 1) * d + 1;     /* the window's extent, taps included */
    if (is_string(args[Conv1D_padding], "causal")) {
        out[0] = (steps - 1) / s + 1;                  /* padded span - 1 before: "valid" over steps + span - 1 */
    } else {
        int same = is_string(args[Conv1D_padding], "same");
        if (!same && steps < span) {
            snprintf(why, n, "Conv1D(kernel_size=%d%s) needs at least %lld steps, but the input has %d", k,
                     d > 1 ? ", dilation_rate>1" : "", span, steps);
            return -1;
        }
        out[0] = same ? (steps + s - 1) / s : (int)((steps - span) / s + 1);
    }
    out[1] = (int)value_as_double(args[Conv1D_filters]);
    *out_rank = 2;
    wts->n_trainable = 2;
    wts->size[0] = (double)k * c * out[1];                 /* kernel (kernel_size, C, filters) */
    wts->size[1] = biased(args[Conv1D_use_bias]) ? out[1] : 0;
    wts->flops = 2.0 * out[0] * wts->size[0];              /* a multiply-add per kernel weight per step */
    return too_large((long long)out[0] * out[1], "Conv1D's output", why, n);
}

int st_shape_maxpool1d(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    int steps, c;
    if (sequence("MaxPooling1D", in, in_rank, &steps, &c, why, n)) return -1;
    int p = (int)value_as_double(args[MaxPooling1D_pool_size]);
    int s = args[MaxPooling1D_strides].type == V_NONE ? p : (int)value_as_double(args[MaxPooling1D_strides]);
    int same = is_string(args[MaxPooling1D_padding], "same");
    if (!same && steps < p) {
        snprintf(why, n, "MaxPooling1D(pool_size=%d) needs at least %d steps, but the input has %d", p, p, steps);
        return -1;
    }
    out[0] = st_conv_out(steps, p, s, same);
    out[1] = c;
    *out_rank = 2;
    wts->flops = values_of(out, 2) * p;
    wts->kept = values_of(out, 2);                         /* the winners (int32) */
    return 0;
}

/* GlobalAveragePooling1D and GlobalMaxPooling1D share keepdims's position. */
int st_shape_global_pool1d(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    int steps, c;
    if (sequence("a global 1-D pooling", in, in_rank, &steps, &c, why, n)) return -1;
    int keep = args[GlobalAveragePooling1D_keepdims].type == V_BOOL && args[GlobalAveragePooling1D_keepdims].u.b;
    if (keep) out[0] = 1, out[1] = c, *out_rank = 2;
    else out[0] = c, *out_rank = 1;
    wts->flops = values_of(in, in_rank);
    return 0;
}

int st_shape_global_maxpool2d(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    int h, w, c;
    if (spatial("GlobalMaxPooling2D", in, in_rank, &h, &w, &c, why, n)) return -1;
    int keep = args[GlobalMaxPooling2D_keepdims].type == V_BOOL && args[GlobalMaxPooling2D_keepdims].u.b;
    if (keep) out[0] = out[1] = 1, out[2] = c, *out_rank = 3;
    else out[0] = c, *out_rank = 1;
    wts->flops = values_of(in, in_rank);
    wts->kept = c;                                         /* the winners (int32) */
    return 0;
}

/* DepthwiseConv2D: each channel convolved on its own into depth_multiplier
 * outputs, channel c's m-th at c * depth_multiplier + m (Keras's order). */
int st_shape_depthwise_conv2d(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    int h, w, c, kh, kw, sh, sw;
    if (spatial("DepthwiseConv2D", in, in_rank, &h, &w, &c, why, n)) return -1;
    st_pair(args[DepthwiseConv2D_kernel_size], &kh, &kw);
    st_pair(args[DepthwiseConv2D_strides], &sh, &sw);
    int same = is_string(args[DepthwiseConv2D_padding], "same");
    if (window("DepthwiseConv2D", "kernel_size", h, w, kh, kw, sh, sw, same, &out[0], &out[1], why, n)) return -1;
    int dm = (int)value_as_double(args[DepthwiseConv2D_depth_multiplier]);
    long long channels = (long long)c * dm;
    if (too_large(channels * out[0] * out[1], "DepthwiseConv2D's output", why, n)) return -1;
    out[2] = (int)channels;
    *out_rank = 3;
    wts->n_trainable = 2;
    wts->size[0] = (double)kh * kw * c * dm;               /* depthwise_kernel (kh, kw, C, depth_multiplier) */
    wts->size[1] = biased(args[DepthwiseConv2D_use_bias]) ? (double)channels : 0;
    wts->flops = 2.0 * out[0] * out[1] * wts->size[0];
    return 0;
}

/* SeparableConv2D: the depthwise step's (kh, kw, C, depth_multiplier), the
 * pointwise step's (1, 1, C * depth_multiplier, filters), then the bias. */
int st_shape_separable_conv2d(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    int h, w, c, kh, kw, sh, sw;
    if (spatial("SeparableConv2D", in, in_rank, &h, &w, &c, why, n)) return -1;
    st_pair(args[SeparableConv2D_kernel_size], &kh, &kw);
    st_pair(args[SeparableConv2D_strides], &sh, &sw);
    int same = is_string(args[SeparableConv2D_padding], "same");
    if (window("SeparableConv2D", "kernel_size", h, w, kh, kw, sh, sw, same, &out[0], &out[1], why, n)) return -1;
    long long mid = (long long)c * (int)value_as_double(args[SeparableConv2D_depth_multiplier]);
    /* The depthwise step's output is a tensor of the layer too. */
    if (too_large(mid * out[0] * out[1], "SeparableConv2D's depthwise output", why, n)) return -1;
    out[2] = (int)value_as_double(args[SeparableConv2D_filters]);
    *out_rank = 3;
    wts->n_trainable = 3;
    wts->size[0] = (double)kh * kw * (double)mid;
    wts->size[1] = (double)mid * out[2];
    wts->size[2] = biased(args[SeparableConv2D_use_bias]) ? out[2] : 0;
    wts->flops = 2.0 * out[0] * out[1] * (wts->size[0] + wts->size[1]);
    wts->kept = 2.0 * (double)mid * out[0] * out[1];      /* the depthwise output, then its gradient */
    return too_large((long long)out[0] * out[1] * out[2], "SeparableConv2D's output", why, n);
}

void st_padding2d(hpt_value v, int pad[4])
{
    if (v.type == V_LIST && v.u.list.n == 2 && v.u.list.items[0].type == V_LIST) {
        st_pair(v.u.list.items[0], &pad[0], &pad[1]);
        st_pair(v.u.list.items[1], &pad[2], &pad[3]);
        return;
    }
    st_pair(v, &pad[0], &pad[2]);
    pad[1] = pad[0], pad[3] = pad[2];
}

int st_shape_zero_padding2d(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    int h, w, c, pad[4];
    if (spatial("ZeroPadding2D", in, in_rank, &h, &w, &c, why, n)) return -1;
    st_padding2d(args[ZeroPadding2D_padding], pad);
    long long oh = (long long)h + pad[0] + pad[1], ow = (long long)w + pad[2] + pad[3];
    if (too_large(oh * ow * c, "ZeroPadding2D's output", why, n)) return -1;
    out[0] = (int)oh, out[1] = (int)ow, out[2] = c;
    *out_rank = 3;
    return 0;
}

int st_shape_upsampling2d(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank, st_weights *wts, char *why, size_t n)
{
    int h, w, c, fh, fw;
    if (spatial("UpSampling2D", in, in_rank, &h, &w, &c, why, n)) return -1;
    st_pair(args[UpSampling2D_size], &fh, &fw);
    long long oh = (long long)h * fh, ow = (long long)w * fw;
    if (too_large(oh * ow * c, "UpSampling2D's output", why, n)) return -1;
    out[0] = (int)oh, out[1] = (int)ow, out[2] = c;
    *out_rank = 3;
    if (is_string(args[UpSampling2D_interpolation], "bilinear")) wts->flops = 7.0 * values_of(out, 3);
    return 0;
}
