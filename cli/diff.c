/* diff.c: `hptc diff OLD.hpt NEW.hpt`, and what `hptc run --warm-start`
 * decides before its search (cli_warm_start).
 *
 * The diff compares the two compiled programs, not their text: comments and
 * formatting are no change.  Hyperparameters are matched by name (added,
 * removed, domain or condition changed, with widened/narrowed for ranges and
 * choices), layers by an alignment of their IR lines without their names
 * (the longest common subsequence), the data, compile, search and tuner
 * calls argument by argument.  Then the stored trials of the old spec's
 * project are matched against the new spec one by one
 * (runtime/tune/warmstart.h): those that hold are what --warm-start reuses.
 * Exit status as diff(1): 0 the specs define the same search, 1 they
 * differ, 2 trouble (a spec that does not compile, an unreadable store, a
 * usage error). */
#include "compiler/compile.h"
#include "cli/cli.h"
#include "runtime/json.h"
#include "runtime/store/store.h"
#include "runtime/tune/tuner.h"
#include "runtime/tune/warmstart.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct differ {
    int json, changes;
    json_writer w;
    const char *section;        /* the text heading printed last */
} differ;

/* One change: added (old NULL), removed (new NULL) or changed. */
static void change(differ *d, const char *section, const char *name, const char *old, const char *new,
                   const char *note)
{
    d->changes++;
    if (d->json) {
        json_open(&d->w, '{');
        json_key(&d->w, "section"), json_string(&d->w, section);
        json_key(&d->w, "change"), json_string(&d->w, !old ? "added" : !new ? "removed" : "changed");
        if (name) json_key(&d->w, "name"), json_string(&d->w, name);
        if (old) json_key(&d->w, "old"), json_string(&d->w, old);
        if (new) json_key(&d->w, "new"), json_string(&d->w, new);
        if (note && *note) json_key(&d->w, "note"), json_string(&d->w, note);
        json_close(&d->w);
        return;
    }
    if (!d->section || strcmp(d->section, section)) printf("%s:\n", section), d->section = section;
    if (!old) printf("  + %s%s%s\n", name ? name : "", name ? ": " : "", new);
    else if (!new) printf("  - %s%s%s\n", name ? name : "", name ? ": " : "", old);
    else printf("  %s: %s -> %s%s%s%s\n", name, old, new, note && *note ? " (" : "", note ? note : "", note && *note ? ")" : "");
}

/* ---- hyperparameters ------------------------------------------------------ */

/* "Int 16..512 step 16 default 16", "Choice [0.01, 0.001] ordered default 0.01 when %x == 1", malloc'd. */
static char *hp_text(const ir_program *p, const ir_hp *h)
{
    static const char *const kind[] = { "Int", "Float", "Choice", "Boolean", "Fixed" };
    static const char *const sampling[] = { "", " log", " reverse_log" };
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    fputs(kind[h->kind], f);
    if (h->kind == HP_INT || h->kind == HP_FLOAT) {
        fputc(' ', f), value_fprint(f, h->min), fputs("..", f), value_fprint(f, h->max);
        if (h->step.type != V_NONE) fputs(" step ", f), value_fprint(f, h->step);
        fputs(sampling[h->sampling], f);
    } else if (h->kind == HP_CHOICE || h->kind == HP_FIXED) {
        fputs(" [", f);
        for (int k = 0; k < h->n_values; k++) fputs(k ? ", " : "", f), value_fprint(f, h->values[k]);
        fputc(']', f);
    }
    fputs(" default ", f), value_fprint(f, h->default_value);
    if (h->condition) fputs(" when ", f), ir_print_expr(p, h->condition, f);
    fclose(f);
    return text;
}

static int choice_has(const ir_hp *h, hpt_value v)
{
    for (int k = 0; k < h->n_values; k++)
        if (value_equal(h->values[k], v)) return 1;
    return 0;
}

