/* trial_key.c: see trial_key.h.  Expanding the key walks the layers as
 * runtime/nn/trial.c's trial_expand does (present layers numbered in order,
 * an absent layer passing on what its first input reads), so the numbering
 * is the trial's; it allocates nothing of the trial. */
#include "compiler/trial_key.h"

#include <stdlib.h>
#include <string.h>

/* entry(arg = value, ...), every argument evaluated; paths left out when skip_paths. */
static int put_call(const ir_program *p, const ir_call *c, const ir_assignment *a, arena *scratch, int skip_paths,
                    FILE *out, char *why, size_t why_len)
{
    hpt_value *args = ARENA_ARRAY(scratch, hpt_value, c->entry->n_args + 1);
    if (!args) return snprintf(why, why_len, "out of memory"), -1;
    if (ir_eval_call(p, c, a, scratch, args, why, why_len)) return -1;
    fprintf(out, "%s(", c->entry->name);
    int shown = 0;
    for (int k = 0; k < c->entry->n_args; k++) {
        if (skip_paths && (c->entry->args[k].flags & A_PATH)) continue;
        fprintf(out, "%s%s = ", shown++ ? ", " : "", c->entry->args[k].name);
        value_fprint(out, args[k]);
    }
    fputc(')', out);
    return 0;
}

char *ir_trial_key(const ir_program *p, const hpt_value *values, char *why, size_t why_len)
{
    ir_assignment a = { (hpt_value *)values, p->n_hps };
    arena scratch = { 0 };
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    int *at = calloc((size_t)p->n_layers + 1, sizeof *at);
    int rc = out && at ? 0 : (snprintf(why, why_len, "out of memory"), -1);
    if (rc == 0 && p->data.entry) {
        fputs("data ", out);
        rc = put_call(p, &p->data, &a, &scratch, 1, out, why, why_len);
        fputc('\n', out);
    }
    /* at[k]: the trial's number of the layer whose output template layer k's readers read. */
    int n = 0;
    for (int k = 0; rc == 0 && k < p->n_layers; k++) {
        const ir_call *c = &p->layers[k];
        at[k] = c->n_inputs ? at[c->inputs[0]] : -1;
        if (!ir_holds(p, c->guard, &a)) continue;
        fprintf(out, "layer %d ", n);
        rc = put_call(p, c, &a, &scratch, 0, out, why, why_len);
        if (c->n_inputs) {
            fputs(" reads (", out);
            for (int i = 0; i < c->n_inputs; i++) fprintf(out, "%s%d", i ? ", " : "", at[c->inputs[i]]);
            fputc(')', out);
        }
        fputc('\n', out);
        at[k] = n++;
    }
    if (rc == 0 && p->compile.entry) {
        fputs("compile ", out);
        rc = put_call(p, &p->compile, &a, &scratch, 0, out, why, why_len);
        fputc('\n', out);
    }
    if (rc == 0 && p->search.entry) {
        fputs("search ", out);
        rc = put_call(p, &p->search, &a, &scratch, 0, out, why, why_len);
        fputc('\n', out);
    }
    int x = p->tuner.entry ? st_arg_index(p->tuner.entry, "executions_per_trial") : -1;
    if (rc == 0 && x >= 0) {
        hpt_value v;
        rc = ir_eval(p, p->tuner.args[x], &a, &scratch, &v, why, why_len);
        if (rc == 0) fprintf(out, "executions_per_trial "), value_fprint(out, v), fputc('\n', out);
    }
    free(at);
    arena_free(&scratch);
    if (out && fclose(out) && rc == 0) rc = -1, snprintf(why, why_len, "out of memory");
    if (rc) free(text), text = NULL;
    return text;
}
