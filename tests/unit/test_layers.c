/* test_layers.c: the layers added through the layer table (runtime/nn/layers/):
 * LayerNormalization, GlobalAveragePooling2D and Reshape.
 *
 * Each is checked twice: its forward against PyTorch's values on fixed small
 * inputs and weights (computed once by tests/unit/ref/layers_ref.py and
 * pasted below), and every parameter's gradient in a small network around it
 * against central finite differences of the whole network's loss (the
 * input gradient the layer passes down is what moves the weights before it,
 * so those are checked too).  Both backends run each network. */
#include "tests/unit/layer_check.h"

/* From tests/unit/ref/layers_ref.py (PyTorch, double). */
static const float LN_WANT[12] = { 0.1f, 1.42433683f, 2.14867365f, 0.375640229f, -0.651978889f, -3.10651869f, -0.581807256f, -0.158845924f, 1.70953717f, 0.775742717f, 1.23348886f, -0.935993145f };
static const float LN_PLAIN_WANT[12] = { 0.0f, -1.18585412f, 1.18585412f, 0.541668221f, 0.837123614f, -1.37879184f, -1.31614805f, 0.346354749f, 0.969793298f, 1.26534898f, -0.967619806f, -0.297729171f };
static const float GAP_WANT[4] = { -0.75f, -0.5f, 2.83333333f, 2.5f };
static const float RESHAPE_WANT[12] = { -1.32726165f, 1.08032925f, 0.246932399f, 1.09415863f, 0.225267952f, -1.31942658f, 0.660259843f, -1.32051969f, 0.660259843f, -1.2659766f, 1.1755497f, 0.0904268999f };

/* ---- forward against PyTorch ----------------------------------------------- */

/* lc_forward_check in float32: within 2e-5 (absolute), at inference and in
 * training mode (the same function: no batch statistics, no dropout). */
static const double FWD_TOL = 2e-5;

static const float LN_X[12] = { 0.5f, -1.0f, 2.0f, 3.0f, 3.5f, -0.25f, -2.0f, 0.0f, 0.75f, 1.5f, -0.5f, 0.1f };

static void test_forward(void)
{
    const float gamma_beta[6] = { 0.5f, -1.0f, 2.0f, 0.1f, 0.2f, -0.3f };
    lc_forward_check("LayerNormalization", "  Input(shape = [2, 3])\n  LayerNormalization()\n  Flatten()\n", 2, LN_X, gamma_beta,
                     6, LN_WANT, 12, 0, FWD_TOL);
    lc_forward_check("LayerNormalization(scale = False, center = False, epsilon = 0.1)",
                     "  Input(shape = [2, 3])\n  LayerNormalization(scale = False, center = False, epsilon = 0.1)\n  Flatten()\n",
                     2, LN_X, NULL, 0, LN_PLAIN_WANT, 12, 0, FWD_TOL);

    float gap_x[24];
    for (int i = 0; i < 24; i++) gap_x[i] = (float)i * 0.25f - 2.0f;
    gap_x[1 * 12 + (2 * 2 + 1) * 2 + 0] = 7.0f;     /* sample 1, h 2, w 1, channel 0 */
    lc_forward_check("GlobalAveragePooling2D", "  Input(shape = [3, 2, 2])\n  GlobalAveragePooling2D()\n", 2, gap_x, NULL, 0,
                     GAP_WANT, 4, 0, FWD_TOL);
    lc_forward_check("GlobalAveragePooling2D(keepdims = True)",
                     "  Input(shape = [3, 2, 2])\n  GlobalAveragePooling2D(keepdims = True)\n  Flatten()\n", 2, gap_x, NULL, 0,
                     GAP_WANT, 4, 0, FWD_TOL);

    const float rs_x[8] = { 1.0f, -2.0f, 0.5f, 0.0f, 0.25f, 1.5f, -1.0f, 2.0f };
    float rs_w[24 + 6 + 6 + 6];     /* Dense kernel (4, 6), bias (6), then the LayerNormalization's gamma 1, beta 0 */
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 6; j++) rs_w[i * 6 + j] = 0.1f * (float)((i * 5 + j * 3) % 7) - 0.3f;
    for (int j = 0; j < 6; j++) rs_w[24 + j] = 0.05f * (float)j;
    for (int j = 0; j < 3; j++) rs_w[30 + j] = 1.0f, rs_w[33 + j] = 0.0f;
    lc_forward_check("Reshape([2, -1])", "  Input(shape = [4])\n  Dense(6)\n  Reshape([2, -1])\n  LayerNormalization()\n  Flatten()\n",
                     2, rs_x, rs_w, 36, RESHAPE_WANT, 12, 0, FWD_TOL);
}

/* ---- gradients against finite differences ------------------------------------ */

static const struct { const char *name, *model; } NETS[] = {
    { "LayerNormalization after Dense",
      "  Input(shape = [6])\n  Dense(8, activation = \"tanh\")\n  LayerNormalization()\n  Dense(10)\n" },
    { "LayerNormalization over channels",
      "  Input(shape = [3, 3, 2])\n  Conv2D(4, 2, activation = \"tanh\")\n  LayerNormalization(epsilon = 0.01)\n"
      "  Flatten()\n  Dense(10)\n" },
    { "LayerNormalization(center = False)",
      "  Input(shape = [6])\n  Dense(5)\n  LayerNormalization(center = False)\n  Dense(10, activation = \"softmax\")\n" },
    { "GlobalAveragePooling2D",
      "  Input(shape = [4, 4, 2])\n  Conv2D(3, 2, activation = \"tanh\")\n  GlobalAveragePooling2D()\n  Dense(10)\n" },
    { "GlobalAveragePooling2D(keepdims = True)",
      "  Input(shape = [4, 3, 2])\n  Conv2D(3, 2, activation = \"relu\")\n  GlobalAveragePooling2D(keepdims = True)\n"
      "  Flatten()\n  Dense(10)\n" },
    { "Reshape to an image",
      "  Input(shape = [5])\n  Dense(18, activation = \"tanh\")\n  Reshape([3, 3, -1])\n  Conv2D(2, 2)\n  Flatten()\n"
      "  Dense(10)\n" },
    { "Reshape then LayerNormalization",
      "  Input(shape = [4])\n  Dense(12)\n  Reshape([-1, 3])\n  LayerNormalization()\n  Flatten()\n  Dense(10)\n" },
};

static void test_gradients(void)
{
    for (size_t k = 0; k < sizeof NETS / sizeof NETS[0]; k++) {
        lc_gradient_check(NETS[k].name, NETS[k].model, 0);
        if (jit_available()) lc_gradient_check(NETS[k].name, NETS[k].model, 1);
    }
}

int main(void)
{
    test_forward();
    test_gradients();
    jit_shutdown();
    return check_exit();
}
