/* source.c: see source.h.  Loading (source_load) and probing (source_probe,
 * for the checker) resolve a spec's paths with the same function, so `hptc
 * check` looks at the very files `hptc run` will read. */
#include "runtime/data/source.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* A relative path in a spec (an A_PATH argument) is relative to the spec's
 * own directory, as an #include is: a spec kept in version control beside
 * its data works from any working directory.  A spec read from stdin
 * resolves from the cwd. */
typedef struct spec_paths { char buf[4][4096]; } spec_paths;

static const hpt_value *resolve(const char *spec_file, const st_entry *entry, const hpt_value *a, hpt_value *out,
                                spec_paths *paths)
{
    const char *slash = strrchr(spec_file, '/');
    int used = 0;
    for (int k = 0; k < entry->n_args && k < 16; k++) {    /* out holds 16: data sources have 5 */
        out[k] = a[k];
        if (!(entry->args[k].flags & A_PATH) || a[k].type != V_STRING || a[k].u.s[0] == '/' || !slash ||
            !strcmp(spec_file, "<stdin>") || used == 4)
            continue;
        snprintf(paths->buf[used], sizeof paths->buf[used], "%.*s/%s", (int)(slash - spec_file), spec_file, a[k].u.s);
        out[k].u.s = paths->buf[used++];
    }
    return out;
}

