/* augment.c: the augmentation layers RandomFlip, RandomTranslation,
 * RandomRotation and RandomZoom, as Keras 2 defines them (Keras's
 * image_preprocessing.py over TensorFlow's ImageProjectiveTransformV3, here
 * runtime/nn/image_transform.c).
 *
 * While training each image of the batch gets its own draw: a flip with
 * probability 1/2 per axis, a shift, an angle or a zoom uniform in the
 * layer's (lower, upper) range.  At inference (evaluation, prediction) the
 * layer is a view of its input, as Dropout is.  The draws are a pure
 * function of (seed, step, layer index, position in the batch) — the key
 * Dropout's masks use (layer_dropout_key), or with `seed = N` the same key
 * made from N instead of the trial's seed — so a trial repeats exactly under
 * any --jobs and across a resume, and nothing is stored between forward and
 * backward: the backward draws the same transforms again.
 *
 * No weights.  The backward is the transform's adjoint (a flip is its own;
 * the interpolation weights scattered back otherwise), exact but unused in
 * practice: these layers come right after the Input, before every weight,
 * and the trial's backward stops at the first layer with weights.  The
 * kernels are C on both backends, in float32 under mixed_bfloat16 too
 * (there is no GEMM to take bf16 operands). */
#include "runtime/nn/image_transform.h"
#include "runtime/nn/layers/layers.h"
#include "runtime/nn/onnx.h"
#include "runtime/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The settings the arguments give, kept in the layer's kernel_state. */
typedef struct augment augment;
struct augment {
    image_geom g;               /* one image's size, fill and interpolation */
    float lo[2], hi[2];         /* factor ranges: [0] height (or the angle), [1] width */
    int same_zoom;              /* RandomZoom without width_factor: the width takes the height's draw */
    int flip_h, flip_v;         /* RandomFlip's axes */
    int seeded;
    uint64_t seed;
    /* The transform of one image from its stream of draws (NULL: RandomFlip). */
    image_affine (*draw)(const augment *a, rng *g);
};

/* A factor as Keras reads it: f is (-f, f), a pair is (lower, upper). */
static void range_of(hpt_value v, float *lo, float *hi)
{
    if (v.type == V_LIST && v.u.list.n == 2) {
        *lo = (float)value_as_double(v.u.list.items[0]);
        *hi = (float)value_as_double(v.u.list.items[1]);
    } else {
        *hi = (float)value_as_double(v);
        *lo = -*hi;
    }
}

/* Common to the four: the image's geometry and the seed. */
static augment plan_common(const trial_layer *L, hpt_value seed)
{
    augment a = { .g = { .H = L->in[0], .W = L->in[1], .C = L->in_rank == 3 ? L->in[2] : 1 } };
    a.seeded = seed.type == V_INT;
    a.seed = a.seeded ? (uint64_t)seed.u.i : 0;
    return a;
}

/* fill_mode, interpolation and fill_value, the same three in the three transforms' argument lists. */
static int plan_fill(augment *a, hpt_value fill_mode, hpt_value interpolation, hpt_value fill_value, char *why, size_t n)
{
    int f = fill_mode.type == V_STRING ? image_fill_of(fill_mode.u.s) : -1;
    int i = interpolation.type == V_STRING ? image_interp_of(interpolation.u.s) : -1;
    if (f < 0 || i < 0) {
        snprintf(why, n, "unknown fill_mode or interpolation");  /* the checker refuses them first */
        return -1;
    }
    a->g.fill = (image_fill)f;
    a->g.interp = (image_interp)i;
    a->g.fill_value = (float)value_as_double(fill_value);
    return 0;
}

/* The plan's last step, once nothing can fail but the allocation: a layer
 * whose plan fails is not freed by the trial, so it must hold nothing. */
static int keep(trial_layer *L, const augment *a, char *why, size_t n)
{
    augment *kept = malloc(sizeof *kept);
    if (!kept) {
        snprintf(why, n, "out of memory");
        return -1;
    }
    *kept = *a;
    L->kernel_state = kept;
    return 0;
}

static int plan_flip(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    augment a = plan_common(L, args[RandomFlip_seed]);
    const char *mode = args[RandomFlip_mode].type == V_STRING ? args[RandomFlip_mode].u.s : "horizontal_and_vertical";
    a.flip_h = strcmp(mode, "vertical") != 0;
    a.flip_v = strcmp(mode, "horizontal") != 0;
    return keep(L, &a, why, n);
}

/* Uniform in [lo, hi), as Keras's random_uniform(minval, maxval). */
static float uniform(rng *g, float lo, float hi) { return lo + (hi - lo) * rng_float(g); }

/* Keras's draws, height first: a shift by fractions of the size, an angle
 * as a fraction of 2 pi, a zoom of 1 + factor on each axis. */
static image_affine draw_translation(const augment *a, rng *g)
{
    float dy = uniform(g, a->lo[0], a->hi[0]) * (float)a->g.H;
    float dx = uniform(g, a->lo[1], a->hi[1]) * (float)a->g.W;
    return image_translation(dx, dy);
}

static image_affine draw_rotation(const augment *a, rng *g)
{
    float turn = 2.0f * (float)M_PI;
    return image_rotation(uniform(g, a->lo[0] * turn, a->hi[0] * turn), a->g.H, a->g.W);
}

static image_affine draw_zoom(const augment *a, rng *g)
{
    float zy = uniform(g, 1.0f + a->lo[0], 1.0f + a->hi[0]);
    float zx = a->same_zoom ? zy : uniform(g, 1.0f + a->lo[1], 1.0f + a->hi[1]);
    return image_zoom(zx, zy, a->g.H, a->g.W);
}