/* What kind of change: widened, narrowed, ... (several, comma-separated). */
static void hp_note(const ir_program *po, const ir_hp *a, const ir_program *pn, const ir_hp *b, char *note, size_t n)
{
    *note = 0;
    size_t len = 0;
#define NOTE(s) (len += (size_t)snprintf(note + len, len < n ? n - len : 0, "%s%s", len ? ", " : "", s))
    if (a->kind != b->kind) {
        NOTE("kind changed");
        return;
    }
    if (a->kind == HP_INT || a->kind == HP_FLOAT) {
        double lo_a = value_as_double(a->min), hi_a = value_as_double(a->max);
        double lo_b = value_as_double(b->min), hi_b = value_as_double(b->max);
        int same_step = value_equal(a->step, b->step) || (a->step.type == V_NONE && b->step.type == V_NONE);
        if (lo_a != lo_b || hi_a != hi_b)
            NOTE(lo_b <= lo_a && hi_b >= hi_a ? "widened" : lo_b >= lo_a && hi_b <= hi_a ? "narrowed" : "moved");
        if (!same_step) NOTE("step changed");
        if (a->sampling != b->sampling) NOTE("sampling changed");
    } else if (a->kind == HP_CHOICE || a->kind == HP_FIXED) {
        int a_in_b = 1, b_in_a = 1;
        for (int k = 0; k < a->n_values; k++) a_in_b &= choice_has(b, a->values[k]);
        for (int k = 0; k < b->n_values; k++) b_in_a &= choice_has(a, b->values[k]);
        if (!(a_in_b && b_in_a)) NOTE(a_in_b ? "widened" : b_in_a ? "narrowed" : "values changed");
        else if (a->n_values != b->n_values || a->ordered != b->ordered) NOTE("order changed");
    }
    if (!value_equal(a->default_value, b->default_value)) NOTE("default changed");
    char *ca = NULL, *cb = NULL;
    size_t la = 0, lb = 0;
    FILE *fa = open_memstream(&ca, &la), *fb = open_memstream(&cb, &lb);
    if (fa && a->condition) ir_print_expr(po, a->condition, fa);
    if (fb && b->condition) ir_print_expr(pn, b->condition, fb);
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    if (ca && cb && strcmp(ca, cb)) NOTE(!a->condition ? "now conditional" : !b->condition ? "now unconditional" : "condition changed");
    free(ca), free(cb);
#undef NOTE
}

static void diff_space(differ *d, const ir_program *a, const ir_program *b)
{
    for (int k = 0; k < a->n_hps; k++) {
        char *ta = hp_text(a, &a->hps[k]);
        int j = ir_find_hp(b, a->hps[k].name);
        char *tb = j >= 0 ? hp_text(b, &b->hps[j]) : NULL;
        if (j < 0) {
            change(d, "space", a->hps[k].name, ta, NULL, NULL);
        } else if (ta && tb && strcmp(ta, tb)) {
            char note[200];
            hp_note(a, &a->hps[k], b, &b->hps[j], note, sizeof note);
            change(d, "space", a->hps[k].name, ta, tb, note);
        }
        free(ta), free(tb);
    }
    for (int j = 0; j < b->n_hps; j++) {
        if (ir_find_hp(a, b->hps[j].name) >= 0) continue;
        char *tb = hp_text(b, &b->hps[j]);
        change(d, "space", b->hps[j].name, NULL, tb, NULL);
        free(tb);
    }
}

/* ---- layers --------------------------------------------------------------- */

/* The model block of the printed IR: one line per layer, "name = Entry(...)
 * <- (...) when ...", the line comment cut; *names points past "name = ". */
typedef struct layer_line { char *text; const char *body; } layer_line;

static layer_line *layer_lines(const ir_program *p, char **buf)
{
    size_t len = 0;
    FILE *f = open_memstream(buf, &len);
    if (!f) return NULL;
    ir_print(p, f);
    fclose(f);
    layer_line *lines = calloc((size_t)p->n_layers + 1, sizeof *lines);
    char *c = strstr(*buf, "\nmodel {\n");
    if (!lines || !c) return lines;
    c += 9;
    for (int k = 0; k < p->n_layers && *c && strncmp(c, "}\n", 2); k++) {
        char *end = strchr(c, '\n');
        if (!end) break;
        *end = 0;
        char *comment = strstr(c, "    ; line ");
        if (comment) *comment = 0;
        while (*c == ' ') c++;
        lines[k].text = c;
        char *eq = strstr(c, " = ");
        lines[k].body = eq ? eq + 3 : c;
        c = end + 1;
    }
    return lines;
}

