/* test_weights.c: weights files (runtime/nn/weights.c, docs/weights.md).
 *
 * - An architecture search of 2,003 hyperparameters, with a 306-character
 *   string value and a name holding spaces, quotes and 300 characters,
 *   round-trips through weights_save / weights_load value for value and
 *   float for float (the header once had a fixed-size buffer).
 * - A header line hptc does not write is refused with its line number, not
 *   skipped: unknown kinds, a value that does not parse, a bad escape, a
 *   name given twice, an empty line.
 * - The model key: saved under one spec, loaded under another, the file is
 *   accepted exactly when the model is the same (Dropout rates, initialisers,
 *   BatchNormalization momentum, kernel_size 3 vs (3, 3), renamed layers, a
 *   hyperparameter the spec gained) and refused, naming what differs,
 *   otherwise (units, epsilon, kernel_size, a layer more, a layer of another
 *   kind, from_logits). */
#include "compiler/compile.h"
#include "runtime/nn/trial.h"
#include "runtime/nn/weights.h"
#include "tests/unit/check.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static char dir[1024];

static const char *path_of(const char *name)
{
    static char p[4][1100];
    static int next;
    char *out = p[next++ % 4];
    snprintf(out, sizeof p[0], "%s/%s", dir, name);
    return out;
}

static ir_program *compile(const char *src)
{
    compile_result r = compile_spec("test.hpt", src, strlen(src), stderr);
    if (!r.program) printf("cannot compile:\n%s\n", src);
    return r.program;
}

/* The default assignment, and the float count of the model it builds. */
static hpt_value *defaults(const ir_program *p, size_t *n)
{
    hpt_value *values = calloc((size_t)p->n_hps + 1, sizeof *values);
    ir_default_assignment(p, values);
    hpt_error e;
    trial *t = trial_expand(p, values, 0, 0, &e);
    if (!t) printf("expand: %s\n", e.message);
    *n = 0;
    if (t) trial_weights(t, n);
    trial_free(t);
    return values;
}

/* ---- 2,003 hyperparameters ---------------------------------------------- */

