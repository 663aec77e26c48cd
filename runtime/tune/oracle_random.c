/* oracle_random.c: RandomSearch, as Keras Tuner's RandomSearchOracle.
 *
 * Trial k draws its configuration from the stream (seed, k, ORC_SAMPLE),
 * redrawing on a collision with any earlier trial (active values compared),
 * so no configuration repeats.  The search ends after max_trials, or when
 * the space is exhausted: after ORC_MAX_COLLISIONS collisions a small
 * finite space is enumerated and an untried configuration picked from it,
 * and an exhausted one (or a large one that keeps colliding, as Keras
 * Tuner's max_collisions) ends the search. */
#include "runtime/tune/oracle_impl.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct random_state {
    long max_trials;
    long space;         /* distinct configurations, -1 unknown or infinite */
    int exhausted;
} random_state;

static oracle_status random_next(oracle *o, oracle_request *out)
{
    random_state *s = o->state;
    if (s->exhausted || o->n_trials >= s->max_trials) return ORACLE_DONE;
    hpt_value *values = malloc(sizeof *values * ((size_t)o->p->n_hps + 1));
    if (!values) return ORACLE_DONE;
    rng r = orc_stream(o, o->n_trials, ORC_SAMPLE);
    oracle_status st = ORACLE_DONE;
    if (orc_sample_new(o, &r, values)) s->exhausted = 1;
    else if (orc_propose(o, values, o->default_epochs, 0, -1, -1, -1, out) == 0) st = ORACLE_TRIAL;
    free(values);
    return st;
}

static long random_planned(const oracle *o)
{
    const random_state *s = o->state;
    return s->space >= 0 && s->space < s->max_trials ? s->space : s->max_trials;
}

static void random_describe(const oracle *o, char *buf, size_t n)
{
    snprintf(buf, n, "random search: %d of %ld trials proposed, %d done", o->n_trials, random_planned(o),
             o->n_reported);
}

static const orc_ops random_ops = {
    .next = random_next, .planned = random_planned, .describe = random_describe,
};

int orc_random_init(oracle *o, const oracle_config *cfg, hpt_error *e)
{
    random_state *s = calloc(1, sizeof *s);
    if (!s) return hpt_fail(e, "out of memory");
    s->max_trials = orc_arg_int(cfg, RandomSearch_max_trials, 10);
    s->space = orc_space_size(o->p, 0, 1000000);
    o->state = s, o->ops = &random_ops;
    return 0;
}

void orc_random_plan(const oracle_config *cfg, FILE *out) { orc_plan_trials(cfg, RandomSearch_max_trials, out); }
