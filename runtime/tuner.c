/* tuner.c: the scheduler behind `hptc run` (see tuner.h).
 *
 * One mutex guards the oracle, the store and the output; workers hold it only
 * to take a trial, to commit an epoch and to finish a trial, never while
 * training.  The order of events that matter is fixed:
 *   a trial row is inserted before the trial starts;
 *   a trial's end is committed before the oracle hears its score;
 * so a stored search is always a prefix of what the oracle would propose,
 * and replaying it on resume puts the oracle back in the same state.
 *
 * A checkpoint's state blob is a job_state: the training loop's state plus
 * the objective's best so far, so a resumed trial continues bit for bit. */
#include "runtime/tuner.h"
#include "runtime/blas.h"
#include "runtime/folds.h"
#include "runtime/oracle.h"
#include "runtime/rng.h"
#include "runtime/source.h"
#include "runtime/store.h"
#include "runtime/train.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct job {
    int trial, parent, epochs, initial_epoch, bracket, round;
    hpt_value *values;
    int resume;                 /* the store has a row for it already */
    struct job *next;
} job;

/* What a checkpoint remembers besides weights and optimizer state. */
typedef struct job_state {
    train_state train;
    double objective_best;
    int objective_best_epoch;
} job_state;

typedef struct tuner {
    const ir_program *p;
    const tune_options *o;
    store *db;
    oracle *orc;
    source_data data;
    uint32_t *rows;
    int n_train, n_val;
    /* search(cv = k): fold f's rows (training, then validation) at
     * fold_rows + f * data.train.n, its counts in fold_n_train/fold_n_val. */
    int folds;
    uint32_t *fold_rows;
    int *fold_n_train, *fold_n_val;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *queue;                 /* resumed trials, run first */
    int running, finished, failed_in_row, oracle_done, stop;
    long planned, done;
    char objective[64];
    int maximize;
    double best_score;
    int best_trial;
    int executions, max_retries, max_failed_in_row;
    int runs;                   /* trainings per trial: executions x folds */
    uint64_t seed;
    hpt_error error;
    int has_error;
    double started;
} tuner;

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int tune_maximize(const char *objective) { return !strstr(objective, "loss") && !strstr(objective, "error"); }

void tune_project_path(const ir_program *p, char *buf, size_t n)
{
    const ir_call *t = &p->tuner;
    const char *dir = ".", *name = "untitled_project";
    int d = st_arg_index(t->entry, "directory"), k = st_arg_index(t->entry, "project_name");
    if (d >= 0 && t->args[d]->op == X_CONST && t->args[d]->value.type == V_STRING) dir = t->args[d]->value.u.s;
    if (k >= 0 && t->args[k]->op == X_CONST && t->args[k]->value.type == V_STRING) name = t->args[k]->value.u.s;
    snprintf(buf, n, "%s/%s", dir, name);
}

static size_t json_value(char *buf, size_t n, hpt_value v)
{
    switch (v.type) {
    case V_NONE: return (size_t)snprintf(buf, n, "null");
    case V_BOOL: return (size_t)snprintf(buf, n, v.u.b ? "true" : "false");
    default: return value_format(buf, n, v);   /* numbers and strings are already JSON */
    }
}

void tune_values_json(const ir_program *p, const hpt_value *values, char *buf, size_t n)
{
    size_t len = (size_t)snprintf(buf, n, "{");
    int first = 1;
    for (int k = 0; k < p->n_hps && len < n; k++) {
        if (values[k].type == V_NONE) continue;
        len += (size_t)snprintf(buf + len, n - len, "%s", first ? "" : ", ");
        if (len < n) len += value_format(buf + len, n - len, value_string(p->hps[k].name));
        if (len < n) len += (size_t)snprintf(buf + len, n - len, ": ");
        if (len < n) len += json_value(buf + len, n - len, values[k]);
        first = 0;
    }
    if (len < n) snprintf(buf + len, n - len, "}");
}

static void describe(const ir_program *p, const hpt_value *values, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    for (int k = 0; k < p->n_hps && len + 1 < n; k++) {
        if (values[k].type == V_NONE) continue;
        char v[64];
        value_format(v, sizeof v, values[k]);
        len += (size_t)snprintf(buf + len, n - len, "%s%s=%s", len ? " " : "", p->hps[k].name, v);
    }
}

