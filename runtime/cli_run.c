/* cli_run.c: `hptc run` (the search) and the commands that read a
 * project's store: summary, best, export.
 *
 * The readers open the store read-only, so they work while a search is
 * still writing to it. */
#include "compiler/compile.h"
#include "runtime/cli.h"
#include "runtime/dist.h"
#include "runtime/jit.h"
#include "runtime/store.h"
#include "runtime/tuner.h"
#include "runtime/weights.h"

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
    const char *file = NULL;
    int jobs = (int)sysconf(_SC_NPROCESSORS_ONLN), overwrite = 0, limit = 0, jit = 0;
    for (int k = 0; k < argc; k++) {
        if (!strcmp(argv[k], "--jobs") && k + 1 < argc) jobs = atoi(argv[++k]);
        else if (!strncmp(argv[k], "--jobs=", 7)) jobs = atoi(argv[k] + 7);
        else if (!strcmp(argv[k], "--overwrite")) overwrite = 1;
        else if (!strcmp(argv[k], "--limit") && k + 1 < argc) limit = atoi(argv[++k]);
        else if (!strcmp(argv[k], "--backend") && k + 1 < argc &&
                 (!strcmp(argv[k + 1], "jit") || !strcmp(argv[k + 1], "blas")))
            jit = !strcmp(argv[++k], "jit");
        else if (argv[k][0] == '-' && argv[k][1]) return cli_usage("run");
        else if (!file) file = argv[k];
        else return cli_usage("run");
    }
    if (!file || jobs < 1) return cli_usage("run");
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
    signal(SIGINT, on_sigint);
    signal(SIGTERM, on_sigint);
    tune_options o = { .jobs = jobs, .overwrite = overwrite, .limit = limit, .out = stdout,
                       .interrupted = &interrupted, .jit = jit, .backend = jit ? "jit" : "blas",
                       .version = cli_version(), .dist = ranks > 1 ? d : NULL };
    /* mpirun hands its ranks a pseudo-terminal even when its own output is a file. */
    o.live = isatty(1) && !getenv("NO_COLOR") && ranks == 1;
    int rc = rank == 0 ? tune_run(p, &o, &e) : tune_worker(p, &o, &e);
    if (rc < 0 && e.message[0]) {
        if (rank > 0) fprintf(stderr, "hptc: rank %d: %s\n", rank, e.message);
        else fprintf(stderr, "hptc: %s\n", e.message);
    }
    ir_free(p);
    dist_finalize(d);
    /* A rank whose failure rank 0 reported exits 0: rank 0's status is the job's,
     * and an early non-zero exit would have mpirun kill rank 0 before it prints. */
    if (rank > 0 && rc < 0 && !e.message[0]) return 0;
    return rc < 0 ? 1 : rc == 1 ? 130 : 0;
}

/* ---- reading a store ---------------------------------------------------- */

static int direction_max(store *s, char *objective, size_t n)
{
    char *obj = store_meta_get(s, "objective");
    snprintf(objective, n, "%s", obj ? obj : "val_loss");
    free(obj);
    return tune_maximize(objective);
}

/* Completed trials, best first (ties by id). */
static int *ranked(const store_trial *t, int n, int maximize, int *m)
{
    int *order = malloc(sizeof *order * (size_t)(n ? n : 1));
    *m = 0;
    for (int k = 0; order && k < n; k++)
        if (!strcmp(t[k].status, "completed") && !isnan(t[k].score)) order[(*m)++] = k;
    for (int a = 1; order && a < *m; a++)
        for (int b = a; b > 0; b--) {
            double x = t[order[b]].score, y = t[order[b - 1]].score;
            if (!(maximize ? x > y : x < y)) break;
            int tmp = order[b];
            order[b] = order[b - 1];
            order[b - 1] = tmp;
        }
    return order;
}

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
        else if (c < 0x20) fprintf(out, "\\u%04x", c);
        else fputc(c, out);
    }
    fputc('"', out);
}

static void json_number(FILE *out, double v)
{
    if (isnan(v)) fputs("null", out);
    else fprintf(out, "%.17g", v);
}

/* With executions_per_trial or cv folds, each execution's score (its best
 * epoch's objective): "execution_scores": [0.86, 0.85, ...]. */
static void executions_json(FILE *out, const store_epoch_row *h, int nh, const char *objective, int maximize)
{
    int n = 0;
    for (int r = 0; r < nh; r++)
        if (h[r].execution + 1 > n) n = h[r].execution + 1;
    if (n < 2) return;
    fputs(", \"execution_scores\": [", out);
    for (int x = 0; x < n; x++) {
        json_number(out, tune_execution_best(h, nh, x, objective, maximize, NULL));
        fputs(x + 1 < n ? ", " : "]", out);
    }
}

