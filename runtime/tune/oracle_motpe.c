/* oracle_motpe.c: TPE under a Pareto objective, as Optuna's TPESampler with
 * several objectives (MOTPE, Ozaki et al. 2020) (issue 15, pareto).
 *
 * Everything is TPE's (oracle_tpe.c): n_startup_trials random trials, then
 * trial k uses the completed trials among 0 .. k - ORACLE_LAG (waiting for
 * all of them), so proposals do not depend on --jobs.  Only the split into
 * "below" and "above" differs, as Optuna's
 * _split_complete_trials_multi_objective: the n_below = min(ceil(n / 10), 25)
 * below trials are whole non-dominated fronts taken in rank order, and from
 * the first front that does not fit, the ones a greedy hypervolume subset
 * selection picks (reference point: max(1.1 w, 0.9 w) of the front's worst
 * point w, per objective, a zero replaced by 1e-12).  One difference:
 * Optuna weights the below trials by their hypervolume contribution; here
 * they weigh alike (orc_tpe_propose's equal weights), and the above trials
 * take Optuna's default ramp as in TPE. */
#include "runtime/tune/oracle_impl.h"
#include "runtime/tune/pareto.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct motpe_state {
    long max_trials, n_startup;
} motpe_state;

static void sort_ids(int *ids, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && ids[j - 1] > ids[j]; j--) {
            int t = ids[j];
            ids[j] = ids[j - 1], ids[j - 1] = t;
        }
}

/* Split the n completed trials ids[] into below (first n_below, in id
 * order) and above (the rest, in id order). */
static int split(const oracle *o, int *ids, int n, int n_below)
{
    int m = o->n_objectives, rc = -1;
    double *pts = malloc(sizeof *pts * (size_t)n * (size_t)m + 1);
    double *sub = malloc(sizeof *sub * (size_t)n * (size_t)m + 1);
    int *rank = malloc(sizeof *rank * ((size_t)n + 1)), *out = malloc(sizeof *out * ((size_t)n + 1));
    int *front = malloc(sizeof *front * ((size_t)n + 1)), *chosen = malloc(sizeof *chosen * ((size_t)n + 1));
    char *below = calloc((size_t)n + 1, 1);
    if (!pts || !sub || !rank || !out || !front || !chosen || !below) goto done;
    for (int i = 0; i < n; i++) memcpy(pts + (size_t)i * m, o->trials[ids[i]].obj, sizeof *pts * (size_t)m);
    if (pareto_rank(pts, n, m, rank) < 0) goto done;
    int taken = 0;
    for (int r = 0; taken < n_below; r++) {
        int size = 0;
        for (int i = 0; i < n; i++)
            if (rank[i] == r) front[size++] = i;
        if (taken + size <= n_below) {
            for (int i = 0; i < size; i++) below[front[i]] = 1;
            taken += size;
            continue;
        }
        /* The front that does not fit: hypervolume subset selection. */
        double ref[4];
        for (int j = 0; j < m; j++) {
            double w = -INFINITY;
            for (int i = 0; i < size; i++) w = fmax(w, pts[(size_t)front[i] * m + j]);
            ref[j] = fmax(1.1 * w, 0.9 * w);
            if (ref[j] == 0) ref[j] = 1e-12;
        }
        for (int i = 0; i < size; i++) memcpy(sub + (size_t)i * m, pts + (size_t)front[i] * m, sizeof *sub * (size_t)m);
        if (pareto_select_by_hypervolume(sub, size, m, ref, n_below - taken, chosen)) goto done;
        for (int i = 0; i < n_below - taken; i++) below[front[chosen[i]]] = 1;
        taken = n_below;
    }
    int nb = 0, na = n_below;
    for (int i = 0; i < n; i++) {
        if (below[i]) out[nb++] = ids[i];
        else out[na++] = ids[i];
    }
    memcpy(ids, out, sizeof *ids * (size_t)n);
    sort_ids(ids, n_below), sort_ids(ids + n_below, n - n_below);
    rc = 0;
done:
    free(pts), free(sub), free(rank), free(out), free(front), free(chosen), free(below);
    return rc;
}

static oracle_status motpe_next(oracle *o, oracle_request *out)
{
    motpe_state *s = o->state;
    int k = o->n_trials;
    if (k >= s->max_trials) return ORACLE_DONE;
    hpt_value *values = malloc(sizeof *values * ((size_t)o->p->n_hps + 1));
    int *ids = malloc(sizeof *ids * ((size_t)k + 1));
    oracle_status st = ORACLE_DONE;
    if (!values || !ids) goto out;
    int n = 0;
    if (k >= s->n_startup) {
        if (orc_lagged_results(o, k, ids, &n) == ORACLE_WAIT) {
            st = ORACLE_WAIT;
            goto out;
        }
    }
    if (n == 0) {
        rng r = orc_stream(o, k, ORC_SAMPLE);
        orc_sample(o->p, &r, values);
    } else {
        int n_below = (int)ceil(0.1 * n);
        if (n_below > 25) n_below = 25;
        if (split(o, ids, n, n_below)) goto out;
        if (orc_tpe_propose(o, k, ids, n_below, ids + n_below, n - n_below, 1, values)) goto out;
    }
    if (orc_propose(o, values, o->default_epochs, 0, -1, -1, -1, out) == 0) st = ORACLE_TRIAL;
out:
    free(values), free(ids);
    return st;
}

static long motpe_planned(const oracle *o) { return ((const motpe_state *)o->state)->max_trials; }

static void motpe_describe(const oracle *o, char *buf, size_t n)
{
    const motpe_state *s = o->state;
    snprintf(buf, n, "multi-objective TPE: %d of %ld trials proposed (%ld random at start), %d done", o->n_trials,
             s->max_trials, s->n_startup, o->n_reported);
}

static const orc_ops motpe_ops = {
    .next = motpe_next, .planned = motpe_planned, .describe = motpe_describe,
};

int orc_motpe_init(oracle *o, const oracle_config *cfg, hpt_error *e)
{
    motpe_state *s = calloc(1, sizeof *s);
    if (!s) return hpt_fail(e, "out of memory");
    s->max_trials = orc_arg_int(cfg, TPE_max_trials, 10);
    s->n_startup = orc_arg_int(cfg, TPE_n_startup_trials, 10);
    o->state = s, o->ops = &motpe_ops;
    return 0;
}
