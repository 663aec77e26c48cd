/* onednn_pool.c: pooling on oneDNN (see onednn_pool.h). */
#include "runtime/nn/onednn_pool.h"
#include "runtime/nn/onednn.h"

#include <stdlib.h>
#include <string.h>

#define SLOTS 2

/* The primitives of one batch size. */
typedef struct pool_slot {
    int B;
    dnnl_primitive_desc_t fwd_pd;
    dnnl_primitive_t fwd, infer, bwd;
    dnnl_memory_t src, dst, workspace;
} pool_slot;

struct onednn_pool {
    int max;
    pool_slot slot[SLOTS];
    int next;
};

static void free_slot(pool_slot *s)
{
    if (s->fwd_pd) dnnl_primitive_desc_destroy(s->fwd_pd);
    dnnl_primitive_t prims[] = { s->fwd, s->infer, s->bwd };
    for (int i = 0; i < 3; i++)
        if (prims[i]) dnnl_primitive_destroy(prims[i]);
    dnnl_memory_t mems[] = { s->src, s->dst, s->workspace };
    for (int i = 0; i < 3; i++)
        if (mems[i]) dnnl_memory_destroy(mems[i]);
    memset(s, 0, sizeof *s);
}

onednn_pool *onednn_pool_new(int max, hpt_error *e)
{
    if (!onednn_engine()) return hpt_fail(e, "oneDNN: cannot create a CPU engine"), NULL;
    onednn_pool *p = calloc(1, sizeof *p);
    if (!p) return hpt_fail(e, "out of memory"), NULL;
    p->max = max;
    return p;
}

void onednn_pool_free(onednn_pool *p)
{
    if (!p) return;
    for (int i = 0; i < SLOTS; i++) free_slot(&p->slot[i]);
    free(p);
}

/* The pooling description of g in one direction. */
static dnnl_status_t describe(const onednn_pool *p, const kern_geom *g, dnnl_prop_kind_t prop, int backward,
                              dnnl_pooling_v2_desc_t *d, dnnl_memory_desc_t *src, dnnl_memory_desc_t *dst)
{
    dnnl_dims_t sd = { g->B, g->C, g->H, g->W }, dd = { g->B, g->C, g->OH, g->OW };
    dnnl_memory_desc_init_by_tag(src, 4, sd, dnnl_f32, dnnl_nhwc);
    dnnl_memory_desc_init_by_tag(dst, 4, dd, dnnl_f32, dnnl_nhwc);
    dnnl_dims_t strides = { g->sh, g->sw }, kernel = { g->kh, g->kw }, dilation = { 0, 0 };
    dnnl_dims_t pad_l = { g->pad_top, g->pad_left };
    dnnl_dims_t pad_r = { (g->OH - 1) * g->sh + g->kh - g->H - g->pad_top, (g->OW - 1) * g->sw + g->kw - g->W - g->pad_left };
    for (int i = 0; i < 2; i++)
        if (pad_r[i] < 0) pad_r[i] = 0;
    dnnl_alg_kind_t alg = p->max ? dnnl_pooling_max : dnnl_pooling_avg_exclude_padding;
    if (backward) return dnnl_pooling_v2_backward_desc_init(d, alg, src, dst, strides, kernel, dilation, pad_l, pad_r);
    return dnnl_pooling_v2_forward_desc_init(d, prop, alg, src, dst, strides, kernel, dilation, pad_l, pad_r);
}

static pool_slot *slot_of(onednn_pool *p, const kern_geom *g, hpt_error *e)
{
    for (int i = 0; i < SLOTS; i++)
        if (p->slot[i].B == g->B) return &p->slot[i];
    pool_slot *s = &p->slot[p->next];
    p->next = (p->next + 1) % SLOTS;
    free_slot(s);
    dnnl_pooling_v2_desc_t fd, id, bd;
    dnnl_memory_desc_t src, dst;
    dnnl_primitive_desc_t infer_pd = NULL, bwd_pd = NULL;
    int rc = onednn_check(describe(p, g, dnnl_forward_training, 0, &fd, &src, &dst), "pooling", e) ||
             onednn_check(dnnl_primitive_desc_create(&s->fwd_pd, &fd, NULL, onednn_engine(), NULL), "pooling", e) ||
             onednn_check(dnnl_primitive_create(&s->fwd, s->fwd_pd), "pooling", e) ||
             onednn_check(describe(p, g, dnnl_forward_inference, 0, &id, &src, &dst), "pooling", e) ||
             onednn_check(dnnl_primitive_desc_create(&infer_pd, &id, NULL, onednn_engine(), NULL), "pooling", e) ||
             onednn_check(dnnl_primitive_create(&s->infer, infer_pd), "pooling", e) ||
             onednn_check(describe(p, g, dnnl_backward_data, 1, &bd, &src, &dst), "pooling backward", e) ||
             onednn_check(dnnl_primitive_desc_create(&bwd_pd, &bd, NULL, onednn_engine(), s->fwd_pd), "pooling backward", e) ||
             onednn_check(dnnl_primitive_create(&s->bwd, bwd_pd), "pooling backward", e) ||
             onednn_check(dnnl_memory_create(&s->src, &src, onednn_engine(), DNNL_MEMORY_NONE), "pooling", e) ||
             onednn_check(dnnl_memory_create(&s->dst, &dst, onednn_engine(), DNNL_MEMORY_NONE), "pooling", e);
    if (!rc && p->max) {
        const dnnl_memory_desc_t *ws = dnnl_primitive_desc_query_md(s->fwd_pd, dnnl_query_workspace_md, 0);
        rc = onednn_check(dnnl_memory_create(&s->workspace, ws, onednn_engine(), DNNL_MEMORY_ALLOCATE),
                          "pooling workspace", e);
    }
    if (infer_pd) dnnl_primitive_desc_destroy(infer_pd);
    if (bwd_pd) dnnl_primitive_desc_destroy(bwd_pd);
    if (rc) {
        free_slot(s);
        return NULL;
    }
    s->B = g->B;
    return s;
}

int onednn_pool_forward(onednn_pool *p, const kern_geom *g, const float *x, float *y, int training, hpt_error *e)
{
    pool_slot *s = slot_of(p, g, e);
    if (!s) return -1;
    dnnl_memory_set_data_handle(s->src, (void *)x);
    dnnl_memory_set_data_handle(s->dst, y);
    dnnl_exec_arg_t args[] = { { DNNL_ARG_SRC, s->src }, { DNNL_ARG_DST, s->dst }, { DNNL_ARG_WORKSPACE, s->workspace } };
    if (training) return onednn_execute(s->fwd, p->max ? 3 : 2, args, "pooling", e);
    return onednn_execute(s->infer, 2, args, "pooling", e);
}

int onednn_pool_backward(onednn_pool *p, const kern_geom *g, const float *dy, float *dx, hpt_error *e)
{
    pool_slot *s = slot_of(p, g, e);
    if (!s) return -1;
    /* The same memories, now the gradients: diff_src has src's shape, diff_dst dst's. */
    dnnl_memory_set_data_handle(s->src, dx);
    dnnl_memory_set_data_handle(s->dst, (void *)dy);
    dnnl_exec_arg_t args[] = { { DNNL_ARG_DIFF_DST, s->dst }, { DNNL_ARG_DIFF_SRC, s->src },
                               { DNNL_ARG_WORKSPACE, s->workspace } };
    return onednn_execute(s->bwd, p->max ? 3 : 2, args, "pooling backward", e);
}
