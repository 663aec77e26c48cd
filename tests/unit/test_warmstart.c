/* test_warmstart.c: what a changed spec reuses (issue 15, item 6), without
 * training: the trial key (compiler/trial_key.h) is the same exactly when
 * the trial would be; warm_start_match's verdicts (a widened range holds, a
 * value the new domain drops does not, a new hyperparameter holds when its
 * default rebuilds the old network and not otherwise, a changed layer does
 * not); oracle_add_trial counts against max_trials and is never proposed
 * again (RandomSearch, BayesianOptimization; TPE counts it), leaves the grid's order alone (GridSearch), sits in
 * no bracket and adds to the plan (Hyperband). */
#include "compiler/compile.h"
#include "compiler/trial_key.h"
#include "runtime/tune/oracle.h"
#include "runtime/tune/warmstart.h"
#include "tests/unit/check.h"

#include <stdlib.h>
#include <string.h>

/* spec(units_max, extra layer lines, output activation, tuner call) */
static ir_program *spec(int units_max, const char *extra, const char *act, const char *tuner)
{
    char src[2000];
    snprintf(src, sizeof src,
             "data = csv(\"synthetic.csv\")\n"
             "model {\n  Input(shape = [4])\n"
             "  Dense(units = hp.Int(\"units\", 16, %d, step = 16), activation = \"relu\")\n%s"
             "  Dense(3, activation = \"%s\")\n}\n"
             "compile(optimizer = Adam(learning_rate = hp.Choice(\"lr\", [0.01, 0.001])), loss = \"sparse_categorical_crossentropy\")\n"
             "tuner = %s\nsearch(epochs = 2, validation_split = 0.2)\n",
             units_max, extra, act, tuner);
    compile_result r = compile_spec("test.hpt", src, strlen(src), stderr);
    return r.program;
}

static char *key_of(const ir_program *p, const char *units, const char *lr, hpt_value *values)
{
    for (int k = 0; k < p->n_hps; k++) values[k] = value_none();
    char why[200];
    ir_default_assignment(p, values);
    ir_parse_hp_value(p, ir_find_hp(p, "units"), units, &values[ir_find_hp(p, "units")], why, sizeof why);
    ir_parse_hp_value(p, ir_find_hp(p, "lr"), lr, &values[ir_find_hp(p, "lr")], why, sizeof why);
    return ir_trial_key(p, values, why, sizeof why);
}

static int verdict(const ir_program *old, const ir_program *p, const char *json, char *why, size_t n)
{
    store_trial t = { .id = 0, .status = "completed", .hps_json = (char *)json, .dtype_policy = "float32" };
    hpt_value values[16];
    arena a = { 0 };
    int m = warm_start_match(old, p, &t, -1, &a, values, why, n);
    arena_free(&a);
    return m;
}

static void test_keys(void)
{
    ir_program *a = spec(64, "", "softmax", "RandomSearch(max_trials = 4)"), *wide = spec(128, "", "softmax", "RandomSearch(max_trials = 6)");
    ir_program *layer = spec(64, "", "linear", "RandomSearch(max_trials = 4)");
    ir_program *drop_off = spec(64, "  if hp.Boolean(\"dropout\") {\n    Dropout(0.2)\n  }\n", "softmax", "RandomSearch(max_trials = 4)");
    ir_program *drop_on = spec(64, "  if hp.Boolean(\"dropout\", default = True) {\n    Dropout(0.2)\n  }\n", "softmax",
                               "RandomSearch(max_trials = 4)");
    CHECK(a && wide && layer && drop_off && drop_on, "the test specs compile");
    if (!a || !wide || !layer || !drop_off || !drop_on) return;
    hpt_value va[16], vb[16];
    char *ka = key_of(a, "48", "0.001", va), *kw = key_of(wide, "48", "0.001", vb);
    CHECK(ka && kw && !strcmp(ka, kw), "a widened range and another max_trials: the same key for units 48");
    CHECK(ka && strstr(ka, "Dense(units = 48") && strstr(ka, "learning_rate = 0.001"), "the key holds the evaluated arguments");
    char *k2 = key_of(a, "32", "0.001", vb);
    CHECK(k2 && strcmp(ka, k2), "units 32 and 48: different keys");
    char *kl = key_of(layer, "48", "0.001", vb);
    CHECK(kl && strcmp(ka, kl), "another output activation: a different key");
    free(ka), free(kw), free(k2), free(kl);

    char why[600];
    CHECK(verdict(a, wide, "{\"units\": 48, \"lr\": 0.001}", why, sizeof why) == 1, "a trial holds for the widened spec");
    CHECK(verdict(wide, a, "{\"units\": 128, \"lr\": 0.001}", why, sizeof why) == 0 &&
              strstr(why, "units = 128 is not a value of the new spec's units"),
          "a value the narrowed spec drops does not hold, saying so (%s)", why);
    CHECK(verdict(a, layer, "{\"units\": 48, \"lr\": 0.001}", why, sizeof why) == 0 && strstr(why, "the trial would differ"),
          "a changed layer: the trial does not hold (%s)", why);
    CHECK(verdict(a, drop_off, "{\"units\": 48, \"lr\": 0.001}", why, sizeof why) == 1,
          "a new hyperparameter whose default (False) rebuilds the old network: the trial holds");
    CHECK(verdict(a, drop_on, "{\"units\": 48, \"lr\": 0.001}", why, sizeof why) == 0 && strstr(why, "Dropout"),
          "a new hyperparameter whose default (True) adds a layer: the trial does not hold (%s)", why);
    store_trial failed = { .status = "failed", .hps_json = "{\"units\": 48, \"lr\": 0.001}", .dtype_policy = "float32" };
    hpt_value values[16];
    arena ar = { 0 };
    CHECK(warm_start_match(a, wide, &failed, -1, &ar, values, why, sizeof why) == 0 && !strcmp(why, "it failed"),
          "a failed trial is not reused");
    arena_free(&ar);
    ir_free(a), ir_free(wide), ir_free(layer), ir_free(drop_off), ir_free(drop_on);
}

