/* store.h: the experiment store — one SQLite database per project
 * (directory/project_name/hptc.db, WAL mode).
 *
 * It holds the spec (text, hash, git commit and whether the work tree was
 * modified), hptc's version, backend and --dtype-policy, the fingerprint of
 * the data the search trains on, every trial (hyperparameters as JSON,
 * status, reason, seed, timings, bracket/round, parent, the data it saw, the
 * dtype policy it trained under), every epoch's
 * metrics, and checkpoints: each running trial's last epoch (weights,
 * optimizer state, training state: enough to resume bit for bit) and each
 * trial's best epoch (weights, for Hyperband promotions and export), each
 * with a CRC-32 that loading verifies.  Every epoch is committed in one
 * transaction with its checkpoint, so a kill at any moment loses at most the
 * epoch in flight.  Last checkpoints are deleted when a trial ends; best ones
 * are pruned once nothing can need them (store_prune).
 *
 * One writer per project: store_open takes an exclusive lock on
 * path/hptc.lock (an open-file-description lock, which the kernel releases
 * when the holder dies, however it dies) and keeps it until store_close; a
 * second writer is refused with the holder's pid, host and start time.
 * Readers take no lock and may read while the writer commits.
 *
 * A store is used from one thread at a time; the scheduler serialises. */
#ifndef HPTC_STORE_H
#define HPTC_STORE_H
#include <stddef.h>
#include <stdint.h>
#include "runtime/err.h"

typedef struct store store;

typedef struct store_trial {
    int id;
    char status[16];        /* "running", "completed", "failed" */
    char *hps_json;         /* {"units": 512, "learning_rate": 0.001} */
    char *data;             /* fingerprint of the data it trained on ("" in stores older than schema 2) */
    char dtype_policy[16];  /* "float32" or "mixed_bfloat16" ("float32" in stores older than schema 3); "" writes float32 */
    uint64_t seed;
    int parent, bracket, round, epochs, initial_epoch;
    double score;           /* NAN until completed */
    int best_epoch;
    char *reason;           /* why it failed or stopped early; may be "" */
    double started, finished;   /* unix seconds */
    char *reused_from;      /* "" unless warm start copied it: "DIR/PROJECT trial 7" (docs/results.md) */
} store_trial;

typedef struct store_epoch_row {
    int trial, execution, epoch;
    double loss, accuracy, val_loss, val_accuracy, seconds;
    char metrics[512];      /* the other metrics, a JSON object ("{}" or "" when none; kept as text) */
} store_epoch_row;

/* A checkpoint: raw bytes of the weights, optimizer state and training state. */
typedef struct store_blob { const void *data; size_t size; } store_blob;

/* What a search is: its spec and the data it trains on. */
typedef struct store_identity {
    uint64_t spec_hash;
    const char *spec, *spec_file;
    const char *data_fingerprint;   /* compared on every open; NULL: none recorded (benchmarks) */
    const char *data_source;        /* for messages: "48000 + 12000 rows of FILE" */
} store_identity;

/* Open or create path/hptc.db (path is directory/project_name, created as
 * needed) for writing, holding the project's lock until store_close.  An
 * existing store of another spec or other data is refused unless overwrite,
 * which starts it afresh; a project another process holds is refused in any
 * case, overwrite included. */
store *store_open(const char *path, const store_identity *id, int overwrite, hpt_error *e);
/* Open an existing store read-only (summary, best, export, report); works
 * while a search is writing to it, and on read-only media (a finished store
 * needs no write access at all). */
store *store_open_readonly(const char *path, hpt_error *e);
void store_close(store *s);

int store_meta_set(store *s, const char *key, const char *value, hpt_error *e);
/* malloc'd value, or NULL when absent. */
char *store_meta_get(store *s, const char *key);

/* Insert a trial row as "running" (kept as it is when it already exists). */
int store_trial_begin(store *s, const store_trial *t, hpt_error *e);
/* Record one epoch and its checkpoint in one transaction: the metrics row, the
 * trial's last checkpoint (weights, optimizer, state) and, when best_weights is
 * non-NULL, its best checkpoint. */
int store_epoch(store *s, const store_epoch_row *row, store_blob weights, store_blob optimizer, store_blob state,
                const store_blob *best_weights, hpt_error *e);
/* Close a trial: status, score, best epoch, reason; drops its last checkpoints. */
int store_trial_end(store *s, int trial, const char *status, double score, int best_epoch, const char *reason,
                    hpt_error *e);
/* Drop a trial's epochs and checkpoints: of every execution (execution < 0:
 * a retry starts over) or of one (its checkpoint was damaged). */
