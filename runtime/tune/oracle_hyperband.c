/* oracle_hyperband.c: Hyperband, as Keras Tuner's HyperbandOracle, and BOHB.
 *
 * The rounds run in hb_schedule's order, hyperband_iterations times.  Round 0
 * of a bracket proposes fresh configurations (random, never one tried
 * before in the search, as Keras Tuner's _random_values); round r + 1
 * promotes the best completed trials of round r (by loss, ties to the older
 * trial; failed ones never) as new trials with the same values, parent =
 * the promoted trial, initial_epoch = round r's epochs.  Keras Tuner
 * promotes as soon as enough of a round is in and starts the next bracket
 * while one waits; here a round's promotions wait until ALL of it has
 * reported, so which trials are promoted is a function of the results alone.
 *
 * Brackets overlap (issue 15, "busy"): no round 0 depends on any result, so
 * Hyperband proposes every bracket's round 0 first (brackets in schedule
 * order), then the promotion rounds by round, then bracket (b2r1, b1r1,
 * b2r2 for the seed spec), each iteration in turn.  This order is a fixed
 * function of the schedule, so trial ids (given in proposal order) and the
 * values of round-0 trials (never one tried by a lower id) are the same for
 * any --jobs, ranks and resume; while a promotion round waits for its
 * predecessor, the later brackets' first rounds keep every core busy.
 * BOHB keeps Keras Tuner's bracket-by-bracket order: its round 0 is fitted
 * on every earlier result, so it cannot run ahead.  A round whose
 * predecessor completed fewer trials than it should promote is smaller; a
 * round 0 that runs out of untried configurations ends early.
 *
 * BOHB (Falkner et al. 2018) keeps the brackets and promotions and proposes
 * round-0 configurations from a TPE model: at the start of each bracket it
 * waits for every earlier trial, takes the largest budget (epochs) with at
 * least d + 2 completed trials (d = non-Fixed hyperparameters), splits them
 * as BOHB does (the best max(1, 15%) are "good") and fits the univariate
 * Parzen estimators of oracle_tpe.c with equal weights; each proposal is
 * random instead with probability 1/3 (BOHB's random_fraction), or when no
 * budget has enough results yet. */
#include "runtime/tune/hyperband.h"
#include "runtime/tune/oracle_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct hb_slot {
    int first;                  /* id of the round's first trial */
    int target;                 /* trials it will have; -1 before it starts */
    int proposed;
    int *parents;               /* promotion rounds: the trials promoted, best first */
} hb_slot;

typedef struct hb_state {
    int bohb;
    hb_round rounds[64];
    int n_rounds, iterations, max_epochs, factor;
    /* The order rounds are proposed in within an iteration: order[i] is an
     * index into rounds (whose rounds of one bracket are consecutive), at[k]
     * where rounds[k] comes in that order. */
    int order[64], at[64];
    long pos;                   /* current round: iteration * n_rounds + i, rounds[order[i]] */
    hb_slot *slots;
    long n_slots;
    /* BOHB's model of the current bracket */
    int model, *good, *bad, n_good, n_bad;
} hb_state;

static const hb_round *round_of(const hb_state *s, long pos) { return &s->rounds[s->order[pos % s->n_rounds]]; }

/* The position of the same bracket's round `delta` rounds after (or before)
 * the one at pos, in the same iteration. */
static long sibling(const hb_state *s, long pos, int delta)
{
    long base = pos - pos % s->n_rounds;
    return base + s->at[s->order[pos % s->n_rounds] + delta];
}

/* Hyperband: every round 0, then the promotions by (round, bracket
 * descending); BOHB: the schedule's own order (see the opening comment). */
static void set_order(hb_state *s)
{
    int n = 0;
    if (s->bohb) {
        for (int k = 0; k < s->n_rounds; k++) s->order[n++] = k;
    } else {
        for (int r = 0; n < s->n_rounds; r++)
            for (int k = 0; k < s->n_rounds; k++)
                if (s->rounds[k].round == r) s->order[n++] = k;
    }
    for (int i = 0; i < s->n_rounds; i++) s->at[s->order[i]] = i;
}

