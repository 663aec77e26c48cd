/* test_augment.c: the augmentation layers RandomFlip, RandomTranslation,
 * RandomRotation and RandomZoom (runtime/nn/layers/augment.c) and their
 * transforms (runtime/nn/image_transform.c).
 *
 * The transforms at fixed parameters: against PyTorch's grid_sample on a
 * (5, 4, 2) image (tests/unit/ref/augment_ref.py; reflect, constant and
 * nearest fills, bilinear and nearest interpolation), and against values
 * worked by hand (flips, a shift by one pixel in every fill mode, wrap
 * included, a rotation by 90 degrees, a zoom by 2 in and out).  The
 * backward is checked as the adjoint (<T x, d> = <x, T* d>) for every fill
 * and interpolation, and through a network by finite differences on both
 * backends.  The layers: Keras's argument meanings at pinned factors
 * ((0.25, 0.25) is a quarter turn), the identity at inference, the same
 * numbers for the same (seed, step) and others for another step, sample or
 * seed, and seed = N making trials of different seeds draw alike. */
#include "runtime/nn/image_transform.h"
#include "tests/unit/layer_check.h"

/* From tests/unit/ref/augment_ref.py (PyTorch, double). */
static const float AUG_X[40] = { -1.0f, 0.25f, -0.25f, 1.0f, 0.5f, -1.0f, 1.25f, -0.25f, 0.75f, -0.75f, 1.5f, 0.0f, -0.5f, 0.75f, 0.25f, 1.5f, -0.25f, 1.0f, 0.5f, -1.0f, 1.25f, -0.25f, -0.75f, 0.5f, 1.5f, 0.0f, -0.5f, 0.75f, 0.25f, 1.5f, 1.0f, -0.5f, 0.5f, -1.0f, 1.25f, -0.25f, -0.75f, 0.5f, 0.0f, 1.25f };
static const float ROT30_REFLECT[40] = { -0.0992785394f, 0.598076105f, 0.532291397f, -0.918348566f, 0.681810439f, 0.606170475f, 0.232050896f, 1.4820509f, 0.197676823f, 0.391746968f, 0.343889422f, 0.360357278f, 0.0394838423f, 0.69078505f, -0.633974493f, 0.616025507f, 0.65072158f, -0.299940021f, 0.754186806f, -0.699759379f, 0.949759662f, 0.137259334f, 0.549939739f, 0.0137625311f, -0.0469557792f, 0.883974731f, 0.292768776f, 0.210516006f, -0.110357385f, 0.958734274f, -0.141746685f, 0.792489849f, 1.46858865f, 0.0179493427f, 0.972775717f, -0.431810156f, 1.17165473f, -0.282291114f, -0.348076224f, 0.349278584f };
static const float ROT30_CONSTANT[40] = { -0.0514212306f, 0.309772983f, 0.532291397f, -0.918348566f, 0.681810439f, 0.606170475f, 0.0466333861f, 0.297835746f, 0.197676823f, 0.391746968f, 0.343889422f, 0.360357278f, 0.0394838423f, 0.69078505f, -0.444391957f, 0.431810403f, 0.65072158f, -0.299940021f, 0.754186806f, -0.699759379f, 0.949759662f, 0.137259334f, 0.549939739f, 0.0137625311f, -0.0329142144f, 0.619632649f, 0.292768776f, 0.210516006f, -0.110357385f, 0.958734274f, -0.141746685f, 0.792489849f, 0.295130435f, 0.00360713487f, 0.972775717f, -0.431810156f, 1.17165473f, -0.282291114f, -0.180285852f, 0.180908613f };
static const float ROT30_NEAREST[40] = { -0.0992785394f, 0.598076105f, 0.532291397f, -0.918348566f, 0.681810439f, 0.606170475f, 0.232050896f, 1.4820509f, 0.197676823f, 0.391746968f, 0.343889422f, 0.360357278f, 0.0394838423f, 0.69078505f, -0.633974493f, 0.616025507f, 0.65072158f, -0.299940021f, 0.754186806f, -0.699759379f, 0.949759662f, 0.137259334f, 0.549939739f, 0.0137625311f, -0.0469557792f, 0.883974731f, 0.292768776f, 0.210516006f, -0.110357385f, 0.958734274f, -0.141746685f, 0.792489849f, 1.46858865f, 0.0179493427f, 0.972775717f, -0.431810156f, 1.17165473f, -0.282291114f, -0.348076224f, 0.349278584f };
static const float ROT30_REFLECT_NN[40] = { -0.25f, 1.0f, 0.5f, -1.0f, 0.25f, 1.5f, 0.25f, 1.5f, -0.25f, 1.0f, -0.5f, 0.75f, -0.5f, 0.75f, -0.75f, 0.5f, 0.75f, -0.75f, 0.5f, -1.0f, 1.25f, -0.25f, 1.0f, -0.5f, -0.25f, 1.0f, -0.5f, 0.75f, -0.5f, 0.75f, -0.75f, 0.5f, 1.5f, 0.0f, 1.5f, 0.0f, 1.25f, -0.25f, -0.75f, 0.5f };
static const float ZOOM_REFLECT[40] = { -0.662499987f, 0.587500013f, -0.137499996f, 0.699999988f, 0.387499996f, -0.699999988f, 0.912499987f, -0.587500013f, 0.562500097f, -0.112500034f, 0.798750057f, 0.288749972f, -0.023750021f, 0.236250064f, 0.212499939f, 0.63750007f, 0.0875000134f, 0.0999999642f, 0.612500004f, -0.887499996f, 1.1375f, -0.362500004f, 0.150000036f, 0.162499987f, 0.671249968f, 0.0375000611f, 0.0137499358f, 0.562500052f, -0.0387499715f, 1.08750004f, 0.362500034f, 0.553749997f, 0.837500013f, -0.662499987f, 0.949999988f, -0.137499996f, -0.449999988f, 0.387499996f, -0.337500013f, 0.912499987f };
static const float ZOOM_CONSTANT[40] = { -0.265000058f, 0.235000061f, -0.0550000113f, 0.280000062f, 0.155000035f, -0.280000062f, 0.365000082f, -0.235000061f, 0.562500097f, -0.112500034f, 0.798750057f, 0.288749972f, -0.023750021f, 0.236250064f, 0.212499939f, 0.63750007f, 0.0875000134f, 0.0999999642f, 0.612500004f, -0.887499996f, 1.1375f, -0.362500004f, 0.150000036f, 0.162499987f, 0.671249968f, 0.0375000611f, 0.0137499358f, 0.562500052f, -0.0387499715f, 1.08750004f, 0.362500034f, 0.553749997f, 0.335000085f, -0.265000058f, 0.380000086f, -0.0550000113f, -0.180000038f, 0.155000035f, -0.135000038f, 0.365000082f };
static const float SHIFT_CONSTANT[40] = { 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.174999982f, -0.299999952f, 0.549999982f, -0.200000018f, 0.12500003f, -0.025000006f, 0.0f, 0.0f, 0.12500003f, 2.98023224e-08f, 0.599999964f, 0.474999964f, 0.150000036f, 0.12500003f, 0.0f, 0.0f, 0.50000003f, 0.0999999642f, -0.12499997f, 0.849999964f, -0.0500000119f, 0.200000048f, 0.0f, 0.0f, 0.599999964f, 0.474999964f, 0.25000003f, 0.12500003f, 0.025000006f, 0.0f, 0.0f, 0.0f };
static const float SHIFT_NEAREST_NN[40] = { 0.5f, -1.0f, 1.25f, -0.25f, 1.25f, -0.25f, 1.25f, -0.25f, 0.5f, -1.0f, 1.25f, -0.25f, 1.25f, -0.25f, 1.25f, -0.25f, -0.5f, 0.75f, 0.25f, 1.5f, 0.25f, 1.5f, 0.25f, 1.5f, 1.25f, -0.25f, -0.75f, 0.5f, -0.75f, 0.5f, -0.75f, 0.5f, 0.25f, 1.5f, 1.0f, -0.5f, 1.0f, -0.5f, 1.0f, -0.5f };
static const float ROT60_REFLECT[40] = { 0.861538172f, -0.638461828f, 0.669550695f, 0.728766195f, -0.183012843f, 1.06698716f, -0.226683095f, 0.200961769f, 0.223258908f, -0.0925692647f, -0.31712658f, 0.770031683f, 0.0142025097f, 0.279006273f, 0.648316853f, -0.299038202f, 0.789183602f, 0.111538082f, 0.8228164f, -0.379487328f, 0.629487261f, 0.320272416f, 0.138461851f, 0.906550536f, 0.549038023f, -0.39831654f, 0.084474918f, 0.23579723f, -0.222335694f, 0.56712692f, 0.342569173f, 0.238942839f, 0.0490380526f, 0.476683408f, 0.742227837f, 0.433012664f, 1.05246245f, -0.419550762f, 0.88846194f, -0.61153806f };
static const float SHIFT_REFLECT[40] = { 0.12500003f, 2.98023222e-08f, 0.599999964f, 0.474999964f, 0.75f, 0.625f, 0.150000036f, 0.0250000358f, 0.349999964f, -0.599999905f, 1.09999996f, -0.400000036f, 1.25f, -0.25f, 0.650000036f, -0.849999964f, 0.12500003f, 2.98023224e-08f, 0.599999964f, 0.474999964f, 0.75f, 0.625f, 0.150000036f, 0.0250000358f, 0.50000003f, 0.0999999642f, -0.12499997f, 0.849999964f, -0.25f, 1.0f, 0.24999997f, 0.400000036f, 0.599999964f, 0.474999964f, 0.25000003f, 0.12500003f, 0.125f, 0.0f, 0.62499997f, 0.49999997f };