int store_trial_reset(store *s, int trial, int execution, hpt_error *e);

/* Warm start (issue 15): copy a finished trial of another store into this
 * one, in one transaction: its row (t, with t->reused_from saying whence),
 * its epoch rows (their trial field is ignored: t->id is used) and the best
 * checkpoints it still has (weights only; best[i] of execution
 * best_execution[i], at epoch best_epoch[i]).  Rows of the same ids are
 * replaced: copying the same trial again writes the same rows. */
int store_trial_import(store *s, const store_trial *t, const store_epoch_row *rows, int n_rows, const store_blob *best,
                       const int *best_execution, const int *best_epoch, int n_best, hpt_error *e);

/* Every trial in id order; free with store_free_trials. */
int store_load_trials(store *s, store_trial **out, int *n, hpt_error *e);
void store_free_trials(store_trial *t, int n);
/* The ranking every listing uses: the indices into t of the completed trials
 * with a score, best first (the highest when maximize, else the lowest), ties
 * in t's order (store_load_trials': by id).  malloc'd; *m is the count.  NULL
 * (and *m 0) when memory is short. */
int *store_rank_trials(const store_trial *t, int n, int maximize, int *m);
/* Every epoch row of a trial (or of all trials when trial < 0), in order. */
int store_load_epochs(store *s, int trial, store_epoch_row **out, int *n, hpt_error *e);

/* Load a checkpoint of kind "last" or "best" into malloc'd blobs (optimizer
 * and state may be NULL for "best").  Returns 1 when found, 0 when absent,
 * -1 with e filled when it is damaged (its CRC-32 does not match: nothing is
 * returned then).  The blobs' sizes and contents are the caller's to check
 * against the model (runtime/tune/checkpoint.h). */
int store_load_checkpoint(store *s, int trial, int execution, const char *kind, void **weights, size_t *weights_size,
                          void **optimizer, size_t *optimizer_size, void **state, size_t *state_size, int *epoch,
                          hpt_error *e);
/* Delete the best checkpoints of the trials not running for which keep(user, id) is 0. */
int store_prune(store *s, int (*keep)(void *user, int trial), void *user, hpt_error *e);
/* Give the pages of deleted checkpoints back to the file system (stores
 * created by this version; older ones keep their size) and fold the WAL in. */
int store_compact(store *s, hpt_error *e);
/* Bytes of checkpoints held, for the summary. */
long long store_checkpoint_bytes(store *s);

/* Issue 15, pareto: a trial's value of every objective of the search
 * (objectives.h's order), written before store_trial_end so a completed
 * trial always has its vector. */
int store_objectives_set(store *s, int trial, const double *values, int n, hpt_error *e);
/* values[t * n_objectives + k] for trials 0 .. n_trials-1; NaN where none is stored. */
int store_objectives_load(store *s, int n_objectives, int n_trials, double *values, hpt_error *e);
/* ---- the timeline: when the work ran (timing, never results) -------------
 * A session is one `hptc run` process: its start, its last record, its
 * slots over all ranks.  A work item is one execution (or fold) of a trial
 * as one slot ran it. */
typedef struct store_session {
    int id, slots, ranks;
    double started, finished;   /* unix seconds */
} store_session;

typedef struct store_work {
    int session, trial, execution, retry, rank, slot;
    double started, finished;   /* finished NAN while running, or when its session was killed */
} store_work;

/* A new session (row->started, slots, ranks); its id in *id. */
int store_session_begin(store *s, const store_session *row, int *id, hpt_error *e);
/* Move the session's end to finished (never back). */
int store_session_end(store *s, int session, double finished, hpt_error *e);
/* A work item starts (finished is not read); its row id in *id. */
int store_work_begin(store *s, const store_work *w, long long *id, hpt_error *e);
/* It ends, and with it, for now, its session. */
int store_work_end(store *s, long long id, int session, double finished, hpt_error *e);
/* Every session (by id) and work item (by start); malloc'd, none in a store
 * from before the timeline.  0, or -1 with e filled. */
int store_load_timeline(store *s, store_session **sessions, int *n_sessions, store_work **work, int *n_work,
                        hpt_error *e);
/* A work item's end: its own, or (still open) its session's last record. */
double store_work_end_time(const store_work *w, const store_session *sessions, int n_sessions);
/* Core utilisation: busy core-seconds (the work items' durations) over the
 * capacity (each session's slots x its wall time), in [0, 1]; NAN when no
 * session was recorded.  The sums go to busy and capacity when non-NULL. */
double store_utilisation(const store_session *sessions, int n_sessions, const store_work *work, int n_work,
                         double *busy, double *capacity);

#endif