static void test_many_hyperparameters(void)
{
    char x300[301];
    memset(x300, 'x', 300), x300[300] = 0;
    /* A string value longer than any fixed buffer, one that reads as a number
     * once unquoted ("... 1e-3" is a string), and escapes; a name with spaces and quotes. */
    char long_value[320], long_name[400];
    snprintf(long_value, sizeof long_value, "%s 1e-3", x300);
    snprintf(long_name, sizeof long_name, "a long name, with spaces and \\\"quotes\\\" %s", x300);
    size_t cap = 4096;
    char *src = malloc(cap);
    snprintf(src, cap,
             "data = datasets.fashion_mnist(scale = 1/255)\n"
             "model {\n"
             "  Input(shape = [28, 28])\n"
             "  Flatten()\n"
             "  for i in range(hp.Int(\"layers\", 1, 500, default = 500)) {\n"
             "    Dense(units = hp.Int(f\"units_{i}\", 1, 4), activation = hp.Choice(f\"act_{i}\", [\"relu\", \"tanh\"]))\n"
             "    BatchNormalization(momentum = hp.Float(f\"momentum_{i}\", 0.5, 0.99))\n"
             "    Dropout(hp.Float(f\"drop_{i}\", 0.0, 0.5))\n"
             "  }\n"
             "  if hp.Choice(\"tag\", [\"%s\", \"b \\\"q\\\" \\\\ back\"]) == \"b \\\"q\\\" \\\\ back\" {\n"
             "    Dense(2)\n"
             "  }\n"
             "  Dense(10)\n"
             "}\n"
             "compile(optimizer = Adam(learning_rate = hp.Choice(\"%s\", [0.001, 0.01])),\n"
             "        loss = \"sparse_categorical_crossentropy\")\n"
             "search(epochs = 1)\n",
             long_value, long_name);
    ir_program *p = compile(src);
    free(src);
    CHECK(p && p->n_hps == 2003, "the architecture search has 2003 hyperparameters (%d)", p ? p->n_hps : -1);
    if (!p) return;

    /* Every hyperparameter away from its default. */
    size_t n;
    hpt_value *values = defaults(p, &n);
    for (int k = 0; k < p->n_hps; k++) {
        const ir_hp *h = &p->hps[k];
        if (!strncmp(h->name, "units_", 6)) values[k] = value_int(1 + k % 4);
        else if (!strncmp(h->name, "act_", 4)) values[k] = h->values[k % 2];
        else if (!strncmp(h->name, "momentum_", 9)) values[k] = value_float(0.5 + k * 1e-4 + 1.0 / 3e5);
        else if (!strncmp(h->name, "drop_", 5)) values[k] = value_float(k * 1e-4 + 1.0 / 7e5);
        else if (!strcmp(h->name, "tag")) values[k] = h->values[0];
        else if (h->kind == HP_CHOICE) values[k] = h->values[1];
    }
    hpt_error e;
    trial *t = trial_expand(p, values, 0, 0, &e);
    n = 0;
    if (t) trial_weights(t, &n);
    trial_free(t);
    CHECK(n > 1000, "the model under the new values has %zu floats", n);
    float *w = malloc(sizeof(float) * (n + 1));
    for (size_t i = 0; i < n; i++) w[i] = (float)i * 0.25f - 3.0f;
    int saved = weights_save(path_of("many.bin"), p, values, "mixed_bfloat16", w, n, &e);
    CHECK(saved == 0, "weights_save with 2003 hyperparameters (%s)", saved ? e.message : "ok");

    arena a = { 0 };
    hpt_value *back = calloc((size_t)p->n_hps + 1, sizeof *back);
    float *w2 = NULL;
    size_t n2 = 0;
    int loaded = weights_load(path_of("many.bin"), p, &a, back, &w2, &n2, &e);
    CHECK(loaded == 0, "weights_load reads it back (%s)", loaded ? e.message : "ok");
    int same = 0, typed = 0;
    for (int k = 0; k < p->n_hps; k++) {
        same += value_equal(values[k], back[k]);
        typed += values[k].type == back[k].type;
    }
    CHECK(same == p->n_hps && typed == p->n_hps, "all 2003 values come back equal and of their type (%d equal)", same);
    int tag = ir_find_hp(p, "tag");
    CHECK(tag >= 0 && back[tag].type == V_STRING && strlen(back[tag].u.s) == 305 && !strcmp(back[tag].u.s, long_value),
          "the 305-character string value is whole");
    int lr = -1;
    for (int k = 0; k < p->n_hps; k++)
        if (!strncmp(p->hps[k].name, "a long name, with spaces and \"quotes\" xxx", 41)) lr = k;
    CHECK(lr >= 0 && value_equal(back[lr], value_float(0.01)), "the hyperparameter with a long quoted name reads back 0.01");
    CHECK(n2 == n && w2 && memcmp(w, w2, n * sizeof(float)) == 0, "the %zu floats come back bit for bit", n);

    /* The file's header is exactly as long as its text: the floats follow at once. */
    FILE *f = fopen(path_of("many.bin"), "rb");
    unsigned char head[12];
    size_t size = 0;
    if (f && fread(head, 1, 12, f) == 12) fseek(f, 0, SEEK_END), size = (size_t)ftell(f);
    if (f) fclose(f);
    uint32_t hl;
    memcpy(&hl, head + 8, 4);
    CHECK(size == 12 + hl + n * sizeof(float) + 4, "length = magic + header (%u bytes) + floats + CRC", hl);
    /* The policy it trained under is the third line, after the hashes. */
    char text[200] = "";
    f = fopen(path_of("many.bin"), "rb");
    if (f && fseek(f, 12, SEEK_SET) == 0 && fread(text, 1, sizeof text - 1, f)) text[sizeof text - 1] = 0;
    if (f) fclose(f);
    const char *third = strchr(text, '\n') ? strchr(strchr(text, '\n') + 1, '\n') : NULL;
    CHECK(third && !strncmp(third + 1, "dtype_policy mixed_bfloat16\n", 28), "the header records dtype_policy mixed_bfloat16 (%.27s)",
          third ? third + 1 : text);
    free(w), free(w2), free(back), free(values);
    arena_free(&a);
    ir_free(p);
}

