/* test_asha.c: the ASHA oracle (runtime/tune/oracle_asha.c) driven through
 * runtime/tune/oracle.h with scripted and synthetic scores (no training).
 *
 * A hand-computed trace of the virtual clock (2 virtual workers, rungs 1 ->
 * 3 -> 9, reduction factor 3): which trial is proposed, promoted from which
 * parent, when oracle_next waits, that a result ending later on the clock
 * is ignored, the idle worker and the end; the epoch budget; may_promote;
 * the rungs of min_early_stopping_rate; then the same proposals for 1, 3
 * and 6 jobs reporting in shuffled orders and for a replay (a resume); and
 * the constructor's errors. */
#include "compiler/compile.h"
#include "runtime/tune/oracle.h"
#include "runtime/rng.h"
#include "tests/unit/check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *spec =
    "data = csv(\"synthetic.csv\")\n"
    "model {\n  Input(shape = [4])\n  Dropout(rate = hp.Float(\"x\", 0.0, 0.9))\n"
    "  Dense(units = hp.Int(\"units\", 16, 512, step = 16))\n}\n"
    "compile(optimizer = Adam(learning_rate = hp.Float(\"lr\", 1e-4, 1e-1, sampling = \"log\")), loss = \"mse\")\n"
    "tuner = RandomSearch(max_trials = 10)\nsearch(epochs = 1, validation_split = 0.2)\n";

static hpt_value args[ASHA_nargs];

/* ASHA(max_epochs, grace_period = 1, reduction_factor, ...), maximising. */
static oracle *make(const ir_program *p, int max_epochs, int eta, int workers, long total, long trials, uint64_t seed)
{
    for (int k = 0; k < ASHA_nargs; k++) args[k] = value_none();
    args[ASHA_max_epochs] = value_int(max_epochs);
    args[ASHA_grace_period] = value_int(1);
    args[ASHA_reduction_factor] = value_int(eta);
    args[ASHA_min_early_stopping_rate] = value_int(0);
    args[ASHA_max_concurrent_trials] = value_int(workers);
    if (total > 0) args[ASHA_max_epochs_total] = value_int(total);
    if (trials > 0) args[ASHA_max_trials] = value_int(trials);
    oracle_config c = { p, &st_catalogue[ST_ASHA], args, 1, seed, 1 };
    hpt_error e;
    oracle *o = oracle_new(&c, &e);
    if (!o) printf("oracle_new: %s\n", e.message);
    return o;
}

/* oracle_next must give trial `id` continuing `parent` (-1: a new
 * configuration) from initial to epochs. */
static int expect(oracle *o, int id, int parent, int initial, int epochs)
{
    oracle_request q;
    oracle_status st = oracle_next(o, &q);
    int ok = st == ORACLE_TRIAL && q.trial == id && q.parent == parent && q.initial_epoch == initial && q.epochs == epochs;
    if (!ok)
        printf("      got status %d trial %d parent %d epochs %d..%d\n", st, st == ORACLE_TRIAL ? q.trial : -1,
               st == ORACLE_TRIAL ? q.parent : -1, st == ORACLE_TRIAL ? q.initial_epoch : -1, st == ORACLE_TRIAL ? q.epochs : -1);
    return ok;
}

static oracle_status next_status(oracle *o)
{
    oracle_request q;
    return oracle_next(o, &q);
}

/* The trace (2 virtual workers, rungs 1, 3, 9, eta 3, 6 configurations):
 *   t=0  trials 0, 1 new (end 1)                 t=1  rung 0 has 2 < 3: trials 2, 3 new (end 2)
 *   t=2  rung 0 has 4: top 1 is trial 2 -> trial 4 (1..3 epochs, end 4); trial 5 new (end 3)
 *   t=3  needs only trial 5; rung 0's top 1 is promoted: trial 6 new (end 4); 6 configurations
 *   t=4  rung 0 has 6: top 2 = 2 (promoted), 6 -> trial 7 (end 6); the other worker idles to 6
 *   t=6  rung 1 has 2 < 3, nothing to promote, nothing running: done. */