static hb_slot *slot(hb_state *s, long pos)
{
    if (pos >= s->n_slots) {
        long n = s->n_slots ? 2 * s->n_slots : 16;
        while (n <= pos) n *= 2;
        hb_slot *t = realloc(s->slots, sizeof *t * (size_t)n);
        if (!t) return NULL;
        for (long i = s->n_slots; i < n; i++) t[i] = (hb_slot){ .first = -1, .target = -1 };
        s->slots = t, s->n_slots = n;
    }
    return &s->slots[pos];
}

/* BOHB: fit the model on every result so far (all are in: see bohb_ready). */
static int bohb_fit(oracle *o, hb_state *s)
{
    free(s->good), free(s->bad);
    s->good = s->bad = NULL;
    s->model = 0;
    int d = 0;
    for (int k = 0; k < o->p->n_hps; k++) d += o->p->hps[k].kind != HP_FIXED;
    if (d == 0) return 0;
    int best_epochs = -1;
    for (int t = 0; t < o->n_trials; t++) {
        int e = o->trials[t].epochs, count = 0;
        if (!orc_done_ok(o, t) || e <= best_epochs) continue;
        for (int u = 0; u < o->n_trials; u++) count += orc_done_ok(o, u) && o->trials[u].epochs == e;
        if (count >= d + 2) best_epochs = e;
    }
    if (best_epochs < 0) return 0;
    int *ids = malloc(sizeof *ids * (size_t)o->n_trials), n = 0;
    if (!ids) return -1;
    for (int t = 0; t < o->n_trials; t++)
        if (orc_done_ok(o, t) && o->trials[t].epochs == best_epochs) ids[n++] = t;
    orc_sort_by_loss(o, ids, n);
    int n_good = (int)(0.15 * n);
    if (n_good < 1) n_good = 1;
    s->good = malloc(sizeof *s->good * (size_t)n_good);
    s->bad = malloc(sizeof *s->bad * (size_t)(n - n_good + 1));
    if (!s->good || !s->bad) return free(ids), -1;
    memcpy(s->good, ids, sizeof *ids * (size_t)n_good);
    memcpy(s->bad, ids + n_good, sizeof *ids * (size_t)(n - n_good));
    s->n_good = n_good, s->n_bad = n - n_good;
    /* chronological order, as the estimators expect */
    for (int pass = 0; pass < 2; pass++) {
        int *a = pass ? s->bad : s->good, m = pass ? s->n_bad : s->n_good;
        for (int i = 1; i < m; i++)
            for (int j = i; j > 0 && a[j - 1] > a[j]; j--) {
                int t = a[j];
                a[j] = a[j - 1], a[j - 1] = t;
            }
    }
    free(ids);
    s->model = 1;
    return 0;
}

/* A round-0 configuration; -1 when no untried one is left. */
static int fresh_values(oracle *o, hb_state *s, hpt_value *values)
{
    int k = o->n_trials;
    if (s->bohb && s->model) {
        rng coin = orc_stream(o, k, ORC_COIN);
        if (rng_double(&coin) >= 1.0 / 3) {
            if (orc_tpe_propose(o, k, s->good, s->n_good, s->bad, s->n_bad, 0, values) == 0) {
                orc_make_feasible(o, k, values);    /* within the tuner's limits */
                if (orc_find(o, values) < 0) return 0;
            }
        }
    }
    rng r = orc_stream(o, k, ORC_SAMPLE);
    return orc_sample_new(o, &r, values);
}

