/* train.c: the fit loop (see train.h).  Per fit, three buffers are allocated
 * (the shuffled row order, a batch of labels, nothing else); the steps
 * themselves allocate nothing.  An estimator trial is fitted once instead,
 * as one epoch (fit_estimator). */
#include "runtime/nn/train.h"
#include "runtime/estimators/estimator.h"
#include "runtime/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int train_split(int n, double validation_split, int *n_train)
{
    /* Keras: split_at = floor(n * (1 - validation_split)); the guard keeps
     * 60000 * 0.8 from landing a hair under 48000. */
    int at = (int)floor((double)n * (1.0 - validation_split) + 1e-9);
    if (at < 0) at = 0;
    if (at > n) at = n;
    *n_train = at;
    return n - at;
}

double train_metric(const train_epoch *m, const char *name)
{
    if (!strcmp(name, "loss")) return m->loss;
    if (!strcmp(name, "accuracy") || !strcmp(name, "acc")) return m->accuracy;
    if (!m->has_val) return NAN;
    if (!strcmp(name, "val_loss")) return m->val_loss;
    if (!strcmp(name, "val_accuracy") || !strcmp(name, "val_acc")) return m->val_accuracy;
    return NAN;
}

void train_state_init(train_state *s, const train_config *cfg)
{
    memset(s, 0, sizeof *s);
    s->best = cfg->maximize ? -INFINITY : INFINITY;
    s->best_epoch = -1;
}

int train_evaluate(trial *t, const data_set *set, const uint32_t *rows, int n, float scale, int batch,
                   double *loss, double *accuracy, hpt_error *e)
{
    const st_entry *est = trial_estimator(t, NULL);
    if (est) {
        if (!trial_fitted(t))
            return hpt_fail(e, "%s has not been fitted: a classic estimator keeps no weights, so it is fitted again "
                            "by `hptc train`, not restored", est->name);
        return est_score(trial_fitted(t), set, rows, n, scale, loss, accuracy, e);
    }
    int32_t *labels = malloc(sizeof *labels * (size_t)batch);
    if (!labels) return hpt_fail(e, "out of memory evaluating");
    double total = 0;
    long correct = 0;
    for (int i = 0; i < n; i += batch) {
        int B = n - i < batch ? n - i : batch, c;
        data_gather(set, rows + i, B, scale, trial_input(t), labels);
        trial_forward(t, B, 0, 0);
        total += trial_loss(t, labels, B, &c) * B;
        correct += c;
    }
    free(labels);
    *loss = n ? total / n : NAN;
    *accuracy = n ? (double)correct / n : NAN;
    return 0;
}

/* An estimator's training: one fit on the training rows, reported as one
 * epoch (loss = log loss, NaN without probabilities; k-NN skips the training
 * rows' metrics, which would cost a distance matrix over all of them), which
 * also completes the epochs asked for.  Nothing is random but the
 * estimator's own draws, keyed by the trial's seed. */
static int fit_estimator(trial *t, const train_data *d, const train_config *cfg, train_state *s,
                         train_epoch_fn on_epoch, void *user, hpt_error *e)
{
    const hpt_value *args;
    const st_entry *entry = trial_estimator(t, &args);
    if (s->epochs_done >= cfg->epochs) return 0;
    est_params p;
    if (est_params_of(entry, args, trial_estimator_seed(t), &p, e)) return -1;
    int classes = d->set->n_classes;
    if (d->n_val > 0 && d->val_set->n_classes > classes) classes = d->val_set->n_classes;
    train_epoch m = { .epoch = s->epochs_done, .loss = NAN, .accuracy = NAN };
    double t0 = now();
    est_model *fitted = est_fit(&p, d->set, d->train_rows, d->n_train, d->scale, classes, e);
    if (!fitted) return -1;
    trial_set_fitted(t, fitted);
    if (p.kind != EST_KNN &&
        est_score(fitted, d->set, d->train_rows, d->n_train, d->scale, &m.loss, &m.accuracy, e))
        return -1;
    m.seconds = now() - t0;
    if (d->n_val > 0) {
        double t1 = now();
        if (est_score(fitted, d->val_set, d->val_rows, d->n_val, d->scale, &m.val_loss, &m.val_accuracy, e)) return -1;
        m.has_val = 1;
        m.val_seconds = now() - t1;
    }
    s->epochs_done = cfg->epochs;
    s->best_epoch = m.epoch;
    double current = train_metric(&m, cfg->monitor);
    if (!isnan(current)) s->best = current;
    if (on_epoch) on_epoch(user, &m, t, s);
    return 0;
}

