/* test_seqlayers.c: Embedding, LSTM and GRU (runtime/nn/layers/embedding.c,
 * recurrent.c).
 *
 * Forward: against PyTorch's torch.nn.LSTM / torch.nn.GRU on fixed weights
 * mapped from Keras's layout (values computed once by
 * tests/unit/ref/seqlayers_ref.py and pasted below), within 1e-5.
 * Gradients: every parameter's gradient in small networks around each layer,
 * return_sequences on and off, stacked layers (the input gradient through
 * time), the other activations, against central finite differences of the
 * whole network's loss, on both backends.  Initial weights: the recurrent
 * kernel's rows orthonormal (Keras's orthogonal), the forget gate's bias 1,
 * the table in U(-0.05, 0.05). */
#include "tests/unit/layer_check.h"

/* From tests/unit/ref/seqlayers_ref.py (PyTorch, double). */
static const float LSTM_LAST_WANT[18] = { 0.0518952399f, 0.0737683607f, -0.275838976f, 0.060108704f, -0.216928141f, 0.0353775403f, -0.00721943124f, -0.125579162f, -0.0398425596f, -0.053596525f, 0.0527889063f, 0.0166992412f, 0.200050718f, -0.0740183215f, -0.324300311f, 0.123334904f, -0.178454654f, 0.249464119f };
static const float LSTM_SEQ_WANT[90] = { 0.114206883f, -0.0358602705f, -0.194001237f, 0.0829380698f, -0.162287678f, 0.165181956f, 0.0991156803f, 0.0331042043f, -0.214640775f, 0.0513537324f, -0.131365469f, 0.0732166363f, 0.0713835936f, 0.0608289147f, -0.247241546f, 0.0399756364f, -0.154934015f, 0.0554185823f, 0.059749828f, 0.0707866784f, -0.264786488f, 0.0451307034f, -0.185498531f, 0.0464203876f, 0.0518952399f, 0.0737683607f, -0.275838976f, 0.060108704f, -0.216928141f, 0.0353775403f, 0.013880894f, 0.0469120942f, -0.117110839f, 0.0103775444f, -0.142408226f, 0.013036409f, 0.0199312173f, -0.0292711736f, -0.0767850984f, -0.0175635252f, 0.0145133212f, 0.0277959327f, 0.01423568f, -0.0823770948f, -0.0556058965f, -0.0354620961f, 0.0639017056f, 0.0307271545f, 0.00394898846f, -0.111198899f, -0.04517565f, -0.0473452443f, 0.0677265232f, 0.0259547463f, -0.00721943124f, -0.125579162f, -0.0398425596f, -0.053596525f, 0.0527889063f, 0.0166992412f, -0.00625347225f, -0.0653140017f, -0.0148739142f, -0.0141996911f, -0.000917060087f, -0.00410887975f, -0.0169265391f, -0.0992559103f, -0.0236524795f, -0.0202678549f, -0.0180849831f, -0.015965779f, 0.117870193f, -0.0814136737f, -0.218343986f, 0.0457251353f, -0.0847357103f, 0.160285716f, 0.179580377f, -0.0782551112f, -0.291180417f, 0.0909286264f, -0.136148159f, 0.234026916f, 0.200050718f, -0.0740183215f, -0.324300311f, 0.123334904f, -0.178454654f, 0.249464119f };
static const float GRU_LAST_WANT[18] = { 0.520042879f, 0.0106055918f, -0.373560151f, 0.330264258f, -0.228732174f, 0.462427931f, 0.438244819f, -0.0132743114f, -0.418817575f, 0.191328395f, -0.249318055f, 0.378827485f, 0.411822504f, 0.0344715682f, -0.412925835f, 0.145667784f, -0.21758442f, 0.371916139f };
static const float GRU_SEQ_WANT[90] = { 0.210082919f, -0.211961626f, -0.129524434f, 0.320342195f, -0.264508848f, 0.240768882f, 0.333525471f, 0.0491763092f, -0.236172458f, 0.200195071f, -0.135971878f, 0.346921468f, 0.405189083f, 0.11515645f, -0.308905044f, 0.20008569f, -0.137400236f, 0.389640209f, 0.464820245f, 0.084604522f, -0.351092082f, 0.253741842f, -0.177498609f, 0.426052114f, 0.520042879f, 0.0106055918f, -0.373560151f, 0.330264258f, -0.228732174f, 0.462427931f, 0.356565398f, -0.12590488f, -0.113931571f, 0.301969906f, -0.198791062f, 0.325278194f, 0.332149666f, 0.110376945f, -0.273818052f, 0.120895556f, -0.13107887f, 0.312044547f, 0.347492864f, 0.135908234f, -0.359088833f, 0.0842750221f, -0.151807031f, 0.322679016f, 0.387512099f, 0.0769930711f, -0.400231391f, 0.120178307f, -0.196998567f, 0.347571718f, 0.438244819f, -0.0132743114f, -0.418817575f, 0.191328395f, -0.249318055f, 0.378827485f, 0.245753369f, -0.128353645f, -0.145770578f, 0.236873676f, -0.221356796f, 0.163516747f, 0.403914054f, -0.22824691f, -0.229509913f, 0.372607557f, -0.327645364f, 0.276439052f, 0.384789279f, 0.0378508234f, -0.327221603f, 0.154145828f, -0.179636259f, 0.3048472f, 0.388456522f, 0.0834776582f, -0.384473932f, 0.108866336f, -0.177915839f, 0.335133083f, 0.411822504f, 0.0344715682f, -0.412925835f, 0.145667784f, -0.21758442f, 0.371916139f };
static const float EMB_WANT[24] = { -0.4f, 0.0869565217f, -0.226086957f, -0.0173913043f, -0.330434783f, 0.156521739f, 0.365217391f, 0.052173913f, -0.260869565f, 0.12173913f, -0.191304348f, 0.295652174f, -0.295652174f, 0.191304348f, -0.12173913f, -0.295652174f, 0.191304348f, -0.12173913f, 0.260869565f, -0.052173913f, -0.365217391f, -0.156521739f, 0.330434783f, 0.0173913043f };
static const float EMB_LSTM_WANT[4] = { 0.0599910988f, -0.0758932393f, 0.065602978f, -0.00335667443f };

