/* image_transform.h: the geometric transforms of the augmentation layers
 * (RandomFlip, RandomTranslation, RandomRotation, RandomZoom), as Keras 2
 * computes them with TensorFlow's ImageProjectiveTransformV3: every output
 * pixel (x, y) reads the input at the point the transform maps it to,
 * mapped into the image by the fill mode, by bilinear or nearest
 * interpolation.  Forward/backward pairs over one image (H, W, C) row-major
 * (channels last); the backward is the forward's adjoint (the interpolation
 * weights scattered back to the pixels they read) and OVERWRITES dx, as
 * kernels.h's pairs do.  Pure functions: the random draws live in the
 * layers (runtime/nn/layers/augment.c). */
#ifndef HPTC_IMAGE_TRANSFORM_H
#define HPTC_IMAGE_TRANSFORM_H

/* Keras's fill_mode: how a point outside the input is read.
 *   reflect  (d c b a | a b c d | d c b a), about the edge of the last pixel
 *   wrap     (a b c d | a b c d | a b c d)
 *   constant (k k k k | a b c d | k k k k), k = fill_value
 *   nearest  (a a a a | a b c d | d d d d) */
typedef enum image_fill { IMAGE_FILL_REFLECT, IMAGE_FILL_WRAP, IMAGE_FILL_CONSTANT, IMAGE_FILL_NEAREST } image_fill;
typedef enum image_interp { IMAGE_BILINEAR, IMAGE_NEAREST } image_interp;

typedef struct image_geom {
    int H, W, C;
    image_fill fill;
    image_interp interp;
    float fill_value;           /* read for IMAGE_FILL_CONSTANT only */
} image_geom;

/* The fill modes' and interpolations' Keras spellings ("reflect", "bilinear"); -1 if none. */
int image_fill_of(const char *name);
int image_interp_of(const char *name);

/* An affine transform as the first six of Keras's eight projective
 * coefficients [a0, a1, a2, b0, b1, b2] (c0 = c1 = 0): output pixel (x, y)
 * reads input point (a0 x + a1 y + a2, b0 x + b1 y + b2), in pixels, the
 * origin at the centre of the top-left pixel. */
typedef struct image_affine { float m[6]; } image_affine;

/* Keras's matrices (keras/layers/preprocessing/image_preprocessing.py):
 * a shift of the content by (dx, dy) pixels, right and down for positive
 * values; a rotation by `angle` radians about the image's centre,
 * counter-clockwise for positive values (get_rotation_matrix); a zoom by
 * (zx, zy) about the centre, zx > 1 zooming out (get_zoom_matrix). */
image_affine image_translation(float dx, float dy);
image_affine image_rotation(float angle, int H, int W);
image_affine image_zoom(float zx, float zy, int H, int W);

/* y = the transform of x: one image (H, W, C) each.  y must not alias x. */
void image_transform_forward(const image_geom *g, const image_affine *t, const float *x, float *y);
/* dx = the adjoint applied to dy (overwritten); points read from the fill
 * (constant mode) pass no gradient. */
void image_transform_backward(const image_geom *g, const image_affine *t, const float *dy, float *dx);

/* y = x mirrored left-right (horizontal) and/or top-bottom (vertical); its
 * own adjoint, so the backward is the same call on dy.  y must not alias x. */
void image_flip(const float *x, float *y, int H, int W, int C, int horizontal, int vertical);

#endif
