/* sema.c: from the AST to a checked IR (see sema.h): the driver.
 *
 * sema_lower walks the top-level statements (the model block to
 * sema_model.c, the others to sema_stmt.c), checks what only the whole spec
 * can tell (a missing block, an objective never computed, validation data
 * that is needed), drops the hyperparameters of unused constants and hands
 * the IR on.  sema_state.h says which file does what; no file below calls
 * this one.
 *
 * Invariants kept while walking:
 *   - s->guard is the condition under which the current model item exists
 *     (NULL = always): `if` conjoins its test, each unrolled `for` iteration
 *     conjoins `bound > i`.  Every hyperparameter defined or referenced under a
 *     guard collects that guard; its condition is the disjunction of them,
 *     without the guards that imply one already there (a loop's later
 *     iterations), so it stays small.  Hyperparameters of constants count only
 *     where the constant is used; those of unused constants are dropped.
 *   - An expression is lowered once, constant-folded where its operands are
 *     constant (a literal operand is folded without being allocated), and
 *     then checked against the catalogue argument it feeds by evaluating it
 *     over the values of the hyperparameters it depends on, so a range or
 *     type error names the values that cause it.  No folded or evaluated
 *     float is infinite or NaN (ir.c refuses them).
 *   - Names (hyperparameters, constants) are found through hash tables, so a
 *     spec of 100,000 constants lowers in linear time.
 *   - Errors are reported and lowering goes on with a NULL expression, which
 *     every consumer tolerates, so one run reports every error.  A call whose
 *     argument fails its check fails as a whole; a model item that cannot be
 *     lowered leaves a broken layer (args NULL) where it stood, so shapes.c,
 *     which runs after sema's errors too, stops there.
 *   - Each data call is probed (compiler/probe.h) where it is lowered, its
 *     facts kept for shapes.c (hand_on). */
#include "compiler/sema_state.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* stmt: NAME '=' expr | call | MODEL block */
static void lower_statement(sema *s, const ast *n)
{
    if (n->kind == AST_MODEL) sema_lower_model(s, n);
    else if (n->kind == AST_CALL) sema_lower_call_statement(s, n);
    else if (n->kind == AST_ASSIGN) sema_lower_assignment(s, n);
}

/* The metrics the spec computes, for checking objective and monitor names. */
static bool metric_computed(sema *s, const char *name, bool *needs_validation)
{
    *needs_validation = !strncmp(name, "val_", 4);
    const char *base = *needs_validation ? name + 4 : name;
    if (!strcmp(base, "loss")) return true;
    /* Estimators always report accuracy (and a loss). */
    if (s->estimator && !s->network && st_find(ST_METRIC, base) == &st_catalogue[ST_accuracy]) return true;
    hpt_value metrics;
    if (!s->p->compile.entry || !sema_const_value(s, s->p->compile.args[compile_metrics], &metrics)) return true;
    const st_entry *m = st_find(ST_METRIC, base);
    for (int k = 0; m && k < metrics.u.list.n; k++)
        if (metrics.u.list.items[k].type == V_STRING && st_find(ST_METRIC, metrics.u.list.items[k].u.s) == m)
            return true;
    return false;
}

static bool has_validation(sema *s)
{
    if (s->search_broken) return true;      /* not known: say nothing */
    if (!s->p->search.entry) return false;
    ir_expr *split = s->p->search.args[search_validation_split];
    ir_expr *vdata = s->p->search.args[search_validation_data];
    ir_expr *cv = s->p->search.args[search_cv];
    if (split && (split->op != X_CONST || value_as_double(split->value) > 0)) return true;
    if (vdata && !(vdata->op == X_CONST && vdata->value.type == V_NONE)) return true;
    if (cv && !(cv->op == X_CONST && cv->value.type == V_NONE)) return true;
    return false;
}

/* A name the tuner or a callback watches must be computed and, for a val_
 * name, have validation data: two independent errors, both reported. */
static void check_metric_name(sema *s, const char *what, const char *name, uint32_t at, uint32_t end)
{
    bool needs_val;
    if (!metric_computed(s, name, &needs_val)) {
        diag_error(s->d, at, end, "%s '%s' is never computed", what, name);
        const char *cands[] = { "loss", "val_loss", "accuracy", "val_accuracy", NULL };
        const char *near = st_suggest(ST_KIND_COUNT, name, cands);
        const st_entry *metric = st_find(ST_METRIC, needs_val ? name + 4 : name);
        /* st_suggest answers in one buffer: the second look-up only when the first found nothing. */
        const char *near_metric = near || metric ? NULL : st_suggest(ST_METRIC, needs_val ? name + 4 : name, NULL);
        if (near && strcmp(near, name)) diag_hint(s->d, "did you mean '%s'?", near);
        else if (near_metric) diag_hint(s->d, "did you mean '%s%s'? (listed in compile(metrics = [...]))", needs_val ? "val_" : "",
                                        near_metric);
        else if (metric) diag_hint(s->d, "add \"%s\" to compile(metrics = [...])", metric->name);
        else diag_hint(s->d, "the metrics are loss and those listed in compile(metrics = [...]); val_ names need validation data");
    }
    if (needs_val && !has_validation(s)) {
        diag_error(s->d, at, end, "%s '%s' needs validation data", what, name);
        diag_hint(s->d, "set validation_split = 0.2 (or validation_data) in search(...)");
    }
}

