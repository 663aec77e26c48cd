/* test_lookup.c: what is at an offset, and what may be written there
 * (compiler/lookup.c), on a spec with a constant, a loop and a
 * hyperparameter named twice; completion on half-written text; every
 * offset of every example looked up (nothing found is fine, a crash not). */
#include "compiler/lookup.h"
#include "tests/unit/check.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static const char spec[] =
    "width = hp.Int(\"units\", min_value = 16, max_value = 64, step = 16)\n"
    "model {\n"
    "  Input(shape = [28, 28])\n"
    "  Flatten()\n"
    "  for i in range(hp.Int(\"layers\", 1, 3)) {\n"
    "    Dense(width, activation = \"relu\")\n"
    "  }\n"
    "  Dense(units = hp.Int(\"units\", min_value = 16, max_value = 64, step = 16))\n"
    "  Dense(10)\n"
    "}\n"
    "compile(optimizer = Adam(learning_rate = 1e-3), loss = \"mae\", metrics = [\"mae\"])\n";

static uint32_t at(const char *needle, int delta) { return (uint32_t)(strstr(spec, needle) - spec) + (uint32_t)delta; }

static void test_hits(void)
{
    lookup_spec *s = lookup_parse(spec, strlen(spec));
    CHECK(s != NULL, "the spec parses for look-ups");
    lookup_hit h = lookup_at(s, at("Adam", 2));
    CHECK(h.kind == LOOKUP_ENTRY && h.entry == st_find(ST_OPTIMIZER, "Adam") && h.start == at("Adam", 0) && h.end == at("Adam", 4),
          "Adam: the optimizer's entry, over its name");
    h = lookup_at(s, at("learning_rate", 3));
    CHECK(h.kind == LOOKUP_ARGUMENT && h.entry == st_find(-1, "Adam") && !strcmp(h.entry->args[h.arg].name, "learning_rate"),
          "learning_rate =: Adam's argument");
    h = lookup_at(s, at("loss = \"mae\"", 8));
    CHECK(h.kind == LOOKUP_ENTRY && h.entry && h.entry->kind == ST_LOSS, "loss = \"mae\": the loss (by the argument's type)");
    h = lookup_at(s, at("[\"mae\"]", 2));
    CHECK(h.kind == LOOKUP_ENTRY && h.entry && h.entry->kind == ST_METRIC, "metrics = [\"mae\"]: the metric");
    h = lookup_at(s, at("Dense(width", 7));
    CHECK(h.kind == LOOKUP_CONSTANT && h.defined && h.def_start == 0 && h.def_end == 5 && !strcmp(h.name, "width"),
          "a constant's use: defined at its assignment");
    h = lookup_at(s, at("range(hp", 9));
    CHECK(h.kind == LOOKUP_HP && h.hp == st_find_hp("Int") && !strcmp(h.name, "layers"), "hp.Int in range(...): the hp");
    uint32_t second = at("units = hp.Int", 8);
    h = lookup_at(s, second + 9);
    CHECK(h.kind == LOOKUP_HP && !strcmp(h.name, "units") && h.call_start == second && h.defined && h.def_start == 8,
          "a hyperparameter named again: its definition is the first hp.Int of the name");
    h = lookup_at(s, at("Dense(width", 2));
    CHECK(h.kind == LOOKUP_ENTRY && h.entry == st_find(ST_LAYER, "Dense"), "Dense inside a for loop's block: the layer");
    h = lookup_at(s, at("for i", 4));
    CHECK(h.kind == LOOKUP_LOOP_VAR && h.start == at("for i", 4), "a loop variable where it is defined");
    h = lookup_at(s, at("{\n  Input", 0));
    CHECK(h.kind == LOOKUP_NOTHING, "a brace: nothing");
    lookup_free(s);
}

static lookup_completion complete(const char *text)
{
    const char *bar = strchr(text, '|');
    char buf[512];
    snprintf(buf, sizeof buf, "%.*s%s", (int)(bar - text), text, bar + 1);
    return lookup_complete(buf, strlen(buf), (uint32_t)(bar - text));
}

static void test_completion(void)
{
    lookup_completion c = complete("model {\n  Input(shape = [28])\n  Den|\n}\n");
    CHECK(c.what == COMPLETE_LAYER && c.word_start == 32, "a word begun in a model block: layers");
    c = complete("model {\n  Dense(|");
    CHECK(c.what == COMPLETE_VALUE && c.call == st_find(ST_LAYER, "Dense") && c.argument_name && c.arg == &c.call->args[0],
          "after Dense(: its arguments, the first by position");
    c = complete("model {\n  Dense(64, activation = \"re|");
    CHECK(c.what == COMPLETE_STRING && c.kind == ST_ACTIVATION && c.arg && !strcmp(c.arg->name, "activation"),
          "in activation = \"...: activations");
    c = complete("compile(optimizer = Ad|");
    CHECK(c.what == COMPLETE_VALUE && c.kind == ST_OPTIMIZER && !c.argument_name, "after optimizer =: optimizers");
    c = complete("compile(metrics = [\"acc\", \"a|");
    CHECK(c.what == COMPLETE_STRING && c.kind == ST_METRIC, "in a list of metrics: metrics");
    c = complete("x = hp.Fl|");
    CHECK(c.what == COMPLETE_HP_KIND && c.word_start == 7, "after hp.: the kinds, the word after the dot");
    c = complete("data = datasets.fa|");
    CHECK(c.what == COMPLETE_DATASET, "after datasets.: the datasets");
    c = complete("tuner = Hy|");
    CHECK(c.what == COMPLETE_VALUE && c.kind == ST_TUNER, "after tuner =: tuners");
    c = complete("# a comment with Den|");
    CHECK(c.what == COMPLETE_NOTHING, "in a comment: nothing");
    c = complete("model { Dense(\"(\", ')', \n  Con|");
    CHECK(c.what == COMPLETE_VALUE && c.call == st_find(ST_LAYER, "Dense"), "brackets in strings are not brackets");
    c = complete("co|");
    CHECK(c.what == COMPLETE_STATEMENT, "at the top level: statements");
}

/* Every offset of every example, both look-ups: no crash, no read past the text. */
static void test_examples(void)
{
    DIR *dir = opendir("examples");
    int files = 0;
    long hits = 0;
    struct dirent *e;
    while (dir && (e = readdir(dir))) {
        size_t n = strlen(e->d_name);
        if (n < 5 || strcmp(e->d_name + n - 4, ".hpt")) continue;
        char path[512];
        snprintf(path, sizeof path, "examples/%s", e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        char *text = malloc(1 << 20);
        size_t len = fread(text, 1, (1 << 20) - 1, f);
        fclose(f);
        lookup_spec *s = lookup_parse(text, len);
        for (uint32_t k = 0; s && k <= len; k++) {
            hits += lookup_at(s, k).kind != LOOKUP_NOTHING;
            lookup_complete(text, len, k);
        }
        lookup_free(s);
        free(text);
        files++;
    }
    if (dir) closedir(dir);
    CHECK(files >= 10 && hits > 1000, "every offset of %d examples looked up (%ld offsets on something)", files, hits);
}

int main(void)
{
    test_hits();
    test_completion();
    test_examples();
    return check_exit();
}
