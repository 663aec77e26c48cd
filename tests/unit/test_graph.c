/* test_graph.c: graphs in the compiler (merge blocks, ir_call.inputs).
 *
 * A small ResNet (blocks and width as hyperparameters) and an Inception-style
 * block are lowered to the inputs docs/ir.md describes; shapes_infer follows
 * them under assignments where layers are absent (an absent layer passes its
 * first input through); the model's size counted over the whole space
 * includes a Residual's projection, whose weights are st_merge_plan's. */
#include "compiler/compile.h"
#include "compiler/shapes.h"
#include "tests/unit/check.h"

#include <stdlib.h>
#include <string.h>

static const char RESNET[] =
    "data = datasets.fashion_mnist(scale = 1 / 255)\n"
    "model {\n"
    "  Input(shape = [28, 28, 1])\n"
    "  Conv2D(16, 3, padding = \"same\", activation = \"relu\")\n"
    "  for i in range(hp.Int(\"blocks\", 1, 2)) {\n"
    "    Residual {\n"
    "      Conv2D(hp.Int(\"width\", 16, 32, step = 16), 3, padding = \"same\", activation = \"relu\")\n"
    "      Conv2D(hp.Int(\"width\", 16, 32, step = 16), 3, strides = 2, padding = \"same\")\n"
    "    }\n"
    "  }\n"
    "  Concatenate(axis = -1) {\n"
    "    branch { Conv2D(8, 1) }\n"
    "    branch { }\n"
    "  }\n"
    "  Flatten()\n"
    "  Dense(10, activation = \"softmax\")\n"
    "}\n"
    "compile(optimizer = \"adam\", loss = \"sparse_categorical_crossentropy\", metrics = [\"accuracy\"])\n";

static ir_program *compile(const char *src, double memory)
{
    compile_options o = { .memory_bytes = memory };
    compile_result r = compile_spec_with("graph.hpt", src, strlen(src), stderr, &o);
    return r.program;
}

static int layer(const ir_program *p, const char *name)
{
    for (int k = 0; k < p->n_layers; k++)
        if (!strcmp(p->layers[k].name, name)) return k;
    return -1;
}

/* Layer `name` reads exactly the layers named in `want` ("a b c"). */
static int reads(const ir_program *p, const char *name, const char *want)
{
    int k = layer(p, name);
    if (k < 0) return 0;
    char got[200] = "";
    for (int j = 0; j < p->layers[k].n_inputs; j++) {
        strcat(got, j ? " " : "");
        strcat(got, p->layers[p->layers[k].inputs[j]].name);
    }
    if (strcmp(got, want)) printf("      %s reads \"%s\"\n", name, got);
    return !strcmp(got, want);
}

static void test_lowering(void)
{
    ir_program *p = compile(RESNET, 0);
    if (!CHECK(p != NULL, "the ResNet spec compiles")) return;
    CHECK(p->layers[0].n_inputs == 0, "the Input reads nothing");
    CHECK(reads(p, "conv2d", "input_layer") && reads(p, "conv2d_1", "conv2d") && reads(p, "conv2d_2", "conv2d_1"),
          "a residual body is a stack from the block's input");
    CHECK(reads(p, "residual", "conv2d conv2d_2"), "Residual reads its input, then its body's last layer");
    CHECK(reads(p, "conv2d_3", "residual") && reads(p, "residual_1", "residual conv2d_4"),
          "the second iteration's block starts from the first's Residual");
    CHECK(p->layers[layer(p, "residual_1")].guard != NULL && p->layers[layer(p, "residual")].guard == NULL,
          "the loop's second Residual is guarded, the first is not");
    CHECK(reads(p, "conv2d_5", "residual_1") && reads(p, "concatenate", "conv2d_5 residual_1"),
          "Concatenate reads each branch's last layer, the block's input for the empty branch");
    CHECK(reads(p, "flatten", "concatenate"), "the layer after a block reads the merge");
    ir_free(p);
}

/* Shapes of named layers under blocks/width, through absent layers. */
static void test_infer(void)
{
    ir_program *p = compile(RESNET, 0);
    if (!p) return;
    int blocks = ir_find_hp(p, "blocks"), width = ir_find_hp(p, "width");
    int (*shapes)[4] = calloc((size_t)p->n_layers, sizeof *shapes), *ranks = calloc((size_t)p->n_layers, sizeof *ranks);
    hpt_value values[8];
    char why[200];
    struct { int blocks, width, h, c; } cases[] = { { 1, 16, 14, 24 }, { 2, 32, 7, 40 }, { 1, 32, 14, 40 } };
    for (int t = 0; t < 3; t++) {
        ir_default_assignment(p, values);
        values[blocks] = value_int(cases[t].blocks), values[width] = value_int(cases[t].width);
        ir_assignment a = { values, p->n_hps };
        int rc = shapes_infer(p, &a, shapes, ranks, why, sizeof why);
        int cat = layer(p, "concatenate"), r1 = layer(p, "residual_1"), d = layer(p, "dense");
        CHECK(rc == 0 && ranks[cat] == 3 && shapes[cat][0] == cases[t].h && shapes[cat][2] == cases[t].c,
              "blocks = %d, width = %d: the concatenation is %dx%dx%d (got %dx%dx%d)", cases[t].blocks, cases[t].width,
              cases[t].h, cases[t].h, cases[t].c, shapes[cat][0], shapes[cat][1], shapes[cat][2]);
        CHECK((ranks[r1] == 0) == (cases[t].blocks == 1), "blocks = %d: the second Residual is %s", cases[t].blocks,
              cases[t].blocks == 1 ? "absent" : "present");
        CHECK(ranks[d] == 1 && shapes[d][0] == 10, "blocks = %d: the output is 10 wide", cases[t].blocks);
    }
    free(shapes), free(ranks);
    ir_free(p);
}

/* The largest configuration is blocks 1, width 32 (its Dense reads
 * 14x14x40): 93,266 parameters, counted by hand below; under Adam each takes
 * 4 floats.  A memory just below that is an error, just above it is not. */
static void test_size(void)
{
    /* conv2d 1*9*16+16; the block's 3x3 convolutions (C*9*W + W) and its
     * projection 16 -> 32 strided 2 (C*W + W); the branch's 1x1 conv 32*8+8;
     * dense 14*14*40*10 + 10. */
    double params = (9 * 16 + 16) + (16 * 9 * 32 + 32) + (32 * 9 * 32 + 32) + (16 * 32 + 32) + (32 * 8 + 8) +
                    (14 * 14 * 40 * 10 + 10);
    double bytes = params * 4 * sizeof(float);
    FILE *quiet = fopen("/dev/null", "w");
    compile_result over = compile_spec_with("graph.hpt", RESNET, strlen(RESNET), quiet,
                                            &(compile_options){ .memory_bytes = bytes - 1 });
    compile_result under = compile_spec_with("graph.hpt", RESNET, strlen(RESNET), quiet,
                                             &(compile_options){ .memory_bytes = bytes });
    CHECK(over.errors == 1 && under.errors == 0,
          "the largest graph (%.0f parameters, projections included) fits in %.0f bytes and not in one less "
          "(errors %d, %d)", params, bytes, over.errors, under.errors);
    if (quiet) fclose(quiet);
    ir_free(over.program), ir_free(under.program);
}

int main(void)
{
    test_lowering();
    test_infer();
    test_size();
    return check_exit();
}