static void test_trace(const ir_program *p)
{
    oracle *o = make(p, 9, 3, 2, 0, 6, 5);
    if (!o) return;
    CHECK(expect(o, 0, -1, 0, 1) && expect(o, 1, -1, 0, 1), "t=0: two new configurations of 1 epoch, one per virtual worker");
    CHECK(next_status(o) == ORACLE_WAIT, "t=1: WAIT for the results of trials 0 and 1");
    oracle_report(o, 1, 0.6, 0);
    CHECK(next_status(o) == ORACLE_WAIT, "t=1: still WAIT with trial 1 in and trial 0 out");
    oracle_report(o, 0, 0.5, 0);
    CHECK(expect(o, 2, -1, 0, 1) && expect(o, 3, -1, 0, 1), "t=1: rung 0 holds 2 < reduction_factor results: new ones");
    CHECK(next_status(o) == ORACLE_WAIT, "t=2: WAIT for trials 2 and 3");
    oracle_report(o, 2, 0.9, 0);
    oracle_report(o, 3, 0.4, 0);
    CHECK(expect(o, 4, 2, 1, 3), "t=2: rung 0 holds 4: its best (trial 2) is promoted to 3 epochs from epoch 1");
    CHECK(oracle_may_promote(o, 2) == 1, "a promoted trial's checkpoint is kept until its child reports");
    CHECK(expect(o, 5, -1, 0, 1), "t=2: the top 1 of rung 0 is promoted already: a new configuration");
    CHECK(next_status(o) == ORACLE_WAIT, "t=3: WAIT for trial 5 (trial 4 ends at 4)");
    /* Trial 4 ends at 4 on the clock: its result, in early, must not count at t=3. */
    oracle_report(o, 4, 0.95, 0);
    CHECK(oracle_may_promote(o, 2) == 0, "a promoted trial's checkpoint is released once its child reported");
    oracle_report(o, 5, 0.7, 0);
    CHECK(expect(o, 6, -1, 0, 1), "t=3: trial 4 (ending at 4) does not count yet: the 6th configuration");
    CHECK(next_status(o) == ORACLE_WAIT, "t=4: WAIT for trial 6");
    oracle_report(o, 6, 0.8, 0);
    CHECK(oracle_may_promote(o, 0) == 1, "an unpromoted trial may still be promoted while the search goes on");
    CHECK(expect(o, 7, 6, 1, 3), "t=4: rung 0 holds 6: its top 2 are trials 2 (promoted) and 6: trial 6 is promoted");
    CHECK(next_status(o) == ORACLE_WAIT, "t=4: max_trials reached, the other worker idles until trial 7 ends (WAIT)");
    oracle_report(o, 7, 0.85, 0);
    CHECK(next_status(o) == ORACLE_DONE, "t=6: nothing to promote, nothing running: DONE");
    CHECK(oracle_may_promote(o, 0) == 0 && oracle_may_promote(o, 4) == 0, "after the end no checkpoint is needed");
    CHECK(oracle_planned_trials(o) == 8, "8 trials in all once done (got %ld)", oracle_planned_trials(o));
    char line[200];
    oracle_describe(o, line, sizeof line);
    CHECK(strstr(line, "6 configurations") != NULL, "describe: %s", line);
    oracle_free(o);
}

/* The same start with a budget of 5 epochs: the promotion at t=2 (2 epochs on
 * top of 4) would exceed it, so the search ends there.  A failed trial is in
 * no rung. */
