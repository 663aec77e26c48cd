/* train.h: Keras's fit loop over a trial: epochs of shuffled mini-batches,
 * per-epoch loss/accuracy and the compiled metrics (metrics.h) on the
 * training and validation rows, the callbacks EarlyStopping,
 * ReduceLROnPlateau and TerminateOnNaN, and a stop with a reason when the
 * loss stops being finite.
 *
 * Everything random is keyed by the trial's seed and the epoch (shuffles) or
 * step (dropout), so an epoch is the same whether a run started at epoch 0 or
 * resumed at epoch k from a checkpoint of the state below. */
#ifndef HPTC_TRAIN_H
#define HPTC_TRAIN_H
#include <stdint.h>
#include "runtime/data/data.h"
#include "runtime/err.h"
#include "runtime/nn/trial.h"
#include "runtime/nn/metrics.h"

typedef struct train_epoch {
    int epoch;                  /* 0-based */
    double loss, accuracy;      /* means over the epoch's training samples */
    double val_loss, val_accuracy;
    /* compile(metrics = [...])'s others (metrics.h), NaN when not asked for */
    double metrics[METRIC_COUNT], val_metrics[METRIC_COUNT];
    double learning_rate;       /* the epoch's last rate, logged as Keras does under ReduceLROnPlateau; else NaN */
    int has_val;
    double seconds;             /* training steps only */
    double val_seconds;
} train_epoch;

/* Rows of a data set to train and validate on (Keras's validation_split takes
 * the last fraction of the rows, before any shuffling). */
typedef struct train_data {
    const data_set *set;
    const uint32_t *train_rows;
    int n_train;
    const data_set *val_set;    /* usually == set */
    const uint32_t *val_rows;
    int n_val;
    float scale;
} train_data;

typedef struct train_config {
    int epochs;                 /* train until this many epochs are done */
    int batch;
    int shuffle;
    uint64_t seed;              /* the trial's seed: keys the shuffles */
    /* EarlyStopping (patience < 0: off) */
    int patience;
    char monitor[32];
    double min_delta;
    int maximize;
    int restore_best;
    /* ReduceLROnPlateau (plateau_patience < 0: off) */
    int plateau_patience, plateau_cooldown, plateau_maximize;
    char plateau_monitor[32];
    double plateau_factor, plateau_min_delta, plateau_min_lr;
    int terminate_on_nan;       /* TerminateOnNaN: a non-finite loss stops, not fails, the trial */
} train_config;

/* What survives between epochs: a checkpoint holds this and the trial's
 * weights and optimizer state, and training resumes exactly. */
typedef struct train_state {
    int epochs_done;
    long step;
    double best;                /* EarlyStopping's best monitored value */
    int wait;
    int best_epoch;             /* -1 before the first epoch */
    int stopped;                /* 1 early-stopped, 2 non-finite loss, 3 TerminateOnNaN */
    char reason[160];
    /* ReduceLROnPlateau: the learning rate's scale so far (1 without it),
     * its best monitored value, wait and cooldown, as Keras keeps them */
    double lr_scale, plateau_best;
    int plateau_wait, plateau_cooldown;
} train_state;

/* Called after each epoch; return non-zero to stop (the epoch counts). */
typedef int (*train_epoch_fn)(void *user, const train_epoch *m, trial *t, const train_state *s);
/* Called every few batches for a progress bar; may be NULL. */
typedef void (*train_batch_fn)(void *user, int epoch, int batch, int n_batches, double loss, double accuracy);

void train_state_init(train_state *s, const train_config *cfg);

/* Train from s->epochs_done to cfg->epochs.  Returns 0 when training ran to
 * the end or stopped early (s->stopped says which), -1 with e filled when the
 * loss became NaN or infinite ("loss became NaN at epoch E step S") or memory
 * ran out.  Keeps a copy of the best epoch's weights in best_weights when
 * non-NULL (trial_weights size), for restore_best_weights and checkpoints. */
int train_fit(trial *t, const train_data *d, const train_config *cfg, train_state *s, float *best_weights,
              train_epoch_fn on_epoch, train_batch_fn on_batch, void *user, hpt_error *e);

/* The callbacks of the evaluated search(callbacks = [...]) into cfg:
 * EarlyStopping (patience -1 when there is none), ReduceLROnPlateau
 * (plateau_patience -1 when none), TerminateOnNaN.  mode "auto" takes the
 * monitor's direction as Keras Tuner infers it (metric_maximize). */
void train_callbacks(const hpt_value *search_args, train_config *cfg);

/* Loss and accuracy of the trial in inference mode over rows of a set. */
int train_evaluate(trial *t, const data_set *set, const uint32_t *rows, int n, float scale, int batch,
                   double *loss, double *accuracy, hpt_error *e);
/* The same with the trial's compiled metrics into metrics[] (NaN for those not compiled). */
int train_evaluate_metrics(trial *t, const data_set *set, const uint32_t *rows, int n, float scale, int batch,
                           double *loss, double *accuracy, double metrics[METRIC_COUNT], hpt_error *e);

/* An epoch's metrics beyond loss and accuracy as the store keeps them, a
 * JSON object {"auc": 0.91, "val_auc": 0.88} ("{}" when there are none),
 * and back: train_metrics_parse sets the metrics it finds and leaves the
 * others NaN. */
void train_metrics_format(const train_epoch *m, char *buf, size_t n);
void train_metrics_parse(train_epoch *m, const char *json);

/* The monitored quantity of an epoch ("val_accuracy", "loss", ...); NAN when absent. */
double train_metric(const train_epoch *m, const char *name);
/* The training rows 0..n_train-1 and validation rows after them for a split. */
int train_split(int n, double validation_split, int *n_train);

/* ---- the dtype policy a trial trains under ----------------------------------
 *
 * One rule for every command that trains or evaluates: `--dtype-policy`
 * (override, a trial_dtype_policy; -1 when not given) wins, else the spec's
 * compile(dtype_policy = ...) under the trial's hyperparameters, else
 * float32.  The caller applies it with trial_set_dtype_policy right after
 * trial_expand. */
trial_dtype_policy train_dtype_policy(const ir_program *p, const hpt_value *values, int override);
/* May some trial of p's space train under `want`?  Yes when the override is
 * want, or (none given) when compile(dtype_policy) is want or reads a
 * hyperparameter that can make it want.  why gets where it comes from, for a
 * message: "--dtype-policy mixed_bfloat16", "compile(dtype_policy =
 * \"mixed_bfloat16\")", "compile(dtype_policy) = hyperparameter 'policy', which can be mixed_bfloat16". */
int train_dtype_policy_may_be(const ir_program *p, int override, trial_dtype_policy want, char *why, size_t n);
/* Can this machine train under policy?  0, or -1 with trial_set_dtype_policy's
 * reason in e, asked of p's default trial planned without buffers
 * (trial_expand with max_batch 0), before any trial trains. */
int train_check_dtype_policy(const ir_program *p, trial_dtype_policy policy, hpt_error *e);

#endif