static int plan_translation(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    augment a = plan_common(L, args[RandomTranslation_seed]);
    range_of(args[RandomTranslation_height_factor], &a.lo[0], &a.hi[0]);
    range_of(args[RandomTranslation_width_factor], &a.lo[1], &a.hi[1]);
    a.draw = draw_translation;
    if (plan_fill(&a, args[RandomTranslation_fill_mode], args[RandomTranslation_interpolation],
                  args[RandomTranslation_fill_value], why, n))
        return -1;
    return keep(L, &a, why, n);
}

static int plan_rotation(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    augment a = plan_common(L, args[RandomRotation_seed]);
    range_of(args[RandomRotation_factor], &a.lo[0], &a.hi[0]);
    a.draw = draw_rotation;
    if (plan_fill(&a, args[RandomRotation_fill_mode], args[RandomRotation_interpolation], args[RandomRotation_fill_value],
                  why, n))
        return -1;
    return keep(L, &a, why, n);
}

static int plan_zoom(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    augment a = plan_common(L, args[RandomZoom_seed]);
    range_of(args[RandomZoom_height_factor], &a.lo[0], &a.hi[0]);
    a.same_zoom = args[RandomZoom_width_factor].type == V_NONE;
    if (!a.same_zoom) range_of(args[RandomZoom_width_factor], &a.lo[1], &a.hi[1]);
    a.draw = draw_zoom;
    if (plan_fill(&a, args[RandomZoom_fill_mode], args[RandomZoom_interpolation], args[RandomZoom_fill_value], why, n))
        return -1;
    return keep(L, &a, why, n);
}

static void sizes(const trial_layer *L, size_t B, layer_sizes *s) { s->y = B * L->out_size; }

static void release(trial_layer *L)
{
    free(L->kernel_state);
    L->kernel_state = NULL;
}

/* The key of this step's draws for this layer: Dropout's (trial seed, step,
 * layer), or the same made from the layer's own seed; then a tag of its
 * own, so that an augmentation's stream is never a Dropout mask's. */
static uint64_t draws_key(const trial_layer *L, const layer_run *r)
{
    const augment *a = L->kernel_state;
    layer_run own = *r;
    if (a->seeded) own.dropout_seed = rng_key(a->seed, RNG_DROPOUT);
    return rng_key(layer_dropout_key(&own, L->index), 0x617567ull /* "aug" */);
}

/* The transform of sample i this step, drawn from its own stream. */
static image_affine transform_of(const augment *a, uint64_t key, int i)
{
    rng g = rng_stream(rng_key(key, (uint64_t)i));
    return a->draw(a, &g);
}

/* Sample i's flips this step: bit 0 horizontal, bit 1 vertical. */
static int flips_of(const augment *a, uint64_t key, int i)
{
    rng g = rng_stream(rng_key(key, (uint64_t)i));
    int h = (int)(rng_next(&g) >> 63), v = (int)(rng_next(&g) >> 63);
    return (a->flip_h && h) | (a->flip_v && v) << 1;
}

static void forward(trial_layer *L, const layer_run *r, const float *x)
{
    const augment *a = L->kernel_state;
    if (!r->training) {
        L->out = (float *)x;
        return;
    }
    L->out = L->y;
    uint64_t key = draws_key(L, r);
    size_t n = L->in_size;
    for (int i = 0; i < r->B; i++) {
        const float *xi = x + (size_t)i * n;
        float *yi = L->y + (size_t)i * n;
        if (!a->draw) {
            int f = flips_of(a, key, i);
            image_flip(xi, yi, a->g.H, a->g.W, a->g.C, f & 1, f >> 1);
        } else {
            image_affine t = transform_of(a, key, i);
            image_transform_forward(&a->g, &t, xi, yi);
        }
    }
}

static int backward(trial_layer *L, const layer_run *r, const float *x, float *dy, float *dx)
{
    const augment *a = L->kernel_state;
    if (!dx) return 0;      /* the first layer: nobody wants the input's gradient */
    uint64_t key = draws_key(L, r);
    size_t n = L->in_size;
    for (int i = 0; i < r->B; i++) {
        const float *dyi = dy + (size_t)i * n;
        float *dxi = dx + (size_t)i * n;
        if (!a->draw) {
            int f = flips_of(a, key, i);
            image_flip(dyi, dxi, a->g.H, a->g.W, a->g.C, f & 1, f >> 1);
        } else {
            image_affine t = transform_of(a, key, i);
            image_transform_backward(&a->g, &t, dyi, dxi);
        }
    }
    return 1;
}

const layer_ops layer_random_flip = { .flags = LAYER_BLAS, .plan = plan_flip, .sizes = sizes, .forward = forward,
                                      .backward = backward, .release = release, .onnx = onnx_identity };
const layer_ops layer_random_translation = { .flags = LAYER_BLAS, .plan = plan_translation, .sizes = sizes,
                                             .forward = forward, .backward = backward, .release = release,
                                             .onnx = onnx_identity };
const layer_ops layer_random_rotation = { .flags = LAYER_BLAS, .plan = plan_rotation, .sizes = sizes,
                                          .forward = forward, .backward = backward, .release = release,
                                          .onnx = onnx_identity };
const layer_ops layer_random_zoom = { .flags = LAYER_BLAS, .plan = plan_zoom, .sizes = sizes, .forward = forward,
                                      .backward = backward, .release = release, .onnx = onnx_identity };
