/* test_oracle.c: the tuners' oracles, driven through runtime/tune/oracle.h with
 * synthetic objectives (no training).
 *
 * Hyperband's schedule against Keras Tuner's formulas (tables computed with
 * its Python expressions), promotions (best first, parent, initial_epoch,
 * failed never promoted, WAIT until a round is complete, may_promote);
 * GridSearch's order (default first, last hyperparameter fastest,
 * conditional ones only under active parents) and max_trials; RandomSearch
 * without repeats on a 12-configuration space, seeds; inactive
 * hyperparameters never set by any oracle; BayesianOptimization and TPE
 * against RandomSearch on cheap objectives over 10 seeds; proposals
 * independent of the order results arrive in, and replays. */
#include "compiler/compile.h"
#include "runtime/tune/oracle.h"
#include "runtime/tune/oracle_impl.h"
#include "runtime/rng.h"
#include "tests/unit/check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define HEAD "data = csv(\"synthetic.csv\")\n"
#define TAIL "tuner = RandomSearch(max_trials = 10)\nsearch(epochs = 1, validation_split = 0.2)\n"

/* Two Floats: the quadratic bowl; units (16, 32, 48; default 32) x act (relu, tanh): the grid. */
static const char *spec_bowl =
    HEAD "model {\n  Input(shape = [4])\n  Dropout(rate = hp.Float(\"x\", 0.0, 0.9))\n"
         "  Dense(units = hp.Int(\"units\", 16, 48, step = 16, default = 32), activation = hp.Choice(\"act\", [\"relu\", \"tanh\"]))\n}\n"
         "compile(optimizer = Adam(learning_rate = hp.Float(\"y\", 0.0, 1.0)), loss = \"mse\")\n" TAIL;

/* Mixed: an Int, a Choice and a log Float. */
static const char *spec_mixed =
    HEAD "model {\n  Input(shape = [4])\n"
         "  Dense(units = hp.Int(\"n\", 1, 20), activation = hp.Choice(\"c\", [\"relu\", \"tanh\", \"sigmoid\", \"gelu\"]))\n}\n"
         "compile(optimizer = Adam(learning_rate = hp.Float(\"lr\", 1e-4, 1e-1, sampling = \"log\")), loss = \"mse\")\n" TAIL;

/* num_layers 1..2, units_i in {8, 16}, dropout: 2 + 4 = 6 grid points without
 * dropout's bool, 12 configurations with it. */
static const char *spec_cond =
    HEAD "model {\n  Input(shape = [4])\n"
         "  for i in range(hp.Int(\"num_layers\", 1, 2)) {\n    Dense(hp.Choice(f\"units_{i}\", [8, 16]))\n  }\n}\n"
         "compile(optimizer = \"adam\", loss = \"mse\")\n" TAIL;
static const char *spec_12 =
    HEAD "model {\n  Input(shape = [4])\n"
         "  for i in range(hp.Int(\"num_layers\", 1, 2)) {\n    Dense(hp.Choice(f\"units_{i}\", [8, 16]))\n  }\n"
         "  if hp.Boolean(\"dropout\") {\n    Dropout(0.25)\n  }\n}\n"
         "compile(optimizer = \"adam\", loss = \"mse\")\n" TAIL;

/* Keras Tuner's getting-started architecture search. */
static const char *spec_nas =
    HEAD "model {\n  Input(shape = [4])\n"
         "  for i in range(hp.Int(\"num_layers\", 1, 3)) {\n"
         "    Dense(units = hp.Int(f\"units_{i}\", min_value = 32, max_value = 512, step = 32),\n"
         "          activation = hp.Choice(\"activation\", [\"relu\", \"tanh\"]))\n  }\n"
         "  if hp.Boolean(\"dropout\") {\n    Dropout(rate = hp.Float(\"rate\", 0.0, 0.5))\n  }\n  Dense(10)\n}\n"
         "compile(optimizer = Adam(learning_rate = hp.Float(\"lr\", 1e-4, 1e-2, sampling = \"log\")), loss = \"mse\")\n" TAIL;

static ir_program *compile(const char *src)
{
    compile_result r = compile_spec("test.hpt", src, strlen(src), stderr);
    return r.program;
}

/* ---- driving an oracle ---------------------------------------------------- */

typedef struct setup {
    const ir_program *p;
    int tuner;
    hpt_value args[40];
    uint64_t seed;
    int maximize, epochs;
} setup;

static setup make_setup(const ir_program *p, int tuner, uint64_t seed)
{
    setup s = { .p = p, .tuner = tuner, .seed = seed, .epochs = 3 };
    for (int k = 0; k < 40; k++) s.args[k] = value_none();
    return s;
}

static oracle *make(const setup *s)
{
    oracle_config c = { s->p, &st_catalogue[s->tuner], s->args, s->epochs, s->seed, s->maximize };
    hpt_error e;
    oracle *o = oracle_new(&c, &e);
    if (!o) printf("oracle_new: %s\n", e.message);
    return o;
}

typedef double (*objective)(const ir_program *p, const hpt_value *v, int epochs);

static double get(const ir_program *p, const hpt_value *v, const char *name)
{
    int k = ir_find_hp(p, name);
    return k < 0 || v[k].type == V_NONE ? 0 : value_as_double(v[k]);
}

