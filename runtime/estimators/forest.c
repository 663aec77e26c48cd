/* forest.c: RandomForestClassifier (estimator.h; its row of the table,
 * family.h).
 *
 * The forest bins each feature once per fit: its distinct training values,
 * when there are at most 256 of them (always so for u8 images and for
 * small-integer CSV columns), make the bins exact, and a split between two
 * bins gets scikit-learn's threshold, the midpoint of the two values; a
 * feature with more distinct values gets 256 quantile bins (approximate).
 * A node scans a per-bin class histogram when it is large and sorts its
 * few samples' codes when it is small.  Trees are grown depth first on an
 * explicit stack; their nodes go into one array per forest.  Trees are
 * dealt out round robin to threads (forest_threads), each tree drawing from
 * its own random stream (keyed by the seed and its number), so the forest
 * predicts the same whatever the thread count; the threads' parts are then
 * merged into the one array. */
#include "runtime/estimators/family.h"
#include "runtime/rng.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { MAX_BINS = 256, SMALL_NODE = 24 };

static int forest_params(const hpt_value *a, est_params *p, hpt_error *e)
{
    p->n_estimators = (int)a[RandomForestClassifier_n_estimators].u.i;
    hpt_value d = a[RandomForestClassifier_max_depth];
    p->max_depth = d.type == V_INT ? (int)d.u.i : 0;
    p->min_samples_split = (int)a[RandomForestClassifier_min_samples_split].u.i;
    p->bootstrap = a[RandomForestClassifier_bootstrap].u.b;
    hpt_value mf = a[RandomForestClassifier_max_features];
    if (mf.type == V_NONE) p->mf = EST_MF_ALL;
    else if (mf.type == V_STRING) p->mf = !strcmp(mf.u.s, "log2") ? EST_MF_LOG2 : EST_MF_SQRT;
    else if (mf.type == V_INT) p->mf = EST_MF_COUNT, p->mf_value = (double)mf.u.i;
    else p->mf = EST_MF_FRACTION, p->mf_value = value_as_double(mf);
    return 0;
}

