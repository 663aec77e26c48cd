/* source.c: see source.h. */
#include "runtime/source.h"

#include <stdio.h>
#include <string.h>

/* A relative path in a spec (an A_PATH argument) is relative to the spec's
 * own directory, as an #include is: a spec kept in version control beside
 * its data works from any working directory.  A spec read from stdin
 * resolves from the cwd. */
typedef struct spec_paths { char buf[4][4096]; } spec_paths;

static const hpt_value *resolve(const ir_program *p, const st_entry *entry, const hpt_value *a, hpt_value *out,
                                spec_paths *paths)
{
    const char *slash = strrchr(p->file, '/');
    int used = 0;
    for (int k = 0; k < entry->n_args && k < 16; k++) {    /* out holds 16: data sources have 5 */
        out[k] = a[k];
        if (!(entry->args[k].flags & A_PATH) || a[k].type != V_STRING || a[k].u.s[0] == '/' || !slash ||
            !strcmp(p->file, "<stdin>") || used == 4)
            continue;
        snprintf(paths->buf[used], sizeof paths->buf[used], "%.*s/%s", (int)(slash - p->file), p->file, a[k].u.s);
        out[k].u.s = paths->buf[used++];
    }
    return out;
}

static int load_call(const ir_program *p, const st_entry *entry, const hpt_value *given, data_set *train, data_set *test,
                     hpt_error *e)
{
    hpt_value resolved[16];
    spec_paths paths;
    const hpt_value *a = resolve(p, entry, given, resolved, &paths);
    memset(test, 0, sizeof *test);
    switch (entry->id) {
    case ST_fashion_mnist:
    case ST_mnist:
        return data_load_builtin(entry->name, train, test, e);
    case ST_idx:
        if (data_load_idx(train, a[idx_train_images].u.s, a[idx_train_labels].u.s, e)) return -1;
        if (a[idx_test_images].type == V_STRING && a[idx_test_labels].type == V_STRING &&
            data_load_idx(test, a[idx_test_images].u.s, a[idx_test_labels].u.s, e))
            return data_free(train), -1;
        return 0;
    case ST_csv: {
        const char *label = a[csv_label].type == V_STRING ? a[csv_label].u.s : NULL;
        if (data_load_csv(train, a[csv_path].u.s, label, e)) return -1;
        if (a[csv_test].type == V_STRING && data_load_csv(test, a[csv_test].u.s, label, e)) return data_free(train), -1;
        return 0;
    }
    case ST_npy:
        if (data_load_npy(train, a[npy_x].u.s, a[npy_y].u.s, e)) return -1;
        if (a[npy_test_x].type == V_STRING && a[npy_test_y].type == V_STRING &&
            data_load_npy(test, a[npy_test_x].u.s, a[npy_test_y].u.s, e))
            return data_free(train), -1;
        return 0;
    }
    return hpt_fail(e, "%s: %s is not a data source", p->file, entry->name);
}

int source_load(const ir_program *p, source_data *d, hpt_error *e)
{
    memset(d, 0, sizeof *d);
    arena scratch = { 0 };
    hpt_value args[16], search[search_nargs];
    char why[200];
    /* Paths are constants; scale may not be, so evaluate what loading needs only. */
    for (int k = 0; k < p->data.entry->n_args; k++) {
        args[k] = value_none();
        if (p->data.args[k]->op == X_CONST) args[k] = p->data.args[k]->value;
    }
    int rc = load_call(p, p->data.entry, args, &d->train, &d->test, e);
    if (rc == 0) {
        const ir_expr *v = p->search.args[search_validation_data];
        if (v->op == X_OBJECT && ir_eval(p, v, NULL, &scratch, &search[0], why, sizeof why) == 0) {
            data_set unused;
            rc = load_call(p, v->entry, search[0].u.object.args, &d->validation, &unused, e);
            data_free(&unused);
        }
    }
    arena_free(&scratch);
    if (rc) source_free(d);
    return rc;
}

void source_free(source_data *d)
{
    data_free(&d->train);
    data_free(&d->test);
    data_free(&d->validation);
}

float source_scale(const ir_program *p, const hpt_value *values)
{
    ir_assignment a = { (hpt_value *)values, p->n_hps };
    arena scratch = { 0 };
    hpt_value v;
    char why[100];
    int scale_arg = st_arg_index(p->data.entry, "scale");
    float scale = 1;
    if (ir_eval(p, p->data.args[scale_arg], &a, &scratch, &v, why, sizeof why) == 0) scale = (float)value_as_double(v);
    arena_free(&scratch);
    return scale;
}

int source_check_classes(const source_data *d, int outputs, hpt_error *e)
{
    const data_set *sets[3] = { &d->train, &d->test, &d->validation };
    for (int k = 0; k < 3; k++) {
        if (sets[k]->n == 0 || sets[k]->n_classes <= outputs) continue;
        return hpt_fail(e, "%s: labels go up to %d, but the model has %d outputs", sets[k]->source,
                        sets[k]->n_classes - 1, outputs);
    }
    return 0;
}
