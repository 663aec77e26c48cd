/* front.h: the Pareto front of a project searched with objective =
 * Pareto(...) (issue 15, pareto), as summary, best and report show it.
 *
 * The reference point of the hypervolume is, per objective, the worst
 * value any completed trial reached (the lowest of a maximised one, the
 * highest of a minimised one), so a trial at the worst of an objective adds
 * nothing on that axis; it moves as trials come in, and hypervolumes of
 * two projects compare only under one reference (bench/pareto.sh fixes
 * it). */
#ifndef HPTC_CLI_FRONT_H
#define HPTC_CLI_FRONT_H
#include <stdio.h>
#include "runtime/json.h"
#include "runtime/store/store.h"
#include "stdlib/objectives.h"

typedef struct front {
    objective_set set;          /* set.pareto = 0: the project has one objective, nothing else is filled */
    int n;                      /* trials, as store_load_trials gave them */
    double *values;             /* values[i * set.n + k], as stored; NaN for trials without */
    char *on_front;             /* completed and dominated by no other completed trial */
    int n_front;
    double reference[OBJECTIVES_MAX];
    double hypervolume;         /* of the front, under reference */
    double *hypervolume_after;  /* after each trial, in id order, under the final reference */
} front;

/* 0 (f->set.pareto tells whether there is a front), -1 with a message on stderr. */
int front_load(store *s, const store_trial *t, int n, front *f);
void front_free(front *f);
/* Keys "objectives", "front" (trials in id order with their values and
 * hyperparameters), "reference" and "hypervolume", into an open object. */
void front_json(json_writer *w, const front *f, const store_trial *t);
/* The front as lines of text. */
void front_text(FILE *out, const front *f, const store_trial *t);
/* The report's Pareto and hypervolume sections, inline SVG (report_pareto.c). */
void report_pareto_section(FILE *out, const front *f, const store_trial *t);

#endif