static double bowl(const ir_program *p, const hpt_value *v, int epochs)
{
    double x = get(p, v, "x"), y = get(p, v, "y");
    return (x - 0.3) * (x - 0.3) + (y - 0.7) * (y - 0.7);
}

static double mixed(const ir_program *p, const hpt_value *v, int epochs)
{
    double n = get(p, v, "n"), lr = get(p, v, "lr");
    int c = ir_find_hp(p, "c");
    double pen = strcmp(v[c].u.s, "sigmoid") ? 0.5 : 0;
    return (n - 13) * (n - 13) / 100 + pen + (log10(lr) + 2.5) * (log10(lr) + 2.5);
}

/* A stand-in for accuracy: better with more epochs, with depth and width. */
static double nas_score(const ir_program *p, const hpt_value *v, int epochs)
{
    double s = 0.5 + 0.02 * get(p, v, "num_layers") + get(p, v, "units_0") / 5000 - fabs(log10(get(p, v, "lr")) + 3) / 10;
    return s + 0.01 * epochs;
}

/* What an oracle proposed. */
typedef struct record {
    int n;
    int trial[400], epochs[400], initial[400], parent[400], bracket[400], round[400];
    hpt_value values[400][10];
    double score[400];
    int waits;
} record;

static void keep(record *r, const oracle_request *q, int n_hps)
{
    int i = r->n++;
    r->trial[i] = q->trial, r->epochs[i] = q->epochs, r->initial[i] = q->initial_epoch, r->parent[i] = q->parent;
    r->bracket[i] = q->bracket, r->round[i] = q->round;
    for (int k = 0; k < n_hps && k < 10; k++) r->values[i][k] = q->values[k];
}

static int same_values(const hpt_value *a, const hpt_value *b, int n)
{
    for (int k = 0; k < n; k++) {
        if (a[k].type != b[k].type) return 0;
        if (a[k].type != V_NONE && !value_equal(a[k], b[k])) return 0;
    }
    return 1;
}

/* Run to the end (or max proposals) with `jobs` trials in flight, results
 * coming back in an order shuffled by `order_seed` (0: in order at once). */
static void drive(oracle *o, const ir_program *p, objective f, int jobs, uint64_t order_seed, int max, record *r)
{
    int running[64], n_running = 0, done = 0;
    rng shuffle = rng_stream(order_seed);
    memset(r, 0, sizeof *r);
    for (;;) {
        while (!done && n_running < jobs && r->n < max) {
            oracle_request q;
            oracle_status st = oracle_next(o, &q);
            if (st == ORACLE_DONE) done = 1;
            if (st != ORACLE_TRIAL) {
                r->waits += st == ORACLE_WAIT;
                break;
            }
            keep(r, &q, p->n_hps);
            r->score[q.trial] = f(p, q.values, q.epochs);
            running[n_running++] = q.trial;
        }
        if (n_running == 0) break;
        int pick = order_seed ? (int)rng_below(&shuffle, (uint64_t)n_running) : 0;
        int t = running[pick];
        running[pick] = running[--n_running];
        oracle_report(o, t, r->score[t], 0);
    }
}

static int same_record(const record *a, const record *b, int n_hps)
{
    if (a->n != b->n) return 0;
    for (int i = 0; i < a->n; i++) {
        if (a->trial[i] != b->trial[i] || a->epochs[i] != b->epochs[i] || a->parent[i] != b->parent[i] ||
            a->initial[i] != b->initial[i] || !same_values(a->values[i], b->values[i], n_hps))
            return 0;
    }
    return 1;
}

static double best_of(const record *r, int n, int maximize)
{
    double best = maximize ? -INFINITY : INFINITY;
    for (int i = 0; i < n && i < r->n; i++) best = maximize ? fmax(best, r->score[i]) : fmin(best, r->score[i]);
    return best;
}

/* ---- Hyperband ------------------------------------------------------------ */

typedef struct hb_expect { int bracket, round, trials, epochs; } hb_expect;

/* Keras Tuner's HyperbandOracle formulas, evaluated in Python:
 * brackets = #{k : R / f^k >= 1}; bracket b, round r: ceil(ceil(1 + log(R, f)) / (b + 1) * f^(b - r))
 * trials of ceil(R / f^(b - r)) epochs. */
static const hb_expect hb_10_3[] = { { 2, 0, 12, 2 }, { 2, 1, 4, 4 }, { 2, 2, 2, 10 }, { 1, 0, 6, 4 }, { 1, 1, 2, 10 }, { 0, 0, 4, 10 } };
static const hb_expect hb_27_3[] = { { 3, 0, 27, 1 }, { 3, 1, 9, 3 }, { 3, 2, 3, 9 }, { 3, 3, 1, 27 }, { 2, 0, 12, 3 },
                                     { 2, 1, 4, 9 }, { 2, 2, 2, 27 }, { 1, 0, 6, 9 }, { 1, 1, 2, 27 }, { 0, 0, 4, 27 } };
static const hb_expect hb_81_3[] = { { 4, 0, 81, 1 }, { 4, 1, 27, 3 }, { 4, 2, 9, 9 }, { 4, 3, 3, 27 }, { 4, 4, 1, 81 },
                                     { 3, 0, 34, 3 }, { 3, 1, 12, 9 }, { 3, 2, 4, 27 }, { 3, 3, 2, 81 }, { 2, 0, 15, 9 },
                                     { 2, 1, 5, 27 }, { 2, 2, 2, 81 }, { 1, 0, 8, 27 }, { 1, 1, 3, 81 }, { 0, 0, 5, 81 } };
