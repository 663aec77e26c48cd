/* report.c: `hptc report DIR -o FILE.html`, one self-contained HTML page
 * over a project's store (docs/report.md).
 *
 * The page carries its data, style and script inline and loads nothing: the
 * store's trials, learning curves, meta and the search space (compiled from
 * the stored spec, for each hyperparameter's kind and sampling) are embedded
 * as one JSON document in a <script type="application/json">, and a small
 * script draws every plot as SVG from it.  The style and the script are
 * files in cli/report/, built into hptc (see report_page_css below).  The
 * static parts (header, failed trials, meta, the spec) are written here,
 * HTML-escaped, so they read without the script.  Two escapings keep the
 * page whole whatever the spec or a hyperparameter's string holds: text
 * goes through html_text() (& < > " ' become entities) and the JSON through
 * the JSON writer in its HTML-safe mode (runtime/json.h), which writes < > &
 * and control characters as \u escapes, so no "</script>" or "<!--" can end
 * the data block early.  The store is opened read-only, so a report can be
 * drawn while the search is still running. */
#include "compiler/compile.h"
#include "cli/cli.h"
#include "cli/front.h"
#include "runtime/json.h"
#include "runtime/store/store.h"
#include "runtime/tune/tuner.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The page's style and script: cli/report/report.css, and the script's parts
 * (one file per plot or helper) joined in the order the Makefile lists them.
 * The Makefile writes them into $(BUILD)/report_page.c as these two strings
 * (cli/report/embed.sh), so the page stays one file that loads nothing. */
extern const char report_page_css[], report_page_js[];

/* ---- escaping ----------------------------------------------------------- */

static void html_text(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*s, out);
        }
    }
}

/* ---- the embedded data -------------------------------------------------- */

static const char *const META_KEYS[] = { "hptc_version", "backend", "dtype_policy", "tuner", "objective", "git_commit", "git_modified",
                                         "spec_file", "spec_hash", "schema_version" };
#define N_META_KEYS (int)(sizeof META_KEYS / sizeof *META_KEYS)

/* "space": each hyperparameter's kind, sampling, range or values, from the IR. */
static void write_space(json_writer *w, const ir_program *p)
{
    static const char *const kinds[] = { "int", "float", "choice", "boolean", "fixed" };
    static const char *const samplings[] = { "linear", "log", "reverse_log" };
    json_open_lines(w);
    for (int k = 0; k < p->n_hps; k++) {
        const ir_hp *h = &p->hps[k];
        json_open(w, '{');
        json_key(w, "name"), json_string(w, h->name);
        json_key(w, "kind"), json_string(w, kinds[h->kind]);
        json_key(w, "conditional"), json_bool(w, h->condition != NULL);
        if (h->kind == HP_INT || h->kind == HP_FLOAT) {
            json_key(w, "sampling"), json_string(w, samplings[h->sampling]);
            json_key(w, "min"), json_value(w, h->min);
            json_key(w, "max"), json_value(w, h->max);
            if (h->step.type != V_NONE) json_key(w, "step"), json_value(w, h->step);
        }
        if (h->kind == HP_CHOICE || h->kind == HP_FIXED) {
            json_key(w, "values");
            json_open(w, '[');
            for (int v = 0; v < h->n_values; v++) json_value(w, h->values[v]);
            json_close(w);
        }
        json_close(w);
    }
    json_close(w);
}

/* The trials as `hptc summary --json` writes them (docs/results.md), the
 * learning curves at 7 significant digits to keep 1,000 trials small.
 * rows holds every epoch of the store, ordered by trial. */