/* The reference script's formulas for weights and inputs. */
static float weight_at(int i) { return (float)(0.8 * (((i * 37) % 23) / 23.0 - 0.5)); }
static float input_at(int i) { return (float)(((i * 11) % 17) / 17.0 * 2.0 - 1.0); }

/* ---- forward against PyTorch ----------------------------------------------- */

/* The model's output for input x with weights w (NULL: keep; else the
 * first nw of the trial's, the rest restarted from index 0 at restart_at),
 * in inference and in training mode, against want (max abs error 1e-5). */
static void forward_check(const char *name, const char *model, int B, const float *x, const float *want, size_t n_want,
                          size_t restart_at)
{
    ir_program *p = lc_compile(model);
    trial *t = lc_expand(p, B, 1);
    if (!CHECK(t != NULL, "%s: the model expands", name)) {
        if (p) ir_free(p);
        return;
    }
    size_t n;
    float *w = trial_weights(t, &n);
    for (size_t i = 0; i < n; i++) w[i] = weight_at((int)(i < restart_at ? i : i - restart_at));
    memcpy(trial_input(t), x, sizeof(float) * trial_input_size(t) * (size_t)B);
    CHECK((size_t)trial_output_size(t) * (size_t)B == n_want, "%s: %d outputs per sample", name, trial_output_size(t));
    for (int training = 0; training <= 1; training++) {
        const float *y = trial_forward(t, B, training, 0);
        double worst = 0;
        for (size_t i = 0; i < n_want; i++) worst = fmax(worst, fabs((double)y[i] - want[i]));
        CHECK(worst < 1e-5, "%s: the %s forward matches PyTorch's (max abs error %.2e over %zu values)", name,
              training ? "training" : "inference", worst, n_want);
    }
    trial_free(t);
    ir_free(p);
}

