/* warmstart.c: see warmstart.h.
 *
 * Invariants: the old study is only read (store_open_readonly); the new
 * store is seeded before the oracle hears of any trial, in the old trials'
 * order, so the copied trials take ids 0..R-1 and every later id is the
 * oracle's; seeding is idempotent (each copy is INSERT OR REPLACE of the
 * same rows, and the meta key warm_start_from marks it done), so a run
 * killed while seeding seeds again the same way. */
#include "runtime/tune/warmstart.h"
#include "compiler/trial_key.h"
#include "runtime/nn/train.h"
#include "runtime/store/hps.h"
#include "runtime/tune/execution.h"
#include "runtime/tune/tuner.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The first line where two keys differ, into why. */
static void key_difference(const char *old_key, const char *new_key, char *why, size_t why_len)
{
    const char *a = old_key, *b = new_key;
    for (;;) {
        size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
        if (la != lb || strncmp(a, b, la)) {
            snprintf(why, why_len, "the trial would differ: \"%.*s%s\" in the old spec, \"%.*s%s\" in the new",
                     la > 160 ? 160 : (int)la, la ? a : "(nothing)", la > 160 ? "..." : "",
                     lb > 160 ? 160 : (int)lb, lb ? b : "(nothing)", lb > 160 ? "..." : "");
            return;
        }
        if (!a[la]) break;
        a += la + 1, b += lb + 1;
    }
    snprintf(why, why_len, "the trial would differ");
}

/* The new spec's values of a stored trial: its values where the new spec
 * has the hyperparameter (and admits the value), the default for a
 * hyperparameter active under them that it does not name, inactive ones
 * cleared.  0, or -1 with the reason in why. */
static int new_values(const ir_program *p, const char *json, arena *a, hpt_value *values, char *why, size_t why_len)
{
    for (int k = 0; k < p->n_hps; k++) values[k] = value_none();
    hps_pair *pairs;
    int n;
    if (hps_parse(json, &pairs, &n)) return snprintf(why, why_len, "its hyperparameters are not JSON hptc writes"), -1;
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        int k = ir_find_hp(p, pairs[i].name);
        if (k >= 0 && hps_value(p, k, &pairs[i], a, &values[k])) {
            snprintf(why, why_len, "%.100s = %s%.100s%s is not a value of the new spec's %.100s", pairs[i].name,
                     pairs[i].quoted ? "\"" : "", pairs[i].value, pairs[i].quoted ? "\"" : "", pairs[i].name);
            rc = -1;
        }
    }
    hps_free(pairs, n);
    if (rc) return -1;
    /* Conditions read hyperparameters defined before them: one pass in order. */
    ir_assignment as = { values, p->n_hps };
    for (int k = 0; k < p->n_hps; k++)
        if (values[k].type == V_NONE && ir_holds(p, p->hps[k].condition, &as)) values[k] = p->hps[k].default_value;
    ir_deactivate(p, values);
    return 0;
}

int warm_start_match(const ir_program *old_p, const ir_program *p, const store_trial *t, int dtype_override, arena *a,
                     hpt_value *values, char *why, size_t why_len)
{
    *why = 0;
    if (strcmp(t->status, "completed")) {
        snprintf(why, why_len, "it %s", !strcmp(t->status, "failed") ? "failed" : "did not finish");
        return 0;
    }
    hpt_value *old_values = calloc((size_t)old_p->n_hps + 1, sizeof *old_values);
    if (!old_values) return snprintf(why, why_len, "out of memory"), -1;
    int rc = 0;
    char *old_key = NULL, *new_key = NULL;
    if (hps_values(old_p, t->hps_json, a, old_values)) {
        snprintf(why, why_len, "its hyperparameters are not values of the spec its store keeps");
        goto out;
    }
    if (new_values(p, t->hps_json, a, values, why, why_len)) goto out;
    trial_dtype_policy policy = train_dtype_policy(p, values, dtype_override);
    if (strcmp(t->dtype_policy, trial_dtype_policy_name(policy))) {
        snprintf(why, why_len, "it trained under dtype_policy %s, and this run would train it under %s", t->dtype_policy,
                 trial_dtype_policy_name(policy));
        goto out;
    }
    char kwhy[300];
    old_key = ir_trial_key(old_p, old_values, kwhy, sizeof kwhy);
    new_key = old_key ? ir_trial_key(p, values, kwhy, sizeof kwhy) : NULL;
    if (!old_key || !new_key) snprintf(why, why_len, "the new spec cannot build it: %s", kwhy);
    else if (strcmp(old_key, new_key)) key_difference(old_key, new_key, why, why_len);
    else rc = 1;
out:
    free(old_key), free(new_key), free(old_values);
    return rc;
}