static void test_budget_and_failures(const ir_program *p)
{
    oracle *o = make(p, 9, 3, 2, 5, 0, 5);
    if (!o) return;
    expect(o, 0, -1, 0, 1), expect(o, 1, -1, 0, 1);
    oracle_report(o, 0, 0.5, 0), oracle_report(o, 1, 0.6, 0);
    expect(o, 2, -1, 0, 1), expect(o, 3, -1, 0, 1);
    oracle_report(o, 2, 0.9, 0), oracle_report(o, 3, 0.4, 0);
    CHECK(next_status(o) == ORACLE_DONE, "max_epochs_total 5: the promotion that would train epochs 5 and 6 ends the search");
    oracle_free(o);

    o = make(p, 9, 3, 2, 0, 0, 5);
    args[ASHA_max_trials] = value_none();
    CHECK(o == NULL, "no budget (neither max_epochs_total nor max_trials) is refused");
    o = make(p, 9, 3, 2, 0, 8, 5);
    expect(o, 0, -1, 0, 1), expect(o, 1, -1, 0, 1);
    oracle_report(o, 0, 0.5, 0), oracle_report(o, 1, 0.6, 0);
    expect(o, 2, -1, 0, 1), expect(o, 3, -1, 0, 1);
    oracle_report(o, 2, 0.9, 1), oracle_report(o, 3, 0.4, 0);
    CHECK(expect(o, 4, 1, 1, 3), "the failed trial 2 (best score) is in no rung: of the other 3, trial 1 is promoted");
    CHECK(oracle_may_promote(o, 2) == 0, "a failed trial is never promoted");
    CHECK(expect(o, 5, -1, 0, 1), "the second worker at t=2: a new configuration");
    oracle_free(o);
}

/* Rungs: grace_period x eta^(rate + k) below max_epochs, then max_epochs. */
static void test_rungs(const ir_program *p)
{
    oracle *o = make(p, 20, 2, 1, 0, 3, 1);
    args[ASHA_min_early_stopping_rate] = value_int(2);
    oracle_free(o);
    oracle_config c = { p, &st_catalogue[ST_ASHA], args, 1, 1, 1 };
    hpt_error e;
    o = oracle_new(&c, &e);
    CHECK(o && expect(o, 0, -1, 0, 4), "min_early_stopping_rate 2, reduction_factor 2: the bottom rung trains 4 epochs");
    oracle_free(o);
    char *buf;
    size_t n;
    FILE *f = open_memstream(&buf, &n);
    oracle_print_plan(&c, f);
    fclose(f);
    CHECK(strstr(buf, "rungs at 4 -> 8 -> 16 -> 20 epochs") != NULL, "hptc space's plan: %s", buf);
    free(buf);
}

/* ---- determinism ------------------------------------------------------- */

typedef struct record {
    int n, waits;
    int trial[600], parent[600], epochs[600], initial[600];
    double x[600], score[600];
} record;

/* A stand-in for accuracy that rises with epochs and with x near 0.3. */
static double score_of(const ir_program *p, const oracle_request *q)
{
    double x = value_as_double(q->values[ir_find_hp(p, "x")]);
    return 1 - (x - 0.3) * (x - 0.3) - 1.0 / (1 + q->epochs);
}

/* Run to the end with `jobs` trials in flight, results returned in an order
 * shuffled by order_seed (0: oldest first). */
static void drive(oracle *o, const ir_program *p, int jobs, uint64_t order_seed, record *r)
{
    int running[64], n_running = 0, done = 0;
    rng shuffle = rng_stream(order_seed);
    memset(r, 0, sizeof *r);
    for (;;) {
        while (!done && n_running < jobs && r->n < 600) {
            oracle_request q;
            oracle_status st = oracle_next(o, &q);
            done = st == ORACLE_DONE;
            if (st != ORACLE_TRIAL) {
                r->waits += st == ORACLE_WAIT;
                break;
            }
            int i = r->n++;
            r->trial[i] = q.trial, r->parent[i] = q.parent, r->epochs[i] = q.epochs, r->initial[i] = q.initial_epoch;
            r->x[i] = value_as_double(q.values[ir_find_hp(p, "x")]);
            r->score[i] = score_of(p, &q);
            running[n_running++] = q.trial;
        }
        if (n_running == 0) break;
        int pick = order_seed ? (int)rng_below(&shuffle, (uint64_t)n_running) : 0;
        int t = running[pick];
        running[pick] = running[--n_running];
        oracle_report(o, t, r->score[t], 0);
    }
}

static int same(const record *a, const record *b)
{
    if (a->n != b->n) return 0;
    for (int i = 0; i < a->n; i++)
        if (a->trial[i] != b->trial[i] || a->parent[i] != b->parent[i] || a->epochs[i] != b->epochs[i] ||
            a->initial[i] != b->initial[i] || a->x[i] != b->x[i])
            return 0;
    return 1;
}

