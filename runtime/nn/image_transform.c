/* image_transform.c: TensorFlow's ImageProjectiveTransformV3 for affine
 * transforms, with its adjoint (see image_transform.h).
 *
 * The forward follows tensorflow/core/kernels/image/image_ops.h step by
 * step, in float as it computes: the output point is mapped to an input
 * point, the fill mode maps that point into [0, len - 1] on each axis
 * (MapCoordinate: reflect and wrap fold it, nearest clamps it, constant
 * leaves it), then bilinear interpolation reads the four pixels around it
 * (floor and floor + 1 on each axis), or nearest interpolation the one at
 * round(), a pixel outside the image reading fill_value.  The backward walks
 * the same points with the same weights and adds weight * dy to each pixel
 * read, so it is the exact transpose of the forward as a linear map of the
 * input (the fill_value terms are constant: no gradient). */
#include "runtime/nn/image_transform.h"

#include <math.h>
#include <string.h>

int image_fill_of(const char *name)
{
    static const char *const names[] = { "reflect", "wrap", "constant", "nearest" };
    for (int k = 0; k < 4; k++)
        if (!strcmp(name, names[k])) return k;
    return -1;
}

int image_interp_of(const char *name)
{
    return !strcmp(name, "bilinear") ? IMAGE_BILINEAR : !strcmp(name, "nearest") ? IMAGE_NEAREST : -1;
}

image_affine image_translation(float dx, float dy) { return (image_affine){ { 1, 0, -dx, 0, 1, -dy } }; }

image_affine image_rotation(float angle, int H, int W)
{
    float c = cosf(angle), s = sinf(angle), w1 = (float)(W - 1), h1 = (float)(H - 1);
    float x_offset = (w1 - (c * w1 - s * h1)) / 2.0f;
    float y_offset = (h1 - (s * w1 + c * h1)) / 2.0f;
    return (image_affine){ { c, -s, x_offset, s, c, y_offset } };
}

image_affine image_zoom(float zx, float zy, int H, int W)
{
    float x_offset = ((float)(W - 1) / 2.0f) * (1.0f - zx);
    float y_offset = ((float)(H - 1) / 2.0f) * (1.0f - zy);
    return (image_affine){ { zx, 0, x_offset, 0, zy, y_offset } };
}

static float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

/* MapCoordinate<FILL_REFLECT>: [abcd] to [dcba|abcd|dcba].  TensorFlow's
 * integer truncations (static_cast<DenseIndex>) kept as they are. */
static float map_reflect(float in, int len)
{
    if (in < 0) {
        if (len <= 1) return 0;
        long sz2 = 2L * len;
        in = (float)sz2 * (float)(long)(-in / (float)sz2) + in;
        in = in < (float)-len ? in + (float)sz2 : -in - 1;
    } else if (in > (float)(len - 1)) {
        if (len <= 1) return 0;
        long sz2 = 2L * len;
        in -= (float)sz2 * (float)(long)(in / (float)sz2);
        if (in >= (float)len) in = (float)sz2 - in - 1;
    }
    return clampf(in, 0, (float)(len - 1));
}

/* MapCoordinate<FILL_WRAP>: [abcd] to [abcd|abcd|abcd]. */
static float map_wrap(float in, int len)
{
    if (in < 0) {
        if (len <= 1) return 0;
        long sz = len - 1;
        in += (float)len * (float)((long)(-in / (float)sz) + 1);
    } else if (in > (float)(len - 1)) {
        if (len <= 1) return 0;
        long sz = len - 1;
        in -= (float)len * (float)(long)(in / (float)sz);
    }
    return clampf(in, 0, (float)(len - 1));
}

static float map_coordinate(image_fill fill, float in, int len)
{
    switch (fill) {
    case IMAGE_FILL_REFLECT: return map_reflect(in, len);
    case IMAGE_FILL_WRAP: return map_wrap(in, len);
    case IMAGE_FILL_NEAREST: return clampf(in, 0, (float)(len - 1));
    case IMAGE_FILL_CONSTANT: break;
    }
    return in;
}

/* The up to four input pixels one output pixel reads and their weights:
 * index -1 for a read of the fill (outside the image). */