/* ---- strict header -------------------------------------------------------- */

static const char *SMALL =
    "data = datasets.fashion_mnist(scale = 1/255)\n"
    "model {\n"
    "  Input(shape = [28, 28])\n"
    "  Flatten()\n"
    "  Dense(units = hp.Int(\"units\", 4, 8, step = 4), activation = hp.Choice(\"act\", [\"relu\", \"tanh\"]))\n"
    "  Dense(10)\n"
    "}\n"
    "compile(optimizer = \"adam\", loss = \"sparse_categorical_crossentropy\")\n";

/* Write a file with this header text and n zero floats, framed and CRC'd as weights_save does. */
static void write_framed(const char *path, const char *header, size_t n)
{
    size_t hl = strlen(header), total = 12 + hl + 4 * n + 4;
    unsigned char *buf = calloc(1, total);
    uint32_t len32 = (uint32_t)hl;
    memcpy(buf, "HPTCWTS1", 8);
    memcpy(buf + 8, &len32, 4);
    memcpy(buf + 12, header, hl);
    uint32_t crc = (uint32_t)crc32(0, buf, (uInt)(total - 4));
    memcpy(buf + total - 4, &crc, 4);
    FILE *f = fopen(path, "wb");
    if (f) fwrite(buf, 1, total, f), fclose(f);
    free(buf);
}

/* Load `header` (with floats for the small model) under SMALL; return the error or "" when it loads. */
static const char *load_header(const ir_program *p, const char *header, size_t n, hpt_error *e)
{
    write_framed(path_of("h.bin"), header, n);
    arena a = { 0 };
    hpt_value values[8];
    float *w = NULL;
    size_t got;
    int rc = weights_load(path_of("h.bin"), p, &a, values, &w, &got, e);
    free(w);
    arena_free(&a);
    if (rc == 0) e->message[0] = 0;
    return e->message;
}

