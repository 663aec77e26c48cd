/* oracle_nsga2.c: NSGAII, a genetic search for a Pareto front, as Optuna's
 * NSGAIISampler (Deb et al. 2002) (issue 15, pareto).
 *
 * Trials come in generations of population_size: trial k is in generation
 * g = k / population_size.  Generation 0 is random.  Generation g >= 1
 * waits until every trial of generation g - 1 has reported (a barrier, as
 * the oracle rule allows: completed generations only), so its proposals do
 * not depend on --jobs or on the order results come in.  Its parents are
 * the elite of the previous parents and generation g - 1's completed
 * trials: whole non-dominated fronts in rank order, the first front that
 * does not fit cut by crowding distance (largest first, ties by trial id).
 * Each child draws from the stream (seed, k, ORC_MODEL): a first parent by
 * binary tournament (two parents drawn; one that dominates the other wins,
 * else the first); with crossover_prob a second one the same way and a
 * uniform crossover (each hyperparameter from the second parent with
 * swapping_prob); each hyperparameter is then drawn afresh with
 * mutation_prob (None: 1 / the number of hyperparameters), as Optuna lets
 * its random sampler fill the omitted ones.  A hyperparameter active in the
 * child but not in the parent it comes from is drawn afresh too. */
#include "runtime/tune/oracle_impl.h"
#include "runtime/tune/pareto.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct nsga2_state {
    long max_trials, population;
    double mutation_prob, crossover_prob, swapping_prob;
    int *parents;               /* trial ids of the current parent population */
    int n_parents;
    int parents_gen;            /* the generation they breed (0: none yet) */
} nsga2_state;

static void nsga2_free(void *p)
{
    nsga2_state *s = p;
    if (s) free(s->parents);
    free(s);
}

/* parents <- elite of (parents + generation g-1's completed trials). */
static int next_parents(oracle *o, nsga2_state *s, int g)
{
    int lo = (int)((g - 1) * s->population), hi = (int)(g * s->population);
    int cap = s->n_parents + (hi - lo), n = 0, m = o->n_objectives, rc = -1;
    int *pool = malloc(sizeof *pool * ((size_t)cap + 1)), *rank = malloc(sizeof *rank * ((size_t)cap + 1));
    int *order = malloc(sizeof *order * ((size_t)cap + 1));
    double *pts = malloc(sizeof *pts * ((size_t)cap + 1) * (size_t)m), *crowd = malloc(sizeof *crowd * ((size_t)cap + 1));
    double *fp = malloc(sizeof *fp * ((size_t)cap + 1) * (size_t)m), *fd = malloc(sizeof *fd * ((size_t)cap + 1));
    if (!pool || !rank || !order || !pts || !crowd || !fp || !fd) goto out;
    for (int i = 0; i < s->n_parents; i++) pool[n++] = s->parents[i];
    for (int t = lo; t < hi; t++)
        if (orc_done_ok(o, t)) pool[n++] = t;
    for (int i = 0; i < n; i++) memcpy(pts + (size_t)i * m, o->trials[pool[i]].obj, sizeof *pts * (size_t)m);
    int fronts = pareto_rank(pts, n, m, rank);
    if (fronts < 0) goto out;
    /* Crowding distance within each front. */
    for (int r = 0; r < fronts; r++) {
        int size = 0;
        for (int i = 0; i < n; i++)
            if (rank[i] == r) order[size] = i, memcpy(fp + (size_t)size * m, pts + (size_t)i * m, sizeof *fp * (size_t)m), size++;
        pareto_crowding(fp, size, m, fd);
        for (int i = 0; i < size; i++) crowd[order[i]] = fd[i];
    }
    /* Sort the pool: rank, then crowding (larger first), then trial id. */
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0; j--) {
            int a = order[j - 1], b = order[j];
            int after = rank[a] > rank[b] || (rank[a] == rank[b] && (crowd[a] < crowd[b] ||
                                                                       (crowd[a] == crowd[b] && pool[a] > pool[b])));
            if (!after) break;
            order[j - 1] = b, order[j] = a;
        }
    int keep = n < s->population ? n : (int)s->population;
    int *parents = malloc(sizeof *parents * ((size_t)keep + 1));
    if (!parents) goto out;
    for (int i = 0; i < keep; i++) parents[i] = pool[order[i]];
    free(s->parents);
    s->parents = parents, s->n_parents = keep, s->parents_gen = g;
    rc = 0;