static int better(const tuner *T, double a, double b)
{
    if (isnan(b)) return !isnan(a);
    if (isnan(a)) return 0;
    return T->maximize ? a > b : a < b;
}

/* ---- one trial ---------------------------------------------------------- */

typedef struct epoch_ctx {
    tuner *T;
    job *j;
    int execution;
    job_state *js;
    int rc;
} epoch_ctx;

static int on_epoch(void *user, const train_epoch *m, trial *t, const train_state *s)
{
    epoch_ctx *c = user;
    tuner *T = c->T;
    double value = train_metric(m, T->objective);
    int improved = better(T, value, c->js->objective_best) || c->js->objective_best_epoch < 0;
    if (improved) c->js->objective_best = value, c->js->objective_best_epoch = m->epoch;
    c->js->train = *s;
    size_t nw, no;
    float *w = trial_weights(t, &nw), *opt = trial_optimizer_state(t, &no);
    store_blob weights = { w, nw * sizeof(float) }, optimizer = { opt, no * sizeof(float) };
    store_blob state = { c->js, sizeof *c->js };
    store_epoch_row row = { c->j->trial, c->execution, m->epoch, m->loss, m->accuracy,
                            m->has_val ? m->val_loss : NAN, m->has_val ? m->val_accuracy : NAN, m->seconds };
    pthread_mutex_lock(&T->mu);
    int rc = store_epoch(T->db, &row, weights, optimizer, state, improved ? &weights : NULL, &T->error);
    if (rc) T->has_error = 1, T->stop = 1;
    FILE *out = T->o->out;
    if (T->o->live) fprintf(out, "\r\033[K");
    fprintf(out, "  trial %d epoch %d/%d: loss %.4f accuracy %.4f", c->j->trial, m->epoch + 1, c->j->epochs, m->loss,
            m->accuracy);
    if (m->has_val) fprintf(out, " val_loss %.4f val_accuracy %.4f", m->val_loss, m->val_accuracy);
    fprintf(out, " (%.1fs)\n", m->seconds);
    fflush(out);
    int stop = T->stop || (T->o->interrupted && *T->o->interrupted);
    pthread_mutex_unlock(&T->mu);
    return stop;
}

static void load_floats(float *dst, size_t n, const void *src, size_t size)
{
    if (src && size == n * sizeof(float)) memcpy(dst, src, size);
}

/* Train one execution.  Returns 0 when it ran (or had already run) to its end,
 * 1 when stopped by an interrupt, -1 when it failed (reason set). */
static int run_execution(tuner *T, job *j, int execution, int retry, char *reason, size_t reason_len)
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
    trial *t = trial_expand(p, j->values, batch, seed, &e);
    if (!t) {
        snprintf(reason, reason_len, "%s", e.message);
        return -1;
    }
    if (T->o->jit && trial_set_backend(t, 1, &e)) {
        snprintf(reason, reason_len, "%s", e.message);
        trial_free(t);
        return -1;
    }
    if (trial_input_size(t) != T->data.train.sample_size) {
        snprintf(reason, reason_len, "the model's input has %zu values per sample, but %s has %zu",
                 trial_input_size(t), T->data.train.source, T->data.train.sample_size);
        trial_free(t);
        return -1;
    }
    const hpt_value *sa = trial_search_args(t);
    train_config cfg = { .epochs = j->epochs, .batch = batch, .shuffle = sa[search_shuffle].u.b, .seed = seed };
    train_early_stopping(sa, &cfg);
    job_state js = { .objective_best = NAN, .objective_best_epoch = -1 };
    train_state_init(&js.train, &cfg);
    js.train.epochs_done = j->initial_epoch;

    size_t nw, no;
    float *w = trial_weights(t, &nw), *opt = trial_optimizer_state(t, &no);
    float *best = malloc(sizeof(float) * (nw + 1));
    void *bw = NULL, *bo = NULL, *bs = NULL;
    size_t sw = 0, so = 0, ss = 0;
    pthread_mutex_lock(&T->mu);
    int found = store_load_checkpoint(T->db, j->trial, execution, "last", &bw, &sw, &bo, &so, &bs, &ss, NULL, &e);
    if (found == 1 && ss == sizeof js) {
        /* Resume exactly where the last committed epoch left off. */
        load_floats(w, nw, bw, sw);
        load_floats(opt, no, bo, so);
        memcpy(&js, bs, sizeof js);
        free(bw), free(bo), free(bs);
        bw = NULL;
        if (best && store_load_checkpoint(T->db, j->trial, execution, "best", &bw, &sw, NULL, NULL, NULL, NULL, NULL, &e) == 1)
            load_floats(best, nw, bw, sw);
    } else if (j->parent >= 0) {
        free(bw), free(bo), free(bs);
        bw = NULL;
        /* A Hyperband promotion continues from its parent's best epoch (of the
         * same execution or fold), with a fresh optimizer. */
        if (store_load_checkpoint(T->db, j->parent, execution, "best", &bw, &sw, NULL, NULL, NULL, NULL, NULL, &e) == 1)
            load_floats(w, nw, bw, sw);
    } else {
        free(bw), free(bo), free(bs);
        bw = NULL;
    }
    pthread_mutex_unlock(&T->mu);
    free(bw);

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
    epoch_ctx c = { T, j, execution, &js, 0 };
    int rc = train_fit(t, &td, &cfg, &js.train, best, on_epoch, NULL, &c, &e);
    int interrupted = rc == 0 && js.train.epochs_done < cfg.epochs && !js.train.stopped;
    if (rc) snprintf(reason, reason_len, "%s", e.message);
    else if (js.train.stopped == 1) snprintf(reason, reason_len, "%s", js.train.reason);
    free(best);
    trial_free(t);
    return rc ? -1 : interrupted ? 1 : 0;
}

