/* oracle_limits.c: the tuner's limits on a configuration's costs
 * (max_model_size, max_flops, max_memory; compiler/cost.h), as the oracles
 * apply them: a configuration over a limit is never proposed.
 *
 * Keras Tuner builds each model and counts one over max_model_size as a
 * failed (invalid) trial; hptc knows every configuration's size from the
 * compiled spec, so its oracles draw only feasible configurations instead:
 * random draws are rejected and drawn again (orc_sample), the grid skips
 * them, BayesianOptimization ranks only feasible candidates, and a TPE
 * proposal over a limit is replaced by the nearest of ORC_FEASIBLE_DRAWS
 * feasible random configurations.  All of it is a pure function of the
 * values and of streams keyed by (seed, trial): proposals stay the same for
 * any --jobs and after a resume.  Without limits nothing changes, not even
 * the draws consumed. */
#include "compiler/cost.h"
#include "runtime/tune/oracle_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

bool orc_feasible(const ir_program *p, const hpt_value *values)
{
    ir_assignment a = { (hpt_value *)values, p->n_hps };
    char why[240];
    /* -1 (the cost cannot be computed) passes: building the trial says why. */
    return cost_feasible(p, &a, why, sizeof why) != 0;
}

/* How far apart two configurations are, in Keras Tuner's [0, 1] encoding:
 * a hyperparameter active in one only counts 1. */
static double distance(const ir_program *p, const hpt_value *a, const hpt_value *b)
{
    double d = 0;
    for (int k = 0; k < p->n_hps; k++) {
        bool in_a = a[k].type != V_NONE, in_b = b[k].type != V_NONE;
        if (in_a != in_b) d += 1;
        else if (in_a) {
            double x = orc_value_to_prob(&p->hps[k], a[k]) - orc_value_to_prob(&p->hps[k], b[k]);
            d += x * x;
        }
    }
    return d;
}

void orc_make_feasible(oracle *o, int trial, hpt_value *values)
{
    const ir_program *p = o->p;
    if (orc_feasible(p, values)) return;
    size_t n = (size_t)p->n_hps + 1;
    hpt_value *draw = malloc(n * sizeof *draw), *best = malloc(n * sizeof *best);
    double best_d = INFINITY;
    rng r = orc_stream(o, trial, ORC_FEASIBLE);
    for (int k = 0; draw && best && k < ORC_FEASIBLE_DRAWS; k++) {
        orc_sample(p, &r, draw);
        if (!orc_feasible(p, draw)) continue;   /* orc_sample gave up: nothing feasible found */
        double d = distance(p, values, draw);
        if (d < best_d) best_d = d, memcpy(best, draw, n * sizeof *best);
    }
    if (best_d < INFINITY) memcpy(values, best, (size_t)p->n_hps * sizeof *values);
    free(draw), free(best);
}
