/* oracle.c: oracle.h's API, dispatched to each tuner's oracle.
 *
 * One row per tuner binds the catalogue's tuner to its oracle's
 * constructor, which fills in the ops table every later call goes through.
 * The oracles themselves (oracle_random.c, oracle_grid.c, ...) build on
 * oracle_common.c, never on this file, so the includes form no circle. */
#include "runtime/tune/oracle_impl.h"

#include <math.h>
#include <stdlib.h>

typedef struct oracle_kind {
    int tuner;                  /* ST_RandomSearch, ... */
    int (*init)(oracle *o, const oracle_config *cfg, hpt_error *e);
    void (*plan)(const oracle_config *cfg, FILE *out);     /* for hptc space */
} oracle_kind;

static const oracle_kind kinds[] = {
    { ST_RandomSearch, orc_random_init, orc_random_plan },
    { ST_GridSearch, orc_grid_init, orc_grid_plan },
    { ST_Hyperband, orc_hyperband_init, orc_hyperband_plan },
    { ST_BOHB, orc_bohb_init, orc_bohb_plan },
    { ST_BayesianOptimization, orc_bayes_init, orc_bayes_plan },
    { ST_TPE, orc_tpe_init, orc_tpe_plan },
    { ST_ASHA, orc_asha_init, orc_asha_plan },
};

static const oracle_kind *kind_of(const st_entry *tuner)
{
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        if (kinds[k].tuner == tuner->id) return &kinds[k];
    return NULL;
}

/* ---- the public API ------------------------------------------------------ */

oracle *oracle_new(const oracle_config *cfg, hpt_error *e)
{
    if (!cfg || !cfg->p) return hpt_fail(e, "internal error: an oracle needs a program"), NULL;
    const st_entry *t = cfg->tuner;
    if (!t || t->kind != ST_TUNER) {
        hpt_fail(e, "'%s' is not a tuner; use RandomSearch, GridSearch, Hyperband, BayesianOptimization, TPE, BOHB or ASHA",
                 t ? t->name : "(none)");
        return NULL;
    }
    oracle *o = calloc(1, sizeof *o);
    if (!o) return hpt_fail(e, "out of memory"), NULL;
    o->p = cfg->p, o->tuner = t, o->seed = cfg->seed, o->maximize = cfg->maximize;
    o->default_epochs = cfg->default_epochs > 0 ? cfg->default_epochs : 1;
    const oracle_kind *kind = kind_of(t);
    int rc = kind ? kind->init(o, cfg, e) : hpt_fail(e, "hptc has no oracle for the tuner '%s'", t->name);
    if (rc) {
        oracle_free(o);
        return NULL;
    }
    return o;
}

void oracle_free(oracle *o)
{
    if (!o) return;
    if (o->ops && o->ops->free_state) o->ops->free_state(o->state);
    else free(o->state);
    for (int k = 0; k < o->n_trials; k++) free(o->trials[k].values);
    free(o->trials);
    free(o->hash);
    free(o);
}

oracle_status oracle_next(oracle *o, oracle_request *out)
{
    return o->ops->next(o, out);
}

void oracle_report(oracle *o, int trial, double score, int failed)
{
    if (trial < 0 || trial >= o->n_trials || o->trials[trial].reported) return;
    orc_trial *t = &o->trials[trial];
    t->reported = 1;
    t->failed = failed || isnan(score);
    t->score = score;
    t->loss = t->failed ? NAN : o->maximize ? -score : score;
    o->n_reported++;
    if (o->ops->reported) o->ops->reported(o, trial);
}

int oracle_add_trial(oracle *o, const hpt_value *values, int epochs, double score, int failed, oracle_request *out)
{
    if (orc_propose(o, values, epochs, 0, -1, -1, -1, out)) return -1;
    oracle_report(o, out->trial, score, failed);
    return out->trial;
}

int oracle_may_promote(const oracle *o, int trial)
{
    if (trial < 0 || trial >= o->n_trials || !o->ops->may_promote) return 0;
    return o->ops->may_promote(o, trial);
}

long oracle_planned_trials(const oracle *o) { return o->ops->planned(o); }

void oracle_describe(const oracle *o, char *buf, size_t n)
{
    if (n) o->ops->describe(o, buf, n);
}

void oracle_print_plan(const oracle_config *cfg, FILE *out)
{
    const st_entry *t = cfg->tuner;
    fprintf(out, "tuner %s, objective %s\n", t->name, cfg->args[st_arg_index(t, "objective")].u.s);
    const oracle_kind *kind = kind_of(t);
    if (kind) kind->plan(cfg, out);
    hpt_value exec = cfg->args[st_arg_index(t, "executions_per_trial")];
    if (exec.u.i > 1) fprintf(out, "  each trial trains %lld times; its score is the mean\n", (long long)exec.u.i);
}
