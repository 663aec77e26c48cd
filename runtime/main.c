/* main.c: the hptc command line.
 *
 * Each command is one row of `commands` (name, handler, one-line summary,
 * usage text); `hptc --help` and `hptc COMMAND --help` print from the same
 * rows.  Handlers return the exit status: 0 success, 1 a problem in the
 * user's input (diagnostics printed), 2 a usage error.  This file is the only
 * place that prints errors carried up as values from the library. */
#include "compiler/compile.h"
#include "compiler/fmt.h"
#include "compiler/space.h"
#include "runtime/blas.h"
#include "runtime/cli.h"
#include "runtime/dist.h"
#include "runtime/hyperband.h"
#include "runtime/source.h"
#include "runtime/trial.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HPTC_VERSION "0.1.0"

/* ---- reading a spec ----------------------------------------------------- */

int cli_read_file(const char *path, char **text, size_t *len)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        fprintf(stderr, "hptc: cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (!buf) break;
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        char *grown = realloc(buf, cap * 2 + 1);
        if (!grown) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    int failed = ferror(f);
    if (f != stdin) fclose(f);
    if (!buf || failed) {
        fprintf(stderr, "hptc: cannot read %s\n", path);
        free(buf);
        return -1;
    }
    buf[n] = 0;
    *text = buf;
    *len = n;
    return 0;
}

/* The memory a configuration's weights, gradients and optimizer state must
 * fit in: this machine's, or HPTC_MEMORY_LIMIT (bytes, or with a K, M, G or T
 * suffix; 0 turns the check off) to check for another machine. */
static double memory_limit(void)
{
    const char *env = getenv("HPTC_MEMORY_LIMIT");
    if (env && *env) {
        char *end;
        double x = strtod(env, &end);
        static const char units[] = "KMGT";
        const char *u = *end ? strchr(units, *end & ~32) : NULL;
        if (u) x *= (double)(1ull << (10 * (u - units + 1))), end++;
        if (!*end && x >= 0) return x;
        fprintf(stderr, "hptc: warning: HPTC_MEMORY_LIMIT=%s is not a size (such as 16G); using this machine's memory\n", env);
    }
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (double)pages * (double)page : 0;
}

ir_program *cli_compile(const char *path, int quiet_warnings)
{
    char *src;
    size_t len;
    if (cli_read_file(path, &src, &len)) return NULL;
    FILE *diag = stderr;
    /* The data's headers and this machine's memory: what the checker may not look at itself. */
    compile_options o = { .probe = source_probe, .memory_bytes = memory_limit() };
    const char *name = strcmp(path, "-") ? path : "<stdin>";
    compile_result r = compile_spec_with(name, src, len, quiet_warnings ? NULL : diag, &o);
    if (r.errors && quiet_warnings) {
        /* Errors must be seen even when warnings are not wanted: compile again, loudly. */
        compile_result loud = compile_spec_with(name, src, len, diag, &o);
        ir_free(loud.program);
    }
    free(src);
    if (r.errors) fprintf(stderr, "%d error%s generated.\n", r.errors, r.errors == 1 ? "" : "s");
    return r.program;
}

/* ---- compiler commands -------------------------------------------------- */

static const cli_option no_options[] = { CLI_END_OPT };

static int cmd_check(int argc, char **argv)
{
    const char *file;
    if (cli_parse("check", argc, argv, no_options, &file, 1, 1)) return cli_usage("check");
    ir_program *p = cli_compile(file, 0);
    ir_free(p);
    return p ? 0 : 1;
}

/* ir --emit-llvm FILE [--set NAME=VALUE]...: the JIT backend's module for
 * the trial those values expand to. */
static int emit_llvm(const char *file, const cli_list *sets)
{
    ir_program *p = cli_compile(file, 1);
    if (!p) return 1;
    hpt_value *values = calloc((size_t)p->n_hps + 1, sizeof *values);
    hpt_error e;
    trial *t = NULL;
    char *ir = NULL;
    int rc = 1;
    if (values && cli_apply_sets(p, values, sets->items, sets->n) == 0) {
        if (!(t = trial_expand(p, values, 32, 0, &e)) || !(ir = trial_llvm_ir(t, &e))) fprintf(stderr, "hptc: %s\n", e.message);
        else fputs(ir, stdout), rc = 0;
    }
    free(ir);
    trial_free(t);
    free(values);
    ir_free(p);
    return rc;
}