/* The trial's score: the mean over executions (and folds) of each one's best epoch. */
static double trial_score(tuner *T, int trial, int *best_epoch)
{
    store_epoch_row *rows;
    int n;
    hpt_error e;
    *best_epoch = -1;
    if (store_load_epochs(T->db, trial, &rows, &n, &e)) return NAN;
    double sum = 0, best_any = NAN;
    int counted = 0;
    for (int x = 0; x < T->runs; x++) {
        double best = NAN;
        int at = -1;
        for (int k = 0; k < n; k++) {
            if (rows[k].execution != x) continue;
            train_epoch m = { .loss = rows[k].loss, .accuracy = rows[k].accuracy, .val_loss = rows[k].val_loss,
                              .val_accuracy = rows[k].val_accuracy, .has_val = !isnan(rows[k].val_loss) || !isnan(rows[k].val_accuracy) };
            double v = train_metric(&m, T->objective);
            if (better(T, v, best)) best = v, at = rows[k].epoch;
        }
        if (isnan(best)) continue;
        sum += best, counted++;
        if (better(T, best, best_any)) best_any = best, *best_epoch = at;
    }
    free(rows);
    return counted ? sum / counted : NAN;
}

/* A finished trial's best checkpoint is kept while Hyperband may promote it
 * (until its child has run) and while it is the best trial. */
static int keep_checkpoint(void *user, int trial)
{
    tuner *T = user;
    return oracle_may_promote(T->orc, trial) || trial == T->best_trial;
}

