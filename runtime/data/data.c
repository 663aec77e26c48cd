/* data.c: the data_set in use: the label check, the batch gather of the
 * training loop, and freeing (data.h).
 *
 * The loaders live by format: idx.c (and the built-in datasets), csv.c and
 * npy.c, all reading through reader.c, which reads gzip and plain files alike
 * (reader.h).  A finished set owns one allocation per array (samples, labels,
 * class names), so data_free is four free() calls and data_gather, which
 * runs once per training step, never allocates. */
#include "runtime/data/reader.h"

int data_check_labels(data_set *d, int n_classes, hpt_error *e)
{
    if (check_labels(d->labels, d->n, n_classes, d->source, e)) return -1;
    d->n_classes = n_classes;
    return 0;
}

/* The gather runs every training step.  gcc -O2 vectorises only loops its
 * "very cheap" cost model accepts, one whose trip count is a known multiple
 * of the vector width, hence the split into a multiple of 64 and a tail;
 * and only out of line (inlined into the row loop, gcc 12 gives up on it).
 * The first loop then becomes zero-extend, vcvtdq2ps, vmulps over whole zmm
 * registers, about 2x the plain loop on 784-byte rows; a call per row is
 * noise next to that. */
__attribute__((noinline))
static void u8_to_f32(const uint8_t *restrict src, float *restrict dst, size_t n, float scale)
{
    size_t body = n & ~(size_t)63;
    for (size_t j = 0; j < body; j++) dst[j] = (float)src[j] * scale;
    for (size_t j = body; j < n; j++) dst[j] = (float)src[j] * scale;
}

__attribute__((noinline))
static void scale_f32(const float *restrict src, float *restrict dst, size_t n, float scale)
{
    size_t body = n & ~(size_t)63;
    for (size_t j = 0; j < body; j++) dst[j] = src[j] * scale;
    for (size_t j = body; j < n; j++) dst[j] = src[j] * scale;
}

void data_gather(const data_set *d, const uint32_t *rows, int count, float scale, float *x, int32_t *y)
{
    size_t ss = d->sample_size;
    if (d->u8)
        for (int i = 0; i < count; i++) u8_to_f32(d->u8 + rows[i] * ss, x + (size_t)i * ss, ss, scale);
    else if (scale == 1.0f)
        for (int i = 0; i < count; i++) memcpy(x + (size_t)i * ss, d->f32 + rows[i] * ss, ss * sizeof(float));
    else
        for (int i = 0; i < count; i++) scale_f32(d->f32 + rows[i] * ss, x + (size_t)i * ss, ss, scale);
    if (y)
        for (int i = 0; i < count; i++) y[i] = d->labels[rows[i]];
}

void data_gather_targets(const data_set *d, const uint32_t *rows, int count, float *y)
{
    if (d->targets)
        for (int i = 0; i < count; i++) y[i] = d->targets[rows[i]];
    else
        for (int i = 0; i < count; i++) y[i] = (float)d->labels[rows[i]];
}

void data_free(data_set *d)
{
    free(d->targets);
    free(d->u8);
    free(d->f32);
    free(d->labels);
    free(d->class_names);
    memset(d, 0, sizeof *d);
}

void data_header_free(data_header *h)
{
    free(h->columns);
    h->columns = NULL;
    h->n_columns = 0;
}