static const hb_expect hb_9_3[] = { { 2, 0, 9, 1 }, { 2, 1, 3, 3 }, { 2, 2, 1, 9 }, { 1, 0, 5, 3 }, { 1, 1, 2, 9 }, { 0, 0, 3, 9 } };
static const hb_expect hb_100_3[] = { { 4, 0, 98, 2 }, { 4, 1, 33, 4 }, { 4, 2, 11, 12 }, { 4, 3, 4, 34 }, { 4, 4, 2, 100 },
                                      { 3, 0, 41, 4 }, { 3, 1, 14, 12 }, { 3, 2, 5, 34 }, { 3, 3, 2, 100 }, { 2, 0, 18, 12 },
                                      { 2, 1, 6, 34 }, { 2, 2, 2, 100 }, { 1, 0, 9, 34 }, { 1, 1, 3, 100 }, { 0, 0, 6, 100 } };
static const hb_expect hb_10_2[] = { { 3, 0, 10, 2 }, { 3, 1, 5, 3 }, { 3, 2, 3, 5 }, { 3, 3, 2, 10 }, { 2, 0, 7, 3 },
                                     { 2, 1, 4, 5 }, { 2, 2, 2, 10 }, { 1, 0, 5, 5 }, { 1, 1, 3, 10 }, { 0, 0, 5, 10 } };

static void test_hyperband_schedule(const ir_program *p, int max_epochs, int factor, const hb_expect *x, int n)
{
    setup s = make_setup(p, ST_Hyperband, 7);
    s.args[Hyperband_max_epochs] = value_int(max_epochs);
    s.args[Hyperband_factor] = value_int(factor);
    s.args[Hyperband_hyperband_iterations] = value_int(1);
    oracle *o = make(&s);
    static record r;
    drive(o, p, bowl, 1, 0, 400, &r);
    long want = 0;
    for (int i = 0; i < n; i++) want += x[i].trials;
    CHECK(r.n == want, "Hyperband(%d, %d): %d trials, Keras Tuner's formulas give %ld", max_epochs, factor, r.n, want);
    CHECK(oracle_planned_trials(o) == want, "Hyperband(%d, %d): planned %ld", max_epochs, factor, oracle_planned_trials(o));
    /* Ids follow hptc's order (docs/scheduler.md): every bracket's round 0
     * in schedule order, then the promotion rounds by round, then bracket. */
    int i = 0, ok = 1;
    for (int round = 0; i < r.n && round < 64 && ok; round++)
        for (int k = 0; k < n && ok; k++) {
            if (x[k].round != round) continue;
            int previous = x[k].round ? x[k - 1].epochs : 0;
            for (int t = 0; t < x[k].trials && ok; t++, i++)
                ok = i < r.n && r.bracket[i] == x[k].bracket && r.round[i] == x[k].round && r.epochs[i] == x[k].epochs &&
                     r.initial[i] == previous && (x[k].round == 0) == (r.parent[i] < 0);
        }
    CHECK(ok && i == r.n, "Hyperband(%d, %d): every trial's bracket, round, epochs and initial_epoch as Keras Tuner's, "
                          "every bracket's round 0 first", max_epochs, factor);
    oracle_free(o);
}

