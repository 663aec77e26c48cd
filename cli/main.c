/* main.c: the hptc command line.
 *
 * Each command is one row of `commands` (name, handler, one-line summary,
 * usage text), its handler in a file of its own (cli/check.c, run.c,
 * results.c, train.c, report.c, diff.c); `hptc --help` and `hptc COMMAND --help`
 * print from the same rows.  Handlers return the exit status: 0 success, 1 a
 * problem in the user's input (diagnostics printed), 2 a usage error.  Only
 * cli/ prints errors carried up as values from the library. */
#include "cli/cli.h"
#include "runtime/nn/blas.h"
#include "runtime/nn/onednn.h"
#include "runtime/tune/dist.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HPTC_VERSION "0.1.0"

/* ---- the table ---------------------------------------------------------- */

static const cli_command commands[] = {
    { "check", cli_check, "parse and check a spec", cli_check_usage },
    { "ir", cli_ir, "print the lowered IR", cli_ir_usage },
    { "fmt", cli_fmt, "format a spec canonically", cli_fmt_usage },
    { "space", cli_space, "show the search space and the tuner's plan", cli_space_usage },
    { "run", cli_run, "run the search (resumes when run again)", cli_run_usage },
    { "train", cli_train, "train one configuration", cli_train_usage },
    { "eval", cli_eval, "evaluate saved weights on the test split", cli_eval_usage },
    { "summary", cli_summary, "the trials of a project, best first", cli_summary_usage },
    { "best", cli_best, "the best trial's hyperparameters", cli_best_usage },
    { "export", cli_export, "write a trial's weights for hptc eval, or as ONNX (--format onnx)", cli_export_usage },
    { "report", cli_report, "one self-contained HTML page over the trials", cli_report_usage },
    { "diff", cli_diff, "what changed between two specs, and which stored trials still hold", cli_diff_usage },
    { "lsp", cli_lsp, "a language server for editors (LSP on stdin/stdout)", cli_lsp_usage },
};
static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

static void print_help(FILE *out)
{
    fprintf(out, "hptc %s: a compiler and runtime for hyperparameter searches\n\n"
                 "usage: hptc COMMAND [ARGS]    (hptc COMMAND --help for details)\n\ncommands:\n",
            HPTC_VERSION);
    for (int k = 0; k < n_commands; k++) fprintf(out, "  %-8s %s\n", commands[k].name, commands[k].summary);
    fprintf(out, "\noptions:\n  --version   version, IR version and backends\n  --help      this text\n"
                 "\nA spec is a .hpt file: see docs/language.md.\n");
}

const char *cli_version(void) { return HPTC_VERSION; }

static void print_version(void)
{
    char blas[256];
    blas_describe(blas, sizeof blas);
    printf("hptc %s (IR version %d)\n", HPTC_VERSION, IR_VERSION);
    printf("backends: blas [%s]", blas);
    cli_print_extra_backends(stdout);
    printf("\n");
    char cpu[128], dnnl[128];
    blas_cpu_features(blas_cpu_detect(), cpu, sizeof cpu);
    onednn_describe(dnnl, sizeof dnnl);
    printf("cpu: %s\n", cpu);
    printf("kernels: Dense and Conv2D on %s, weights packed between steps; the rest in C\n", dnnl);
    if (onednn_has_bf16()) printf("mixed_bfloat16: yes (%s)\n", onednn_isa_name());
    else printf("mixed_bfloat16: no (needs avx512_bf16 or amx_bf16)\n");
    char mpi[256];
    dist_describe(mpi, sizeof mpi);
    if (dist_available()) printf("mpi: %s (mpirun -np N hptc run FILE.hpt)\n", mpi);
    else printf("mpi: not built in\n");
}

int main(int argc, char **argv)
{
    hpt_error e;
    if (blas_fix_coretype(argv, &e)) fprintf(stderr, "hptc: warning: %s\n", e.message);
    /* A search allocates and frees every trial's buffers (megabytes each).
     * glibc raises its mmap threshold after the first such free and then
     * carves later trials from the heap, which fragments as widths vary:
     * a fixed threshold keeps them mmapped, so each free returns the memory
     * and RSS stays flat over thousands of trials (148 -> 95 MB at 1,000). */
    mallopt(M_MMAP_THRESHOLD, 256 << 10);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        print_help(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v") || !strcmp(argv[1], "version")) {
        print_version();
        return 0;
    }
    for (int k = 0; k < n_commands; k++) {
        if (strcmp(commands[k].name, argv[1])) continue;
        for (int j = 2; j < argc; j++)
            if (!strcmp(argv[j], "--help") || !strcmp(argv[j], "-h")) {
                printf("usage: %s\n", commands[k].usage);
                return 0;
            }
        return commands[k].run(argc - 2, argv + 2);
    }
    fprintf(stderr, "hptc: unknown command '%s'\n", argv[1]);
    const char *names[32];
    for (int k = 0; k < n_commands && k < 31; k++) names[k] = commands[k].name, names[k + 1] = NULL;
    const char *near = st_suggest(ST_KIND_COUNT, argv[1], names);
    if (near) fprintf(stderr, "hptc: did you mean '%s'?\n", near);
    fprintf(stderr, "hptc: run 'hptc --help' for the list of commands\n");
    return 2;
}
