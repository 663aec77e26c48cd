/* onnx.c: the ONNX writer (see onnx.h) and the builder the layer rows use.
 *
 * Protobuf's wire format, written by hand: a message is its fields in any
 * order, each a key (field number << 3 | wire type) then a varint (type 0),
 * a little-endian float (type 5), or a length-delimited run of bytes (type
 * 2: strings, bytes, packed repeated numbers, nested messages).  A nested
 * message is encoded into a buffer of its own first, so its length is known
 * when its parent writes it.  Only the fields below are written; their
 * numbers are onnx.proto's (onnx 1.12), named by the constants.
 *
 * Invariants: every value a node reads was written before it (the layers are
 * walked in the IR's order, which puts each after what it reads), so the
 * graph is in topological order; every name is unique (layer name, op type
 * and a counter); the builder's first failure sticks (g->failed) and later
 * calls are no-ops. */
#include "runtime/nn/onnx.h"
#include "runtime/data/source.h"
#include "runtime/nn/layers/layers.h"
#include "runtime/nn/trial.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* onnx.proto's field numbers (message.field) and enums. */
enum {
    MODEL_IR_VERSION = 1, MODEL_PRODUCER_NAME = 2, MODEL_PRODUCER_VERSION = 3, MODEL_DOC_STRING = 6, MODEL_GRAPH = 7,
    MODEL_OPSET_IMPORT = 8, MODEL_METADATA_PROPS = 14,
    OPSET_DOMAIN = 1, OPSET_VERSION = 2,
    ENTRY_KEY = 1, ENTRY_VALUE = 2,
    GRAPH_NODE = 1, GRAPH_NAME = 2, GRAPH_INITIALIZER = 5, GRAPH_INPUT = 11, GRAPH_OUTPUT = 12,
    NODE_INPUT = 1, NODE_OUTPUT = 2, NODE_NAME = 3, NODE_OP_TYPE = 4, NODE_ATTRIBUTE = 5,
    ATTR_NAME = 1, ATTR_F = 2, ATTR_I = 3, ATTR_S = 4, ATTR_FLOATS = 7, ATTR_INTS = 8, ATTR_STRINGS = 9, ATTR_TYPE = 20,
    ATTR_TYPE_FLOAT = 1, ATTR_TYPE_INT = 2, ATTR_TYPE_STRING = 3, ATTR_TYPE_FLOATS = 6, ATTR_TYPE_INTS = 7,
    ATTR_TYPE_STRINGS = 8,
    TENSOR_DIMS = 1, TENSOR_DATA_TYPE = 2, TENSOR_NAME = 8, TENSOR_RAW_DATA = 9,
    DTYPE_FLOAT = 1, DTYPE_INT64 = 7,
    VALUE_NAME = 1, VALUE_TYPE = 2, VALUE_DOC_STRING = 3,
    TYPE_TENSOR = 1, TENSOR_TYPE_ELEM = 1, TENSOR_TYPE_SHAPE = 2,
    SHAPE_DIM = 1, DIM_VALUE = 1, DIM_PARAM = 2,
};
enum { WIRE_VARINT = 0, WIRE_BYTES = 2, WIRE_FIXED32 = 5 };
enum { ONNX_IR_VERSION = 8, ONNX_OPSET = 17 };

/* ---- the wire format ------------------------------------------------------- */

typedef onnx_attrs pb;   /* a growable byte buffer; attributes are one */

static int pb_grow(pb *b, size_t more)
{
    if (b->n + more <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + more) cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p) return b->oom = 1, -1;
    b->p = p, b->cap = cap;
    return 0;
}

static void pb_raw(pb *b, const void *data, size_t n)
{
    if (n == 0 || pb_grow(b, n)) return;
    memcpy(b->p + b->n, data, n);
    b->n += n;
}

