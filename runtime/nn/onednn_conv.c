/* onednn_conv.c: Conv2D on oneDNN's convolution primitives (see
 * onednn_conv.h).
 *
 * Layouts: x, y, dx stay NHWC (Keras's channels_last, oneDNN's tag nhwc),
 * so no activation tensor is ever reordered; the kernel's f32 master stays
 * in Keras's (kh, kw, C, F) (oneDNN's hwio), which the optimizer,
 * checkpoints and export read; the primitives read it through a packed copy
 * in the blocked layout they chose (weights format `any`), one per distinct
 * layout (forward and backward-data may differ), refreshed by one reorder
 * when the caller's weights version moves.  dw comes out blocked and is
 * added into the master's gradient by a reorder with a sum post-op (the
 * kernels' accumulate rule).
 *
 * Fusion: bias and the activation (relu, tanh, sigmoid, linear) run as the
 * forward primitive's post-op, in its output pass; the backward's dz, db
 * and (in bf16) dz's conversion are one pass over dy.  GELU, softmax and a
 * kept z run oneDNN's conv into z, then kern_act_forward.
 *
 * Invariants: nothing allocates in a step once a batch size's primitives
 * exist (scratchpads are ours, user mode, grown when a primitive is made);
 * every failure is reported before anything was written, so the caller can
 * run its im2col kernel instead. */
#include "runtime/nn/onednn_conv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/nn/bf16.h"
#include "runtime/nn/onednn.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic")
#endif

enum { SLOTS = 2, PACKS = 4 };

/* A primitive with its descriptor and the memory of its scratchpad (whose
 * buffer is the state's, set at each run). */
typedef struct prim {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t p;
    dnnl_memory_t scratch;
} prim;

/* The kernel in one layout a primitive reads. */
typedef struct packed {
    dnnl_memory_desc_t md;
    dnnl_memory_t mem;          /* its own buffer */
    prim from_master;           /* reorder hwio f32 -> md */
    const float *of;            /* the master it was packed from, NULL: never */
    unsigned long version;
} packed;

/* The primitives and buffers of one batch size. */
typedef struct slot {
    int B;                      /* 0: empty */
    unsigned long used;         /* LRU clock */
    prim fwd, bwd_data, bwd_weights, dw_add;
    packed *fwd_w, *bwd_data_w;
    dnnl_memory_t src, dst, bias, diff_dst, diff_src, diff_w;
    uint16_t *src16, *diff_dst16, *diff_src16;   /* bf16 copies; diff_src16 only when
                                                  * oneDNN has no bf16 -> f32 backward-data */
    const float *src16_of;      /* the x src16 holds, NULL: none */
} slot;

struct onednn_conv {
    kern_geom g;                /* B unused; kh, kw the kernel's taps, the pads the caller's */
    int groups;                 /* 1, or C for a depthwise convolution (Keras's kernel hwigo) */
    int dil_h, dil_w;           /* dilation: 1 is a dense window */
    kern_act act;
    int has_bias, keep_z, bf16;
    int post_op;                /* the activation runs as a post-op (z not kept) */
    dnnl_memory_desc_t master_md;   /* (F, C, kh, kw) f32 hwio, or grouped (G, F/G, C/G, kh, kw) hwigo:
                                     * the Keras kernel and its gradient */
    dnnl_memory_t master, master_grad;
    packed packs[PACKS];
    int n_packs;
    slot slots[SLOTS];
    unsigned long clock;
    void *scratch;              /* shared by every primitive (one runs at a time) */
    size_t scratch_bytes;
    float *db_acc;              /* (F) */
    int failed;                 /* a call failed: every later one fails at once */
};


/* --------------------------------------------------------- primitives */

static void prim_free(prim *p)
{
    if (p->p) dnnl_primitive_destroy(p->p);
    if (p->pd) dnnl_primitive_desc_destroy(p->pd);
    if (p->scratch) dnnl_memory_destroy(p->scratch);
    memset(p, 0, sizeof *p);
}

static void *aligned_bytes(size_t n) { return aligned_alloc(64, (n + 63) / 64 * 64); }

/* Make p from its descriptor (an op's, or a reorder's when pd is given),
 * with our scratchpad. */
