/* catalogue.c: the tables themselves, generated from the rows in
 * catalogue.h (the entries and their arguments, Keras's layer names, the
 * hp.* kinds and their arguments), and the look-ups the checker uses (by
 * name or alias, with suggestions), and the arguments' types and ranges
 * in the reference's words. */
#include "stdlib/catalogue.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define ARG_ROW(E, nm, ty, dflt, lo, hi, ch, fl, dc) \
    { .name = #nm, .type = ty, .default_value = dflt, .min = lo, .max = hi, .choices = ch, .flags = fl, .doc = dc },
/* One sentinel row so entries without arguments still have an array. */
#define ENTRY_ARGS(ID, ...) static const st_arg args_##ID[] = { ST_ARGS_##ID(ARG_ROW) { .name = NULL } };
ST_ENTRIES(ENTRY_ARGS)

#define ENTRY_ROW(ID, knd, al, rule, dc) \
    [ST_##ID] = { .id = ST_##ID, .kind = knd, .name = #ID, .aliases = al, .args = args_##ID, \
                  .n_args = ID##_nargs, .shape = rule, .doc = dc },
const st_entry st_catalogue[ST_COUNT] = { ST_ENTRIES(ENTRY_ROW) };

#define LAYER_NAME_ROW(ID, nm) [ST_##ID] = nm,
static const char *const layer_names[ST_COUNT] = { ST_LAYER_NAMES(LAYER_NAME_ROW) };

const char *st_layer_name(const st_entry *e)
{
    return layer_names[e->id] ? layer_names[e->id] : e->name;
}

#define HP_ARG_ROW(K, nm, dflt) { .name = #nm, .default_text = dflt },
#define HP_ARGS(K, ...) static const st_hp_arg hp_args_##K[] = { ST_HP_ARGS_##K(HP_ARG_ROW) };
ST_HP_KINDS(HP_ARGS)

#define HP_ROW(K, vals, dflt) \
    [ST_HP_##K] = { .id = ST_HP_##K, .name = #K, .args = hp_args_##K, .n_args = hp_##K##_nargs, \
                    .values_doc = vals, .default_doc = dflt },
const st_hp st_hps[ST_HP_COUNT] = { ST_HP_KINDS(HP_ROW) };

const st_hp *st_find_hp(const char *name)
{
    for (int k = 0; k < ST_HP_COUNT; k++)
        if (strcmp(st_hps[k].name, name) == 0) return &st_hps[k];
    return NULL;
}

int st_hp_arg_index(const st_hp *h, const char *name)
{
    for (int k = 0; k < h->n_args; k++)
        if (strcmp(h->args[k].name, name) == 0) return k;
    return -1;
}

int st_hp_required(const st_hp *h)
{
    int k = 0;
    while (k < h->n_args && !h->args[k].default_text) k++;
    return k;
}

/* Does `name` equal one of the '|'-separated words of `list`? */
int st_choice_ok(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && memcmp(p, name, n) == 0) return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

const st_entry *st_find(int kind, const char *name)
{
    for (int k = 0; k < ST_COUNT; k++) {
        const st_entry *e = &st_catalogue[k];
        if (kind >= 0 && (int)e->kind != kind) continue;
        if (strcmp(e->name, name) == 0 || st_choice_ok(e->aliases, name)) return e;
    }
    return NULL;
}

int st_arg_index(const st_entry *e, const char *name)
{
    for (int k = 0; k < e->n_args; k++)
        if (strcmp(e->args[k].name, name) == 0) return k;
    return -1;
}

int st_edit_distance(const char *a, const char *b, int limit)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return limit + 1;
    int row[65];
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0], best = row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            /* Case-only differences are the commonest slip ("dense"): cost them nothing. */
            int ca = a[i - 1] | 32, cb = b[j - 1] | 32;
            int cost = ca == cb ? 0 : 1;
            int v = diag + cost;
            if (up + 1 < v) v = up + 1;
            if (row[j - 1] + 1 < v) v = row[j - 1] + 1;
            row[j] = v;
            diag = up;
            if (v < best) best = v;
        }
        if (best > limit) return limit + 1;
    }
    return row[lb];
}

static void consider(const char *cand, size_t len, const char *name, const char **best, int *best_d, char *buf)
{
    char tmp[128];
    if (len >= sizeof tmp) return;
    memcpy(tmp, cand, len);
    tmp[len] = 0;
    int d = st_edit_distance(name, tmp, 2);
    /* Allow distance 2 only for names long enough that it is not a different word. */
    int limit = strlen(name) > 4 ? 2 : 1;
    if (d <= limit && d < *best_d) {
        *best_d = d;
        memcpy(buf, tmp, len + 1);
        *best = buf;
    }
}

