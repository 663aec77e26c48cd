/* oracle_asha.c: ASHA, asynchronous successive halving (Li et al. 2020, "A
 * System for Massively Parallel Hyperparameter Tuning"), as Ray Tune's
 * ASHAScheduler and Optuna's SuccessiveHalvingPruner, with promotions that
 * do not depend on which process finished first.
 *
 * Rungs: rung k trains to grace_period x reduction_factor^(s + k) epochs
 * (s = min_early_stopping_rate) while that is below max_epochs; the top rung
 * trains to max_epochs.  A trial at rung k whose score is among the top
 * floor(n_k / reduction_factor) of the n_k results of rung k may be promoted
 * once: a new trial with its values, parent = it, initial_epoch = rung k's
 * epochs, continuing from its best checkpoint as Hyperband's promotions do.
 *
 * The deterministic clock.  The oracle simulates max_concurrent_trials
 * virtual workers.  A trial of e new epochs (epochs - initial_epoch) holds
 * a virtual worker for e time units.  Each proposal goes to the virtual
 * worker that frees first (the lowest index on a tie), at its free time t,
 * and is decided from exactly the results of the trials whose virtual end
 * is <= t: while one of them is not in yet (in real time), oracle_next
 * answers WAIT; results of trials that end later are ignored even if they
 * are in.  The decision (Li et al.'s get_job): from the second-highest rung
 * down, the best not-yet-promoted trial among the rung's top 1/eta (ranked
 * by loss, ties to the older trial; failed trials are in no rung) is
 * promoted; with none, a new random configuration (never one tried before)
 * starts at the bottom rung.  With neither (max_trials configurations
 * sampled, or the space exhausted) the virtual worker idles until the next
 * virtual end and decides again; with no trial left to end the search is
 * over.  So every proposal is a function of the seed and the results, and
 * --jobs, MPI ranks and resumes (which replay the proposals in order) give
 * the same trials.  Trials of a later proposal start no earlier, so the
 * results a decision needs are always of earlier trials.
 *
 * Budget: a proposal whose new epochs would take the epochs proposed so far
 * past max_epochs_total ends the search (the trials running finish). */
#include "runtime/tune/oracle_impl.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

enum { ASHA_MAX_RUNGS = 64 };

typedef struct asha_state {
    int rungs[ASHA_MAX_RUNGS];  /* epochs at the end of rung k */
    int n_rungs, eta, workers;
    long budget;                /* max_epochs_total, -1 none */
    long max_configs;           /* max_trials, -1 none */
    long spent;                 /* new epochs of the trials proposed */
    long configs;               /* configurations started at the bottom rung */
    int exhausted, done;
    long *free_at;              /* per virtual worker */
    long *end;                  /* per trial: virtual end time */
    int *child;                 /* per trial: the trial promoting it, -1 none */
    int cap;
} asha_state;

/* The rungs' epochs; the count, at most cap. */
static int asha_rungs(long max_epochs, long grace, long eta, long rate, int *out, int cap)
{
    long r = grace;
    for (long k = 0; k < rate && r < max_epochs; k++) r *= eta;
    int n = 0;
    while (r < max_epochs && n < cap - 1) out[n++] = (int)r, r *= eta;
    out[n++] = (int)max_epochs;
    return n;
}

static int grow(asha_state *s, int need)
{
    if (need <= s->cap) return 0;
    int n = s->cap ? 2 * s->cap : 64;
    while (n < need) n *= 2;
    long *end = realloc(s->end, sizeof *end * (size_t)n);
    if (!end) return -1;
    s->end = end;
    int *child = realloc(s->child, sizeof *child * (size_t)n);
    if (!child) return -1;
    s->child = child;
    s->cap = n;
    return 0;
}

/* The trial to promote at virtual time t: from the second-highest rung down,
 * the best unpromoted one among its rung's top 1/eta; -1 when none. */
