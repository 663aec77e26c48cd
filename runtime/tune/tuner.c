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
 * A checkpoint's state blob is a ckpt_state: the training loop's state plus
 * the objective's best so far, so a resumed trial continues bit for bit.
 * Training one execution from its checkpoint is runtime/tune/execution.c's
 * job, the same on every rank; this file decides what trains where and
 * when, reads where each execution starts, and commits what it produces.
 *
 * The scheduler (issue 15, "busy"; docs/scheduler.md) hands out work items,
 * not trials: item x of a trial is its execution x / folds, fold x % folds
 * (runs = executions x folds items, 1 for most searches).  A free slot
 * takes the next item of the oldest trial in progress (the ready list, by
 * id), else starts the oracle's next trial (resumed ones first); it waits
 * only when the oracle does and items are still out.  A trial's score is
 * combined when its last item is back (the mean over items, as before), and
 * an attempt ends as the sequential loop it replaced did: a failure hands
 * out no more items, the reason is the lowest failed item's (else the early
 * stop of the highest item that stopped early), a retry starts every item
 * afresh, and a trial that fails for good keeps only the epochs of items up
 * to the failed one.  So the trials and epochs tables do not depend on
 * which slot ran what, or when.  Each item's span (session, slot, rank,
 * start, end) goes to the store's timeline tables, the utilisation that
 * `hptc summary` and the report show; timing only, never results.
 *
 * Under MPI a work item trains in a slot: one of rank 0's threads, or a slot
 * of another rank, driven by a thread of its own on rank 0 that takes items
 * as a local thread does and hands the execution to runtime/tune/cluster.c,
 * which ships it with the checkpoint it starts from and commits the epochs
 * that come back through commit_epoch, exactly as a local epoch's,
 * each before the rank may train the next.  The oracle, the order of
 * take_item and the store are rank 0's alone, so the trial table is the
 * single-process one, and a rank that dies loses only its epoch in flight. */
#include "runtime/tune/tuner.h"
#include "runtime/json.h"
#include "runtime/nn/blas.h"
#include "runtime/tune/cluster.h"
#include "runtime/tune/dist.h"
#include "runtime/data/folds.h"
#include "runtime/tune/oracle.h"
#include "runtime/tune/execution.h"
#include "runtime/rng.h"
#include "runtime/data/source.h"
#include "runtime/store/store.h"
#include "runtime/nn/train.h"
#include "runtime/store/vcs.h"
#include "compiler/cost.h"
#include "runtime/tune/latency.h"
#include "runtime/tune/warmstart.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int tune_maximize(const char *objective)
{
    return strncmp(objective, "multi_objective(", 16) ? metric_maximize(objective) : 0;
}

double tune_metric(const struct train_epoch *m, const char *objective)
{
    if (strncmp(objective, "multi_objective(", 16)) return train_metric(m, objective);
    /* Keras Tuner's MultiObjective.get_value: minimised metrics added, maximised ones ("-name") subtracted. */
    double sum = 0;
    for (const char *p = objective + 16; *p && *p != ')';) {
        int minus = *p == '-';
        p += minus;
        size_t len = strcspn(p, ",)");
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), p);
        double v = train_metric(m, name);
        sum += minus ? -v : v;
        p += len;
        if (*p == ',') p++;
    }
    return sum;
}

void tune_project_path(const ir_program *p, char *buf, size_t n)
{
    const ir_call *t = &p->tuner;
    const char *dir = ".", *name = "untitled_project";
    int d = st_arg_index(t->entry, "directory"), k = st_arg_index(t->entry, "project_name");
    if (d >= 0 && t->args[d]->op == X_CONST && t->args[d]->value.type == V_STRING) dir = t->args[d]->value.u.s;
    if (k >= 0 && t->args[k]->op == X_CONST && t->args[k]->value.type == V_STRING) name = t->args[k]->value.u.s;
    snprintf(buf, n, "%s/%s", dir, name);
}

char *tune_values_json(const ir_program *p, const hpt_value *values)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    json_writer w;
    json_init(&w, f, 0);
    json_open(&w, '{');
    for (int k = 0; k < p->n_hps; k++) {
        if (values[k].type == V_NONE) continue;
        json_key(&w, p->hps[k].name);
        json_value(&w, values[k]);
    }
    json_close(&w);
    if (fclose(f)) {
        free(text);
        return NULL;
    }
    return text;
}

/* ---- output ------------------------------------------------------------- */

/* Where a trial's lines go (under the mutex): straight out while one trial
 * trains at a time; with several slots, into the trial's own buffer, which
 * job_flush prints as one block, so the lines of trials training side by
 * side never interleave. */
static FILE *job_out(tuner *T, job *j)
{
    if (T->n_slots > 1 && !j->log) j->log = open_memstream(&j->log_text, &j->log_len);
    return j->log ? j->log : T->o->out;
}

/* On a terminal, one line under the output says what is training now;
 * every print clears it first (clear_status) and redraws it after. */
static void clear_status(tuner *T)
{
    if (T->o->live) fputs("\r\033[K", T->o->out);
}

/* "[3/30 done]", or "[3 done]" when the oracle cannot tell the total (ASHA). */
static const char *planned_text(const tuner *T, char *buf, size_t n)
{
    if (T->planned >= 0) snprintf(buf, n, "/%ld", T->planned);
    else if (n) *buf = 0;
    return buf;
}

static void draw_status(tuner *T)
{
    if (!T->o->live) return;
    FILE *out = T->o->out;
    char of[32];
    fprintf(out, "\r\033[K[%ld%s done]", T->done, planned_text(T, of, sizeof of));
    for (int k = 0; k < T->n_slots; k++) {
        const job *j = T->active[k];
        if (j) fprintf(out, "  trial %d: epoch %d/%d", j->trial, j->epoch_now + 1 <= j->epochs ? j->epoch_now + 1 : j->epochs, j->epochs);
    }
    fflush(out);
}

/* Print a trial's buffered lines as one block (under the mutex). */
static void job_flush(tuner *T, job *j)
{
    if (!j->log) return;
    fclose(j->log);
    j->log = NULL;
    clear_status(T);
    fwrite(j->log_text, 1, j->log_len, T->o->out);
    free(j->log_text);
    j->log_text = NULL, j->log_len = 0;
}