static int cmd_ir(int argc, char **argv)
{
    const char *file;
    int llvm = 0;
    cli_list sets;
    const cli_option opts[] = { CLI_FLAG_OPT("--emit-llvm", &llvm), CLI_LIST_OPT("--set", &sets), CLI_END_OPT };
    if (cli_parse("ir", argc, argv, opts, &file, 1, 1)) return cli_usage("ir");
    if (llvm || sets.n) {
        int rc = llvm ? emit_llvm(file, &sets) : (fprintf(stderr, "hptc ir: --set goes with --emit-llvm\n"), cli_usage("ir"));
        cli_list_free(opts);
        return rc;
    }
    cli_list_free(opts);
    ir_program *p = cli_compile(file, 1);
    if (!p) return 1;
    ir_print(p, stdout);
    ir_free(p);
    return 0;
}

static int cmd_fmt(int argc, char **argv)
{
    int check = 0, write = 0, status = 0;
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    if (!files) return 1;
    const cli_option opts[] = { CLI_FLAG_OPT("--check", &check), CLI_FLAG_OPT("-w", &write), CLI_END_OPT };
    if (cli_parse("fmt", argc, argv, opts, files, 1, argc)) {
        free(files);
        return cli_usage("fmt");
    }
    for (int k = 0; files[k]; k++) {
        const char *file = files[k];
        char *src;
        size_t len;
        if (cli_read_file(file, &src, &len)) {
            status = 1;
            continue;
        }
        fmt_result r = fmt_format(strcmp(file, "-") ? file : "<stdin>", src, len, stderr);
        if (!r.text) {
            free(src);
            status = 1;
            continue;
        }
        int same = r.len == len && memcmp(r.text, src, len) == 0;
        if (check) {
            if (!same) {
                printf("%s: not formatted\n", file);
                status = 1;
            }
        } else if (write && strcmp(file, "-")) {
            if (!same) {
                /* Write beside and rename, so an interrupted fmt never leaves half a spec. */
                char *tmp = malloc(strlen(file) + 16);
                sprintf(tmp, "%s.fmt~", file);
                FILE *f = fopen(tmp, "wb");
                int ok = f && fwrite(r.text, 1, r.len, f) == r.len;
                if (f && fclose(f)) ok = 0;
                if (!ok || rename(tmp, file)) {
                    fprintf(stderr, "hptc: cannot write %s: %s\n", file, strerror(errno));
                    remove(tmp);
                    status = 1;
                }
                free(tmp);
            }
        } else {
            fwrite(r.text, 1, r.len, stdout);
        }
        free(r.text);
        free(src);
    }
    free(files);
    return status;
}

