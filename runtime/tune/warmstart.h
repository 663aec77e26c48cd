/* warmstart.h: a changed spec reuses what still holds (issue 15) — the
 * matching behind `hptc diff` and the seeding behind `hptc run --warm-start`
 * (docs/results.md, "A changed spec").
 *
 * A stored trial of an old spec holds for a new spec when it completed, its
 * values are values of the new spec (each admitted by the new domain; a
 * hyperparameter the new spec adds takes its default, one it drops is
 * dropped, the inactive ones are cleared) and the trial the new spec would
 * run under them has the same key (compiler/trial_key.h) as the stored one:
 * the same layers with the same evaluated arguments, compile, search and
 * executions.  Such a trial's epochs and score are what the new spec would
 * produce, so a warm-started study copies them instead of training.
 *
 * The new study is a project of its own beside the old one (the old one is
 * only read): its reusable trials are copied in the old trials' order as
 * trials 0, 1, ... with their epochs, score, seed and remaining best
 * checkpoints, each marked reused_from "DIR/PROJECT trial N"; then the
 * search goes on as a resume would, the oracle told each copied trial with
 * oracle_add_trial (replay), so the first results of the new study come
 * from the store.  The same old store, new spec and seed give the same new
 * table, for any --jobs. */
#ifndef HPTC_WARMSTART_H
#define HPTC_WARMSTART_H
#include <stdio.h>
#include "compiler/ir.h"
#include "runtime/err.h"
#include "runtime/store/store.h"
#include "runtime/tune/oracle.h"

struct tuner;

/* Does stored trial t of old_p hold for p?  1 yes, with its values under p
 * in values (p->n_hps slots; strings in a); 0 no, with the reason in why
 * ("units = 600 is not a value of the new spec's units", "the trial would
 * differ: ..."); -1 when memory is short.  dtype_override is the run's
 * --dtype-policy (-1: each trial's compile(dtype_policy)): a trial that
 * trained under another policy than the run would give it does not hold. */
int warm_start_match(const ir_program *old_p, const ir_program *p, const store_trial *t, int dtype_override, arena *a,
                     hpt_value *values, char *why, size_t why_len);

/* The run's side (runtime/tune/tuner.c's replay, at the start): when the
 * run warm-starts (o->warm_from) and its store has not been seeded yet, copy
 * the reusable trials of the study at o->warm_from into it and say so on
 * T->o->out.  0, or -1 with e filled (the old study cannot be read, or was
 * searched on other data). */
int warm_start_seed(struct tuner *T, hpt_error *e);
/* Replay of a copied trial (row->reused_from set): add it to the oracle
 * (oracle_add_trial) and fill r as if the oracle had proposed it.
 * ORACLE_TRIAL, or ORACLE_DONE when its values are not p's. */
oracle_status warm_start_replay(oracle *o, const ir_program *p, const store_trial *row, oracle_request *r);

#endif
