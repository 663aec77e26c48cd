/* oracle.h: the tuners' decision makers, as Keras Tuner's Oracle classes.
 *
 * An oracle proposes trials (hyperparameter values, epochs, and for
 * Hyperband a parent to continue from) and is told their scores.  The
 * scheduler (runtime/tune/tuner.c) asks for the next trial whenever a worker is
 * free; the oracle may answer WAIT when the trial it would propose depends
 * on results not in yet.
 *
 * Determinism: the same seed and the same sequence of reported results give
 * the same proposals, whatever --jobs is and after a resume (which replays
 * the stored trials through oracle_next/oracle_report).  So a proposal for
 * trial k may use only results of trials < k - ORACLE_LAG + 1 (model-based
 * oracles), or results of completed Hyperband rounds (a barrier), or (ASHA)
 * results of the trials that end by then on a virtual clock counted in epochs,
 * never "whatever happens to be finished"; random draws are keyed by (seed, trial id). */
#ifndef HPTC_ORACLE_H
#define HPTC_ORACLE_H
#include <stdint.h>
#include <stdio.h>
#include "compiler/ir.h"
#include "runtime/err.h"

/* Model-based oracles (BayesianOptimization, TPE) use the results of trials
 * 0 .. k - ORACLE_LAG when proposing trial k: up to ORACLE_LAG trials can run
 * at once, with results independent of --jobs. */
#define ORACLE_LAG 4

typedef enum { ORACLE_TRIAL, ORACLE_WAIT, ORACLE_DONE } oracle_status;

typedef struct oracle_request {
    int trial;                  /* id, assigned in order 0, 1, 2, ... */
    const hpt_value *values;    /* p->n_hps values, inactive ones V_NONE; owned by the oracle */
    int epochs;                 /* train until this many epochs in total */
    int initial_epoch;          /* > 0: continue from parent's best checkpoint (Hyperband promotion) */
    int parent;                 /* trial id, or -1 */
    int bracket, round;         /* Hyperband / BOHB, else -1 */
} oracle_request;

typedef struct oracle_config {
    const ir_program *p;
    const st_entry *tuner;      /* ST_RandomSearch, ST_GridSearch, ST_Hyperband, ST_BayesianOptimization, ST_TPE, ST_BOHB, ST_ASHA */
    const hpt_value *args;      /* the tuner's evaluated arguments, catalogue positions */
    int default_epochs;         /* search(epochs), for the tuners that do not set epochs */
    uint64_t seed;
    int maximize;               /* the objective rises (accuracy) rather than falls (loss) */
} oracle_config;

typedef struct oracle oracle;

oracle *oracle_new(const oracle_config *cfg, hpt_error *e);
void oracle_free(oracle *o);
/* The next trial, WAIT (a running trial's result is needed first) or DONE. */
oracle_status oracle_next(oracle *o, oracle_request *out);
/* A trial's score: the objective at its best epoch (mean over executions);
 * failed = 1 when it failed for good (then score is ignored). */
void oracle_report(oracle *o, int trial, double score, int failed);
/* Warm start (runtime/tune/warmstart.h), as Optuna's add_trial: record a
 * finished trial the oracle did not propose (values, inactive V_NONE; the
 * epochs it trained) with its result, before any oracle_next.  It takes the
 * next id and counts as any trial: against max_trials, as an observation of
 * the model-based oracles, among the configurations tried (which
 * RandomSearch, BayesianOptimization and Hyperband's round 0 never propose
 * again); it belongs to no Hyperband bracket (never promoted).  Fills out as if the
 * oracle had proposed it; returns its id, -1 when memory is short. */
int oracle_add_trial(oracle *o, const hpt_value *values, int epochs, double score, int failed, oracle_request *out);
/* May the best checkpoint of this (finished) trial still be needed, because
 * a Hyperband round could promote it?  The store prunes the rest. */
int oracle_may_promote(const oracle *o, int trial);
/* How many trials the oracle will propose in all, when known up front (-1 otherwise). */
long oracle_planned_trials(const oracle *o);
/* One line on where the search stands ("bracket 2, round 1: 3 of 4 done"). */
void oracle_describe(const oracle *o, char *buf, size_t n);

/* The plan `hptc space` prints, from the configuration alone (no oracle is
 * made): the tuner and its objective, then what its oracle will run (how
 * many trials of how many epochs; Hyperband's and BOHB's brackets), then the
 * executions per trial when more than one.  cfg->args are the tuner's
 * evaluated arguments, cfg->default_epochs search(epochs); seed and
 * maximize are not read. */
void oracle_print_plan(const oracle_config *cfg, FILE *out);

#endif