/* Where in the source a call's argument was written, or the call itself. */
static void arg_span(const ast *call, const st_entry *e, const char *name, uint32_t *start, uint32_t *end)
{
    *start = call->start;
    *end = call->end;
    int pos = 0;
    for (const ast *a = call->first; a; a = a->next, pos++) {
        bool hit = a->kind == AST_KWARG ? !strcmp(a->text, name) : (pos < e->n_args && !strcmp(e->args[pos].name, name));
        if (hit) {
            *start = a->kind == AST_KWARG ? a->a->start : a->start;
            *end = a->kind == AST_KWARG ? a->a->end : a->end;
            return;
        }
    }
}

/* The blocks every spec needs: model (with a layer), data, and compile
 * unless every branch of the model is an estimator. */
static void check_blocks(sema *s)
{
    if (!s->model) {
        diag_error(s->d, DIAG_NOWHERE, DIAG_NOWHERE, "the spec has no model { ... } block");
        diag_hint(s->d, "model { Input(shape = [28, 28]) Flatten() Dense(10) }");
    } else if (s->n_layers == 0 && s->d->errors == 0) {
        diag_error(s->d, s->model->start, s->model->start + 5, "the model has no layers");
    }
    if (!s->data) {
        diag_error(s->d, DIAG_NOWHERE, DIAG_NOWHERE, "the spec has no data = ... statement");
        diag_hint(s->d, "data = datasets.fashion_mnist(scale = 1/255)");
    }
    if (!s->compile && s->estimator && !s->network) {
        /* Every branch is an estimator: nothing to compile. */
    } else if (s->compile && s->estimator && !s->network && s->model) {
        diag_warning(s->d, s->compile->start, s->compile->a->end,
                     "compile(...) has no effect: every branch of the model is a classic estimator");
        diag_hint(s->d, "estimators have their own settings, e.g. LogisticRegression(C = 0.5); remove compile(...)");
    } else if (!s->compile) {
        s->compile_missing_said = true;
        diag_error(s->d, DIAG_NOWHERE, DIAG_NOWHERE, "the spec has no compile(...) statement");
        diag_hint(s->d, "compile(optimizer = \"adam\", loss = \"sparse_categorical_crossentropy\", metrics = [\"accuracy\"])");
    }
}

/* Without search(...) every argument takes its default. */
static void default_search(sema *s)
{
    if (!s->p->search.entry) {
        const st_entry *e = &st_catalogue[ST_search];
        s->p->search.entry = e;
        s->p->search.args = ARENA_ARRAY(s->a, ir_expr *, e->n_args);
        for (int k = 0; s->p->search.args && k < e->n_args; k++)
            s->p->search.args[k] = const_expr(s, e->args[k].default_value);
    }
}

/* The tuner's objective must be computed, with validation data for a val_ one. */
static void check_objective(sema *s)
{
    if (s->p->tuner.entry) {
        const st_entry *t = s->p->tuner.entry;
        int k = st_arg_index(t, "objective");
        hpt_value obj;
        if (sema_const_value(s, s->p->tuner.args[k], &obj) && obj.type == V_STRING) {
            uint32_t a, b;
            arg_span(s->tuner->a, t, "objective", &a, &b);
            check_metric_name(s, "objective", obj.u.s, a, b);
        }
        /* search(epochs = ...) under Hyperband or BOHB is what Keras Tuner's users
         * write (its intro does): no warning; `hptc space` says who sets the epochs. */
    }
}

/* ASHA's arguments that do not go together (issue 15, part asha): the bottom
 * rung within max_epochs, and a budget that ends the search. */
