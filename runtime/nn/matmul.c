/* matmul.c: a Dense layer's GEMMs on oneDNN matmul primitives (see matmul.h).
 *
 * Per layer: the packed kernel for the forward (and, when an input gradient
 * is wanted, a second one packed for dz·Wᵀ), the reorders that refresh them
 * from the master, and per batch size the matmul primitives.  oneDNN picks
 * the packed layout for the first batch size; later batch sizes are asked to
 * read that same layout, so one packed copy serves every batch. */
#include "runtime/nn/matmul.h"
#include "runtime/nn/bf16.h"
#include "runtime/nn/onednn.h"

#include <cblas.h>
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_SLOTS 4

/* This thread's time in GEMMs and in packing, in TSC ticks (see matmul.h). */
static _Thread_local dense_mm_stats stats;

static inline uint64_t ticks(void) { return __rdtsc(); }

/* The primitives of one batch size. */
typedef struct mm_batch {
    int B;
    dnnl_primitive_t fwd, dw, dx;
    dnnl_memory_t fwd_src, fwd_dst, dw_src, dw_wei, dw_dst, dx_src, dx_dst;
} mm_batch;

/* Where the blocked layouts of oneDNN's brgemm B operand put element
 * (k, n): K in blocks of k_block rows, N in blocks of n_block columns, each
 * block a contiguous tile; in bf16 (pair 2) two consecutive rows interleave
 * (VNNI), so tile offset ((k % k_block) / 2)·2·n_block + (n % n_block)·2 + k % 2,
 * in f32 (pair 1) (k % k_block)·n_block + n % n_block.  Other layouts are
 * left to the reorder primitive (known 0). */
typedef struct mm_layout {
    int known, k_block, n_block, pair;
    size_t k_stride, n_stride;      /* elements between consecutive K blocks, N blocks */
} mm_layout;

/* A kernel kept packed: the reorder from the master and the version packed. */
typedef struct mm_packed {
    dnnl_memory_desc_t md;
    dnnl_memory_t mem, master;
    dnnl_primitive_t reorder;
    mm_layout layout;
    unsigned long version;
    int ready;
    int direct;                     /* f32: the kernel reads the master itself, no copy */
} mm_packed;

struct dense_mm {
    int in, out, has_bias, bf16;
    kern_act act;
    dnnl_data_type_t dt;            /* the GEMM operands' type */
    mm_packed fwd_w, dx_w;          /* W (in, out) and Wᵀ (out, in), packed */
    dnnl_memory_t bias;
    uint16_t *x16, *dz16;           /* bf16: the forward's input and the backward's dz */
    int max_B;
    mm_batch batch[BATCH_SLOTS];
    int next_slot;
};

int dense_mm_fuses(kern_act act)
{
    return act == KERN_LINEAR || act == KERN_RELU || act == KERN_TANH || act == KERN_SIGMOID;
}

static void colsum_set(const float *dz, float *db, int B, int out)
{
    memset(db, 0, sizeof *db * (size_t)out);
    for (int r = 0; r < B; r++) {
        const float *row = dz + (size_t)r * out;
        for (int j = 0; j < out; j++) db[j] += row[j];
    }
}

/* ------------------------------------------------------- oneDNN pieces */

static int md_plain(dnnl_memory_desc_t *md, long rows, long cols, dnnl_data_type_t dt, int transposed)
{
    dnnl_dims_t d = { rows, cols };
    return dnnl_memory_desc_init_by_tag(md, 2, d, dt, transposed ? dnnl_ba : dnnl_ab) != dnnl_success;
}

static dnnl_status_t memory_of(dnnl_memory_t *m, const dnnl_memory_desc_t *md)
{
    return dnnl_memory_create(m, md, onednn_engine(), DNNL_MEMORY_NONE);
}

/* A GEMM of rows x k x cols, counted in this thread's stats. */
static int execute_gemm(dnnl_primitive_t p, int n, const dnnl_exec_arg_t *args, double rows, double k, double cols,
                        const char *what, hpt_error *e)
{
    uint64_t t0 = ticks();
    int rc = onednn_execute(p, n, args, what, e);
    stats.gemm_ticks += ticks() - t0;
    stats.gemm_flops += 2.0 * rows * k * cols;
    return rc;
}

/* A matmul (rows, k) x (k, cols) -> (rows, cols) f32: src/weights of type dt,
 * src transposed when src_t; weights `*wmd` (format any: set to the choice),
 * bias (1, cols) f32 or none, the activation as a post-op. */