/* Each training row's bin per feature, column-major, and each bin's range of values. */
typedef struct bins {
    uint8_t *code;              /* (F, n) */
    float *lo, *hi;             /* (F, MAX_BINS) */
} bins;

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static int make_bins(bins *B, const data_set *set, const uint32_t *rows, int n, int F, float scale)
{
    B->code = malloc((size_t)F * n);
    B->lo = malloc(sizeof *B->lo * (size_t)F * MAX_BINS);
    B->hi = malloc(sizeof *B->hi * (size_t)F * MAX_BINS);
    float *x = malloc(sizeof *x * CHUNK * (size_t)F), *col = malloc(sizeof *col * ((size_t)n + 1));
    if (!B->code || !B->lo || !B->hi || !x || !col) {
        free(x), free(col);
        return -1;
    }
    if (set->u8) {
        /* Bytes: the feature's distinct values come from a 256-entry table. */
        int *map = malloc(sizeof *map * 256 * (size_t)F);
        if (!map) {
            free(x), free(col);
            return -1;
        }
        memset(map, 0, sizeof *map * 256 * (size_t)F);
        size_t ss = set->sample_size;
        for (int i = 0; i < n; i++) {
            const uint8_t *s = set->u8 + rows[i] * ss;
            for (int f = 0; f < F; f++) map[(size_t)f * 256 + s[f]] = 1;
        }
        for (int f = 0; f < F; f++) {
            int *mf = map + (size_t)f * 256, nb = 0;
            float vals[256];
            int order[256];
            for (int b = 0; b < 256; b++)
                if (mf[b]) vals[nb] = (float)b * scale, order[nb++] = b;
            /* Sort the present bytes by their value (a negative scale reverses them). */
            for (int i = 1; i < nb; i++)
                for (int j = i; j > 0 && vals[j - 1] > vals[j]; j--) {
                    float t = vals[j]; vals[j] = vals[j - 1]; vals[j - 1] = t;
                    int o = order[j]; order[j] = order[j - 1]; order[j - 1] = o;
                }
            /* Equal values (a scale of 0) share a bin. */
            int code = -1;
            for (int k = 0; k < nb; k++) {
                if (k == 0 || vals[k] != vals[k - 1]) code++;
                mf[order[k]] = code;
                B->lo[(size_t)f * MAX_BINS + code] = B->hi[(size_t)f * MAX_BINS + code] = vals[k];
            }
        }
        for (int i = 0; i < n; i++) {
            const uint8_t *s = set->u8 + rows[i] * ss;
            for (int f = 0; f < F; f++) B->code[(size_t)f * n + i] = (uint8_t)map[(size_t)f * 256 + s[f]];
        }
        free(map), free(x), free(col);
        return 0;
    }
    /* Floats: sort each column; up to 256 distinct values are exact bins, more get quantile bins. */
    float *all = malloc(sizeof *all * (size_t)n * F);
    if (!all) {
        free(x), free(col);
        return -1;
    }
    for (int i = 0; i < n; i += CHUNK) {
        int c = n - i < CHUNK ? n - i : CHUNK;
        data_gather(set, rows + i, c, scale, x, NULL);
        for (int r = 0; r < c; r++)
            for (int f = 0; f < F; f++) all[(size_t)f * n + i + r] = x[(size_t)r * F + f];
    }
    for (int f = 0; f < F; f++) {
        float *v = all + (size_t)f * n, *lo = B->lo + (size_t)f * MAX_BINS, *hi = B->hi + (size_t)f * MAX_BINS;
        memcpy(col, v, sizeof *col * (size_t)n);
        qsort(col, (size_t)n, sizeof *col, cmp_float);
        int d = 0;
        for (int i = 0; i < n; i++)
            if (i == 0 || col[i] != col[d - 1]) col[d++] = col[i];
        int nb = d <= MAX_BINS ? d : MAX_BINS;
        /* Bin b holds distinct values [b*d/nb, (b+1)*d/nb). */
        for (int b = 0; b < nb; b++) lo[b] = col[(size_t)b * d / nb], hi[b] = col[(size_t)(b + 1) * d / nb - 1];
        for (int i = 0; i < n; i++) {
            int a = 0, z = nb - 1;
            while (a < z) {
                int mid = (a + z) / 2;
                if (v[i] <= hi[mid]) z = mid;
                else a = mid + 1;
            }
            B->code[(size_t)f * n + i] = (uint8_t)a;
        }
    }
    free(all), free(x), free(col);
    return 0;
}

typedef struct grower {
    est_model *m;
    const bins *B;
    const int32_t *y;
    int n, F, K, max_features;
    uint32_t *samples;          /* the tree's distinct samples, partitioned node by node */
    uint32_t *spill;            /* (n): the right side of a partition, in order */
    int32_t *weight;            /* (n) bootstrap counts */
    int *features;              /* a permutation, drawn from per node */
    int32_t *hist;              /* (MAX_BINS, K) */
    uint8_t *seen;              /* (MAX_BINS + 1): bins present in the node */
    uint32_t *label_weight;     /* (n): label << 16 | bootstrap count (Poisson(1): never near 2^16) */
    int64_t *left, *total;      /* (K) */
    uint32_t *keys;             /* small nodes: code << 16 | position */
    rng r;
} grower;

typedef struct split { int feature, code; float threshold; double proxy; } split;

/* Gini's proxy for a split: sum_k L_k^2 / wL + sum_k R_k^2 / wR (larger is better). */
static inline void consider_split(const grower *g, int feature, int code, int next_code, double sqL, double wL, double sqR,
                           double wR, split *best)
{
    double proxy = sqL / wL + sqR / wR;
    if (proxy > best->proxy) {
        const float *hi = g->B->hi + (size_t)feature * MAX_BINS, *lo = g->B->lo + (size_t)feature * MAX_BINS;
        best->proxy = proxy, best->feature = feature, best->code = code;
        best->threshold = hi[code] / 2.0f + lo[next_code] / 2.0f;
        /* The midpoint may round up to the next value: keep it below, as scikit-learn does. */
        if (best->threshold >= lo[next_code]) best->threshold = hi[code];
    }
}