static void run_job(tuner *T, job *j)
{
    char reason[sizeof(hpt_error)] = "", desc[512];
    describe(T->p, j->values, desc, sizeof desc);
    pthread_mutex_lock(&T->mu);
    fprintf(T->o->out, "%strial %d%s: %s%s\n", T->o->live ? "\r\033[K" : "", j->trial,
            j->resume ? " (resumed)" : "", desc, j->parent >= 0 ? "" : "");
    if (j->parent >= 0)
        fprintf(T->o->out, "  continues trial %d from epoch %d, to epoch %d\n", j->parent, j->initial_epoch, j->epochs);
    fflush(T->o->out);
    pthread_mutex_unlock(&T->mu);

    int rc = 0, retry = 0;
    for (;;) {
        rc = 0;
        for (int x = 0; x < T->runs && rc == 0; x++) rc = run_execution(T, j, x, retry, reason, sizeof reason);
        if (rc >= 0 || retry >= T->max_retries) break;
        retry++;
        pthread_mutex_lock(&T->mu);
        fprintf(T->o->out, "  trial %d failed (%s); retry %d of %d\n", j->trial, reason, retry, T->max_retries);
        hpt_error e;
        if (store_trial_reset(T->db, j->trial, &e)) T->has_error = 1, T->error = e, T->stop = 1;
        pthread_mutex_unlock(&T->mu);
    }

    pthread_mutex_lock(&T->mu);
    if (rc == 1 || T->stop) {
        /* Interrupted: the trial stays "running" in the store and resumes next time. */
        T->running--;
        pthread_cond_broadcast(&T->cv);
        pthread_mutex_unlock(&T->mu);
        return;
    }
    int best_epoch;
    double score = rc == 0 ? trial_score(T, j->trial, &best_epoch) : NAN;
    if (rc == 0 && isnan(score)) {
        rc = -1;
        snprintf(reason, sizeof reason, "the objective %s was never computed", T->objective);
    }
    hpt_error e;
    if (store_trial_end(T->db, j->trial, rc == 0 ? "completed" : "failed", score, rc == 0 ? best_epoch : -1, reason, &e)) {
        T->has_error = 1, T->error = e, T->stop = 1;
    } else {
        oracle_report(T->orc, j->trial, score, rc != 0);
    }
    T->done++;
    if (rc == 0 && better(T, score, T->best_score)) T->best_score = score, T->best_trial = j->trial;
    /* Prune as the search goes, so the store holds only the checkpoints a
     * promotion or the best model may still need, however many trials run. */
    if (!T->has_error && store_prune(T->db, keep_checkpoint, T, &e)) T->has_error = 1, T->error = e, T->stop = 1;
    FILE *out = T->o->out;
    if (T->o->live) fprintf(out, "\r\033[K");
    if (rc == 0)
        fprintf(out, "trial %d done: %s %.4f%s%s (best %.4f, trial %d) [%ld/%ld]\n", j->trial, T->objective, score,
                *reason ? "; " : "", reason, T->best_score, T->best_trial, T->done, T->planned);
    else
        fprintf(out, "trial %d failed: %s [%ld/%ld]\n", j->trial, reason, T->done, T->planned);
    fflush(out);
    T->failed_in_row = rc == 0 ? 0 : T->failed_in_row + 1;
    if (T->failed_in_row >= T->max_failed_in_row) {
        T->stop = 1;
        T->has_error = 1;
        hpt_fail(&T->error, "%d trials failed in a row (max_consecutive_failed_trials); the last: %s",
                 T->failed_in_row, reason);
    }
    T->running--;
    pthread_cond_broadcast(&T->cv);
    pthread_mutex_unlock(&T->mu);
}

static job *new_job(const tuner *T, const oracle_request *r)
{
    job *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->values = malloc(sizeof *j->values * ((size_t)T->p->n_hps + 1));
    if (!j->values) return free(j), NULL;
    memcpy(j->values, r->values, sizeof *j->values * (size_t)T->p->n_hps);
    j->trial = r->trial, j->parent = r->parent, j->epochs = r->epochs, j->initial_epoch = r->initial_epoch;
    j->bracket = r->bracket, j->round = r->round;
    return j;
}

static void free_job(job *j)
{
    if (j) free(j->values), free(j);
}

/* Take the next trial to run (under the mutex): resumed ones first, then the
 * oracle's.  NULL when the search is over or stopping. */
static job *take_job(tuner *T)
{
    for (;;) {
        if (T->stop || (T->o->interrupted && *T->o->interrupted)) return NULL;
        if (T->queue) {
            job *j = T->queue;
            T->queue = j->next;
            return j;
        }
        if (T->oracle_done) return NULL;
        oracle_request r;
        oracle_status st = oracle_next(T->orc, &r);
        if (st == ORACLE_DONE) {
            T->oracle_done = 1;
            pthread_cond_broadcast(&T->cv);
            return NULL;
        }
        if (st == ORACLE_TRIAL) {
            job *j = new_job(T, &r);
            char json[4096];
            tune_values_json(T->p, r.values, json, sizeof json);
            store_trial row = { .id = r.trial, .hps_json = json, .seed = rng_key(T->seed, (uint64_t)r.trial),
                                .parent = r.parent, .bracket = r.bracket, .round = r.round, .epochs = r.epochs,
                                .initial_epoch = r.initial_epoch, .started = wall() };
            if (!j || store_trial_begin(T->db, &row, &T->error)) {
                free_job(j);
                if (!j) hpt_fail(&T->error, "out of memory");
                T->has_error = 1, T->stop = 1;
                return NULL;
            }
            return j;
        }
        /* WAIT: a running trial's result is needed. */
        if (T->running == 0) {
            hpt_fail(&T->error, "internal error: the oracle waits but no trial is running");
            T->has_error = 1, T->stop = 1;
            return NULL;
        }
        pthread_cond_wait(&T->cv, &T->mu);
    }
}