static void test_forward(void)
{
    float x[45];
    for (int i = 0; i < 45; i++) x[i] = input_at(i);
    forward_check("LSTM(6)", "  Input(shape = [5, 3])\n  LSTM(6)\n", 3, x, LSTM_LAST_WANT, 18, (size_t)-1);
    forward_check("LSTM(6, return_sequences = True)", "  Input(shape = [5, 3])\n  LSTM(6, return_sequences = True)\n  Flatten()\n", 3, x,
                  LSTM_SEQ_WANT, 90, (size_t)-1);
    forward_check("GRU(6)", "  Input(shape = [5, 3])\n  GRU(6)\n", 3, x, GRU_LAST_WANT, 18, (size_t)-1);
    forward_check("GRU(6, return_sequences = True)", "  Input(shape = [5, 3])\n  GRU(6, return_sequences = True)\n  Flatten()\n", 3, x,
                  GRU_SEQ_WANT, 90, (size_t)-1);
    const float idx[8] = { 0, 3, 6, 2, 5, 5, 1, 4 };
    forward_check("Embedding(7, 3)", "  Input(shape = [4])\n  Embedding(7, 3)\n  Flatten()\n", 2, idx, EMB_WANT, 24, (size_t)-1);
    forward_check("Embedding(7, 3) then LSTM(2)", "  Input(shape = [4])\n  Embedding(7, 3)\n  LSTM(2)\n", 2, idx,
                  EMB_LSTM_WANT, 4, 21);
}

/* An index outside [0, input_dim) looks up zeros; one in range its row. */
static void test_embedding_range(void)
{
    ir_program *p = lc_compile("  Input(shape = [3])\n  Embedding(4, 2)\n  Flatten()\n");
    trial *t = lc_expand(p, 1, 1);
    if (!CHECK(t != NULL, "Embedding(4, 2): the model expands")) {
        if (p) ir_free(p);
        return;
    }
    size_t n;
    float *w = trial_weights(t, &n);
    for (size_t i = 0; i < n; i++) w[i] = (float)i + 1;
    const float idx[3] = { -1, 4, 2.5f };
    memcpy(trial_input(t), idx, sizeof idx);
    const float *y = trial_forward(t, 1, 0, 0);
    CHECK(y[0] == 0 && y[1] == 0 && y[2] == 0 && y[3] == 0, "Embedding: indices -1 and 4 (input_dim 4) look up zeros");
    CHECK(y[4] == 5 && y[5] == 6, "Embedding: index 2.5 is truncated to row 2, as Keras casts it (got %g, %g)", y[4], y[5]);
    trial_free(t);
    ir_free(p);
}

/* ---- initial weights -------------------------------------------------------------- */