static int promotable(const oracle *o, const asha_state *s, long t, int *ids)
{
    for (int k = s->n_rungs - 2; k >= 0; k--) {
        int n = 0;
        for (int j = 0; j < o->n_trials; j++)
            if (o->trials[j].slot == k && s->end[j] <= t && orc_done_ok(o, j)) ids[n++] = j;
        orc_sort_by_loss(o, ids, n);
        for (int i = 0; i < n / s->eta; i++)
            if (s->child[ids[i]] < 0) return ids[i];
    }
    return -1;
}

/* Record a proposed trial on virtual worker w from time t. */
static void occupy(asha_state *s, int trial, int w, long t, int epochs)
{
    s->end[trial] = t + epochs;
    s->child[trial] = -1;
    s->free_at[w] = t + epochs;
    s->spent += epochs;
}

static int over_budget(const asha_state *s, int epochs) { return s->budget >= 0 && s->spent + epochs > s->budget; }

static oracle_status asha_next(oracle *o, oracle_request *out)
{
    asha_state *s = o->state;
    for (;;) {
        if (s->done || grow(s, o->n_trials + 1)) return ORACLE_DONE;
        int w = 0;
        for (int k = 1; k < s->workers; k++)
            if (s->free_at[k] < s->free_at[w]) w = k;
        long t = s->free_at[w];
        for (int j = 0; j < o->n_trials; j++)
            if (s->end[j] <= t && !o->trials[j].reported) return ORACLE_WAIT;
        int *ids = malloc(sizeof *ids * ((size_t)o->n_trials + 1));
        if (!ids) return ORACLE_DONE;
        int parent = promotable(o, s, t, ids);
        free(ids);
        if (parent >= 0) {
            int k = o->trials[parent].slot + 1, from = s->rungs[k - 1], to = s->rungs[k];
            if (over_budget(s, to - from)) break;
            if (orc_propose(o, o->trials[parent].values, to, from, parent, 0, k, out)) return ORACLE_DONE;
            o->trials[out->trial].slot = k;
            occupy(s, out->trial, w, t, to - from);
            s->child[parent] = out->trial;
            return ORACLE_TRIAL;
        }
        if (!s->exhausted && (s->max_configs < 0 || s->configs < s->max_configs)) {
            if (over_budget(s, s->rungs[0])) break;
            hpt_value *values = malloc(sizeof *values * ((size_t)o->p->n_hps + 1));
            if (!values) return ORACLE_DONE;
            rng r = orc_stream(o, o->n_trials, ORC_SAMPLE);
            int rc = orc_sample_new(o, &r, values);
            if (rc == 0) rc = orc_propose(o, values, s->rungs[0], 0, -1, 0, 0, out) ? -2 : 0;
            free(values);
            if (rc == -2) return ORACLE_DONE;
            if (rc) {
                s->exhausted = 1;
                continue;
            }
            o->trials[out->trial].slot = 0;
            occupy(s, out->trial, w, t, s->rungs[0]);
            s->configs++;
            return ORACLE_TRIAL;
        }
        /* Nothing to start now: idle until the next trial ends, or finish. */
        long next = LONG_MAX;
        for (int j = 0; j < o->n_trials; j++)
            if (s->end[j] > t && s->end[j] < next) next = s->end[j];
        if (next == LONG_MAX) break;
        s->free_at[w] = next;
    }
    s->done = 1;
    return ORACLE_DONE;
}

/* A trial's checkpoint is needed while it may still be promoted: below the
 * top rung, not failed, and either unpromoted while the search goes on or
 * promoted to a child that has not reported yet. */
static int asha_may_promote(const oracle *o, int trial)
{
    const asha_state *s = o->state;
    const orc_trial *t = &o->trials[trial];
    if (t->slot < 0 || t->slot >= s->n_rungs - 1 || (t->reported && t->failed)) return 0;
    if (s->child[trial] >= 0) return !o->trials[s->child[trial]].reported;
    return !s->done;
}

static long asha_planned(const oracle *o)
{
    const asha_state *s = o->state;
    return s->done ? o->n_trials : -1;
}