static void test_hyperband_promotions(const ir_program *p)
{
    setup s = make_setup(p, ST_Hyperband, 3);
    s.args[Hyperband_max_epochs] = value_int(10);
    s.args[Hyperband_factor] = value_int(3);
    s.args[Hyperband_hyperband_iterations] = value_int(2);
    s.maximize = 1;
    oracle *o = make(&s);
    oracle_request q[12];
    double score[12];
    int distinct = 1;
    for (int i = 0; i < 12; i++) {
        CHECK(oracle_next(o, &q[i]) == ORACLE_TRIAL && q[i].trial == i && q[i].epochs == 2 && q[i].round == 0,
              "round 0 trial %d of 12 proposed at once (2 epochs)", i);
        score[i] = 1 - bowl(p, q[i].values, 2);
        for (int j = 0; j < i; j++) distinct &= !same_values(q[i].values, q[j].values, p->n_hps);
    }
    CHECK(distinct, "round 0's 12 configurations are distinct");
    /* The later brackets' first rounds come next, before any result:
     * bracket 1's 6 trials of 4 epochs, bracket 0's 4 of 10. */
    oracle_request later[10];
    int fresh = 1;
    for (int i = 0; i < 10; i++) {
        fresh &= oracle_next(o, &later[i]) == ORACLE_TRIAL && later[i].trial == 12 + i && later[i].round == 0 &&
                 later[i].parent < 0 && later[i].bracket == (i < 6 ? 1 : 0) && later[i].epochs == (i < 6 ? 4 : 10);
        for (int j = 0; j < 12 && fresh; j++) fresh &= !same_values(later[i].values, q[j].values, p->n_hps);
        for (int j = 0; j < i && fresh; j++) fresh &= !same_values(later[i].values, later[j].values, p->n_hps);
    }
    CHECK(fresh, "brackets overlap: brackets 1 and 0's first rounds (trials 12-21) follow before any result, "
                 "each configuration new");
    oracle_request w;
    CHECK(oracle_next(o, &w) == ORACLE_WAIT, "WAIT before any result of round 0");
    /* Results in a scrambled order; the best one fails. */
    int best = 0;
    for (int i = 1; i < 12; i++)
        if (score[i] > score[best]) best = i;
    for (int i = 11; i >= 1; i--) {
        oracle_report(o, (i * 5) % 12, score[(i * 5) % 12], (i * 5) % 12 == best);
        CHECK(oracle_next(o, &w) == ORACLE_WAIT, "WAIT with %d of 12 results in", 12 - i);
    }
    CHECK(oracle_may_promote(o, 5) == 1, "a finished trial of an open round may be promoted");
    oracle_report(o, 0, score[0], 0 == best);
    /* Expected: the 4 best completed, best first. */
    int order[12], n = 0;
    for (int i = 0; i < 12; i++)
        if (i != best) order[n++] = i;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (score[order[j]] > score[order[i]]) {
                int t = order[i];
                order[i] = order[j], order[j] = t;
            }
    int ok = 1;
    for (int i = 0; i < 4; i++) {
        oracle_request r;
        ok &= oracle_next(o, &r) == ORACLE_TRIAL && r.trial == 22 + i && r.parent == order[i] && r.initial_epoch == 2 &&
              r.epochs == 4 && r.round == 1 && same_values(r.values, q[order[i]].values, p->n_hps);
    }
    CHECK(ok, "round 1 promotes the 4 best completed trials, best first, as new trials (parent, initial_epoch 2, 4 epochs)");
    CHECK(oracle_may_promote(o, order[0]) == 1, "a promoted trial's checkpoint is kept until its child has run");
    CHECK(oracle_may_promote(o, order[5]) == 0, "a trial not promoted is released once its round is closed");
    CHECK(oracle_may_promote(o, best) == 0, "a failed trial is never promoted");
    CHECK(oracle_next(o, &w) == ORACLE_WAIT, "WAIT for round 1");
    for (int i = 0; i < 4; i++) oracle_report(o, 22 + i, 0.5 + 0.1 * i, 0);
    CHECK(oracle_may_promote(o, order[0]) == 0, "a promoted trial is released once its child has reported");
    CHECK(oracle_next(o, &w) == ORACLE_WAIT, "bracket 2's round 2 waits behind bracket 1's round 1, which waits for its round 0");
    for (int i = 0; i < 6; i++) oracle_report(o, 12 + i, 0.1 * i, 0);
    oracle_request c, d;
    CHECK(oracle_next(o, &c) == ORACLE_TRIAL && oracle_next(o, &d) == ORACLE_TRIAL && c.trial == 26 && c.parent == 17 &&
              d.parent == 16 && c.bracket == 1 && c.round == 1 && c.initial_epoch == 4 && c.epochs == 10,
          "bracket 1's round 1 promotes its 2 best (trials 17, 16) as trials 26, 27");
    oracle_request a, b;
    CHECK(oracle_next(o, &a) == ORACLE_TRIAL && oracle_next(o, &b) == ORACLE_TRIAL && a.trial == 28 && a.parent == 25 &&
              b.parent == 24 && a.initial_epoch == 4 && a.epochs == 10 && a.round == 2,
          "round 2 promotes the 2 best of round 1 (trials 25, 24) to 10 epochs");
    oracle_report(o, a.trial, 0.9, 0);
    oracle_report(o, b.trial, 0.8, 0);
    CHECK(oracle_may_promote(o, a.trial) == 0, "a bracket's last round promotes nothing");
    char line[200];
    oracle_describe(o, line, sizeof line);
    CHECK(strstr(line, "bracket") != NULL, "describe: %s", line);
    oracle_free(o);
}

/* ---- GridSearch ---------------------------------------------------------- */