static int open_project(const char *dir, store **s)
{
    hpt_error e;
    *s = store_open_readonly(dir, &e);
    if (!*s) fprintf(stderr, "hptc: %s\n", e.message);
    return *s ? 0 : 1;
}

int cli_summary(int argc, char **argv)
{
    const char *dir = NULL;
    int json = 0, csv = 0;
    for (int k = 0; k < argc; k++) {
        if (!strcmp(argv[k], "--json")) json = 1;
        else if (!strcmp(argv[k], "--csv")) csv = 1;
        else if (argv[k][0] == '-') return cli_usage("summary");
        else dir = argv[k];
    }
    if (!dir || (json && csv)) return cli_usage("summary");
    store *s;
    if (open_project(dir, &s)) return 1;
    store_trial *t;
    int n, m;
    hpt_error e;
    if (store_load_trials(s, &t, &n, &e)) {
        fprintf(stderr, "hptc: %s\n", e.message);
        store_close(s);
        return 1;
    }
    char objective[64];
    int maximize = direction_max(s, objective, sizeof objective);
    int *order = ranked(t, n, maximize, &m);
    FILE *out = stdout;
    if (json) {
        /* Schema (docs/results.md): project, objective{name, direction}, trials[] in id order. */
        fprintf(out, "{\"project\": ");
        json_string(out, dir);
        fprintf(out, ", \"objective\": {\"name\": ");
        json_string(out, objective);
        store_epoch_row *rows;
        int n_rows = 0;
        if (store_load_epochs(s, -1, &rows, &n_rows, &e) == 0) free(rows);
        fprintf(out, ", \"direction\": \"%s\"}, \"best_trial\": %d, \"epochs_trained\": %d, \"trials\": [",
                maximize ? "max" : "min", m ? t[order[0]].id : -1, n_rows);
        for (int k = 0; k < n; k++) {
            fprintf(out, "%s\n  {\"id\": %d, \"status\": \"%s\", \"score\": ", k ? "," : "", t[k].id, t[k].status);
            json_number(out, t[k].score);
            fprintf(out, ", \"best_epoch\": %d, \"hyperparameters\": %s, \"parent\": %d, \"bracket\": %d, \"round\": %d,"
                         " \"epochs\": %d, \"initial_epoch\": %d, \"seed\": \"%016llx\", \"reason\": ",
                    t[k].best_epoch, t[k].hps_json, t[k].parent, t[k].bracket, t[k].round, t[k].epochs,
                    t[k].initial_epoch, (unsigned long long)t[k].seed);
            json_string(out, t[k].reason);
            fprintf(out, ", \"started\": ");
            json_number(out, t[k].started);
            fprintf(out, ", \"finished\": ");
            json_number(out, t[k].finished);
            /* Learning curves: [epoch, loss, accuracy, val_loss, val_accuracy] per epoch of execution 0. */
            fprintf(out, ", \"history\": [");
            store_epoch_row *h;
            int nh = 0;
            if (store_load_epochs(s, t[k].id, &h, &nh, &e) == 0) {
                int first = 1;
                for (int r = 0; r < nh; r++) {
                    if (h[r].execution) continue;
                    fprintf(out, "%s[%d, ", first ? "" : ", ", h[r].epoch);
                    double v[4] = { h[r].loss, h[r].accuracy, h[r].val_loss, h[r].val_accuracy };
                    for (int c = 0; c < 4; c++) {
                        json_number(out, v[c]);
                        fputs(c < 3 ? ", " : "]", out);
                    }
                    first = 0;
                }
                fputs("]", out);
                executions_json(out, h, nh, objective, maximize);
                free(h);
            } else {
                fputs("]", out);
            }
            fputs("}", out);
        }
        fprintf(out, "\n]}\n");
    } else if (csv) {
        fprintf(out, "id,status,score,best_epoch,parent,bracket,round,epochs,hyperparameters,reason\n");
        for (int k = 0; k < n; k++) {
            fprintf(out, "%d,%s,", t[k].id, t[k].status);
            if (!isnan(t[k].score)) fprintf(out, "%.17g", t[k].score);
            fprintf(out, ",%d,%d,%d,%d,%d,\"", t[k].best_epoch, t[k].parent, t[k].bracket, t[k].round, t[k].epochs);
            for (const char *c = t[k].hps_json; *c; c++) fprintf(out, *c == '"' ? "\"\"" : "%c", *c);
            fprintf(out, "\",\"");
            for (const char *c = t[k].reason; *c; c++) fprintf(out, *c == '"' ? "\"\"" : "%c", *c);
            fprintf(out, "\"\n");
        }
    } else {
        int failed = 0, running = 0;
        for (int k = 0; k < n; k++) failed += !strcmp(t[k].status, "failed"), running += !strcmp(t[k].status, "running");
        fprintf(out, "Results in %s: %d trials (%d completed, %d running, %d failed)\n", dir, n, m, running, failed);
        fprintf(out, "Objective(name=\"%s\", direction=\"%s\")\n", objective, maximize ? "max" : "min");
        for (int k = 0; k < m && k < 10; k++) {
            const store_trial *r = &t[order[k]];
            fprintf(out, "\nTrial %04d summary\nHyperparameters: %s\nScore: %.4f (best epoch %d)\n", r->id, r->hps_json,
                    r->score, r->best_epoch + 1);
        }
        for (int k = 0; k < n; k++)
            if (!strcmp(t[k].status, "failed")) fprintf(out, "\nTrial %04d failed: %s\n", t[k].id, t[k].reason);
        long long bytes = store_checkpoint_bytes(s);
        fprintf(out, "\ncheckpoints held: %.1f MB\n", (double)bytes / 1e6);
    }
    free(order);
    store_free_trials(t, n);
    store_close(s);
    return 0;
}