static int prim_make(onednn_conv *c, prim *p, dnnl_primitive_desc_t pd, const char *what, hpt_error *e)
{
    p->pd = pd;
    if (onednn_check(dnnl_primitive_create(&p->p, pd), what, e)) return prim_free(p), -1;
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t need = smd ? dnnl_memory_desc_get_size(smd) : 0;
    if (need > c->scratch_bytes) {
        void *s = aligned_bytes(need);
        if (!s) return prim_free(p), hpt_fail(e, "out of memory for a convolution's scratchpad");
        free(c->scratch);
        c->scratch = s, c->scratch_bytes = need;
    }
    if (need && onednn_check(dnnl_memory_create(&p->scratch, smd, onednn_engine(), DNNL_MEMORY_NONE), what, e))
        return prim_free(p), -1;
    return 0;
}

/* Attributes every primitive here gets: our scratchpad, and post-ops. */
static dnnl_primitive_attr_t attr_of(dnnl_post_ops_t ops)
{
    dnnl_primitive_attr_t a;
    if (dnnl_primitive_attr_create(&a) != dnnl_success) return NULL;
    dnnl_primitive_attr_set_scratchpad_mode(a, dnnl_scratchpad_mode_user);
    if (ops) dnnl_primitive_attr_set_post_ops(a, ops);
    return a;
}

static int op_prim(onednn_conv *c, prim *p, const void *op_desc, dnnl_post_ops_t ops,
                   const_dnnl_primitive_desc_t hint, const char *what, hpt_error *e)
{
    dnnl_primitive_attr_t a = attr_of(ops);
    if (!a) return hpt_fail(e, "oneDNN: %s: out of memory", what);
    dnnl_primitive_desc_t pd;
    dnnl_status_t s = dnnl_primitive_desc_create(&pd, op_desc, a, onednn_engine(), hint);
    dnnl_primitive_attr_destroy(a);
    if (onednn_check(s, what, e)) return -1;
    return prim_make(c, p, pd, what, e);
}

static int reorder_prim(onednn_conv *c, prim *p, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
                        dnnl_post_ops_t ops, const char *what, hpt_error *e)
{
    dnnl_primitive_attr_t a = attr_of(ops);
    if (!a) return hpt_fail(e, "oneDNN: %s: out of memory", what);
    dnnl_primitive_desc_t pd;
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, from, onednn_engine(), to, onednn_engine(), a);
    dnnl_primitive_attr_destroy(a);
    if (onednn_check(s, what, e)) return -1;
    return prim_make(c, p, pd, what, e);
}

/* Run p on this thread's stream; args has room for the scratchpad. */
static int prim_run(onednn_conv *c, const prim *p, dnnl_exec_arg_t *args, int n, const char *what, hpt_error *e)
{
    if (p->scratch) {
        dnnl_memory_set_data_handle(p->scratch, c->scratch);
        args[n++] = (dnnl_exec_arg_t){ DNNL_ARG_SCRATCHPAD, p->scratch };
    }
    return onednn_execute(p->p, n, args, what, e);
}

static int memory_of(dnnl_memory_t *m, const dnnl_memory_desc_t *md, void *handle, hpt_error *e)
{
    return onednn_check(dnnl_memory_create(m, md, onednn_engine(), handle), "memory", e);
}

static void set(dnnl_memory_t m, const void *p) { dnnl_memory_set_data_handle(m, (void *)p); }

/* ------------------------------------------------------ packed kernel */

/* The packed copy in layout md, made (stale) on first request. */
static packed *pack_of(onednn_conv *c, const dnnl_memory_desc_t *md, hpt_error *e)
{
    for (int i = 0; i < c->n_packs; i++)
        if (dnnl_memory_desc_equal(&c->packs[i].md, md)) return &c->packs[i];
    if (c->n_packs == PACKS) return hpt_fail(e, "oneDNN: more kernel layouts than expected"), NULL;
    packed *k = &c->packs[c->n_packs];
    memset(k, 0, sizeof *k);
    k->md = *md;
    if (memory_of(&k->mem, md, DNNL_MEMORY_ALLOCATE, e)) return NULL;
    if (reorder_prim(c, &k->from_master, &c->master_md, md, NULL, "packing the kernel", e)) {
        dnnl_memory_destroy(k->mem);
        return NULL;
    }
    c->n_packs++;
    return k;
}

