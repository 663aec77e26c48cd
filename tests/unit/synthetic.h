/* synthetic.h: the small learnable data set the whole-network unit tests
 * train on: n samples of 6x2 uniform features, 10 classes, the label a
 * function of the first two features (so a few epochs lift accuracy well
 * above chance).  Free with data_free. */
#ifndef HPTC_TEST_SYNTHETIC_H
#define HPTC_TEST_SYNTHETIC_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/data/data.h"
#include "runtime/rng.h"

static inline void synthetic_data(data_set *d, int n)
{
    memset(d, 0, sizeof *d);
    d->n = n, d->rank = 2, d->shape[0] = 6, d->shape[1] = 2, d->sample_size = 12, d->n_classes = 10;
    d->f32 = malloc(sizeof(float) * 12 * (size_t)n);
    d->labels = malloc(sizeof(int32_t) * (size_t)n);
    rng r = rng_stream(9);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < 12; j++) d->f32[i * 12 + j] = rng_float(&r);
        d->labels[i] = (int)(d->f32[i * 12] * 5) + 5 * (d->f32[i * 12 + 1] > 0.5f);
    }
    snprintf(d->source, sizeof d->source, "synthetic");
}

#endif