int cli_best(int argc, char **argv)
{
    const char *dir = NULL;
    int json = 0;
    for (int k = 0; k < argc; k++) {
        if (!strcmp(argv[k], "--json")) json = 1;
        else if (argv[k][0] == '-') return cli_usage("best");
        else dir = argv[k];
    }
    if (!dir) return cli_usage("best");
    store *s;
    if (open_project(dir, &s)) return 1;
    store_trial *t;
    int n, m, rc = 1;
    hpt_error e;
    if (store_load_trials(s, &t, &n, &e)) {
        fprintf(stderr, "hptc: %s\n", e.message);
        store_close(s);
        return 1;
    }
    char objective[64];
    int *order = ranked(t, n, direction_max(s, objective, sizeof objective), &m);
    if (!m) {
        fprintf(stderr, "hptc: %s has no completed trial yet\n", dir);
    } else {
        const store_trial *b = &t[order[0]];
        if (json) {
            printf("{\"trial\": %d, \"objective\": \"%s\", \"score\": %.17g, \"best_epoch\": %d, \"hyperparameters\": %s}\n",
                   b->id, objective, b->score, b->best_epoch, b->hps_json);
        } else {
            printf("trial %d: %s %.4f\n", b->id, objective, b->score);
            /* One "name = value" line per hyperparameter, ready for --set. */
            const char *c = b->hps_json;
            while ((c = strchr(c, '"'))) {
                const char *end = strchr(c + 1, '"');
                if (!end) break;
                const char *v = end + 3, *v_end = v;
                int quoted = *v == '"';
                if (quoted) v_end = strchr(v + 1, '"') + 1;
                else while (*v_end && *v_end != ',' && *v_end != '}') v_end++;
                printf("%.*s = %.*s\n", (int)(end - c - 1), c + 1, (int)(v_end - v), v);
                c = v_end;
            }
        }
        rc = 0;
    }
    free(order);
    store_free_trials(t, n);
    store_close(s);
    return rc;
}

/* Values from a trial's JSON, through the spec's own parser of --set values. */
static int values_from_json(const ir_program *p, const char *json, arena *a, hpt_value *values)
{
    for (int k = 0; k < p->n_hps; k++) values[k] = value_none();
    const char *c = json;
    while ((c = strchr(c, '"'))) {
        const char *end = strchr(c + 1, '"');
        if (!end) return -1;
        char name[256], text[256];
        snprintf(name, sizeof name, "%.*s", (int)(end - c - 1), c + 1);
        const char *v = end + 3, *v_end;
        if (*v == '"') {
            v_end = strchr(v + 1, '"');
            if (!v_end) return -1;
            snprintf(text, sizeof text, "%.*s", (int)(v_end - v - 1), v + 1);
            v_end++;
        } else {
            v_end = v;
            while (*v_end && *v_end != ',' && *v_end != '}') v_end++;
            snprintf(text, sizeof text, "%.*s", (int)(v_end - v), v);
            if (!strcmp(text, "true")) strcpy(text, "True");
            if (!strcmp(text, "false")) strcpy(text, "False");
        }
        int k = ir_find_hp(p, name);
        char why[200];
        if (k < 0 || ir_parse_hp_value(p, k, text, &values[k], why, sizeof why)) return -1;
        if (values[k].type == V_STRING) values[k].u.s = arena_strdup(a, values[k].u.s);
        c = v_end;
    }
    return 0;
}