static void print_tuner_plan(const ir_program *p)
{
    const ir_call *t = &p->tuner;
    if (!t->entry) {
        printf("no tuner: `hptc train` trains the default configuration\n");
        return;
    }
    hpt_value args[32];
    arena scratch = { 0 };
    char why[200];
    if (ir_eval_call(p, t, NULL, &scratch, args, why, sizeof why)) {
        arena_free(&scratch);
        return;
    }
    hpt_value epochs_v;
    ir_eval(p, p->search.args[search_epochs], NULL, &scratch, &epochs_v, why, sizeof why);
    long epochs = epochs_v.type == V_INT ? (long)epochs_v.u.i : 1;
    double size = space_size(p);
    printf("tuner %s, objective %s\n", t->entry->name, args[st_arg_index(t->entry, "objective")].u.s);
    switch (t->entry->id) {
    case ST_Hyperband:
    case ST_BOHB: {
        int max_epochs = (int)args[Hyperband_max_epochs].u.i, factor = (int)args[Hyperband_factor].u.i;
        int iterations = (int)args[Hyperband_hyperband_iterations].u.i;
        hb_round rounds[64];
        int n = hb_schedule(max_epochs, factor, rounds, 64);
        for (int k = 0; k < n; k++) {
            if (rounds[k].round == 0) printf("  bracket %d:", rounds[k].bracket);
            printf("%s %d trial%s x %d epoch%s", rounds[k].round ? " ->" : "", rounds[k].trials,
                   rounds[k].trials == 1 ? "" : "s", rounds[k].epochs, rounds[k].epochs == 1 ? "" : "s");
            if (k + 1 == n || rounds[k + 1].round == 0) putchar('\n');
        }
        long trials, trained;
        hb_totals(max_epochs, factor, iterations, &trials, &trained);
        printf("  %ld trials, %ld epochs in all%s (promoted trials continue from their parent's weights)\n",
               trials, trained, iterations > 1 ? "" : "");
        if (iterations > 1) printf("  the brackets above run %d times\n", iterations);
        printf("  under %s the tuner, not search(epochs), sets each trial's epochs, as in Keras Tuner\n",
               t->entry->name);
        break;
    }
    case ST_GridSearch: {
        long max = args[GridSearch_max_trials].type == V_INT ? (long)args[GridSearch_max_trials].u.i : -1;
        if (size < 0) printf("  every grid point (a Float without step gives 10 values)");
        else printf("  %.0f grid point%s", size, size == 1 ? "" : "s");
        if (max > 0) printf(", at most %ld trials", max);
        printf(", %ld epoch%s each\n", epochs, epochs == 1 ? "" : "s");
        break;
    }
    default: {
        long max = (long)args[st_arg_index(t->entry, "max_trials")].u.i;
        long trials = size >= 0 && size < max ? (long)size : max;
        printf("  %ld trial%s of up to %ld epoch%s each", trials, trials == 1 ? "" : "s", epochs, epochs == 1 ? "" : "s");
        if (trials < max) printf(" (the space has only %ld configurations)", trials);
        putchar('\n');
    }
    }
    hpt_value exec = args[st_arg_index(t->entry, "executions_per_trial")];
    if (exec.u.i > 1) printf("  each trial trains %lld times; its score is the mean\n", (long long)exec.u.i);
    arena_free(&scratch);
}

static int cmd_space(int argc, char **argv)
{
    const char *file;
    if (cli_parse("space", argc, argv, no_options, &file, 1, 1)) return cli_usage("space");
    ir_program *p = cli_compile(file, 1);
    if (!p) return 1;
    space_print(p, stdout);
    print_tuner_plan(p);
    ir_free(p);
    return 0;
}

/* ---- the table ---------------------------------------------------------- */

static const cli_command commands[] = {
    { "check", cmd_check, "parse and check a spec", "hptc check FILE.hpt\n"
      "  Parse and check FILE (- reads stdin): names, types, ranges, and shapes for\n"
      "  every value the hyperparameters can take; the data files' headers against\n"
      "  the model (files exist, the CSV's label column, the input's size, the\n"
      "  output's width against the classes); each configuration's weights, gradients\n"
      "  and optimizer state against this machine's memory (HPTC_MEMORY_LIMIT=BYTES\n"
      "  for another's). Every error in one run. Exit 0 when clean, 1 with errors." },
    { "ir", cmd_ir, "print the lowered IR", "hptc ir FILE.hpt | hptc ir --emit-llvm FILE.hpt [--set NAME=VALUE]...\n"
      "  Print the IR the runtime consumes, in the stable text form of docs/ir.md.\n"
      "  --emit-llvm: the LLVM IR the JIT backend runs for one trial (defaults changed by --set)." },
    { "fmt", cmd_fmt, "format a spec canonically", "hptc fmt [--check] [-w] FILE.hpt...\n"
      "  Print FILE in canonical form (comments kept).  --check: list files that are\n"
      "  not formatted and exit 1.  -w: rewrite the files in place." },
    { "space", cmd_space, "show the search space and the tuner's plan", "hptc space FILE.hpt\n"
      "  Every hyperparameter (type, values, sampling, default, when it is active),\n"
      "  the number of configurations, and the tuner's plan (Hyperband's brackets)." },
    CLI_RUNTIME_COMMANDS
};
static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

int cli_usage(const char *name)
{
    /* After a mistake, the synopsis: `hptc NAME --help` prints the whole text. */
    for (int k = 0; k < n_commands; k++)
        if (!strcmp(commands[k].name, name))
            fprintf(stderr, "usage: %.*s\n(hptc %s --help tells more)\n", (int)strcspn(commands[k].usage, "\n"),
                    commands[k].usage, name);
    return 2;
}

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
