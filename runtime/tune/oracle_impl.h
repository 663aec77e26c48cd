/* oracle_impl.h: what the oracles share, behind runtime/tune/oracle.h.
 *
 * The common part (oracle_common.c) keeps the trials proposed so far with their
 * values and results, a hash set of the configurations tried (active values
 * only), the keyed random streams, Keras Tuner's sampling of one
 * hyperparameter and its [0, 1] encoding (value_to_prob / prob_to_value),
 * and an odometer over the grid.  Each tuner supplies an orc_ops table and a
 * state of its own; oracle_next/oracle_report (oracle.c) dispatch through
 * it.  Nothing here is visible outside runtime/tune/oracle*.c. */
#ifndef HPTC_ORACLE_IMPL_H
#define HPTC_ORACLE_IMPL_H
#include "runtime/tune/oracle.h"
#include "runtime/rng.h"

/* Sub-purposes of the oracle's random streams (under RNG_ORACLE). */
enum { ORC_SAMPLE = 1, ORC_MODEL, ORC_COIN };

/* Collisions tolerated before a random proposal looks for an untried
 * configuration exhaustively (or gives up), as Keras Tuner's max_collisions. */
#define ORC_MAX_COLLISIONS 100
/* Largest number of grid points enumerated to find untried configurations. */
#define ORC_ENUM_CAP 200000

typedef struct orc_trial {
    hpt_value *values;          /* n_hps, inactive V_NONE */
    int reported, failed;
    double score;               /* as reported */
    double loss;                /* minimised form: -score when maximising */
    int epochs, initial_epoch, parent, bracket, round;
    int slot;                   /* tuner-specific (Hyperband: round position) */
    double obj[4];              /* issue 15, pareto: objectives, minimised form (one objective: obj[0] = loss) */
    int has_obj;                /* oracle_report_objectives gave them (a Pareto search's trial without counts as failed) */
} orc_trial;

typedef struct orc_ops {
    oracle_status (*next)(oracle *o, oracle_request *out);
    void (*reported)(oracle *o, int trial);         /* optional */
    int (*may_promote)(const oracle *o, int trial); /* optional: 0 */
    long (*planned)(const oracle *o);
    void (*describe)(const oracle *o, char *buf, size_t n);
    void (*free_state)(void *state);                /* optional */
} orc_ops;

struct oracle {
    const ir_program *p;
    const st_entry *tuner;
    uint64_t seed;
    int maximize, default_epochs;
    orc_trial *trials;
    int n_trials, cap_trials;
    int n_reported;
    int *hash;                  /* open addressing over trial ids, -1 empty */
    size_t hash_cap;
    const orc_ops *ops;
    void *state;
    int n_objectives;           /* issue 15, pareto: >= 1 */
    int objective_maximize[4];
};

/* Constructors of each tuner: fill o->ops and o->state from cfg->args. */
int orc_random_init(oracle *o, const oracle_config *cfg, hpt_error *e);
int orc_grid_init(oracle *o, const oracle_config *cfg, hpt_error *e);
int orc_hyperband_init(oracle *o, const oracle_config *cfg, hpt_error *e);
int orc_bohb_init(oracle *o, const oracle_config *cfg, hpt_error *e);     /* Hyperband with TPE's proposals */
int orc_bayes_init(oracle *o, const oracle_config *cfg, hpt_error *e);
int orc_tpe_init(oracle *o, const oracle_config *cfg, hpt_error *e);
int orc_motpe_init(oracle *o, const oracle_config *cfg, hpt_error *e);   /* TPE under a Pareto objective */
int orc_nsga2_init(oracle *o, const oracle_config *cfg, hpt_error *e);
void orc_nsga2_plan(const oracle_config *cfg, FILE *out);
int orc_asha_init(oracle *o, const oracle_config *cfg, hpt_error *e);    /* oracle_asha.c */

/* Each tuner's part of oracle_print_plan: the lines between the tuner's
 * and the executions'. */
void orc_random_plan(const oracle_config *cfg, FILE *out);
void orc_grid_plan(const oracle_config *cfg, FILE *out);
void orc_hyperband_plan(const oracle_config *cfg, FILE *out);
void orc_bohb_plan(const oracle_config *cfg, FILE *out);
void orc_bayes_plan(const oracle_config *cfg, FILE *out);
void orc_tpe_plan(const oracle_config *cfg, FILE *out);
void orc_asha_plan(const oracle_config *cfg, FILE *out);
/* BayesianOptimization only (others ignore it): 1 selects the exact Gaussian
 * process over every point, the method before issue 15, for the benches and
 * tests that compare the two on the same seeds. */
void orc_bayes_set_exact(oracle *o, int exact);
/* The plan of a tuner that runs max_trials trials (argument max_trials_arg)
 * of search(epochs) epochs, fewer when the space is smaller. */
void orc_plan_trials(const oracle_config *cfg, int max_trials_arg, FILE *out);

/* The stream of one trial for one purpose: a pure function of (seed, trial, purpose). */
rng orc_stream(const oracle *o, int trial, int purpose);
/* An integer argument of the tuner, or dflt when None. */
long orc_arg_int(const oracle_config *cfg, int index, long dflt);
double orc_arg_float(const oracle_config *cfg, int index, double dflt);