enum { RH = 5, RW = 4, RC = 2, RN = RH * RW * RC };

static double max_error(const float *got, const float *want, size_t n)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs((double)got[i] - want[i]));
    return worst;
}

static void reference_check(const char *name, image_affine t, image_fill fill, image_interp interp, const float *want)
{
    image_geom g = { RH, RW, RC, fill, interp, 0.0f };
    float y[RN];
    image_transform_forward(&g, &t, AUG_X, y);
    double e = max_error(y, want, RN);
    CHECK(e < 1e-5, "%s matches PyTorch's grid_sample (max abs error %.2e)", name, e);
}

static void test_reference(void)
{
    image_affine rot30 = image_rotation((float)M_PI / 6, RH, RW), rot60 = image_rotation((float)M_PI / 3, RH, RW);
    image_affine zoom = image_zoom(0.7f, 1.3f, RH, RW);
    reference_check("rotation by pi/6, reflect, bilinear", rot30, IMAGE_FILL_REFLECT, IMAGE_BILINEAR, ROT30_REFLECT);
    reference_check("rotation by pi/6, constant 0, bilinear", rot30, IMAGE_FILL_CONSTANT, IMAGE_BILINEAR, ROT30_CONSTANT);
    reference_check("rotation by pi/6, nearest fill, bilinear", rot30, IMAGE_FILL_NEAREST, IMAGE_BILINEAR, ROT30_NEAREST);
    reference_check("rotation by pi/6, reflect, nearest interpolation", rot30, IMAGE_FILL_REFLECT, IMAGE_NEAREST,
                    ROT30_REFLECT_NN);
    reference_check("rotation by pi/3, reflect, bilinear", rot60, IMAGE_FILL_REFLECT, IMAGE_BILINEAR, ROT60_REFLECT);
    reference_check("zoom (0.7, 1.3), reflect", zoom, IMAGE_FILL_REFLECT, IMAGE_BILINEAR, ZOOM_REFLECT);
    reference_check("zoom (0.7, 1.3), constant 0", zoom, IMAGE_FILL_CONSTANT, IMAGE_BILINEAR, ZOOM_CONSTANT);
    reference_check("shift by (-1.8, 1.5), constant 0", image_translation(-1.8f, 1.5f), IMAGE_FILL_CONSTANT, IMAGE_BILINEAR,
                    SHIFT_CONSTANT);
    reference_check("shift by (-1.8, 1.5), reflect", image_translation(-1.8f, 1.5f), IMAGE_FILL_REFLECT, IMAGE_BILINEAR,
                    SHIFT_REFLECT);
    reference_check("shift by (-1.8, 1.3), nearest fill, nearest interpolation", image_translation(-1.8f, 1.3f),
                    IMAGE_FILL_NEAREST, IMAGE_NEAREST, SHIFT_NEAREST_NN);
}