static oracle_status hb_next(oracle *o, oracle_request *out)
{
    hb_state *s = o->state;
    for (;;) {
        if (s->pos >= (long)s->n_rounds * s->iterations) return ORACLE_DONE;
        const hb_round *R = round_of(s, s->pos);
        hb_slot *sl = slot(s, s->pos);
        if (!sl) return ORACLE_DONE;
        if (sl->target < 0) {
            if (R->round == 0) {
                if (s->bohb) {
                    for (int t = 0; t < o->n_trials; t++)
                        if (!o->trials[t].reported) return ORACLE_WAIT;
                    if (bohb_fit(o, s)) return ORACLE_DONE;
                }
                sl->target = R->trials;
            } else {
                /* Promote once every trial of the previous round is in. */
                const hb_slot *prev = &s->slots[sibling(s, s->pos, -1)];
                for (int t = prev->first; t < prev->first + prev->proposed; t++)
                    if (!o->trials[t].reported) return ORACLE_WAIT;
                int *ids = malloc(sizeof *ids * ((size_t)prev->proposed + 1)), n = 0;
                if (!ids) return ORACLE_DONE;
                for (int t = prev->first; t < prev->first + prev->proposed; t++)
                    if (orc_done_ok(o, t)) ids[n++] = t;
                orc_sort_by_loss(o, ids, n);
                sl->parents = ids;
                sl->target = n < R->trials ? n : R->trials;
            }
            sl->first = o->n_trials;
        }
        if (sl->proposed < sl->target) {
            int rc;
            if (R->round == 0) {
                hpt_value *values = malloc(sizeof *values * ((size_t)o->p->n_hps + 1));
                if (!values) return ORACLE_DONE;
                rc = fresh_values(o, s, values);
                if (rc == 0) rc = orc_propose(o, values, R->epochs, 0, -1, R->bracket, 0, out);
                free(values);
                if (rc) {
                    sl->target = sl->proposed;     /* the space is exhausted: a shorter round */
                    continue;
                }
            } else {
                int parent = sl->parents[sl->proposed];
                if (orc_propose(o, o->trials[parent].values, R->epochs, R->initial_epoch, parent, R->bracket,
                                R->round, out))
                    return ORACLE_DONE;
            }
            o->trials[out->trial].slot = (int)s->pos;
            sl->proposed++;
            return ORACLE_TRIAL;
        }
        s->pos++;
    }
}

static int hb_may_promote(const oracle *o, int trial)
{
    const hb_state *s = o->state;
    const orc_trial *t = &o->trials[trial];
    if (t->slot < 0 || (t->reported && t->failed)) return 0;
    const hb_round *R = round_of(s, t->slot);
    if (R->round == R->bracket) return 0;          /* a bracket's last round */
    long next = sibling(s, t->slot, 1);
    if (next >= s->n_slots || s->slots[next].target < 0) return 1;
    /* Promoted: its checkpoint is needed until the child has run. */
    const hb_slot *sl = &s->slots[next];
    for (int i = 0; i < sl->target; i++)
        if (sl->parents[i] == trial) return i >= sl->proposed || !o->trials[sl->first + i].reported;
    return 0;
}

static long hb_planned(const oracle *o)
{
    const hb_state *s = o->state;
    long trials, epochs;
    hb_totals(s->max_epochs, s->factor, s->iterations, &trials, &epochs);
    /* Trials added by warm start (oracle_add_trial) sit in no round: on top of the brackets'. */
    for (int t = 0; t < o->n_trials; t++) trials += o->trials[t].slot < 0;
    return trials;
}

static void hb_describe(const oracle *o, char *buf, size_t n)
{
    const hb_state *s = o->state;
    long pos = s->pos < (long)s->n_rounds * s->iterations ? s->pos : (long)s->n_rounds * s->iterations - 1;
    const hb_round *R = round_of(s, pos);
    const hb_slot *sl = pos < s->n_slots ? &s->slots[pos] : NULL;
    int target = sl && sl->target >= 0 ? sl->target : R->trials, done = 0;
    if (sl && sl->first >= 0)
        for (int t = sl->first; t < sl->first + sl->proposed; t++) done += o->trials[t].reported;
    snprintf(buf, n, "%s iteration %ld of %d, bracket %d, round %d (%d epochs): %d of %d done", s->bohb ? "BOHB" : "Hyperband",
             pos / s->n_rounds + 1, s->iterations, R->bracket, R->round, R->epochs, done, target);
}