static void test_grid(void)
{
    ir_program *p = compile(spec_bowl);
    setup s = make_setup(p, ST_GridSearch, 1);
    oracle *o = make(&s);
    int iu = ir_find_hp(p, "units"), ia = ir_find_hp(p, "act"), ix = ir_find_hp(p, "x"), iy = ir_find_hp(p, "y");
    CHECK(iu < ia && ix < iu && ia < iy, "the bowl spec defines x, units, act, y in that order");
    static record r;
    oracle_request q;
    int count = 0, distinct = 1;
    while (oracle_next(o, &q) == ORACLE_TRIAL) {
        /* consecutive points differ: no repeats in odometer order */
        if (count > 0) distinct &= !same_values(q.values, r.values[0], p->n_hps);
        memcpy(r.values[0], q.values, sizeof(hpt_value) * (size_t)p->n_hps);
        oracle_report(o, q.trial, 0, 0);
        count++;
    }
    CHECK(count == 10 * 3 * 2 * 10 && distinct && oracle_planned_trials(o) == 600,
          "grid of x (10 points) x units (3) x act (2) x y (10): %d points, planned %ld", count, oracle_planned_trials(o));
    oracle_free(o);

    /* Fix x and y to see the 3 x 2 part: max_trials cuts the grid. */
    s.args[GridSearch_max_trials] = value_int(25);
    o = make(&s);
    drive(o, p, bowl, 1, 0, 400, &r);
    CHECK(r.n == 25, "max_trials = 25 stops the grid after 25 trials");
    CHECK(oracle_planned_trials(o) == 25, "planned = max_trials when smaller than the grid");
    /* y turns fastest: trials 0..9 run y over its ten points, the rest at defaults. */
    int ok = 1;
    for (int i = 0; i < 10; i++)
        ok &= r.values[i][ix].u.f == 0.0 && r.values[i][iu].u.i == 32 && !strcmp(r.values[i][ia].u.s, "relu") &&
              fabs(r.values[i][iy].u.f - i / 9.0) < 1e-12;
    CHECK(ok, "the last hyperparameter (y) turns fastest, over ten points of [0, 1]");
    ok = r.values[10][ia].type == V_STRING && !strcmp(r.values[10][ia].u.s, "tanh") && r.values[10][iy].u.f == 0.0 &&
         r.values[20][iu].u.i == 16 && !strcmp(r.values[20][ia].u.s, "relu");
    CHECK(ok, "then act (relu, tanh), then units from its default 32 to 16 and 48");
    oracle_free(o);
    ir_free(p);

    /* A conditional grid: num_layers 1..2, units_0, units_1 when num_layers > 1. */
    p = compile(spec_cond);
    s = make_setup(p, ST_GridSearch, 1);
    o = make(&s);
    drive(o, p, bowl, 1, 0, 400, &r);
    int want[6][3] = { { 1, 8, 0 }, { 1, 16, 0 }, { 2, 8, 8 }, { 2, 8, 16 }, { 2, 16, 8 }, { 2, 16, 16 } };
    ok = r.n == 6;
    for (int i = 0; i < 6 && ok; i++) {
        ok &= r.values[i][0].u.i == want[i][0] && r.values[i][1].u.i == want[i][1];
        ok &= want[i][2] ? r.values[i][2].type == V_INT && r.values[i][2].u.i == want[i][2] : r.values[i][2].type == V_NONE;
    }
    CHECK(ok, "conditional grid: (1,8) (1,16) (2,8,8) (2,8,16) (2,16,8) (2,16,16), units_1 only when active (%d points)", r.n);
    CHECK(oracle_planned_trials(o) == 6, "conditional grid planned %ld", oracle_planned_trials(o));
    oracle_free(o);
    ir_free(p);

    /* The architecture search's grid: 16 widths per active layer, 2 activations,
     * dropout off or on with 10 rates, 10 learning rates. */
    p = compile(spec_nas);
    s = make_setup(p, ST_GridSearch, 1);
    o = make(&s);
    long want_nas = 16L * (1 + 16 + 16 * 16) * 2 * (1 + 10) * 10;
    CHECK(oracle_planned_trials(o) == want_nas, "architecture grid planned %ld, want %ld", oracle_planned_trials(o), want_nas);
    oracle_free(o);
    s = make_setup(p, ST_RandomSearch, 1);
    s.args[RandomSearch_max_trials] = value_int(77);
    o = make(&s);
    CHECK(oracle_planned_trials(o) == 77, "random search over a continuous space plans max_trials (%ld)", oracle_planned_trials(o));
    oracle_free(o);
    ir_free(p);
}

/* ---- RandomSearch -------------------------------------------------------- */

static void test_random(void)
{
    ir_program *p = compile(spec_12);
    setup s = make_setup(p, ST_RandomSearch, 0);
    s.args[RandomSearch_max_trials] = value_int(50);
    oracle *o = make(&s);
    CHECK(oracle_planned_trials(o) == 12, "planned: the 12 configurations, fewer than max_trials 50 (%ld)", oracle_planned_trials(o));
    static record r;
    drive(o, p, bowl, 1, 0, 400, &r);
    int distinct = 1, admitted = 1;
    for (int i = 0; i < r.n; i++) {
        for (int j = 0; j < i; j++) distinct &= !same_values(r.values[i], r.values[j], p->n_hps);
        for (int k = 0; k < p->n_hps; k++) admitted &= r.values[i][k].type == V_NONE || ir_hp_admits(&p->hps[k], r.values[i][k]);
    }
    CHECK(r.n == 12, "a space of 12 configurations: exactly 12 trials, then DONE (%d)", r.n);
    CHECK(distinct, "no configuration repeats");
    CHECK(admitted, "every value is admitted");
    oracle_free(o);
    ir_free(p);

    p = compile(spec_nas);
    static record a, b, c;
    s = make_setup(p, ST_RandomSearch, 0);
    s.args[RandomSearch_max_trials] = value_int(30);
    o = make(&s);
    drive(o, p, nas_score, 1, 0, 400, &a);
    oracle_free(o);
    o = make(&s);
    drive(o, p, nas_score, 1, 0, 400, &b);
    oracle_free(o);
    s.seed = 1;
    o = make(&s);
    drive(o, p, nas_score, 1, 0, 400, &c);
    oracle_free(o);
    CHECK(a.n == 30 && same_record(&a, &b, p->n_hps), "the same seed gives the same 30 trials");
    int differ = 0;
    for (int i = 0; i < 30; i++) differ += !same_values(a.values[i], c.values[i], p->n_hps);
    CHECK(differ >= 29, "seeds 0 and 1 give different trials (%d of 30 differ)", differ);
    ir_free(p);
}

/* ---- every oracle: inactive never set, values admitted ---------------------- */

