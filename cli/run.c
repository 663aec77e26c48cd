/* run.c: `hptc run`, the search (runtime/tune/tuner.h does the work).
 *
 * Compiles the spec on rank 0 and hands its text to the other ranks under
 * MPI, turns ^C and SIGTERM into a stop after the epoch in flight, and maps
 * the search's outcome to the exit status: 0 complete, 1 an error (or no
 * trial completed), 130 interrupted (resumable). */
#include "compiler/compile.h"
#include "cli/cli.h"
#include "runtime/tune/dist.h"
#include "runtime/nn/jit.h"
#include "runtime/nn/trial.h"
#include "runtime/store/store.h"
#include "runtime/tune/tuner.h"
#include "runtime/nn/weights.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    interrupted = 1;
    signal(sig, SIG_DFL);   /* a second ^C ends it at once; the store stays consistent */
}

int cli_run(int argc, char **argv)
{
    const char *file, *backend = "blas", *policy = NULL;
    int jobs = (int)sysconf(_SC_NPROCESSORS_ONLN), overwrite = 0, limit = 0, warm = 0;
    const cli_option opts[] = { CLI_INT_OPT("--jobs", &jobs, 1), CLI_FLAG_OPT("--overwrite", &overwrite),
                                CLI_FLAG_OPT("--warm-start", &warm),
                                CLI_INT_OPT("--limit", &limit, 1), CLI_CHOICE_OPT("--backend", &backend, "blas|jit"),
                                CLI_CHOICE_OPT("--dtype-policy", &policy, "float32|mixed_bfloat16"), CLI_END_OPT };
    if (cli_parse("run", argc, argv, opts, &file, 1, 1)) return cli_usage(cli_run_usage);
    if (warm && overwrite) {
        fprintf(stderr, "hptc run: --warm-start keeps the old study and --overwrite deletes it: one or the other\n");
        return cli_usage(cli_run_usage);
    }
    int jit = !strcmp(backend, "jit");
    hpt_error e;
    dist *d = dist_init(NULL, NULL, &e);
    if (!d && e.message[0]) {
        fprintf(stderr, "hptc: %s\n", e.message);
        return 1;
    }
    int rank = dist_rank(d), ranks = dist_size(d);
    ir_program *p = NULL;
    if (rank == 0) p = cli_compile(file, 0);
    if (p && jit && !jit_available()) {
        char why[200];
        jit_describe(why, sizeof why);
        fprintf(stderr, "hptc: --backend jit: %s\n", why);
        ir_free(p);
        p = NULL;
    }
    if (ranks > 1) {
        /* The other ranks compile rank 0's text: one spec, even without a shared file system. */
        void *text = p ? (void *)p->source : (void *)"";
        size_t len = strlen(text);
        if (dist_bcast(d, &text, &len, &e)) {
            fprintf(stderr, "hptc: rank %d: %s\n", rank, e.message);
            ir_free(p);
            dist_finalize(d);
            return 1;
        }
        if (rank > 0 && len > 0) {
            compile_result r = compile_spec(file, text, len, NULL);
            p = r.program;
        }
        if (rank > 0) free(text);
    }
    if (!p) {   /* rank 0 printed why; its status is the job's */
        dist_finalize(d);
        return rank > 0 ? 0 : 1;
    }
    /* --warm-start: rank 0 points the spec at its new project (the other ranks never open a store). */
    char warm_from[1100];
    ir_program *warm_old = NULL;
    if (warm && rank == 0 && cli_warm_start(p, warm_from, sizeof warm_from, &warm_old)) {
        ir_free(p);
        dist_finalize(d);
        return 1;
    }
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    tune_options o = { .jobs = jobs, .overwrite = overwrite, .limit = limit, .out = stdout,
                       .interrupted = &interrupted, .jit = jit, .backend = jit ? "jit" : "blas",
                       .dtype_policy = policy ? trial_dtype_policy_of(policy) : -1,
                       .version = cli_version(), .dist = ranks > 1 ? d : NULL,
                       .warm_from = warm_old ? warm_from : NULL, .warm_old = warm_old };
    /* mpirun hands its ranks a pseudo-terminal even when its own output is a file. */
    o.live = isatty(1) && !getenv("NO_COLOR") && ranks == 1;
    int rc = rank == 0 ? tune_run(p, &o, &e) : tune_worker(p, &o, &e);
    if (rc < 0 && e.message[0]) {
        if (rank > 0) fprintf(stderr, "hptc: rank %d: %s\n", rank, e.message);
        else fprintf(stderr, "hptc: %s\n", e.message);
    }
    ir_free(p);
    ir_free(warm_old);
    dist_finalize(d);
    /* A rank whose failure rank 0 reported exits 0: rank 0's status is the job's,
     * and an early non-zero exit would have mpirun kill rank 0 before it prints. */
    if (rank > 0 && rc < 0 && !e.message[0]) return 0;
    return rc < 0 ? 1 : rc == 1 ? 130 : 0;
}

const char cli_run_usage[] =
    "hptc run FILE.hpt [--jobs N] [--overwrite | --warm-start] [--limit N] [--backend blas|jit]\n"
    "                  [--dtype-policy float32|mixed_bfloat16]\n"
    "  Run the spec's search (its tuner = ... statement), storing every trial, epoch and\n"
    "  checkpoint in directory/project_name/hptc.db.  Running it again resumes: finished\n"
    "  trials are kept and an interrupted trial continues from its last epoch.  --jobs\n"
    "  (default: the number of cores) trains that many trials at once, one kernel thread\n"
    "  each; results do not depend on it.  --overwrite starts the project afresh.\n"
    "  A project that holds a study of another spec is refused; --warm-start then\n"
    "  starts a new study of this spec beside it, in directory/project_name-HASH (HASH:\n"
    "  the spec's first 8 hex digits; the old study is only read), whose first trials are\n"
    "  the old ones that still hold (hptc diff OLD NEW lists them), copied with their\n"
    "  epochs and scores, marked reused, not trained again; they count against\n"
    "  max_trials and the oracle learns from them (docs/results.md).  Rerun with\n"
    "  --warm-start to resume that study.\n"
    "  --limit trains on the first N rows only.  --backend jit trains on the LLVM JIT\n"
    "  backend (when built with it).  --dtype-policy overrides compile(dtype_policy) for\n"
    "  every trial: mixed_bfloat16 computes in bfloat16 and keeps weights, optimizer and\n"
    "  loss in float32 (Keras's policy), on a CPU with AVX512-BF16 or AMX only; the\n"
    "  store records each trial's, and a resume must ask for the same.  ^C stops after\n"
    "  the epoch in flight.\n"
    "  One run per project: a second one (--overwrite too) is refused while the first\n"
    "  is alive.  A resume must read the data the search began with (the store keeps\n"
    "  its fingerprint; --limit counts); a damaged checkpoint is named and its trial\n"
    "  trains again (docs/results.md).  Exit 0 when the search completed, 1 on an\n"
    "  error or when no trial completed, 130 when interrupted.\n"
    "  Under MPI, `mpirun -np R hptc run FILE.hpt`: rank 0 keeps the store and runs\n"
    "  --jobs trials, every other rank --jobs more; the results are the same\n"
    "  (docs/distributed.md; hptc --version says whether MPI is built in).";
