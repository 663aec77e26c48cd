/* results.c: the commands that read a project's store: summary, best,
 * export.
 *
 * They open the store read-only and take no lock, so they work while a
 * search is still writing to it, and on read-only media.  A trial's
 * hyperparameters come back from the JSON the store keeps through one small
 * parser (runtime/store/hps.h) that knows that JSON's whole grammar. */
#include "compiler/compile.h"
#include "cli/cli.h"
#include "cli/front.h"
#include "runtime/json.h"
#include "runtime/nn/onnx.h"
#include "runtime/nn/weights.h"
#include "runtime/store/hps.h"
#include "runtime/store/store.h"
#include "runtime/tune/tuner.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading a store ---------------------------------------------------- */

static int direction_max(store *s, char *objective, size_t n)
{
    char *obj = store_meta_get(s, "objective");
    snprintf(objective, n, "%s", obj ? obj : "val_loss");
    free(obj);
    /* Issue 15, pareto: Objective(name, direction) may say otherwise than the name. */
    objective_set set;
    char *objs = store_meta_get(s, "objectives");
    int given = objs && objectives_parse(objs, &set) == 0 && set.primary >= 0 && !strcmp(set.name[set.primary], objective);
    free(objs);
    return given ? set.maximize[set.primary] : tune_maximize(objective);
}

/* With executions_per_trial or cv folds, each execution's score (its best
 * epoch's objective): "execution_scores": [0.86, 0.85, ...]. */
static void executions_json(json_writer *w, const store_epoch_row *h, int nh, const char *objective, int maximize)
{
    int n = 0;
    for (int r = 0; r < nh; r++)
        if (h[r].execution + 1 > n) n = h[r].execution + 1;
    if (n < 2) return;
    json_key(w, "execution_scores");
    json_open(w, '[');
    for (int x = 0; x < n; x++) json_number(w, tune_execution_best(h, nh, x, objective, maximize, NULL));
    json_close(w);
}

/* One trial of summary --json (docs/results.md). */
static void trial_json(json_writer *w, store *s, const store_trial *t, const char *objective, int maximize)
{
    char seed[32];
    json_open(w, '{');
    json_key(w, "id"), json_int(w, t->id);
    json_key(w, "status"), json_string(w, t->status);
    json_key(w, "score"), json_number(w, t->score);
    json_key(w, "best_epoch");
    if (t->best_epoch >= 0) json_int(w, t->best_epoch + 1);    /* counted from 1, as printed */
    else json_null(w);
    json_key(w, "hyperparameters"), json_raw(w, t->hps_json);
    json_key(w, "parent"), json_int(w, t->parent);
    json_key(w, "bracket"), json_int(w, t->bracket);
    json_key(w, "round"), json_int(w, t->round);
    json_key(w, "epochs"), json_int(w, t->epochs);
    json_key(w, "initial_epoch"), json_int(w, t->initial_epoch);
    snprintf(seed, sizeof seed, "%016llx", (unsigned long long)t->seed);
    json_key(w, "seed"), json_string(w, seed);
    json_key(w, "reason"), json_string(w, t->reason);
    json_key(w, "data"), json_string(w, t->data);
    json_key(w, "dtype_policy"), json_string(w, t->dtype_policy);
    /* hptc run --warm-start copied it from another study: whence (docs/results.md). */
    if (t->reused_from && *t->reused_from) json_key(w, "reused_from"), json_string(w, t->reused_from);
    json_key(w, "started"), json_number(w, t->started);
    json_key(w, "finished"), json_number(w, t->finished);
    /* Learning curves: [epoch, loss, accuracy, val_loss, val_accuracy] per epoch of execution 0. */
    json_key(w, "history");
    json_open(w, '[');
    store_epoch_row *h;
    int nh = 0;
    hpt_error e;
    int loaded = store_load_epochs(s, t->id, &h, &nh, &e) == 0;
    for (int r = 0; loaded && r < nh; r++) {
        if (h[r].execution) continue;
        json_open(w, '[');
        json_int(w, h[r].epoch + 1);
        double v[4] = { h[r].loss, h[r].accuracy, h[r].val_loss, h[r].val_accuracy };
        for (int c = 0; c < 4; c++) json_number(w, v[c]);
        json_close(w);
    }
    json_close(w);
    /* The compiled metrics beyond accuracy of the same epochs, as stored:
     * one object per history row ({} when there are none). */
    json_key(w, "history_metrics");
    json_open(w, '[');
    for (int r = 0; loaded && r < nh; r++)
        if (!h[r].execution) json_raw(w, h[r].metrics[0] ? h[r].metrics : "{}");
    json_close(w);
    if (loaded) {
        executions_json(w, h, nh, objective, maximize);
        free(h);
    }
    json_close(w);
}

