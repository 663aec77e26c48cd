/* test_catalogue.c: the catalogue's rows of Keras layer names and hp.* kinds
 * (stdlib/catalogue.h), which the checker, `hptc space` and the docs read.
 *
 * Every layer and estimator has its Keras name (a layer added without one
 * would be named "LayerNormalization" where Keras says layer_normalization);
 * each hp.* kind has Keras Tuner's arguments in its order, with the leading
 * ones required, and is found by its name only. */
#include "stdlib/catalogue.h"
#include "tests/unit/check.h"

#include <ctype.h>
#include <string.h>

static void test_layer_names(void)
{
    CHECK(!strcmp(st_layer_name(&st_catalogue[ST_Dense]), "dense"), "Dense is named dense");
    CHECK(!strcmp(st_layer_name(&st_catalogue[ST_Input]), "input_layer"), "Input is named input_layer, as Keras's InputLayer");
    CHECK(!strcmp(st_layer_name(&st_catalogue[ST_MaxPooling2D]), "max_pooling2d"), "MaxPooling2D is named max_pooling2d");
    CHECK(!strcmp(st_layer_name(&st_catalogue[ST_KNeighborsClassifier]), "k_neighbors_classifier"),
          "KNeighborsClassifier is named k_neighbors_classifier");
    int missing = 0, not_snake = 0;
    for (int k = 0; k < ST_COUNT; k++) {
        const st_entry *e = &st_catalogue[k];
        if (e->kind != ST_LAYER && e->kind != ST_ESTIMATOR) continue;
        const char *name = st_layer_name(e);
        if (name == e->name) {
            missing++;
            printf("      %s has no ST_LAYER_NAMES row\n", e->name);
        }
        for (const char *c = name; *c; c++)
            if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '_') {
                not_snake++;
                break;
            }
    }
    CHECK(missing == 0, "every layer and estimator has its Keras name in ST_LAYER_NAMES");
    CHECK(not_snake == 0, "every Keras layer name is snake_case");
}

static void test_hp_kinds(void)
{
    static const char *const kinds[] = { "Int", "Float", "Choice", "Boolean", "Fixed" };
    for (int k = 0; k < ST_HP_COUNT; k++)
        CHECK(st_hps[k].id == k && !strcmp(st_hps[k].name, kinds[k]), "hp kind %d is hp.%s", k, kinds[k]);
    const st_hp *i = st_find_hp("Int");
    CHECK(i == &st_hps[ST_HP_Int], "st_find_hp finds hp.Int");
    CHECK(st_find_hp("int") == NULL && st_find_hp("Integer") == NULL, "st_find_hp takes the exact name only");
    CHECK(i && i->n_args == 6 && st_hp_required(i) == 3, "hp.Int takes 6 arguments, 3 of them required");
    CHECK(i && st_hp_arg_index(i, "sampling") == hp_Int_sampling && hp_Int_sampling == 4, "hp.Int's sampling is its 5th");
    CHECK(i && !strcmp(i->args[hp_Int_sampling].default_text, "\"linear\""), "hp.Int's sampling defaults to \"linear\"");
    const st_hp *c = &st_hps[ST_HP_Choice];
    CHECK(c->n_args == 4 && st_hp_required(c) == 2 && st_hp_arg_index(c, "ordered") == hp_Choice_ordered,
          "hp.Choice takes name, values, ordered, default");
    CHECK(st_hp_required(&st_hps[ST_HP_Boolean]) == 1 && !strcmp(st_hps[ST_HP_Boolean].args[1].default_text, "False"),
          "hp.Boolean needs only its name; default = False");
    CHECK(st_hps[ST_HP_Fixed].n_args == 2 && st_hp_required(&st_hps[ST_HP_Fixed]) == 2, "hp.Fixed needs name and value");
    CHECK(st_hp_arg_index(c, "step") == -1, "hp.Choice has no step");
}

int main(void)
{
    test_layer_names();
    test_hp_kinds();
    return check_exit();
}