static void *worker(void *arg)
{
    tuner *T = arg;
    blas_flush_denormals();
    pthread_mutex_lock(&T->mu);
    for (;;) {
        job *j = take_job(T);
        if (!j) break;
        T->running++;
        pthread_mutex_unlock(&T->mu);
        run_job(T, j);
        free_job(j);
        pthread_mutex_lock(&T->mu);
    }
    pthread_cond_broadcast(&T->cv);
    pthread_mutex_unlock(&T->mu);
    return NULL;
}

/* Put the oracle back where the stored search left it. */
static int replay(tuner *T, hpt_error *e)
{
    store_trial *rows;
    int n;
    if (store_load_trials(T->db, &rows, &n, e)) return -1;
    job **tail = &T->queue;
    int rc = 0;
    for (int k = 0; k < n && rc == 0; k++) {
        oracle_request r;
        oracle_status st = oracle_next(T->orc, &r);
        char json[4096];
        if (st == ORACLE_TRIAL) tune_values_json(T->p, r.values, json, sizeof json);
        if (st != ORACLE_TRIAL || r.trial != rows[k].id || strcmp(json, rows[k].hps_json)) {
            rc = hpt_fail(e, "the stored search does not follow this spec's tuner at trial %d; "
                             "run with --overwrite to start afresh", rows[k].id);
            break;
        }
        if (!strcmp(rows[k].status, "running")) {
            job *j = new_job(T, &r);
            if (!j) {
                rc = hpt_fail(e, "out of memory");
                break;
            }
            j->resume = 1;
            *tail = j;
            tail = &j->next;
        } else {
            int failed = strcmp(rows[k].status, "completed") != 0;
            oracle_report(T->orc, rows[k].id, rows[k].score, failed);
            T->done++;
            if (!failed && better(T, rows[k].score, T->best_score)) T->best_score = rows[k].score, T->best_trial = rows[k].id;
        }
    }
    store_free_trials(rows, n);
    return rc;
}

static void print_summary(tuner *T)
{
    store_trial *rows;
    int n;
    hpt_error e;
    if (store_load_trials(T->db, &rows, &n, &e)) return;
    FILE *out = T->o->out;
    int *order = malloc(sizeof *order * (size_t)(n ? n : 1));
    int m = 0;
    for (int k = 0; order && k < n; k++)
        if (!strcmp(rows[k].status, "completed")) order[m++] = k;
    /* Best first; ties by trial id, so the listing is stable. */
    for (int a = 1; a < m; a++)
        for (int b = a; b > 0; b--) {
            const store_trial *x = &rows[order[b]], *y = &rows[order[b - 1]];
            if (!better(T, x->score, y->score)) break;
            int tmp = order[b];
            order[b] = order[b - 1];
            order[b - 1] = tmp;
        }
    int failed = 0;
    for (int k = 0; k < n; k++) failed += !strcmp(rows[k].status, "failed");
    char path[1100];
    tune_project_path(T->p, path, sizeof path);
    fprintf(out, "\nResults summary\nResults in %s\nShowing %d best trials\nObjective(name=\"%s\", direction=\"%s\")\n",
            path, m < 10 ? m : 10, T->objective, T->maximize ? "max" : "min");
    for (int k = 0; k < m && k < 10; k++) {
        const store_trial *r = &rows[order[k]];
        fprintf(out, "\nTrial %04d summary\nHyperparameters: %s\nScore: %.4f (best epoch %d)\n", r->id, r->hps_json,
                r->score, r->best_epoch + 1);
    }
    fprintf(out, "\n%d trials: %d completed, %d failed; %.0f s\n", n, m, failed, wall() - T->started);
    free(order);
    store_free_trials(rows, n);
}

/* Specs live in version control beside their experiments: note the commit
 * and whether the spec differs from it.  Best effort; no git, no record. */
