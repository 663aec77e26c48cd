/* lsp_features.c: the language server's answers about a document (lsp.h).
 *
 * Every answer starts from compiler/lookup.h: lookup_at names what is under
 * the cursor (hover, definition), lookup_complete what may be written there
 * (completion).  What is shown comes from the rows the checker itself reads:
 * the catalogue for an entry and its arguments (the reference's words for
 * types and ranges, stdlib's st_arg_type_text), the IR of the last version
 * that compiled for a hyperparameter (hptc space's line for it, and its
 * condition), the formatter for formatting.  Markdown is built in a memory
 * stream. */
#include "cli/cli.h"
#include "cli/lsp.h"
#include "compiler/fmt.h"
#include "compiler/space.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Markdown of an open memory stream, as a hover's contents. */
static cJSON *markdown(FILE *f, char **text, size_t *len)
{
    cJSON *j = NULL;
    if (fclose(f) == 0 && *text) {
        j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "kind", "markdown");
        cJSON_AddItemToObject(j, "value", lsp_text(*text, *len));
    }
    free(*text);
    return j;
}

/* One argument: "`units` (required, int; 1 ≤ x ≤ 10000000): dimensionality of the output",
 * "`use_bias` = `True` (bool): add a bias vector". */
static void describe_arg(FILE *f, const st_arg *a)
{
    char range[200], v[80];
    st_arg_range_text(a, range, sizeof range);
    if (a->flags & A_REQ) fprintf(f, "`%s` (required, ", a->name);
    else if (a->default_value.type == V_LIST) fprintf(f, "`%s` = `[]` (", a->name);
    else value_format(v, sizeof v, a->default_value), fprintf(f, "`%s` = `%s` (", a->name, v);
    fprintf(f, "%s%s", st_arg_type_text(a), (a->flags & A_NONE_OK) && a->type != T_ACTIVATION ? " or None" : "");
    if (strcmp(range, " ")) fprintf(f, "; %s", range);
    fprintf(f, "): %s", a->doc);
}

static void describe_entry(FILE *f, const st_entry *e)
{
    fprintf(f, "**%s** (%s)\n\n%s", e->name, st_kind_name(e->kind), e->doc);
    if (e->aliases) fprintf(f, "; also written `%s`", e->aliases);
    fprintf(f, "\n");
    if (e->n_args) fprintf(f, "\nArguments, in order:\n");
    for (int k = 0; k < e->n_args; k++) {
        fprintf(f, "- ");
        describe_arg(f, &e->args[k]);
        fprintf(f, "\n");
    }
}

static void describe_hp_signature(FILE *f, const st_hp *h)
{
    fprintf(f, "`hp.%s(", h->name);
    for (int j = 0; j < h->n_args; j++) {
        fprintf(f, "%s%s", j ? ", " : "", h->args[j].name);
        if (h->args[j].default_text) fprintf(f, " = %s", h->args[j].default_text);
    }
    fprintf(f, ")`");
}

/* A hyperparameter as hptc space says it, and when it is active. */
static void describe_hp(FILE *f, const ir_program *p, int k)
{
    const ir_hp *h = &p->hps[k];
    fprintf(f, "**%s**: hp.%s, ", h->name, st_hps[h->kind].name);
    space_print_hp(p, k, f);
    if (h->condition) {
        fprintf(f, "\n\nactive only when `");
        space_print_condition(p, h->condition, f);
        fprintf(f, "`\n");
    } else {
        fprintf(f, "\n\nactive in every configuration\n");
    }
}