/* The best split of samples[start, end) on one feature; returns 0 when the feature is constant there. */
static int scan_feature(grower *g, int feature, int start, int end, double wsum, double sqsum, split *best)
{
    const uint8_t *code = g->B->code + (size_t)feature * g->n;
    int K = g->K, cnt = end - start;
    int64_t *left = g->left;
    for (int k = 0; k < K; k++) left[k] = 0;
    double sqL = 0, sqR = sqsum, wL = 0;
    if (cnt <= SMALL_NODE) {
        uint32_t *keys = g->keys;
        for (int i = 0; i < cnt; i++) keys[i] = (uint32_t)code[g->samples[start + i]] << 16 | (uint32_t)i;
        for (int i = 1; i < cnt; i++)
            for (int j = i; j > 0 && keys[j - 1] > keys[j]; j--) {
                uint32_t t = keys[j]; keys[j] = keys[j - 1]; keys[j - 1] = t;
            }
        if (keys[0] >> 16 == keys[cnt - 1] >> 16) return 0;
        for (int i = 0; i < cnt;) {
            int c = (int)(keys[i] >> 16);
            for (; i < cnt && (int)(keys[i] >> 16) == c; i++) {
                uint32_t s = g->samples[start + (keys[i] & 0xffff)];
                int k = g->y[s];
                int64_t w = g->weight[s], L = left[k], R = g->total[k] - L;
                sqL += (double)(2 * L * w + w * w);
                sqR -= (double)(2 * R * w - w * w);
                left[k] += w, wL += (double)w;
            }
            if (i < cnt) consider_split(g, feature, c, (int)(keys[i] >> 16), sqL, wL, sqR, wsum - wL, best);
        }
        return 1;
    }
    /* One pass: a bin's class counts are cleared when the bin is first met.
     * (A bin's total is summed at the scan: one read-modify-write per sample.) */
    int lo = 255, hi = 0;
    uint8_t *seen = g->seen;
    int32_t *hist = g->hist;
    memset(seen, 0, MAX_BINS + 1);
    for (int i = start; i < end; i++) {
        uint32_t s = g->samples[i], yw = g->label_weight[s];
        int c = code[s];
        int32_t *h = hist + (size_t)c * K;
        if (!seen[c]) {
            seen[c] = 1;
            for (int k = 0; k < K; k++) h[k] = 0;
            lo = c < lo ? c : lo, hi = c > hi ? c : hi;
        }
        h[yw >> 16] += (int32_t)(yw & 0xffff);
    }
    if (hi <= lo) return 0;
    seen[hi + 1] = 1;
    for (int c = lo; c < hi; c++) {
        if (!seen[c]) continue;
        const int32_t *h = hist + (size_t)c * K;
        int64_t bin = 0;
        for (int k = 0; k < K; k++) {
            int64_t w = h[k];
            if (!w) continue;
            int64_t L = left[k], R = g->total[k] - L;
            sqL += (double)(2 * L * w + w * w);
            sqR -= (double)(2 * R * w - w * w);
            left[k] += w;
            bin += w;
        }
        wL += (double)bin;
        int next = c + 1;
        while (!seen[next]) next++;
        consider_split(g, feature, c, next, sqL, wL, sqR, wsum - wL, best);
    }
    return 1;
}

static int32_t new_node(est_model *m)
{
    if (m->n_nodes == m->cap_nodes) {
        int cap = m->cap_nodes ? m->cap_nodes * 2 : 1024;
        tree_node *grown = realloc(m->nodes, sizeof *grown * (size_t)cap);
        if (!grown) return -1;
        m->nodes = grown, m->cap_nodes = cap;
    }
    return m->n_nodes++;
}

static int make_leaf(grower *g, int32_t node, double wsum)
{
    est_model *m = g->m;
    if (m->n_leaves == m->cap_leaves) {
        int cap = m->cap_leaves ? m->cap_leaves * 2 : 1024;
        float *grown = realloc(m->probs, sizeof *grown * (size_t)cap * g->K);
        if (!grown) return -1;
        m->probs = grown, m->cap_leaves = cap;
    }
    float *p = m->probs + (size_t)m->n_leaves * g->K;
    for (int k = 0; k < g->K; k++) p[k] = (float)(g->total[k] / wsum);
    m->nodes[node] = (tree_node){ .feature = -1, .left = -1, .right = m->n_leaves++ };
    return 0;
}