static int make_matmul(dnnl_primitive_t *prim, long rows, long k, long cols, dnnl_data_type_t dt, int src_t,
                       dnnl_memory_desc_t *wmd, int bias, kern_act act, hpt_error *e)
{
    dnnl_memory_desc_t src, dst, bmd;
    md_plain(&src, rows, k, dt, src_t);
    md_plain(&dst, rows, cols, dnnl_f32, 0);
    md_plain(&bmd, 1, cols, dnnl_f32, 0);
    dnnl_matmul_desc_t desc;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_primitive_desc_t pd = NULL;
    int rc = onednn_check(dnnl_matmul_desc_init(&desc, &src, wmd, bias ? &bmd : NULL, &dst), "matmul", e);
    if (!rc) rc = onednn_check(dnnl_primitive_attr_create(&attr), "attributes", e);
    if (!rc && act != KERN_LINEAR) {
        dnnl_alg_kind_t alg = act == KERN_RELU ? dnnl_eltwise_relu : act == KERN_TANH ? dnnl_eltwise_tanh
                                                                                       : dnnl_eltwise_logistic;
        rc = onednn_check(dnnl_post_ops_create(&po), "post-ops", e) ||
             onednn_check(dnnl_post_ops_append_eltwise(po, 1.0f, alg, 0.0f, 0.0f), "activation post-op", e) ||
             onednn_check(dnnl_primitive_attr_set_post_ops(attr, po), "post-ops", e);
    }
    if (!rc) rc = onednn_check(dnnl_primitive_desc_create(&pd, &desc, attr, onednn_engine(), NULL), "matmul", e);
    if (!rc && wmd->format_kind == dnnl_format_kind_any)
        *wmd = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    if (!rc) rc = onednn_check(dnnl_primitive_create(prim, pd), "matmul", e);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (po) dnnl_post_ops_destroy(po);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return rc;
}

static mm_layout layout_of(const dnnl_memory_desc_t *md)
{
    mm_layout l = { 0 };
    const dnnl_blocking_desc_t *b = &md->format_desc.blocking;
    if (md->ndims != 2 || md->format_kind != dnnl_blocked || md->offset0 != 0) return l;
    int pair = md->data_type == dnnl_bf16 ? 2 : 1;
    if (b->inner_nblks != (pair == 2 ? 3 : 2) || b->inner_idxs[0] != 0 || b->inner_idxs[1] != 1) return l;
    if (pair == 2 && (b->inner_idxs[2] != 0 || b->inner_blks[2] != 2)) return l;
    l = (mm_layout){ 1, (int)b->inner_blks[0] * pair, (int)b->inner_blks[1], pair, (size_t)b->strides[0],
                     (size_t)b->strides[1] };
    if (l.k_stride < (size_t)l.k_block * l.n_block || l.n_stride < (size_t)l.k_block * l.n_block) l.known = 0;
    return l;
}

/* The packed copy's memory and its reorder from the f32 master, seen as
 * (rows, cols) row-major, or transposed (the master (cols, rows)). */
static int make_packed(mm_packed *p, long rows, long cols, int transposed, hpt_error *e)
{
    if (p->direct) {
        p->ready = onednn_check(memory_of(&p->mem, &p->md), "weights", e) == 0;
        return p->ready ? 0 : -1;
    }
    dnnl_memory_desc_t master;
    md_plain(&master, rows, cols, dnnl_f32, transposed);
    dnnl_primitive_desc_t pd = NULL;
    int rc = onednn_check(dnnl_memory_create(&p->mem, &p->md, onednn_engine(), DNNL_MEMORY_ALLOCATE),
                          "packed weights", e) ||
             onednn_check(memory_of(&p->master, &master), "weights", e) ||
             onednn_check(dnnl_reorder_primitive_desc_create(&pd, &master, onednn_engine(), &p->md, onednn_engine(),
                                                             NULL), "weights reorder", e) ||
             onednn_check(dnnl_primitive_create(&p->reorder, pd), "weights reorder", e);
    if (pd) dnnl_primitive_desc_destroy(pd);
    void *data = NULL;
    if (!rc && dnnl_memory_get_data_handle(p->mem, &data) == dnnl_success && data)
        memset(data, 0, dnnl_memory_desc_get_size(&p->md));   /* the padding stays zero: rows pack valid cells only */
    p->layout = layout_of(&p->md);
    p->ready = !rc;
    p->version = ~0ul;
    return rc;
}