/* Bring k up to the master w of version v. */
static int repack(onednn_conv *c, packed *k, const float *w, unsigned long v, hpt_error *e)
{
    if (k->of == w && k->version == v) return 0;
    set(c->master, w);
    dnnl_exec_arg_t args[3] = { { DNNL_ARG_FROM, c->master }, { DNNL_ARG_TO, k->mem } };
    if (prim_run(c, &k->from_master, args, 2, "packing the kernel", e)) return -1;
    k->of = w, k->version = v;
    return 0;
}

/* -------------------------------------------------------------- slots */

static void slot_free(slot *s)
{
    prim_free(&s->fwd), prim_free(&s->bwd_data), prim_free(&s->bwd_weights), prim_free(&s->dw_add);
    dnnl_memory_t *mems[] = { &s->src, &s->dst, &s->bias, &s->diff_dst, &s->diff_src, &s->diff_w };
    for (size_t i = 0; i < sizeof mems / sizeof *mems; i++)
        if (*mems[i]) dnnl_memory_destroy(*mems[i]);
    free(s->src16), free(s->diff_dst16), free(s->diff_src16);
    memset(s, 0, sizeof *s);
}

static dnnl_data_type_t gemm_type(const onednn_conv *c) { return c->bf16 ? dnnl_bf16 : dnnl_f32; }

/* oneDNN's geometry: strides, dilations (oneDNN counts the gaps: 0 is
 * dense) and paddings per spatial axis.  TF's "same" puts the smaller half
 * before; the after side is what makes the output size come out (clamped
 * at 0: valid's floor is oneDNN's floor too).  A dilated window spans
 * (k - 1) * d + 1 inputs. */
static void conv_dims(const onednn_conv *c, dnnl_dims_t strides, dnnl_dims_t dil, dnnl_dims_t pad_l, dnnl_dims_t pad_r)
{
    const kern_geom *g = &c->g;
    strides[0] = g->sh, strides[1] = g->sw;
    dil[0] = c->dil_h - 1, dil[1] = c->dil_w - 1;
    pad_l[0] = g->pad_top, pad_l[1] = g->pad_left;
    long ph = (long)(g->OH - 1) * g->sh + (long)(g->kh - 1) * c->dil_h + 1 - g->H - g->pad_top;
    long pw = (long)(g->OW - 1) * g->sw + (long)(g->kw - 1) * c->dil_w + 1 - g->W - g->pad_left;
    pad_r[0] = ph > 0 ? ph : 0, pad_r[1] = pw > 0 ? pw : 0;
}

/* The kernel's description: Keras's layout (keras 1: hwio, or hwigo when
 * grouped, whose output channel g * F/G + o is Keras's c * multiplier + m),
 * or any layout oneDNN chooses. */
static void weights_md(const onednn_conv *c, dnnl_memory_desc_t *md, dnnl_data_type_t t, int keras)
{
    const kern_geom *g = &c->g;
    int G = c->groups;
    if (G == 1)
        dnnl_memory_desc_init_by_tag(md, 4, (dnnl_dims_t){ g->F, g->C, g->kh, g->kw }, t,
                                     keras ? dnnl_hwio : dnnl_format_tag_any);
    else
        dnnl_memory_desc_init_by_tag(md, 5, (dnnl_dims_t){ G, g->F / G, g->C / G, g->kh, g->kw }, t,
                                     keras ? dnnl_hwigo : dnnl_format_tag_any);
}

static void act_mds(const onednn_conv *c, int B, dnnl_memory_desc_t *x, dnnl_memory_desc_t *y, dnnl_data_type_t xt,
                    dnnl_data_type_t yt)
{
    const kern_geom *g = &c->g;
    dnnl_memory_desc_init_by_tag(x, 4, (dnnl_dims_t){ B, g->C, g->H, g->W }, xt, dnnl_nhwc);
    dnnl_memory_desc_init_by_tag(y, 4, (dnnl_dims_t){ B, g->F, g->OH, g->OW }, yt, dnnl_nhwc);
}

