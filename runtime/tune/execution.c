/* execution.c: see execution.h.  Training one execution of a trial, the
 * same on every rank: expand the trial, put its starting checkpoint in,
 * fit it on the search's rows (or a fold's), and hand each epoch to the
 * commit function the caller gave (rank 0 commits it to the store; another
 * rank sends it to rank 0, runtime/tune/cluster.c).
 *
 * Every random draw of an execution is keyed by (the tuner's seed, trial id,
 * execution, retry), so an execution trains the same wherever it runs. */
#include "runtime/tune/execution.h"
#include "compiler/cost.h"
#include "runtime/nn/trial.h"
#include "runtime/tune/checkpoint.h"
#include "runtime/nn/train.h"
#include "runtime/rng.h"
#include "runtime/tune/tuner.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int tuner_better(const tuner *T, double a, double b)
{
    if (isnan(b)) return !isnan(a);
    if (isnan(a)) return 0;
    return T->maximize ? a > b : a < b;
}

double tuner_score_rows(const tuner *T, const store_epoch_row *rows, int n, int *best_epoch)
{
    double sum = 0, best_any = NAN;
    int counted = 0;
    *best_epoch = -1;
    for (int x = 0; x < T->runs; x++) {
        int at;
        double best = tune_execution_best(rows, n, x, T->objective, T->maximize, &at);
        if (isnan(best)) continue;
        sum += best, counted++;
        if (tuner_better(T, best, best_any)) best_any = best, *best_epoch = at;
    }
    return counted ? sum / counted : NAN;
}

typedef struct epoch_ctx {
    tuner *T;
    job *j;
    int execution;
    ckpt_state *js;
    commit_fn commit;
    void *user;
} epoch_ctx;

static int on_epoch(void *user, const train_epoch *m, trial *t, const train_state *s)
{
    epoch_ctx *c = user;
    double value = tune_metric(m, c->T->objective);
    int improved = tuner_better(c->T, value, c->js->objective_best) || c->js->objective_best_epoch < 0;
    if (improved) c->js->objective_best = value, c->js->objective_best_epoch = m->epoch;
    c->js->train = *s;
    size_t nw, no;
    float *w = trial_weights(t, &nw), *opt = trial_optimizer_state(t, &no);
    store_blob weights = { w, nw * sizeof(float) }, optimizer = { opt, no * sizeof(float) };
    store_blob state = { c->js, sizeof *c->js };
    store_epoch_row row = { c->j->trial, c->execution, m->epoch, m->loss, m->accuracy,
                            m->has_val ? m->val_loss : NAN, m->has_val ? m->val_accuracy : NAN, m->seconds, "" };
    train_metrics_format(m, row.metrics, sizeof row.metrics);
    return c->commit(c->user, c->j, &row, weights, optimizer, state, improved);
}

/* Put the checkpoint st holds into the expanded trial and js, after checking
 * it fits (see exec_start).  Returns EXEC_DONE, or EXEC_DAMAGED / EXEC_FAILED
 * with the reason. */
static int apply_start(const job *j, const exec_start *st, trial *t, float *best, ckpt_state *js, char *reason,
                       size_t reason_len)
{
    size_t nw, no;
    float *w = trial_weights(t, &nw), *opt = trial_optimizer_state(t, &no);
    ckpt_model m = { nw, no, j->initial_epoch, j->epochs, trial_estimator(t, NULL) != NULL };
    hpt_error e;
    if (st->resume) {
        if (ckpt_check_last(&m, st->epoch, st->w, st->opt, st->state, st->best, js, &e)) {
            snprintf(reason, reason_len, "trial %d's checkpoint of epoch %d is damaged: %.900s", j->trial, st->epoch + 1,
                     e.message);
            return EXEC_DAMAGED;
        }
        /* Sizes are checked; an estimator's blobs are empty (and may be NULL). */
        if (st->w.size) memcpy(w, st->w.data, st->w.size);
        if (st->opt.size) memcpy(opt, st->opt.data, st->opt.size);
        if (st->best.size) memcpy(best, st->best.data, st->best.size);
    } else if (st->from_parent) {
        if (ckpt_check_weights(nw, st->w, &e)) {
            snprintf(reason, reason_len, "trial %d continues trial %d, whose best checkpoint does not fit its model: %.880s",
                     j->trial, j->parent, e.message);
            return EXEC_FAILED;
        }
        if (st->w.size) memcpy(w, st->w.data, st->w.size);
    }
    return EXEC_DONE;
}

/* Train one execution from st, handing each epoch to commit.  Returns
 * EXEC_DONE, EXEC_STOPPED (by commit), or EXEC_FAILED / EXEC_DAMAGED with
 * the reason set.  The same code trains on every rank. */
