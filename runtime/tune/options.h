/* options.h: what `hptc run` asks of a search (runtime/tune/tuner.h): jobs,
 * output, the interrupt flag, the backend and dtype policy, the MPI world.  A header of its
 * own because the scheduler (tuner.c), one execution's training
 * (execution.c) and the MPI protocol (cluster.c) all read it, and none of
 * them owns it. */
#ifndef HPTC_TUNE_OPTIONS_H
#define HPTC_TUNE_OPTIONS_H
#include <signal.h>
#include <stdio.h>

struct dist;
struct ir_program;

typedef struct tune_options {
    int jobs;                   /* parallel trials (>= 1) */
    int overwrite;              /* start the project afresh */
    /* --warm-start (runtime/tune/warmstart.h): the study this run's new
     * project is seeded from, and its spec as that store keeps it; NULL:
     * no seeding. */
    const char *warm_from;
    const struct ir_program *warm_old;
    int limit;                  /* train on the first N rows only (0: all) */
    int live;                   /* redraw a status line (a terminal) */
    FILE *out;                  /* progress and the final summary */
    volatile sig_atomic_t *interrupted;     /* set by SIGINT: stop after the epoch in flight */
    int jit;                    /* train on the JIT backend (trial_set_backend) */
    const char *backend;        /* recorded in the store */
    int dtype_policy;           /* --dtype-policy, a trial_dtype_policy for every trial; -1: each trial's
                                 * compile(dtype_policy) (runtime/nn/train.h's train_dtype_policy) */
    const char *version;
    struct dist *dist;          /* the MPI world (runtime/tune/dist.h), or NULL: one process */
} tune_options;

#endif