const char *st_suggest(int kind, const char *name, const char *const *extra)
{
    static _Thread_local char buf[128];
    const char *best = NULL;
    int best_d = 3;
    for (int k = 0; k < ST_COUNT; k++) {
        const st_entry *e = &st_catalogue[k];
        if (kind >= 0 && (int)e->kind != kind) continue;
        consider(e->name, strlen(e->name), name, &best, &best_d, buf);
        for (const char *p = e->aliases; p && *p;) {
            const char *bar = strchr(p, '|');
            size_t len = bar ? (size_t)(bar - p) : strlen(p);
            consider(p, len, name, &best, &best_d, buf);
            p = bar ? bar + 1 : NULL;
        }
    }
    for (; extra && *extra; extra++) consider(*extra, strlen(*extra), name, &best, &best_d, buf);
    return best;
}

const char *st_kind_name(st_kind k)
{
    static const char *const names[ST_KIND_COUNT] = {
        "layer", "activation", "optimizer", "loss", "metric", "callback",
        "tuner", "data source", "compile", "search", "splitter", "estimator",
        "learning-rate schedule", "objective",
    };
    return names[k];
}

/* ---- arguments as the reference writes them (docs/language.md, hover) ---- */

const char *st_arg_type_text(const st_arg *a)
{
    switch (a->type) {
    case T_INT: return "int";
    case T_FLOAT: return "float";
    case T_BOOL: return "bool";
    case T_STRING: return "string";
    case T_SHAPE: return "shape";
    case T_INT_PAIR: return "int or (int, int)";
    case T_ACTIVATION: return "activation";
    case T_OPTIMIZER: return "optimizer";
    case T_LOSS: return "loss";
    case T_METRICS: return "list of metrics";
    case T_CALLBACKS: return "list of callbacks";
    case T_DATA: return "data source";
    case T_SPLITTER: return "int or splitter";
    case T_FEATURES: return "string, int or float";
    case T_FLOAT_PAIR: return "float or (float, float)";
    case T_PADDING: return "int, (int, int) or ((int, int), (int, int))";
    case T_LR: return "float or schedule";
    case T_NUMBERS: return "list of numbers";
    case T_OBJECTIVE: return "string, Objective or Pareto";
    }
    return "?";
}

/* A number as the spec would write it: integers without a fraction. */
static void number(char *buf, size_t n, double x)
{
    if (x == (double)(long long)x && x > -1e15 && x < 1e15) snprintf(buf, n, "%lld", (long long)x);
    else snprintf(buf, n, "%g", x);
}

void st_arg_range_text(const st_arg *a, char *buf, size_t n)
{
    char lo[32], hi[32];
    if (a->flags & A_FOLDER) {
        snprintf(buf, n, "a folder name: not empty, not `.` or `..`, no `/`");
        return;
    }
    if (a->flags & A_NONEMPTY) {
        snprintf(buf, n, "not empty");
        return;
    }
    if (a->choices) {
        size_t len = 0;
        buf[0] = 0;
        for (const char *p = a->choices; *p && len + 8 < n;) {
            const char *bar = strchr(p, '|');
            int w = bar ? (int)(bar - p) : (int)strlen(p);
            len += (size_t)snprintf(buf + len, n - len, "%s`\"%.*s\"`", len ? ", " : "", w, p);
            p = bar ? bar + 1 : p + w;
        }
        return;
    }
    if (a->type == T_SHAPE) {
        snprintf(buf, n, "1 to 3 sizes, each 1 to 1000000%s", a->flags & A_INFER_ONE ? ", or one -1" : "");
        return;
    }
    if (a->type == T_FLOAT_PAIR) {
        number(lo, sizeof lo, a->min);
        number(hi, sizeof hi, a->max);
        if (!isnan(a->min) && !isnan(a->max)) snprintf(buf, n, "(lower, upper), %s ≤ lower ≤ upper ≤ %s; f ≥ 0 for (-f, f)", lo, hi);
        else if (!isnan(a->min)) snprintf(buf, n, "(lower, upper), %s ≤ lower ≤ upper; f ≥ 0 for (-f, f)", lo);
        else snprintf(buf, n, "(lower, upper), lower ≤ upper; f ≥ 0 for (-f, f)");
        return;
    }
    bool has_lo = !isnan(a->min), has_hi = !isnan(a->max) && a->max < 1e9;
    if (!has_lo && !has_hi) {
        snprintf(buf, n, " ");
        return;
    }
    number(lo, sizeof lo, a->min);
    number(hi, sizeof hi, a->max);
    if (has_lo && has_hi) snprintf(buf, n, "%s ≤ x %s %s", lo, (a->flags & A_HI_OPEN) ? "<" : "≤", hi);
    else if (has_lo) snprintf(buf, n, "x ≥ %s", lo);
    else snprintf(buf, n, "x %s %s", (a->flags & A_HI_OPEN) ? "<" : "≤", hi);
}
