/* oracle_rate.c: what each oracle costs per trial, and what
 * BayesianOptimization finds, with no training at all (issue 15, item 5).
 *
 *   oracle_rate time [TRIALS...]          (default 100 400 1000)
 *   oracle_rate best TRIALS SEEDS         (BayesianOptimization, new vs exact)
 *
 * Drives the oracles through runtime/tune/oracle.h exactly as the scheduler
 * does with --jobs 1 (oracle_next, then oracle_report as soon as the
 * synthetic objective is evaluated) and times only those two calls, on the
 * thread's CPU clock (run with OPENBLAS_NUM_THREADS=1, so all the oracle's
 * work is on this thread; other processes on a busy machine then count
 * less).  No store, no training: the figure is the oracle's own bookkeeping
 * and model.  ORACLE_RATE_TRACE=1 prints every trial (id, value, best so
 * far, hyperparameters).
 *
 * `time` prints, per oracle and number of trials N, the mean milliseconds per
 * trial over the N trials and the slowest single trial, on Hartmann-6 (six
 * Floats; GridSearch walks its 10^6-point grid).  "Bayes exact" is
 * today's method (a full refit over every point, orc_bayes_set_exact), run
 * up to ORACLE_RATE_EXACT_MAX trials (default 400: at 1,000 it takes minutes).
 *
 * `best` prints BayesianOptimization's best value after TRIALS trials on
 * seeds 0 .. SEEDS-1, new and exact on the same seeds, on Branin (2 Floats,
 * minimum 0.397887) and Hartmann-6 (minimum -3.32237), and the mean of each. */
#include "compiler/compile.h"
#include "runtime/tune/oracle.h"
#include "runtime/tune/oracle_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HEAD "data = csv(\"synthetic.csv\")\nmodel {\n  Input(shape = [6])\n"
#define TAIL "}\ncompile(optimizer = \"adam\", loss = \"mse\")\ntuner = RandomSearch(max_trials = 10)\nsearch(epochs = 1, validation_split = 0.2)\n"

static const char *spec_branin =
    HEAD "  Dropout(hp.Float(\"x1\", 0.0, 0.99))\n  Dropout(hp.Float(\"x2\", 0.0, 0.99))\n" TAIL;

static const char *spec_hartmann =
    HEAD "  Dropout(hp.Float(\"x1\", 0.0, 0.99))\n  Dropout(hp.Float(\"x2\", 0.0, 0.99))\n"
         "  Dropout(hp.Float(\"x3\", 0.0, 0.99))\n  Dropout(hp.Float(\"x4\", 0.0, 0.99))\n"
         "  Dropout(hp.Float(\"x5\", 0.0, 0.99))\n  Dropout(hp.Float(\"x6\", 0.0, 0.99))\n" TAIL;

typedef double (*objective)(const ir_program *p, const hpt_value *v);

/* Hyperparameter k as a point of [0, 1]: Dropout's rate stops short of 1. */
static double hp(const ir_program *p, const hpt_value *v, int k) { return k < p->n_hps ? value_as_double(v[k]) / 0.99 : 0; }

static double branin(const ir_program *p, const hpt_value *v)
{
    double x1 = -5 + 15 * hp(p, v, 0), x2 = 15 * hp(p, v, 1);
    double b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI, t = 1 / (8 * M_PI);
    return (x2 - b * x1 * x1 + c * x1 - 6) * (x2 - b * x1 * x1 + c * x1 - 6) + 10 * (1 - t) * cos(x1) + 10;
}

static double hartmann6(const ir_program *p, const hpt_value *v)
{
    static const double a[4] = { 1.0, 1.2, 3.0, 3.2 };
    static const double A[4][6] = { { 10, 3, 17, 3.5, 1.7, 8 }, { 0.05, 10, 17, 0.1, 8, 14 },
                                    { 3, 3.5, 1.7, 10, 17, 8 }, { 17, 8, 0.05, 10, 0.1, 14 } };
    static const double P[4][6] = { { .1312, .1696, .5569, .0124, .8283, .5886 },
                                    { .2329, .4135, .8307, .3736, .1004, .9991 },
                                    { .2348, .1451, .3522, .2883, .3047, .6650 },
                                    { .4047, .8828, .8732, .5743, .1091, .0381 } };
    double s = 0;
    for (int i = 0; i < 4; i++) {
        double e = 0;
        for (int j = 0; j < 6; j++) e += A[i][j] * (hp(p, v, j) - P[i][j]) * (hp(p, v, j) - P[i][j]);
        s -= a[i] * exp(-e);
    }
    return s;
}

static ir_program *compile(const char *src)
{
    compile_result r = compile_spec("bench.hpt", src, strlen(src), stderr);
    return r.program;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);     /* the oracle runs on this thread (OPENBLAS_NUM_THREADS=1) */
    return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct run_result { int n; double seconds, slowest, best; } run_result;