int cli_export(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL;
    int trial_id = -1;
    for (int k = 0; k < argc; k++) {
        if (!strcmp(argv[k], "--trial") && k + 1 < argc) trial_id = atoi(argv[++k]);
        else if (!strcmp(argv[k], "-o") && k + 1 < argc) out = argv[++k];
        else if (argv[k][0] == '-') return cli_usage("export");
        else dir = argv[k];
    }
    if (!dir || !out) return cli_usage("export");
    store *s;
    if (open_project(dir, &s)) return 1;
    int rc = 1;
    store_trial *t = NULL;
    int n = 0, m;
    hpt_error e;
    ir_program *p = NULL;
    void *w = NULL;
    size_t size;
    arena a = { 0 };
    char *spec = store_meta_get(s, "spec"), *file = store_meta_get(s, "spec_file");
    hpt_value *values = NULL;
    if (!spec || store_load_trials(s, &t, &n, &e)) {
        fprintf(stderr, "hptc: %s: the store holds no spec\n", dir);
        goto out;
    }
    if (trial_id < 0) {
        char objective[64];
        int *order = ranked(t, n, direction_max(s, objective, sizeof objective), &m);
        trial_id = m ? t[order[0]].id : -1;
        free(order);
    }
    const store_trial *row = NULL;
    for (int k = 0; k < n; k++)
        if (t[k].id == trial_id) row = &t[k];
    if (!row) {
        fprintf(stderr, "hptc: %s has no trial %d\n", dir, trial_id);
        goto out;
    }
    compile_result r = compile_spec(file ? file : "spec", spec, strlen(spec), stderr);
    p = r.program;
    values = p ? calloc((size_t)p->n_hps + 1, sizeof *values) : NULL;
    if (!values || values_from_json(p, row->hps_json, &a, values)) {
        fprintf(stderr, "hptc: %s: cannot rebuild trial %d from the stored spec\n", dir, trial_id);
        goto out;
    }
    ir_assignment as = { values, p->n_hps };
    for (int k = 0; k < p->n_layers; k++)
        if (p->layers[k].entry->kind == ST_ESTIMATOR && ir_holds(p, p->layers[k].guard, &as)) {
            fprintf(stderr, "hptc: %s: trial %d is the classic estimator %s, which keeps no weights to export; "
                    "`hptc train` with its hyperparameters (--set) fits it again and scores the test split\n",
                    dir, trial_id, p->layers[k].entry->name);
            goto out;
        }
    int found = store_load_checkpoint(s, trial_id, 0, "best", &w, &size, NULL, NULL, NULL, NULL, NULL, &e);
    if (found != 1) {
        fprintf(stderr, "hptc: %s: trial %d's checkpoint was pruned (hptc keeps the best trial's and those Hyperband may promote)\n",
                dir, trial_id);
        goto out;
    }
    if (weights_save(out, p, values, w, size / sizeof(float), &e)) {
        fprintf(stderr, "hptc: %s\n", e.message);
        goto out;
    }
    printf("trial %d's best epoch (%zu weights) written to %s\n", trial_id, size / sizeof(float), out);
    rc = 0;
out:
    free(w);
    free(values);
    arena_free(&a);
    ir_free(p);
    free(spec);
    free(file);
    store_free_trials(t, n);
    store_close(s);
    return rc;
}

const char cli_run_usage[] =
    "hptc run FILE.hpt [--jobs N] [--overwrite] [--limit N] [--backend blas|jit]\n"
    "  Run the spec's search (its tuner = ... statement), storing every trial, epoch and\n"
    "  checkpoint in directory/project_name/hptc.db.  Running it again resumes: finished\n"
    "  trials are kept and an interrupted trial continues from its last epoch.  --jobs\n"
    "  (default: the number of cores) trains that many trials at once, one BLAS thread\n"
    "  each; results do not depend on it.  --overwrite starts the project afresh.\n"
    "  --limit trains on the first N rows only.  --backend jit trains on the LLVM JIT\n"
    "  backend (when built with it).  ^C stops after the epoch in flight.\n"
    "  Under MPI, `mpirun -np R hptc run FILE.hpt`: rank 0 keeps the store and runs\n"
    "  --jobs trials, every other rank --jobs more; the results are the same\n"
    "  (docs/distributed.md; hptc --version says whether MPI is built in).";
const char cli_summary_usage[] =
    "hptc summary DIR [--json | --csv]\n"
    "  The trials of the project in DIR (directory/project_name), best first, as\n"
    "  Keras Tuner's results_summary(); --json and --csv give every trial (docs/results.md).";
const char cli_best_usage[] =
    "hptc best DIR [--json]\n"
    "  The best trial's hyperparameters, one 'name = value' per line, or as JSON.";
const char cli_export_usage[] =
    "hptc export DIR [--trial ID] -o WEIGHTS\n"
    "  Write a trial's best-epoch weights (default: the best trial's) for hptc eval.";