static dnnl_alg_kind_t post_op_alg(kern_act act)
{
    switch (act) {
    case KERN_RELU: return dnnl_eltwise_relu;
    case KERN_TANH: return dnnl_eltwise_tanh;
    case KERN_SIGMOID: return dnnl_eltwise_logistic;
    default: return dnnl_alg_kind_undef;
    }
}

static int slot_forward(onednn_conv *c, slot *s, int B, hpt_error *e)
{
    const kern_geom *g = &c->g;
    dnnl_memory_desc_t x, y, w, b;
    act_mds(c, B, &x, &y, gemm_type(c), dnnl_f32);
    weights_md(c, &w, gemm_type(c), 0);
    dnnl_memory_desc_init_by_tag(&b, 1, (dnnl_dims_t){ g->F }, dnnl_f32, dnnl_a);
    dnnl_dims_t st, dl, pl, pr;
    conv_dims(c, st, dl, pl, pr);
    dnnl_convolution_desc_t d;
    if (onednn_check(dnnl_dilated_convolution_forward_desc_init(&d, dnnl_forward_training, dnnl_convolution_direct, &x,
                                                                &w, c->has_bias ? &b : NULL, &y, st, dl, pl, pr),
                     "convolution forward", e))
        return -1;
    dnnl_post_ops_t ops = NULL;
    if (c->post_op && c->act != KERN_LINEAR) {
        if (dnnl_post_ops_create(&ops) != dnnl_success) return hpt_fail(e, "oneDNN: post-ops: out of memory");
        dnnl_post_ops_append_eltwise(ops, 1.0f, post_op_alg(c->act), 0.0f, 0.0f);
    }
    int rc = op_prim(c, &s->fwd, &d, ops, NULL, "convolution forward", e);
    if (ops) dnnl_post_ops_destroy(ops);
    if (rc) return -1;
    const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(s->fwd.pd, dnnl_query_weights_md, 0);
    if (!(s->fwd_w = pack_of(c, wmd, e))) return -1;
    if (memory_of(&s->src, &x, NULL, e) || memory_of(&s->dst, &y, NULL, e) || memory_of(&s->bias, &b, NULL, e))
        return -1;
    if (c->bf16 && !(s->src16 = aligned_bytes((size_t)B * g->H * g->W * g->C * sizeof(uint16_t))))
        return hpt_fail(e, "out of memory for a convolution's bf16 input");
    return 0;
}

/* Backward data: diff_src f32 straight from bf16 operands when oneDNN has
 * that kernel, else bf16 and converted. */
static int slot_backward_data(onednn_conv *c, slot *s, int B, hpt_error *e)
{
    const kern_geom *g = &c->g;
    dnnl_memory_desc_t dx, dy, w;
    act_mds(c, B, &dx, &dy, dnnl_f32, gemm_type(c));
    weights_md(c, &w, gemm_type(c), 0);
    dnnl_dims_t st, dl, pl, pr;
    conv_dims(c, st, dl, pl, pr);
    dnnl_convolution_desc_t d;
    if (onednn_check(dnnl_dilated_convolution_backward_data_desc_init(&d, dnnl_convolution_direct, &dx, &w, &dy, st, dl, pl, pr),
                     "convolution backward data", e))
        return -1;
    hpt_error ignored;
    if (op_prim(c, &s->bwd_data, &d, NULL, s->fwd.pd, "convolution backward data", c->bf16 ? &ignored : e)) {
        if (!c->bf16) return -1;
        act_mds(c, B, &dx, &dy, dnnl_bf16, dnnl_bf16);
        if (onednn_check(dnnl_dilated_convolution_backward_data_desc_init(&d, dnnl_convolution_direct, &dx, &w, &dy, st, dl, pl, pr),
                         "convolution backward data", e) ||
            op_prim(c, &s->bwd_data, &d, NULL, s->fwd.pd, "convolution backward data", e))
            return -1;
        if (!(s->diff_src16 = aligned_bytes((size_t)B * g->H * g->W * g->C * sizeof(uint16_t))))
            return hpt_fail(e, "out of memory for a convolution's bf16 input gradient");
    }
    const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(s->bwd_data.pd, dnnl_query_weights_md, 0);
    if (!(s->bwd_data_w = pack_of(c, wmd, e))) return -1;
    return memory_of(&s->diff_src, &dx, NULL, e);
}