static void check_asha(sema *s)
{
    const st_entry *t = s->p->tuner.entry;
    if (!t || t->id != ST_ASHA || !s->tuner || !s->tuner->a) return;
    const ast *call = s->tuner->a;
    hpt_value max_epochs, grace, total, trials;
    ir_expr *const *a = s->p->tuner.args;
    uint32_t from, to;
    if (sema_const_value(s, a[ASHA_max_epochs], &max_epochs) && sema_const_value(s, a[ASHA_grace_period], &grace) &&
        max_epochs.type == V_INT && grace.type == V_INT && grace.u.i > max_epochs.u.i) {
        arg_span(call, t, "grace_period", &from, &to);
        diag_error(s->d, from, to, "grace_period %lld is more than max_epochs %lld", (long long)grace.u.i,
                   (long long)max_epochs.u.i);
        diag_hint(s->d, "the bottom rung trains grace_period epochs and the top rung max_epochs");
    }
    if (sema_const_value(s, a[ASHA_max_epochs_total], &total) && sema_const_value(s, a[ASHA_max_trials], &trials) &&
        total.type == V_NONE && trials.type == V_NONE) {
        diag_error(s->d, call->start, call->end, "ASHA needs a budget: max_epochs_total or max_trials");
        diag_hint(s->d, "add max_epochs_total = 120 (what Hyperband(max_epochs = 10, factor = 3) trains in all) or max_trials = 50");
    }
}

/* search(...)'s settings that do not go together, or do nothing. */
static void check_search_settings(sema *s)
{
    if (s->search_args[search_validation_split] && s->search_args[search_validation_data])
        diag_warning(s->d, s->search_args[search_validation_split]->start, s->search_args[search_validation_split]->end,
                     "validation_split has no effect when validation_data is given");
    /* An estimator is fitted once: the training loop's settings do not reach it. */
    if (s->estimator && !s->network) {
        static const int loop_args[] = { search_epochs, search_batch_size, search_shuffle, search_callbacks };
        for (size_t k = 0; k < sizeof loop_args / sizeof loop_args[0]; k++) {
            const ast *at = s->search_args[loop_args[k]];
            if (at)
                diag_warning(s->d, at->start, at->end,
                             "%s has no effect: every branch of the model is a classic estimator, fitted once",
                             st_catalogue[ST_search].args[loop_args[k]].name);
        }
    }
    /* Each fold validates on its own rows: another validation set would be ignored. */
    const ast *cv = s->search_args[search_cv];
    const ast *other = s->search_args[search_validation_data] ? s->search_args[search_validation_data]
                                                                : s->search_args[search_validation_split];
    if (cv && other && cv->kind != AST_NONE) {
        diag_error(s->d, other->start, other->end, "%s cannot be combined with cv: each fold validates on its own rows",
                   s->search_args[search_validation_data] ? "validation_data" : "validation_split");
        diag_hint(s->d, "remove it; with cv = k the score is the mean of the k folds' val_ metrics");
    }
}

/* EarlyStopping and ReduceLROnPlateau monitors must be computed too. */
static void check_monitors(sema *s)
{
    ir_expr *list = s->p->search.args && s->search ? s->p->search.args[search_callbacks] : NULL;
    const ast *written = s->search_args[search_callbacks];
    /* The list as written, when it was written in place, to point at the monitor itself. */
    const ast *item = written && written->kind == AST_LIST && list && list->op == X_LIST && written->n == list->n_items
                          ? written->first : NULL;
    for (int k = 0; list && list->op == X_LIST && k < list->n_items; k++, item = item ? item->next : NULL) {
        ir_expr *cb = list->items[k];
        if (cb->op != X_OBJECT || (cb->entry->id != ST_EarlyStopping && cb->entry->id != ST_ReduceLROnPlateau)) continue;
        ir_expr *mon = cb->items[cb->entry->id == ST_EarlyStopping ? EarlyStopping_monitor : ReduceLROnPlateau_monitor];
        if (mon->op == X_CONST && mon->value.type == V_STRING) {
            uint32_t a = s->search->start, b = s->search->end;
            if (written) a = written->start, b = written->end;
            if (item && item->kind == AST_CALL) arg_span(item, cb->entry, "monitor", &a, &b);
            check_metric_name(s, cb->entry->id == ST_EarlyStopping ? "EarlyStopping monitor" : "ReduceLROnPlateau monitor",
                              mon->value.u.s, a, b);
        }
    }
}

/* A constant never used is worth a warning (its hyperparameters are dropped). */
static void warn_unused_constants(sema *s)
{
    for (int k = 0; k < s->n_consts; k++) {
        const constant *c = &s->consts[k];
        if (c->used || !c->value) continue;
        diag_warning(s->d, c->node->start, c->node->start + (uint32_t)strlen(c->name), "'%s' is assigned but never used%s",
                     c->name, sema_depends_on_hp(c->value) ? ": its hyperparameters take no part in the search" : "");
    }
}

/* What only the whole spec can tell, once every statement is lowered. */
static void final_checks(sema *s, const ast *root)
{
    /* After syntax errors a missing block is likely the one that failed to parse. */
    if (s->syntax_errors) return;
    if (!root || !root->first) {
        diag_error(s->d, DIAG_NOWHERE, DIAG_NOWHERE, "the spec is empty");
        diag_hint(s->d, "a spec needs at least data = ..., model { ... } and compile(...)");
        return;
    }
    check_blocks(s);
    default_search(s);
    /* Checked after other errors too: a missing metric and missing validation
     * data are independent of them (values not known are taken as fine). */
    check_objective(s);
    check_asha(s);
    check_search_settings(s);
    check_monitors(s);
    warn_unused_constants(s);
}