typedef struct pending { int32_t node; int start, end, depth; } pending;

/* Grow one tree over samples[0, count) with their weights. */
static int grow_tree(grower *g, int count, pending *stack)
{
    est_model *m = g->m;
    int K = g->K, top = 0;
    int32_t root = new_node(m);
    if (root < 0) return -1;
    stack[top++] = (pending){ root, 0, count, 0 };
    while (top > 0) {
        pending nd = stack[--top];
        double wsum = 0;
        for (int k = 0; k < K; k++) g->total[k] = 0;
        for (int i = nd.start; i < nd.end; i++) g->total[g->y[g->samples[i]]] += g->weight[g->samples[i]];
        double sqsum = 0;
        int classes = 0;
        for (int k = 0; k < K; k++) {
            wsum += (double)g->total[k];
            sqsum += (double)g->total[k] * (double)g->total[k];
            classes += g->total[k] > 0;
        }
        int cnt = nd.end - nd.start;
        if (classes <= 1 || cnt < m->p.min_samples_split || (m->p.max_depth && nd.depth >= m->p.max_depth)) {
            if (make_leaf(g, nd.node, wsum)) return -1;
            continue;
        }
        /* scikit-learn's draw: features without replacement until max_features are
         * visited and one of them was not constant in the node. */
        split best = { .feature = -1, .proxy = -INFINITY };
        int visited = 0, constant = 0;
        for (int j = 0; j < g->F && (visited < g->max_features || visited <= constant); j++) {
            int r = j + (int)rng_below(&g->r, (uint64_t)(g->F - j));
            int f = g->features[r];
            g->features[r] = g->features[j], g->features[j] = f;
            visited++;
            if (!scan_feature(g, f, nd.start, nd.end, wsum, sqsum, &best)) constant++;
        }
        if (best.feature < 0) {
            if (make_leaf(g, nd.node, wsum)) return -1;
            continue;
        }
        const uint8_t *code = g->B->code + (size_t)best.feature * g->n;
        /* A stable partition: samples stay in increasing order within every node, so
         * the scans read each feature's codes front to back (4x fewer cache misses). */
        int i = nd.start, spill = 0;
        for (int q = nd.start; q < nd.end; q++) {
            uint32_t smp = g->samples[q];
            if (code[smp] <= best.code) g->samples[i++] = smp;
            else g->spill[spill++] = smp;
        }
        memcpy(g->samples + i, g->spill, sizeof *g->spill * (size_t)spill);
        int32_t left = new_node(m), right = left >= 0 ? new_node(m) : -1;
        if (right < 0) return -1;
        m->nodes[nd.node] = (tree_node){ .feature = best.feature, .threshold = best.threshold, .left = left, .right = right };
        /* Left child on top: nodes are grown in depth-first, left-first order. */
        stack[top++] = (pending){ right, i, nd.end, nd.depth + 1 };
        stack[top++] = (pending){ left, nd.start, i, nd.depth + 1 };
    }
    return 0;
}

static int resolve_max_features(const est_params *p, int F)
{
    double v;
    switch (p->mf) {
    case EST_MF_SQRT: v = floor(sqrt((double)F)); break;
    case EST_MF_LOG2: v = floor(log2((double)F)); break;
    case EST_MF_COUNT: v = p->mf_value; break;
    case EST_MF_FRACTION: v = floor(p->mf_value * F); break;
    default: v = F;
    }
    return v < 1 ? 1 : v > F ? F : (int)v;
}

/* One thread's share of the forest: trees first, first + step, ... grown
 * into its own node and leaf arrays (the `part` shell), merged in the end.
 * A tree depends only on its index (its own random stream, the feature
 * permutation reset), so the forest is the same for any number of threads. */
