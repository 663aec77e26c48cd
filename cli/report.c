/* report.c: `hptc report DIR -o FILE.html`, one self-contained HTML page
 * over a project's store (docs/report.md).
 *
 * The page carries its data, style and script inline and loads nothing: the
 * store's trials, learning curves, meta and the search space (compiled from
 * the stored spec, for each hyperparameter's kind and sampling) are embedded
 * as one JSON document in a <script type="application/json">, and a small
 * script draws every plot as SVG from it.  The static parts (header, failed
 * trials, meta, the spec) are written here, HTML-escaped, so they read
 * without the script.  Two escapings keep the page whole whatever the spec or
 * a hyperparameter's string holds: text goes through html_text() (& < > " '
 * become entities) and every byte of the JSON through json_bytes(), which
 * writes < > & and control characters as \u escapes, so no "</script>" or
 * "<!--" can end the data block early.  The store is opened read-only, so a
 * report can be drawn while the search is still running. */
#include "compiler/compile.h"
#include "cli/cli.h"
#include "runtime/store/store.h"
#include "runtime/tune/tuner.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *page_css(void);
static const char *page_js(void);

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

/* JSON text into the <script> block: < > & and control characters as \u
 * escapes (outside strings JSON holds none of them; inside one the escape is
 * the same character), and, within a string (quoted), " and \ escaped too. */
static void json_bytes(FILE *out, const char *s, int quoted)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (quoted && (c == '"' || c == '\\')) fprintf(out, "\\%c", c);
        else if (c < 0x20 || c == '<' || c == '>' || c == '&') fprintf(out, "\\u%04x", c);
        /* U+2028/U+2029 end a line in older JavaScript parsers. */
        else if (c == 0xe2 && (unsigned char)s[1] == 0x80 && ((unsigned char)s[2] & 0xfe) == 0xa8) {
            fprintf(out, "\\u%04x", 0x2028 + ((unsigned char)s[2] & 1));
            s += 2;
        } else fputc(c, out);
    }
}

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    json_bytes(out, s, 1);
    fputc('"', out);
}

/* %.*g, or null for NaN and infinities (JSON has neither). */
static void json_num(FILE *out, double v, int digits)
{
    if (isfinite(v)) fprintf(out, "%.*g", digits, v);
    else fputs("null", out);
}

static void json_value(FILE *out, hpt_value v)
{
    char buf[64];
    switch (v.type) {
    case V_BOOL: fputs(v.u.b ? "true" : "false", out); break;
    case V_INT: fprintf(out, "%lld", (long long)v.u.i); break;
    case V_FLOAT: json_num(out, v.u.f, 17); break;
    case V_STRING: json_str(out, v.u.s); break;
    default:
        value_format(buf, sizeof buf, v);
        json_str(out, buf);
    }
}

/* ---- the embedded data -------------------------------------------------- */

static const char *const META_KEYS[] = { "hptc_version", "backend", "tuner", "objective", "git_commit", "git_modified",
                                         "spec_file", "spec_hash", "schema_version" };
#define N_META_KEYS (int)(sizeof META_KEYS / sizeof *META_KEYS)

/* "space": each hyperparameter's kind, sampling, range or values, from the IR. */
static void write_space(FILE *out, const ir_program *p)
{
    static const char *const kinds[] = { "int", "float", "choice", "boolean", "fixed" };
    static const char *const samplings[] = { "linear", "log", "reverse_log" };
    fputc('[', out);
    for (int k = 0; k < p->n_hps; k++) {
        const ir_hp *h = &p->hps[k];
        fprintf(out, "%s\n {\"name\": ", k ? "," : "");
        json_str(out, h->name);
        fprintf(out, ", \"kind\": \"%s\", \"conditional\": %s", kinds[h->kind], h->condition ? "true" : "false");
        if (h->kind == HP_INT || h->kind == HP_FLOAT) {
            fprintf(out, ", \"sampling\": \"%s\", \"min\": ", samplings[h->sampling]);
            json_value(out, h->min);
            fputs(", \"max\": ", out);
            json_value(out, h->max);
            if (h->step.type != V_NONE) {
                fputs(", \"step\": ", out);
                json_value(out, h->step);
            }
        }
        if (h->kind == HP_CHOICE || h->kind == HP_FIXED) {
            fputs(", \"values\": [", out);
            for (int v = 0; v < h->n_values; v++) {
                if (v) fputs(", ", out);
                json_value(out, h->values[v]);
            }
            fputc(']', out);
        }
        fputc('}', out);
    }
    fputc(']', out);
}

/* The trials as `hptc summary --json` writes them (docs/results.md), the
 * learning curves at 7 significant digits to keep 1,000 trials small.
 * rows holds every epoch of the store, ordered by trial. */