static void hover_hp(FILE *f, const lsp_doc *d, const lookup_hit *hit)
{
    int shown = 0;
    /* The IR of this very text: every hyperparameter this call defines (a
     * call in a loop, named f"units_{i}", defines one per iteration). */
    for (int k = 0; d->program && d->program_current && k < d->program->n_hps; k++)
        if (d->program->hps[k].span.start == hit->call_start && d->program->hps[k].span.end == hit->call_end)
            fprintf(f, "%s", shown++ ? "\n---\n\n" : ""), describe_hp(f, d->program, k);
    /* The same name in the IR (a later use of it, or the last version that compiled). */
    int k = !shown && d->program && hit->name[0] ? ir_find_hp(d->program, hit->name) : -1;
    if (k >= 0) {
        describe_hp(f, d->program, k);
        if (!d->program_current) fprintf(f, "\n(as of the last version of the spec that compiled)\n");
        shown = 1;
    }
    if (!shown) {
        fprintf(f, "**%s**: hp.%s\n\n", hit->name[0] ? hit->name : "(a hyperparameter)", hit->hp->name);
        fprintf(f, "values: %s; default %s\n\n(the spec does not compile yet: its domain and conditions show once it does)\n",
                st_hps[hit->hp->id].values_doc, st_hps[hit->hp->id].default_doc);
    }
    fprintf(f, "\n");
    describe_hp_signature(f, hit->hp);
    fprintf(f, "\n");
}

cJSON *lsp_hover(lsp_server *sv, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = lsp_doc_of(sv, params, err);
    long at = d ? lsp_offset_of(sv, d, params, err) : -1;
    if (at < 0) return NULL;
    lookup_hit hit = lookup_at(d->spec, (uint32_t)at);
    if (hit.kind == LOOKUP_NOTHING) return cJSON_CreateNull();
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return cJSON_CreateNull();
    switch (hit.kind) {
    case LOOKUP_ENTRY: describe_entry(f, hit.entry); break;
    case LOOKUP_ARGUMENT:
        if (hit.entry) {
            fprintf(f, "argument of **%s**: ", hit.entry->name);
            describe_arg(f, &hit.entry->args[hit.arg]);
        } else {
            const st_hp_arg *a = &hit.hp->args[hit.arg];
            fprintf(f, "argument `%s` of ", a->name);
            describe_hp_signature(f, hit.hp);
            fprintf(f, a->default_text ? ": default `%s`" : ": must be given", a->default_text);
        }
        fprintf(f, "\n");
        break;
    case LOOKUP_HP: hover_hp(f, d, &hit); break;
    case LOOKUP_CONSTANT:
        fprintf(f, "constant **%s**\n\n```\n%s = %.*s\n```\n", hit.name, hit.name, (int)hit.value_len, hit.value_text);
        break;
    case LOOKUP_LOOP_VAR: fprintf(f, "loop variable **%s**\n", hit.name); break;
    default: break;
    }
    cJSON *contents = markdown(f, &text, &len);
    if (!contents) return cJSON_CreateNull();
    cJSON *hover = cJSON_CreateObject();
    cJSON_AddItemToObject(hover, "contents", contents);
    cJSON_AddItemToObject(hover, "range", lsp_range(sv, d, hit.start, hit.end));
    return hover;
}

cJSON *lsp_definition(lsp_server *sv, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = lsp_doc_of(sv, params, err);
    long at = d ? lsp_offset_of(sv, d, params, err) : -1;
    if (at < 0) return NULL;
    lookup_hit hit = lookup_at(d->spec, (uint32_t)at);
    if (!hit.defined) return cJSON_CreateNull();
    cJSON *location = cJSON_CreateObject();
    cJSON_AddStringToObject(location, "uri", d->uri);
    cJSON_AddItemToObject(location, "range", lsp_range(sv, d, hit.def_start, hit.def_end));
    return location;
}

cJSON *lsp_formatting(lsp_server *sv, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = lsp_doc_of(sv, params, err);
    if (!d) return NULL;
    fmt_result r = fmt_format(d->path, d->text, d->len, NULL);
    if (!r.text) {
        err->code = LSP_REQUEST_FAILED;
        snprintf(err->message, sizeof err->message, "hptc fmt: the spec has %d syntax error%s; it formats once %s fixed",
                 r.errors, r.errors == 1 ? "" : "s", r.errors == 1 ? "it is" : "they are");
        return NULL;
    }
    cJSON *edits = cJSON_CreateArray();
    if (r.len != d->len || memcmp(r.text, d->text, r.len)) {
        cJSON *edit = cJSON_CreateObject();
        cJSON_AddItemToObject(edit, "range", lsp_range(sv, d, 0, (uint32_t)d->len));
        cJSON_AddItemToObject(edit, "newText", lsp_text(r.text, r.len));
        cJSON_AddItemToArray(edits, edit);
    }
    free(r.text);
    return edits;
}

