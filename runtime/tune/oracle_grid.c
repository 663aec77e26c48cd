/* oracle_grid.c: GridSearch, as Keras Tuner's GridSearchOracle.
 *
 * Keras Tuner starts from the defaults and then repeatedly takes "the next
 * combination" of a finished trial: scanning the hyperparameters from the
 * last defined to the first, it bumps the first active one that is not at
 * its last value and resets every later one to its default, each running
 * over [default, then its values in order without the default].  Inactive
 * hyperparameters are never bumped, so conditional ones are visited only
 * under parents that activate them.  Run sequentially this is an odometer
 * whose last hyperparameter turns fastest; we produce that order directly
 * (Keras Tuner's parallel variant reaches the same sorted order), so the
 * grid needs no results and never waits.  A Float without step contributes
 * ir_hp_values' ten points.  It stops after max_trials when given. */
#include "compiler/space.h"
#include "runtime/tune/oracle_impl.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct grid_state {
    orc_odometer odo;
    long max_trials;    /* -1: the whole grid */
    long size;          /* grid points, -1 when too many to count */
    int finished;
    long proposed;      /* points proposed so far */
} grid_state;

static oracle_status grid_next(oracle *o, oracle_request *out)
{
    grid_state *s = o->state;
    if (s->finished || (s->max_trials >= 0 && o->n_trials >= s->max_trials)) return ORACLE_DONE;
    /* Its own points only: trials added by warm start (oracle_add_trial) do not turn the odometer. */
    if (s->proposed > 0 && !orc_odo_next(&s->odo)) {
        s->finished = 1;
        return ORACLE_DONE;
    }
    if (orc_propose(o, s->odo.cur, o->default_epochs, 0, -1, -1, -1, out)) return ORACLE_DONE;
    s->proposed++;
    return ORACLE_TRIAL;
}

static long grid_planned(const oracle *o)
{
    const grid_state *s = o->state;
    if (s->size < 0) return s->max_trials;
    return s->max_trials >= 0 && s->max_trials < s->size ? s->max_trials : s->size;
}

static void grid_describe(const oracle *o, char *buf, size_t n)
{
    long planned = grid_planned(o);
    if (planned < 0) snprintf(buf, n, "grid search: %d points proposed, %d done", o->n_trials, o->n_reported);
    else snprintf(buf, n, "grid search: %d of %ld points proposed, %d done", o->n_trials, planned, o->n_reported);
}

static void grid_free(void *state)
{
    grid_state *s = state;
    if (s) orc_odo_free(&s->odo);
    free(s);
}

static const orc_ops grid_ops = {
    .next = grid_next, .planned = grid_planned, .describe = grid_describe, .free_state = grid_free,
};

int orc_grid_init(oracle *o, const oracle_config *cfg, hpt_error *e)
{
    grid_state *s = calloc(1, sizeof *s);
    if (!s) return hpt_fail(e, "out of memory");
    o->state = s, o->ops = &grid_ops;
    s->max_trials = orc_arg_int(cfg, GridSearch_max_trials, -1);
    if (orc_odo_init(&s->odo, o->p, 1, 0)) return hpt_fail(e, "out of memory");
    s->size = orc_space_size(o->p, 1, 10000000);
    return 0;
}

/* Every grid point, or max_trials of them, each trained search(epochs) epochs. */
void orc_grid_plan(const oracle_config *cfg, FILE *out)
{
    const hpt_value *max_v = &cfg->args[GridSearch_max_trials];
    long max = max_v->type == V_INT ? (long)max_v->u.i : -1, epochs = cfg->default_epochs;
    double size = space_size(cfg->p);
    if (size < 0) fprintf(out, "  every grid point (a Float without step gives 10 values)");
    else fprintf(out, "  %.0f grid point%s", size, size == 1 ? "" : "s");
    if (max > 0) fprintf(out, ", at most %ld trials", max);
    fprintf(out, ", %ld epoch%s each\n", epochs, epochs == 1 ? "" : "s");
}