/* Backward weights: diff_weights f32 in oneDNN's layout, then added into
 * the master's gradient by a reorder with a sum post-op. */
static int slot_backward_weights(onednn_conv *c, slot *s, int B, hpt_error *e)
{
    const kern_geom *g = &c->g;
    dnnl_memory_desc_t x, dy, dw;
    act_mds(c, B, &x, &dy, gemm_type(c), gemm_type(c));
    weights_md(c, &dw, dnnl_f32, 0);
    dnnl_dims_t st, dl, pl, pr;
    conv_dims(c, st, dl, pl, pr);
    dnnl_convolution_desc_t d;
    if (onednn_check(dnnl_dilated_convolution_backward_weights_desc_init(&d, dnnl_convolution_direct, &x, &dw, NULL,
                                                                         &dy, st, dl, pl, pr),
                     "convolution backward weights", e) ||
        op_prim(c, &s->bwd_weights, &d, NULL, s->fwd.pd, "convolution backward weights", e))
        return -1;
    const dnnl_memory_desc_t *dwmd = dnnl_primitive_desc_query_md(s->bwd_weights.pd, dnnl_query_diff_weights_md, 0);
    if (memory_of(&s->diff_w, dwmd, DNNL_MEMORY_ALLOCATE, e)) return -1;
    dnnl_post_ops_t ops;
    if (dnnl_post_ops_create(&ops) != dnnl_success) return hpt_fail(e, "oneDNN: post-ops: out of memory");
    dnnl_post_ops_append_sum(ops, 1.0f);
    int rc = reorder_prim(c, &s->dw_add, dwmd, &c->master_md, ops, "adding the kernel gradient", e);
    dnnl_post_ops_destroy(ops);
    if (rc) return -1;
    if (!s->diff_dst && memory_of(&s->diff_dst, &dy, NULL, e)) return -1;
    if (c->bf16 && !(s->diff_dst16 = aligned_bytes((size_t)B * g->OH * g->OW * g->F * sizeof(uint16_t))))
        return hpt_fail(e, "out of memory for a convolution's bf16 gradient");
    return 0;
}

/* The slot of batch size B, its forward made; the least recently used one
 * is rebuilt for a new B. */
static slot *slot_of(onednn_conv *c, int B, hpt_error *e)
{
    slot *s = &c->slots[0];
    for (int i = 0; i < SLOTS; i++) {
        if (c->slots[i].B == B) {
            c->slots[i].used = ++c->clock;
            return &c->slots[i];
        }
        if (c->slots[i].used < s->used) s = &c->slots[i];
    }
    slot_free(s);
    if (slot_forward(c, s, B, e)) return slot_free(s), NULL;
    s->B = B, s->used = ++c->clock;
    return s;
}

/* ---------------------------------------------------------------- API */

onednn_conv *onednn_conv_new(const kern_geom *g, kern_act act, int has_bias, int keep_z, int bf16, hpt_error *e)
{
    return onednn_conv_new_grouped(g, 1, 1, 1, act, has_bias, keep_z, bf16, e);
}

onednn_conv *onednn_conv_new_grouped(const kern_geom *g, int groups, int dh, int dw, kern_act act, int has_bias,
                                     int keep_z, int bf16, hpt_error *e)
{
    if (groups < 1 || g->C % groups || g->F % groups || dh < 1 || dw < 1)
        return hpt_fail(e, "oneDNN: %d groups do not divide %d channels into %d", groups, g->C, g->F), NULL;
    if (!onednn_engine()) return hpt_fail(e, "oneDNN: no CPU engine"), NULL;
    onednn_conv *c = calloc(1, sizeof *c);
    if (!c || !(c->db_acc = malloc(sizeof(float) * (size_t)g->F))) {
        free(c);
        return hpt_fail(e, "out of memory for a convolution's state"), NULL;
    }
    c->g = *g, c->act = act, c->has_bias = has_bias, c->keep_z = keep_z, c->bf16 = bf16;
    c->groups = groups, c->dil_h = dh, c->dil_w = dw;
    c->post_op = !keep_z && (act == KERN_LINEAR || post_op_alg(act) != dnnl_alg_kind_undef);
    weights_md(c, &c->master_md, dnnl_f32, 1);
    if (memory_of(&c->master, &c->master_md, NULL, e) || memory_of(&c->master_grad, &c->master_md, NULL, e)) {
        onednn_conv_free(c);
        return NULL;
    }
    return c;
}