/* ---- completion ------------------------------------------------------------ */

/* CompletionItemKind values. */
enum { ITEM_FUNCTION = 3, ITEM_CLASS = 7, ITEM_MODULE = 9, ITEM_PROPERTY = 10, ITEM_VALUE = 12, ITEM_KEYWORD = 14,
       ITEM_CONSTANT = 21 };

typedef struct items {
    cJSON *list;
    const char *prefix;
    size_t prefix_len;
} items;

static void add(items *it, const char *label, int kind, const char *detail, const char *doc, const char *insert)
{
    if (strncasecmp(label, it->prefix, it->prefix_len)) return;
    cJSON *item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "label", label);
    cJSON_AddNumberToObject(item, "kind", kind);
    if (detail) cJSON_AddStringToObject(item, "detail", detail);
    if (doc) cJSON_AddStringToObject(item, "documentation", doc);
    if (insert) cJSON_AddStringToObject(item, "insertText", insert);
    cJSON_AddItemToArray(it->list, item);
}

static int item_kind_of(const st_entry *e)
{
    return e->kind == ST_LAYER || e->kind == ST_ESTIMATOR ? ITEM_CLASS : e->kind == ST_ACTIVATION || e->kind == ST_METRIC ? ITEM_VALUE
                                                                                                                      : ITEM_FUNCTION;
}

/* The entries of a kind (-1: every value-like kind). */
static void add_entries(items *it, int kind)
{
    for (int k = 0; k < ST_COUNT; k++) {
        const st_entry *e = &st_catalogue[k];
        int wanted = kind >= 0 ? (int)e->kind == kind || (kind == ST_OBJECTIVE && e->kind == ST_METRIC)
                               : e->kind != ST_LAYER && e->kind != ST_ESTIMATOR && e->kind != ST_COMPILE && e->kind != ST_SEARCH;
        if (!wanted) continue;
        const char *dot = e->aliases ? strchr(e->aliases, '.') : NULL;
        add(it, dot && e->kind == ST_DATA ? e->aliases : e->name, item_kind_of(e), st_kind_name(e->kind), e->doc, NULL);
    }
}

/* In a string: the argument's choices, or the names of its kind as strings
 * are written ("relu", "adam", "sparse_categorical_crossentropy"). */
static void add_strings(items *it, const lookup_completion *c)
{
    if (c->arg && c->arg->choices) {
        for (const char *p = c->arg->choices; *p;) {
            const char *bar = strchr(p, '|');
            size_t w = bar ? (size_t)(bar - p) : strlen(p);
            char word[64];
            snprintf(word, sizeof word, "%.*s", (int)w, p);
            add(it, word, ITEM_VALUE, c->arg->name, NULL, NULL);
            p += w + (bar != NULL);
        }
        return;
    }
    int kind = c->kind == ST_OBJECTIVE ? ST_METRIC : c->kind;
    for (int k = 0; kind >= 0 && k < ST_COUNT; k++) {
        const st_entry *e = &st_catalogue[k];
        if ((int)e->kind != kind) continue;
        add(it, e->name, ITEM_VALUE, st_kind_name(e->kind), e->doc, NULL);
        for (const char *p = e->aliases; p && *p;) {
            const char *bar = strchr(p, '|');
            size_t w = bar ? (size_t)(bar - p) : strlen(p);
            char word[64];
            snprintf(word, sizeof word, "%.*s", (int)w, p);
            add(it, word, ITEM_VALUE, st_kind_name(e->kind), e->doc, NULL);
            p += w + (bar != NULL);
        }
    }
}

static void add_constant(void *user, const char *name, uint32_t start, uint32_t end)
{
    add(user, name, ITEM_CONSTANT, "constant", NULL, NULL);
}