/* ---- one execution, on rank 0 -------------------------------------------- */

/* Commit one epoch and its checkpoint (one transaction) and print it. */
static int commit_epoch(void *user, job *j, const store_epoch_row *row, store_blob weights, store_blob optimizer,
                        store_blob state, int improved)
{
    tuner *T = user;
    pthread_mutex_lock(&T->mu);
    int rc = store_epoch(T->db, row, weights, optimizer, state, improved ? &weights : NULL, &T->error);
    if (rc) T->has_error = 1, T->stop = 1;
    FILE *out = job_out(T, j);
    if (out == T->o->out) clear_status(T);
    fprintf(out, "  trial %d epoch %d/%d: loss %.4f accuracy %.4f", j->trial, row->epoch + 1, j->epochs, row->loss,
            row->accuracy);
    if (!isnan(row->val_loss) || !isnan(row->val_accuracy))
        fprintf(out, " val_loss %.4f val_accuracy %.4f", row->val_loss, row->val_accuracy);
    if (row->metrics[0] && strcmp(row->metrics, "{}")) fprintf(out, " %s", row->metrics);
    fprintf(out, " (%.1fs)\n", row->seconds);
    j->epoch_now = row->epoch + 1;
    draw_status(T);
    fflush(T->o->out);
    int stop = T->stop || (T->o->interrupted && *T->o->interrupted);
    pthread_mutex_unlock(&T->mu);
    return stop;
}

/* Read where an execution starts (rank 0); free with free_start, whatever
 * it returns.  EXEC_DAMAGED when the execution's own checkpoint fails its
 * CRC (it can train again from its start), EXEC_FAILED when a promotion's
 * parent checkpoint is missing or damaged (nothing can replace it); the
 * reason says which. */
static int load_start(tuner *T, const job *j, int execution, exec_start *st, char *reason, size_t reason_len)
{
    hpt_error e;
    void *w = NULL, *o = NULL, *s = NULL, *b = NULL;
    size_t sw = 0, so = 0, ss = 0, sb = 0;
    int rc = EXEC_DONE;
    memset(st, 0, sizeof *st);
    pthread_mutex_lock(&T->mu);
    int found = store_load_checkpoint(T->db, j->trial, execution, "last", &w, &sw, &o, &so, &s, &ss, &st->epoch, &e);
    if (found == 1) {
        /* Resume exactly where the last committed epoch left off. */
        st->resume = 1;
        found = store_load_checkpoint(T->db, j->trial, execution, "best", &b, &sb, NULL, NULL, NULL, NULL, NULL, &e);
        if (found == 0) found = hpt_fail(&e, "its best weights are missing");
    } else if (found == 0 && j->parent >= 0) {
        /* A Hyperband promotion continues from its parent's best epoch (of the
         * same execution or fold), with a fresh optimizer. */
        st->from_parent = 1;
        found = store_load_checkpoint(T->db, j->parent, execution, "best", &w, &sw, NULL, NULL, NULL, NULL, NULL, &e);
        if (found <= 0) {
            snprintf(reason, reason_len, "trial %d continues trial %d from epoch %d, but %.900s", j->trial, j->parent,
                     j->initial_epoch, found == 0 ? "that trial's best checkpoint is gone" : e.message);
            rc = EXEC_FAILED;
        }
    }
    if (found < 0 && rc == EXEC_DONE) {
        snprintf(reason, reason_len, "%s", e.message);
        rc = EXEC_DAMAGED;
    }
    pthread_mutex_unlock(&T->mu);
    st->w = (store_blob){ w, sw }, st->opt = (store_blob){ o, so };
    st->state = (store_blob){ s, ss }, st->best = (store_blob){ b, sb };
    return rc;
}

static void free_start(exec_start *st)
{
    free((void *)st->w.data), free((void *)st->opt.data), free((void *)st->state.data), free((void *)st->best.data);
}

/* ---- the search ---------------------------------------------------------- */

/* Rank 0 or local: train one execution where the slot says. */
static int run_execution(slot *s, job *j, int execution, int retry, char *reason, size_t reason_len)
{
    exec_start st;
    int rc = load_start(s->T, j, execution, &st, reason, reason_len);
    if (rc == EXEC_DONE)
        rc = s->rank == 0 ? tuner_train_execution(s->T, j, execution, retry, &st, commit_epoch, s->T, reason, reason_len)
                          : cluster_execution(s, j, execution, retry, &st, commit_epoch, s->T, reason, reason_len);
    free_start(&st);
    return rc;
}

/* An execution whose checkpoint is damaged trains again from its start:
 * everything it does is keyed by its seed, so the epochs it commits are the
 * ones that were lost, and the trial table is the same as if nothing had
 * happened.  Its stored epochs and checkpoints go first. */
static int run_again(slot *s, job *j, int execution, int retry, char *reason, size_t reason_len)
{
    tuner *T = s->T;
    hpt_error e;
    pthread_mutex_lock(&T->mu);
    fprintf(job_out(T, j), "  %s; training trial %d%s again from epoch %d\n", reason, j->trial,
            T->runs > 1 ? " (this execution)" : "", j->initial_epoch + 1);
    int rc = store_trial_reset(T->db, j->trial, execution, &e);
    if (rc) T->has_error = 1, T->error = e, T->stop = 1;
    pthread_mutex_unlock(&T->mu);
    reason[0] = 0;
    if (rc) return EXEC_STOPPED;
    rc = run_execution(s, j, execution, retry, reason, reason_len);
    return rc == EXEC_DAMAGED ? EXEC_FAILED : rc;
}

/* The trial's score: the mean over executions (and folds) of each one's best epoch. */
double tune_execution_best(const store_epoch_row *rows, int n, int execution, const char *objective, int maximize,
                           int *epoch)
{
    double best = NAN;
    int at = -1;
    for (int k = 0; k < n; k++) {
        if (rows[k].execution != execution) continue;
        train_epoch m = { .loss = rows[k].loss, .accuracy = rows[k].accuracy, .val_loss = rows[k].val_loss,
                          .val_accuracy = rows[k].val_accuracy,
                          .has_val = !isnan(rows[k].val_loss) || !isnan(rows[k].val_accuracy) };
        train_metrics_parse(&m, rows[k].metrics);
        double v = tune_metric(&m, objective);
        if (!isnan(v) && (isnan(best) || (maximize ? v > best : v < best))) best = v, at = rows[k].epoch;
    }
    if (epoch) *epoch = at;
    return best;
}

