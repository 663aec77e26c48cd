/* gen_stdlib_doc.c: prints the stdlib reference of docs/language.md (the part
 * between <!-- stdlib:begin --> and <!-- stdlib:end -->) from the catalogue
 * itself, so the documentation cannot drift from what the checker accepts;
 * with the argument `hp`, the table of hp.* calls (between <!-- hp:begin -->
 * and <!-- hp:end -->) from the catalogue's ST_HP_KINDS rows.
 * tests/cli/docs.sh rebuilds it and fails when the document is stale.
 *
 *   cc -std=c11 -I. -o gen_stdlib_doc bench/gen_stdlib_doc.c \
 *      stdlib/catalogue.c stdlib/value.c stdlib/shape_rules.c -lm
 *   ./gen_stdlib_doc > section.md; ./gen_stdlib_doc hp > hp.md */
#include "stdlib/catalogue.h"

#include <stdio.h>
#include <string.h>

static const struct { st_kind kind; const char *title, *intro; } sections[] = {
    { ST_LAYER, "Layers",
      "Inside `model { ... }`, in order. The first layer is `Input(shape = ...)`, or any layer given "
      "`input_shape = ...`, which stands in for it as in Keras. Keras names each layer (`dense`, `dense_1`, ...); "
      "the IR and run-time messages use those names." },
    { ST_ACTIVATION, "Activations", "Written as strings: `activation = \"relu\"`, or `Activation(\"relu\")` as a layer." },
    { ST_OPTIMIZER, "Optimizers",
      "`compile(optimizer = ...)` takes an optimizer object, `Adam(learning_rate = 1e-3)`, or its lower-case name, "
      "`\"adam\"`, which means the object with every default." },
    { ST_LOSS, "Losses",
      "`compile(loss = ...)` takes a loss object or its Keras name. A cross-entropy after a last layer without "
      "activation reads that layer's outputs as logits (what Keras's `from_logits = True` says); after `softmax` "
      "it reads probabilities, and hptc fuses softmax and cross-entropy into one numerically stable step either way." },
    { ST_METRIC, "Metrics", "Listed by name in `compile(metrics = [...])`; each is reported per epoch, and `val_` + its name on validation data." },
    { ST_SCHEDULE, "Learning-rate schedules",
      "Keras's `LearningRateSchedule` objects, given as an optimizer's `learning_rate`: "
      "`Adam(learning_rate = CosineDecay(1e-3, 10000))`. The rate is the schedule's value at Keras's step counter "
      "(the optimizer's iterations: 0 at the first update, one more per batch), on both backends, and continues "
      "where it was when a trial resumes." },
    { ST_CALLBACK, "Callbacks", "Listed in `search(callbacks = [...])`." },
    { ST_TUNER, "Tuners",
      "`tuner = ...`. Every tuner also takes the arguments of Keras Tuner's `Tuner` and `Oracle` (objective, seed, "
      "directory, ...). A tuner's arguments are fixed for the whole search: they cannot depend on a hyperparameter." },
    { ST_DATA, "Data sources", "`data = ...`, and `search(validation_data = ...)`." },
    { ST_COMPILE, "compile", "The training set-up, as Keras's `model.compile`. Required." },
    { ST_SEARCH, "search",
      "How each trial trains, as Keras Tuner's `tuner.search` (which passes its arguments to `model.fit`). "
      "Optional: without it every argument takes its default." },
    { ST_SPLITTER, "Cross-validation splitters", "`search(cv = ...)`." },
    { ST_OBJECTIVE, "Objectives",
      "A tuner's `objective = ...`: a metric's name (its direction inferred), `Objective(\"val_accuracy\", \"max\")`, "
      "or `Pareto(...)` of two to four of them for a Pareto front; *Several objectives* below says how." },
    { ST_ESTIMATOR, "Classic estimators",
      "scikit-learn's classifiers, written inside `model { ... }` as the only layer of a branch, after `Input` "
      "(and optionally `Flatten`): `if hp.Choice(\"model_type\", [\"forest\", \"ridge\"]) == \"forest\" { "
      "RandomForestClassifier(...) } else { RidgeClassifier(...) }`. Names and defaults are scikit-learn 1.2's; "
      "*Classic estimators* after this reference says how a trial of one trains and what it records." },
};

/* A sentence from a catalogue doc line: capital first, full stop last. */
static void sentence(const char *doc)
{
    printf("%c%s%s", doc[0] >= 'a' && doc[0] <= 'z' ? doc[0] - 32 : doc[0], doc + 1, doc[strlen(doc) - 1] == '.' ? "" : ".");
}