typedef struct forest_worker {
    grower g;
    est_model part;             /* only nodes, probs and their counts */
    int32_t *root_of;           /* (T): a tree's root within its worker's part */
    pending *stack;
    int first, step, T, rc, tree;
    const est_params *p;
    pthread_t thread;
} forest_worker;

static void worker_free(forest_worker *w)
{
    grower *g = &w->g;
    free(g->samples), free(g->spill), free(g->weight), free(g->features), free(g->hist), free(g->seen);
    free(g->label_weight), free(g->left), free(g->total), free(g->keys), free(w->stack);
    free(w->part.nodes), free(w->part.probs);
}

static int worker_alloc(forest_worker *w, int n, int F, int K)
{
    grower *g = &w->g;
    g->samples = malloc(sizeof *g->samples * (size_t)n);
    g->spill = malloc(sizeof *g->spill * (size_t)n);
    g->weight = malloc(sizeof *g->weight * (size_t)n);
    g->features = malloc(sizeof *g->features * (size_t)F);
    g->hist = malloc(sizeof *g->hist * MAX_BINS * (size_t)K);
    g->seen = malloc(MAX_BINS + 2);
    g->label_weight = malloc(sizeof *g->label_weight * (size_t)n);
    g->left = malloc(sizeof *g->left * (size_t)K);
    g->total = malloc(sizeof *g->total * (size_t)K);
    g->keys = malloc(sizeof *g->keys * (SMALL_NODE + 1));
    /* Depth-first growth keeps at most one pending sibling per level: n + 1 entries suffice. */
    w->stack = malloc(sizeof *w->stack * ((size_t)n + 2));
    return g->samples && g->spill && g->weight && g->features && g->hist && g->seen && g->label_weight && g->left &&
                   g->total && g->keys && w->stack ? 0 : -1;
}

static void *worker_run(void *arg)
{
    forest_worker *w = arg;
    grower *g = &w->g;
    int n = g->n;
    for (int t = w->first; t < w->T; t += w->step) {
        g->r = rng_stream(rng_key(w->p->seed, (uint64_t)t));
        for (int f = 0; f < g->F; f++) g->features[f] = f;
        int count = 0;
        if (w->p->bootstrap) {
            memset(g->weight, 0, sizeof *g->weight * (size_t)n);
            for (int i = 0; i < n; i++) g->weight[rng_below(&g->r, (uint64_t)n)]++;
            for (int i = 0; i < n; i++)
                if (g->weight[i]) g->samples[count++] = (uint32_t)i;
        } else {
            for (int i = 0; i < n; i++) g->weight[i] = 1, g->samples[count++] = (uint32_t)i;
        }
        for (int i = 0; i < n; i++) g->label_weight[i] = (uint32_t)g->y[i] << 16 | (uint32_t)g->weight[i];
        w->root_of[t] = w->part.n_nodes;
        if (grow_tree(g, count, w->stack)) {
            w->rc = -1, w->tree = t;
            break;
        }
    }
    return NULL;
}


static int forest_threads(const est_params *p, int n)
{
    if (p->threads > 0) return p->threads;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    long idle = cpus - (atomic_load(&est_running_fits) - 1);
    /* Small forests are done before a thread would start. */
    if (idle <= 1 || (double)n * p->n_estimators < 5e4) return 1;
    return (int)(idle < 8 ? idle : 8);
}