static double trial_score(tuner *T, int trial, int *best_epoch)
{
    store_epoch_row *rows;
    int n;
    hpt_error e;
    *best_epoch = -1;
    if (store_load_epochs(T->db, trial, &rows, &n, &e)) return NAN;
    double score = tuner_score_rows(T, rows, n, best_epoch);
    free(rows);
    return score;
}

/* Issue 15, pareto: a completed trial's value of every objective.  A
 * metric is the mean over executions of its best epoch (as the score is;
 * the primary metric is the score); params, flops and memory_mb are the
 * configuration's static costs (cost_of); latency_ms is measured
 * (latency.h).  -1 with the reason when one
 * cannot be had: the trial fails. */
static int trial_objectives(tuner *T, const job *j, double score, double *vec, char *reason, size_t n)
{
    store_epoch_row *rows = NULL;
    int n_rows = 0;
    model_cost cost;
    int have_cost = 0;
    hpt_error e;
    for (int k = 0; k < T->objs.n; k++) {
        vec[k] = NAN;
        if (k == T->objs.primary) {
            vec[k] = score;
        } else if (T->objs.kind[k] == OBJ_METRIC) {
            if (!rows && store_load_epochs(T->db, j->trial, &rows, &n_rows, &e)) {
                snprintf(reason, n, "%.900s", e.message);
                return -1;
            }
            double sum = 0;
            int counted = 0;
            for (int x = 0; x < T->runs; x++) {
                double b = tune_execution_best(rows, n_rows, x, T->objs.name[k], T->objs.maximize[k], NULL);
                if (!isnan(b)) sum += b, counted++;
            }
            vec[k] = counted ? sum / counted : NAN;
        } else if (T->objs.kind[k] == OBJ_LATENCY_MS) {
            char why[400];
            if (latency_measure(T->p, j->values, j->policy, T->seed, &vec[k], why, sizeof why)) {
                free(rows);
                snprintf(reason, n, "the objective latency_ms cannot be measured: %s", why);
                return -1;
            }
        } else {
            if (!have_cost) {
                char why[300];
                ir_assignment a = { j->values, T->p->n_hps };
                if (cost_of(T->p, &a, &cost, why, sizeof why)) {
                    free(rows);
                    snprintf(reason, n, "the objective %s cannot be computed: %s", T->objs.name[k], why);
                    return -1;
                }
                have_cost = 1;
            }
            vec[k] = T->objs.kind[k] == OBJ_PARAMS ? cost.params : T->objs.kind[k] == OBJ_FLOPS ? cost.flops
                                                                                             : cost.memory_bytes / 1e6;
        }
        if (isnan(vec[k])) {
            free(rows);
            snprintf(reason, n, "the objective %s was never computed", T->objs.name[k]);
            return -1;
        }
    }
    free(rows);
    return 0;
}

/* A finished trial's best checkpoint is kept while Hyperband may promote it
 * (until its child has run) and while it is the best trial. */
static int keep_checkpoint(void *user, int trial)
{
    tuner *T = user;
    return oracle_may_promote(T->orc, trial) || trial == T->best_trial;
}

/* The trial's line: "trial 7: units=512 learning_rate=0.001", the first
 * values only when there are many (the store and `hptc best` have them all). */
static void print_trial_line(tuner *T, job *j, const slot *s)
{
    enum { SHOWN = 16 };
    FILE *out = job_out(T, j);
    if (out == T->o->out) clear_status(T);
    fprintf(out, "trial %d%s:", j->trial, j->resume ? " (resumed)" : "");
    int shown = 0, active = 0;
    for (int k = 0; k < T->p->n_hps; k++) {
        if (j->values[k].type == V_NONE) continue;
        active++;
        if (shown == SHOWN) continue;
        char v[96];
        value_format(v, sizeof v, j->values[k]);
        fprintf(out, " %s=%s", T->p->hps[k].name, v);
        shown++;
    }
    if (active > shown) fprintf(out, " (and %d more)", active - shown);
    if (!active) fputs(" the spec's one configuration", out);
    if (T->o->dist) fprintf(out, " [rank %d]", s->rank);
    fputc('\n', out);
    if (j->parent >= 0)
        fprintf(out, "  continues trial %d from epoch %d, to epoch %d\n", j->parent, j->initial_epoch, j->epochs);
    draw_status(T);
    fflush(T->o->out);
}

/* ---- the scheduler: work items ------------------------------------------ */

/* The search's best so far; a tie goes to the lower trial id, so the best
 * (and the checkpoint kept for it) does not depend on which trial finished
 * first. */
static void note_best(tuner *T, int trial, double score)
{
    if (tuner_better(T, score, T->best_score) || (score == T->best_score && trial < T->best_trial))
        T->best_score = score, T->best_trial = trial;
}

/* Finish a trial whose last item is back (under the mutex): its score (the
 * mean over its executions and folds), its end row, the oracle's report. */
