/* cli.h: what the command handlers of cli/ share.
 * Only the CLI prints; everything below it returns errors as values. */
#ifndef HPTC_CLI_H
#define HPTC_CLI_H
#include <stdio.h>
#include "compiler/ir.h"

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);  /* argv after the command name */
    const char *summary;
    const char *usage;
} cli_command;

/* After a mistake: the first line of a command's usage text (cli_run_usage,
 * ...) to stderr, and where the rest is; returns 2 (the usage-error status). */
int cli_usage(const char *usage);

/* A command's options, as rows (cli/args.c), written with the macros below:
 *   { CLI_INT_OPT("--jobs", &jobs, 1), CLI_FLAG_OPT("--overwrite", &overwrite),
 *     CLI_CHOICE_OPT("--backend", &backend, "blas|jit"), CLI_LIST_OPT("--set", &sets), CLI_END_OPT } */
typedef enum { CLI_FLAG, CLI_INT, CLI_STRING, CLI_LIST } cli_kind;
typedef struct cli_list { const char **items; int n; } cli_list;   /* a repeatable option's values */
typedef struct cli_option {
    const char *name;
    cli_kind kind;
    void *dest;                 /* int* (FLAG, INT), const char ** (STRING), cli_list * (LIST) */
    int min;                    /* CLI_INT: the least value accepted */
    const char *choices;        /* CLI_STRING: "a|b" when only those are valid */
} cli_option;
#define CLI_FLAG_OPT(name, dest) { name, CLI_FLAG, dest, 0, NULL }
#define CLI_INT_OPT(name, dest, min) { name, CLI_INT, dest, min, NULL }
#define CLI_STRING_OPT(name, dest) { name, CLI_STRING, dest, 0, NULL }
#define CLI_CHOICE_OPT(name, dest, choices) { name, CLI_STRING, dest, 0, choices }
#define CLI_LIST_OPT(name, dest) { name, CLI_LIST, dest, 0, NULL }
#define CLI_END_OPT { NULL, CLI_FLAG, NULL, 0, NULL }
/* Parse argv (after the command name) against opts, which end with a NULL
 * name; positional arguments go to positional[0..max) (unset ones NULL).
 * Returns 0, or -1 after naming what is wrong (an unknown option with the
 * nearest known one, a missing or malformed value, an argument too many or
 * missing); the caller then prints its usage (cli_usage).  Free lists with
 * cli_list_free. */
int cli_parse(const char *command, int argc, char **argv, const cli_option *opts, const char **positional,
              int min_positional, int max_positional);
void cli_list_free(const cli_option *opts);
/* Read a whole file ("-" = stdin), NUL-terminated; prints its own error. */
int cli_read_file(const char *path, char **text, size_t *len);
/* What cli_compile tells the compiler: the runtime's probe of the data and
 * this machine's memory (HPTC_MEMORY_LIMIT), so every command checks alike. */
struct compile_options cli_compile_options(void);
/* Compile a spec, printing diagnostics (warnings too unless quiet_warnings). */
ir_program *cli_compile(const char *path, int quiet_warnings);
/* Append ", jit [...]" to the backends line of --version when built with LLVM. */
void cli_print_extra_backends(FILE *out);

/* Shared by the runtime's commands (cli/train.c). */
int cli_apply_sets(const ir_program *p, hpt_value *values, const char *const *sets, int n_sets);
void cli_describe_values(const ir_program *p, const hpt_value *values, char *buf, size_t n);

/* The commands, rows of cli/main.c's table: a handler (argv after the
 * command's name; returns the exit status) and its usage text, each pair in
 * the file named: check.c (check, ir, fmt, space), run.c (run), results.c
 * (summary, best, export), train.c (train, eval), report.c (report). */
int cli_check(int argc, char **argv);
int cli_ir(int argc, char **argv);
int cli_fmt(int argc, char **argv);
int cli_space(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_train(int argc, char **argv);
int cli_eval(int argc, char **argv);
int cli_summary(int argc, char **argv);
int cli_best(int argc, char **argv);
int cli_export(int argc, char **argv);
int cli_report(int argc, char **argv);
int cli_diff(int argc, char **argv);    /* diff.c */
extern const char cli_diff_usage[];
int cli_lsp(int argc, char **argv);     /* lsp.c */
extern const char cli_lsp_usage[];
/* run --warm-start (diff.c): from gets p's project; when it holds a study of
 * another spec, *old gets that spec (compiled from its store) and p is
 * pointed at a project of its own beside it (project_name-HASH8), which the
 * search seeds from the old one (runtime/tune/warmstart.h).  *old stays
 * NULL when there is nothing to warm-start from.  0, or 1 (printed). */
int cli_warm_start(ir_program *p, char *from, size_t n, ir_program **old);
extern const char cli_check_usage[], cli_ir_usage[], cli_fmt_usage[], cli_space_usage[], cli_run_usage[],
    cli_train_usage[], cli_eval_usage[], cli_summary_usage[], cli_best_usage[], cli_export_usage[],
    cli_report_usage[];

/* "0.1.0", for the store and --version. */
const char *cli_version(void);
#endif