static void test_conditional_all(void)
{
    ir_program *p = compile(spec_nas);
    int tuners[] = { ST_RandomSearch, ST_GridSearch, ST_Hyperband, ST_BayesianOptimization, ST_TPE, ST_BOHB };
    for (int t = 0; t < 6; t++) {
        setup s = make_setup(p, tuners[t], 5);
        s.maximize = 1;
        s.args[0] = value_int(200);     /* max_trials, or Hyperband's max_epochs */
        if (tuners[t] == ST_Hyperband || tuners[t] == ST_BOHB) {
            s.args[Hyperband_max_epochs] = value_int(9);
            s.args[Hyperband_factor] = value_int(3);
            s.args[Hyperband_hyperband_iterations] = value_int(9);
        }
        if (tuners[t] == ST_BayesianOptimization) s.args[BayesianOptimization_num_initial_points] = value_int(170);
        oracle *o = make(&s);
        static record r;
        drive(o, p, nas_score, 3, 11, 200, &r);
        int nl = ir_find_hp(p, "num_layers"), drop = ir_find_hp(p, "dropout"), rate = ir_find_hp(p, "rate"), ok = 1;
        for (int i = 0; i < r.n; i++) {
            const hpt_value *v = r.values[i];
            for (int u = 0; u < 3; u++) {
                char name[32];
                snprintf(name, sizeof name, "units_%d", u);
                int k = ir_find_hp(p, name);
                ok &= (v[k].type != V_NONE) == (u < v[nl].u.i);
            }
            ok &= (v[rate].type != V_NONE) == v[drop].u.b;
            for (int k = 0; k < p->n_hps; k++) ok &= v[k].type == V_NONE || ir_hp_admits(&p->hps[k], v[k]);
        }
        CHECK(r.n == 200 && ok, "%s: 200 trials, units_i set iff i < num_layers, rate iff dropout, all admitted",
              st_catalogue[tuners[t]].name);
        oracle_free(o);
    }
    ir_free(p);
}

/* ---- model-based oracles against random search ------------------------------ */

static double mean_best(const ir_program *p, int tuner, objective f, int n_trials, int seeds)
{
    double sum = 0;
    static record r;
    for (int seed = 0; seed < seeds; seed++) {
        setup s = make_setup(p, tuner, (uint64_t)seed);
        s.args[0] = value_int(n_trials);  /* max_trials of all three */
        oracle *o = make(&s);
        drive(o, p, f, 1, 0, n_trials, &r);
        sum += best_of(&r, n_trials, 0);
        oracle_free(o);
    }
    return sum / seeds;
}

static void test_model_vs_random(void)
{
    ir_program *bowl_p = compile(spec_bowl), *mixed_p = compile(spec_mixed);
    const int n = 30, seeds = 10;
    double rs = mean_best(bowl_p, ST_RandomSearch, bowl, n, seeds);
    double bo = mean_best(bowl_p, ST_BayesianOptimization, bowl, n, seeds);
    double tpe = mean_best(bowl_p, ST_TPE, bowl, n, seeds);
    printf("      bowl, best after %d trials (mean of %d seeds): random %.5f, BayesianOptimization %.5f, TPE %.5f\n", n, seeds,
           rs, bo, tpe);
    CHECK(bo < rs / 2, "BayesianOptimization beats random search on the bowl (%.5f vs %.5f)", bo, rs);
    CHECK(tpe < rs, "TPE beats random search on the bowl (%.5f vs %.5f)", tpe, rs);
    rs = mean_best(mixed_p, ST_RandomSearch, mixed, n, seeds);
    bo = mean_best(mixed_p, ST_BayesianOptimization, mixed, n, seeds);
    tpe = mean_best(mixed_p, ST_TPE, mixed, n, seeds);
    printf("      mixed int/choice/log-float, best after %d trials: random %.5f, BayesianOptimization %.5f, TPE %.5f\n", n,
           rs, bo, tpe);
    CHECK(bo < rs, "BayesianOptimization beats random search on the mixed space (%.5f vs %.5f)", bo, rs);
    CHECK(tpe < rs, "TPE beats random search on the mixed space (%.5f vs %.5f)", tpe, rs);
    ir_free(bowl_p), ir_free(mixed_p);
}

/* BOHB's round-0 configurations come from its model two times in three:
 * in later iterations they should average better than Hyperband's random ones. */
static void test_bohb_vs_hyperband(void)
{
    ir_program *p = compile(spec_bowl);
    double mean[2];
    for (int t = 0; t < 2; t++) {
        double sum = 0;
        for (int seed = 0; seed < 10; seed++) {
            setup s = make_setup(p, t ? ST_BOHB : ST_Hyperband, (uint64_t)seed);
            s.args[Hyperband_max_epochs] = value_int(9);
            s.args[Hyperband_factor] = value_int(3);
            s.args[Hyperband_hyperband_iterations] = value_int(4);
            oracle *o = make(&s);
            static record r;
            drive(o, p, bowl, 1, 0, 400, &r);
            double loss = 0;
            int n = 0;
            for (int i = r.n / 2; i < r.n; i++)
                if (r.round[i] == 0) loss += r.score[i], n++;
            sum += loss / n;
            oracle_free(o);
        }
        mean[t] = sum / 10;
    }
    printf("      bowl, mean loss of round-0 configurations in iterations 3-4 (10 seeds): Hyperband %.4f, BOHB %.4f\n",
           mean[0], mean[1]);
    CHECK(mean[1] < mean[0], "BOHB's model proposes better fresh configurations than Hyperband's random ones");
    ir_free(p);
}

