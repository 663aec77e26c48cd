/* check.c: the commands that stop at the compiler: check, ir, fmt, space.
 *
 * Each compiles the spec (cli_compile: diagnostics with the data's headers
 * and the machine's memory) and prints what the compiler knows: nothing but
 * the diagnostics (check), the IR or one trial's LLVM module (ir), the
 * canonical text (fmt), the search space and the tuner's plan (space). */
#include "cli/cli.h"
#include "compiler/compile.h"
#include "compiler/cost.h"
#include "compiler/fmt.h"
#include "compiler/space.h"
#include "runtime/nn/trial.h"
#include "runtime/tune/oracle.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_option no_options[] = { CLI_END_OPT };

int cli_check(int argc, char **argv)
{
    const char *file;
    if (cli_parse("check", argc, argv, no_options, &file, 1, 1)) return cli_usage(cli_check_usage);
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

int cli_ir(int argc, char **argv)
{
    const char *file;
    int llvm = 0;
    cli_list sets;
    const cli_option opts[] = { CLI_FLAG_OPT("--emit-llvm", &llvm), CLI_LIST_OPT("--set", &sets), CLI_END_OPT };
    if (cli_parse("ir", argc, argv, opts, &file, 1, 1)) return cli_usage(cli_ir_usage);
    if (llvm || sets.n) {
        int rc = llvm ? emit_llvm(file, &sets) : (fprintf(stderr, "hptc ir: --set goes with --emit-llvm\n"), cli_usage(cli_ir_usage));
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

int cli_fmt(int argc, char **argv)
{
    int check = 0, write = 0, status = 0;
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    if (!files) return 1;
    const cli_option opts[] = { CLI_FLAG_OPT("--check", &check), CLI_FLAG_OPT("-w", &write), CLI_END_OPT };
    if (cli_parse("fmt", argc, argv, opts, files, 1, argc)) {
        free(files);
        return cli_usage(cli_fmt_usage);
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

/* The tuner's plan: the oracle of the spec's tuner describes its own. */
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
    if (ir_eval_call(p, t, NULL, &scratch, args, why, sizeof why) == 0) {
        hpt_value epochs_v;
        ir_eval(p, p->search.args[search_epochs], NULL, &scratch, &epochs_v, why, sizeof why);
        oracle_config cfg = { .p = p, .tuner = t->entry, .args = args,
                              .default_epochs = epochs_v.type == V_INT ? (int)epochs_v.u.i : 1 };
        oracle_print_plan(&cfg, stdout);
    }
    arena_free(&scratch);
}

int cli_space(int argc, char **argv)
{
    const char *file;
    if (cli_parse("space", argc, argv, no_options, &file, 1, 1)) return cli_usage(cli_space_usage);
    ir_program *p = cli_compile(file, 1);
    if (!p) return 1;
    space_print(p, stdout);
    cost_print_space(p, stdout);
    print_tuner_plan(p);
    ir_free(p);
    return 0;
}

const char cli_check_usage[] =
    "hptc check FILE.hpt\n"
    "  Parse and check FILE (- reads stdin): names, types, ranges, and shapes for\n"
    "  every value the hyperparameters can take; the data files' headers against\n"
    "  the model (files exist, the CSV's label column, the input's size, the\n"
    "  output's width against the classes); each configuration's weights, gradients\n"
    "  and optimizer state against this machine's memory (HPTC_MEMORY_LIMIT=BYTES\n"
    "  for another's). Every error in one run. Exit 0 when clean, 1 with errors.";
const char cli_ir_usage[] =
    "hptc ir FILE.hpt | hptc ir --emit-llvm FILE.hpt [--set NAME=VALUE]...\n"
    "  Print the IR the runtime consumes, in the stable text form of docs/ir.md.\n"
    "  --emit-llvm: the LLVM IR the JIT backend runs for one trial (defaults changed by --set).";
const char cli_fmt_usage[] =
    "hptc fmt [--check] [-w] FILE.hpt...\n"
    "  Print FILE in canonical form (comments kept).  --check: list files that are\n"
    "  not formatted and exit 1.  -w: rewrite the files in place.";
const char cli_space_usage[] =
    "hptc space FILE.hpt\n"
    "  Every hyperparameter (type, values, sampling, default, when it is active),\n"
    "  the number of configurations, the range of trainable params, forward FLOPs\n"
    "  per sample and training memory (MB = 10^6 bytes) per region of the space and\n"
    "  overall, exact or estimated, the share within the tuner's max_model_size,\n"
    "  max_flops and max_memory, and the tuner's plan (Hyperband's brackets).\n"
    "  See docs/space.md.";