void onednn_conv_free(onednn_conv *c)
{
    if (!c) return;
    for (int i = 0; i < SLOTS; i++) slot_free(&c->slots[i]);
    for (int i = 0; i < c->n_packs; i++) prim_free(&c->packs[i].from_master), dnnl_memory_destroy(c->packs[i].mem);
    if (c->master) dnnl_memory_destroy(c->master);
    if (c->master_grad) dnnl_memory_destroy(c->master_grad);
    free(c->scratch), free(c->db_acc), free(c);
}

int onednn_conv_fits(const onednn_conv *c, kern_act act, int keep_z, int bf16)
{
    return c->act == act && c->keep_z == keep_z && c->bf16 == bf16;
}

int onednn_conv_forward(onednn_conv *c, const kern_geom *g, const float *x, const float *w, unsigned long w_version,
                        const float *b, float *y, float *z, hpt_error *e)
{
    if (c->failed) return hpt_fail(e, "oneDNN: this convolution failed before");
    slot *s = slot_of(c, g->B, e);
    if (!s || repack(c, s->fwd_w, w, w_version, e)) return c->failed = 1, -1;
    /* The conv's output: y itself when the post-op finishes the layer. */
    int fused = c->post_op;
    float *out = z ? z : y;
    const void *src = x;
    if (c->bf16) {
        bf16_from_f32(x, s->src16, (size_t)g->B * g->H * g->W * g->C);
        src = s->src16, s->src16_of = x;
    }
    set(s->src, src), set(s->dst, out), set(s->bias, b);
    dnnl_exec_arg_t args[5] = { { DNNL_ARG_SRC, s->src }, { DNNL_ARG_WEIGHTS, s->fwd_w->mem }, { DNNL_ARG_DST, s->dst } };
    int n = 3;
    if (c->has_bias) args[n++] = (dnnl_exec_arg_t){ DNNL_ARG_BIAS, s->bias };
    if (prim_run(c, &s->fwd, args, n, "convolution forward", e)) return c->failed = 1, -1;
    if (!fused) {
        size_t rows = (size_t)g->B * g->OH * g->OW;
        if (c->act == KERN_LINEAR) memcpy(y, out, rows * g->F * sizeof *y);
        else kern_act_forward(out, y, rows, g->F, c->act);
    }
    return 0;
}

/* dz = act'(dy) in place, with db's sums and dz's bf16 copy in the same
 * pass: the flags are constants in each instance, so each loop vectorises. */
static inline __attribute__((always_inline)) void dz_rows(const float *restrict y, float *restrict dy,
                                                           float *restrict acc, uint16_t *restrict dz16,
                                                           size_t rows, int F, int relu, int sum, int cvt)
{
    for (size_t r = 0; r < rows; r++) {
        const float *restrict yr = y + r * (size_t)F;
        float *restrict dr = dy + r * (size_t)F;
        uint16_t *restrict hr = cvt ? dz16 + r * (size_t)F : NULL;
        for (int j = 0; j < F; j++) {
            float v = dr[j];
            if (relu) v = yr[j] > 0.0f ? v : 0.0f, dr[j] = v;
            if (sum) acc[j] += v;
            if (cvt) hr[j] = bf16_of(v);
        }
    }
}

static void dz_pass(onednn_conv *c, const float *y, const float *z, float *dy, float *db, uint16_t *dz16,
                    size_t rows, kern_act act)
{
    const int F = c->g.F;
    if (act != KERN_LINEAR && act != KERN_RELU) {
        kern_act_backward(z, y, dy, dy, rows, F, act);
        act = KERN_LINEAR;
    }
    int relu = act == KERN_RELU, sum = db != NULL, cvt = dz16 != NULL;
    if (!relu && !sum && !cvt) return;
    if (sum) memset(c->db_acc, 0, sizeof(float) * (size_t)F);
    float *acc = c->db_acc;
    if (relu) {
        if (sum && cvt) dz_rows(y, dy, acc, dz16, rows, F, 1, 1, 1);
        else if (sum) dz_rows(y, dy, acc, dz16, rows, F, 1, 1, 0);
        else if (cvt) dz_rows(y, dy, acc, dz16, rows, F, 1, 0, 1);
        else dz_rows(y, dy, acc, dz16, rows, F, 1, 0, 0);
    } else {
        if (sum && cvt) dz_rows(y, dy, acc, dz16, rows, F, 0, 1, 1);
        else if (sum) dz_rows(y, dy, acc, dz16, rows, F, 0, 1, 0);
        else dz_rows(y, dy, acc, dz16, rows, F, 0, 0, 1);
    }
    if (sum)
        for (int j = 0; j < F; j++) db[j] += acc[j];
}