typedef struct taps {
    long at[4];                 /* pixel index y * W + x, or -1 */
    float w[4];
    int n;
} taps;

/* The pixel at (y, x), coordinates already whole (floor or round), or -1
 * outside the image: TensorFlow's DenseIndex bounds check, made on the
 * floats so that no far coordinate is converted to an integer. */
static long pixel(const image_geom *g, float y, float x)
{
    if (!(y >= 0 && y < (float)g->H && x >= 0 && x < (float)g->W)) return -1;
    return (long)y * g->W + (long)x;
}

/* A point this far out is outside for every fill mode that does not fold
 * it, and folding it (reflect, wrap) in float has no precision left; the
 * bound keeps TensorFlow's integer truncations in range (a zoom factor
 * may be any size). */
#define FAR_OUT 1e8f

static void taps_of(const image_geom *g, const image_affine *t, int ox, int oy, taps *k)
{
    const float *m = t->m;
    float fx = (float)ox, fy = (float)oy;
    float x = map_coordinate(g->fill, clampf(m[0] * fx + m[1] * fy + m[2], -FAR_OUT, FAR_OUT), g->W);
    float y = map_coordinate(g->fill, clampf(m[3] * fx + m[4] * fy + m[5], -FAR_OUT, FAR_OUT), g->H);
    if (g->interp == IMAGE_NEAREST) {
        k->n = 1;
        k->at[0] = pixel(g, roundf(y), roundf(x));
        k->w[0] = 1;
        return;
    }
    float y0 = floorf(y), x0 = floorf(x), y1 = y0 + 1, x1 = x0 + 1;
    /* value = (y1 - y) * ((x1 - x) f(y0, x0) + (x - x0) f(y0, x1))
     *       + (y - y0) * ((x1 - x) f(y1, x0) + (x - x0) f(y1, x1)) */
    k->n = 4;
    k->at[0] = pixel(g, y0, x0), k->w[0] = (y1 - y) * (x1 - x);
    k->at[1] = pixel(g, y0, x1), k->w[1] = (y1 - y) * (x - x0);
    k->at[2] = pixel(g, y1, x0), k->w[2] = (y - y0) * (x1 - x);
    k->at[3] = pixel(g, y1, x1), k->w[3] = (y - y0) * (x - x0);
}

void image_transform_forward(const image_geom *g, const image_affine *t, const float *x /* (H, W, C) */,
                             float *y /* (H, W, C) */)
{
    int C = g->C;
    taps k;
    for (int oy = 0; oy < g->H; oy++)
        for (int ox = 0; ox < g->W; ox++) {
            taps_of(g, t, ox, oy, &k);
            float *out = y + ((size_t)oy * g->W + ox) * C;
            for (int c = 0; c < C; c++) {
                float v = 0;
                for (int j = 0; j < k.n; j++) v += k.w[j] * (k.at[j] >= 0 ? x[k.at[j] * C + c] : g->fill_value);
                out[c] = v;
            }
        }
}

void image_transform_backward(const image_geom *g, const image_affine *t, const float *dy /* (H, W, C) */,
                              float *dx /* (H, W, C) */)
{
    int C = g->C;
    taps k;
    memset(dx, 0, sizeof(float) * (size_t)g->H * g->W * C);
    for (int oy = 0; oy < g->H; oy++)
        for (int ox = 0; ox < g->W; ox++) {
            taps_of(g, t, ox, oy, &k);
            const float *d = dy + ((size_t)oy * g->W + ox) * C;
            for (int j = 0; j < k.n; j++) {
                if (k.at[j] < 0 || k.w[j] == 0) continue;
                float *to = dx + k.at[j] * C;
                for (int c = 0; c < C; c++) to[c] += k.w[j] * d[c];
            }
        }
}

void image_flip(const float *x /* (H, W, C) */, float *y /* (H, W, C) */, int H, int W, int C, int horizontal,
                int vertical)
{
    for (int r = 0; r < H; r++) {
        int from_r = vertical ? H - 1 - r : r;
        for (int col = 0; col < W; col++) {
            int from_c = horizontal ? W - 1 - col : col;
            memcpy(y + ((size_t)r * W + col) * C, x + ((size_t)from_r * W + from_c) * C, sizeof(float) * (size_t)C);
        }
    }
}