int train_fit(trial *t, const train_data *d, const train_config *cfg, train_state *s, float *best_weights,
              train_epoch_fn on_epoch, train_batch_fn on_batch, void *user, hpt_error *e)
{
    if (trial_estimator(t, NULL)) return fit_estimator(t, d, cfg, s, on_epoch, user, e);
    int batch = cfg->batch;
    uint32_t *order = malloc(sizeof *order * (size_t)(d->n_train ? d->n_train : 1));
    int32_t *labels = malloc(sizeof *labels * (size_t)batch);
    if (!order || !labels) {
        free(order), free(labels);
        return hpt_fail(e, "out of memory for the training loop");
    }
    size_t n_weights;
    float *weights = trial_weights(t, &n_weights);
    int n_batches = (d->n_train + batch - 1) / batch;
    int rc = 0;
    while (s->epochs_done < cfg->epochs && !s->stopped) {
        int epoch = s->epochs_done;
        memcpy(order, d->train_rows, sizeof *order * (size_t)d->n_train);
        if (cfg->shuffle) {
            rng r = rng_stream(rng_key(rng_key(cfg->seed, RNG_SHUFFLE), (uint64_t)epoch));
            for (int i = d->n_train - 1; i > 0; i--) {
                int j = (int)rng_below(&r, (uint64_t)i + 1);
                uint32_t tmp = order[i];
                order[i] = order[j];
                order[j] = tmp;
            }
        }
        train_epoch m = { .epoch = epoch };
        double total = 0, t0 = now();
        long correct = 0;
        for (int b = 0; b < n_batches; b++) {
            int i = b * batch, B = d->n_train - i < batch ? d->n_train - i : batch, c;
            data_gather(d->set, order + i, B, d->scale, trial_input(t), labels);
            double loss = trial_train_step(t, labels, B, s->step, &c);
            s->step++;
            if (!isfinite(loss)) {
                s->stopped = 2;
                snprintf(s->reason, sizeof s->reason, "loss became %s at epoch %d step %d",
                         isnan(loss) ? "NaN" : "infinite", epoch + 1, b + 1);
                rc = hpt_fail(e, "%s", s->reason);
                goto out;
            }
            total += loss * B;
            correct += c;
            if (on_batch && (b % 16 == 15 || b + 1 == n_batches))
                on_batch(user, epoch, b + 1, n_batches, total / (i + B), (double)correct / (i + B));
        }
        m.seconds = now() - t0;
        m.loss = total / d->n_train;
        m.accuracy = (double)correct / d->n_train;
        if (d->n_val > 0) {
            double t1 = now();
            if (train_evaluate(t, d->val_set, d->val_rows, d->n_val, d->scale, batch, &m.val_loss, &m.val_accuracy, e)) {
                rc = -1;
                goto out;
            }
            m.has_val = 1;
            m.val_seconds = now() - t1;
        }
        s->epochs_done++;
        /* EarlyStopping, as Keras 3 orders it: improvement resets the wait. */
        double current = train_metric(&m, cfg->monitor);
        if (cfg->patience >= 0 && !isnan(current)) {
            s->wait++;
            bool better = cfg->maximize ? current - cfg->min_delta > s->best : current + cfg->min_delta < s->best;
            if (better || s->best_epoch < 0) {
                s->best = current;
                s->best_epoch = epoch;
                s->wait = 0;
                if (best_weights) memcpy(best_weights, weights, sizeof(float) * n_weights);
            } else if (s->wait >= cfg->patience && epoch > 0) {
                s->stopped = 1;
                snprintf(s->reason, sizeof s->reason, "early stopping: %s did not improve for %d epoch%s",
                         cfg->monitor, s->wait, s->wait == 1 ? "" : "s");
            }
        }
        if (on_epoch && on_epoch(user, &m, t, s)) break;
    }
    /* Asked again, so the trial's weights version moves and packed kernels are repacked. */
    if (s->stopped == 1 && cfg->restore_best && best_weights && s->best_epoch >= 0)
        memcpy(trial_weights(t, &n_weights), best_weights, sizeof(float) * n_weights);
out:
    free(order);
    free(labels);
    return rc;
}