static void pb_varint(pb *b, uint64_t v)
{
    unsigned char buf[10];
    int n = 0;
    do {
        buf[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    pb_raw(b, buf, (size_t)n);
}

static void pb_key(pb *b, int field, int wire) { pb_varint(b, (uint64_t)field << 3 | (uint64_t)wire); }
/* int64 fields: a negative value is its two's complement, 10 bytes. */
static void pb_int(pb *b, int field, int64_t v) { pb_key(b, field, WIRE_VARINT), pb_varint(b, (uint64_t)v); }

static void pb_bytes(pb *b, int field, const void *data, size_t n)
{
    pb_key(b, field, WIRE_BYTES);
    pb_varint(b, n);
    pb_raw(b, data, n);
}

static void pb_string(pb *b, int field, const char *s) { pb_bytes(b, field, s, strlen(s)); }

static void pb_float(pb *b, int field, float v)
{
    unsigned char le[4];
    uint32_t u;
    memcpy(&u, &v, 4);
    for (int k = 0; k < 4; k++) le[k] = (unsigned char)(u >> (8 * k));
    pb_key(b, field, WIRE_FIXED32);
    pb_raw(b, le, 4);
}

/* A nested message: sub's bytes as field `field` of b; sub is freed. */
static void pb_message(pb *b, int field, pb *sub)
{
    b->oom |= sub->oom;
    pb_bytes(b, field, sub->p, sub->n);
    free(sub->p);
    *sub = (pb){ 0 };
}

/* ---- attributes ------------------------------------------------------------ */

static void attr_begin(pb *m, const char *name, int type)
{
    pb_string(m, ATTR_NAME, name);
    pb_int(m, ATTR_TYPE, type);
}

void onnx_attr_int(onnx_attrs *a, const char *name, int64_t v)
{
    pb m = { 0 };
    attr_begin(&m, name, ATTR_TYPE_INT);
    pb_int(&m, ATTR_I, v);
    pb_message(a, NODE_ATTRIBUTE, &m);
}

void onnx_attr_float(onnx_attrs *a, const char *name, float v)
{
    pb m = { 0 };
    attr_begin(&m, name, ATTR_TYPE_FLOAT);
    pb_float(&m, ATTR_F, v);
    pb_message(a, NODE_ATTRIBUTE, &m);
}

void onnx_attr_string(onnx_attrs *a, const char *name, const char *v)
{
    pb m = { 0 };
    attr_begin(&m, name, ATTR_TYPE_STRING);
    pb_string(&m, ATTR_S, v);
    pb_message(a, NODE_ATTRIBUTE, &m);
}

void onnx_attr_ints(onnx_attrs *a, const char *name, int n, const int64_t *v)
{
    pb m = { 0 };
    attr_begin(&m, name, ATTR_TYPE_INTS);
    for (int k = 0; k < n; k++) pb_int(&m, ATTR_INTS, v[k]);
    pb_message(a, NODE_ATTRIBUTE, &m);
}

void onnx_attr_floats(onnx_attrs *a, const char *name, int n, const float *v)
{
    pb m = { 0 };
    attr_begin(&m, name, ATTR_TYPE_FLOATS);
    for (int k = 0; k < n; k++) pb_float(&m, ATTR_FLOATS, v[k]);
    pb_message(a, NODE_ATTRIBUTE, &m);
}

void onnx_attr_strings(onnx_attrs *a, const char *name, int n, const char *const *v)
{
    pb m = { 0 };
    attr_begin(&m, name, ATTR_TYPE_STRINGS);
    for (int k = 0; k < n; k++) pb_string(&m, ATTR_STRINGS, v[k]);
    pb_message(a, NODE_ATTRIBUTE, &m);
}

/* ---- the graph ------------------------------------------------------------- */

struct onnx_graph {
    arena names;                /* every name handed out */
    pb nodes, inits;            /* GraphProto's node and initializer fields, in order */
    const char *(*value)[2];    /* per trial layer: its output in each layout, or NULL */
    int counter;                /* makes names unique */
    int failed;
    char why[400];
};

static const char *layer_name(const trial_layer *L) { return L ? L->call->name : "input"; }

static const char *fresh(onnx_graph *g, const trial_layer *L, const char *what)
{
    const char *s = arena_printf(&g->names, "%s/%s_%d", layer_name(L), what, g->counter++);
    if (!s) g->failed = 1;
    return s ? s : "";
}

int onnx_fail(onnx_graph *g, const trial_layer *L, const char *fmt, ...)
{
    if (g->failed) return -1;
    g->failed = 1;
    int n = snprintf(g->why, sizeof g->why, "layer %s (%s) cannot be expressed in ONNX: ", layer_name(L),
                     L ? L->call->entry->name : "Input");
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof g->why) vsnprintf(g->why + n, sizeof g->why - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

const char *onnx_node(onnx_graph *g, const trial_layer *L, const char *op, onnx_attrs *a, int n_in,
                      const char *const *in, int n_out, const char **outs)
{
    pb m = { 0 };
    const char *first = "";
    for (int k = 0; k < n_in; k++) pb_string(&m, NODE_INPUT, in[k]);
    for (int k = 0; k < n_out; k++) {
        const char *o = fresh(g, L, op);
        if (outs) outs[k] = o;
        if (k == 0) first = o;
        pb_string(&m, NODE_OUTPUT, o);
    }
    pb_string(&m, NODE_NAME, fresh(g, L, op));
    pb_string(&m, NODE_OP_TYPE, op);
    if (a) {
        m.oom |= a->oom;
        pb_raw(&m, a->p, a->n);
        free(a->p);
        *a = (onnx_attrs){ 0 };
    }
    pb_message(&g->nodes, GRAPH_NODE, &m);
    return first;
}

const char *onnx_op1(onnx_graph *g, const trial_layer *L, const char *op, const char *x)
{
    return onnx_node(g, L, op, NULL, 1, &x, 1, NULL);
}

const char *onnx_op2(onnx_graph *g, const trial_layer *L, const char *op, const char *x, const char *y)
{
    const char *in[2] = { x, y };
    return onnx_node(g, L, op, NULL, 2, in, 1, NULL);
}

static const char *tensor(onnx_graph *g, const trial_layer *L, const char *what, int dtype, const void *data,
                          size_t bytes, int rank, const int64_t *dims)
{
    pb t = { 0 };
    const char *name = fresh(g, L, what);
    for (int k = 0; k < rank; k++) pb_int(&t, TENSOR_DIMS, dims[k]);
    pb_int(&t, TENSOR_DATA_TYPE, dtype);
    pb_string(&t, TENSOR_NAME, name);
    pb_bytes(&t, TENSOR_RAW_DATA, data, bytes);   /* little-endian, as this machine stores them */
    pb_message(&g->inits, GRAPH_INITIALIZER, &t);
    return name;
}

const char *onnx_floats(onnx_graph *g, const trial_layer *L, const char *what, const float *data, int rank,
                        const int64_t *dims)
{
    size_t n = 1;
    for (int k = 0; k < rank; k++) n *= (size_t)dims[k];
    return tensor(g, L, what, DTYPE_FLOAT, data, n * sizeof(float), rank, dims);
}

const char *onnx_int64s(onnx_graph *g, const trial_layer *L, int n, const int64_t *v)
{
    int64_t dims[1] = { n };
    return tensor(g, L, "ints", DTYPE_INT64, v, (size_t)n * sizeof(int64_t), 1, dims);
}

const char *onnx_scalar(onnx_graph *g, const trial_layer *L, float v)
{
    return tensor(g, L, "scalar", DTYPE_FLOAT, &v, sizeof v, 0, NULL);
}

const char *onnx_activation(onnx_graph *g, const trial_layer *L, kern_act act, const char *x, int axis)
{
    onnx_attrs a = { 0 };
    switch (act) {
    case KERN_RELU: return onnx_op1(g, L, "Relu", x);
    case KERN_TANH: return onnx_op1(g, L, "Tanh", x);
    case KERN_SIGMOID: return onnx_op1(g, L, "Sigmoid", x);
    case KERN_SOFTMAX:
        onnx_attr_int(&a, "axis", axis);
        return onnx_node(g, L, "Softmax", &a, 1, &x, 1, NULL);
    case KERN_GELU: {
        /* The exact form, x * (1 + erf(x / sqrt 2)) / 2: opset 17 has no Gelu. */
        const char *e = onnx_op1(g, L, "Erf", onnx_op2(g, L, "Mul", x, onnx_scalar(g, L, 0.70710678118654752f)));
        const char *half = onnx_op2(g, L, "Mul", x, onnx_scalar(g, L, 0.5f));
        return onnx_op2(g, L, "Mul", half, onnx_op2(g, L, "Add", e, onnx_scalar(g, L, 1.0f)));
    }
    default: return x;
    }
}

const char *onnx_rnn_activation(kern_act act)
{
    return act == KERN_SIGMOID ? "Sigmoid" : act == KERN_TANH ? "Tanh" : act == KERN_RELU ? "Relu" : NULL;
}

void onnx_pads(const kern_geom *geo, int dil_h, int dil_w, int64_t pads[4])
{
    int eh = (geo->kh - 1) * dil_h + 1, ew = (geo->kw - 1) * dil_w + 1;
    int bottom = (geo->OH - 1) * geo->sh + eh - geo->H - geo->pad_top;
    int right = (geo->OW - 1) * geo->sw + ew - geo->W - geo->pad_left;
    pads[0] = geo->pad_top, pads[1] = geo->pad_left;
    pads[2] = bottom > 0 ? bottom : 0, pads[3] = right > 0 ? right : 0;
}

const char *onnx_conv(onnx_graph *g, const trial_layer *L, const char *x, const kern_geom *geo, int dims, int dil_h,
                      int dil_w, int groups, const float *kernel, int cin_g, int F, const float *bias)
{
    int kh = geo->kh, kw = geo->kw;
    size_t n = (size_t)kh * kw * cin_g * F;
    float *w = malloc(sizeof *w * (n ? n : 1));
    if (!w) return g->failed = 1, "";
    /* (kh, kw, cin_g, F) -> (F, cin_g, kh, kw) */
    for (int i = 0; i < kh; i++)
        for (int j = 0; j < kw; j++)
            for (int c = 0; c < cin_g; c++)
                for (int f = 0; f < F; f++)
                    w[(((size_t)f * cin_g + c) * kh + i) * kw + j] = kernel[(((size_t)i * kw + j) * cin_g + c) * F + f];
    int64_t wdims[4] = { F, cin_g, kh, kw }, pads[4], k2[2] = { kh, kw }, s2[2] = { geo->sh, geo->sw },
            d2[2] = { dil_h, dil_w };
    if (dims == 1) wdims[2] = kw;
    const char *in[3] = { x, onnx_floats(g, L, "kernel", w, dims + 2, wdims), "" };
    free(w);
    int64_t bdims[1] = { F };
    if (bias) in[2] = onnx_floats(g, L, "bias", bias, 1, bdims);
    onnx_pads(geo, dil_h, dil_w, pads);
    onnx_attrs a = { 0 };
    if (dims == 1) {
        int64_t p1[2] = { pads[1], pads[3] };
        onnx_attr_ints(&a, "kernel_shape", 1, k2 + 1);
        onnx_attr_ints(&a, "strides", 1, s2 + 1);
        onnx_attr_ints(&a, "dilations", 1, d2 + 1);
        onnx_attr_ints(&a, "pads", 2, p1);
    } else {
        int64_t p4[4] = { pads[0], pads[1], pads[2], pads[3] };
        onnx_attr_ints(&a, "kernel_shape", 2, k2);
        onnx_attr_ints(&a, "strides", 2, s2);
        onnx_attr_ints(&a, "dilations", 2, d2);
        onnx_attr_ints(&a, "pads", 4, p4);
    }
    onnx_attr_int(&a, "group", groups);
    return onnx_node(g, L, "Conv", &a, bias ? 3 : 2, in, 1, NULL);
}

/* ---- layouts ----------------------------------------------------------------- */

/* The permutation from one layout to the other for a sample of rank r. */
static void perm_of(int r, int to_cf, int64_t *perm)
{
    perm[0] = 0;
    for (int k = 1; k <= r; k++) perm[k] = to_cf ? (k == 1 ? r : k - 1) : (k == r ? 1 : k + 1);
}

static const char *transpose(onnx_graph *g, const trial_layer *L, const char *x, int rank, const int64_t *perm)
{
    onnx_attrs a = { 0 };
    onnx_attr_ints(&a, "perm", rank, perm);
    return onnx_node(g, L, "Transpose", &a, 1, &x, 1, NULL);
}

int onnx_has(onnx_graph *g, const trial_layer *L, int k, int layout)
{
    return g->value[L->from[k]->index][layout] != NULL;
}

const char *onnx_input(onnx_graph *g, const trial_layer *L, int k, int layout, int image)
{
    const trial_layer *F = L->from[k];
    const char **v = g->value[F->index];
    int r = F->out_rank;
    if (image && r == 2 && layout == ONNX_CF) {
        /* (N, H, W) is (N, 1, H, W) channels first. */
        const char *in[2] = { onnx_input(g, L, k, ONNX_HPTC, 0), onnx_int64s(g, F, 1, (const int64_t[]){ 1 }) };
        return onnx_node(g, F, "Unsqueeze", NULL, 2, in, 1, NULL);
    }
    if (r < 2) return v[ONNX_HPTC] ? v[ONNX_HPTC] : v[ONNX_CF];   /* one layout only */
    if (v[layout]) return v[layout];
    int64_t perm[4];
    perm_of(r, layout == ONNX_CF, perm);
    v[layout] = transpose(g, F, v[!layout], r + 1, perm);
    return v[layout];
}

void onnx_output(onnx_graph *g, const trial_layer *L, const char *name, int layout)
{
    g->value[L->index][L->out_rank < 2 ? ONNX_HPTC : layout] = name;
}

int onnx_identity(const trial_layer *L, onnx_graph *g)
{
    for (int k = 0; k < 2; k++) g->value[L->index][k] = g->value[L->from[0]->index][k];
    return 0;
}

/* ---- the model --------------------------------------------------------------- */

/* A ValueInfoProto: float, (N, dims...). */
static void value_info(pb *b, int field, const char *name, const int *dims, int rank, const char *doc)
{
    pb shape = { 0 }, type = { 0 }, tensor_type = { 0 }, v = { 0 }, d = { 0 };
    pb_string(&d, DIM_PARAM, "N");
    pb_message(&shape, SHAPE_DIM, &d);
    for (int k = 0; k < rank; k++) {
        pb_int(&d, DIM_VALUE, dims[k]);
        pb_message(&shape, SHAPE_DIM, &d);
    }
    pb_int(&tensor_type, TENSOR_TYPE_ELEM, DTYPE_FLOAT);
    pb_message(&tensor_type, TENSOR_TYPE_SHAPE, &shape);
    pb_message(&type, TYPE_TENSOR, &tensor_type);
    pb_string(&v, VALUE_NAME, name);
    pb_message(&v, VALUE_TYPE, &type);
    pb_string(&v, VALUE_DOC_STRING, doc);
    pb_message(b, field, &v);
}

static void meta_entry(pb *b, const char *key, const char *value)
{
    pb m = { 0 };
    pb_string(&m, ENTRY_KEY, key);
    pb_string(&m, ENTRY_VALUE, value);
    pb_message(b, MODEL_METADATA_PROPS, &m);
}

static char *shape_text(const int *dims, int rank, char *buf, size_t n)
{
    int at = snprintf(buf, n, "(N");
    for (int k = 0; k < rank && at > 0 && (size_t)at < n; k++) at += snprintf(buf + at, n - (size_t)at, ", %d", dims[k]);
    if (at > 0 && (size_t)at < n) snprintf(buf + at, n - (size_t)at, ")");
    return buf;
}

/* What the output holds, for its doc string and the metadata. */
static const char *output_kind(const trial_layer *last, const trial *t)
{
    if (last->act == KERN_SOFTMAX) return "probabilities (softmax)";
    if (last->act == KERN_SIGMOID) return "probabilities (sigmoid)";
    if (trial_float_targets(t)) return "values (regression)";
    return last->act == KERN_LINEAR ? "logits" : "scores (the last layer's activation)";
}

static int write_file(const char *path, const pb *model, hpt_error *e)
{
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) return hpt_fail(e, "%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return hpt_fail(e, "%s: cannot write: %s", tmp, strerror(errno));
    int bad = fwrite(model->p, 1, model->n, f) != model->n;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path)) {
        remove(tmp);
        return hpt_fail(e, "%s: cannot write: %s", path, strerror(errno));
    }
    return 0;
}

/* The graph of trial t into g: the input (and the data's scale), each layer's
 * nodes, the output.  0, or -1 with g->why. */
static int build(onnx_graph *g, trial *t, float scale, pb *graph, const char **kind)
{
    int n = trial_layer_count(t);
    const trial_layer *in = trial_layer_at(t, 0), *last = trial_layer_at(t, n - 1);
    char shape[80], doc[400];
    const char *x = "input";
    if (scale != 1.0f) x = onnx_op2(g, NULL, "Mul", x, onnx_scalar(g, NULL, scale));
    g->value[0][ONNX_HPTC] = x;
    for (int k = 1; k < n && !g->failed; k++) {
        const trial_layer *L = trial_layer_at(t, k);
        if (!L->ops->onnx) onnx_fail(g, L, "the exporter has no translation of %s", L->call->entry->name);
        else if (L->ops->onnx(L, g)) onnx_fail(g, L, "its translation failed");
    }
    if (g->failed) return -1;
    /* The output in hptc's layout, under its own name. */
    const char *y = n > 1 ? NULL : x;
    if (n > 1) {
        const char **v = g->value[last->index];
        y = v[ONNX_HPTC];
        if (!y) {
            int64_t perm[4];
            perm_of(last->out_rank, 0, perm);
            y = transpose(g, last, v[ONNX_CF], last->out_rank + 1, perm);
        }
    }
    pb m = { 0 };
    pb_string(&m, NODE_INPUT, y);
    pb_string(&m, NODE_OUTPUT, "output");
    pb_string(&m, NODE_NAME, "output");
    pb_string(&m, NODE_OP_TYPE, "Identity");
    pb_message(&g->nodes, GRAPH_NODE, &m);
    if (g->failed) return -1;

    *kind = output_kind(last, t);
    graph->oom |= g->nodes.oom | g->inits.oom;
    pb_raw(graph, g->nodes.p, g->nodes.n);
    pb_string(graph, GRAPH_NAME, "hptc");
    pb_raw(graph, g->inits.p, g->inits.n);
    snprintf(doc, sizeof doc, "float32 %s: one sample per row as hptc reads it%s",
             shape_text(in->outs, in->out_rank, shape, sizeof shape),
             scale != 1.0f ? ", before the data's scale (the model multiplies by it)" : "");
    value_info(graph, GRAPH_INPUT, "input", in->outs, in->out_rank, doc);
    snprintf(doc, sizeof doc, "float32 %s: %s", shape_text(last->outs, last->out_rank, shape, sizeof shape), *kind);
    value_info(graph, GRAPH_OUTPUT, "output", last->outs, last->out_rank, doc);
    return 0;
}

int onnx_export(const ir_program *p, const hpt_value *values, const float *w, size_t n, const onnx_meta *meta,
                int n_meta, const char *path, hpt_error *e)
{
    trial *t = trial_expand(p, values, 1, 0, e);
    if (!t) return -1;
    int rc = -1;
    onnx_graph g = { 0 };
    pb graph = { 0 }, model = { 0 }, opset = { 0 };
    char *description = NULL;
    size_t desc_len = 0;
    if (trial_estimator(t, NULL)) {
        hpt_fail(e, "%s is a classic estimator, not a network: it has no ONNX graph here", trial_estimator(t, NULL)->name);
        goto out;
    }
    size_t have;
    float *dst = trial_weights(t, &have);
    if (have != n) {
        hpt_fail(e, "%zu weights given, but the model has %zu", n, have);
        goto out;
    }
    memcpy(dst, w, n * sizeof *w);
    g.value = calloc((size_t)trial_layer_count(t) + 1, sizeof *g.value);
    if (!g.value) {
        hpt_fail(e, "out of memory");
        goto out;
    }
    const char *kind = "";
    float scale = source_scale(p, values);
    if (build(&g, t, scale, &graph, &kind)) {
        hpt_fail(e, "%s", g.why[0] ? g.why : "out of memory");
        goto out;
    }
    pb_int(&model, MODEL_IR_VERSION, ONNX_IR_VERSION);
    pb_string(&opset, OPSET_DOMAIN, "");
    pb_int(&opset, OPSET_VERSION, ONNX_OPSET);
    pb_message(&model, MODEL_OPSET_IMPORT, &opset);
    pb_string(&model, MODEL_PRODUCER_NAME, "hptc");
    pb_string(&model, MODEL_PRODUCER_VERSION, "0.1.0");
    pb_string(&model, MODEL_DOC_STRING, "exported by hptc export --format onnx (docs/onnx.md)");
    pb_message(&model, MODEL_GRAPH, &graph);
    /* hptc's own metadata, then the caller's. */
    char text[64];
    snprintf(text, sizeof text, "%016llx", (unsigned long long)p->spec_hash);
    meta_entry(&model, "spec_hash", text);
    /* model_hash as a weights file's (docs/weights.md): over the description without names. */
    FILE *m = open_memstream(&description, &desc_len);
    if (m) {
        trial_describe_model(t, 0, m);
        fclose(m);
        snprintf(text, sizeof text, "%016llx", (unsigned long long)ir_hash_bytes(description, desc_len));
        meta_entry(&model, "model_hash", text);
        free(description);
        description = NULL;
    }
    if ((m = open_memstream(&description, &desc_len))) {
        trial_describe_model(t, 1, m);
        fclose(m);
        meta_entry(&model, "model", description);
    }
    snprintf(text, sizeof text, "%.9g", scale);
    meta_entry(&model, "data_scale", text);
    meta_entry(&model, "output_kind", kind);
    for (int k = 0; k < n_meta; k++) meta_entry(&model, meta[k].key, meta[k].value);
    rc = model.p && !model.oom ? write_file(path, &model, e) : hpt_fail(e, "out of memory writing the model");
out:
    free(description);
    free(model.p), free(graph.p), free(opset.p);
    free(g.nodes.p), free(g.inits.p), free(g.value);
    arena_free(&g.names);
    trial_free(t);
    return rc;
}
