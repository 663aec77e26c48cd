/* tuner.h: the search — `hptc run`.
 *
 * Drives an oracle (runtime/tune/oracle.h) with N worker threads, each training
 * one trial at a time on one BLAS thread, and records everything in the
 * experiment store (runtime/store/store.h).  Running the same command again
 * resumes: stored trials are replayed through the oracle (so it reaches the
 * same state), finished ones are never redone, and an interrupted trial
 * continues from its last committed epoch.  Results are the same for any
 * number of jobs and after any resume: every trial's seed derives from the
 * tuner's seed and the trial id, and the oracle decides in a fixed order.
 *
 * Under MPI (docs/distributed.md) rank 0 runs tune_run: it owns the oracle and
 * the store, trains with its own --jobs threads, and hands trials to the other
 * ranks' slots too; those ranks run tune_worker, which trains what it is
 * handed and sends every epoch back for rank 0 to commit. */
#ifndef HPTC_TUNER_H
#define HPTC_TUNER_H
#include <stdio.h>
#include "compiler/ir.h"
#include "runtime/err.h"
#include "runtime/store/store.h"
#include "runtime/tune/options.h"

/* Run or resume the search.  Returns 0 when the search is complete, 1 when it
 * was interrupted (resumable), -1 with e filled on an error that stops it
 * (data, store, too many consecutive failed trials). */
int tune_run(const ir_program *p, const tune_options *o, hpt_error *e);
/* The other ranks' side of a distributed search: load the data, report to
 * rank 0, then train the executions rank 0 sends to this rank's o->jobs
 * slots until it says stop.  Never opens the store.  Returns 0, or -1 with e
 * filled (e->message "" when rank 0 already reported the cause). */
int tune_worker(const ir_program *p, const tune_options *o, hpt_error *e);

/* directory/project_name of the spec's tuner, into buf. */
void tune_project_path(const ir_program *p, char *buf, size_t n);
/* The hyperparameters' active values as JSON, {"units": 512, ...}, however
 * many there are: malloc'd, NULL when memory is short. */
char *tune_values_json(const ir_program *p, const hpt_value *values);
/* Does the objective rise (accuracy) rather than fall (loss)? */
int tune_maximize(const char *objective);
/* An epoch's value of the objective: a metric, or Keras Tuner's sum
 * "multi_objective(a,-b)" (objectives_sum_name; issue 15, pareto). */
struct train_epoch;
double tune_metric(const struct train_epoch *m, const char *objective);
/* One execution's (or fold's) score: the best objective over its epoch rows
 * (rows may hold other executions', which are skipped), and that epoch in
 * *epoch when non-NULL; NAN and -1 when none computed it. */
double tune_execution_best(const store_epoch_row *rows, int n, int execution, const char *objective, int maximize,
                           int *epoch);

#endif