/* Record trial o->n_trials with these values (copied) and fill out. */
int orc_propose(oracle *o, const hpt_value *values, int epochs, int initial_epoch, int parent,
                int bracket, int round, oracle_request *out);
/* Id of a trial with the same active values, or -1. */
int orc_find(const oracle *o, const hpt_value *values);
/* The results a model-based proposal for trial k may use (oracle.h's
 * rule): the completed, not failed, trials among 0 .. k - ORACLE_LAG, their
 * ids into ids (chronological), their count into *n.  ORACLE_WAIT when one
 * of those has not reported yet, else ORACLE_TRIAL. */
oracle_status orc_lagged_results(const oracle *o, int k, int *ids, int *n);
/* Is trial t's result in (and usable: not failed)? */
static inline int orc_done_ok(const oracle *o, int t) { return o->trials[t].reported && !o->trials[t].failed; }

/* Keras Tuner's random_sample of one hyperparameter from a uniform draw. */
hpt_value orc_prob_to_value(const ir_hp *h, double prob);
/* Its inverse: the bucket centre (discrete) or position (continuous) in [0, 1]. */
double orc_value_to_prob(const ir_hp *h, hpt_value v);
/* A random configuration: hyperparameters drawn in definition order, the
 * inactive ones (under the values drawn so far) left V_NONE. */
void orc_sample(const ir_program *p, rng *r, hpt_value *values);
/* A random configuration not tried yet; -1 when none can be found (the
 * space is exhausted, or too large to enumerate after ORC_MAX_COLLISIONS). */
int orc_sample_new(oracle *o, rng *r, hpt_value *values);
/* The tuner's limits (oracle_limits.c; issue 15, costs): does the
 * configuration meet max_model_size, max_flops and max_memory?  orc_sample
 * draws until it does (ORC_SAMPLE_TRIES at most), orc_sample_new's exhaustive
 * search counts only those that do, and orc_make_feasible replaces a model's
 * proposal over a limit by the nearest of ORC_FEASIBLE_DRAWS feasible random
 * ones (stream ORC_FEASIBLE of the trial); unchanged when none is found. */
enum { ORC_FEASIBLE = 16, ORC_SAMPLE_TRIES = 1000, ORC_FEASIBLE_DRAWS = 64 };
bool orc_feasible(const ir_program *p, const hpt_value *values);
void orc_make_feasible(oracle *o, int trial, hpt_value *values);
/* A range that is a finite list of values (a step, or a linear Int). */
bool orc_stepped(const ir_hp *h);
/* min and max are positive, so log and reverse_log sampling apply. */
bool orc_log_ok(const ir_hp *h);
/* The hp.Int value nearest x, within [min, max] whatever x is (2^63, NaN):
 * a double never converts to an int64 it does not fit. */
hpt_value orc_int_value(const ir_hp *h, double x);
/* Is hyperparameter k active under values[0..k-1]? */
bool orc_active(const ir_program *p, int k, const hpt_value *values);

/* A univariate TPE proposal (Optuna's Parzen estimators) for trial `trial`:
 * each active hyperparameter, in definition order, takes the best of 24
 * candidates drawn from l(x) (fitted on the trials in `below`) by
 * log l(x) - log g(x) (g fitted on `above`), counting only trials where it
 * was active.  Trial lists are in chronological order; ramp = 1 applies
 * Optuna's default_weights (older trials down-weighted past 25), 0 equal
 * weights.  Draws from orc_stream(trial, ORC_MODEL). */
int orc_tpe_propose(oracle *o, int trial, const int *below, int n_below, const int *above, int n_above, int ramp,
                    hpt_value *values);
/* Sort trial ids by loss (ascending), ties by id. */
void orc_sort_by_loss(const oracle *o, int *ids, int n);

/* Keras Tuner's grid order: an odometer whose last hyperparameter turns
 * fastest, each over [default, the rest in order]; inactive ones sit at
 * their default and are never turned. */
typedef struct orc_axis {
    long n;                     /* values on this axis */
    long pd;                    /* index of the default among the raw values, -1 absent */
    int reorder;                /* the default comes first */
} orc_axis;

typedef struct orc_odometer {
    const ir_program *p;
    orc_axis *ax;
    long *idx;
    hpt_value *cur;             /* current configuration, inactive V_NONE */
} orc_odometer;

/* grid = 1: Keras Tuner's grid values (a Float without step gives ten);
 * grid = 0: every value, failing (-1) when some hyperparameter is continuous
 * or the product of the sizes exceeds cap. */
int orc_odo_init(orc_odometer *d, const ir_program *p, int grid, long cap);
/* Advance to the next configuration; 0 when the grid is exhausted. */
int orc_odo_next(orc_odometer *d);
void orc_odo_free(orc_odometer *d);
/* How many distinct configurations the space (grid: the grid) holds, or -1
 * when infinite or more than cap. */
long orc_space_size(const ir_program *p, int grid, long cap);

#endif