cJSON *lsp_completion(lsp_server *sv, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = lsp_doc_of(sv, params, err);
    long at = d ? lsp_offset_of(sv, d, params, err) : -1;
    if (at < 0) return NULL;
    lookup_completion c = lookup_complete(d->text, d->len, (uint32_t)at);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "%.*s", (int)((uint32_t)at - c.word_start), d->text + c.word_start);
    items it = { cJSON_CreateArray(), prefix, strlen(prefix) };
    char detail[200];
    switch (c.what) {
    case COMPLETE_NOTHING: break;
    case COMPLETE_HP_KIND:
        for (int k = 0; k < ST_HP_COUNT; k++) {
            char *sig = NULL;
            size_t n = 0;
            FILE *f = open_memstream(&sig, &n);
            if (!f) continue;
            describe_hp_signature(f, &st_hps[k]);
            fclose(f);
            add(&it, st_hps[k].name, ITEM_FUNCTION, sig, st_hps[k].values_doc, NULL);
            free(sig);
        }
        break;
    case COMPLETE_DATASET:
        for (int k = 0; k < ST_COUNT; k++)
            if (st_catalogue[k].kind == ST_DATA && st_catalogue[k].aliases && !strncmp(st_catalogue[k].aliases, "datasets.", 9))
                add(&it, st_catalogue[k].aliases + 9, ITEM_FUNCTION, "data source", st_catalogue[k].doc, NULL);
        break;
    case COMPLETE_STATEMENT:
        add(&it, "data", ITEM_KEYWORD, "data = a data source", NULL, "data = ");
        add(&it, "model", ITEM_KEYWORD, "model { layers }", NULL, NULL);
        add(&it, "compile", ITEM_FUNCTION, "compile(optimizer, loss, metrics)", st_find(ST_COMPILE, "compile")->doc, NULL);
        add(&it, "tuner", ITEM_KEYWORD, "tuner = a tuner", NULL, "tuner = ");
        add(&it, "search", ITEM_FUNCTION, "search(epochs, ...)", st_find(ST_SEARCH, "search")->doc, NULL);
        lookup_constants(d->spec, add_constant, &it);
        break;
    case COMPLETE_LAYER:
        for (int k = 0; k < ST_COUNT; k++)
            if (st_catalogue[k].kind == ST_LAYER || st_catalogue[k].kind == ST_ESTIMATOR)
                add(&it, st_catalogue[k].name, ITEM_CLASS, st_kind_name(st_catalogue[k].kind), st_catalogue[k].doc, NULL);
        add(&it, "for", ITEM_KEYWORD, "for NAME in range(...) { layers }", NULL, NULL);
        add(&it, "if", ITEM_KEYWORD, "if CONDITION { layers } else { layers }", NULL, NULL);
        add(&it, "branch", ITEM_KEYWORD, "a branch of Add or Concatenate", NULL, NULL);
        break;
    case COMPLETE_STRING: add_strings(&it, &c); break;
    case COMPLETE_VALUE:
        /* Where an argument may begin: the call's keyword arguments first. */
        for (int k = 0; c.argument_name && c.call && k < c.call->n_args; k++) {
            const st_arg *a = &c.call->args[k];
            char insert[80];
            snprintf(insert, sizeof insert, "%s = ", a->name);
            snprintf(detail, sizeof detail, "%s: %s", c.call->name, st_arg_type_text(a));
            add(&it, a->name, ITEM_PROPERTY, detail, a->doc, insert);
        }
        for (int k = 0; c.argument_name && c.hp_call && k < c.hp_call->n_args; k++) {
            char insert[80];
            snprintf(insert, sizeof insert, "%s = ", c.hp_call->args[k].name);
            add(&it, c.hp_call->args[k].name, ITEM_PROPERTY, c.hp_call->name, NULL, insert);
        }
        /* A number, a string, a shape...: no catalogue entry is one. */
        if (!c.arg || c.kind >= 0) add_entries(&it, c.kind);
        if (c.kind < 0 || c.kind == ST_SCHEDULE) {
            add(&it, "hp", ITEM_MODULE, "hyperparameters: hp.Int, hp.Float, hp.Choice, hp.Boolean, hp.Fixed", NULL, NULL);
            add(&it, "True", ITEM_KEYWORD, NULL, NULL, NULL);
            add(&it, "False", ITEM_KEYWORD, NULL, NULL, NULL);
            add(&it, "None", ITEM_KEYWORD, NULL, NULL, NULL);
            lookup_constants(d->spec, add_constant, &it);
        }
        break;
    }
    cJSON *list = cJSON_CreateObject();
    cJSON_AddFalseToObject(list, "isIncomplete");
    cJSON_AddItemToObject(list, "items", it.list);
    return list;
}