static void diff_layers(differ *d, const ir_program *a, const ir_program *b)
{
    char *ba = NULL, *bb = NULL;
    layer_line *la = layer_lines(a, &ba), *lb = layer_lines(b, &bb);
    int n = a->n_layers, m = b->n_layers;
    /* The longest common subsequence of the bodies (names left out: inserting a layer renumbers the
     * names after it); too large a table, and layers are compared place by place. */
    int *lcs = la && lb && (double)(n + 1) * (m + 1) <= 4e6 ? calloc((size_t)(n + 1) * (size_t)(m + 1), sizeof *lcs) : NULL;
#define L(i, j) lcs[(size_t)(i) * (size_t)(m + 1) + (size_t)(j)]
#define BODY(l, k) ((l)[k].body ? (l)[k].body : "")
    if (lcs) {
        for (int i = n - 1; i >= 0; i--)
            for (int j = m - 1; j >= 0; j--)
                L(i, j) = !strcmp(BODY(la, i), BODY(lb, j)) ? L(i + 1, j + 1) + 1
                          : L(i + 1, j) > L(i, j + 1) ? L(i + 1, j) : L(i, j + 1);
        int i = 0, j = 0;
        while (i < n || j < m) {
            if (i < n && j < m && !strcmp(BODY(la, i), BODY(lb, j))) i++, j++;
            else if (i < n && (j == m || L(i + 1, j) >= L(i, j + 1))) change(d, "model", NULL, la[i++].text, NULL, NULL);
            else change(d, "model", NULL, NULL, lb[j++].text, NULL);
        }
    } else if (la && lb) {
        for (int k = 0; k < n || k < m; k++) {
            if (k < n && k < m && !strcmp(BODY(la, k), BODY(lb, k))) continue;
            if (k < n) change(d, "model", NULL, la[k].text, NULL, NULL);
            if (k < m) change(d, "model", NULL, NULL, lb[k].text, NULL);
        }
    }
#undef L
#undef BODY
    free(lcs), free(la), free(lb), free(ba), free(bb);
}

/* ---- data, compile, search, tuner ------------------------------------------ */

static char *expr_text(const ir_program *p, const ir_expr *e)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    if (e) ir_print_expr(p, e, f);
    fclose(f);
    return text;
}

static char *call_text(const ir_program *p, const ir_call *c)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    fprintf(f, "%s(", c->entry->name);
    for (int k = 0; k < c->entry->n_args; k++) {
        fprintf(f, "%s%s = ", k ? ", " : "", c->entry->args[k].name);
        ir_print_expr(p, c->args[k], f);
    }
    fputc(')', f);
    fclose(f);
    return text;
}

static void diff_call(differ *d, const char *section, const ir_program *a, const ir_call *ca, const ir_program *b,
                      const ir_call *cb)
{
    if (!ca->entry && !cb->entry) return;
    if (!ca->entry || !cb->entry || ca->entry != cb->entry) {
        char *ta = ca->entry ? call_text(a, ca) : NULL, *tb = cb->entry ? call_text(b, cb) : NULL;
        change(d, section, section, ta ? ta : "(none)", tb ? tb : "(none)", NULL);
        free(ta), free(tb);
        return;
    }
    for (int k = 0; k < ca->entry->n_args; k++) {
        char *ta = expr_text(a, ca->args[k]), *tb = expr_text(b, cb->args[k]);
        if (ta && tb && strcmp(ta, tb)) change(d, section, ca->entry->args[k].name, ta, tb, NULL);
        free(ta), free(tb);
    }
}

/* ---- the stored trials -------------------------------------------------- */

/* Match the trials of the store at path against p (the new spec); old is
 * the spec the command line names as old, for a note when the store keeps
 * another.  0, or 2 on trouble (printed). */
