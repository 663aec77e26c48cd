/* cli.h: what the command handlers share (runtime/main.c and runtime/cli_*.c).
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

/* Print the command's usage to stderr; returns 2 (the usage-error status). */
int cli_usage(const char *name);
/* Read a whole file ("-" = stdin), NUL-terminated; prints its own error. */
int cli_read_file(const char *path, char **text, size_t *len);
/* Compile a spec, printing diagnostics (warnings too unless quiet_warnings). */
ir_program *cli_compile(const char *path, int quiet_warnings);
/* Append ", jit [...]" to the backends line of --version when built with LLVM. */
void cli_print_extra_backends(FILE *out);

/* Shared by the runtime's commands (runtime/cli_train.c). */
int cli_apply_sets(const ir_program *p, hpt_value *values, char **sets, int n_sets);
void cli_describe_values(const ir_program *p, const hpt_value *values, char *buf, size_t n);

/* The runtime's commands, defined in runtime/cli_*.c, as rows of main.c's table. */
int cli_train(int argc, char **argv);
int cli_eval(int argc, char **argv);
int cli_run(int argc, char **argv);
int cli_summary(int argc, char **argv);
int cli_best(int argc, char **argv);
int cli_export(int argc, char **argv);
int cli_report(int argc, char **argv);
extern const char cli_report_usage[];
extern const char cli_train_usage[], cli_eval_usage[], cli_run_usage[], cli_summary_usage[], cli_best_usage[],
    cli_export_usage[];
#define CLI_RUNTIME_COMMANDS                                                              \
    { "run", cli_run, "run the search (resumes when run again)", cli_run_usage },         \
    { "train", cli_train, "train one configuration", cli_train_usage },                   \
    { "eval", cli_eval, "evaluate saved weights on the test split", cli_eval_usage },     \
    { "summary", cli_summary, "the trials of a project, best first", cli_summary_usage }, \
    { "best", cli_best, "the best trial's hyperparameters", cli_best_usage },             \
    { "export", cli_export, "write a trial's weights for hptc eval", cli_export_usage },   \
    { "report", cli_report, "one self-contained HTML page over the trials", cli_report_usage },

/* "0.1.0", for the store and --version. */
const char *cli_version(void);
#endif