static void test_strict_header(void)
{
    ir_program *p = compile(SMALL);
    if (!p) return;
    size_t n;
    hpt_value *values = defaults(p, &n);
    char spec_hash[64], good[512], bad[600];
    snprintf(spec_hash, sizeof spec_hash, "spec_hash %016llx\n", (unsigned long long)p->spec_hash);
    /* A file as hptc wrote them before model hashes loads with the same spec. */
    snprintf(good, sizeof good, "%shp units 4\nhp act \"tanh\"\nfloats %zu\n", spec_hash, n);
    hpt_error e;
    CHECK(!*load_header(p, good, n, &e), "an old-format header loads with its spec (%s)", e.message);
    snprintf(good, sizeof good, "%sdtype_policy mixed_bfloat16\nhp units 4\nhp act \"tanh\"\nfloats %zu\n", spec_hash, n);
    CHECK(!*load_header(p, good, n, &e), "a header with a dtype_policy line loads (%s)", e.message);
    static const struct { const char *line, *want; } cases[] = {
        { "flaots 1\n", "header line 2 ('flaots 1') is not one hptc writes" },
        { "hp units\n", "header line 2 ('hp units') is not one hptc writes" },
        { "hp units twelve\n", "header line 2 ('hp units twelve') is not one hptc writes" },
        { "hp act \"relu\n", "header line 2 ('hp act \"relu') is not one hptc writes" },
        { "hp act \"re\\qlu\"\n", "is not one hptc writes" },
        { "hp \"units\" 4\nhp units 8\n", "header line 3 ('hp units 8') names hyperparameter 'units' a second time" },
        { "\n", "header line 2 ('') is not one hptc writes" },
        { "spec_hash 12\n", "header line 2 ('spec_hash 12') is not one hptc writes" },
        { "model_hash 0123456789abcdeg\n", "is not one hptc writes" },
        { "dtype_policy mixed_float16\n", "header line 2 ('dtype_policy mixed_float16') is not one hptc writes" },
        { "dtype_policy float32\ndtype_policy float32\n", "header line 3 ('dtype_policy float32') is not one hptc writes" },
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        snprintf(bad, sizeof bad, "%s%shp units 4\nhp act \"tanh\"\nfloats %zu\n", spec_hash, cases[k].line, n);
        const char *msg = load_header(p, bad, n, &e);
        CHECK(strstr(msg, cases[k].want) != NULL, "refused: %.*s -> %s", (int)strcspn(cases[k].line, "\n"),
              cases[k].line, msg);
    }
    snprintf(bad, sizeof bad, "%shp units 4\nhp act \"tanh\"\nfloats %zu", spec_hash, n);
    CHECK(strstr(load_header(p, bad, n, &e), "has no end") != NULL, "a last line without its newline is refused (%s)", e.message);
    snprintf(bad, sizeof bad, "%shp units 4\nhp act \"tanh\"\n", spec_hash);
    CHECK(strstr(load_header(p, bad, n, &e), "has no floats line") != NULL, "a header without floats is refused (%s)", e.message);
    snprintf(bad, sizeof bad, "%shp units 4\nhp act \"tanh\"\nfloats %zu\n", spec_hash, n + 1);
    CHECK(strstr(load_header(p, bad, n, &e), "floats but is") != NULL, "a float count that disagrees with the length is refused (%s)",
          e.message);
    snprintf(bad, sizeof bad, "%shp units 8\nhp act \"tanh\"\nfloats %zu\n", spec_hash, n);
    CHECK(strstr(load_header(p, bad, n, &e), "holds") != NULL, "a float count that is not the model's is refused (%s)", e.message);
    free(values);
    ir_free(p);
}

/* ---- the model key ---------------------------------------------------------- */

static const char *CNN =
    "data = datasets.fashion_mnist(scale = %s)\n"
    "model {\n"
    "  Input(shape = [28, 28, 1])\n"
    "  Conv2D(4, kernel_size = %s, activation = \"relu\", kernel_initializer = \"%s\")\n"
    "  BatchNormalization(momentum = %s, epsilon = %s)\n"
    "  MaxPooling2D()\n"
    "  Flatten()\n"
    "  for i in range(hp.Int(\"depth\", 1, %s)) {\n"
    "    Dense(units = hp.Int(f\"units_{i}\", 8, 32, step = 8), activation = \"relu\")\n"
    "    Dropout(%s)\n"
    "  }\n"
    "  %s\n"
    "  Dense(10%s)\n"
    "}\n"
    "compile(optimizer = Adam(learning_rate = 0.001), loss = %s)\n"
    "search(epochs = 2)\n";

typedef struct cnn {
    const char *scale, *kernel, *init, *momentum, *epsilon, *depth, *rate, *extra, *last, *loss;
} cnn;

static const cnn BASE = { "1/255", "3", "glorot_uniform", "0.99", "0.001", "2", "0.2", "", "",
                          "\"sparse_categorical_crossentropy\"" };

static ir_program *compile_cnn(cnn c)
{
    char src[2048];
    snprintf(src, sizeof src, CNN, c.scale, c.kernel, c.init, c.momentum, c.epsilon, c.depth, c.rate, c.extra, c.last,
             c.loss);
    return compile(src);
}

/* Save under BASE, load under c: "" when accepted, else the message. */
static const char *reload(cnn c, hpt_error *e)
{
    ir_program *p = compile_cnn(BASE), *q = compile_cnn(c);
    snprintf(e->message, sizeof e->message, "does not compile");
    if (!p || !q) return ir_free(p), ir_free(q), e->message;
    size_t n;
    hpt_value *values = defaults(p, &n);
    float *w = calloc(n + 1, sizeof(float)), *w2 = NULL;
    int rc = weights_save(path_of("cnn.bin"), p, values, NULL, w, n, e);
    arena a = { 0 };
    hpt_value *back = calloc((size_t)q->n_hps + 1, sizeof *back);
    size_t n2;
    if (rc == 0) rc = weights_load(path_of("cnn.bin"), q, &a, back, &w2, &n2, e);
    if (rc == 0) e->message[0] = 0;
    free(w), free(w2), free(back), free(values);
    arena_free(&a);
    ir_free(p), ir_free(q);
    return e->message;
}