int onednn_conv_backward(onednn_conv *c, const kern_geom *g, const float *x, const float *w, unsigned long w_version,
                         const float *y, const float *z, float *dy, float *dx, float *dw, float *db, kern_act act,
                         hpt_error *e)
{
    if (c->failed) return hpt_fail(e, "oneDNN: this convolution failed before");
    slot *s = slot_of(c, g->B, e);
    /* Every primitive and packed kernel first, so a failure writes nothing. */
    if (!s || (!s->bwd_weights.p && slot_backward_weights(c, s, g->B, e)) ||
        (dx && !s->bwd_data.p && slot_backward_data(c, s, g->B, e)) ||
        (dx && repack(c, s->bwd_data_w, w, w_version, e)))
        return c->failed = 1, -1;

    size_t rows = (size_t)g->B * g->OH * g->OW;
    dz_pass(c, y, z, dy, db, c->bf16 ? s->diff_dst16 : NULL, rows, act);
    const void *src = x, *diff_dst = dy;
    if (c->bf16) {
        /* The forward's bf16 copy of x, unless this x is not the one it converted. */
        if (s->src16_of != x) bf16_from_f32(x, s->src16, (size_t)g->B * g->H * g->W * g->C), s->src16_of = x;
        src = s->src16, diff_dst = s->diff_dst16;
    }
    set(s->src, src), set(s->diff_dst, diff_dst), set(c->master_grad, dw);
    dnnl_exec_arg_t args[5] = { { DNNL_ARG_SRC, s->src }, { DNNL_ARG_DIFF_DST, s->diff_dst },
                                { DNNL_ARG_DIFF_WEIGHTS, s->diff_w } };
    if (prim_run(c, &s->bwd_weights, args, 3, "convolution backward weights", e)) return c->failed = 1, -1;
    dnnl_exec_arg_t add[3] = { { DNNL_ARG_FROM, s->diff_w }, { DNNL_ARG_TO, c->master_grad } };
    if (prim_run(c, &s->dw_add, add, 2, "adding the kernel gradient", e)) return c->failed = 1, -1;
    if (!dx) return 0;
    set(s->diff_src, s->diff_src16 ? (void *)s->diff_src16 : (void *)dx);
    dnnl_exec_arg_t data[4] = { { DNNL_ARG_DIFF_DST, s->diff_dst }, { DNNL_ARG_WEIGHTS, s->bwd_data_w->mem },
                                { DNNL_ARG_DIFF_SRC, s->diff_src } };
    if (prim_run(c, &s->bwd_data, data, 3, "convolution backward data", e)) return c->failed = 1, -1;
    if (s->diff_src16) bf16_to_f32(s->diff_src16, dx, (size_t)g->B * g->H * g->W * g->C);
    return 0;
}

static const char *impl_of(const prim *p)
{
    const char *name = NULL;
    if (!p->pd || dnnl_primitive_desc_query(p->pd, dnnl_query_impl_info_str, 0, &name) != dnnl_success) return "";
    return name ? name : "";
}

void onednn_conv_describe(const onednn_conv *c, int B, char *buf, size_t n)
{
    buf[0] = 0;
    for (int i = 0; i < SLOTS; i++) {
        const slot *s = &c->slots[i];
        if (s->B != B) continue;
        snprintf(buf, n, "fwd %s, bwd_data %s%s, bwd_weights %s", impl_of(&s->fwd), impl_of(&s->bwd_data),
                 s->diff_src16 ? " (bf16 dx, converted)" : "", impl_of(&s->bwd_weights));
    }
}
