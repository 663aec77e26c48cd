/* sema_stmt.c: the statements outside the model block (see sema_state.h).
 *
 * compile(...) and search(...), once each; data = ... and tuner = ..., once
 * each, a data source and a tuner; NAME = expr, a constant, once, never a
 * built-in name (a constant's hyperparameters count as used only where the
 * constant is).  Anything else written as a statement is out of place, with
 * the nearest statement suggested.  An assignment inside the model block
 * comes here too (after its error), so its uses below are not errors. */
#include "compiler/sema_state.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_call(sema *s, ir_call *slot, const ast **seen, const ast *n, const st_entry *entry, ir_expr **args)
{
    *seen = n;
    slot->entry = entry;
    slot->args = args;
    slot->span = (ir_span){ n->start, n->end };
}

/* stmt: call -- compile(...) or search(...), once each; anything else is
 * out of place. */
void sema_lower_call_statement(sema *s, const ast *n)
{
    const char *path = sema_path_text(s, n->a);
    const st_entry *entry = path ? st_find(-1, path) : NULL;
    if (entry && (entry->kind == ST_COMPILE || entry->kind == ST_SEARCH)) {
        const ast **seen = entry->kind == ST_COMPILE ? &s->compile : &s->search;
        if (*seen) {
            diag_error(s->d, n->a->start, n->a->end, "%s(...) is given twice", entry->name);
            diag_note(s->d, (*seen)->start, (*seen)->a->end, "first given here");
            return;
        }
        ir_expr **args;
        const ast **where = entry->kind == ST_SEARCH ? s->search_args : NULL;
        if (sema_lower_call(s, n, entry, &args, where))
            set_call(s, entry->kind == ST_COMPILE ? &s->p->compile : &s->p->search, seen, n, entry, args);
        else
            *seen = n, s->search_broken |= entry->kind == ST_SEARCH;
        return;
    }
    /* After a syntax error, a statement out of place is most likely its echo (a lost brace). */
    if (s->syntax_errors) return;
    if (n->b && path && !strcmp(path, "branch")) {
        diag_error(s->d, n->a->start, n->a->end, "a branch outside the model block");
        diag_hint(s->d, "branches go in the block of Add or Concatenate, inside model { ... }");
        return;
    }
    if (entry && (entry->kind == ST_LAYER || entry->kind == ST_ESTIMATOR)) {
        diag_error(s->d, n->a->start, n->a->end, "%s %s outside the model block", st_kind_name(entry->kind), entry->name);
        diag_hint(s->d, "layers go inside model { ... }");
        return;
    }
    diag_error(s->d, n->a->start, n->a->end, "'%s' is not a statement", path ? path : "this");
    const char *extra[] = { "compile", "search", NULL };
    const char *near = path ? st_suggest(ST_KIND_COUNT, path, extra) : NULL;
    if (near) diag_hint(s->d, "did you mean '%s'?", near);
    else diag_hint(s->d, "a spec holds data = ..., model { ... }, compile(...), tuner = ... and search(...)");
    /* The statement meant is there, misspelt: do not also call it missing. */
    if (near && !strcmp(near, "compile") && !s->compile) s->compile = n;
    if (near && !strcmp(near, "search") && !s->search) s->search = n;
}

/* stmt: NAME '=' expr, NAME being data or tuner -- once, a data source or a tuner. */
static void lower_setting(sema *s, const ast *n, bool is_data)
{
    const ast **seen = is_data ? &s->data : &s->tuner;
    if (*seen) {
        diag_error(s->d, n->start, n->end, "'%s' is assigned twice", n->text);
        diag_note(s->d, (*seen)->start, (*seen)->end, "first assigned here");
        return;
    }
    *seen = n;
    int kind = is_data ? ST_DATA : ST_TUNER;
    const ast *v = n->a;
    if (!v || v->kind == AST_ERROR) return;
    const char *path = v->kind == AST_CALL ? sema_path_text(s, v->a) : NULL;
    const st_entry *entry = path ? st_find(kind, path) : NULL;
    if (!entry) {
        diag_error(s->d, v->start, v->end, "%s must be %s", n->text,
                   is_data ? "a data source such as datasets.fashion_mnist(...)" : "a tuner such as Hyperband(...)");
        const char *near = path ? st_suggest(kind, path, NULL) : NULL;
        if (near) diag_hint(s->d, "did you mean '%s'?", near);
        else if (is_data && v->kind == AST_STRING)
            diag_hint(s->d, "to read a file, call a data source: csv(\"%s\"), npy(x = ..., y = ...) or idx(...)", v->text);
        else if (is_data)
            diag_hint(s->d, "the data sources are datasets.fashion_mnist, datasets.mnist, csv, npy and idx");
        else
            diag_hint(s->d, "the tuners are RandomSearch, GridSearch, BayesianOptimization, Hyperband, TPE, BOHB and ASHA");
        if (!path) sema_lower_expr(s, v);
        return;
    }
    ir_expr **args;
    if (sema_lower_call(s, v, entry, &args, NULL))
        set_call(s, is_data ? &s->p->data : &s->p->tuner, seen, n, entry, args);
}

/* stmt: NAME '=' expr -- a constant, once, not a built-in name. */
static void lower_constant(sema *s, const ast *n)
{
    const constant *first = sema_find_constant(s, n->text);
    if (first) {
        diag_error(s->d, n->start, n->start + (uint32_t)strlen(n->text), "'%s' is assigned twice", n->text);
        diag_note(s->d, first->node->start, first->node->end, "first assigned here");
        return;
    }
    if (!strcmp(n->text, "hp") || !strcmp(n->text, "range") || st_find(-1, n->text)) {
        diag_error(s->d, n->start, n->start + (uint32_t)strlen(n->text), "'%s' is a built-in name and cannot be assigned", n->text);
        return;
    }
    /* Hyperparameters in a constant count as used only where the constant is. */
    s->defining = true;
    constant c = { .name = n->text, .value = sema_lower_expr(s, n->a), .node = n };
    s->defining = false;
    if (s->n_consts == s->cap_consts) {
        int cap = s->cap_consts ? s->cap_consts * 2 : 64;
        constant *grown = realloc(s->consts, sizeof *grown * (size_t)cap);
        if (!grown) {
            diag_error(s->d, n->start, n->end, "out of memory");
            return;
        }
        s->consts = grown, s->cap_consts = cap;
    }
    s->consts[s->n_consts] = c;
    if (!sema_table_add(s, &s->const_names, c.name, s->n_consts)) {
        diag_error(s->d, n->start, n->end, "out of memory");
        return;
    }
    s->n_consts++;
}

/* stmt: NAME '=' expr -- a setting (data, tuner) or a constant. */
void sema_lower_assignment(sema *s, const ast *n)
{
    if (!strcmp(n->text, "data") || !strcmp(n->text, "tuner")) lower_setting(s, n, !strcmp(n->text, "data"));
    else lower_constant(s, n);
}