/* Copy old trial t (reusable, with its values under the new spec) into the new store as trial id. */
static int copy_trial(tuner *T, store *old, const store_trial *t, int id, int parent, const hpt_value *values,
                      int same_objective, hpt_error *e)
{
    store_epoch_row *rows = NULL;
    int n = 0;
    if (store_load_epochs(old, t->id, &rows, &n, e)) return -1;
    store_trial row = *t;
    row.id = id, row.parent = parent, row.bracket = -1, row.round = -1;
    if (!same_objective) row.score = tuner_score_rows(T, rows, n, &row.best_epoch);   /* under this run's objective */
    char from[1200];
    snprintf(from, sizeof from, "%.1100s trial %d", T->o->warm_from, t->id);
    row.reused_from = from;
    row.hps_json = tune_values_json(T->p, values);
    /* The best checkpoints it still has: the best model's export, and what a promotion would read. */
    store_blob best[64];
    int exec_of[64], epoch_of[64], n_best = 0;
    for (int x = 0; x < T->runs && n_best < 64; x++) {
        void *w = NULL;
        size_t size = 0;
        hpt_error ce;
        if (store_load_checkpoint(old, t->id, x, "best", &w, &size, NULL, NULL, NULL, NULL, &epoch_of[n_best], &ce) == 1)
            best[n_best] = (store_blob){ w, size }, exec_of[n_best++] = x;
    }
    int rc = row.hps_json ? store_trial_import(T->db, &row, rows, n, best, exec_of, epoch_of, n_best, e)
                          : hpt_fail(e, "out of memory");
    for (int k = 0; k < n_best; k++) free((void *)best[k].data);
    free(row.hps_json);
    free(rows);
    return rc;
}

int warm_start_seed(tuner *T, hpt_error *e)
{
    const tune_options *o = T->o;
    if (!o->warm_from || !o->warm_old) return 0;
    char *seeded = store_meta_get(T->db, "warm_start_from");
    if (seeded) return free(seeded), 0;
    /* A project that already holds trials of its own is a study, not one to seed. */
    store_trial *mine;
    int n_mine, own = 0;
    if (store_load_trials(T->db, &mine, &n_mine, e)) return -1;
    for (int k = 0; k < n_mine; k++) own += !*mine[k].reused_from;
    store_free_trials(mine, n_mine);
    if (own) return 0;
    store *old = store_open_readonly(o->warm_from, e);
    if (!old) return -1;
    char *old_data = store_meta_get(old, "data_fingerprint"), *old_objective = store_meta_get(old, "objective");
    store_trial *rows = NULL;
    int n = 0, rc = 0, reused = 0;
    if (old_data && strcmp(old_data, T->data_fingerprint)) {
        rc = hpt_fail(e, "--warm-start: %s was searched on other data (fingerprint %s) than this run reads (%s): "
                         "its trials would not compare", o->warm_from, old_data, T->data_fingerprint);
        goto out;
    }
    if (store_load_trials(old, &rows, &n, e)) {
        rc = -1;
        goto out;
    }
    int max_id = 0;
    for (int k = 0; k < n; k++) max_id = rows[k].id > max_id ? rows[k].id : max_id;
    int *new_id = malloc(sizeof *new_id * ((size_t)max_id + 1));
    hpt_value *values = calloc((size_t)T->p->n_hps + 1, sizeof *values);
    if (!new_id || !values) {
        free(new_id), free(values);
        rc = hpt_fail(e, "out of memory");
        goto out;
    }
    for (int k = 0; k <= max_id; k++) new_id[k] = -1;
    int same_objective = old_objective && !strcmp(old_objective, T->objective);
    for (int k = 0; k < n && rc == 0; k++) {
        arena a = { 0 };
        char why[600];
        int m = warm_start_match(o->warm_old, T->p, &rows[k], o->dtype_policy, &a, values, why, sizeof why);
        if (m < 0) rc = hpt_fail(e, "out of memory");
        /* A trial of other rows than the search's (a store before schema 2 says nothing) does not hold. */
        if (m == 1 && (!*rows[k].data || !strcmp(rows[k].data, T->data_fingerprint))) {
            int parent = rows[k].parent >= 0 && rows[k].parent <= max_id ? new_id[rows[k].parent] : -1;
            rc = copy_trial(T, old, &rows[k], reused, parent, values, same_objective, e);
            new_id[rows[k].id] = reused++;
        }
        arena_free(&a);
    }
    free(new_id), free(values);
    if (rc == 0) {
        char count[32];
        snprintf(count, sizeof count, "%d", reused);
        rc = store_meta_set(T->db, "warm_start_reused", count, e) || store_meta_set(T->db, "warm_start_from", o->warm_from, e)
                 ? -1 : 0;
    }
    if (rc == 0) {
        char path[1100];
        tune_project_path(T->p, path, sizeof path);
        char ids[40] = "trial 0";
        if (reused > 1) snprintf(ids, sizeof ids, "trials 0-%d", reused - 1);
        if (reused) fprintf(o->out, "warm start: %d of the %d trials of %s hold for this spec; reused as %s of %s, "
                                    "not trained again\n", reused, n, o->warm_from, ids, path);
        else fprintf(o->out, "warm start: none of the %d trials of %s holds for this spec (hptc diff says why); "
                             "%s starts empty\n", n, o->warm_from, path);
    }
out:
    store_free_trials(rows, n);
    free(old_data), free(old_objective);
    store_close(old);
    return rc;
}

oracle_status warm_start_replay(oracle *o, const ir_program *p, const store_trial *row, oracle_request *r)
{
    arena a = { 0 };
    hpt_value *values = calloc((size_t)p->n_hps + 1, sizeof *values);
    oracle_status st = ORACLE_DONE;
    if (values && hps_values(p, row->hps_json, &a, values) == 0) {
        /* Strings point at the spec's own (the arena goes): as the oracle's proposals do. */
        for (int k = 0; k < p->n_hps; k++)
            if (values[k].type != V_NONE) ir_hp_coerce(&p->hps[k], &values[k]);
        if (oracle_add_trial(o, values, row->epochs, row->score, strcmp(row->status, "completed") != 0, r) >= 0)
            st = ORACLE_TRIAL;
    }
    free(values);
    arena_free(&a);
    return st;
}