static void record_git(store *db, const char *file)
{
    char dir[1024], cmd[2200], line[256];
    snprintf(dir, sizeof dir, "%s", file);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    if (strchr(dir, '\'') || strchr(file, '\'')) return;
    snprintf(cmd, sizeof cmd, "git -C '%s' rev-parse HEAD 2>/dev/null", dir);
    FILE *f = popen(cmd, "r");
    if (!f) return;
    int got = fgets(line, sizeof line, f) != NULL;
    pclose(f);
    if (!got) return;
    line[strcspn(line, "\n")] = 0;
    hpt_error e;
    store_meta_set(db, "git_commit", line, &e);
    snprintf(cmd, sizeof cmd, "git -C '%s' status --porcelain -- '%s' 2>/dev/null", dir, slash ? slash + 1 : file);
    f = popen(cmd, "r");
    if (!f) return;
    int modified = fgets(line, sizeof line, f) != NULL;
    pclose(f);
    store_meta_set(db, "git_modified", modified ? "true" : "false", &e);
}

/* search(cv = k | StratifiedKFold(...)): every trial trains once per fold
 * (per execution), validating on the fold; the score is the mean. */
static int setup_folds(tuner *T, arena *scratch, hpt_error *e)
{
    const ir_program *p = T->p;
    hpt_value cv;
    char why[200];
    if (!p->search.args[search_cv] || ir_eval(p, p->search.args[search_cv], NULL, scratch, &cv, why, sizeof why) ||
        cv.type == V_NONE)
        return 0;
    int k = 0, shuffle = 0;
    uint64_t seed = T->seed;
    if (cv.type == V_INT) {
        k = (int)cv.u.i;
    } else if (cv.type == V_OBJECT) {
        const hpt_value *a = cv.u.object.args;
        k = (int)a[StratifiedKFold_n_splits].u.i;
        shuffle = a[StratifiedKFold_shuffle].u.b;
        if (a[StratifiedKFold_seed].type == V_INT) seed = rng_key(0x6b666f6c64ull, (uint64_t)a[StratifiedKFold_seed].u.i);
    }
    size_t n = (size_t)T->data.train.n;
    int *fold_of = malloc(sizeof *fold_of * (n + 1));
    T->fold_rows = malloc(sizeof *T->fold_rows * (n * (size_t)k + 1));
    T->fold_n_train = malloc(sizeof *T->fold_n_train * (size_t)k);
    T->fold_n_val = malloc(sizeof *T->fold_n_val * (size_t)k);
    if (!fold_of || !T->fold_rows || !T->fold_n_train || !T->fold_n_val) {
        free(fold_of);
        return hpt_fail(e, "out of memory");
    }
    hpt_error fe;
    if (folds_stratified(T->data.train.labels, (int)n, k, shuffle, seed, fold_of, &fe)) {
        free(fold_of);
        return hpt_fail(e, "%s: search(cv = %d): %s", T->data.train.source, k, fe.message);
    }
    for (int f = 0; f < k; f++)
        folds_rows(fold_of, (int)n, f, T->fold_rows + (size_t)f * n, &T->fold_n_train[f], &T->fold_n_val[f]);
    free(fold_of);
    T->folds = k;
    return 0;
}