static int open_project(const char *dir, store **s)
{
    hpt_error e;
    *s = store_open_readonly(dir, &e);
    if (!*s) fprintf(stderr, "hptc: %s\n", e.message);
    return *s ? 0 : 1;
}

/* A project's trials and their ranking (store_rank_trials: the completed
 * ones with a score, best first), as summary and best read them. */
typedef struct ranked {
    store *s;
    store_trial *t;
    int n;
    int *order, m;              /* order[0..m): indices into t, best first */
    char objective[64];
    int maximize;
} ranked;

static int load_ranked(const char *dir, ranked *r)
{
    hpt_error e;
    if (open_project(dir, &r->s)) return 1;
    if (store_load_trials(r->s, &r->t, &r->n, &e)) {
        fprintf(stderr, "hptc: %s\n", e.message);
        store_close(r->s);
        return 1;
    }
    r->maximize = direction_max(r->s, r->objective, sizeof r->objective);
    r->order = store_rank_trials(r->t, r->n, r->maximize, &r->m);
    return 0;
}

static void free_ranked(ranked *r)
{
    free(r->order);
    store_free_trials(r->t, r->n);
    store_close(r->s);
}

/* Issue 15 "busy": how busy the search kept its cores, from the store's
 * timeline (sessions and work items; timing only, never results).  Returns
 * the utilisation (NAN when no timeline was recorded) and the sums. */
typedef struct busy_figures {
    double utilisation, busy, capacity;
    int sessions, slots, items;
} busy_figures;

static busy_figures busy_of(store *s)
{
    busy_figures b = { NAN, 0, 0, 0, 0, 0 };
    store_session *ss;
    store_work *ws;
    hpt_error e;
    if (store_load_timeline(s, &ss, &b.sessions, &ws, &b.items, &e)) return b;
    b.utilisation = store_utilisation(ss, b.sessions, ws, b.items, &b.busy, &b.capacity);
    for (int k = 0; k < b.sessions; k++) b.slots = ss[k].slots > b.slots ? ss[k].slots : b.slots;
    free(ss), free(ws);
    return b;
}