static void print_entry(const st_entry *e)
{
    printf("#### %s\n\n", e->name);
    sentence(e->doc);
    if (e->aliases) {
        printf(" Also written");
        const char *p = e->aliases;
        for (int first = 1; *p; first = 0) {
            const char *bar = strchr(p, '|');
            int w = bar ? (int)(bar - p) : (int)strlen(p);
            printf("%s `%.*s`", first ? "" : ",", w, p);
            p = bar ? bar + 1 : p + w;
        }
        printf(".");
    }
    printf("\n\n");
    if (e->n_args == 0) {
        if (e->kind != ST_ACTIVATION && e->kind != ST_METRIC) printf("No arguments.\n\n");
        return;
    }
    printf("| argument | type | default | valid values | checked | meaning |\n| --- | --- | --- | --- | --- | --- |\n");
    for (int k = 0; k < e->n_args; k++) {
        const st_arg *a = &e->args[k];
        char dflt[96], range[160];
        if (a->flags & A_REQ) snprintf(dflt, sizeof dflt, "required");
        else if (a->default_value.type == V_LIST) snprintf(dflt, sizeof dflt, "`[]`");
        else {
            char v[80];
            value_format(v, sizeof v, a->default_value);
            snprintf(dflt, sizeof dflt, "`%s`", v);
        }
        st_arg_range_text(a, range, sizeof range);
        /* What the checker does with it beyond its type and range (see the legend). */
        const char *checked = (a->flags & A_SHAPE) && (a->flags & A_CONST) ? "shape, constant"
                              : (a->flags & A_SHAPE)                        ? "shape"
                              : (a->flags & A_CONST)                        ? "constant"
                                                                            : " ";
        printf("| `%s` | %s%s | %s | %s | %s | %s |\n", a->name, st_arg_type_text(a),
               (a->flags & A_NONE_OK) && a->type != T_ACTIVATION ? " or None" : "", dflt, range, checked, a->doc);
    }
    printf("\n");
}

/* The hp.* table: each kind's signature as Keras Tuner writes it, its values, its default. */
static void print_hp_table(void)
{
    printf("| call | values | default |\n| --- | --- | --- |\n");
    for (int k = 0; k < ST_HP_COUNT; k++) {
        const st_hp *h = &st_hps[k];
        printf("| `hp.%s(", h->name);
        for (int j = 0; j < h->n_args; j++) {
            printf("%s%s", j ? ", " : "", h->args[j].name);
            if (h->args[j].default_text) printf(" = %s", h->args[j].default_text);
        }
        printf(")` | %s | %s |\n", h->values_doc, h->default_doc);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "hp")) {
        print_hp_table();
        return 0;
    }
    printf("<!-- Generated by bench/gen_stdlib_doc.c from stdlib/catalogue.h: edit the catalogue, not this. -->\n\n");
    printf("Every argument can be given by position (in the order below) or by name, except `input_shape`, which is "
           "by name only, as in Keras. Arguments left out take the default shown. Every value is checked against its "
           "type and valid values for every value the hyperparameters it depends on can take. In the *checked* "
           "column, **shape** means the argument changes tensor shapes, so the layer's shape rule is run for every "
           "value it can take (the whole space, before any trial), and **constant** means it may not depend on a "
           "hyperparameter.\n\n");
    for (size_t s = 0; s < sizeof sections / sizeof sections[0]; s++) {
        printf("### %s\n\n%s\n\n", sections[s].title, sections[s].intro);
        if (sections[s].kind == ST_ACTIVATION || sections[s].kind == ST_METRIC) {
            printf("| name | meaning |\n| --- | --- |\n");
            for (int k = 0; k < ST_COUNT; k++) {
                const st_entry *e = &st_catalogue[k];
                if (e->kind != sections[s].kind) continue;
                /* The activation aliased "None" is what activation = None means. */
                bool none = e->aliases && !strcmp(e->aliases, "None");
                printf("| `\"%s\"`%s%s%s | ", e->name, e->aliases ? (none ? " (also `" : " (also `\"") : "",
                       e->aliases ? e->aliases : "", e->aliases ? (none ? "`)" : "\"`)") : "");
                sentence(e->doc);
                printf(" |\n");
            }
            printf("\n");
            continue;
        }
        for (int k = 0; k < ST_COUNT; k++)
            if (st_catalogue[k].kind == sections[s].kind) print_entry(&st_catalogue[k]);
    }
    return 0;
}