int tune_run(const ir_program *p, const tune_options *o, hpt_error *e)
{
    if (!p->tuner.entry) return hpt_fail(e, "%s has no tuner = ... statement: use hptc train for one configuration", p->file);
    tuner T = { .p = p, .o = o, .best_score = NAN, .best_trial = -1, .started = wall() };
    pthread_mutex_init(&T.mu, NULL);
    pthread_cond_init(&T.cv, NULL);
    hpt_value targs[32];
    arena scratch = { 0 };
    char why[200], path[1100];
    int rc = -1;
    if (ir_eval_call(p, &p->tuner, NULL, &scratch, targs, why, sizeof why)) {
        hpt_fail(e, "%s: tuner: %s", p->file, why);
        goto out;
    }
    const st_entry *te = p->tuner.entry;
    snprintf(T.objective, sizeof T.objective, "%s", targs[st_arg_index(te, "objective")].u.s);
    T.maximize = tune_maximize(T.objective);
    hpt_value seed = targs[st_arg_index(te, "seed")];
    T.seed = rng_key(0x6870746375ull, seed.type == V_INT ? (uint64_t)seed.u.i : 0);
    T.executions = (int)targs[st_arg_index(te, "executions_per_trial")].u.i;
    T.max_retries = (int)targs[st_arg_index(te, "max_retries_per_trial")].u.i;
    T.max_failed_in_row = (int)targs[st_arg_index(te, "max_consecutive_failed_trials")].u.i;
    int overwrite = o->overwrite || targs[st_arg_index(te, "overwrite")].u.b;
    tune_project_path(p, path, sizeof path);

    if (source_load(p, &T.data, e)) goto out;
    if (o->limit > 0 && o->limit < T.data.train.n) T.data.train.n = o->limit;
    hpt_value split = value_float(0);
    ir_eval(p, p->search.args[search_validation_split], NULL, &scratch, &split, why, sizeof why);
    T.n_val = train_split(T.data.train.n, value_as_double(split), &T.n_train);
    /* Rows: the training set's own, then the validation set's when separate. */
    T.rows = malloc(sizeof *T.rows * ((size_t)T.data.train.n + (size_t)T.data.validation.n + 1));
    if (!T.rows) {
        hpt_fail(e, "out of memory");
        goto out;
    }
    for (int i = 0; i < T.data.train.n; i++) T.rows[i] = (uint32_t)i;
    for (int i = 0; i < T.data.validation.n; i++) T.rows[T.data.train.n + i] = (uint32_t)i;
    if (setup_folds(&T, &scratch, e)) goto out;
    T.runs = T.executions * (T.folds ? T.folds : 1);

    T.db = store_open(path, p->spec_hash, p->source, p->file, overwrite, e);
    if (!T.db) goto out;
    if (store_meta_set(T.db, "hptc_version", o->version ? o->version : "?", e) ||
        store_meta_set(T.db, "backend", o->backend ? o->backend : "blas", e) ||
        store_meta_set(T.db, "tuner", te->name, e) || store_meta_set(T.db, "objective", T.objective, e))
        goto out;
    record_git(T.db, p->file);

    hpt_value epochs_v;
    ir_eval(p, p->search.args[search_epochs], NULL, &scratch, &epochs_v, why, sizeof why);
    oracle_config oc = { p, te, targs, epochs_v.type == V_INT ? (int)epochs_v.u.i : 1, T.seed, T.maximize };
    T.orc = oracle_new(&oc, e);
    if (!T.orc) goto out;
    T.planned = oracle_planned_trials(T.orc);
    if (replay(&T, e)) goto out;
    if (T.done || T.queue)
        fprintf(o->out, "resuming %s: %ld trials done%s\n", path, T.done, T.queue ? ", continuing the interrupted ones" : "");
    char folds[32] = "";
    if (T.folds) snprintf(folds, sizeof folds, " (mean of %d folds)", T.folds);
    fprintf(o->out, "search %s: %s, objective %s%s, %d job%s\n", path, te->name, T.objective, folds, o->jobs,
            o->jobs == 1 ? "" : "s");
    fflush(o->out);

    blas_set_threads(1);
    int jobs = o->jobs < 1 ? 1 : o->jobs > 64 ? 64 : o->jobs;
    pthread_t threads[64];
    int started = 0;
    for (int k = 0; k < jobs; k++)
        if (pthread_create(&threads[k], NULL, worker, &T) == 0) started++;
    for (int k = 0; k < started; k++) pthread_join(threads[k], NULL);
    if (T.has_error) {
        *e = T.error;
        goto out;
    }
    hpt_error pe;
    if (store_prune(T.db, keep_checkpoint, &T, &pe) == 0) store_compact(T.db, &pe);
    if (o->interrupted && *o->interrupted) {
        fprintf(o->out, "\ninterrupted: run the same command again to resume (%ld trials done)\n", T.done);
        rc = 1;
        goto out;
    }
    print_summary(&T);
    rc = 0;
out:
    for (job *j = T.queue, *next; j; j = next) next = j->next, free_job(j);
    oracle_free(T.orc);
    store_close(T.db);
    source_free(&T.data);
    free(T.rows);
    free(T.fold_rows), free(T.fold_n_train), free(T.fold_n_val);
    arena_free(&scratch);
    pthread_mutex_destroy(&T.mu);
    pthread_cond_destroy(&T.cv);
    return rc;
}
