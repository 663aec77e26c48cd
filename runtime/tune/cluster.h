/* cluster.h: the MPI protocol of a distributed `hptc run`
 * (docs/distributed.md), between rank 0's scheduler (runtime/tune/tuner.c)
 * and the other ranks.
 *
 * Its messages, on top of runtime/tune/dist.h's transport: every rank checks
 * in once its data is loaded (cluster_check_in); then rank 0 hands one
 * execution at a time to a slot of another rank (cluster_execution), which
 * trains it and sends every epoch back to be committed before it trains the
 * next; cluster_release ends a slot.  On the other ranks tune_worker
 * (tuner.h) runs a cluster_serve thread per slot. */
#ifndef HPTC_CLUSTER_H
#define HPTC_CLUSTER_H
#include <stdint.h>
#include "runtime/tune/execution.h"

#define CLUSTER_SLOT_TAG 100    /* a rank's slot k talks to rank 0 under tag CLUSTER_SLOT_TAG + k */

/* What each rank reports after loading the data, for rank 0 to check. */
typedef struct cluster_checkin {
    int ok, jobs, n_train, n_val;
    uint32_t data_crc;
    char source[256];
    char message[sizeof(hpt_error)];
} cluster_checkin;

/* Every rank: report setup's outcome (setup_rc, and the cause in *e) to rank
 * 0, which checks that all ranks started and loaded the same data, and hear
 * its verdict.  Rank 0's `all` receives the reports (dist_size entries).
 * Returns -1 when any rank failed: on rank 0 e names the rank and the cause;
 * elsewhere e->message is "" (rank 0 reports). */
int cluster_check_in(tuner *T, int setup_rc, cluster_checkin *all, hpt_error *e);
/* Rank 0: train one execution on another rank's slot s, handing each epoch
 * it sends back to commit(user, ...) before the rank may train the next.
 * Returns as tuner_train_execution; a broken link stops the search with an
 * error (the trial stays resumable). */
int cluster_execution(slot *s, job *j, int execution, int retry, const exec_start *st, commit_fn commit, void *user,
                      char *reason, size_t reason_len);
/* Another rank: the thread serving one slot (arg: its slot), training the
 * executions rank 0 sends until rank 0 releases it.  Returns NULL. */
void *cluster_serve(void *arg);
/* Rank 0, at the end: release slot s (another rank's slot waits for a job
 * or this) and free its buffers. */
void cluster_release(slot *s);

#endif