static int fit_forest(est_model *m, const data_set *set, const uint32_t *rows, int n, float scale, hpt_error *e)
{
    int F = m->F, K = m->K, T = m->p.n_estimators;
    if (K > 0xffff) return hpt_fail(e, "RandomForestClassifier: %d classes is more than it handles (65535)", K);
    int W = forest_threads(&m->p, n);
    W = W < T ? W : T;
    bins B = { 0 };
    int32_t *y = malloc(sizeof *y * (size_t)n), *root_of = malloc(sizeof *root_of * (size_t)T);
    forest_worker *w = calloc((size_t)W, sizeof *w);
    m->roots = malloc(sizeof *m->roots * (size_t)T);
    int rc = -1, started = 0;
    if (!y || !root_of || !w || !m->roots || make_bins(&B, set, rows, n, F, scale)) goto oom;
    for (int i = 0; i < n; i++) y[i] = set->labels[rows[i]];
    for (int k = 0; k < W; k++) {
        w[k] = (forest_worker){ .g = { .m = &w[k].part, .B = &B, .y = y, .n = n, .F = F, .K = K,
                                       .max_features = resolve_max_features(&m->p, F) },
                                .part = { .K = K, .p = m->p }, .root_of = root_of, .first = k, .step = W, .T = T, .p = &m->p };
        w[k].g.m = &w[k].part;
        if (worker_alloc(&w[k], n, F, K)) goto oom;
    }
    /* Worker 0 runs here; one whose thread cannot start runs here too. */
    for (int k = 1; k < W; k++) started += pthread_create(&w[k].thread, NULL, worker_run, &w[k]) == 0 ? 1 << k : 0;
    for (int k = 0; k < W; k++) {
        if (k == 0 || !(started & 1 << k)) worker_run(&w[k]);
        else pthread_join(w[k].thread, NULL);
    }
    /* Merge the parts: node and leaf indices shift by what precedes them. */
    int nodes = 0, leaves = 0;
    for (int k = 0; k < W; k++) {
        if (w[k].rc) {
            hpt_fail(e, "RandomForestClassifier: out of memory growing tree %d", w[k].tree + 1);
            goto out;
        }
        nodes += w[k].part.n_nodes, leaves += w[k].part.n_leaves;
    }
    m->nodes = malloc(sizeof *m->nodes * (size_t)(nodes ? nodes : 1));
    m->probs = malloc(sizeof *m->probs * (size_t)(leaves ? leaves : 1) * K);
    if (!m->nodes || !m->probs) goto oom;
    for (int k = 0; k < W; k++) {
        int node0 = m->n_nodes, leaf0 = m->n_leaves;
        for (int j = 0; j < w[k].part.n_nodes; j++) {
            tree_node nd = w[k].part.nodes[j];
            if (nd.feature >= 0) nd.left += node0, nd.right += node0;
            else nd.right += leaf0;
            m->nodes[node0 + j] = nd;
        }
        memcpy(m->probs + (size_t)leaf0 * K, w[k].part.probs, sizeof *m->probs * (size_t)w[k].part.n_leaves * K);
        for (int t = k; t < T; t += W) m->roots[t] = node0 + root_of[t];
        m->n_nodes += w[k].part.n_nodes, m->n_leaves += w[k].part.n_leaves;
    }
    m->cap_nodes = m->n_nodes, m->cap_leaves = m->n_leaves;
    rc = 0;
    goto out;
oom:
    hpt_fail(e, "RandomForestClassifier: out of memory for %d rows of %d features", n, F);
out:
    for (int k = 0; w && k < W; k++) worker_free(&w[k]);
    free(w), free(y), free(root_of);
    free(B.code), free(B.lo), free(B.hi);
    return rc;
}

static void forest_predict(const est_model *m, const float *x, int c, est_scratch *s, int32_t *pred, float *proba)
{
    float *row = s->row;
    int K = m->K, F = m->F, T = m->p.n_estimators;
    for (int r = 0; r < c; r++) {
        const float *xr = x + (size_t)r * F;
        float *p = proba ? proba + (size_t)r * K : row;
        for (int k = 0; k < K; k++) p[k] = 0;
        for (int t = 0; t < T; t++) {
            const tree_node *nd = &m->nodes[m->roots[t]];
            while (nd->feature >= 0) nd = &m->nodes[xr[nd->feature] <= nd->threshold ? nd->left : nd->right];
            const float *leaf = m->probs + (size_t)nd->right * K;
            for (int k = 0; k < K; k++) p[k] += leaf[k];
        }
        int best = 0;
        for (int k = 0; k < K; k++) {
            p[k] /= (float)T;
            best = p[k] > p[best] ? k : best;
        }
        if (pred) pred[r] = best;
    }
}

const est_family est_forest = { "RandomForestClassifier", ST_RandomForestClassifier, 1, forest_params, fit_forest, NULL,
                                forest_predict };