static void write_trials(json_writer *w, const store_trial *t, int n, const store_epoch_row *rows, int n_rows)
{
    int r = 0;
    char seed[17];
    json_open_lines(w);
    for (int k = 0; k < n; k++) {
        json_open(w, '{');
        json_key(w, "id"), json_int(w, t[k].id);
        json_key(w, "status"), json_string(w, t[k].status);
        json_key(w, "score"), json_number(w, t[k].score);
        json_key(w, "best_epoch"), json_int(w, t[k].best_epoch);
        json_key(w, "hyperparameters"), json_raw(w, t[k].hps_json && *t[k].hps_json ? t[k].hps_json : "{}");
        json_key(w, "parent"), json_int(w, t[k].parent);
        json_key(w, "bracket"), json_int(w, t[k].bracket);
        json_key(w, "round"), json_int(w, t[k].round);
        json_key(w, "epochs"), json_int(w, t[k].epochs);
        json_key(w, "initial_epoch"), json_int(w, t[k].initial_epoch);
        snprintf(seed, sizeof seed, "%016llx", (unsigned long long)t[k].seed);
        json_key(w, "seed"), json_string(w, seed);
        json_key(w, "reason"), json_string(w, t[k].reason);
        json_key(w, "started"), json_number_digits(w, t[k].started, 15);
        json_key(w, "finished"), json_number_digits(w, t[k].finished, 15);
        json_key(w, "history");
        json_open(w, '[');
        while (r < n_rows && rows[r].trial < t[k].id) r++;
        for (; r < n_rows && rows[r].trial == t[k].id; r++) {
            if (rows[r].execution) continue;   /* curves are the first execution's, as in summary */
            double v[4] = { rows[r].loss, rows[r].accuracy, rows[r].val_loss, rows[r].val_accuracy };
            json_open(w, '[');
            json_int(w, rows[r].epoch);
            for (int c = 0; c < 4; c++) json_number_digits(w, v[c], 7);
            json_close(w);
        }
        json_close(w);
        json_close(w);
    }
    json_close(w);
}

/* ---- the page ----------------------------------------------------------- */

typedef struct report {
    const char *dir;
    char objective[64];
    int maximize;
    store_trial *t;
    int n;
    store_epoch_row *rows;
    int n_rows;
    char *meta[N_META_KEYS];
    char *spec;
    ir_program *program;    /* NULL when the stored spec no longer compiles */
    front pareto;           /* issue 15, pareto: set.pareto = 0 for one objective */
    store_session *sessions;    /* the timeline (none in a store from before it) */
    int n_sessions;
    store_work *work;
    int n_work;
} report;

static const char *meta_of(const report *r, const char *key)
{
    for (int k = 0; k < N_META_KEYS; k++)
        if (!strcmp(META_KEYS[k], key)) return r->meta[k];
    return NULL;
}

static void write_section(FILE *out, const char *id, const char *cls, const char *title, const char *note)
{
    fprintf(out, "<section class=\"card%s\" id=\"%s\"><h2>%s</h2>", cls, id, title);
    if (note) fprintf(out, "<p class=\"note\">%s</p>", note);
}

static int count_status(const report *r, const char *status)
{
    int n = 0;
    for (int k = 0; k < r->n; k++) n += !strcmp(r->t[k].status, status);
    return n;
}

/* The document's head (the style inline) and the page header's one line. */
static void write_head(FILE *out, const report *r)
{
    int completed = count_status(r, "completed"), failed = count_status(r, "failed"), running = count_status(r, "running");
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>hptc report: ", out);
    html_text(out, r->dir);
    fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header><h1>hptc report: ", report_page_css);
    html_text(out, r->dir);
    fputs("</h1><p>objective ", out);
    html_text(out, r->objective);
    fprintf(out, " (%s) &middot; %d trials: %d completed, %d running, %d failed &middot; %d epochs trained",
            r->maximize ? "max" : "min", r->n, completed, running, failed, r->n_rows);
    if (meta_of(r, "hptc_version")) {
        fputs(" &middot; hptc ", out);
        html_text(out, meta_of(r, "hptc_version"));
    }
    time_t now = time(NULL);
    char when[64];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", localtime(&now));
    fprintf(out, " &middot; drawn %s</p></header>\n<main>\n", when);
}

/* The sections the script fills in, in the page's order. */
static void write_plot_sections(FILE *out, const report *r)
{
    report_pareto_section(out, &r->pareto, r->t);    /* issue 15, pareto: nothing for one objective */
    write_section(out, "summary", "", "Best trials", NULL);
    fputs("<div id=\"summary-body\"></div></section>\n", out);
    write_section(out, "importance", "", "Hyperparameter importance",
                  "Share of the objective&rsquo;s variance explained by each hyperparameter on its own "
                  "(one-way ANOVA over the completed trials: one group per value, or equal-count bins of a "
                  "continuous one; &epsilon;&sup2;, i.e. &eta;&sup2; corrected for the number of groups). "
                  "Interactions are not counted, so the bars need not sum to 1. See docs/report.md.");
    fputs("<div id=\"plot-importance\"></div></section>\n", out);
    write_section(out, "history", " wide", "Optimization history", NULL);
    fputs("<div id=\"plot-history\"></div></section>\n", out);
    write_section(out, "parallel", " wide", "Parallel coordinates",
                  "One line per completed trial, coloured by the objective (dark = better); a line breaks "
                  "where a conditional hyperparameter is inactive.");
    fputs("<div id=\"plot-parallel\"></div></section>\n", out);
    write_section(out, "scatter", " wide", "Each hyperparameter against the objective",
                  r->program ? NULL : "The stored spec does not compile with this hptc: axes are guessed from the values.");
    fputs("<div class=\"smalls\" id=\"plot-scatter\"></div></section>\n", out);
    write_section(out, "curves", "", "Learning curves", NULL);
    fputs("<div id=\"plot-curves\"></div></section>\n", out);
    write_section(out, "hyperband", "", "Hyperband brackets",
                  "Each promotion as an arrow from a trial to the trial that continued it in the next round.");
    fputs("<div class=\"scroll\" id=\"plot-hyperband\"></div></section>\n", out);
    write_section(out, "timeline", " wide", "Worker timeline",
                  "When each work item (one execution or fold of a trial) ran, one lane per slot; the gaps are "
                  "idle cores. Timing only: it differs from run to run while the results do not.");
    fputs("<div class=\"scroll\" id=\"plot-timeline\"></div></section>\n", out);
}