static void test_init(void)
{
    ir_program *p = lc_compile("  Input(shape = [4])\n  Embedding(50, 6)\n  LSTM(5, return_sequences = True)\n  GRU(3)\n");
    trial *t = lc_expand(p, 2, 7);
    if (!CHECK(t != NULL, "init: the model expands")) {
        if (p) ir_free(p);
        return;
    }
    size_t n;
    const float *w = trial_weights(t, &n);
    CHECK(n == 300 + (6 * 20 + 5 * 20 + 20) + (5 * 9 + 3 * 9 + 18), "init: %zu weights", n);
    int in_range = 1;
    for (int i = 0; i < 300; i++) in_range &= fabsf(w[i]) <= 0.05f;
    CHECK(in_range, "init: Embedding's table lies in U(-0.05, 0.05)");
    /* The LSTM's recurrent kernel (5, 20) and the GRU's (3, 9): rows orthonormal. */
    const struct { const char *name; const float *r; int U, G; } recs[] = {
        { "LSTM", w + 300 + 120, 5, 20 }, { "GRU", w + 300 + 240 + 45, 3, 9 },
    };
    for (int k = 0; k < 2; k++) {
        double worst = 0;
        for (int a = 0; a < recs[k].U; a++)
            for (int b = 0; b < recs[k].U; b++) {
                double dot = 0;
                for (int j = 0; j < recs[k].G; j++) dot += (double)recs[k].r[a * recs[k].G + j] * recs[k].r[b * recs[k].G + j];
                worst = fmax(worst, fabs(dot - (a == b)));
            }
        CHECK(worst < 1e-5, "init: the %s recurrent kernel's rows are orthonormal (max error %.1e)", recs[k].name, worst);
    }
    const float *bias = w + 300 + 220;
    int forget = 1;
    for (int j = 0; j < 20; j++) forget &= bias[j] == (j >= 5 && j < 10 ? 1.0f : 0.0f);
    CHECK(forget, "init: the LSTM's bias is 0 but the forget gate's 1 (unit_forget_bias)");
    trial_free(t);
    ir_free(p);
}

/* ---- gradients against finite differences ------------------------------------ */

static const struct { const char *name, *model; int vocab; } NETS[] = {
    { "LSTM", "  Input(shape = [4, 3])\n  LSTM(5)\n  Dense(10)\n", 0 },
    { "LSTM(return_sequences = True)", "  Input(shape = [4, 3])\n  LSTM(5, return_sequences = True)\n  Flatten()\n  Dense(10)\n", 0 },
    { "GRU", "  Input(shape = [4, 3])\n  GRU(5)\n  Dense(10)\n", 0 },
    { "GRU(return_sequences = True)", "  Input(shape = [4, 3])\n  GRU(5, return_sequences = True)\n  Flatten()\n  Dense(10)\n", 0 },
    { "Dense, then stacked LSTM and GRU (the input gradient through time)",
      "  Input(shape = [6])\n  Dense(8, activation = \"tanh\")\n  Reshape([4, 2])\n  LSTM(3, return_sequences = True)\n"
      "  GRU(4)\n  Dense(10)\n", 0 },
    { "LSTM and GRU without bias, other activations",
      "  Input(shape = [3, 2])\n  LSTM(4, activation = \"relu\", recurrent_activation = \"tanh\", use_bias = False, return_sequences = True)\n"
      "  GRU(3, activation = \"sigmoid\", recurrent_activation = \"sigmoid\", use_bias = False)\n  Dense(10)\n", 0 },
    { "linear activations", "  Input(shape = [3, 2])\n  LSTM(3, activation = \"linear\", recurrent_activation = \"linear\", return_sequences = True)\n"
      "  GRU(3, activation = \"linear\")\n  Dense(10)\n", 0 },
    { "Embedding then LSTM", "  Input(shape = [5])\n  Embedding(6, 3)\n  LSTM(4)\n  Dense(10)\n", 6 },
    { "Embedding then GRU(return_sequences = True)",
      "  Input(shape = [5])\n  Embedding(6, 3)\n  GRU(4, return_sequences = True)\n  Flatten()\n  Dense(10)\n", 6 },
};

static void test_gradients(void)
{
    for (size_t k = 0; k < sizeof NETS / sizeof NETS[0]; k++) {
        /* layer_check.h's check at batch 3 over about 120 parameters; vocab > 0:
         * the inputs are indices below vocab (an Embedding first). */
        lc_grad_opts o = { .batch = 3, .vocab = NETS[k].vocab, .samples = 120 };
        lc_gradient_check_opts(NETS[k].name, NETS[k].model, o);
        o.jit = 1;
        if (jit_available()) lc_gradient_check_opts(NETS[k].name, NETS[k].model, o);
    }
}

int main(void)
{
    test_forward();
    test_embedding_range();
    test_init();
    test_gradients();
    jit_shutdown();
    return check_exit();
}
