/* oracle.c: oracle.h's API, dispatched to each tuner's oracle.
 *
 * One row per tuner binds the catalogue's tuner to its oracle's
 * constructor, which fills in the ops table every later call goes through.
 * The oracles themselves (oracle_random.c, oracle_grid.c, ...) build on
 * oracle_common.c, never on this file, so the includes form no circle. */
#include "runtime/tune/oracle_impl.h"

#include <math.h>
#include <stdlib.h>
#include "runtime/nn/metrics.h"
#include "stdlib/objectives.h"

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
    { ST_NSGAII, orc_nsga2_init, orc_nsga2_plan },
    { ST_ASHA, orc_asha_init, orc_asha_plan },
};

static const oracle_kind *kind_of(const st_entry *tuner)
{
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        if (kinds[k].tuner == tuner->id) return &kinds[k];
    return NULL;
}

/* ---- the public API ------------------------------------------------------ */

oracle *oracle_new(const oracle_config *cfg, hpt_error *e) { return oracle_new_pareto(cfg, 1, NULL, e); }

oracle *oracle_new_pareto(const oracle_config *cfg, int n_objectives, const int *maximize, hpt_error *e)
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
    o->n_objectives = n_objectives > 1 ? n_objectives : 1;
    if (o->n_objectives > 4) return free(o), hpt_fail(e, "at most 4 objectives"), NULL;
    for (int k = 0; k < o->n_objectives; k++) o->objective_maximize[k] = n_objectives > 1 ? maximize[k] : cfg->maximize;
    const oracle_kind *kind = kind_of(t);
    int rc = kind ? kind->init(o, cfg, e) : hpt_fail(e, "hptc has no oracle for the tuner '%s'", t->name);
    /* Issue 15, pareto: TPE under a Pareto objective is Optuna's multi-objective TPE. */
    if (rc == 0 && t->id == ST_TPE && o->n_objectives > 1) {
        free(o->state), o->state = NULL;
        rc = orc_motpe_init(o, cfg, e);
    }
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
    /* Under a Pareto objective a trial without its vector (one a warm start
     * copied from a study that kept none) informs no proposal. */
    t->failed = failed || isnan(score) || (o->n_objectives > 1 && !t->has_obj);
    t->score = score;
    t->loss = t->failed ? NAN : o->maximize ? -score : score;
    if (o->n_objectives == 1) t->obj[0] = t->loss;
    if (t->failed)
        for (int k = 0; k < o->n_objectives; k++) t->obj[k] = NAN;
    o->n_reported++;
    if (o->ops->reported) o->ops->reported(o, trial);
}

void oracle_report_objectives(oracle *o, int trial, const double *values)
{
    if (trial < 0 || trial >= o->n_trials || o->trials[trial].reported || o->n_objectives == 1) return;
    for (int k = 0; k < o->n_objectives; k++)
        o->trials[trial].obj[k] = o->objective_maximize[k] ? -values[k] : values[k];
    o->trials[trial].has_obj = 1;
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
    hpt_value obj = cfg->args[st_arg_index(t, "objective")];
    objective_set set;
    char why[200], text[300];
    if (objectives_from_value(obj, &set, why, sizeof why) == 0) {
        for (int k = 0; k < set.n; k++)
            if (set.maximize[k] < 0) set.maximize[k] = set.kind[k] == OBJ_METRIC && metric_maximize(set.name[k]);
        objectives_format(&set, text, sizeof text);
    } else {
        snprintf(text, sizeof text, "%s", obj.type == V_STRING ? obj.u.s : "?");
    }
    fprintf(out, "tuner %s, objective %s%s%s\n", t->name, set.pareto ? "Pareto front of " : "",
            obj.type == V_STRING ? obj.u.s : text, set.pareto && t->id == ST_TPE ? " (multi-objective TPE)" : "");
    const oracle_kind *kind = kind_of(t);
    if (kind) kind->plan(cfg, out);
    hpt_value exec = cfg->args[st_arg_index(t, "executions_per_trial")];
    if (exec.u.i > 1) fprintf(out, "  each trial trains %lld times; its score is the mean\n", (long long)exec.u.i);
}