/* What reads without the script: the failed trials, the store's meta, the spec. */
static void write_static_sections(FILE *out, const report *r)
{
    write_section(out, "failed", "", "Failed trials", NULL);
    if (!count_status(r, "failed")) fputs("<p class=\"empty\">None.</p>", out);
    else {
        fputs("<div class=\"scroll\"><table><thead><tr><th>trial</th><th>hyperparameters</th><th>reason</th></tr></thead><tbody>", out);
        for (int k = 0; k < r->n; k++) {
            if (strcmp(r->t[k].status, "failed")) continue;
            fprintf(out, "<tr data-trial=\"%d\"><td class=\"num\">%d</td><td><code>", r->t[k].id, r->t[k].id);
            html_text(out, r->t[k].hps_json);
            fputs("</code></td><td>", out);
            html_text(out, r->t[k].reason);
            fputs("</td></tr>", out);
        }
        fputs("</tbody></table></div>", out);
    }
    fputs("</section>\n", out);

    write_section(out, "meta", "", "Store", NULL);
    fputs("<table><tbody><tr><th>project</th><td><code>", out);
    html_text(out, r->dir);
    fputs("</code></td></tr>", out);
    for (int k = 0; k < N_META_KEYS; k++) {
        if (!r->meta[k]) continue;
        fprintf(out, "<tr><th>%s</th><td><code>", META_KEYS[k]);
        html_text(out, r->meta[k]);
        fputs("</code></td></tr>", out);
    }
    fputs("</tbody></table></section>\n", out);
    write_section(out, "spec", " wide", "Spec", NULL);
    fputs("<pre id=\"spec-text\">", out);
    html_text(out, r->spec ? r->spec : "(the store holds no spec)");
    fputs("</pre></section>\n</main>\n<div id=\"tip\" hidden></div>\n", out);
}

/* Issue 15 "busy": the store's sessions and work items, and the utilisation
 * they give (docs/report.md). */
static void write_timeline(json_writer *w, const report *r)
{
    double busy = 0, capacity = 0;
    double u = store_utilisation(r->sessions, r->n_sessions, r->work, r->n_work, &busy, &capacity);
    json_key(w, "timeline");
    json_open(w, '{');
    json_key(w, "utilisation"), json_number(w, u);
    json_key(w, "busy_core_seconds"), json_number_digits(w, busy, 7);
    json_key(w, "core_seconds"), json_number_digits(w, capacity, 7);
    json_key(w, "sessions");
    json_open(w, '[');
    for (int k = 0; k < r->n_sessions; k++) {
        const store_session *s = &r->sessions[k];
        json_open(w, '[');
        json_int(w, s->id), json_number_digits(w, s->started, 15), json_number_digits(w, s->finished, 15);
        json_int(w, s->slots), json_int(w, s->ranks);
        json_close(w);
    }
    json_close(w);
    json_key(w, "work");
    json_open_lines(w);
    for (int k = 0; k < r->n_work; k++) {
        const store_work *x = &r->work[k];
        json_open(w, '[');
        json_int(w, x->session), json_int(w, x->trial), json_int(w, x->execution), json_int(w, x->retry);
        json_int(w, x->rank), json_int(w, x->slot), json_number_digits(w, x->started, 15);
        json_number_digits(w, store_work_end_time(x, r->sessions, r->n_sessions), 15);
        json_close(w);
    }
    json_close(w);
    json_close(w);
}