static void hb_free(void *state)
{
    hb_state *s = state;
    if (!s) return;
    for (long i = 0; i < s->n_slots; i++) free(s->slots[i].parents);
    free(s->slots), free(s->good), free(s->bad), free(s);
}

static const orc_ops hb_ops = {
    .next = hb_next, .may_promote = hb_may_promote, .planned = hb_planned, .describe = hb_describe,
    .free_state = hb_free,
};

static int init(oracle *o, const oracle_config *cfg, int bohb, hpt_error *e)
{
    hb_state *s = calloc(1, sizeof *s);
    if (!s) return hpt_fail(e, "out of memory");
    o->state = s, o->ops = &hb_ops;
    s->bohb = bohb;
    long max_epochs = orc_arg_int(cfg, bohb ? BOHB_max_epochs : Hyperband_max_epochs, 100);
    long factor = orc_arg_int(cfg, bohb ? BOHB_factor : Hyperband_factor, 3);
    long iterations = orc_arg_int(cfg, bohb ? BOHB_hyperband_iterations : Hyperband_hyperband_iterations, 1);
    if (max_epochs < 1 || factor < 2 || iterations < 1 || max_epochs > 1000000 || iterations > 1000000)
        return hpt_fail(e, "%s needs max_epochs >= 1, factor >= 2 and hyperband_iterations >= 1", cfg->tuner->name);
    s->iterations = (int)iterations, s->max_epochs = (int)max_epochs, s->factor = (int)factor;
    s->n_rounds = hb_schedule((int)max_epochs, (int)factor, s->rounds, 64);
    if (s->n_rounds <= 0)
        return hpt_fail(e, "%s: max_epochs %ld with factor %ld makes too many brackets", cfg->tuner->name, max_epochs,
                        factor);
    set_order(s);
    return 0;
}

int orc_hyperband_init(oracle *o, const oracle_config *cfg, hpt_error *e) { return init(o, cfg, 0, e); }
int orc_bohb_init(oracle *o, const oracle_config *cfg, hpt_error *e) { return init(o, cfg, 1, e); }

/* The brackets of one iteration, round by round, and the totals. */
static void plan(const oracle_config *cfg, int bohb, FILE *out)
{
    const hpt_value *a = cfg->args;
    int max_epochs = (int)a[bohb ? BOHB_max_epochs : Hyperband_max_epochs].u.i;
    int factor = (int)a[bohb ? BOHB_factor : Hyperband_factor].u.i;
    int iterations = (int)a[bohb ? BOHB_hyperband_iterations : Hyperband_hyperband_iterations].u.i;
    hb_round rounds[64];
    int n = hb_schedule(max_epochs, factor, rounds, 64);
    for (int k = 0; k < n; k++) {
        if (rounds[k].round == 0) fprintf(out, "  bracket %d:", rounds[k].bracket);
        fprintf(out, "%s %d trial%s x %d epoch%s", rounds[k].round ? " ->" : "", rounds[k].trials,
                rounds[k].trials == 1 ? "" : "s", rounds[k].epochs, rounds[k].epochs == 1 ? "" : "s");
        if (k + 1 == n || rounds[k + 1].round == 0) fputc('\n', out);
    }
    long trials, trained;
    hb_totals(max_epochs, factor, iterations, &trials, &trained);
    fprintf(out, "  %ld trials, %ld epochs in all (promoted trials continue from their parent's weights)\n", trials,
            trained);
    if (iterations > 1) fprintf(out, "  the brackets above run %d times\n", iterations);
    fprintf(out, "  under %s the tuner, not search(epochs), sets each trial's epochs, as in Keras Tuner\n",
            cfg->tuner->name);
}

void orc_hyperband_plan(const oracle_config *cfg, FILE *out) { plan(cfg, 0, out); }
void orc_bohb_plan(const oracle_config *cfg, FILE *out) { plan(cfg, 1, out); }