int tuner_train_execution(tuner *T, job *j, int execution, int retry, const exec_start *st, commit_fn commit,
                           void *user, char *reason, size_t reason_len)
{
    const ir_program *p = T->p;
    uint64_t seed = rng_key(rng_key(T->seed, (uint64_t)j->trial), (uint64_t)(execution + 1000 * retry));
    hpt_error e;
    ir_assignment as = { j->values, p->n_hps };
    hpt_value batch_v;
    arena scratch = { 0 };
    char why[200];
    int batch = 32;
    if (ir_eval(p, p->search.args[search_batch_size], &as, &scratch, &batch_v, why, sizeof why) == 0) batch = (int)batch_v.u.i;
    arena_free(&scratch);
    /* The oracles propose only configurations within the tuner's limits;
     * one that is not (a stored trial of another spec) is never built. */
    if (cost_feasible(p, &as, why, sizeof why) == 0) {
        snprintf(reason, reason_len, "over the tuner's limits, not trained: %s", why);
        return EXEC_FAILED;
    }
    trial *t = trial_expand(p, j->values, batch, seed, &e);
    if (!t) {
        snprintf(reason, reason_len, "%s", e.message);
        return EXEC_FAILED;
    }
    float *best = NULL;
    int rc = EXEC_FAILED;
    if (T->o->jit && trial_start_backend(t, &e)) {
        snprintf(reason, reason_len, "%s", e.message);
        goto out;
    }
    /* tuner_setup checked the machine before any trial; this is the trial's own. */
    if (trial_set_dtype_policy(t, (trial_dtype_policy)j->policy, &e)) {
        snprintf(reason, reason_len, "dtype_policy %s: %.900s", trial_dtype_policy_name((trial_dtype_policy)j->policy),
                 e.message);
        goto out;
    }
    if (trial_input_size(t) != T->data.train.sample_size) {
        snprintf(reason, reason_len, "the model's input has %zu values per sample, but %s has %zu",
                 trial_input_size(t), T->data.train.source, T->data.train.sample_size);
        goto out;
    }
    /* Labels the output layer cannot produce would make every loss NaN. */
    if (!trial_float_targets(t) && source_check_classes(&T->data, trial_output_size(t), &e)) {
        snprintf(reason, reason_len, "%s", e.message);
        goto out;
    }
    const hpt_value *sa = trial_search_args(t);
    train_config cfg = { .epochs = j->epochs, .batch = batch, .shuffle = sa[search_shuffle].u.b, .seed = seed };
    train_callbacks(sa, &cfg);
    ckpt_state js = { .objective_best = NAN, .objective_best_epoch = -1 };
    train_state_init(&js.train, &cfg);
    js.train.epochs_done = j->initial_epoch;

    size_t nw;
    trial_weights(t, &nw);
    if (!(best = malloc(sizeof(float) * (nw + 1)))) {
        snprintf(reason, reason_len, "out of memory for trial %d's best weights", j->trial);
        goto out;
    }
    if ((rc = apply_start(j, st, t, best, &js, reason, reason_len)) != EXEC_DONE) goto out;

    train_data td = { .set = &T->data.train, .train_rows = T->rows, .n_train = T->n_train, .val_set = &T->data.train,
                      .val_rows = T->rows + T->n_train, .n_val = T->n_val, .scale = source_scale(p, j->values) };
    if (T->folds) {
        int f = execution % T->folds;
        td.train_rows = T->fold_rows + (size_t)f * (size_t)T->data.train.n;
        td.n_train = T->fold_n_train[f];
        td.val_rows = td.train_rows + td.n_train;
        td.n_val = T->fold_n_val[f];
    } else if (T->data.validation.n > 0) {
        td.val_set = &T->data.validation;
        td.val_rows = T->rows + T->data.train.n;
        td.n_val = T->data.validation.n;
    }
    epoch_ctx c = { T, j, execution, &js, commit, user };
    if (train_fit(t, &td, &cfg, &js.train, best, on_epoch, NULL, &c, &e)) {
        snprintf(reason, reason_len, "%s", e.message);
        rc = EXEC_FAILED;
    } else {
        if (js.train.stopped == 1 || js.train.stopped == 3) snprintf(reason, reason_len, "%s", js.train.reason);
        rc = js.train.epochs_done < cfg.epochs && !js.train.stopped ? EXEC_STOPPED : EXEC_DONE;
    }
out:
    free(best);
    trial_free(t);
    return rc;
}

/* CRC-32 of the samples and labels a search trains and validates on. */
uint32_t tuner_data_crc(const tuner *T)
{
    const data_set *sets[2] = { &T->data.train, &T->data.validation };
    uLong crc = crc32(0L, Z_NULL, 0);
    for (int k = 0; k < 2; k++) {
        const data_set *d = sets[k];
        size_t n = (size_t)d->n * d->sample_size;
        const unsigned char *x = d->u8 ? d->u8 : (const unsigned char *)d->f32;
        size_t bytes = d->u8 ? n : n * sizeof(float);
        for (size_t off = 0; x && off < bytes; off += 1u << 30)
            crc = crc32(crc, x + off, (uInt)(bytes - off < (1u << 30) ? bytes - off : (1u << 30)));
        if (d->labels) crc = crc32(crc, (const unsigned char *)d->labels, (uInt)((size_t)d->n * sizeof *d->labels));
        if (d->targets) crc = crc32(crc, (const unsigned char *)d->targets, (uInt)((size_t)d->n * sizeof *d->targets));
    }
    return (uint32_t)crc;
}