static int repack(mm_packed *p, const float *w, unsigned long version, hpt_error *e)
{
    if (p->direct) {
        dnnl_memory_set_data_handle(p->mem, (void *)w);
        return 0;
    }
    if (p->version == version) return 0;
    dnnl_memory_set_data_handle(p->master, (void *)w);
    dnnl_exec_arg_t args[] = { { DNNL_ARG_FROM, p->master }, { DNNL_ARG_TO, p->mem } };
    uint64_t t0 = ticks();
    int rc = onednn_execute(p->reorder, 2, args, "packing the weights", e);
    stats.pack_ticks += ticks() - t0;
    if (rc) return -1;
    p->version = version;
    return 0;
}

static void free_packed(mm_packed *p)
{
    if (p->reorder) dnnl_primitive_destroy(p->reorder);
    if (p->mem) dnnl_memory_destroy(p->mem);
    if (p->master) dnnl_memory_destroy(p->master);
}

static void free_batch(mm_batch *b)
{
    dnnl_primitive_t prims[] = { b->fwd, b->dw, b->dx };
    dnnl_memory_t mems[] = { b->fwd_src, b->fwd_dst, b->dw_src, b->dw_wei, b->dw_dst, b->dx_src, b->dx_dst };
    for (size_t i = 0; i < sizeof prims / sizeof *prims; i++)
        if (prims[i]) dnnl_primitive_destroy(prims[i]);
    for (size_t i = 0; i < sizeof mems / sizeof *mems; i++)
        if (mems[i]) dnnl_memory_destroy(mems[i]);
    memset(b, 0, sizeof *b);
}

/* The slot of batch size B, its forward made (the rest on demand). */
static mm_batch *batch_of(dense_mm *m, int B, hpt_error *e)
{
    for (int i = 0; i < BATCH_SLOTS; i++)
        if (m->batch[i].B == B) return &m->batch[i];
    mm_batch *b = &m->batch[m->next_slot];
    m->next_slot = (m->next_slot + 1) % BATCH_SLOTS;
    free_batch(b);
    dnnl_memory_desc_t src, dst;
    md_plain(&src, B, m->in, m->dt, 0);
    md_plain(&dst, B, m->out, dnnl_f32, 0);
    int first = !m->fwd_w.ready;
    if (make_matmul(&b->fwd, B, m->in, m->out, m->dt, 0, &m->fwd_w.md, m->has_bias, m->act, e) ||
        onednn_check(memory_of(&b->fwd_src, &src), "matmul", e) || onednn_check(memory_of(&b->fwd_dst, &dst), "matmul", e) ||
        (first && make_packed(&m->fwd_w, m->in, m->out, 0, e))) {
        free_batch(b);
        return NULL;
    }
    b->B = B;
    return b;
}