static void finish_trial(tuner *T, job *j, int rc)
{
    char *reason = j->reason;
    int best_epoch;
    double score = rc == EXEC_DONE ? trial_score(T, j->trial, &best_epoch) : NAN;
    if (rc == EXEC_DONE && isnan(score)) {
        rc = EXEC_FAILED;
        char why[sizeof j->reason];
        snprintf(why, sizeof why, "%s", reason);
        snprintf(reason, sizeof j->reason, "the objective %s was never computed%s%.300s%s", T->objective,
                 *why ? " (" : "", why, *why ? ")" : "");
    }
    hpt_error e;
    double vec[OBJECTIVES_MAX];
    if (rc == EXEC_DONE && T->objs.pareto && trial_objectives(T, j, score, vec, reason, sizeof j->reason)) rc = EXEC_FAILED;
    int ok = rc == EXEC_DONE;
    if (ok && T->objs.pareto && store_objectives_set(T->db, j->trial, vec, T->objs.n, &e)) {
        T->has_error = 1, T->error = e, T->stop = 1;
        ok = 0;
    } else if (ok && T->objs.pareto) {
        oracle_report_objectives(T->orc, j->trial, vec);
    }
    if (store_trial_end(T->db, j->trial, ok ? "completed" : "failed", score, ok ? best_epoch : -1, reason, &e)) {
        T->has_error = 1, T->error = e, T->stop = 1;
    } else {
        oracle_report(T->orc, j->trial, score, !ok);
    }
    T->done++;
    T->completed += ok;
    if (ok) note_best(T, j->trial, score);
    /* Prune as the search goes, so the store holds only the checkpoints a
     * promotion or the best model may still need, however many trials run. */
    if (!T->has_error && store_prune(T->db, keep_checkpoint, T, &e)) T->has_error = 1, T->error = e, T->stop = 1;
    FILE *out = job_out(T, j);
    char of[32];
    if (ok && T->objs.pareto) {
        fprintf(out, "trial %d done:", j->trial);
        for (int k = 0; k < T->objs.n; k++) fprintf(out, "%s %s %.6g", k ? "," : "", T->objs.name[k], vec[k]);
        fprintf(out, "%s%s [%ld%s]\n", *reason ? "; " : "", reason, T->done, planned_text(T, of, sizeof of));
    } else if (ok)
        fprintf(out, "trial %d done: %s %.4f%s%s (best %.4f, trial %d) [%ld%s]\n", j->trial, T->objective, score,
                *reason ? "; " : "", reason, T->best_score, T->best_trial, T->done, planned_text(T, of, sizeof of));
    else
        fprintf(out, "trial %d failed: %s [%ld%s]\n", j->trial, reason, T->done, planned_text(T, of, sizeof of));
    job_flush(T, j);
    draw_status(T);
    fflush(T->o->out);
    T->failed_in_row = ok ? 0 : T->failed_in_row + 1;
    if (T->failed_in_row >= T->max_failed_in_row) {
        T->stop = 1;
        T->has_error = 1;
        hpt_fail(&T->error, "%d trials failed in a row (max_consecutive_failed_trials); the last: %s",
                 T->failed_in_row, reason);
    }
}

/* Put a trial with items left into the ready list, which is kept by id so
 * free slots finish the oldest trials first (under the mutex). */
static void make_ready(tuner *T, job *j)
{
    job **at = &T->ready;
    while (*at && (*at)->trial < j->trial) at = &(*at)->next;
    j->next = *at;
    *at = j;
}

/* Take it out of the ready list, if it is there. */
static void unready(tuner *T, job *j)
{
    for (job **at = &T->ready; *at; at = &(*at)->next)
        if (*at == j) {
            *at = j->next;
            break;
        }
    j->next = NULL;
}

static void start_attempt(tuner *T, job *j)
{
    j->next_item = 0, j->items_out = 0, j->failed_item = -1, j->reason_item = -1;
    j->attempt_reason[0] = 0;
    make_ready(T, j);
}

/* One item is back (under the mutex).  When it was the attempt's last, the
 * attempt ends as the sequential loop it replaces would have ended it: the
 * reason is the lowest failed item's, or else the early stop of the highest
 * item that stopped early; a failed attempt is retried from scratch; a
 * trial that fails for good keeps the epochs of the items up to the one
 * that failed, as if those after it had never run.  Returns 1 when the job
 * is done with (finished, or interrupted): the caller frees it. */
static int item_done(tuner *T, job *j, int x, int rc, const char *reason)
{
    j->items_out--;
    if (rc == EXEC_STOPPED || T->stop) {
        j->stopped = 1;
    } else if (rc != EXEC_DONE) {
        unready(T, j);          /* a failure hands out no more of this attempt's items */
        if (j->failed_item < 0 || x < j->failed_item) {
            j->failed_item = x;
            snprintf(j->attempt_reason, sizeof j->attempt_reason, "%s", reason);
        }
    } else if (*reason && x > j->reason_item && j->failed_item < 0) {
        j->reason_item = x;
        snprintf(j->attempt_reason, sizeof j->attempt_reason, "%s", reason);
    }
    if (j->stopped) {
        /* Interrupted: the trial stays "running" in the store and resumes next time. */
        if (j->items_out > 0) return 0;
        unready(T, j);
        job_flush(T, j);
        T->running--;
        return 1;
    }
    if (j->items_out > 0 || (j->next_item < T->runs && j->failed_item < 0)) return 0;
    if (j->failed_item >= 0 || j->reason_item >= 0) snprintf(j->reason, sizeof j->reason, "%s", j->attempt_reason);
    hpt_error e;
    if (j->failed_item >= 0) {
        if (j->retry < T->max_retries) {
            j->retry++;
            fprintf(job_out(T, j), "  trial %d failed (%s); retry %d of %d\n", j->trial, j->reason, j->retry,
                    T->max_retries);
            if (store_trial_reset(T->db, j->trial, -1, &e)) {
                T->has_error = 1, T->error = e, T->stop = 1;
                j->stopped = 1;
                job_flush(T, j);
                T->running--;
                return 1;
            }
            start_attempt(T, j);
            return 0;
        }
        /* (a resumed trial may hold epochs of later items from before) */
        for (int y = j->failed_item + 1; y < T->runs; y++)
            if (store_trial_reset(T->db, j->trial, y, &e)) T->has_error = 1, T->error = e, T->stop = 1;
    }
    finish_trial(T, j, j->failed_item >= 0 ? EXEC_FAILED : EXEC_DONE);
    T->running--;
    return 1;
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
    j->policy = train_dtype_policy(T->p, r->values, T->o->dtype_policy);
    return j;
}

static void free_job(job *j)
{
    if (!j) return;
    if (j->log) fclose(j->log);
    free(j->log_text);
    free(j->values);
    free(j);
}

/* The next trial to start (under the mutex): a resumed one first, then the
 * oracle's.  NULL with *wait = 1 when the oracle waits for a result, 0 when
 * the search has no more trials or is stopping. */