static oracle *make(const ir_program *p, int tuner, const hpt_value *args)
{
    oracle_config c = { p, &st_catalogue[tuner], args, 2, 7, 1 };
    hpt_error e;
    oracle *o = oracle_new(&c, &e);
    if (!o) printf("oracle_new: %s\n", e.message);
    return o;
}

static int same(const ir_program *p, const hpt_value *a, const hpt_value *b)
{
    for (int k = 0; k < p->n_hps; k++)
        if (!value_equal(a[k], b[k])) return 0;
    return 1;
}

static void test_oracles(void)
{
    ir_program *p = spec(64, "", "softmax", "RandomSearch(max_trials = 6)");
    if (!p) return;
    hpt_value args[40], added[2][16];
    for (int k = 0; k < 40; k++) args[k] = value_none();
    args[RandomSearch_max_trials] = value_int(6);
    /* RandomSearch: 2 added, then 4 of its own, none an added configuration. */
    oracle *o = make(p, ST_RandomSearch, args);
    oracle_request q;
    for (int t = 0; t < 2; t++) {
        ir_default_assignment(p, added[t]);
        added[t][ir_find_hp(p, "units")] = value_int(16 + 16 * t);
        CHECK(oracle_add_trial(o, added[t], 2, 0.5 + t, 0, &q) == t && q.trial == t, "added trial %d takes id %d", t, t);
    }
    int own = 0, repeats = 0, first = -1;
    while (oracle_next(o, &q) == ORACLE_TRIAL) {
        if (first < 0) first = q.trial;
        repeats += same(p, q.values, added[0]) || same(p, q.values, added[1]);
        oracle_report(o, q.trial, 0.1, 0);
        own++;
    }
    CHECK(own == 4 && first == 2, "max_trials 6 with 2 added: 4 proposed, from id 2 (%d, first %d)", own, first);
    CHECK(repeats == 0, "no added configuration is proposed again");
    oracle_free(o);

    /* BayesianOptimization and TPE: the added trials count against max_trials and are observations. */
    static const int model_based[][2] = { { ST_BayesianOptimization, BayesianOptimization_max_trials }, { ST_TPE, TPE_max_trials } };
    for (int m = 0; m < 2; m++) {
        for (int k = 0; k < 40; k++) args[k] = value_none();
        args[model_based[m][1]] = value_int(5);
        o = make(p, model_based[m][0], args);
        for (int t = 0; t < 2; t++) oracle_add_trial(o, added[t], 2, 0.5 + t, 0, &q);
        int proposed = 0, again = 0;
        while (oracle_next(o, &q) == ORACLE_TRIAL) {
            again += same(p, q.values, added[0]) || same(p, q.values, added[1]);
            oracle_report(o, q.trial, 0.1, 0);
            proposed++;
        }
        /* TPE repeats configurations as Optuna's does, added ones as any. */
        CHECK(proposed == 3 && (m == 1 || again == 0), "%s, max_trials 5 with 2 added: 3 proposed (%d)%s",
              st_catalogue[model_based[m][0]].name, proposed, m == 1 ? "" : ", none an added one");
        oracle_free(o);
    }
    for (int k = 0; k < 40; k++) args[k] = value_none();

    /* GridSearch: the first point is the default, as without added trials, and every point comes. */
    args[GridSearch_max_trials] = value_none();
    o = make(p, ST_GridSearch, args);
    hpt_value def[16];
    ir_default_assignment(p, def);
    oracle_add_trial(o, added[1], 2, 0.5, 0, &q);
    int points = 0, first_default = 0;
    while (oracle_next(o, &q) == ORACLE_TRIAL) {
        if (points++ == 0) first_default = same(p, q.values, def);
        oracle_report(o, q.trial, 0.1, 0);
    }
    CHECK(first_default && points == 8, "the grid after an added trial: the default first, all 4 x 2 points (%d)", points);
    oracle_free(o);
    ir_free(p);

    /* Hyperband: added trials sit in no bracket; the plan grows by them. */
    p = spec(64, "", "softmax", "Hyperband(max_epochs = 4, factor = 2)");
    if (!p) return;
    for (int k = 0; k < 40; k++) args[k] = value_none();
    args[Hyperband_max_epochs] = value_int(4), args[Hyperband_factor] = value_int(2);
    o = make(p, ST_Hyperband, args);
    long plan = oracle_planned_trials(o);
    oracle_add_trial(o, added[0], 4, 0.9, 0, &q);
    CHECK(oracle_planned_trials(o) == plan + 1, "Hyperband's plan counts the added trial (%ld -> %ld)", plan,
          oracle_planned_trials(o));
    CHECK(oracle_next(o, &q) == ORACLE_TRIAL && q.trial == 1 && q.round == 0 && q.parent < 0,
          "its first round starts at id 1");
    CHECK(!oracle_may_promote(o, 0), "an added trial is never promoted");
    oracle_free(o);
    ir_free(p);
}

int main(void)
{
    test_keys();
    test_oracles();
    return check_exit();
}
