/* onnx.h: a trained trial as an ONNX model (docs/onnx.md).
 *
 * onnx_export expands the trial a spec and its hyperparameters build, puts
 * the weights in it, and walks its layers: each layer's row of the layer
 * table (runtime/nn/layers/layers.h) writes its inference graph through the
 * builder below (its `onnx` function), so the exporter knows no layer kind.
 * Dropout and the augmentation layers pass their input through; a row
 * without an `onnx` function is a layer that cannot be expressed, an error
 * naming it.  The model is opset 17, IR version 8, float32; its input is
 * what hptc feeds the network before the data's scale ("input", (N, the
 * Input's shape)), its output the last layer's ("output", (N, ...)).
 *
 * The protobuf encoding is written by hand (onnx.c): the file is
 * write-only here and uses 40-odd fields of onnx.proto, named where they
 * are written; the checker (python3-onnx) and onnxruntime read it in
 * tests/cli/onnx.sh. */
#ifndef HPTC_ONNX_H
#define HPTC_ONNX_H
#include <stddef.h>
#include <stdint.h>
#include "compiler/ir.h"
#include "runtime/err.h"
#include "runtime/nn/kernels.h"

typedef struct onnx_graph onnx_graph;
typedef struct trial_layer trial_layer;

/* One metadata_props entry. */
typedef struct onnx_meta {
    const char *key, *value;
} onnx_meta;

/* Write the model p builds under values with weights w (n floats,
 * trial_weights's layout) to path (beside it, then renamed), with meta's
 * entries in metadata_props after hptc's own (spec_hash, model_hash,
 * hyperparameters, data_scale, input, output).  Fails naming the layer that
 * cannot be expressed, or when n is not the model's count. */
int onnx_export(const ir_program *p, const hpt_value *values, const float *w, size_t n, const onnx_meta *meta,
                int n_meta, const char *path, hpt_error *e);

/* ---- the builder the layer rows use ---------------------------------------
 * A layer's values have two layouts: ONNX_HPTC, hptc's own (N, sample...),
 * channels last; and ONNX_CF, channels first (N, C, spatial...), what ONNX's
 * Conv, pools, Resize and BatchNormalization read.  A value is made in
 * either and the other is one Transpose, made when first asked for. */
enum { ONNX_HPTC, ONNX_CF };

/* The name of input k of L (L->from[k]'s output) in layout.  image: a (H, W)
 * sample is an image of one channel (Conv2D's reading), so its CF layout is
 * (N, 1, H, W). */
const char *onnx_input(onnx_graph *g, const trial_layer *L, int k, int layout, int image);
/* Whether input k exists in layout already (so reading it costs nothing). */
int onnx_has(onnx_graph *g, const trial_layer *L, int k, int layout);
/* L's output is the value `name` in layout. */
void onnx_output(onnx_graph *g, const trial_layer *L, const char *name, int layout);

/* Attributes of the next node, gathered before onnx_node writes it. */
typedef struct onnx_attrs {
    unsigned char *p;
    size_t n, cap;
    int oom;                    /* an allocation failed: the bytes are incomplete */
} onnx_attrs;
void onnx_attr_int(onnx_attrs *a, const char *name, int64_t v);
void onnx_attr_float(onnx_attrs *a, const char *name, float v);
void onnx_attr_string(onnx_attrs *a, const char *name, const char *v);
void onnx_attr_ints(onnx_attrs *a, const char *name, int n, const int64_t *v);
void onnx_attr_floats(onnx_attrs *a, const char *name, int n, const float *v);
void onnx_attr_strings(onnx_attrs *a, const char *name, int n, const char *const *v);

/* A node of op_type op for layer L reading n_in values (an empty string is
 * an absent optional input) with attributes a (may be NULL; consumed).
 * Writes n_out output names into outs (NULL with n_out 1: returned only);
 * returns the first. */
const char *onnx_node(onnx_graph *g, const trial_layer *L, const char *op, onnx_attrs *a, int n_in,
                      const char *const *in, int n_out, const char **outs);
/* Shorthands for one output. */
const char *onnx_op1(onnx_graph *g, const trial_layer *L, const char *op, const char *x);
const char *onnx_op2(onnx_graph *g, const trial_layer *L, const char *op, const char *x, const char *y);

/* Initializers: a float tensor of the given dims (data copied), a 1-D int64
 * tensor, a float scalar.  Return their names. */
const char *onnx_floats(onnx_graph *g, const trial_layer *L, const char *what, const float *data, int rank,
                        const int64_t *dims);
const char *onnx_int64s(onnx_graph *g, const trial_layer *L, int n, const int64_t *v);
const char *onnx_scalar(onnx_graph *g, const trial_layer *L, float v);

/* x -> act(x); softmax over `axis`.  Returns x itself for linear. */
const char *onnx_activation(onnx_graph *g, const trial_layer *L, kern_act act, const char *x, int axis);
/* The ONNX name of a recurrent activation (Sigmoid, Tanh, Relu), NULL for
 * another (linear is Affine, whose alpha and beta the caller gives). */
const char *onnx_rnn_activation(kern_act act);

/* A window op's ONNX pads from hptc's geometry (TF's padding, taps dil
 * apart): top, left, bottom, right, as 2-D pads are ordered. */
void onnx_pads(const kern_geom *geo, int dil_h, int dil_w, int64_t pads[4]);
/* Conv over x (channels first) with geo's window, strides and padding:
 * kernel in Keras's layout (kh, kw, cin_g, F) (a depthwise kernel (kh, kw,
 * C, M) is that with cin_g 1, F = C * M), groups, bias (F) or NULL; dims 1
 * is a 1-D convolution over W (geo's kh 1).  Returns the output (N, F, ...). */
const char *onnx_conv(onnx_graph *g, const trial_layer *L, const char *x, const kern_geom *geo, int dims, int dil_h,
                      int dil_w, int groups, const float *kernel, int cin_g, int F, const float *bias);

/* Fail with a sentence about L ("... cannot be expressed: why"); returns -1. */
int onnx_fail(onnx_graph *g, const trial_layer *L, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The layer rows of Dropout and the augmentation layers: the identity at inference. */
int onnx_identity(const trial_layer *L, onnx_graph *g);

#endif
