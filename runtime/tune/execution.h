/* execution.h: one search's state on one rank, and training one execution
 * of a trial (runtime/tune/execution.c), shared by the scheduler
 * (runtime/tune/tuner.c) and the MPI protocol (runtime/tune/cluster.c).
 *
 * A tuner is one search on one rank: on rank 0 it owns the oracle, the store
 * and the slots; on the other ranks only the data, the spec's settings and
 * the slots it serves.  Nothing here is visible outside runtime/tune/. */
#ifndef HPTC_EXECUTION_H
#define HPTC_EXECUTION_H
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include "compiler/ir.h"
#include "runtime/data/source.h"
#include "runtime/store/store.h"
#include "runtime/tune/dist.h"
#include "runtime/tune/oracle.h"
#include "runtime/tune/options.h"
#include "stdlib/objectives.h"

/* One trial the scheduler runs: what the oracle asked for, and its output. */
typedef struct job {
    int trial, parent, epochs, initial_epoch, bracket, round;
    hpt_value *values;
    int resume;                 /* the store has a row for it already */
    int policy;                 /* the trial_dtype_policy it trains under, resolved once on rank 0 */
    int epoch_now;              /* epochs done, for the status line */
    FILE *log;                  /* its lines, while trials train side by side (job_out) */
    char *log_text;
    size_t log_len;
    struct job *next;           /* in the resumed queue, then in the ready list */
    /* Its work items (tuner.c's scheduler): execution (or fold) x of the
     * current attempt, handed out in order to whichever slot is free. */
    int retry;                  /* the attempt: 0, then one more per retry */
    int next_item;              /* the next x to hand out */
    int items_out;              /* handed out and not back */
    int failed_item;            /* the lowest x that failed in this attempt, or -1 */
    int reason_item;            /* the highest x whose (early stop) reason is in attempt_reason, or -1 */
    int stopped;                /* an item was interrupted: the trial resumes next time */
    char reason[sizeof(hpt_error)];         /* the trial's reason, as a sequential run leaves it */
    char attempt_reason[sizeof(hpt_error)];
} job;

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
    job *ready;                 /* trials in progress with items left to hand out, by id */
    int session;                /* this process's row in the store's sessions (issue 15 "busy") */
    job **active;               /* the trial each slot trains, or NULL (n_slots entries) */
    int n_slots;
    int running, failed_in_row, oracle_done, stop;
    long planned, done, completed;
    char data_fingerprint[160], data_source[700];
    char objective[64];
    int maximize;
    objective_set objs;         /* issue 15, pareto: every objective; objective/maximize are its primary metric */
    double best_score;
    int best_trial;
    int executions, max_retries, max_failed_in_row;
    int runs;                   /* trainings per trial: executions x folds */
    uint64_t seed;
    hpt_error error;
    int has_error;
    double started;
} tuner;

/* A place a trial trains: one of rank 0's threads (rank 0), or one slot of
 * another rank, driven by a thread on rank 0 (and served by one there). */
typedef struct slot {
    tuner *T;
    int index;                  /* in T->active */
    int rank, tag;
    dist_buf bufs[DIST_MAX_BLOBS];
} slot;

/* Where an execution starts, as read from the store on rank 0: a resumed one
 * from its last checkpoint (weights, optimizer, state, at epoch `epoch`) and
 * best weights, a Hyperband promotion from its parent's best weights (in w),
 * anything else from scratch (all empty).  On another rank the same blobs
 * arrive in a job message.  Blobs are checked against the model once it is
 * expanded (runtime/tune/checkpoint.h). */
typedef struct exec_start {
    store_blob w, opt, state, best;
    int resume, from_parent, epoch;
} exec_start;

/* How an execution ends (tuner_train_execution, run_execution). */
enum {
    EXEC_DONE = 0,              /* ran (or had already run) to its end */
    EXEC_STOPPED = 1,           /* stopped by ^C or a search-wide error: resumable */
    EXEC_FAILED = -1,           /* failed; the reason says why */
    EXEC_DAMAGED = -2,          /* its checkpoint is damaged: train it again from its start */
};

/* Where an epoch goes once trained: rank 0 commits it to the store
 * (tuner.c); another rank sends it to rank 0 (cluster.c).  Returns
 * non-zero to stop training after this epoch. */
typedef int (*commit_fn)(void *user, job *j, const store_epoch_row *row, store_blob weights,
                         store_blob optimizer, store_blob state, int improved);

/* --jobs, within what a rank runs (1 to 64 threads). */
static inline int tuner_clamp_jobs(int jobs) { return jobs < 1 ? 1 : jobs > 64 ? 64 : jobs; }

/* CRC-32 of the samples and labels a search trains and validates on. */
uint32_t tuner_data_crc(const tuner *T);
/* Is score a better than b for the objective?  A number beats NaN. */
int tuner_better(const tuner *T, double a, double b);
/* A trial's score from its epoch rows: the mean over its executions (and
 * folds) of each one's best objective, and the best one's epoch in
 * *best_epoch (-1 when none); NAN when none computed the objective. */
double tuner_score_rows(const tuner *T, const store_epoch_row *rows, int n, int *best_epoch);
/* Train one execution from st, handing each epoch to commit(user, ...).
 * Returns EXEC_DONE, EXEC_STOPPED (by commit), or EXEC_FAILED /
 * EXEC_DAMAGED with the reason set.  The same code trains on every rank. */
int tuner_train_execution(tuner *T, job *j, int execution, int retry, const exec_start *st, commit_fn commit,
                          void *user, char *reason, size_t reason_len);

#endif