/* One search of at most n trials, minimising f; exact: BayesianOptimization's old method. */
static run_result run(const ir_program *p, int tuner, objective f, int n, uint64_t seed, int exact)
{
    hpt_value args[40];
    for (int k = 0; k < 40; k++) args[k] = value_none();
    if (tuner == ST_Hyperband || tuner == ST_BOHB) {
        args[Hyperband_max_epochs] = value_int(27);
        args[Hyperband_factor] = value_int(3);
        args[Hyperband_hyperband_iterations] = value_int(1000);
    } else args[0] = value_int(n);      /* max_trials */
    oracle_config c = { p, &st_catalogue[tuner], args, 1, seed, 0 };
    hpt_error e;
    oracle *o = oracle_new(&c, &e);
    run_result r = { 0, 0, 0, INFINITY };
    if (!o) {
        fprintf(stderr, "oracle_new: %s\n", e.message);
        return r;
    }
    if (exact) orc_bayes_set_exact(o, 1);
    while (r.n < n) {
        oracle_request q;
        double t0 = now();
        oracle_status st = oracle_next(o, &q);
        double t1 = now();
        if (st != ORACLE_TRIAL) {
            r.seconds += t1 - t0;
            break;
        }
        double y = f(p, q.values);
        double t2 = now();
        oracle_report(o, q.trial, y, 0);
        double t3 = now();
        r.seconds += (t1 - t0) + (t3 - t2);
        r.slowest = fmax(r.slowest, (t1 - t0) + (t3 - t2));
        r.best = fmin(r.best, y);
        r.n++;
        if (getenv("ORACLE_RATE_TRACE")) {
            printf("trace %d %.5f %.5f ", q.trial, y, r.best);
            for (int k = 0; k < p->n_hps; k++) printf(" %.3f", value_as_double(q.values[k]));
            printf("\n");
        }
    }
    oracle_free(o);
    return r;
}

static int time_all(int argc, char **argv)
{
    int sizes[8] = { 100, 400, 1000 }, n_sizes = 3;
    if (argc > 0) n_sizes = 0;
    for (int i = 0; i < argc && n_sizes < 8; i++) sizes[n_sizes++] = atoi(argv[i]);
    const char *env = getenv("ORACLE_RATE_EXACT_MAX");
    int exact_max = env ? atoi(env) : 400;
    ir_program *p = compile(spec_hartmann);
    if (!p) return 1;
    struct { const char *name; int tuner, exact; } rows[] = {
        { "RandomSearch", ST_RandomSearch, 0 }, { "GridSearch", ST_GridSearch, 0 }, { "TPE", ST_TPE, 0 },
        { "Hyperband", ST_Hyperband, 0 },       { "BOHB", ST_BOHB, 0 },
        { "BayesianOptimization", ST_BayesianOptimization, 0 },
        { "BayesianOptimization_exact", ST_BayesianOptimization, 1 },
    };
    printf("%-28s %6s %12s %12s %10s\n", "oracle", "trials", "ms/trial", "slowest_ms", "best");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        for (int s = 0; s < n_sizes; s++) {
            if (rows[i].exact && sizes[s] > exact_max) {
                printf("%-28s %6d %12s %12s %10s\n", rows[i].name, sizes[s], "skipped", "-", "-");
                continue;
            }
            run_result r = run(p, rows[i].tuner, hartmann6, sizes[s], 0, rows[i].exact);
            printf("%-28s %6d %12.3f %12.3f %10.5f\n", rows[i].name, r.n, 1e3 * r.seconds / (r.n ? r.n : 1),
                   1e3 * r.slowest, r.best);
            fflush(stdout);
        }
    ir_free(p);
    return 0;
}

static int best_of_seeds(int n, int seeds)
{
    const char *env = getenv("ORACLE_RATE_EXACT_MAX");
    int with_exact = !env || atoi(env) >= n;
    struct { const char *name; const char *spec; objective f; double optimum; } objs[] = {
        { "branin", spec_branin, branin, 0.397887 },
        { "hartmann6", spec_hartmann, hartmann6, -3.32237 },
    };
    for (size_t i = 0; i < sizeof objs / sizeof objs[0]; i++) {
        ir_program *p = compile(objs[i].spec);
        if (!p) return 1;
        double sum[2] = { 0, 0 }, secs[2] = { 0, 0 };
        printf("%s, %d trials (optimum %g): seed, new best, exact best\n", objs[i].name, n, objs[i].optimum);
        for (int seed = 0; seed < seeds; seed++) {
            run_result a = run(p, ST_BayesianOptimization, objs[i].f, n, (uint64_t)seed, 0);
            run_result b = { 0, 0, 0, NAN };
            if (with_exact) b = run(p, ST_BayesianOptimization, objs[i].f, n, (uint64_t)seed, 1);
            printf("  seed %d  %.6f  %.6f\n", seed, a.best, b.best);
            sum[0] += a.best, sum[1] += b.best, secs[0] += a.seconds, secs[1] += b.seconds;
            fflush(stdout);
        }
        printf("bayes_best %s trials %d mean_of_%d_seeds new %.6f exact %.6f gap_to_optimum new %.6f exact %.6f "
               "ms_per_trial new %.3f exact %.3f\n",
               objs[i].name, n, seeds, sum[0] / seeds, sum[1] / seeds, sum[0] / seeds - objs[i].optimum,
               sum[1] / seeds - objs[i].optimum, 1e3 * secs[0] / seeds / n, 1e3 * secs[1] / seeds / n);
        ir_free(p);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "time")) return time_all(argc - 2, argv + 2);
    if (argc == 4 && !strcmp(argv[1], "best")) return best_of_seeds(atoi(argv[2]), atoi(argv[3]));
    fprintf(stderr, "usage: oracle_rate time [TRIALS...] | oracle_rate best TRIALS SEEDS\n");
    return 2;
}