static void write_trials(FILE *out, const store_trial *t, int n, const store_epoch_row *rows, int n_rows)
{
    int r = 0;
    fputc('[', out);
    for (int k = 0; k < n; k++) {
        fprintf(out, "%s\n {\"id\": %d, \"status\": ", k ? "," : "", t[k].id);
        json_str(out, t[k].status);
        fputs(", \"score\": ", out);
        json_num(out, t[k].score, 17);
        fprintf(out, ", \"best_epoch\": %d, \"hyperparameters\": ", t[k].best_epoch);
        json_bytes(out, t[k].hps_json && *t[k].hps_json ? t[k].hps_json : "{}", 0);
        fprintf(out, ", \"parent\": %d, \"bracket\": %d, \"round\": %d, \"epochs\": %d, \"initial_epoch\": %d,"
                     " \"seed\": \"%016llx\", \"reason\": ",
                t[k].parent, t[k].bracket, t[k].round, t[k].epochs, t[k].initial_epoch, (unsigned long long)t[k].seed);
        json_str(out, t[k].reason);
        fputs(", \"started\": ", out);
        json_num(out, t[k].started, 15);
        fputs(", \"finished\": ", out);
        json_num(out, t[k].finished, 15);
        fputs(", \"history\": [", out);
        while (r < n_rows && rows[r].trial < t[k].id) r++;
        for (int first = 1; r < n_rows && rows[r].trial == t[k].id; r++) {
            if (rows[r].execution) continue;   /* curves are the first execution's, as in summary */
            fprintf(out, "%s[%d", first ? "" : ", ", rows[r].epoch);
            double v[4] = { rows[r].loss, rows[r].accuracy, rows[r].val_loss, rows[r].val_accuracy };
            for (int c = 0; c < 4; c++) {
                fputs(", ", out);
                json_num(out, v[c], 7);
            }
            fputc(']', out);
            first = 0;
        }
        fputs("]}", out);
    }
    fputs("\n]", out);
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

static void write_page(FILE *out, const report *r)
{
    int completed = 0, failed = 0, running = 0;
    for (int k = 0; k < r->n; k++) {
        completed += !strcmp(r->t[k].status, "completed");
        failed += !strcmp(r->t[k].status, "failed");
        running += !strcmp(r->t[k].status, "running");
    }
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>hptc report: ", out);
    html_text(out, r->dir);
    fprintf(out, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header><h1>hptc report: ", page_css());
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

    write_section(out, "failed", "", "Failed trials", NULL);
    if (!failed) fputs("<p class=\"empty\">None.</p>", out);
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

    /* The data: docs/report.md documents it; "trials" is summary --json's. */
    fputs("<script type=\"application/json\" id=\"hptc-data\">{\"version\": 1, \"project\": ", out);
    json_str(out, r->dir);
    fputs(", \"objective\": {\"name\": ", out);
    json_str(out, r->objective);
    fprintf(out, ", \"direction\": \"%s\"}, \"meta\": {", r->maximize ? "max" : "min");
    for (int k = 0, first = 1; k < N_META_KEYS; k++) {
        if (!r->meta[k]) continue;
        fprintf(out, "%s\"%s\": ", first ? "" : ", ", META_KEYS[k]);
        json_str(out, r->meta[k]);
        first = 0;
    }
    fputs("},\n\"space\": ", out);
    if (r->program) write_space(out, r->program);
    else fputs("null", out);
    fputs(",\n\"trials\": ", out);
    write_trials(out, r->t, r->n, r->rows, r->n_rows);
    fprintf(out, "}</script>\n<script>\n%s</script>\n</body>\n</html>\n", page_js());
}

static int load(report *r, store *s)
{
    hpt_error e;
    if (store_load_trials(s, &r->t, &r->n, &e) || store_load_epochs(s, -1, &r->rows, &r->n_rows, &e)) {
        fprintf(stderr, "hptc: %s\n", e.message);
        return -1;
    }
    char *obj = store_meta_get(s, "objective");
    snprintf(r->objective, sizeof r->objective, "%s", obj ? obj : "val_loss");
    free(obj);
    r->maximize = tune_maximize(r->objective);
    for (int k = 0; k < N_META_KEYS; k++) r->meta[k] = store_meta_get(s, META_KEYS[k]);
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
    ir_free(r.program);
    free(r.rows);
    store_free_trials(r.t, r.n);
    store_close(s);
    return rc;
}

const char cli_report_usage[] =
    "hptc report DIR -o FILE.html\n"
    "  One self-contained HTML page over the project in DIR (directory/project_name):\n"
    "  optimization history, each hyperparameter against the objective, parallel\n"
    "  coordinates, importance, learning curves, Hyperband promotions, failed trials,\n"
    "  the spec and the store's meta.  It loads nothing from the network; the data\n"
    "  sits in the page as JSON (docs/report.md).  -o - writes to stdout.";

/* ---- the page's style and script (docs/report.md) ----------------------- */

static const char *page_css(void)
{
    return
        "*{box-sizing:border-box}\n"
        "body{margin:0;background:#f3f4f6;color:#1f2933;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif}\n"
        "header{background:#1f2a44;color:#fff;padding:18px 28px}\n"
        "header h1{margin:0;font-size:22px;font-weight:600}\n"
        "header p{margin:4px 0 0;color:#c9d2e3}\n"
        "main{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px;padding:16px 28px 28px;max-width:1400px;margin:0 auto}\n"
        ".card{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12);padding:14px 18px;min-width:0}\n"
        ".wide{grid-column:1/-1}\n"
        "h2{font-size:16px;margin:0 0 8px;font-weight:600}\n"
        ".note{color:#5b6776;font-size:12.5px;margin:6px 0 0}\n"
        "svg{display:block;width:100%;height:auto;font-size:12px}\n"
        "svg text{fill:#364152}\n"
        ".axis line,.axis path{stroke:#9aa5b1;stroke-width:1;fill:none}\n"
        ".grid line{stroke:#e4e7eb}\n"
        ".label{font-size:12.5px;font-weight:600}\n"
        ".pt{stroke:#fff;stroke-width:.8}\n"
        ".pt:hover,.hb-node:hover{stroke:#111;stroke-width:2}\n"
        ".best-line{fill:none;stroke:#d9480f;stroke-width:2}\n"
        ".pc-line{fill:none;stroke-width:1.3;stroke-opacity:.55}\n"
        ".dense .pc-line{stroke-opacity:.22}\n"
        ".pc-line:hover{stroke-width:3.5;stroke-opacity:1}\n"
        ".curve-val{fill:none;stroke-width:2}\n"
        ".curve-train{fill:none;stroke-width:1.5;stroke-dasharray:5 4}\n"
        ".hb-edge{stroke:#7b8794;stroke-width:1.4;fill:none}\n"
        ".bar{fill:#3b7dd8}\n"
        ".smalls{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:10px}\n"
        "table{border-collapse:collapse;width:100%;font-size:13px}\n"
        "th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e4e7eb;vertical-align:top}\n"
        "th{color:#5b6776;font-weight:600}\n"
        "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
        "code,pre{font:12.5px/1.4 'DejaVu Sans Mono',Menlo,Consolas,monospace}\n"
        "pre{background:#f7f8fa;border:1px solid #e4e7eb;border-radius:6px;padding:10px 12px;overflow:auto;margin:0}\n"
        ".legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12.5px;margin-top:6px}\n"
        ".legend span::before{content:'';display:inline-block;width:14px;height:3px;margin-right:5px;vertical-align:middle;background:var(--c)}\n"
        ".scroll{max-height:560px;overflow:auto}\n"
        ".empty{color:#5b6776;font-style:italic}\n"
        ".error{color:#b42318}\n"
        "#tip{position:fixed;pointer-events:none;background:rgba(20,27,45,.94);color:#fff;padding:7px 10px;border-radius:6px;font-size:12.5px;max-width:420px;z-index:10;white-space:pre-line;box-shadow:0 2px 8px rgba(0,0,0,.3)}\n";
}

static const char *page_js(void)
{
    return
        "(function () {\n"
        "'use strict';\n"
        "var D = JSON.parse(document.getElementById('hptc-data').textContent);\n"
        "var NS = 'http://www.w3.org/2000/svg';\n"
        "var OBJ = D.objective.name, MAX = D.objective.direction === 'max';\n"
        "var trials = D.trials, byId = {}, errors = [];\n"
        "trials.forEach(function (t) { byId[t.id] = t; });\n"
        "var done = trials.filter(function (t) { return t.status === 'completed' && typeof t.score === 'number'; });\n"
        "/* Completed trials from worst to best: drawn in that order, the best end on top. */\n"
        "var ranked = done.slice().sort(function (a, b) { return MAX ? a.score - b.score : b.score - a.score; });\n"
        "var best = ranked.length ? ranked[ranked.length - 1] : null;\n"
        "\n"
        "/* ---- DOM helpers: text is only ever set with textContent ---- */\n"
        "function el(tag, attrs, parent, text) {\n"
        "  var e = document.createElementNS(NS, tag);\n"
        "  for (var k in attrs) e.setAttribute(k, attrs[k]);\n"
        "  if (text !== undefined) e.textContent = text;\n"
        "  if (parent) parent.appendChild(e);\n"
        "  return e;\n"
        "}\n"
        "function h(tag, cls, parent, text) {\n"
        "  var e = document.createElement(tag);\n"
        "  if (cls) e.className = cls;\n"
        "  if (text !== undefined) e.textContent = text;\n"
        "  if (parent) parent.appendChild(e);\n"
        "  return e;\n"
        "}\n"
        "function svgBox(box, w, ht, name) {\n"
        "  return el('svg', { viewBox: '0 0 ' + w + ' ' + ht, width: w, height: ht, 'data-plot': name }, box);\n"
        "}\n"
        "function num(v) {\n"
        "  if (typeof v !== 'number' || !isFinite(v)) return String(v);\n"
        "  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);\n"
        "  var a = Math.abs(v);\n"
        "  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2).replace(/\\.?0+e/, 'e').replace('e+', 'e');\n"
        "  return String(parseFloat(v.toPrecision(4)));\n"
        "}\n"
        "function val(v) {\n"
        "  if (v === undefined) return 'inactive';\n"
        "  return typeof v === 'number' ? num(v) : typeof v === 'string' ? v : JSON.stringify(v);\n"
        "}\n"
        "function short(s, n) { return s.length > n ? s.slice(0, n - 1) + '\\u2026' : s; }\n"
        "function jitter(id) { return (Math.imul(id + 1, 2654435761) >>> 0) / 4294967296 - 0.5; }\n"
        "\n"
        "/* Score to colour: worst gold, through red, to best deep purple. */\n"
        "var lo = Infinity, hi = -Infinity;\n"
        "done.forEach(function (t) { lo = Math.min(lo, t.score); hi = Math.max(hi, t.score); });\n"
        "var RAMP = [[252, 212, 90], [236, 112, 58], [190, 40, 82], [92, 24, 130]];\n"
        "function colour(score) {\n"
        "  var q = hi > lo ? (score - lo) / (hi - lo) : 1;\n"
        "  if (!MAX) q = 1 - q;\n"
        "  var x = q * (RAMP.length - 1), i = Math.min(Math.floor(x), RAMP.length - 2), f = x - i, c = [];\n"
        "  for (var k = 0; k < 3; k++) c.push(Math.round(RAMP[i][k] + f * (RAMP[i + 1][k] - RAMP[i][k])));\n"
        "  return 'rgb(' + c.join(',') + ')';\n"
        "}\n"
        "\n"
        "/* ---- scales and axes ---- */\n"
        "function niceTicks(a, b, n) {\n"
        "  var span = b - a;\n"
        "  if (!(span > 0)) return [a];\n"
        "  var step = Math.pow(10, Math.floor(Math.log10(span / n))), err = n / span * step;\n"
        "  if (err <= 0.15) step *= 10; else if (err <= 0.35) step *= 5; else if (err <= 0.75) step *= 2;\n"
        "  var out = [];\n"
        "  for (var v = Math.ceil(a / step) * step; v <= b + step * 1e-9; v += step) out.push(parseFloat(v.toPrecision(12)));\n"
        "  return out;\n"
        "}\n"
        "function linear(d0, d1, r0, r1, pad) {\n"
        "  if (!(d1 > d0)) { var c = isFinite(d0) ? d0 : 0, w = Math.abs(c) * 0.1 || 1; d0 = c - w; d1 = c + w; }\n"
        "  else if (pad) { var p = (d1 - d0) * pad; d0 -= p; d1 += p; }\n"
        "  var f = function (v) { return r0 + (v - d0) / (d1 - d0) * (r1 - r0); };\n"
        "  f.ticks = function (n) { return niceTicks(d0, d1, n); };\n"
        "  return f;\n"
        "}\n"
        "function logScale(d0, d1, r0, r1) {\n"
        "  var l0 = Math.log10(d0), l1 = Math.log10(d1);\n"
        "  if (!(l1 > l0)) { l0 -= 0.5; l1 += 0.5; }\n"
        "  var p = (l1 - l0) * 0.04; l0 -= p; l1 += p;\n"
        "  var f = function (v) { return r0 + (Math.log10(v) - l0) / (l1 - l0) * (r1 - r0); };\n"
        "  f.ticks = function () {\n"
        "    var out = [], mult = l1 - l0 < 2.5 ? [1, 2, 5] : [1];\n"
        "    for (var e = Math.floor(l0); e <= Math.ceil(l1); e++)\n"
        "      mult.forEach(function (m) { var v = m * Math.pow(10, e), lv = Math.log10(v); if (lv >= l0 && lv <= l1) out.push(v); });\n"
        "    return out;\n"
        "  };\n"
        "  return f;\n"
        "}\n"
        "function band(keys, r0, r1) {\n"
        "  var step = (r1 - r0) / Math.max(keys.length, 1), idx = {};\n"
        "  keys.forEach(function (k, i) { idx[k] = i; });\n"
        "  var f = function (k) { return r0 + step * (idx[k] + 0.5); };\n"
        "  f.step = step;\n"
        "  return f;\n"
        "}\n"
        "function axisX(svg, grid, scale, ticks, y, top, labels) {\n"
        "  var a = el('g', { 'class': 'axis' }, svg);\n"
        "  ticks.forEach(function (v, i) {\n"
        "    var x = scale(v);\n"
        "    if (grid) el('line', { x1: x, x2: x, y1: top, y2: y }, grid);\n"
        "    el('line', { x1: x, x2: x, y1: y, y2: y + 4 }, a);\n"
        "    el('text', { x: x, y: y + 16, 'text-anchor': 'middle' }, a, labels ? labels[i] : num(v));\n"
        "  });\n"
        "  return a;\n"
        "}\n"
        "function axisY(svg, grid, scale, ticks, x, right) {\n"
        "  var a = el('g', { 'class': 'axis' }, svg);\n"
        "  ticks.forEach(function (v, i) {\n"
        "    var y = scale(v);\n"
        "    if (grid) el('line', { x1: x, x2: right, y1: y, y2: y }, grid);\n"
        "    el('line', { x1: x - 4, x2: x, y1: y, y2: y }, a);\n"
        "    el('text', { x: x - 7, y: y + 4, 'text-anchor': 'end' }, a, num(v));\n"
        "  });\n"
        "  return a;\n"
        "}\n"
        "function frame(svg, x0, x1, y0, y1) {\n"
        "  el('line', { x1: x0, x2: x1, y1: y1, y2: y1, 'class': 'frame', stroke: '#9aa5b1' }, svg);\n"
        "  el('line', { x1: x0, x2: x0, y1: y0, y2: y1, 'class': 'frame', stroke: '#9aa5b1' }, svg);\n"
        "}\n"
        "function scoreScale(y0, y1) {\n"
        "  return linear(lo, hi, y1, y0, 0.06);\n"
        "}\n"
        "\n"
        "/* ---- the search space: from the spec's IR, or guessed from the values ---- */\n"
        "function space() {\n"
        "  if (D.space) return D.space.filter(function (s) { return s.kind !== 'fixed'; });\n"
        "  var names = [], seen = {};\n"
        "  trials.forEach(function (t) {\n"
        "    for (var k in t.hyperparameters) if (!seen[k]) { seen[k] = 1; names.push(k); }\n"
        "  });\n"
        "  return names.map(function (n) {\n"
        "    var vs = trials.map(function (t) { return t.hyperparameters[n]; }).filter(function (v) { return v !== undefined; });\n"
        "    if (vs.every(function (v) { return typeof v === 'number'; })) return { name: n, kind: 'float', sampling: 'linear' };\n"
        "    return { name: n, kind: 'choice', values: [] };\n"
        "  });\n"
        "}\n"
        "var SPACE = space();\n"
        "function categorical(s) { return s.kind === 'choice' || s.kind === 'boolean'; }\n"
        "/* An axis for one hyperparameter: categorical ones on bands (the spec's order),\n"
        " * log-sampled ones on a log axis, the rest linear. */\n"
        "function hpAxis(s, r0, r1) {\n"
        "  var vs = done.map(function (t) { return t.hyperparameters[s.name]; }).filter(function (v) { return v !== undefined; });\n"
        "  if (categorical(s)) {\n"
        "    var keys = [], labels = [], seen = {};\n"
        "    var all = (s.kind === 'boolean' ? [false, true] : s.values || []).concat(vs);\n"
        "    all.forEach(function (v) {\n"
        "      var k = JSON.stringify(v);\n"
        "      if (!seen[k]) { seen[k] = 1; keys.push(k); labels.push(val(v)); }\n"
        "    });\n"
        "    var b = band(keys, r0, r1);\n"
        "    return { pos: function (v) { return b(JSON.stringify(v)); }, band: b.step, ticks: keys.map(function (k) { return JSON.parse(k); }),\n"
        "             labels: labels, scale: function (v) { return b(JSON.stringify(v)); }, log: false };\n"
        "  }\n"
        "  var d0 = Math.min.apply(null, vs.concat(typeof s.min === 'number' ? [s.min] : [])),\n"
        "      d1 = Math.max.apply(null, vs.concat(typeof s.max === 'number' ? [s.max] : []));\n"
        "  var log = s.sampling === 'log' && d0 > 0;\n"
        "  var sc = log ? logScale(d0, d1, r0, r1) : linear(d0, d1, r0, r1, 0.04);\n"
        "  var ticks = log ? sc.ticks() : sc.ticks(5);\n"
        "  var spread = 0;\n"
        "  if (s.kind === 'int') {\n"
        "    ticks = ticks.filter(Number.isInteger);\n"
        "    /* Few distinct values: spread the points around each like a band. */\n"
        "    var distinct = {};\n"
        "    vs.forEach(function (v) { distinct[v] = 1; });\n"
        "    var keys = Object.keys(distinct).map(Number).sort(function (a, b) { return a - b; }), gap = Infinity;\n"
        "    for (var k = 1; k < keys.length; k++) gap = Math.min(gap, Math.abs(sc(keys[k]) - sc(keys[k - 1])));\n"
        "    if (keys.length <= 12) spread = Math.min(isFinite(gap) ? gap * 0.6 : 24, 40);\n"
        "  }\n"
        "  return { pos: sc, band: spread, ticks: ticks, labels: ticks.map(num), scale: sc, log: log };\n"
        "}\n"
        "\n"
        "/* ---- plots ---- */\n"
        "function plotHistory(box) {\n"
        "  var W = 1300, H = 300, x0 = 64, x1 = W - 20, y0 = 14, y1 = H - 46;\n"
        "  var svg = svgBox(box, W, H, 'history');\n"
        "  if (!trials.length) { h('p', 'empty', box, 'No trials yet.'); return; }\n"
        "  var grid = el('g', { 'class': 'grid' }, svg);\n"
        "  var ids = trials.map(function (t) { return t.id; });\n"
        "  var xs = linear(Math.min.apply(null, ids) - 0.5, Math.max.apply(null, ids) + 0.5, x0, x1);\n"
        "  var ys = scoreScale(y0, y1);\n"
        "  axisX(svg, grid, xs, xs.ticks(12).filter(Number.isInteger), y1, y0);\n"
        "  axisY(svg, grid, ys, ys.ticks(6), x0, x1);\n"
        "  frame(svg, x0, x1, y0, y1);\n"
        "  el('text', { 'class': 'label', x: (x0 + x1) / 2, y: H - 8, 'text-anchor': 'middle' }, svg, 'trial id');\n"
        "  el('text', { 'class': 'label', transform: 'rotate(-90)', x: -(y0 + y1) / 2, y: 16, 'text-anchor': 'middle' }, svg, OBJ);\n"
        "  /* Best so far, in trial-id order: a step line. */\n"
        "  var d = '', cur = null;\n"
        "  done.forEach(function (t) {\n"
        "    if (cur === null || (MAX ? t.score > cur : t.score < cur)) {\n"
        "      cur = t.score;\n"
        "      d += (d ? 'H' + xs(t.id).toFixed(1) + 'V' : 'M' + xs(t.id).toFixed(1) + ',') + ys(cur).toFixed(1);\n"
        "    }\n"
        "  });\n"
        "  if (d) el('path', { 'class': 'best-line', d: d + 'H' + x1 }, svg);\n"
        "  var r = done.length > 300 ? 2.6 : 4.5, g = el('g', {}, svg);\n"
        "  done.forEach(function (t) {\n"
        "    el('circle', { 'class': 'pt', cx: xs(t.id).toFixed(1), cy: ys(t.score).toFixed(1), r: r, fill: colour(t.score), 'data-trial': t.id }, g);\n"
        "  });\n"
        "  trials.forEach(function (t) {\n"
        "    if (t.status === 'failed')\n"
        "      el('text', { 'class': 'fail-mark', x: xs(t.id), y: y1 - 4, 'text-anchor': 'middle', fill: '#b42318', 'data-trial': t.id }, svg, '\\u2715');\n"
        "  });\n"
        "  svg.setAttribute('data-points', done.length);\n"
        "  var lg = h('div', 'legend', box);\n"
        "  h('span', '', lg, 'best so far').style.setProperty('--c', '#d9480f');\n"
        "  h('span', '', lg, 'completed trial (colour: ' + OBJ + ', dark = better)').style.setProperty('--c', colour(best ? best.score : 0));\n"
        "  if (trials.some(function (t) { return t.status === 'failed'; })) h('span', '', lg, '\\u2715 failed trial').style.setProperty('--c', '#b42318');\n"
        "}\n"
        "\n"
        "function plotScatter(box) {\n"
        "  if (!SPACE.length) { h('p', 'empty', box, 'The search space has no tunable hyperparameter.'); return; }\n"
        "  SPACE.forEach(function (s, i) {\n"
        "    var W = 320, H = 236, x0 = 54, x1 = W - 12, y0 = 12, y1 = H - 48;\n"
        "    var cell = h('div', '', box);\n"
        "    cell.id = 'plot-hp-' + i;\n"
        "    var svg = svgBox(cell, W, H, 'hp');\n"
        "    svg.setAttribute('data-hp', s.name);\n"
        "    var grid = el('g', { 'class': 'grid' }, svg);\n"
        "    var ax = hpAxis(s, x0, x1), ys = scoreScale(y0, y1);\n"
        "    var step = Math.max(1, Math.ceil(ax.ticks.length / 6));\n"
        "    axisX(svg, grid, ax.scale, ax.ticks.filter(function (_, k) { return k % step === 0; }), y1, y0,\n"
        "          ax.labels.filter(function (_, k) { return k % step === 0; }).map(function (l) { return short(l, 12); }));\n"
        "    axisY(svg, grid, ys, ys.ticks(5), x0, x1);\n"
        "    frame(svg, x0, x1, y0, y1);\n"
        "    el('text', { 'class': 'label', x: (x0 + x1) / 2, y: H - 10, 'text-anchor': 'middle' }, svg,\n"
        "       short(s.name, 34) + (ax.log ? ' (log)' : categorical(s) ? ' (' + s.kind + ')' : ''));\n"
        "    var g = el('g', {}, svg), n = 0, r = done.length > 300 ? 2.4 : 4;\n"
        "    ranked.forEach(function (t) {\n"
        "      var v = t.hyperparameters[s.name];\n"
        "      if (v === undefined) return;\n"
        "      var x = ax.pos(v) + (ax.band ? jitter(t.id) * ax.band * 0.5 : 0);\n"
        "      el('circle', { 'class': 'pt', cx: x.toFixed(1), cy: ys(t.score).toFixed(1), r: r, fill: colour(t.score), 'data-trial': t.id }, g);\n"
        "      n++;\n"
        "    });\n"
        "    svg.setAttribute('data-points', n);\n"
        "  });\n"
        "}\n"
        "\n"
        "function plotParallel(box) {\n"
        "  var axes = SPACE.concat([{ name: OBJ, kind: 'objective' }]);\n"
        "  var W = 1300, H = 380, x0 = 70, x1 = W - 90, y0 = 40, y1 = H - 26;\n"
        "  var svg = svgBox(box, W, H, 'parallel');\n"
        "  var xs = function (i) { return axes.length > 1 ? x0 + i * (x1 - x0) / (axes.length - 1) : (x0 + x1) / 2; };\n"
        "  var scales = axes.map(function (s) {\n"
        "    if (s.kind === 'objective') { var sc = scoreScale(y0, y1); return { pos: sc, ticks: sc.ticks(6), labels: sc.ticks(6).map(num), band: 0 }; }\n"
        "    return hpAxis(s, y1, y0);\n"
        "  });\n"
        "  var g = el('g', {}, svg);\n"
        "  ranked.forEach(function (t) {\n"
        "    var d = '', gap = true;\n"
        "    axes.forEach(function (s, i) {\n"
        "      var v = s.kind === 'objective' ? t.score : t.hyperparameters[s.name];\n"
        "      if (v === undefined) { gap = true; return; }\n"
        "      var y = scales[i].pos(v) + (scales[i].band ? jitter(t.id) * scales[i].band * 0.4 : 0);\n"
        "      d += (gap ? 'M' : 'L') + xs(i).toFixed(1) + ',' + y.toFixed(1);\n"
        "      gap = false;\n"
        "    });\n"
        "    el('path', { 'class': 'pc-line', d: d, stroke: colour(t.score), 'data-trial': t.id }, g);\n"
        "  });\n"
        "  /* Many lines: fainter, so the dense bundles show where the trials went. */\n"
        "  if (ranked.length > 150) g.setAttribute('class', 'dense');\n"
        "  axes.forEach(function (s, i) {\n"
        "    var a = el('g', { 'class': 'axis' }, svg), x = xs(i), sc = scales[i];\n"
        "    el('line', { x1: x, x2: x, y1: y0, y2: y1 }, a);\n"
        "    var step = Math.max(1, Math.ceil(sc.ticks.length / 8));\n"
        "    sc.ticks.forEach(function (v, k) {\n"
        "      if (k % step) return;\n"
        "      var y = sc.pos(v);\n"
        "      el('line', { x1: x - 4, x2: x, y1: y, y2: y }, a);\n"
        "      el('text', { x: x - 7, y: y + 4, 'text-anchor': 'end', 'paint-order': 'stroke', stroke: '#fff', 'stroke-width': 3 }, a,\n"
        "         short(sc.labels[k], 12));\n"
        "    });\n"
        "    el('text', { 'class': 'label', x: x, y: y0 - 14, 'text-anchor': 'middle' }, a, short(s.name, 22) + (sc.log ? ' (log)' : ''));\n"
        "  });\n"
        "  svg.setAttribute('data-lines', ranked.length);\n"
        "}\n"
        "\n"
        "/* Importance: for each hyperparameter, the share of the objective's variance\n"
        " * that its value explains, Var(E[score | value]) / Var(score), estimated by a\n"
        " * one-way ANOVA over groups of completed trials: one group per value of a\n"
        " * categorical hyperparameter or of an Int with at most 12 distinct values, else\n"
        " * k = clamp(round(sqrt(n)), 2, 10) equal-count bins of the sorted values; trials\n"
        " * where it is inactive form one more group.  eta^2 = SS_between / SS_total is\n"
        " * corrected for the number of groups (epsilon^2 = (SS_b - (k-1) MS_w) / (SS_t +\n"
        " * MS_w), clamped at 0), so a hyperparameter without effect scores about 0. */\n"
        "function importance(s) {\n"
        "  var n = done.length;\n"
        "  if (n < 3) return null;\n"
        "  var groups = {}, act = [];\n"
        "  done.forEach(function (t) {\n"
        "    var v = t.hyperparameters[s.name];\n"
        "    if (v === undefined) (groups.inactive = groups.inactive || []).push(t.score);\n"
        "    else act.push([v, t.score]);\n"
        "  });\n"
        "  var distinct = {};\n"
        "  act.forEach(function (p) { distinct[JSON.stringify(p[0])] = 1; });\n"
        "  if (categorical(s) || (s.kind === 'int' && Object.keys(distinct).length <= 12) || typeof (act[0] || [0])[0] !== 'number') {\n"
        "    act.forEach(function (p) { var k = 'v' + JSON.stringify(p[0]); (groups[k] = groups[k] || []).push(p[1]); });\n"
        "  } else {\n"
        "    act.sort(function (a, b) { return a[0] - b[0]; });\n"
        "    var k = Math.max(2, Math.min(10, Math.round(Math.sqrt(act.length))));\n"
        "    act.forEach(function (p, i) { var b = 'b' + Math.floor(i * k / act.length); (groups[b] = groups[b] || []).push(p[1]); });\n"
        "  }\n"
        "  var mean = done.reduce(function (a, t) { return a + t.score; }, 0) / n, sst = 0, ssb = 0;\n"
        "  done.forEach(function (t) { sst += (t.score - mean) * (t.score - mean); });\n"
        "  var keys = Object.keys(groups);\n"
        "  keys.forEach(function (g) {\n"
        "    var v = groups[g], m = v.reduce(function (a, x) { return a + x; }, 0) / v.length;\n"
        "    ssb += v.length * (m - mean) * (m - mean);\n"
        "  });\n"
        "  var kk = keys.length;\n"
        "  if (!(sst > 0) || kk < 2) return { eps: 0, eta: 0, k: kk, n: n };\n"
        "  var msw = n > kk ? (sst - ssb) / (n - kk) : 0;\n"
        "  return { eps: Math.max(0, (ssb - (kk - 1) * msw) / (sst + msw)), eta: ssb / sst, k: kk, n: n };\n"
        "}\n"
        "function plotImportance(box) {\n"
        "  var rows = SPACE.map(function (s) { return { s: s, r: importance(s) }; }).filter(function (x) { return x.r; });\n"
        "  if (!rows.length) { h('p', 'empty', box, 'Needs at least 3 completed trials.'); return; }\n"
        "  rows.sort(function (a, b) { return b.r.eps - a.r.eps; });\n"
        "  var W = 620, rowH = 28, H = rows.length * rowH + 34, x0 = 160, x1 = W - 56;\n"
        "  var svg = svgBox(box, W, H, 'importance');\n"
        "  var xs = linear(0, 1, x0, x1), grid = el('g', { 'class': 'grid' }, svg);\n"
        "  axisX(svg, grid, xs, [0, 0.25, 0.5, 0.75, 1], H - 26, 4);\n"
        "  rows.forEach(function (x, i) {\n"
        "    var y = 8 + i * rowH, tipText = x.s.name + '\\nepsilon\\u00b2 = ' + x.r.eps.toFixed(3) + ' (eta\\u00b2 = ' + x.r.eta.toFixed(3) +\n"
        "        ')\\n' + x.r.k + ' groups over ' + x.r.n + ' completed trials';\n"
        "    el('text', { x: x0 - 8, y: y + 15, 'text-anchor': 'end' }, svg, short(x.s.name, 24));\n"
        "    el('rect', { 'class': 'bar', x: x0, y: y + 2, width: Math.max(1, xs(x.r.eps) - x0).toFixed(1), height: rowH - 10,\n"
        "                 'data-hp': x.s.name, 'data-value': x.r.eps.toFixed(4), 'data-tip': tipText }, svg);\n"
        "    el('text', { x: xs(x.r.eps) + 6, y: y + 15 }, svg, x.r.eps.toFixed(2));\n"
        "  });\n"
        "  svg.setAttribute('data-bars', rows.length);\n"
        "}\n"
        "\n"
        "function history(t) {\n"
        "  /* A promoted Hyperband trial continues its parent: prepend the ancestors' epochs. */\n"
        "  var rows = t.history.slice(), p = byId[t.parent], guard = 0;\n"
        "  while (p && guard++ < 64) {\n"
        "    var first = rows.length ? rows[0][0] : Infinity;\n"
        "    rows = p.history.filter(function (r) { return r[0] < first; }).concat(rows);\n"
        "    p = byId[p.parent];\n"
        "  }\n"
        "  return rows;\n"
        "}\n"
        "var PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];\n"
        "function plotCurves(box) {\n"
        "  var base = OBJ.replace(/^val_/, ''), col = base === 'accuracy' ? 4 : 3, metric = base === 'accuracy' ? 'accuracy' : 'loss';\n"
        "  var top = ranked.slice(-8).reverse();\n"
        "  var W = 620, H = 320, x0 = 56, x1 = W - 16, y0 = 12, y1 = H - 46;\n"
        "  var svg = svgBox(box, W, H, 'curves');\n"
        "  var curves = top.map(function (t) { return { t: t, rows: history(t) }; });\n"
        "  var vmin = Infinity, vmax = -Infinity, emax = 1;\n"
        "  curves.forEach(function (c) {\n"
        "    c.rows.forEach(function (r) {\n"
        "      [r[col], r[col - 2]].forEach(function (v) { if (typeof v === 'number' && isFinite(v)) { vmin = Math.min(vmin, v); vmax = Math.max(vmax, v); } });\n"
        "      emax = Math.max(emax, r[0] + 1);\n"
        "    });\n"
        "  });\n"
        "  var grid = el('g', { 'class': 'grid' }, svg);\n"
        "  var xs = linear(1, emax, x0, x1, 0.03), ys = linear(vmin, vmax, y1, y0, 0.05);\n"
        "  axisX(svg, grid, xs, xs.ticks(Math.min(10, emax)).filter(Number.isInteger), y1, y0);\n"
        "  axisY(svg, grid, ys, ys.ticks(6), x0, x1);\n"
        "  frame(svg, x0, x1, y0, y1);\n"
        "  el('text', { 'class': 'label', x: (x0 + x1) / 2, y: H - 8, 'text-anchor': 'middle' }, svg, 'epoch');\n"
        "  el('text', { 'class': 'label', transform: 'rotate(-90)', x: -(y0 + y1) / 2, y: 14, 'text-anchor': 'middle' }, svg, metric);\n"
        "  var lg = h('div', 'legend', box);\n"
        "  curves.forEach(function (c, i) {\n"
        "    var colr = PALETTE[i % PALETTE.length];\n"
        "    [[col, 'curve-val'], [col - 2, 'curve-train']].forEach(function (m) {\n"
        "      var d = '', gap = true;\n"
        "      c.rows.forEach(function (r) {\n"
        "        var v = r[m[0]];\n"
        "        if (typeof v !== 'number' || !isFinite(v)) { gap = true; return; }\n"
        "        d += (gap ? 'M' : 'L') + xs(r[0] + 1).toFixed(1) + ',' + ys(v).toFixed(1);\n"
        "        gap = false;\n"
        "      });\n"
        "      if (d) el('path', { 'class': m[1], d: d, stroke: colr, 'data-trial': c.t.id }, svg);\n"
        "    });\n"
        "    /* Dots on the validation curve, so a one-epoch trial shows too. */\n"
        "    c.rows.forEach(function (r) {\n"
        "      var v = r[col];\n"
        "      if (typeof v === 'number' && isFinite(v))\n"
        "        el('circle', { 'class': 'curve-pt', cx: xs(r[0] + 1).toFixed(1), cy: ys(v).toFixed(1), r: 3, fill: colr, 'data-trial': c.t.id }, svg);\n"
        "    });\n"
        "    h('span', '', lg, 'trial ' + c.t.id + ' (' + num(c.t.score) + ')').style.setProperty('--c', colr);\n"
        "  });\n"
        "  svg.setAttribute('data-lines', curves.length);\n"
        "  h('p', 'note', box, 'The ' + curves.length + ' best trials: val_' + metric + ' solid, training ' + metric +\n"
        "    ' dashed.  A promoted Hyperband trial\\u2019s curve starts with its ancestors\\u2019 epochs.');\n"
        "}\n"
        "\n"
        "function plotHyperband(box) {\n"
        "  var hb = trials.filter(function (t) { return t.bracket >= 0; });\n"
        "  box.setAttribute('data-edges', 0);\n"
        "  if (!hb.length) { h('p', 'empty', box, 'Not a Hyperband search: its trials have no brackets.'); return; }\n"
        "  var brackets = {}, edges = 0;\n"
        "  hb.forEach(function (t) { (brackets[t.bracket] = brackets[t.bracket] || []).push(t); });\n"
        "  Object.keys(brackets).map(Number).sort(function (a, b) { return b - a; }).forEach(function (b) {\n"
        "    var ts = brackets[b], inB = {}, row = {}, rows = 0, rounds = 0, epochs = {};\n"
        "    ts.forEach(function (t) { inB[t.id] = t; rounds = Math.max(rounds, t.round + 1); epochs[t.round] = Math.max(epochs[t.round] || 0, t.epochs); });\n"
        "    ts.slice().sort(function (a, c) { return a.round - c.round || a.id - c.id; }).forEach(function (t) {\n"
        "      row[t.id] = t.parent >= 0 && inB[t.parent] && row[t.parent] !== undefined ? row[t.parent] : rows++;\n"
        "    });\n"
        "    var colW = 190, W = 96 + Math.max(rounds, 3) * colW, H = 44 + rows * 22;\n"
        "    var svg = svgBox(box, W, H, 'hyperband');\n"
        "    svg.style.maxWidth = W + 'px';\n"
        "    svg.setAttribute('data-bracket', b);\n"
        "    el('text', { 'class': 'label', x: 4, y: 16 }, svg, 'bracket ' + b);\n"
        "    for (var r = 0; r < rounds; r++)\n"
        "      el('text', { x: 90 + r * colW, y: 16 }, svg, 'round ' + r + (epochs[r] ? ' \\u00b7 ' + epochs[r] + ' epochs' : ''));\n"
        "    var X = function (t) { return 96 + t.round * colW; }, Y = function (t) { return 38 + row[t.id] * 22; };\n"
        "    var label = function (t) {\n"
        "      return '#' + t.id + '  ' + (t.status === 'completed' && typeof t.score === 'number' ? num(t.score) : t.status);\n"
        "    };\n"
        "    ts.forEach(function (t) {\n"
        "      var p = inB[t.parent];\n"
        "      if (!p) return;\n"
        "      /* From the end of the parent's label (about 7 px a character) to the child. */\n"
        "      el('path', { 'class': 'hb-edge', d: 'M' + (X(p) + 16 + 7 * label(p).length) + ',' + Y(p) + 'L' + (X(t) - 9) + ',' + Y(t),\n"
        "                   'marker-end': 'url(#hb-arrow)' }, svg);\n"
        "      edges++;\n"
        "    });\n"
        "    ts.forEach(function (t) {\n"
        "      var ok = t.status === 'completed' && typeof t.score === 'number';\n"
        "      el('circle', { 'class': 'hb-node pt', cx: X(t), cy: Y(t), r: 6, fill: ok ? colour(t.score) : '#c4cdd5', 'data-trial': t.id }, svg);\n"
        "      el('text', { x: X(t) + 11, y: Y(t) + 4, 'data-trial': t.id }, svg, label(t));\n"
        "    });\n"
        "  });\n"
        "  var defs = el('svg', { width: 0, height: 0, style: 'position:absolute' }, box);\n"
        "  var m = el('marker', { id: 'hb-arrow', viewBox: '0 0 8 8', refX: 7, refY: 4, markerWidth: 7, markerHeight: 7, orient: 'auto' }, el('defs', {}, defs));\n"
        "  el('path', { d: 'M0,0L8,4L0,8z', fill: '#7b8794' }, m);\n"
        "  box.setAttribute('data-edges', edges);\n"
        "}\n"
        "\n"
        "function summary(box) {\n"
        "  if (!best) { h('p', 'empty', box, 'No completed trial yet.'); return; }\n"
        "  var p = h('p', '', box);\n"
        "  h('strong', '', p, 'Best: trial ' + best.id + ', ' + OBJ + ' = ' + num(best.score));\n"
        "  p.appendChild(document.createTextNode(' at epoch ' + (best.best_epoch + 1) + ' of ' + best.epochs + '.'));\n"
        "  var tab = h('table', '', box), tr = h('tr', '', h('thead', '', tab));\n"
        "  ['#', 'trial', OBJ, 'hyperparameters'].forEach(function (c) { h('th', '', tr, c); });\n"
        "  var tb = h('tbody', '', tab);\n"
        "  ranked.slice(-10).reverse().forEach(function (t, i) {\n"
        "    var r = h('tr', '', tb);\n"
        "    r.setAttribute('data-trial', t.id);\n"
        "    h('td', 'num', r, String(i + 1));\n"
        "    h('td', 'num', r, String(t.id));\n"
        "    h('td', 'num', r, num(t.score));\n"
        "    h('td', '', r, Object.keys(t.hyperparameters).map(function (k) { return k + '=' + val(t.hyperparameters[k]); }).join(', '));\n"
        "  });\n"
        "}\n"
        "\n"
        "/* ---- tooltip: one div, filled from the trial under the pointer ---- */\n"
        "var tip = document.getElementById('tip');\n"
        "function trialText(t) {\n"
        "  var lines = ['Trial ' + t.id + ' \\u00b7 ' + t.status];\n"
        "  if (typeof t.score === 'number') lines.push(OBJ + ' = ' + num(t.score) + ' (epoch ' + (t.best_epoch + 1) + ')');\n"
        "  if (t.bracket >= 0) lines.push('bracket ' + t.bracket + ', round ' + t.round + (t.parent >= 0 ? ', promoted from trial ' + t.parent : ''));\n"
        "  for (var k in t.hyperparameters) lines.push(k + ' = ' + val(t.hyperparameters[k]));\n"
        "  if (t.reason) lines.push(t.reason);\n"
        "  return lines.join('\\n');\n"
        "}\n"
        "function place(ev) {\n"
        "  var x = ev.clientX + 14, y = ev.clientY + 14;\n"
        "  if (x + tip.offsetWidth > window.innerWidth) x = ev.clientX - tip.offsetWidth - 14;\n"
        "  if (y + tip.offsetHeight > window.innerHeight) y = ev.clientY - tip.offsetHeight - 14;\n"
        "  tip.style.left = x + 'px';\n"
        "  tip.style.top = y + 'px';\n"
        "}\n"
        "document.addEventListener('mouseover', function (ev) {\n"
        "  var n = ev.target.closest ? ev.target.closest('[data-trial],[data-tip]') : null;\n"
        "  if (!n || (n.hasAttribute('data-trial') && !byId[n.getAttribute('data-trial')])) { tip.hidden = true; return; }\n"
        "  tip.textContent = n.hasAttribute('data-trial') ? trialText(byId[n.getAttribute('data-trial')]) : n.getAttribute('data-tip');\n"
        "  tip.hidden = false;\n"
        "  place(ev);\n"
        "});\n"
        "document.addEventListener('mousemove', function (ev) { if (!tip.hidden) place(ev); });\n"
        "\n"
        "/* One section failing must not take the others with it. */\n"
        "[['summary-body', summary], ['plot-history', plotHistory], ['plot-importance', plotImportance], ['plot-parallel', plotParallel],\n"
        " ['plot-scatter', plotScatter], ['plot-curves', plotCurves], ['plot-hyperband', plotHyperband]].forEach(function (s) {\n"
        "  var box = document.getElementById(s[0]);\n"
        "  try { s[1](box); } catch (e) { errors.push(s[0] + ': ' + e.message); h('p', 'error', box, 'Could not draw this plot: ' + e.message); }\n"
        "});\n"
        "var root = document.documentElement;\n"
        "if (errors.length) root.setAttribute('data-render-errors', errors.join(' | '));\n"
        "root.setAttribute('data-render-ms', performance.now().toFixed(1));\n"
        "})();\n";
}