out:
    free(pool), free(rank), free(order), free(pts), free(crowd), free(fp), free(fd);
    return rc;
}

static int tournament(const oracle *o, const nsga2_state *s, rng *r)
{
    int a = s->parents[rng_below(r, (uint64_t)s->n_parents)];
    int b = s->parents[rng_below(r, (uint64_t)s->n_parents)];
    if (pareto_dominates(o->trials[b].obj, o->trials[a].obj, o->n_objectives)) return b;
    return a;
}

static void breed(oracle *o, nsga2_state *s, int k, hpt_value *values)
{
    const ir_program *p = o->p;
    rng r = orc_stream(o, k, ORC_MODEL);
    int p1 = tournament(o, s, &r);
    int p2 = rng_double(&r) < s->crossover_prob ? tournament(o, s, &r) : -1;
    double mutation = s->mutation_prob >= 0 ? s->mutation_prob : 1.0 / (p->n_hps > 0 ? p->n_hps : 1);
    for (int h = 0; h < p->n_hps; h++) {
        /* The same draws for every hyperparameter, active or not. */
        double swap = rng_double(&r), mutate = rng_double(&r), fresh = rng_double(&r);
        if (!orc_active(p, h, values)) {
            values[h] = (hpt_value){ .type = V_NONE };
            continue;
        }
        int from = p2 >= 0 && swap < s->swapping_prob ? p2 : p1;
        hpt_value v = o->trials[from].values[h];
        values[h] = mutate < mutation || v.type == V_NONE ? orc_prob_to_value(&p->hps[h], fresh) : v;
    }
}

static oracle_status nsga2_next(oracle *o, oracle_request *out)
{
    nsga2_state *s = o->state;
    int k = o->n_trials;
    if (k >= s->max_trials) return ORACLE_DONE;
    int g = (int)(k / s->population);
    /* A generation breeds from completed generations only. */
    for (int t = 0; t < g * s->population; t++)
        if (!o->trials[t].reported) return ORACLE_WAIT;
    while (s->parents_gen < g)
        if (next_parents(o, s, s->parents_gen + 1)) return ORACLE_DONE;
    hpt_value *values = malloc(sizeof *values * ((size_t)o->p->n_hps + 1));
    if (!values) return ORACLE_DONE;
    if (g == 0 || s->n_parents == 0) {
        rng r = orc_stream(o, k, ORC_SAMPLE);
        orc_sample(o->p, &r, values);
    } else {
        breed(o, s, k, values);
    }
    oracle_status st = orc_propose(o, values, o->default_epochs, 0, -1, -1, -1, out) == 0 ? ORACLE_TRIAL : ORACLE_DONE;
    free(values);
    return st;
}

static long nsga2_planned(const oracle *o) { return ((const nsga2_state *)o->state)->max_trials; }

static void nsga2_describe(const oracle *o, char *buf, size_t n)
{
    const nsga2_state *s = o->state;
    snprintf(buf, n, "NSGA-II: generation %ld, %d of %ld trials proposed, %d done", o->n_trials / s->population,
             o->n_trials, s->max_trials, o->n_reported);
}

static const orc_ops nsga2_ops = {
    .next = nsga2_next, .planned = nsga2_planned, .describe = nsga2_describe, .free_state = nsga2_free,
};

int orc_nsga2_init(oracle *o, const oracle_config *cfg, hpt_error *e)
{
    nsga2_state *s = calloc(1, sizeof *s);
    if (!s) return hpt_fail(e, "out of memory");
    s->max_trials = orc_arg_int(cfg, NSGAII_max_trials, 10);
    s->population = orc_arg_int(cfg, NSGAII_population_size, 50);
    s->mutation_prob = orc_arg_float(cfg, NSGAII_mutation_prob, -1);
    s->crossover_prob = orc_arg_float(cfg, NSGAII_crossover_prob, 0.9);
    s->swapping_prob = orc_arg_float(cfg, NSGAII_swapping_prob, 0.5);
    o->state = s, o->ops = &nsga2_ops;
    return 0;
}

void orc_nsga2_plan(const oracle_config *cfg, FILE *out)
{
    orc_plan_trials(cfg, NSGAII_max_trials, out);
    fprintf(out, "  in generations of %ld (the first random); each waits for the one before\n",
            orc_arg_int(cfg, NSGAII_population_size, 50));
}