static int load_call(const ir_program *p, const st_entry *entry, const hpt_value *given, data_set *train, data_set *test,
                     hpt_error *e)
{
    hpt_value resolved[16];
    spec_paths paths;
    const hpt_value *a = resolve(p->file, entry, given, resolved, &paths);
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

/* csv(standardize = True): every feature column of the training set to mean
 * 0 and standard deviation 1 (the population's, as StandardScaler; a
 * constant column is only centred), and the same affine map on the other
 * sets, whose own statistics are never looked at. */
static void standardize(source_data *d)
{
    data_set *train = &d->train, *others[2] = { &d->test, &d->validation };
    size_t F = train->sample_size;
    for (size_t j = 0; train->f32 && j < F; j++) {
        double sum = 0, sq = 0;
        for (int i = 0; i < train->n; i++) sum += train->f32[(size_t)i * F + j];
        double mean = train->n ? sum / train->n : 0;
        for (int i = 0; i < train->n; i++) {
            double x = train->f32[(size_t)i * F + j] - mean;
            sq += x * x;
        }
        double sd = train->n ? sqrt(sq / train->n) : 0;
        if (!(sd > 0)) sd = 1;
        for (int i = 0; i < train->n; i++) train->f32[(size_t)i * F + j] = (float)((train->f32[(size_t)i * F + j] - mean) / sd);
        for (int k = 0; k < 2; k++)
            for (int i = 0; others[k]->f32 && others[k]->sample_size == F && i < others[k]->n; i++)
                others[k]->f32[(size_t)i * F + j] = (float)((others[k]->f32[(size_t)i * F + j] - mean) / sd);
    }
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
    if (rc == 0 && p->data.entry->id == ST_csv && args[csv_standardize].type == V_BOOL && args[csv_standardize].u.b)
        standardize(d);
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

/* ---- probing (compiler/probe.h) ------------------------------------------- */

typedef struct probe_state {
    const st_entry *entry;
    const hpt_value *given;     /* the paths as written, for messages */
    const hpt_value *a;         /* ... resolved */
    probe_facts *f;
} probe_state;

/* A failure at argument k: the file's own message, and for a relative path
 * that does not open, where it was looked for.  Returns -1. */
static int fail_at(probe_state *s, int k, const char *message, const char *hint)
{
    probe_facts *f = s->f;
    if (f->n_failures == (int)(sizeof f->failures / sizeof f->failures[0])) return -1;
    probe_failure *why = &f->failures[f->n_failures++];
    why->arg = k;
    snprintf(why->message, sizeof why->message, "%s", message);
    if (hint) snprintf(why->hint, sizeof why->hint, "%s", hint);
    else if (k >= 0 && s->given[k].type == V_STRING && s->a[k].u.s != s->given[k].u.s && strstr(message, "cannot open"))
        snprintf(why->hint, sizeof why->hint, "a relative path is read from the spec's directory: %s", s->a[k].u.s);
    return -1;
}

/* A pair of files (samples x, labels y; one CSV file for both): their
 * headers, and one count.  Each failure is added; -1 when there was one. */
static int probe_pair(probe_state *s, int x, int y, int csv_label, data_header *hx, data_header *hy)
{
    hpt_error e;
    memset(hx, 0, sizeof *hx);
    memset(hy, 0, sizeof *hy);
    if (s->entry->id == ST_csv) {
        const char *label = s->a[csv_label].type == V_STRING ? s->a[csv_label].u.s : NULL;
        int rc = data_probe_csv(hx, s->a[x].u.s, label, &e);
        if (rc == -2) {
            /* The label column is the argument at fault: "did you mean" among the header's names. */
            const char *names[65];
            int n = hx->n_columns < 64 ? hx->n_columns : 64;
            for (int k = 0; k < n; k++) names[k] = hx->columns[k];
            names[n] = NULL;
            const char *near = st_suggest(ST_KIND_COUNT, label, names);
            char hint[200];
            snprintf(hint, sizeof hint, "did you mean '%s'?", near ? near : "");
            return fail_at(s, csv_label, e.message, near ? hint : NULL);
        }
        return rc ? fail_at(s, x, e.message, NULL) : 0;
    }
    bool idx = s->entry->id == ST_idx;
    int bad = 0;
    if (idx ? data_probe_idx(hx, s->a[x].u.s, 3, &e) : data_probe_npy(hx, s->a[x].u.s, 1, &e)) bad = fail_at(s, x, e.message, NULL);
    if (idx ? data_probe_idx(hy, s->a[y].u.s, 1, &e) : data_probe_npy(hy, s->a[y].u.s, 0, &e)) bad = fail_at(s, y, e.message, NULL);
    if (!bad && hx->n != hy->n) {
        char m[700];
        snprintf(m, sizeof m, "%s has %lld samples but %s has %lld labels", s->given[x].u.s, hx->n, s->given[y].u.s, hy->n);
        bad = fail_at(s, y, m, NULL);
    }
    return bad;
}

int source_probe(void *user, const char *spec_file, const st_entry *entry, const hpt_value *given, probe_facts *f)
{
    (void)user;
    int x, y, tx, ty, label = -1;
    switch (entry->id) {
    case ST_idx: x = idx_train_images, y = idx_train_labels, tx = idx_test_images, ty = idx_test_labels; break;
    case ST_npy: x = npy_x, y = npy_y, tx = npy_test_x, ty = npy_test_y; break;
    case ST_csv: x = y = csv_path, tx = ty = csv_test, label = csv_label; break;
    default: return 0;      /* the built-in datasets: the compiler knows them */
    }
    if (given[x].type != V_STRING || given[y].type != V_STRING) return 0;
    hpt_value resolved[16];
    spec_paths paths;
    probe_state s = { entry, given, resolve(spec_file, entry, given, resolved, &paths), f };
    data_header hx = { 0 }, hy = { 0 }, tx_h = { 0 }, ty_h = { 0 };
    bool csv = entry->id == ST_csv;
    int train = probe_pair(&s, x, y, label, &hx, &hy);
    if (train == 0) {
        f->rank = hx.rank;
        memcpy(f->shape, hx.shape, sizeof f->shape);
        f->n_classes = csv ? hx.n_classes : hy.n_classes;
        snprintf(f->source, sizeof f->source, "%s", given[x].u.s);
        snprintf(f->labels, sizeof f->labels, "%s", given[y].u.s);
        if (csv) snprintf(f->sample, sizeof f->sample, "%d feature column%s", hx.shape[0], hx.shape[0] == 1 ? "" : "s");
        else if (hx.rank == 1) snprintf(f->sample, sizeof f->sample, "%d value%s", hx.shape[0], hx.shape[0] == 1 ? "" : "s");
        else snprintf(f->sample, sizeof f->sample, hx.rank == 2 ? "%dx%d" : "%dx%dx%d", hx.shape[0], hx.shape[1], hx.shape[2]);
    }
    /* The test split, independent of the training files' failures: the same
     * sample shape (a CSV: the same columns), its classes counted too. */
    if (given[tx].type == V_STRING && (csv || given[ty].type == V_STRING) && probe_pair(&s, tx, ty, label, &tx_h, &ty_h) == 0 &&
        train == 0) {
        if (tx_h.rank != hx.rank || memcmp(tx_h.shape, hx.shape, sizeof hx.shape) || tx_h.n_columns != hx.n_columns) {
            char m[700];
            snprintf(m, sizeof m, "the test samples in %s are not shaped as the training samples in %s (%s)", given[tx].u.s,
                     given[x].u.s, csv ? "a test CSV needs the same columns" : f->sample);
            fail_at(&s, tx, m, NULL);
        }
        long long classes = csv ? tx_h.n_classes : ty_h.n_classes;
        if (classes > f->n_classes && f->n_classes > 0) f->n_classes = classes, snprintf(f->labels, sizeof f->labels, "%s", given[ty].u.s);
    }
    data_header_free(&hx), data_header_free(&hy), data_header_free(&tx_h), data_header_free(&ty_h);
    return f->n_failures ? -1 : 0;
}