static void asha_describe(const oracle *o, char *buf, size_t n)
{
    const asha_state *s = o->state;
    int top = 0;
    for (int j = 0; j < o->n_trials; j++) top += o->trials[j].slot == s->n_rungs - 1;
    if (s->budget >= 0)
        snprintf(buf, n, "ASHA: %ld configurations, %d trials at the top rung, %ld of %ld epochs, %d done", s->configs,
                 top, s->spent, s->budget, o->n_reported);
    else
        snprintf(buf, n, "ASHA: %ld configurations, %d trials at the top rung, %ld epochs, %d done", s->configs, top,
                 s->spent, o->n_reported);
}

static void asha_free(void *state)
{
    asha_state *s = state;
    if (!s) return;
    free(s->free_at), free(s->end), free(s->child), free(s);
}

static const orc_ops asha_ops = {
    .next = asha_next, .may_promote = asha_may_promote, .planned = asha_planned, .describe = asha_describe,
    .free_state = asha_free,
};

int orc_asha_init(oracle *o, const oracle_config *cfg, hpt_error *e)
{
    asha_state *s = calloc(1, sizeof *s);
    if (!s) return hpt_fail(e, "out of memory");
    o->state = s, o->ops = &asha_ops;
    long max_epochs = orc_arg_int(cfg, ASHA_max_epochs, 100), grace = orc_arg_int(cfg, ASHA_grace_period, 1);
    long eta = orc_arg_int(cfg, ASHA_reduction_factor, 4), rate = orc_arg_int(cfg, ASHA_min_early_stopping_rate, 0);
    long workers = orc_arg_int(cfg, ASHA_max_concurrent_trials, 4);
    s->budget = orc_arg_int(cfg, ASHA_max_epochs_total, -1);
    s->max_configs = orc_arg_int(cfg, ASHA_max_trials, -1);
    if (max_epochs < 1 || max_epochs > 1000000 || grace < 1 || grace > max_epochs || eta < 2 || rate < 0 ||
        workers < 1 || workers > 10000)
        return hpt_fail(e, "ASHA needs 1 <= grace_period <= max_epochs, reduction_factor >= 2, "
                           "min_early_stopping_rate >= 0 and max_concurrent_trials >= 1");
    if (s->budget < 0 && s->max_configs < 0) return hpt_fail(e, "ASHA needs a budget: max_epochs_total or max_trials");
    s->eta = (int)eta, s->workers = (int)workers;
    s->n_rungs = asha_rungs(max_epochs, grace, eta, rate, s->rungs, ASHA_MAX_RUNGS);
    s->free_at = calloc((size_t)workers, sizeof *s->free_at);
    if (!s->free_at) return hpt_fail(e, "out of memory");
    return 0;
}

/* `hptc space`: the rungs, the clock and the budget. */
void orc_asha_plan(const oracle_config *cfg, FILE *out)
{
    const hpt_value *a = cfg->args;
    int rungs[ASHA_MAX_RUNGS];
    long eta = a[ASHA_reduction_factor].u.i;
    int n = asha_rungs(a[ASHA_max_epochs].u.i, a[ASHA_grace_period].u.i, eta, a[ASHA_min_early_stopping_rate].u.i,
                       rungs, ASHA_MAX_RUNGS);
    fprintf(out, "  rungs at");
    for (int k = 0; k < n; k++) fprintf(out, "%s %d", k ? " ->" : "", rungs[k]);
    fprintf(out, " epochs; the top 1/%ld of a rung is promoted (continuing from its parent's weights)\n", eta);
    hpt_value total = a[ASHA_max_epochs_total], trials = a[ASHA_max_trials];
    if (total.type == V_INT && trials.type == V_INT)
        fprintf(out, "  budget: %lld epochs in all, at most %lld configurations\n", (long long)total.u.i,
                (long long)trials.u.i);
    else if (total.type == V_INT) fprintf(out, "  budget: %lld epochs in all\n", (long long)total.u.i);
    else if (trials.type == V_INT) fprintf(out, "  budget: %lld configurations\n", (long long)trials.u.i);
    long long workers = (long long)a[ASHA_max_concurrent_trials].u.i;
    fprintf(out, "  promotions decided on a virtual clock of %lld worker%s: the same trials for any --jobs\n", workers,
            workers == 1 ? "" : "s");
    fprintf(out, "  under ASHA the tuner, not search(epochs), sets each trial's epochs\n");
}
