/* common.c: what every command shares: reading and compiling a spec (with
 * the runtime's probe of the data and this machine's memory), the usage
 * line after a mistake, and --set values.  Nothing here knows the command
 * table (cli/main.c), so every command file depends on this one and none on
 * main.c. */
#include "cli/cli.h"
#include "compiler/compile.h"
#include "runtime/data/source.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

compile_options cli_compile_options(void)
{
    return (compile_options){ .probe = source_probe, .memory_bytes = memory_limit() };
}

ir_program *cli_compile(const char *path, int quiet_warnings)
{
    char *src;
    size_t len;
    if (cli_read_file(path, &src, &len)) return NULL;
    FILE *diag = stderr;
    /* The data's headers and this machine's memory: what the checker may not look at itself. */
    compile_options o = cli_compile_options();
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

int cli_usage(const char *usage)
{
    /* After a mistake, the synopsis: `hptc NAME --help` prints the whole
     * text.  The name is the word after "hptc " that every usage starts with. */
    int line = (int)strcspn(usage, "\n"), name = (int)strcspn(usage + 5, " \n");
    fprintf(stderr, "usage: %.*s\n(hptc %.*s --help tells more)\n", line, usage, name, usage + 5);
    return 2;
}

/* --set name=value for every hyperparameter named; the rest keep defaults. */
int cli_apply_sets(const ir_program *p, hpt_value *values, const char *const *sets, int n_sets)
{
    ir_default_assignment(p, values);
    for (int k = 0; k < p->n_hps; k++)
        if (values[k].type == V_NONE) values[k] = p->hps[k].default_value;
    for (int s = 0; s < n_sets; s++) {
        const char *eq = strchr(sets[s], '=');
        if (!eq) {
            fprintf(stderr, "hptc: --set wants name=value, not '%s'\n", sets[s]);
            return -1;
        }
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - sets[s]), sets[s]);
        int k = ir_find_hp(p, name);
        if (k < 0) {
            fprintf(stderr, "hptc: %s has no hyperparameter '%s'\n", p->file, name);
            const char *names[256];
            int n = 0;
            for (; n < p->n_hps && n < 255; n++) names[n] = p->hps[n].name;
            names[n] = NULL;
            const char *near = st_suggest(ST_KIND_COUNT, name, names);
            if (near) fprintf(stderr, "hptc: did you mean '%s'?\n", near);
            return -1;
        }
        char why[300];
        if (ir_parse_hp_value(p, k, eq + 1, &values[k], why, sizeof why)) {
            fprintf(stderr, "hptc: --set %s: %s\n", sets[s], why);
            return -1;
        }
    }
    /* Deactivate what the chosen values switch off (num_layers=1 drops units_1). */
    hpt_value *active = malloc(sizeof *active * ((size_t)p->n_hps + 1));
    if (!active) return -1;
    memcpy(active, values, sizeof *values * (size_t)p->n_hps);
    ir_deactivate(p, active);
    memcpy(values, active, sizeof *values * (size_t)p->n_hps);
    free(active);
    return 0;
}

void cli_describe_values(const ir_program *p, const hpt_value *values, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    for (int k = 0; k < p->n_hps && len + 1 < n; k++) {
        if (values[k].type == V_NONE) continue;
        char v[80];
        value_format(v, sizeof v, values[k]);
        len += (size_t)snprintf(buf + len, n - len, "%s%s=%s", len ? ", " : "", p->hps[k].name, v);
    }
}