int cli_summary(int argc, char **argv)
{
    const char *dir;
    int json = 0, csv = 0;
    const cli_option opts[] = { CLI_FLAG_OPT("--json", &json), CLI_FLAG_OPT("--csv", &csv), CLI_END_OPT };
    if (cli_parse("summary", argc, argv, opts, &dir, 1, 1)) return cli_usage(cli_summary_usage);
    if (json && csv) {
        fprintf(stderr, "hptc summary: --json or --csv, not both\n");
        return cli_usage(cli_summary_usage);
    }
    ranked r;
    if (load_ranked(dir, &r)) return 1;
    store *s = r.s;
    store_trial *t = r.t;
    int n = r.n, m = r.m, maximize = r.maximize, *order = r.order;
    const char *objective = r.objective;
    hpt_error e;
    FILE *out = stdout;
    if (json) {
        /* Schema (docs/results.md): project, objective{name, direction}, trials[] in id order. */
        json_writer w;
        json_init(&w, out, 0);
        json_open(&w, '{');
        json_key(&w, "project"), json_string(&w, dir);
        json_key(&w, "objective");
        json_open(&w, '{');
        json_key(&w, "name"), json_string(&w, objective);
        json_key(&w, "direction"), json_string(&w, maximize ? "max" : "min");
        json_close(&w);
        store_epoch_row *rows;
        int n_rows = 0;
        if (store_load_epochs(s, -1, &rows, &n_rows, &e) == 0) free(rows);
        json_key(&w, "best_trial"), json_int(&w, m ? t[order[0]].id : -1);
        json_key(&w, "epochs_trained"), json_int(&w, n_rows);
        /* Timing, not results: one object without nested braces, so that
         * comparisons of results can cut it out with one substitution. */
        busy_figures b = busy_of(s);
        json_key(&w, "utilisation");
        json_open(&w, '{');
        json_key(&w, "value"), json_number(&w, b.utilisation);
        json_key(&w, "busy_core_seconds"), json_number(&w, b.busy);
        json_key(&w, "core_seconds"), json_number(&w, b.capacity);
        json_key(&w, "sessions"), json_int(&w, b.sessions);
        json_key(&w, "slots"), json_int(&w, b.slots);
        json_key(&w, "work_items"), json_int(&w, b.items);
        json_close(&w);
        json_key(&w, "trials");
        json_open_lines(&w);
        for (int k = 0; k < n; k++) trial_json(&w, s, &t[k], objective, maximize);
        json_close(&w);
        front f;    /* issue 15, pareto */
        if (front_load(s, t, n, &f) == 0 && f.set.pareto) {
            json_key(&w, "pareto");
            json_open(&w, '{');
            front_json(&w, &f, t);
            json_close(&w);
        }
        front_free(&f);
        json_close(&w);
        fputc('\n', out);
    } else if (csv) {
        fprintf(out, "id,status,score,best_epoch,parent,bracket,round,epochs,hyperparameters,reason,dtype_policy\n");
        for (int k = 0; k < n; k++) {
            fprintf(out, "%d,%s,", t[k].id, t[k].status);
            if (!isnan(t[k].score)) fprintf(out, "%.17g", t[k].score);
            fputc(',', out);
            if (t[k].best_epoch >= 0) fprintf(out, "%d", t[k].best_epoch + 1);
            fprintf(out, ",%d,%d,%d,%d,\"", t[k].parent, t[k].bracket, t[k].round, t[k].epochs);
            for (const char *c = t[k].hps_json; *c; c++) fprintf(out, *c == '"' ? "\"\"" : "%c", *c);
            fprintf(out, "\",\"");
            for (const char *c = t[k].reason; *c; c++) fprintf(out, *c == '"' ? "\"\"" : "%c", *c);
            fprintf(out, "\",%s\n", t[k].dtype_policy);
        }
    } else {
        int failed = 0, running = 0;
        for (int k = 0; k < n; k++) failed += !strcmp(t[k].status, "failed"), running += !strcmp(t[k].status, "running");
        fprintf(out, "Results in %s: %d trials (%d completed, %d running, %d failed)\n", dir, n, m, running, failed);
        fprintf(out, "Objective(name=\"%s\", direction=\"%s\")\n", objective, maximize ? "max" : "min");
        front f;    /* issue 15, pareto */
        if (front_load(s, t, n, &f) == 0 && f.set.pareto) front_text(out, &f, t);
        front_free(&f);
        /* The dtype policy once when every trial shares it, else per trial. */
        int one_policy = 1;
        for (int k = 1; k < n; k++) one_policy &= !strcmp(t[k].dtype_policy, t[0].dtype_policy);
        if (n && one_policy) fprintf(out, "Dtype policy: %s\n", t[0].dtype_policy);
        for (int k = 0; k < m && k < 10; k++) {
            const store_trial *r = &t[order[k]];
            fprintf(out, "\nTrial %04d summary\nHyperparameters: %s\nScore: %.4f (best epoch %d)\n", r->id, r->hps_json,
                    r->score, r->best_epoch + 1);
            if (!one_policy) fprintf(out, "Dtype policy: %s\n", r->dtype_policy);
            if (r->reused_from && *r->reused_from) fprintf(out, "Reused from %s (not trained again)\n", r->reused_from);
        }
        for (int k = 0; k < n; k++)
            if (!strcmp(t[k].status, "failed")) fprintf(out, "\nTrial %04d failed: %s\n", t[k].id, t[k].reason);
        long long bytes = store_checkpoint_bytes(s);
        fprintf(out, "\ncheckpoints held: %.1f MB\n", (double)bytes / 1e6);
        busy_figures b = busy_of(s);
        if (!isnan(b.utilisation))
            fprintf(out, "core utilisation: %.1f%% (%.1f busy core-seconds of %.1f: %d work item%s, %d session%s, up to %d slot%s)\n",
                    100 * b.utilisation, b.busy, b.capacity, b.items, b.items == 1 ? "" : "s", b.sessions,
                    b.sessions == 1 ? "" : "s", b.slots, b.slots == 1 ? "" : "s");
    }
    free_ranked(&r);
    return 0;
}