/* The data (docs/report.md documents it; "trials" is summary --json's), then the script. */
static void write_data_and_script(FILE *out, const report *r)
{
    json_writer w;
    json_init(&w, out, JSON_HTML);
    fputs("<script type=\"application/json\" id=\"hptc-data\">", out);
    json_open(&w, '{');
    json_key(&w, "version"), json_int(&w, 1);
    json_key(&w, "project"), json_string(&w, r->dir);
    json_key(&w, "objective");
    json_open(&w, '{');
    json_key(&w, "name"), json_string(&w, r->objective);
    json_key(&w, "direction"), json_string(&w, r->maximize ? "max" : "min");
    json_close(&w);
    json_key(&w, "meta");
    json_open(&w, '{');
    for (int k = 0; k < N_META_KEYS; k++)
        if (r->meta[k]) json_key(&w, META_KEYS[k]), json_string(&w, r->meta[k]);
    json_close(&w);
    json_key(&w, "space");
    if (r->program) write_space(&w, r->program);
    else json_null(&w);
    json_key(&w, "trials");
    write_trials(&w, r->t, r->n, r->rows, r->n_rows);
    write_timeline(&w, r);
    json_close(&w);
    fprintf(out, "</script>\n<script>\n%s</script>\n</body>\n</html>\n", report_page_js);
}

static void write_page(FILE *out, const report *r)
{
    write_head(out, r);
    write_plot_sections(out, r);
    write_static_sections(out, r);
    write_data_and_script(out, r);
}

static int load(report *r, store *s)
{
    hpt_error e;
    if (store_load_trials(s, &r->t, &r->n, &e) || store_load_epochs(s, -1, &r->rows, &r->n_rows, &e) ||
        store_load_timeline(s, &r->sessions, &r->n_sessions, &r->work, &r->n_work, &e)) {
        fprintf(stderr, "hptc: %s\n", e.message);
        return -1;
    }
    char *obj = store_meta_get(s, "objective");
    snprintf(r->objective, sizeof r->objective, "%s", obj ? obj : "val_loss");
    free(obj);
    r->maximize = tune_maximize(r->objective);
    for (int k = 0; k < N_META_KEYS; k++) r->meta[k] = store_meta_get(s, META_KEYS[k]);
    if (front_load(s, r->t, r->n, &r->pareto)) return -1;
    r->spec = store_meta_get(s, "spec");
    if (r->spec) {
        /* Only for the hyperparameters' kinds: diagnostics are not the report's business. */
        const char *file = meta_of(r, "spec_file");
        compile_result c = compile_spec(file ? file : "spec", r->spec, strlen(r->spec), NULL);
        r->program = c.program;
    }
    return 0;
}

int cli_report(int argc, char **argv)
{
    const char *dir, *path = NULL;
    const cli_option opts[] = { CLI_STRING_OPT("-o", &path), CLI_END_OPT };
    if (cli_parse("report", argc, argv, opts, &dir, 1, 1)) return cli_usage(cli_report_usage);
    if (!path) {
        fprintf(stderr, "hptc report: -o FILE.html says where to write the page (- for stdout)\n");
        return cli_usage(cli_report_usage);
    }
    hpt_error e;
    store *s = store_open_readonly(dir, &e);
    if (!s) {
        fprintf(stderr, "hptc: %s\n", e.message);
        return 1;
    }
    report r = { .dir = dir };
    int rc = 1;
    if (load(&r, s) == 0) {
        FILE *out = strcmp(path, "-") ? fopen(path, "w") : stdout;
        if (!out) {
            fprintf(stderr, "hptc: cannot write %s: %s\n", path, strerror(errno));
        } else {
            write_page(out, &r);
            int bad = ferror(out);
            if (out != stdout) bad |= fclose(out);
            else bad |= fflush(out);
            if (bad) fprintf(stderr, "hptc: cannot write %s\n", path);
            rc = bad ? 1 : 0;
        }
    }
    for (int k = 0; k < N_META_KEYS; k++) free(r.meta[k]);
    free(r.spec);
    front_free(&r.pareto);
    ir_free(r.program);
    free(r.rows);
    free(r.sessions), free(r.work);
    store_free_trials(r.t, r.n);
    store_close(s);
    return rc;
}

const char cli_report_usage[] =
    "hptc report DIR -o FILE.html\n"
    "  One self-contained HTML page over the project in DIR (directory/project_name):\n"
    "  optimization history, each hyperparameter against the objective, parallel\n"
    "  coordinates, importance, learning curves, Hyperband promotions, the workers'\n"
    "  timeline and core utilisation, failed trials,\n"
    "  the spec and the store's meta.  It loads nothing from the network; the data\n"
    "  sits in the page as JSON (docs/report.md).  -o - writes to stdout.";