static int diff_trials(differ *d, const char *path, const ir_program *old, const ir_program *p)
{
    char db[1200];
    snprintf(db, sizeof db, "%s/hptc.db", path);
    if (d->json) json_key(&d->w, "project"), json_string(&d->w, path);
    if (access(db, F_OK)) {
        if (!d->json) printf("no stored trials: %s has no hptc.db\n", path);
        return 0;
    }
    hpt_error e;
    store *s = store_open_readonly(path, &e);
    if (!s) return fprintf(stderr, "hptc diff: %s\n", e.message), 2;
    char *spec = store_meta_get(s, "spec"), *file = store_meta_get(s, "spec_file"), *hash = store_meta_get(s, "spec_hash");
    store_trial *rows = NULL;
    int n = 0, rc = 2;
    ir_program *kept = NULL;
    if (!spec || store_load_trials(s, &rows, &n, &e)) {
        fprintf(stderr, "hptc diff: %s: %s\n", path, spec ? e.message : "the store keeps no spec");
        goto out;
    }
    /* The trials are values of the spec the store keeps, which may not be OLD's text. */
    kept = compile_spec(file ? file : "spec", spec, strlen(spec), NULL).program;
    if (!kept) {
        fprintf(stderr, "hptc diff: %s: the spec its store keeps (%s) no longer compiles\n", path, file ? file : "?");
        goto out;
    }
    char old_hash[32];
    snprintf(old_hash, sizeof old_hash, "%016llx", (unsigned long long)old->spec_hash);
    int other = hash && strcmp(hash, old_hash);
    hpt_value *values = calloc((size_t)p->n_hps + 1, sizeof *values);
    if (!values) goto out;
    int holds = 0;
    if (d->json) json_key(&d->w, "trials"), json_open_lines(&d->w);
    else printf("trials stored in %s:\n", path);
    if (!d->json && other)
        printf("  (it holds a study of %s, hash %s, not of %s: its trials are read as that spec's)\n", file ? file : "?",
               hash, old->file);
    for (int k = 0; k < n; k++) {
        arena a = { 0 };
        char why[600];
        int m = warm_start_match(kept, p, &rows[k], -1, &a, values, why, sizeof why);
        arena_free(&a);
        holds += m == 1;
        if (d->json) {
            json_open(&d->w, '{');
            json_key(&d->w, "id"), json_int(&d->w, rows[k].id);
            json_key(&d->w, "reusable"), json_bool(&d->w, m == 1);
            if (m != 1) json_key(&d->w, "reason"), json_string(&d->w, why);
            json_close(&d->w);
        } else {
            printf("  trial %d: %s%s\n", rows[k].id, m == 1 ? "holds" : "does not hold: ", m == 1 ? "" : why);
        }
    }
    free(values);
    if (d->json) {
        json_close(&d->w);
        json_key(&d->w, "stored"), json_int(&d->w, n);
        json_key(&d->w, "reusable"), json_int(&d->w, holds);
        if (other) json_key(&d->w, "store_spec"), json_string(&d->w, file ? file : "?");
    } else {
        printf("%d of %d hold for %s", holds, n, p->file);
        if (holds) printf("; hptc run %s --warm-start reuses them", p->file);
        printf("\n");
    }
    rc = 0;
out:
    ir_free(kept);
    store_free_trials(rows, n);
    free(spec), free(file), free(hash);
    store_close(s);
    return rc;
}