static void test_model_key(void)
{
    hpt_error e;
    cnn c;
#define ACCEPTS(what, ...) (c = BASE, (void)(__VA_ARGS__), CHECK(!*reload(c, &e), "accepted: %s (%s)", what, e.message))
#define REFUSES(what, want, ...) \
    (c = BASE, (void)(__VA_ARGS__), CHECK(strstr(reload(c, &e), want) != NULL, "refused: %s -> %s", what, e.message))
    ACCEPTS("the same spec", 0);
    ACCEPTS("another Dropout rate (training only)", c.rate = "0.5");
    ACCEPTS("another kernel_initializer (training only)", c.init = "he_normal");
    ACCEPTS("another BatchNormalization momentum (training only)", c.momentum = "0.9");
    ACCEPTS("kernel_size (3, 3) for 3", c.kernel = "(3, 3)");
    ACCEPTS("scale 0.00392156862745098 for 1/255", c.scale = "0.00392156862745098");
    ACCEPTS("activation \"linear\" written out", c.last = ", activation = \"linear\"");
    ACCEPTS("a wider depth range: the layers after the loop are renamed", c.depth = "4");
    ACCEPTS("a Dropout added (the identity at inference)", c.extra = "Dropout(0.1)");
    ACCEPTS("a hyperparameter the spec gained (its default is used)", c.extra = "Dropout(hp.Float(\"late\", 0.1, 0.5))");
    ACCEPTS("the loss given as an object with its defaults", c.loss = "SparseCategoricalCrossentropy()");
    REFUSES("another epsilon", "layer batch_normalization: epsilon 0.001 in the file, 0.01 in the spec", c.epsilon = "0.01");
    REFUSES("another kernel_size", "layer conv2d: kernel_size (3, 3) in the file, (5, 5) in the spec", c.kernel = "5");
    REFUSES("another scale", "data: scale 0.003921569 in the file, 1.0 in the spec", c.scale = "1");
    REFUSES("a softmax on the last layer", "layer dense_2: activation \"linear\" in the file, \"softmax\" in the spec",
            c.last = ", activation = \"softmax\"");
    REFUSES("a softmax on the last layer, renamed by a wider depth range",
            "layer dense_4 (dense_2 in the file): activation \"linear\" in the file, \"softmax\" in the spec",
            c.last = ", activation = \"softmax\"", c.depth = "4");
    REFUSES("a layer more", "the file's model has 7 layers, the spec's 8; layer dense_2: units 10 in the file, 12 in the spec",
            c.extra = "Dense(12)");
    REFUSES("a layer of another kind", "layer activation: Dense (dense_2) in the file, Activation in the spec",
            c.extra = "Activation(\"relu\")");
    REFUSES("from_logits", "loss: from_logits False in the file, True in the spec",
            c.loss = "SparseCategoricalCrossentropy(from_logits = True)");
    REFUSES("another loss", "loss: SparseCategoricalCrossentropy in the file, MeanSquaredError in the spec",
            c.loss = "\"mse\"");
#undef ACCEPTS
#undef REFUSES
}

int main(void)
{
    snprintf(dir, sizeof dir, "%s/hptc-weights-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir)) return perror("mkdtemp"), 2;
    test_many_hyperparameters();
    test_strict_header();
    test_model_key();
    const char *names[] = { "many.bin", "h.bin", "cnn.bin" };
    for (int k = 0; k < 3; k++) remove(path_of(names[k]));
    rmdir(dir);
    return check_exit();
}