/* A pair as the spec writes the value: 512, 0.001, "relu", True, None. */
static void print_spec_value(FILE *out, const hps_pair *h)
{
    if (h->quoted) {
        value_fprint(out, value_string(h->value));
    } else {
        fputs(!strcmp(h->value, "true") ? "True" : !strcmp(h->value, "false") ? "False"
              : !strcmp(h->value, "null") ? "None" : h->value, out);
    }
}

int cli_best(int argc, char **argv)
{
    const char *dir;
    int json = 0;
    const cli_option opts[] = { CLI_FLAG_OPT("--json", &json), CLI_END_OPT };
    if (cli_parse("best", argc, argv, opts, &dir, 1, 1)) return cli_usage(cli_best_usage);
    ranked r;
    if (load_ranked(dir, &r)) return 1;
    int rc = 1;
    if (!r.m) {
        fprintf(stderr, "hptc: %s has no completed trial yet\n", dir);
    } else {
        const store_trial *b = &r.t[r.order[0]];
        if (json) {
            json_writer w;
            json_init(&w, stdout, 0);
            json_open(&w, '{');
            json_key(&w, "trial"), json_int(&w, b->id);
            json_key(&w, "objective"), json_string(&w, r.objective);
            json_key(&w, "score"), json_number(&w, b->score);
            json_key(&w, "best_epoch"), json_int(&w, b->best_epoch + 1);
            json_key(&w, "hyperparameters"), json_raw(&w, b->hps_json);
            json_key(&w, "dtype_policy"), json_string(&w, b->dtype_policy);
            front f;    /* issue 15, pareto: the whole front besides the best of the first metric */
            if (front_load(r.s, r.t, r.n, &f) == 0 && f.set.pareto) front_json(&w, &f, r.t);
            front_free(&f);
            json_close(&w);
            putchar('\n');
            rc = 0;
        } else {
            /* One "name = value" line per hyperparameter, as the spec writes values (--set takes them). */
            hps_pair *pairs;
            int n_pairs;
            if (hps_parse(b->hps_json, &pairs, &n_pairs)) {
                fprintf(stderr, "hptc: %s: trial %d's hyperparameters are not the JSON hptc writes: %.200s\n", dir,
                        b->id, b->hps_json);
            } else {
                front f;    /* issue 15, pareto */
                if (front_load(r.s, r.t, r.n, &f) == 0 && f.set.pareto) front_text(stdout, &f, r.t), printf("Best %s:\n", r.objective);
                front_free(&f);
                printf("trial %d: %s %.4f (dtype_policy %s)\n", b->id, r.objective, b->score, b->dtype_policy);
                for (int k = 0; k < n_pairs; k++) {
                    printf("%s = ", pairs[k].name);
                    print_spec_value(stdout, &pairs[k]);
                    putchar('\n');
                }
                hps_free(pairs, n_pairs);
                rc = 0;
            }
        }
    }
    free_ranked(&r);
    return rc;
}


