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
    int val = !strncmp(name, "val_", 4), id = metric_of_name(val ? name + 4 : name);
    if (id == -1 && !strcmp(val ? name + 4 : name, "learning_rate")) return m->learning_rate;
    if (id < 0) return NAN;
    if (val) return m->has_val ? m->val_metrics[id] : NAN;
    return m->metrics[id];
}

void train_metrics_format(const train_epoch *m, char *buf, size_t n)
{
    size_t len = (size_t)snprintf(buf, n, "{");
    for (int pass = 0; pass < 2; pass++)
        for (int id = 0; id < METRIC_COUNT; id++) {
            double v = pass ? m->val_metrics[id] : m->metrics[id];
            if (isnan(v) || (pass && !m->has_val) || len >= n) continue;
            len += (size_t)snprintf(buf + len, n - len, "%s\"%s%s\": %.17g", len > 1 ? ", " : "", pass ? "val_" : "",
                                    metric_key((metric_id)id), v);
        }
    if (!isnan(m->learning_rate) && len < n)
        len += (size_t)snprintf(buf + len, n - len, "%s\"learning_rate\": %.9g", len > 1 ? ", " : "", m->learning_rate);
    if (len < n) snprintf(buf + len, n - len, "}");
}

void train_metrics_parse(train_epoch *m, const char *json)
{
    for (int id = 0; id < METRIC_COUNT; id++) m->metrics[id] = m->val_metrics[id] = NAN;
    m->learning_rate = NAN;
    /* Our own output: "key": number pairs, keys without escapes. */
    const char *p = json ? strchr(json, '"') : NULL;
    while (p) {
        const char *end = strchr(p + 1, '"');
        if (!end) break;
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(end - p - 1), p + 1);
        const char *colon = strchr(end, ':');
        if (!colon) break;
        char *after;
        double v = strtod(colon + 1, &after);
        p = strchr(after, '"');
        if (after == colon + 1) continue;
        int val = !strncmp(key, "val_", 4), id = metric_of_name(val ? key + 4 : key);
        if (!strcmp(key, "learning_rate")) m->learning_rate = v;
        else if (id >= 0 && val) m->val_metrics[id] = v;
        else if (id >= 0) m->metrics[id] = v;
    }
}

void train_state_init(train_state *s, const train_config *cfg)
{
    memset(s, 0, sizeof *s);
    s->best = cfg->maximize ? -INFINITY : INFINITY;
    s->best_epoch = -1;
    s->lr_scale = 1;
    s->plateau_best = cfg->plateau_maximize ? -INFINITY : INFINITY;
}

int train_evaluate(trial *t, const data_set *set, const uint32_t *rows, int n, float scale, int batch,
                   double *loss, double *accuracy, hpt_error *e)
{
    double metrics[METRIC_COUNT];
    return train_evaluate_metrics(t, set, rows, n, scale, batch, loss, accuracy, metrics, e);
}

/* One batch's outputs into the epoch's metrics. */
static void add_metrics(trial *t, metric_acc *acc, const int32_t *labels, int B)
{
    if (!acc->mask) return;
    const float *pred, *target;
    int logits;
    trial_metric_view(t, labels, B, &pred, &target, &logits);
    metric_add(acc, pred, target, B, trial_output_size(t), logits);
}