/* What shapes_check needs that the IR does not hold. */
static void hand_on(sema *s, shapes_context *next)
{
    next->compile_written = s->compile != NULL || s->compile_missing_said;
    const probe_facts *f = s->p->data.entry ? sema_facts_of(s, s->p->data.args) : NULL;
    if (f) next->data = *f, next->have_data = true;
    const ir_expr *v = s->p->search.args ? s->p->search.args[search_validation_data] : NULL;
    const ast *at = s->search_args[search_validation_data];
    f = v && v->op == X_OBJECT ? sema_facts_of(s, v->items) : NULL;
    if (f && at) next->validation = *f, next->have_validation = true, next->validation_at = (ir_span){ at->start, at->end };
}

/* Rewrite every X_HP under e through map, in two passes because constants
 * share nodes: the first stores -1 - map[hp] (marking it done), the second
 * turns marks back into indices. */
static void renumber(ir_expr *e, const int *map, int pass)
{
    if (!e) return;
    if (e->op == X_HP) {
        if (pass == 0 && e->hp >= 0) e->hp = -1 - map[e->hp];
        if (pass == 1 && e->hp < 0) e->hp = -1 - e->hp;
        return;
    }
    renumber(e->a, map, pass);
    renumber(e->b, map, pass);
    for (int k = 0; k < e->n_items; k++) renumber(e->items[k], map, pass);
}

/* Hyperparameters of constants never used take no part in the search: drop
 * them, so the space, the tuner and the IR hold only what trials use. */
static void drop_unused(sema *s)
{
    int *map = malloc(sizeof *map * ((size_t)s->n_hps + 1)), n = 0;
    if (!map) return;
    for (int k = 0; k < s->n_hps; k++) map[k] = s->info[k].always || s->info[k].condition ? n++ : -1;
    if (n < s->n_hps) {
        for (int pass = 0; pass < 2; pass++) {
            for (int k = 0; k < s->n_hps; k++)
                if (map[k] >= 0) renumber(s->info[k].condition, map, pass);
            for (int k = 0; k < s->n_layers; k++) {
                renumber(s->layers[k].guard, map, pass);
                /* A broken layer (add_broken) has no arguments. */
                for (int j = 0; s->layers[k].args && j < s->layers[k].entry->n_args; j++)
                    renumber(s->layers[k].args[j], map, pass);
            }
            ir_call *calls[] = { &s->p->data, &s->p->compile, &s->p->search, &s->p->tuner };
            for (int c = 0; c < 4; c++)
                for (int j = 0; calls[c]->entry && calls[c]->args && j < calls[c]->entry->n_args; j++)
                    renumber(calls[c]->args[j], map, pass);
        }
        for (int k = 0; k < s->n_hps; k++)
            if (map[k] >= 0) s->hps[map[k]] = s->hps[k], s->info[map[k]] = s->info[k];
        s->n_hps = n;
    }
    free(map);
}

int sema_lower(ir_program *p, const ast *root, diag_ctx *d, const compile_options *options, shapes_context *next)
{
    sema s = { .p = p, .d = d, .a = &p->arena, .syntax_errors = d->errors, .options = options, .next = next,
               .current = -1 };
    int before = d->errors;
    /* Past the error limit nothing more is printed: stop (a 50 MB file of mistakes ends at once). */
    for (const ast *n = root ? root->first : NULL; n && !diag_stopped(d); n = n->next) lower_statement(&s, n);
    p->hps = s.hps;
    p->n_hps = s.n_hps;
    final_checks(&s, root);
    if (d->errors == before) drop_unused(&s);
    if (next) hand_on(&s, next);
    /* Move the growing arrays into the arena so the program owns everything. */
    p->hps = ARENA_ARRAY(s.a, ir_hp, s.n_hps ? s.n_hps : 1);
    for (int k = 0; p->hps && k < s.n_hps; k++) {
        p->hps[k] = s.hps[k];
        p->hps[k].condition = s.info[k].always ? NULL : s.info[k].condition;
    }
    p->n_hps = p->hps ? s.n_hps : 0;
    p->layers = ARENA_ARRAY(s.a, ir_call, s.n_layers ? s.n_layers : 1);
    if (p->layers && s.n_layers) memcpy(p->layers, s.layers, sizeof *p->layers * (size_t)s.n_layers);
    p->n_layers = p->layers ? s.n_layers : 0;
    free(s.hps);
    free(s.info);
    free(s.values);
    free(s.hp_names.slots);
    free(s.consts);
    free(s.const_names.slots);
    free(s.layers);
    return d->errors - before;
}