/* ---- determinism ----------------------------------------------------------- */

static void test_determinism(void)
{
    ir_program *p = compile(spec_nas);
    int tuners[] = { ST_BayesianOptimization, ST_TPE, ST_Hyperband, ST_BOHB, ST_RandomSearch };
    for (int t = 0; t < 5; t++) {
        setup s = make_setup(p, tuners[t], 42);
        s.maximize = 1;
        s.args[0] = value_int(40);
        if (tuners[t] == ST_Hyperband || tuners[t] == ST_BOHB) {
            s.args[Hyperband_max_epochs] = value_int(9);
            s.args[Hyperband_factor] = value_int(3);
            s.args[Hyperband_hyperband_iterations] = value_int(2);
        }
        if (tuners[t] == ST_BayesianOptimization) s.args[BayesianOptimization_num_initial_points] = value_int(8);
        static record seq, pool, pool2, replay;
        oracle *o = make(&s);
        drive(o, p, nas_score, 1, 0, 400, &seq);
        oracle_free(o);
        o = make(&s);
        drive(o, p, nas_score, 6, 99, 400, &pool);
        oracle_free(o);
        o = make(&s);
        drive(o, p, nas_score, 3, 1234, 400, &pool2);
        oracle_free(o);
        const char *name = st_catalogue[tuners[t]].name;
        CHECK(seq.n > 0 && same_record(&seq, &pool, p->n_hps) && same_record(&seq, &pool2, p->n_hps),
              "%s: %d proposals identical with 1 job in order and with 6 or 3 jobs reporting out of order (%d, %d waits)",
              name, seq.n, pool.waits, pool2.waits);
        /* A resume: a new oracle fed the stored trials, each result right after its proposal. */
        o = make(&s);
        memset(&replay, 0, sizeof replay);
        int ok = 1;
        for (int i = 0; i < seq.n && ok; i++) {
            oracle_request q;
            ok = oracle_next(o, &q) == ORACLE_TRIAL;
            if (ok) keep(&replay, &q, p->n_hps);
            if (ok) oracle_report(o, q.trial, pool.score[q.trial], 0);
        }
        oracle_request q;
        ok &= oracle_next(o, &q) == ORACLE_DONE;
        CHECK(ok && same_record(&seq, &replay, p->n_hps), "%s: a replay of the stored results proposes the same trials", name);
        oracle_free(o);
    }
    ir_free(p);
}

static void test_errors(void)
{
    ir_program *p = compile(spec_bowl);
    oracle_config c = { p, &st_catalogue[ST_Dense], NULL, 1, 0, 0 };
    hpt_error e = { "" };
    CHECK(oracle_new(&c, &e) == NULL && strstr(e.message, "'Dense' is not a tuner") != NULL, "not a tuner: %s", e.message);
    ir_free(p);
}

/* The values a grid walks: under sampling = "log" an Int's explicit step
 * multiplies (Keras Tuner's rule); without one it counts up by 1. */
static void test_grid_values(void)
{
    const char *src = HEAD "model {\n  Input(shape = [4])\n"
                           "  Dense(units = hp.Int(\"a\", 4, 9, sampling = \"log\"))\n"
                           "  Dense(units = hp.Int(\"b\", 2, 64, step = 2, sampling = \"log\"))\n}\n"
                           "compile(optimizer = \"adam\", loss = \"mse\")\n" TAIL;
    ir_program *p = compile(src);
    if (!CHECK(p != NULL, "the log-sampled grid spec compiles")) return;
    hpt_value v[16];
    int n = ir_hp_values(&p->hps[ir_find_hp(p, "a")], v, 16);
    int ok = n == 6;
    for (int k = 0; ok && k < n; k++) ok = v[k].type == V_INT && v[k].u.i == 4 + k;
    CHECK(ok, "Int(4, 9, sampling=log) walks 4, 5, 6, 7, 8, 9 (%d values)", n);
    n = ir_hp_values(&p->hps[ir_find_hp(p, "b")], v, 16);
    ok = n == 6;
    for (int k = 0; ok && k < n; k++) ok = v[k].type == V_INT && v[k].u.i == 2ll << k;
    CHECK(ok, "Int(2, 64, step=2, sampling=log) walks 2, 4, 8, 16, 32, 64 (%d values)", n);
    ir_free(p);
}

/* ---- hp.Int at the ends of int64 ---------------------------------------- */

/* Is v one of h's values: within [min, max] and on the grid, decided with
 * int64 and unsigned arithmetic only (no double, which rounds above 2^53). */
static int int_on_grid(const ir_hp *h, hpt_value v)
{
    if (v.type != V_INT || v.u.i < h->min.u.i || v.u.i > h->max.u.i) return 0;
    uint64_t step = h->step.type == V_INT ? (uint64_t)h->step.u.i : 1;
    if (h->sampling == SAMPLING_LOG && h->step.type == V_INT) {
        int64_t x = h->min.u.i;
        while (x < v.u.i && !__builtin_mul_overflow(x, (int64_t)step, &x)) {}
        return x == v.u.i;
    }
    return ((uint64_t)v.u.i - (uint64_t)h->min.u.i) % step == 0;
}