int train_evaluate_metrics(trial *t, const data_set *set, const uint32_t *rows, int n, float scale, int batch,
                           double *loss, double *accuracy, double metrics[METRIC_COUNT], hpt_error *e)
{
    for (int m = 0; m < METRIC_COUNT; m++) metrics[m] = NAN;
    const st_entry *est = trial_estimator(t, NULL);
    if (est) {
        if (!trial_fitted(t))
            return hpt_fail(e, "%s has not been fitted: a classic estimator keeps no weights, so it is fitted again "
                            "by `hptc train`, not restored", est->name);
        return est_score(trial_fitted(t), set, rows, n, scale, loss, accuracy, e);
    }
    int32_t *labels = malloc(sizeof *labels * (size_t)batch);
    metric_acc *acc = malloc(sizeof *acc);
    if (!labels || !acc) {
        free(labels), free(acc);
        return hpt_fail(e, "out of memory evaluating");
    }
    metric_reset(acc, trial_metrics(t));
    double total = 0;
    long correct = 0;
    for (int i = 0; i < n; i += batch) {
        int B = n - i < batch ? n - i : batch, c;
        data_gather(set, rows + i, B, scale, trial_input(t), labels);
        if (trial_float_targets(t)) data_gather_targets(set, rows + i, B, trial_targets(t));
        trial_forward(t, B, 0, 0);
        total += trial_loss(t, labels, B, &c) * B;
        correct += c;
        add_metrics(t, acc, labels, B);
    }
    *loss = n ? total / n : NAN;
    *accuracy = n ? (double)correct / n : NAN;
    if (n) metric_values(acc, metrics);
    free(labels);
    free(acc);
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
    train_epoch m = { .epoch = s->epochs_done, .loss = NAN, .accuracy = NAN, .learning_rate = NAN };
    for (int k = 0; k < METRIC_COUNT; k++) m.metrics[k] = m.val_metrics[k] = NAN;
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

/* ReduceLROnPlateau's on_epoch_end, Keras 3's: a cooldown epoch clears the
 * wait; an improvement of more than min_delta resets it; otherwise, out of
 * cooldown, the wait grows and at patience the rate becomes
 * max(rate·factor, min_lr) when it is above min_lr.  The rate is kept as a
 * scale of the optimizer's (or its schedule's) rate, in the training state,
 * so a resumed trial goes on at the reduced rate. */
static void reduce_on_plateau(trial *t, const train_config *cfg, train_state *s, const train_epoch *m)
{
    double current = train_metric(m, cfg->plateau_monitor);
    if (cfg->plateau_patience < 0 || isnan(current)) return;
    if (s->plateau_cooldown > 0) s->plateau_cooldown--, s->plateau_wait = 0;
    bool better = cfg->plateau_maximize ? current > s->plateau_best + cfg->plateau_min_delta
                                        : current < s->plateau_best - cfg->plateau_min_delta;
    if (better) {
        s->plateau_best = current;
        s->plateau_wait = 0;
        return;
    }
    if (s->plateau_cooldown > 0 || ++s->plateau_wait < cfg->plateau_patience) return;
    double base = trial_base_learning_rate(t, s->step);
    float old = (float)(base * s->lr_scale);
    if (!(old > (float)cfg->plateau_min_lr) || !(base > 0)) return;
    double next = fmax((double)old * cfg->plateau_factor, cfg->plateau_min_lr);
    s->lr_scale = next / base;
    trial_set_lr_scale(t, s->lr_scale);
    s->plateau_cooldown = cfg->plateau_cooldown;
    s->plateau_wait = 0;
}

int train_fit(trial *t, const train_data *d, const train_config *cfg, train_state *s, float *best_weights,
              train_epoch_fn on_epoch, train_batch_fn on_batch, void *user, hpt_error *e)
{
    if (trial_estimator(t, NULL)) return fit_estimator(t, d, cfg, s, on_epoch, user, e);
    int batch = cfg->batch;
    uint32_t *order = malloc(sizeof *order * (size_t)(d->n_train ? d->n_train : 1));
    int32_t *labels = malloc(sizeof *labels * (size_t)batch);
    metric_acc *acc = malloc(sizeof *acc);
    if (!order || !labels || !acc) {
        free(order), free(labels), free(acc);
        return hpt_fail(e, "out of memory for the training loop");
    }
    /* A resumed trial goes on at the rate ReduceLROnPlateau left it. */
    trial_set_lr_scale(t, s->lr_scale);
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
        train_epoch m = { .epoch = epoch, .learning_rate = NAN };
        metric_reset(acc, trial_metrics(t));
        double total = 0, t0 = now();
        long correct = 0;
        for (int b = 0; b < n_batches; b++) {
            int i = b * batch, B = d->n_train - i < batch ? d->n_train - i : batch, c;
            data_gather(d->set, order + i, B, d->scale, trial_input(t), labels);
            if (trial_float_targets(t)) data_gather_targets(d->set, order + i, B, trial_targets(t));
            double loss = trial_train_step(t, labels, B, s->step, &c);
            s->step++;
            if (!isfinite(loss)) {
                snprintf(s->reason, sizeof s->reason, "%sloss became %s at epoch %d step %d",
                         cfg->terminate_on_nan ? "TerminateOnNaN: " : "", isnan(loss) ? "NaN" : "infinite", epoch + 1,
                         b + 1);
                /* TerminateOnNaN ends training, as Keras's stop_training
                 * does; without it the trial fails.  The unfinished epoch
                 * is not reported either way. */
                s->stopped = cfg->terminate_on_nan ? 3 : 2;
                rc = cfg->terminate_on_nan ? 0 : hpt_fail(e, "%s", s->reason);
                goto out;
            }
            total += loss * B;
            correct += c;
            add_metrics(t, acc, labels, B);
            if (on_batch && (b % 16 == 15 || b + 1 == n_batches))
                on_batch(user, epoch, b + 1, n_batches, total / (i + B), (double)correct / (i + B));
        }
        m.seconds = now() - t0;
        m.loss = total / d->n_train;
        m.accuracy = (double)correct / d->n_train;
        metric_values(acc, m.metrics);
        for (int k = 0; k < METRIC_COUNT; k++) m.val_metrics[k] = NAN;
        if (cfg->plateau_patience >= 0) m.learning_rate = trial_learning_rate(t, s->step - 1);
        if (d->n_val > 0) {
            double t1 = now();
            if (train_evaluate_metrics(t, d->val_set, d->val_rows, d->n_val, d->scale, batch, &m.val_loss,
                                       &m.val_accuracy, m.val_metrics, e)) {
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
        reduce_on_plateau(t, cfg, s, &m);
        if (on_epoch && on_epoch(user, &m, t, s)) break;
    }
    /* Asked again, so the trial's weights version moves and packed kernels are repacked. */
    if (s->stopped == 1 && cfg->restore_best && best_weights && s->best_epoch >= 0)
        memcpy(trial_weights(t, &n_weights), best_weights, sizeof(float) * n_weights);
out:
    free(order);
    free(labels);
    free(acc);
    return rc;
}

/* mode "min", "max", or "auto": as the monitor's name says (metric_maximize). */
static int maximize_of(const char *mode, const char *monitor)
{
    return !strcmp(mode, "max") || (!strcmp(mode, "auto") && metric_maximize(monitor));
}

void train_callbacks(const hpt_value *search_args, train_config *cfg)
{
    cfg->patience = -1;
    cfg->plateau_patience = -1;
    cfg->terminate_on_nan = 0;
    snprintf(cfg->monitor, sizeof cfg->monitor, "val_loss");
    hpt_value cbs = search_args[search_callbacks];
    for (int k = 0; cbs.type == V_LIST && k < cbs.u.list.n; k++) {
        hpt_value cb = cbs.u.list.items[k];
        if (cb.type != V_OBJECT) continue;
        const hpt_value *a = cb.u.object.args;
        if (cb.u.object.entry->id == ST_TerminateOnNaN) cfg->terminate_on_nan = 1;
        if (cb.u.object.entry->id == ST_ReduceLROnPlateau) {
            snprintf(cfg->plateau_monitor, sizeof cfg->plateau_monitor, "%s", a[ReduceLROnPlateau_monitor].u.s);
            cfg->plateau_patience = (int)a[ReduceLROnPlateau_patience].u.i;
            cfg->plateau_cooldown = (int)a[ReduceLROnPlateau_cooldown].u.i;
            cfg->plateau_factor = value_as_double(a[ReduceLROnPlateau_factor]);
            cfg->plateau_min_delta = fabs(value_as_double(a[ReduceLROnPlateau_min_delta]));
            cfg->plateau_min_lr = value_as_double(a[ReduceLROnPlateau_min_lr]);
            cfg->plateau_maximize = maximize_of(a[ReduceLROnPlateau_mode].u.s, cfg->plateau_monitor);
        }
        if (cb.u.object.entry->id != ST_EarlyStopping) continue;
        snprintf(cfg->monitor, sizeof cfg->monitor, "%s", a[EarlyStopping_monitor].u.s);
        cfg->patience = (int)a[EarlyStopping_patience].u.i;
        cfg->min_delta = fabs(value_as_double(a[EarlyStopping_min_delta]));
        cfg->maximize = maximize_of(a[EarlyStopping_mode].u.s, cfg->monitor);
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