void train_early_stopping(const hpt_value *search_args, train_config *cfg)
{
    cfg->patience = -1;
    snprintf(cfg->monitor, sizeof cfg->monitor, "val_loss");
    hpt_value cbs = search_args[search_callbacks];
    for (int k = 0; cbs.type == V_LIST && k < cbs.u.list.n; k++) {
        hpt_value cb = cbs.u.list.items[k];
        if (cb.type != V_OBJECT || cb.u.object.entry->id != ST_EarlyStopping) continue;
        const hpt_value *a = cb.u.object.args;
        snprintf(cfg->monitor, sizeof cfg->monitor, "%s", a[EarlyStopping_monitor].u.s);
        cfg->patience = (int)a[EarlyStopping_patience].u.i;
        cfg->min_delta = fabs(value_as_double(a[EarlyStopping_min_delta]));
        const char *mode = a[EarlyStopping_mode].u.s;
        cfg->maximize = !strcmp(mode, "max") || (!strcmp(mode, "auto") && strstr(cfg->monitor, "acc"));
        cfg->restore_best = a[EarlyStopping_restore_best_weights].u.b;
    }
}

/* ---- the dtype policy ---------------------------------------------------- */

trial_dtype_policy train_dtype_policy(const ir_program *p, const hpt_value *values, int override)
{
    if (override >= 0) return (trial_dtype_policy)override;
    if (!p->compile.entry) return TRIAL_FLOAT32;
    ir_assignment as = { (hpt_value *)values, p->n_hps };
    arena scratch = { 0 };
    hpt_value v;
    char why[200];
    int policy = TRIAL_FLOAT32;
    /* The checker held every value the space gives it to the catalogue's choices. */
    if (ir_eval(p, p->compile.args[compile_dtype_policy], &as, &scratch, &v, why, sizeof why) == 0 && v.type == V_STRING)
        policy = trial_dtype_policy_of(v.u.s);
    arena_free(&scratch);
    return policy < 0 ? TRIAL_FLOAT32 : (trial_dtype_policy)policy;
}

int train_dtype_policy_may_be(const ir_program *p, int override, trial_dtype_policy want, char *why, size_t n)
{
    const char *name = trial_dtype_policy_name(want);
    if (override >= 0) {
        snprintf(why, n, "--dtype-policy %s", trial_dtype_policy_name((trial_dtype_policy)override));
        return override == (int)want;
    }
    const ir_expr *x = p->compile.entry ? p->compile.args[compile_dtype_policy] : NULL;
    if (!x) {
        snprintf(why, n, "float32 (no compile(...))");
        return want == TRIAL_FLOAT32;
    }
    if (x->op == X_CONST) {
        snprintf(why, n, "compile(dtype_policy = \"%s\")", x->value.type == V_STRING ? x->value.u.s : "?");
        return x->value.type == V_STRING && !strcmp(x->value.u.s, name);
    }
    if (x->op == X_HP) {
        const ir_hp *h = &p->hps[x->hp];
        snprintf(why, n, "compile(dtype_policy) = hyperparameter '%s', which can be %s", h->name, name);
        for (int k = 0; k < h->n_values; k++)
            if (h->values[k].type == V_STRING && !strcmp(h->values[k].u.s, name)) return 1;
        return 0;
    }
    /* Any other expression: it may give either. */
    snprintf(why, n, "compile(dtype_policy)");
    return 1;
}

int train_check_dtype_policy(const ir_program *p, trial_dtype_policy policy, hpt_error *e)
{
    hpt_value *values = calloc((size_t)p->n_hps + 1, sizeof *values);
    if (!values) return hpt_fail(e, "out of memory");
    ir_default_assignment(p, values);
    trial *t = trial_expand(p, values, 0, 0, e);
    int rc = t ? trial_set_dtype_policy(t, policy, e) : -1;
    trial_free(t);
    free(values);
    return rc;
}