int cli_diff(int argc, char **argv)
{
    const char *files[2], *project = NULL;
    int json = 0;
    const cli_option opts[] = { CLI_STRING_OPT("--project", &project), CLI_FLAG_OPT("--json", &json), CLI_END_OPT };
    if (cli_parse("diff", argc, argv, opts, files, 2, 2)) return cli_usage(cli_diff_usage);
    ir_program *a = cli_compile(files[0], 1), *b = a ? cli_compile(files[1], 1) : NULL;
    if (!a || !b) {
        ir_free(a);
        return 2;
    }
    differ d = { .json = json };
    if (json) {
        json_init(&d.w, stdout, 0);
        json_open(&d.w, '{');
        json_key(&d.w, "old"), json_string(&d.w, a->file);
        json_key(&d.w, "new"), json_string(&d.w, b->file);
        json_key(&d.w, "changes"), json_open_lines(&d.w);
    }
    diff_space(&d, a, b);
    diff_call(&d, "data", a, &a->data, b, &b->data);
    diff_layers(&d, a, b);
    diff_call(&d, "compile", a, &a->compile, b, &b->compile);
    diff_call(&d, "search", a, &a->search, b, &b->search);
    diff_call(&d, "tuner", a, &a->tuner, b, &b->tuner);
    if (json) {
        json_close(&d.w);
        json_key(&d.w, "same"), json_bool(&d.w, d.changes == 0);
    } else if (d.changes == 0) {
        printf("%s and %s define the same search\n", a->file, b->file);
    }
    char path[1100];
    if (project) snprintf(path, sizeof path, "%s", project);
    else tune_project_path(a, path, sizeof path);
    int rc = a->tuner.entry || project ? diff_trials(&d, path, a, b) : 0;
    if (json) json_close(&d.w), putchar('\n');
    ir_free(a), ir_free(b);
    return rc ? rc : d.changes ? 1 : 0;
}

/* ---- run --warm-start ------------------------------------------------------- */

int cli_warm_start(ir_program *p, char *from, size_t n, ir_program **old)
{
    *old = NULL;
    tune_project_path(p, from, n);
    char db[1200];
    snprintf(db, sizeof db, "%s/hptc.db", from);
    if (!p->tuner.entry || access(db, F_OK)) return 0;     /* nothing stored: a new study as any */
    hpt_error e;
    store *s = store_open_readonly(from, &e);
    if (!s) return fprintf(stderr, "hptc: --warm-start: %s\n", e.message), 1;
    char *hash = store_meta_get(s, "spec_hash"), *spec = store_meta_get(s, "spec"), *file = store_meta_get(s, "spec_file");
    store_close(s);
    char mine[32];
    snprintf(mine, sizeof mine, "%016llx", (unsigned long long)p->spec_hash);
    int rc = 0;
    if (hash && spec && strcmp(hash, mine)) {
        *old = compile_spec(file ? file : "spec", spec, strlen(spec), NULL).program;
        if (!*old) {
            fprintf(stderr, "hptc: --warm-start: the spec %s keeps (%s) no longer compiles: nothing to reuse from it\n",
                    from, file ? file : "?");
            rc = 1;
        } else {
            /* The new study: the spec run as if its project_name were NAME-HASH, beside the old one. */
            int k = st_arg_index(p->tuner.entry, "project_name");
            const char *slash = strrchr(from, '/');
            char name[1200];
            snprintf(name, sizeof name, "%s-%.8s", slash ? slash + 1 : from, mine);
            ir_expr *x = ARENA_NEW(&p->arena, ir_expr);
            char *copy = arena_strdup(&p->arena, name);
            if (k < 0 || !x || !copy) {
                fprintf(stderr, "hptc: --warm-start: out of memory\n");
                rc = 1;
            } else {
                x->op = X_CONST, x->value = value_string(copy);
                p->tuner.args[k] = x;
            }
        }
    }
    free(hash), free(spec), free(file);
    return rc;
}

const char cli_diff_usage[] =
    "hptc diff OLD.hpt NEW.hpt [--project DIR] [--json]\n"
    "  What changed between two versions of a spec — hyperparameters added, removed or\n"
    "  changed (widened, narrowed, a new default or condition), layers, the data,\n"
    "  compile, search and tuner arguments; comments and formatting are no change — and\n"
    "  which trials stored for OLD still hold for NEW: completed, their values admitted\n"
    "  by NEW (a hyperparameter NEW adds at its default) and the same trial under NEW\n"
    "  (the same layers with the same evaluated arguments, compile, search and\n"
    "  executions).  Those are what `hptc run NEW.hpt --warm-start` reuses.  The trials\n"
    "  are read from OLD's directory/project_name, or from --project DIR.  --json for\n"
    "  scripts (docs/results.md).  Exit 0 when the specs define the same search, 1 when\n"
    "  they differ, 2 on trouble, as diff(1).";