/* ---- by hand ------------------------------------------------------------------ */

static void hand_check(const char *name, int H, int W, image_affine t, image_fill fill, float fill_value, const float *x,
                       const float *want)
{
    image_geom g = { H, W, 1, fill, IMAGE_BILINEAR, fill_value };
    float y[64];
    image_transform_forward(&g, &t, x, y);
    double e = max_error(y, want, (size_t)H * W);
    CHECK(e < 1e-5, "%s (max abs error %.2e)", name, e);
    if (e >= 1e-5)
        for (int i = 0; i < H * W; i++) printf("      [%d] got %g want %g\n", i, y[i], want[i]);
}

static void test_by_hand(void)
{
    /* Flips of a (2, 3, 2) image. */
    const float fx[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
    const float hflip[12] = { 5, 6, 3, 4, 1, 2, 11, 12, 9, 10, 7, 8 };
    const float vflip[12] = { 7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6 };
    const float both[12] = { 11, 12, 9, 10, 7, 8, 5, 6, 3, 4, 1, 2 };
    float y[12];
    image_flip(fx, y, 2, 3, 2, 1, 0);
    CHECK(!memcmp(y, hflip, sizeof y), "a horizontal flip mirrors each row, channels kept together");
    image_flip(fx, y, 2, 3, 2, 0, 1);
    CHECK(!memcmp(y, vflip, sizeof y), "a vertical flip mirrors the rows");
    image_flip(fx, y, 2, 3, 2, 1, 1);
    CHECK(!memcmp(y, both, sizeof y), "both flips turn the image half round");

    /* A (3, 4) image shifted right by one pixel: column 0 reads column -1,
     * which each fill mode reads differently. */
    const float x[12] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
    const float right_reflect[12] = { 1, 1, 2, 3, 5, 5, 6, 7, 9, 9, 10, 11 };
    const float right_wrap[12] = { 4, 1, 2, 3, 8, 5, 6, 7, 12, 9, 10, 11 };
    const float right_constant[12] = { -2, 1, 2, 3, -2, 5, 6, 7, -2, 9, 10, 11 };
    const float right_nearest[12] = { 1, 1, 2, 3, 5, 5, 6, 7, 9, 9, 10, 11 };
    image_affine right = image_translation(1, 0);
    hand_check("shift right by 1, reflect: (a | a b c)", 3, 4, right, IMAGE_FILL_REFLECT, 0, x, right_reflect);
    hand_check("shift right by 1, wrap: (d | a b c)", 3, 4, right, IMAGE_FILL_WRAP, 0, x, right_wrap);
    hand_check("shift right by 1, constant -2: (k | a b c)", 3, 4, right, IMAGE_FILL_CONSTANT, -2, x, right_constant);
    hand_check("shift right by 1, nearest: (a | a b c)", 3, 4, right, IMAGE_FILL_NEAREST, 0, x, right_nearest);
    /* Two pixels left: reflect (c d | d c), wrap (c d | a b), nearest (c d | d d). */
    const float left2_reflect[12] = { 3, 4, 4, 3, 7, 8, 8, 7, 11, 12, 12, 11 };
    const float left2_wrap[12] = { 3, 4, 1, 2, 7, 8, 5, 6, 11, 12, 9, 10 };
    const float left2_nearest[12] = { 3, 4, 4, 4, 7, 8, 8, 8, 11, 12, 12, 12 };
    image_affine left2 = image_translation(-2, 0);
    hand_check("shift left by 2, reflect: (c d | d c)", 3, 4, left2, IMAGE_FILL_REFLECT, 0, x, left2_reflect);
    hand_check("shift left by 2, wrap: (c d | a b)", 3, 4, left2, IMAGE_FILL_WRAP, 0, x, left2_wrap);
    hand_check("shift left by 2, nearest: (c d | d d)", 3, 4, left2, IMAGE_FILL_NEAREST, 0, x, left2_nearest);
    /* One pixel down: row 0 reads row -1. */
    const float down_reflect[12] = { 1, 2, 3, 4, 1, 2, 3, 4, 5, 6, 7, 8 };
    const float down_wrap[12] = { 9, 10, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8 };
    hand_check("shift down by 1, reflect", 3, 4, image_translation(0, 1), IMAGE_FILL_REFLECT, 0, x, down_reflect);
    hand_check("shift down by 1, wrap", 3, 4, image_translation(0, 1), IMAGE_FILL_WRAP, 0, x, down_wrap);

    /* A quarter turn counter-clockwise (positive angle), numpy's rot90. */
    const float sq[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    const float rot90[9] = { 3, 6, 9, 2, 5, 8, 1, 4, 7 };
    hand_check("rotation by pi/2 turns counter-clockwise", 3, 3, image_rotation((float)M_PI / 2, 3, 3), IMAGE_FILL_CONSTANT, 0,
               sq, rot90);

    /* Zoom 2x in (factor -0.5: zx = zy = 0.5) on a linear image 10 y + x:
     * bilinear reads it exactly, so output (x, y) is 10 (0.5 y + 0.75) + 0.5 x + 0.75. */
    float lin[16], zin[16];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) {
            lin[r * 4 + c] = (float)(10 * r + c);
            zin[r * 4 + c] = 10.0f * (0.5f * r + 0.75f) + 0.5f * c + 0.75f;
        }
    hand_check("zoom 2x in about the centre", 4, 4, image_zoom(0.5f, 0.5f, 4, 4), IMAGE_FILL_REFLECT, 0, lin, zin);
    /* Zoom 2x out along a row (zx = 2): columns read -1.5, 0.5, 2.5, 4.5 of (1 2 3 4). */
    const float row[4] = { 1, 2, 3, 4 };
    const float out_constant[4] = { -1, 1.5f, 3.5f, -1 }, out_reflect[4] = { 1.5f, 1.5f, 3.5f, 3.5f };
    const float out_wrap[4] = { 3.5f, 1.5f, 3.5f, 1.5f }, out_nearest[4] = { 1, 1.5f, 3.5f, 4 };
    image_affine zout = image_zoom(2, 1, 1, 4);
    hand_check("zoom 2x out, constant -1", 1, 4, zout, IMAGE_FILL_CONSTANT, -1, row, out_constant);
    hand_check("zoom 2x out, reflect", 1, 4, zout, IMAGE_FILL_REFLECT, 0, row, out_reflect);
    hand_check("zoom 2x out, wrap", 1, 4, zout, IMAGE_FILL_WRAP, 0, row, out_wrap);
    hand_check("zoom 2x out, nearest", 1, 4, zout, IMAGE_FILL_NEAREST, 0, row, out_nearest);
    /* A half-pixel read in constant mode blends with the fill: column 3.5 of (1 2 3 4) is (4 + k) / 2. */
    const float half_constant[4] = { 1.5f, 2.5f, 3.5f, 1.5f };
    hand_check("shift left by 1/2, constant -1: the last pixel blends with the fill", 1, 4, image_translation(-0.5f, 0),
               IMAGE_FILL_CONSTANT, -1, row, half_constant);
}

/* <T x, d> = <x, T* d> for random x and d: the backward is the forward's
 * transpose (constant fill 0 keeps T linear). */
static void test_adjoint(void)
{
    const image_affine ts[3] = { image_rotation(0.4f, RH, RW), image_zoom(0.6f, 1.4f, RH, RW), image_translation(1.3f, -0.7f) };
    const char *names[3] = { "rotation", "zoom", "translation" }, *fills[4] = { "reflect", "wrap", "constant", "nearest" };
    float x[RN], d[RN], tx[RN], td[RN];
    rng r = rng_stream(9);
    for (int i = 0; i < RN; i++) x[i] = rng_float(&r) - 0.5f, d[i] = rng_float(&r) - 0.5f;
    for (int k = 0; k < 3; k++)
        for (int f = 0; f < 4; f++)
            for (int interp = 0; interp < 2; interp++) {
                image_geom g = { RH, RW, RC, (image_fill)f, (image_interp)interp, 0.0f };
                image_transform_forward(&g, &ts[k], x, tx);
                image_transform_backward(&g, &ts[k], d, td);
                double a = 0, b = 0;
                for (int i = 0; i < RN; i++) a += (double)tx[i] * d[i], b += (double)x[i] * td[i];
                CHECK(fabs(a - b) < 1e-5 * fmax(1, fabs(a)), "%s, %s, %s: the backward is the adjoint (%.7f vs %.7f)", names[k],
                      fills[f], interp ? "nearest" : "bilinear", a, b);
            }
}

/* ---- the layers ----------------------------------------------------------------- */

/* The training forward of model (an image layer then Flatten) on B copies
 * of the (H, W, C) image x at step, with the trial's seed: into y. */
static int run_layer(const char *model, const float *x, int n, int B, uint64_t seed, long step, int training, float *y)
{
    ir_program *p = lc_compile(model);
    trial *t = lc_expand(p, B, seed);
    if (!t) {
        if (p) ir_free(p);
        return -1;
    }
    for (int i = 0; i < B; i++) memcpy(trial_input(t) + (size_t)i * n, x, sizeof(float) * (size_t)n);
    const float *out = trial_forward(t, B, training, step);
    memcpy(y, out, sizeof(float) * (size_t)n * B);
    trial_free(t);
    ir_free(p);
    return 0;
}

/* Pinned factors give Keras's meaning: (f, f) draws exactly f. */
static void test_meanings(void)
{
    const float sq[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    float y[9];
    const float rot90[9] = { 3, 6, 9, 2, 5, 8, 1, 4, 7 };
    run_layer("  Input(shape = [3, 3])\n  RandomRotation((0.25, 0.25), fill_mode = \"constant\")\n  Flatten()\n", sq, 9, 1, 1, 0,
              1, y);
    CHECK(max_error(y, rot90, 9) < 1e-5, "RandomRotation((0.25, 0.25)): a quarter of 2 pi, counter-clockwise");
    const float down_right[9] = { 0, 0, 0, 0, 1, 2, 0, 4, 5 };
    run_layer("  Input(shape = [3, 3, 1])\n  RandomTranslation((1/3, 1/3), (1/3, 1/3), fill_mode = \"constant\")\n  Flatten()\n",
              sq, 9, 1, 1, 0, 1, y);
    CHECK(max_error(y, down_right, 9) < 1e-5, "RandomTranslation((1/3, 1/3), (1/3, 1/3)): a third of the size down and right");
    float lin[16], zin[16], zin_h[16];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) {
            lin[r * 4 + c] = (float)(10 * r + c);
            zin[r * 4 + c] = 10.0f * (0.5f * r + 0.75f) + 0.5f * c + 0.75f;
            zin_h[r * 4 + c] = 10.0f * (0.5f * r + 0.75f) + c;
        }
    float z[16];
    run_layer("  Input(shape = [4, 4, 1])\n  RandomZoom((-0.5, -0.5))\n  Flatten()\n", lin, 16, 1, 1, 0, 1, z);
    CHECK(max_error(z, zin, 16) < 1e-5, "RandomZoom((-0.5, -0.5)): 2x in, the width as the height (width_factor None)");
    run_layer("  Input(shape = [4, 4, 1])\n  RandomZoom((-0.5, -0.5), (0, 0))\n  Flatten()\n", lin, 16, 1, 1, 0, 1, z);
    CHECK(max_error(z, zin_h, 16) < 1e-5, "RandomZoom((-0.5, -0.5), (0, 0)): 2x in vertically only");

    /* RandomFlip("horizontal"): each sample is the image or its mirror, both occur, never upside down. */
    enum { B = 64 };
    float img[6] = { 1, 2, 3, 4, 5, 6 }, mirror[6] = { 3, 2, 1, 6, 5, 4 }, flips[B * 6];
    run_layer("  Input(shape = [2, 3])\n  RandomFlip(\"horizontal\")\n  Flatten()\n", img, 6, B, 1, 0, 1, flips);
    int same = 0, mirrored = 0;
    for (int i = 0; i < B; i++) same += !memcmp(flips + i * 6, img, sizeof img), mirrored += !memcmp(flips + i * 6, mirror, sizeof img);
    CHECK(same + mirrored == B && same > 16 && mirrored > 16,
          "RandomFlip(\"horizontal\"): %d of %d samples as they were, %d mirrored left-right, none otherwise", same, B, mirrored);
    float upside[6] = { 4, 5, 6, 1, 2, 3 }, turned[6] = { 6, 5, 4, 3, 2, 1 };
    run_layer("  Input(shape = [2, 3])\n  RandomFlip()\n  Flatten()\n", img, 6, B, 1, 0, 1, flips);
    const float *outcomes[4] = { img, mirror, upside, turned };
    int kinds[4] = { 0 }, other = 0;
    for (int i = 0; i < B; i++) {
        int k = 0;
        while (k < 4 && memcmp(flips + i * 6, outcomes[k], sizeof img)) k++;
        if (k < 4) kinds[k]++;
        else other++;
    }
    CHECK(!other && kinds[0] && kinds[1] && kinds[2] && kinds[3],
          "RandomFlip() (horizontal_and_vertical): all four outcomes (%d, %d, %d, %d of %d)", kinds[0], kinds[1], kinds[2], kinds[3], B);
}

static int differ(const float *a, const float *b, size_t n) { return memcmp(a, b, sizeof(float) * n) != 0; }

/* Inference is the identity; training draws are a function of (seed, step, layer, sample). */
static void test_draws(void)
{
    enum { B = 4, N = 6 * 5 * 2 };
    float x[N];
    for (int i = 0; i < N; i++) x[i] = (float)((i * 7) % 13) - 6;
    static const char *const models[] = {
        "  Input(shape = [6, 5, 2])\n  RandomFlip()\n  Flatten()\n",
        "  Input(shape = [6, 5, 2])\n  RandomTranslation(0.3, 0.2)\n  Flatten()\n",
        "  Input(shape = [6, 5, 2])\n  RandomRotation(0.2)\n  Flatten()\n",
        "  Input(shape = [6, 5, 2])\n  RandomZoom(0.3, fill_mode = \"constant\")\n  Flatten()\n",
    };
    static const char *const names[] = { "RandomFlip", "RandomTranslation", "RandomRotation", "RandomZoom" };
    float a[B * N], b[B * N], c[B * N], ref[B * N];
    for (int i = 0; i < B; i++) memcpy(ref + i * N, x, sizeof x);
    for (int k = 0; k < 4; k++) {
        run_layer(models[k], x, N, B, 3, 7, 0, a);
        CHECK(!differ(a, ref, B * N), "%s: the identity at inference", names[k]);
        run_layer(models[k], x, N, B, 3, 7, 1, a);
        run_layer(models[k], x, N, B, 3, 7, 1, b);
        CHECK(!differ(a, b, B * N), "%s: the same seed and step draw the same, in another trial", names[k]);
        run_layer(models[k], x, N, B, 3, 8, 1, c);
        CHECK(differ(a, c, B * N), "%s: another step draws otherwise", names[k]);
        run_layer(models[k], x, N, B, 4, 7, 1, c);
        CHECK(differ(a, c, B * N), "%s: another trial seed draws otherwise", names[k]);
        int distinct = 0;
        for (int i = 1; i < B; i++) distinct += differ(a, a + i * N, N);
        CHECK(distinct > 0, "%s: the samples of a batch get their own draws (%d of %d differ from the first)", names[k], distinct, B - 1);
    }
    /* seed = N: the layer's own seed instead of the trial's. */
    const char *seeded = "  Input(shape = [6, 5, 2])\n  RandomRotation(0.2, seed = 42)\n  Flatten()\n";
    run_layer(seeded, x, N, B, 3, 7, 1, a);
    run_layer(seeded, x, N, B, 4, 7, 1, b);
    CHECK(!differ(a, b, B * N), "RandomRotation(seed = 42): trials of different seeds draw the same");
    run_layer(seeded, x, N, B, 3, 8, 1, c);
    CHECK(differ(a, c, B * N), "RandomRotation(seed = 42): still a new draw each step");
}

/* ---- gradients through a network ------------------------------------------------- */

/* Each augmentation after a Conv2D, so that its backward runs: layer_check.h's
 * central differences of the training loss at a fixed step (the same draws),
 * at the initial weights. */
static const struct { const char *name, *model; } NETS[] = {
    { "RandomFlip after Conv2D",
      "  Input(shape = [5, 4, 2])\n  Conv2D(3, 2, activation = \"tanh\")\n  RandomFlip()\n  Flatten()\n  Dense(10)\n" },
    { "RandomRotation (reflect, bilinear) after Conv2D",
      "  Input(shape = [5, 5, 2])\n  Conv2D(3, 2, activation = \"tanh\")\n  RandomRotation(0.2)\n  Flatten()\n  Dense(10)\n" },
    { "RandomTranslation (wrap, nearest) after Conv2D",
      "  Input(shape = [5, 5, 2])\n  Conv2D(3, 2, activation = \"tanh\")\n"
      "  RandomTranslation(0.4, 0.4, fill_mode = \"wrap\", interpolation = \"nearest\")\n  Flatten()\n  Dense(10)\n" },
    { "RandomZoom (constant 0.5) after Conv2D",
      "  Input(shape = [5, 5, 2])\n  Conv2D(3, 2, activation = \"tanh\")\n"
      "  RandomZoom((-0.4, 0.6), (-0.3, 0.3), fill_mode = \"constant\", fill_value = 0.5)\n  Flatten()\n  Dense(10)\n" },
};

static void test_gradients(void)
{
    for (size_t k = 0; k < sizeof NETS / sizeof NETS[0]; k++) {
        lc_grad_opts o = { .initial_weights = 1 };
        lc_gradient_check_opts(NETS[k].name, NETS[k].model, o);
        o.jit = 1;
        if (jit_available()) lc_gradient_check_opts(NETS[k].name, NETS[k].model, o);
    }
}

int main(void)
{
    test_reference();
    test_by_hand();
    test_adjoint();
    test_meanings();
    test_draws();
    test_gradients();
    jit_shutdown();
    return check_exit();
}