static void test_determinism(const ir_program *p)
{
    static record seq, pool3, pool6, replay;
    oracle *o = make(p, 27, 3, 4, 400, 0, 42);
    drive(o, p, 1, 0, &seq);
    oracle_free(o);
    o = make(p, 27, 3, 4, 400, 0, 42);
    drive(o, p, 3, 77, &pool3);
    oracle_free(o);
    o = make(p, 27, 3, 4, 400, 0, 42);
    drive(o, p, 6, 1234, &pool6);
    oracle_free(o);
    long spent = 0;
    int promoted = 0, top = 0, chained = 1;
    for (int i = 0; i < seq.n; i++) {
        spent += seq.epochs[i] - seq.initial[i];
        promoted += seq.parent[i] >= 0, top += seq.epochs[i] == 27;
        if (seq.parent[i] >= 0) chained &= seq.epochs[seq.parent[i]] == seq.initial[i] && seq.x[seq.parent[i]] == seq.x[i];
    }
    CHECK(seq.n > 50 && spent <= 400 && spent > 400 - 27, "%d trials, %ld epochs within the budget of 400", seq.n, spent);
    CHECK(promoted > 10 && top >= 1 && chained, "%d promotions (%d to the top rung), each continuing its parent's epochs and values",
          promoted, top);
    CHECK(same(&seq, &pool3) && same(&seq, &pool6),
          "the same %d proposals with 1 job in order and with 3 or 6 jobs reporting out of order (%d, %d waits)", seq.n,
          pool3.waits, pool6.waits);
    /* A resume: a new oracle fed the stored trials, each result right after its proposal. */
    o = make(p, 27, 3, 4, 400, 0, 42);
    memset(&replay, 0, sizeof replay);
    int ok = 1;
    for (int i = 0; i < seq.n && ok; i++) {
        oracle_request q;
        ok = oracle_next(o, &q) == ORACLE_TRIAL;
        if (!ok) break;
        replay.trial[i] = q.trial, replay.parent[i] = q.parent, replay.epochs[i] = q.epochs;
        replay.initial[i] = q.initial_epoch, replay.x[i] = value_as_double(q.values[ir_find_hp(p, "x")]);
        replay.n++;
        oracle_report(o, q.trial, seq.score[q.trial], 0);
    }
    CHECK(ok && next_status(o) == ORACLE_DONE && same(&seq, &replay), "a replay of the stored results proposes the same trials");
    oracle_free(o);
    /* Another seed, other configurations. */
    o = make(p, 27, 3, 4, 400, 0, 43);
    drive(o, p, 1, 0, &replay);
    oracle_free(o);
    CHECK(!same(&seq, &replay), "another seed proposes other trials");
}

static void test_errors(const ir_program *p)
{
    for (int k = 0; k < ASHA_nargs; k++) args[k] = value_none();
    args[ASHA_max_epochs] = value_int(5);
    args[ASHA_grace_period] = value_int(6);
    args[ASHA_reduction_factor] = value_int(3);
    args[ASHA_min_early_stopping_rate] = value_int(0);
    args[ASHA_max_concurrent_trials] = value_int(4);
    args[ASHA_max_epochs_total] = value_int(50);
    oracle_config c = { p, &st_catalogue[ST_ASHA], args, 1, 0, 1 };
    hpt_error e = { "" };
    CHECK(oracle_new(&c, &e) == NULL && strstr(e.message, "grace_period <= max_epochs"), "grace_period > max_epochs: %s",
          e.message);
}

int main(void)
{
    compile_result r = compile_spec("test.hpt", spec, strlen(spec), stderr);
    ir_program *p = r.program;
    CHECK(p != NULL, "the test spec compiles");
    if (!p) return check_exit();
    test_trace(p);
    test_budget_and_failures(p);
    test_rungs(p);
    test_determinism(p);
    test_errors(p);
    ir_free(p);
    return check_exit();
}