/* Bounds and steps near 2^63: x has exactly 3 values (-M, 0, M), y every
 * int64 but INT64_MIN (2^64 - 1 values, more than a long counts), z starts
 * at INT64_MIN, w is log-sampled without a step, v multiplies by 2 up to
 * 2^62, u has 2 values (3 + 2 * 2^62 overflows).  Every value any oracle or
 * draw gives must be in range and on the grid (was: 2^63 through llround). */
static void test_int_extremes(void)
{
    const char *src = HEAD "model {\n  Input(shape = [4])\n"
        "  if hp.Int(\"x\", -9223372036854775807, 9223372036854775807, step = 9223372036854775807) > 0 { Dense(4) }\n"
        "  if hp.Int(\"y\", -9223372036854775807, 9223372036854775807) > 0 { Dense(4) }\n"
        "  if hp.Int(\"z\", -9223372036854775807 - 1, 9223372036854775807, step = 3) > 0 { Dense(4) }\n"
        "  if hp.Int(\"w\", 1, 9223372036854775807, sampling = \"log\") > 2 { Dense(4) }\n"
        "  if hp.Int(\"v\", 1, 9223372036854775807, step = 2, sampling = \"log\") > 2 { Dense(4) }\n"
        "  if hp.Int(\"u\", 3, 9223372036854775807, step = 4611686018427387904) > 3 { Dense(4) }\n"
        "  Dense(2)\n}\ncompile(optimizer = \"adam\", loss = \"mse\")\n" TAIL;
    ir_program *p = compile(src);
    if (!CHECK(p != NULL && p->n_hps == 6, "the int64-extremes spec compiles with its 6 hyperparameters")) {
        ir_free(p);
        return;
    }
    int ok = 1, bad_hp = -1;
    hpt_value bad = value_none();
    rng r = rng_stream(7);
    int seen_x[3] = { 0, 0, 0 };
    for (int i = 0; i < 20000; i++)
        for (int k = 0; k < p->n_hps; k++) {
            hpt_value v = orc_prob_to_value(&p->hps[k], rng_double(&r));
            if (!int_on_grid(&p->hps[k], v) && ok) ok = 0, bad_hp = k, bad = v;
            if (k == 0 && v.type == V_INT) seen_x[v.u.i < 0 ? 0 : v.u.i == 0 ? 1 : 2]++;
        }
    char text[64] = "";
    if (!ok) value_format(text, sizeof text, bad);
    CHECK(ok, "20000 draws of each: every value in range and on its grid%s%s%s", ok ? "" : " (", ok ? "" : text,
          ok ? "" : bad_hp >= 0 ? ")" : "");
    CHECK(seen_x[0] && seen_x[1] && seen_x[2], "x takes each of -M, 0, M (%d, %d, %d draws)", seen_x[0], seen_x[1], seen_x[2]);
    static const double ends[] = { 0, 0.5, 0.999999999999 };
    ok = 1;
    for (int k = 0; k < p->n_hps; k++)
        for (int j = 0; j < 3; j++) ok &= int_on_grid(&p->hps[k], orc_prob_to_value(&p->hps[k], ends[j]));
    hpt_value top = orc_prob_to_value(&p->hps[0], 0.999999999999);
    CHECK(ok && top.type == V_INT && top.u.i == INT64_MAX, "draws at 0, 0.5 and 1 - 1e-12 are on the grid; x's top is M");
    static const int tuners[] = { ST_RandomSearch, ST_TPE, ST_BayesianOptimization, ST_GridSearch };
    static const char *const names[] = { "RandomSearch", "TPE", "BayesianOptimization", "GridSearch" };
    for (int t = 0; t < 4; t++) {
        setup s = make_setup(p, tuners[t], 3);
        int mt = st_arg_index(&st_catalogue[tuners[t]], "max_trials");
        s.args[mt] = value_int(60);
        oracle *o = make(&s);
        static record rec;
        if (o) drive(o, p, bowl, 2, 0, 60, &rec);
        ok = o != NULL && rec.n > 0;
        for (int i = 0; ok && i < rec.n; i++)
            for (int k = 0; k < p->n_hps; k++) ok &= rec.values[i][k].type == V_NONE || int_on_grid(&p->hps[k], rec.values[i][k]);
        CHECK(ok, "%s: %d trials, every value in range and on its grid", names[t], o ? rec.n : 0);
        oracle_free(o);
    }
    ir_free(p);
}

int main(void)
{
    ir_program *p = compile(spec_bowl);
    CHECK(p != NULL, "the test specs compile");
    if (!p) return check_exit();
    test_hyperband_schedule(p, 10, 3, hb_10_3, 6);
    test_hyperband_schedule(p, 27, 3, hb_27_3, 10);
    test_hyperband_schedule(p, 81, 3, hb_81_3, 15);
    test_hyperband_schedule(p, 9, 3, hb_9_3, 6);
    test_hyperband_schedule(p, 100, 3, hb_100_3, 15);
    test_hyperband_schedule(p, 10, 2, hb_10_2, 10);
    test_hyperband_promotions(p);
    ir_free(p);
    test_grid();
    test_grid_values();
    test_random();
    test_conditional_all();
    test_model_vs_random();
    test_bohb_vs_hyperband();
    test_determinism();
    test_errors();
    test_int_extremes();
    return check_exit();
}