/* dw = xᵀ·dz and dx = dz·Wᵀ, made on the first backward at B. */
static int make_backward(dense_mm *m, mm_batch *b, int want_dx, hpt_error *e)
{
    if (!b->dw) {
        dnnl_memory_desc_t src, wei, dst;
        md_plain(&src, m->in, b->B, m->dt, 1);
        md_plain(&wei, b->B, m->out, m->dt, 0);
        md_plain(&dst, m->in, m->out, dnnl_f32, 0);
        if (make_matmul(&b->dw, m->in, b->B, m->out, m->dt, 1, &wei, 0, KERN_LINEAR, e) ||
            onednn_check(memory_of(&b->dw_src, &src), "matmul", e) ||
            onednn_check(memory_of(&b->dw_wei, &wei), "matmul", e) ||
            onednn_check(memory_of(&b->dw_dst, &dst), "matmul", e))
            return -1;
    }
    if (want_dx && !b->dx) {
        dnnl_memory_desc_t src, dst;
        md_plain(&src, b->B, m->out, m->dt, 0);
        md_plain(&dst, b->B, m->in, dnnl_f32, 0);
        int first = !m->dx_w.ready;
        if (first) {
            dnnl_dims_t d = { m->out, m->in };
            dnnl_memory_desc_init_by_tag(&m->dx_w.md, 2, d, m->dt, m->dx_w.direct ? dnnl_ba : dnnl_format_tag_any);
        }
        if (make_matmul(&b->dx, b->B, m->out, m->in, m->dt, 0, &m->dx_w.md, 0, KERN_LINEAR, e) ||
            onednn_check(memory_of(&b->dx_src, &src), "matmul", e) ||
            onednn_check(memory_of(&b->dx_dst, &dst), "matmul", e) ||
            (first && make_packed(&m->dx_w, m->out, m->in, 1, e)))
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------ packing by rows */

/* Two rows of 16 floats to 32 interleaved bf16 (a0 b0 a1 b1 ...), one store. */
__attribute__((target("avx512f,avx512bw,avx512bf16"))) static void pack_pairs_avx512(const float *a, const float *b,
                                                                                      uint16_t *out, int n)
{
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7,
                                                 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    int j = 0;
    for (; j + 16 <= n; j += 16) {
        __m256i ha = (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(a + j));
        __m256i hb = b ? (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(b + j)) : _mm256_setzero_si256();
        __m512i both = _mm512_inserti64x4(_mm512_castsi256_si512(ha), hb, 1);
        _mm512_storeu_si512(out + 2 * j, _mm512_permutexvar_epi16(interleave, both));
    }
    for (; j < n; j++) {
        out[2 * j] = bf16_of(a[j]);
        out[2 * j + 1] = b ? bf16_of(b[j]) : 0;
    }
}

static void pack_rows(mm_packed *p, const float *w, int N, int k0, int k1)
{
    const mm_layout *l = &p->layout;
    void *base = NULL;
    dnnl_memory_get_data_handle(p->mem, &base);
    for (int k = k0; k < k1; k += l->pair) {
        size_t tile_row = (size_t)(k / l->k_block) * l->k_stride + (size_t)((k % l->k_block) / l->pair) * l->pair * l->n_block;
        for (int n0 = 0; n0 < N; n0 += l->n_block) {
            int len = N - n0 < l->n_block ? N - n0 : l->n_block;
            size_t at = tile_row + (size_t)(n0 / l->n_block) * l->n_stride;
            const float *row = w + (size_t)k * N + n0;
            if (l->pair == 1)
                memcpy((float *)base + at, row, sizeof(float) * (size_t)len);
            else
                pack_pairs_avx512(row, k + 1 < k1 ? row + N : NULL, (uint16_t *)base + at, len);
        }
    }
}

int dense_mm_pack_rows_known(const dense_mm *m)
{
    return m->fwd_w.ready && !m->fwd_w.direct && m->fwd_w.layout.known &&
           (!m->bf16 || __builtin_cpu_supports("avx512bf16"));
}

int dense_mm_keeps_copy(const dense_mm *m) { return !m->fwd_w.direct; }

int dense_mm_pack_rows_step(const dense_mm *m) { return m->fwd_w.layout.pair; }

void dense_mm_pack_rows(dense_mm *m, const float *w, int k0, int k1)
{
    uint64_t t0 = ticks();
    pack_rows(&m->fwd_w, w, m->out, k0, k1);
    stats.shadow_ticks += ticks() - t0;
}

dense_mm_stats dense_mm_get_stats(void) { return stats; }

void dense_mm_set_packed(dense_mm *m, unsigned long version) { m->fwd_w.version = version; }

/* ------------------------------------------------------------- the API */

dense_mm *dense_mm_new(int in, int out, int has_bias, int bf16, kern_act act, hpt_error *e)
{
    if (!onednn_engine()) return hpt_fail(e, "oneDNN: cannot create a CPU engine"), NULL;
    dense_mm *m = calloc(1, sizeof *m);
    if (!m) return hpt_fail(e, "out of memory"), NULL;
    *m = (dense_mm){ .in = in, .out = out, .has_bias = has_bias, .bf16 = bf16, .act = act,
                     .dt = bf16 ? dnnl_bf16 : dnnl_f32 };
    dnnl_dims_t d = { in, out };
    dnnl_memory_desc_init_by_tag(&m->fwd_w.md, 2, d, m->dt, bf16 ? dnnl_format_tag_any : dnnl_ab);
    m->fwd_w.direct = m->dx_w.direct = !bf16;
    dnnl_memory_desc_t bmd;
    md_plain(&bmd, 1, out, dnnl_f32, 0);
    if (onednn_check(memory_of(&m->bias, &bmd), "bias", e)) {
        free(m);
        return NULL;
    }
    return m;
}

void dense_mm_free(dense_mm *m)
{
    if (!m) return;
    for (int i = 0; i < BATCH_SLOTS; i++) free_batch(&m->batch[i]);
    free_packed(&m->fwd_w);
    free_packed(&m->dx_w);
    if (m->bias) dnnl_memory_destroy(m->bias);
    free(m->x16), free(m->dz16);
    free(m);
}

/* The bf16 buffers, grown to B rows. */
static int reserve(dense_mm *m, int B, hpt_error *e)
{
    if (!m->bf16 || B <= m->max_B) return 0;
    uint16_t *x16 = realloc(m->x16, sizeof *x16 * (size_t)B * m->in);
    if (x16) m->x16 = x16;
    uint16_t *dz16 = realloc(m->dz16, sizeof *dz16 * (size_t)B * m->out);
    if (dz16) m->dz16 = dz16;
    if (!x16 || !dz16) return hpt_fail(e, "out of memory for a layer's bf16 operands");
    m->max_B = B;
    return 0;
}

int dense_mm_forward(dense_mm *m, const float *x, const float *w, unsigned long version, const float *b,
                     float *y, int B, hpt_error *e)
{
    mm_batch *s = batch_of(m, B, e);
    if (!s || reserve(m, B, e) || repack(&m->fwd_w, w, version, e)) return -1;
    const void *src = x;
    if (m->bf16) {
        bf16_from_f32(x, m->x16, (size_t)B * m->in);
        src = m->x16;
    }
    dnnl_memory_set_data_handle(s->fwd_src, (void *)src);
    dnnl_memory_set_data_handle(s->fwd_dst, y);
    if (m->has_bias) dnnl_memory_set_data_handle(m->bias, (void *)b);
    dnnl_exec_arg_t args[] = { { DNNL_ARG_SRC, s->fwd_src }, { DNNL_ARG_WEIGHTS, m->fwd_w.mem },
                               { DNNL_ARG_DST, s->fwd_dst }, { DNNL_ARG_BIAS, m->bias } };
    return execute_gemm(s->fwd, m->has_bias ? 4 : 3, args, B, m->in, m->out, "Dense forward", e);
}

/* OpenBLAS's GEMMs, for when oneDNN fails (out of memory). */
static void backward_openblas(dense_mm *m, const float *x, const float *dz, const float *w, float *dx, float *dw,
                              int B)
{
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m->in, m->out, B, 1.0f, x, m->in, dz, m->out, 0.0f, dw,
                m->out);
    if (dx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, m->in, m->out, 1.0f, dz, m->out, w, m->out, 0.0f,
                    dx, m->in);
}

static int backward_onednn(dense_mm *m, const float *x, const float *dz, const float *w, unsigned long version,
                           float *dx, float *dw, int B, hpt_error *e)
{
    mm_batch *s = batch_of(m, B, e);
    if (!s || reserve(m, B, e) || make_backward(m, s, dx != NULL, e)) return -1;
    const void *x_op = x, *dz_op = dz;
    if (m->bf16) {
        bf16_from_f32(dz, m->dz16, (size_t)B * m->out);
        x_op = m->x16, dz_op = m->dz16;
    }
    dnnl_memory_set_data_handle(s->dw_src, (void *)x_op);
    dnnl_memory_set_data_handle(s->dw_wei, (void *)dz_op);
    dnnl_memory_set_data_handle(s->dw_dst, dw);
    dnnl_exec_arg_t dw_args[] = { { DNNL_ARG_SRC, s->dw_src }, { DNNL_ARG_WEIGHTS, s->dw_wei },
                                  { DNNL_ARG_DST, s->dw_dst } };
    if (execute_gemm(s->dw, 3, dw_args, m->in, B, m->out, "Dense weight gradient", e)) return -1;
    if (!dx) return 0;
    if (repack(&m->dx_w, w, version, e)) return -1;
    dnnl_memory_set_data_handle(s->dx_src, (void *)dz_op);
    dnnl_memory_set_data_handle(s->dx_dst, dx);
    dnnl_exec_arg_t dx_args[] = { { DNNL_ARG_SRC, s->dx_src }, { DNNL_ARG_WEIGHTS, m->dx_w.mem },
                                  { DNNL_ARG_DST, s->dx_dst } };
    return execute_gemm(s->dx, 3, dx_args, B, m->out, m->in, "Dense input gradient", e);
}

int dense_mm_backward(dense_mm *m, const float *x, const float *dz, const float *w, unsigned long version,
                      float *dx, float *dw, float *db, int B, hpt_error *e)
{
    if (db) colsum_set(dz, db, B, m->out);
    if (backward_onednn(m, x, dz, w, version, dx, dw, B, e) == 0) return 0;
    /* The gradient is never lost: this step's GEMMs in f32, and the error for the caller. */
    backward_openblas(m, x, dz, w, dx, dw, B);
    return -1;
}