static job *next_trial(tuner *T, int *wait)
{
    *wait = 0;
    if (T->queue) {
        job *j = T->queue;
        T->queue = j->next;
        j->next = NULL;
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
    if (st == ORACLE_WAIT) {
        *wait = 1;
        return NULL;
    }
    job *j = new_job(T, &r);
    char *json = tune_values_json(T->p, r.values);
    store_trial row = { .id = r.trial, .hps_json = json, .seed = rng_key(T->seed, (uint64_t)r.trial),
                        .parent = r.parent, .bracket = r.bracket, .round = r.round, .epochs = r.epochs,
                        .initial_epoch = r.initial_epoch, .started = wall(), .data = T->data_fingerprint };
    if (j) snprintf(row.dtype_policy, sizeof row.dtype_policy, "%s", trial_dtype_policy_name(j->policy));
    if (!j || !json || store_trial_begin(T->db, &row, &T->error)) {
        if (!j || !json) hpt_fail(&T->error, "out of memory");
        free_job(j);
        free(json);
        T->has_error = 1, T->stop = 1;
        return NULL;
    }
    free(json);
    return j;
}

/* Take the next work item for slot s (under the mutex): an item of a trial
 * in progress (the oldest first), else the first item of a new trial.
 * Waits while the oracle does and other items run; NULL when the search is
 * over or stopping. */
static job *take_item(tuner *T, const slot *s, int *x)
{
    for (;;) {
        if (T->stop || (T->o->interrupted && *T->o->interrupted)) return NULL;
        job *j = T->ready;
        if (!j) {
            int wait;
            j = next_trial(T, &wait);
            if (j) {
                T->running++;
                print_trial_line(T, j, s);
                start_attempt(T, j);
            } else if (T->stop) {
                return NULL;
            } else if (!wait && T->running == 0) {
                return NULL;    /* nothing left, and no running trial can be retried */
            } else if (wait && T->running == 0) {
                hpt_fail(&T->error, "internal error: the oracle waits but no trial is running");
                T->has_error = 1, T->stop = 1;
                return NULL;
            } else {
                /* A result (or a retry) is needed first. */
                pthread_cond_wait(&T->cv, &T->mu);
                continue;
            }
        }
        *x = j->next_item++;
        j->items_out++;
        if (j->next_item == T->runs) T->ready = j->next, j->next = NULL;
        return j;
    }
}

/* Run item x of j in slot s (without the mutex), its span recorded in the
 * store's work table. */
static int run_item(slot *s, job *j, int x, int retry, char *reason, size_t reason_len)
{
    tuner *T = s->T;
    hpt_error e;
    long long id = -1;
    pthread_mutex_lock(&T->mu);
    store_work w = { T->session, j->trial, x, retry, s->rank, s->index, wall(), NAN };
    if (store_work_begin(T->db, &w, &id, &e)) T->has_error = 1, T->error = e, T->stop = 1;
    /* A trial's items spread over the ranks: say where each one trains. */
    if (T->o->dist && T->runs > 1) {
        FILE *out = job_out(T, j);
        fprintf(out, "  trial %d, execution %d", j->trial, x / (T->folds ? T->folds : 1) + 1);
        if (T->folds) fprintf(out, ", fold %d", x % T->folds + 1);
        fprintf(out, " [rank %d]\n", s->rank);
    }
    pthread_mutex_unlock(&T->mu);
    int rc = run_execution(s, j, x, retry, reason, reason_len);
    if (rc == EXEC_DAMAGED) rc = run_again(s, j, x, retry, reason, reason_len);
    pthread_mutex_lock(&T->mu);
    if (id >= 0 && store_work_end(T->db, id, T->session, wall(), &e)) T->has_error = 1, T->error = e, T->stop = 1;
    pthread_mutex_unlock(&T->mu);
    return rc;
}

static void *worker(void *arg)
{
    slot *s = arg;
    tuner *T = s->T;
    blas_flush_denormals();
    pthread_mutex_lock(&T->mu);
    for (;;) {
        int x;
        job *j = take_item(T, s, &x);
        if (!j) break;
        T->active[s->index] = j;
        int retry = j->retry;
        pthread_mutex_unlock(&T->mu);
        char reason[sizeof(hpt_error)] = "";
        int rc = run_item(s, j, x, retry, reason, sizeof reason);
        pthread_mutex_lock(&T->mu);
        T->active[s->index] = NULL;
        if (item_done(T, j, x, rc, reason)) free_job(j);
        pthread_cond_broadcast(&T->cv);
    }
    pthread_cond_broadcast(&T->cv);
    pthread_mutex_unlock(&T->mu);
    return NULL;
}

/* The failures that ended the stored search's last finished trials, in the
 * order they finished: the count max_consecutive_failed_trials goes on from,
 * as if the search had never stopped. */
static int failures_in_row(const store_trial *rows, int n)
{
    int count = 0;
    double after = INFINITY;    /* walk back through the finish times */
    for (;;) {
        int last = -1;
        for (int k = 0; k < n; k++) {
            if (!strcmp(rows[k].status, "running") || isnan(rows[k].finished) || !(rows[k].finished < after)) continue;
            if (last < 0 || rows[k].finished > rows[last].finished) last = k;
        }
        if (last < 0 || strcmp(rows[last].status, "failed")) return count;
        count++;
        after = rows[last].finished;
    }
}

/* The run's --dtype-policy as the store's meta keeps it: the policy, or
 * "spec" when each trial takes compile(dtype_policy). */
static const char *policy_meta(int override)
{
    return override >= 0 ? trial_dtype_policy_name((trial_dtype_policy)override) : "spec";
}

/* A stored trial trained under another policy than this run would give it:
 * refused, as a changed spec is, naming both and the two ways on.  was is
 * the stored run's policy_meta (NULL: a store from before dtype policies,
 * all float32). */
static int policy_changed(tuner *T, const store_trial *row, trial_dtype_policy now, const char *was, hpt_error *e)
{
    char path[1100], then[64], resume[64], by[64];
    tune_project_path(T->p, path, sizeof path);
    if (!was) snprintf(then, sizeof then, "before dtype policies"), snprintf(resume, sizeof resume, "--dtype-policy float32");
    else if (!strcmp(was, "spec")) snprintf(then, sizeof then, "the spec's"), snprintf(resume, sizeof resume, "no --dtype-policy");
    else snprintf(then, sizeof then, "--dtype-policy %s", was), snprintf(resume, sizeof resume, "--dtype-policy %s", was);
    if (T->o->dtype_policy >= 0) snprintf(by, sizeof by, "--dtype-policy %s", trial_dtype_policy_name(now));
    else snprintf(by, sizeof by, "the spec's");
    return hpt_fail(e, "%s: trial %d trained under dtype_policy %s (%s), but this run would train it under %s (%s): "
                       "its trials would not compare.  Resume with %s, or run with --overwrite to start afresh, or "
                       "change project_name", path, row->id, row->dtype_policy, then, trial_dtype_policy_name(now), by,
                    resume);
}

/* Put the oracle back where the stored search left it; every stored trial
 * must come back under the dtype policy it trained under (was: see
 * policy_changed). */
static int replay(tuner *T, const char *was, hpt_error *e)
{
    store_trial *rows;
    int n;
    /* --warm-start: a new study first takes the old one's trials that hold
     * (runtime/tune/warmstart.h); replayed below, they are added to the
     * oracle, not proposed by it. */
    if (warm_start_seed(T, e) || store_load_trials(T->db, &rows, &n, e)) return -1;
    job **tail = &T->queue;
    int rc = 0;
    /* Issue 15, pareto: the stored objective vectors, by trial id. */
    int n_ids = n ? rows[n - 1].id + 1 : 0;
    double *vecs = T->objs.pareto ? malloc(sizeof *vecs * ((size_t)n_ids * (size_t)T->objs.n + 1)) : NULL;
    if (T->objs.pareto && (!vecs || store_objectives_load(T->db, T->objs.n, n_ids, vecs, e))) {
        free(vecs);
        store_free_trials(rows, n);
        return vecs ? -1 : hpt_fail(e, "out of memory");
    }
    for (int k = 0; k < n && rc == 0; k++) {
        oracle_request r;
        oracle_status st = *rows[k].reused_from ? warm_start_replay(T->orc, T->p, &rows[k], &r) : oracle_next(T->orc, &r);
        char *json = st == ORACLE_TRIAL ? tune_values_json(T->p, r.values) : NULL;
        int same = json && r.trial == rows[k].id && !strcmp(json, rows[k].hps_json);
        free(json);
        if (!same) {
            rc = hpt_fail(e, "the stored search does not follow this spec's tuner at trial %d; "
                             "run with --overwrite to start afresh", rows[k].id);
            break;
        }
        trial_dtype_policy policy = train_dtype_policy(T->p, r.values, T->o->dtype_policy);
        if (strcmp(rows[k].dtype_policy, trial_dtype_policy_name(policy))) {
            rc = policy_changed(T, &rows[k], policy, was, e);
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
            if (vecs && !failed) oracle_report_objectives(T->orc, rows[k].id, vecs + (size_t)rows[k].id * T->objs.n);
            oracle_report(T->orc, rows[k].id, rows[k].score, failed);
            T->done++;
            T->completed += !failed;
            if (!failed) note_best(T, rows[k].id, rows[k].score);
        }
    }
    if (rc == 0) T->failed_in_row = failures_in_row(rows, n);
    free(vecs);
    if (rc == 0) T->planned = oracle_planned_trials(T->orc);   /* warm start's added trials may count */
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
    int m, completed = 0, failed = 0;
    int *order = store_rank_trials(rows, n, T->maximize, &m);
    for (int k = 0; k < n; k++) completed += !strcmp(rows[k].status, "completed"), failed += !strcmp(rows[k].status, "failed");
    char path[1100];
    tune_project_path(T->p, path, sizeof path);
    fprintf(out, "\nResults summary\nResults in %s\nShowing %d best trials\nObjective(name=\"%s\", direction=\"%s\")\n",
            path, m < 10 ? m : 10, T->objective, T->maximize ? "max" : "min");
    for (int k = 0; k < m && k < 10; k++) {
        const store_trial *r = &rows[order[k]];
        fprintf(out, "\nTrial %04d summary\nHyperparameters: %s\nScore: %.4f (best epoch %d)\n", r->id, r->hps_json,
                r->score, r->best_epoch + 1);
    }
    fprintf(out, "\n%d trials: %d completed, %d failed; %.0f s\n", n, completed, failed, wall() - T->started);
    /* What to do with it: the commands that read this store. */
    static const char *const next[][2] = { { "best %s", "the best trial's hyperparameters" },
                                           { "report %s -o report.html", "every trial, plotted" },
                                           { "export %s -o best.weights", "the best model, for hptc eval" },
                                           { "export %s --format onnx -o best.onnx", "the best model as ONNX, to serve" } };
    enum { n_next = sizeof next / sizeof next[0], widest_beyond_path = 34 };
    fprintf(out, "\nNext:\n");
    for (int k = 0; k < n_next; k++) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, next[k][0], path);
        fprintf(out, "  hptc %-*s  %s\n", (int)strlen(path) + widest_beyond_path, cmd, next[k][1]);
    }
    free(order);
    store_free_trials(rows, n);
}