int cli_export(int argc, char **argv)
{
    const char *dir, *out = NULL, *format = "hptc";
    int trial_id = -1;
    const cli_option opts[] = { CLI_INT_OPT("--trial", &trial_id, 0), CLI_STRING_OPT("-o", &out),
                                CLI_CHOICE_OPT("--format", &format, "hptc|onnx"), CLI_END_OPT };
    if (cli_parse("export", argc, argv, opts, &dir, 1, 1)) return cli_usage(cli_export_usage);
    int onnx = !strcmp(format, "onnx");
    if (!out) {
        fprintf(stderr, "hptc export: -o FILE says where to write the %s\n", onnx ? "ONNX model" : "weights");
        return cli_usage(cli_export_usage);
    }
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
        int *order = store_rank_trials(t, n, direction_max(s, objective, sizeof objective), &m);
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
    if (!values || hps_values(p, row->hps_json, &a, values)) {
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
    if (found < 0) {
        fprintf(stderr, "hptc: %s\n", e.message);
        goto out;
    }
    if (found == 0) {
        fprintf(stderr, "hptc: %s: trial %d's checkpoint was pruned (hptc keeps the best trial's and those Hyperband may promote)\n",
                dir, trial_id);
        goto out;
    }
    if (onnx) {
        /* The inference graph, with the trial's hyperparameters and the spec's hash in its metadata. */
        char id[32];
        snprintf(id, sizeof id, "%d", trial_id);
        const onnx_meta meta[] = { { "trial", id }, { "hyperparameters", row->hps_json },
                                   { "dtype_policy", row->dtype_policy }, { "spec_file", file ? file : "spec" } };
        if (size % sizeof(float) || onnx_export(p, values, w, size / sizeof(float), meta, 4, out, &e)) {
            fprintf(stderr, "hptc: %s: trial %d: %s\n", dir, trial_id,
                    size % sizeof(float) ? "its checkpoint is not a whole number of floats" : e.message);
            goto out;
        }
        printf("trial %d's best epoch written to %s as ONNX (opset 17)\n", trial_id, out);
        rc = 0;
        goto out;
    }
    /* weights_save holds the blob against the model the spec rebuilds. */
    if (size % sizeof(float) || weights_save(out, p, values, row->dtype_policy, w, size / sizeof(float), &e)) {
        fprintf(stderr, "hptc: %s: trial %d's best checkpoint does not fit its model: %s\n", dir, trial_id,
                size % sizeof(float) ? "its size is not a whole number of floats" : e.message);
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

const char cli_summary_usage[] =
    "hptc summary DIR [--json | --csv]\n"
    "  The trials of the project in DIR (directory/project_name), best first, as\n"
    "  Keras Tuner's results_summary(); --json and --csv give every trial (docs/results.md).\n"
    "  The text and --json also give the search's core utilisation: busy core-seconds of\n"
    "  its work items over slots x wall time, over every session (docs/scheduler.md).\n"
    "  Reads the store without locking it: during a search, and on read-only media.";
const char cli_best_usage[] =
    "hptc best DIR [--json]\n"
    "  The best trial's hyperparameters, one 'name = value' per line as the spec writes\n"
    "  values (each line, as --set name=value, gives hptc train that trial), or as JSON\n"
    "  with its score, best epoch (counted from 1, as run prints epochs) and the dtype\n"
    "  policy it trained under (hptc train --dtype-policy repeats it).";
const char cli_export_usage[] =
    "hptc export DIR [--trial ID] [--format hptc|onnx] -o FILE\n"
    "  Write a trial's best-epoch weights (default: the best trial's) for hptc eval: float32\n"
    "  master weights, with the dtype policy the trial trained under in the header.\n"
    "  --format onnx writes the trial as an ONNX model instead (opset 17, float32, inference\n"
    "  graph only: Dropout and augmentation removed): input \"input\" (N, the Input's shape),\n"
    "  the values hptc reads before the data's scale; output \"output\", the last layer's\n"
    "  (logits when it has no activation); hyperparameters and spec hash in its metadata\n"
    "  (docs/onnx.md).  A layer ONNX cannot express is an error naming it.";