/* Specs live in version control beside their experiments: note the commit
 * and whether the spec differs from it (vcs.h: read as data, nothing the
 * repository configures is run).  Best effort; no repository, no record. */
static void record_git(store *db, const char *file)
{
    vcs_info v;
    hpt_error e;
    if (!strcmp(file, "<stdin>") || vcs_describe(file, &v, &e) != 1) return;
    if (!store_meta_set(db, "git_commit", v.commit, &e)) store_meta_set(db, "git_modified", vcs_state_name(v.state), &e);
}

/* The data's fingerprint, recorded with the store and every trial: a resume
 * on other rows (another file, HPT_DATA, --limit) is refused, as its trials
 * would not compare with the stored ones. */
static void fingerprint(tuner *T)
{
    snprintf(T->data_fingerprint, sizeof T->data_fingerprint, "crc32 %08x, %d+%d rows of %zu values",
             tuner_data_crc(T), T->n_train, T->n_val + T->data.validation.n, T->data.train.sample_size);
    snprintf(T->data_source, sizeof T->data_source, "%d training and %d validation rows from %.600s",
             T->n_train, T->n_val + T->data.validation.n, T->data.train.source);
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

/* What every rank derives from the spec alone: the tuner's arguments (into
 * targs), the data and its rows.  The same on every rank, as the spec is. */
static int tuner_setup(tuner *T, arena *scratch, hpt_value *targs, hpt_error *e)
{
    const ir_program *p = T->p;
    const tune_options *o = T->o;
    char why[200];
    if (!p->tuner.entry) return hpt_fail(e, "%s has no tuner = ... statement: use hptc train for one configuration", p->file);
    if (ir_eval_call(p, &p->tuner, NULL, scratch, targs, why, sizeof why))
        return hpt_fail(e, "%s: tuner: %s", p->file, why);
    const st_entry *te = p->tuner.entry;
    if (objectives_from_value(targs[st_arg_index(te, "objective")], &T->objs, why, sizeof why))
        return hpt_fail(e, "%s: tuner: objective: %s", p->file, why);
    for (int k = 0; k < T->objs.n; k++)
        if (T->objs.maximize[k] < 0) T->objs.maximize[k] = T->objs.kind[k] == OBJ_METRIC && tune_maximize(T->objs.name[k]);
    if (T->objs.sum) {
        objectives_sum_name(&T->objs, T->objective, sizeof T->objective);
        T->maximize = 0;
    } else {
        snprintf(T->objective, sizeof T->objective, "%s", T->objs.name[T->objs.primary]);
        T->maximize = T->objs.maximize[T->objs.primary];
    }
    hpt_value seed = targs[st_arg_index(te, "seed")];
    T->seed = rng_key(0x6870746375ull, seed.type == V_INT ? (uint64_t)seed.u.i : 0);
    T->executions = (int)targs[st_arg_index(te, "executions_per_trial")].u.i;
    T->max_retries = (int)targs[st_arg_index(te, "max_retries_per_trial")].u.i;
    T->max_failed_in_row = (int)targs[st_arg_index(te, "max_consecutive_failed_trials")].u.i;
    /* Before the data loads and before any trial: a machine that cannot
     * train a policy some trial may take (no bf16) stops the search here,
     * on whichever rank it is. */
    char from[200];
    hpt_error pe;
    if (train_dtype_policy_may_be(p, o->dtype_policy, TRIAL_MIXED_BFLOAT16, from, sizeof from) &&
        train_check_dtype_policy(p, TRIAL_MIXED_BFLOAT16, &pe))
        return hpt_fail(e, "%s: %s: %.700s; no trial trained", p->file, from, pe.message);

    if (source_load(p, &T->data, e)) return -1;
    if (o->limit > 0 && o->limit < T->data.train.n) T->data.train.n = o->limit;
    hpt_value split = value_float(0);
    ir_eval(p, p->search.args[search_validation_split], NULL, scratch, &split, why, sizeof why);
    T->n_val = train_split(T->data.train.n, value_as_double(split), &T->n_train);
    /* Rows: the training set's own, then the validation set's when separate. */
    T->rows = malloc(sizeof *T->rows * ((size_t)T->data.train.n + (size_t)T->data.validation.n + 1));
    if (!T->rows) return hpt_fail(e, "out of memory");
    for (int i = 0; i < T->data.train.n; i++) T->rows[i] = (uint32_t)i;
    for (int i = 0; i < T->data.validation.n; i++) T->rows[T->data.train.n + i] = (uint32_t)i;
    if (setup_folds(T, scratch, e)) return -1;
    T->runs = T->executions * (T->folds ? T->folds : 1);
    return 0;
}


static void tuner_init(tuner *T, const ir_program *p, const tune_options *o)
{
    *T = (tuner){ .p = p, .o = o, .best_score = NAN, .best_trial = -1 };
    pthread_mutex_init(&T->mu, NULL);
    pthread_cond_init(&T->cv, NULL);
}

/* Everything a tuner owns, on any rank (what a rank never opened is NULL). */
static void tuner_free(tuner *T)
{
    oracle_free(T->orc);
    store_close(T->db);
    source_free(&T->data);
    free(T->rows);
    free(T->fold_rows), free(T->fold_n_train), free(T->fold_n_val);
    pthread_mutex_destroy(&T->mu);
    pthread_cond_destroy(&T->cv);
}


int tune_worker(const ir_program *p, const tune_options *o, hpt_error *e)
{
    tuner T;
    tuner_init(&T, p, o);
    hpt_value targs[32];
    arena scratch = { 0 };
    int rc = cluster_check_in(&T, tuner_setup(&T, &scratch, targs, e), NULL, e);
    int jobs = tuner_clamp_jobs(o->jobs), started = 0;
    slot slots[64];
    pthread_t threads[64];
    if (rc == 0) {
        blas_set_threads(1);
        for (int k = 0; k < jobs; k++) {
            slots[k] = (slot){ .T = &T, .rank = dist_rank(o->dist), .tag = CLUSTER_SLOT_TAG + k };
            if (pthread_create(&threads[k], NULL, cluster_serve, &slots[k]) == 0) started++;
        }
        for (int k = 0; k < started; k++) pthread_join(threads[k], NULL);
        for (int k = 0; k < started; k++)
            for (int b = 0; b < DIST_MAX_BLOBS; b++) dist_buf_free(&slots[k].bufs[b]);
        if (T.has_error) *e = T.error, rc = -1;
    }
    tuner_free(&T);
    arena_free(&scratch);
    return rc;
}

int tune_run(const ir_program *p, const tune_options *o, hpt_error *e)
{
    tuner T;
    tuner_init(&T, p, o);
    T.started = wall();
    hpt_value targs[32];
    arena scratch = { 0 };
    char why[200], path[1100];
    int rc = -1, jobs = tuner_clamp_jobs(o->jobs), n_slots = 0, n_remote = 0;
    slot *slots = NULL;
    pthread_t *threads = NULL;
    cluster_checkin *ranks = NULL;
    int ready = tuner_setup(&T, &scratch, targs, e);
    if (o->dist) {
        /* Every rank reports before anyone goes on, so a failure anywhere ends all ranks. */
        ranks = calloc((size_t)dist_size(o->dist), sizeof *ranks);
        if (!ranks) {
            hpt_fail(e, "out of memory");
            goto out;
        }
        if (cluster_check_in(&T, ready, ranks, e)) goto out;
        for (int r = 1; r < dist_size(o->dist); r++) n_remote += ranks[r].jobs;
    } else if (ready) {
        goto out;
    }
    /* Rank 0's own threads first, then one per slot of every other rank. */
    slots = calloc((size_t)(jobs + n_remote), sizeof *slots);
    threads = calloc((size_t)(jobs + n_remote), sizeof *threads);
    if (!slots || !threads) {
        hpt_fail(e, "out of memory");
        goto out;
    }
    for (int k = 0; k < jobs; k++) slots[n_slots] = (slot){ .T = &T, .index = n_slots, .rank = 0 }, n_slots++;
    for (int r = 1; o->dist && r < dist_size(o->dist); r++)
        for (int k = 0; k < ranks[r].jobs; k++)
            slots[n_slots] = (slot){ .T = &T, .index = n_slots, .rank = r, .tag = CLUSTER_SLOT_TAG + k }, n_slots++;
    if (!(T.active = calloc((size_t)n_slots, sizeof *T.active))) {
        hpt_fail(e, "out of memory");
        goto out;
    }
    T.n_slots = n_slots;

    const st_entry *te = p->tuner.entry;
    int overwrite = o->overwrite || targs[st_arg_index(te, "overwrite")].u.b;
    tune_project_path(p, path, sizeof path);
    fingerprint(&T);
    store_identity id = { p->spec_hash, p->source, p->file, T.data_fingerprint, T.data_source };
    T.db = store_open(path, &id, overwrite, e);
    if (!T.db) goto out;
    if (store_meta_set(T.db, "hptc_version", o->version ? o->version : "?", e) ||
        store_meta_set(T.db, "backend", o->backend ? o->backend : "blas", e) ||
        store_meta_set(T.db, "tuner", te->name, e) || store_meta_set(T.db, "objective", T.objective, e))
        goto out;
    char objs_text[400];
    objectives_format(&T.objs, objs_text, sizeof objs_text);
    if (store_meta_set(T.db, "objectives", objs_text, e)) goto out;
    record_git(T.db, p->file);

    hpt_value epochs_v;
    ir_eval(p, p->search.args[search_epochs], NULL, &scratch, &epochs_v, why, sizeof why);
    oracle_config oc = { p, te, targs, epochs_v.type == V_INT ? (int)epochs_v.u.i : 1, T.seed, T.maximize };
    T.orc = oracle_new_pareto(&oc, T.objs.pareto ? T.objs.n : 1, T.objs.maximize, e);
    if (!T.orc) goto out;
    T.planned = oracle_planned_trials(T.orc);
    /* The run's --dtype-policy is recorded once the stored trials agree with it. */
    char *was = store_meta_get(T.db, "dtype_policy");
    int replayed = replay(&T, was, e);
    free(was);
    if (replayed || store_meta_set(T.db, "dtype_policy", policy_meta(o->dtype_policy), e)) goto out;
    if (T.failed_in_row >= T.max_failed_in_row) {
        hpt_fail(e, "the stored search ended with %d trials failed in a row (max_consecutive_failed_trials is %d): "
                    "hptc summary %s lists why", T.failed_in_row, T.max_failed_in_row, path);
        goto out;
    }
    if (T.done || T.queue)
        fprintf(o->out, "resuming %s: %ld trials done%s\n", path, T.done, T.queue ? ", continuing the interrupted ones" : "");
    char folds[32] = "";
    if (T.folds) snprintf(folds, sizeof folds, " (mean of %d folds)", T.folds);
    fprintf(o->out, "search %s: %s, objective %s%s, %d job%s", path, te->name, T.objective, folds, o->jobs,
            o->jobs == 1 ? "" : "s");
    if (o->dist) fprintf(o->out, " on rank 0 and %d on %d other rank%s", n_remote, dist_size(o->dist) - 1,
                         dist_size(o->dist) == 2 ? "" : "s");
    fprintf(o->out, "\n");
    fflush(o->out);

    /* The timeline's session: from this process's start (its data loading
     * counts as idle), over every slot of every rank. */
    store_session session = { .slots = n_slots, .ranks = o->dist ? dist_size(o->dist) : 1, .started = T.started };
    if (store_session_begin(T.db, &session, &T.session, e)) goto out;
    blas_set_threads(1);
    int started = 0;
    for (int k = 0; k < n_slots; k++)
        if (pthread_create(&threads[started], NULL, worker, &slots[k]) == 0) started++;
    for (int k = 0; k < started; k++) pthread_join(threads[k], NULL);
    clear_status(&T);
    if (T.has_error) {
        *e = T.error;
        goto out;
    }
    hpt_error pe;
    if (store_prune(T.db, keep_checkpoint, &T, &pe) == 0) store_compact(T.db, &pe);
    store_session_end(T.db, T.session, wall(), &pe);
    if (o->interrupted && *o->interrupted) {
        fprintf(o->out, "\ninterrupted: run the same command again to resume (%ld trials done)\n", T.done);
        rc = 1;
        goto out;
    }
    if (T.completed == 0 && T.done > 0) {
        if (T.done == 1) hpt_fail(e, "no trial completed: the only one failed (hptc summary %s says why)", path);
        else hpt_fail(e, "no trial completed: all %ld failed (hptc summary %s lists each reason)", T.done, path);
        goto out;
    }
    print_summary(&T);
    rc = 0;
out:
    /* Release the other ranks' slots, which wait for a job or this. */
    for (int k = 0; k < n_slots; k++) cluster_release(&slots[k]);
    free(slots);
    free(threads);
    free(ranks);
    free(T.active);
    for (job *j = T.queue, *next; j; j = next) next = j->next, free_job(j);
    for (job *j = T.ready, *next; j; j = next) next = j->next, job_flush(&T, j), free_job(j);
    tuner_free(&T);
    arena_free(&scratch);
    return rc;
}
