/* sema_expr.c: expressions, from AST to IR (see sema_state.h).
 *
 * Literals, names (loop variables, then constants), f-strings, lists and
 * tuples, unary and binary operators, and calls.  An operator over constant
 * operands is folded at once (a literal operand is not even allocated), so
 * a constant is one X_CONST however it was written; folding errors (a
 * division by zero, an overflow) are reported at the expression.  A call is
 * bound to its catalogue entry's arguments (positional, then keyword), each
 * argument checked over the space (sema_values.c), defaults filled in; a
 * data call whose arguments pass is probed once, its facts kept for
 * shapes.c.  An hp.* call's arguments are bound here too (they are
 * expressions); sema_hp.c makes the hyperparameter of their values.  Every function returns NULL after
 * an error it has reported, and every caller accepts NULL.
 */
#include "compiler/sema_state.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- hp.X(...): the arguments bound ----------------------------------------- */

/* "a, b and c" of h's argument names. */
static void list_arguments(const st_hp *h, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    for (int k = 0; k < h->n_args && len < n; k++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", k == 0 ? "" : k == h->n_args - 1 ? " and " : ", ",
                                h->args[k].name);
}

/* arg -> NAME '=' expr: the position of the kind's argument NAME, or -1 (reported). */
static int hp_keyword_slot(sema *s, const st_hp *kind, const ast *arg)
{
    int slot = st_hp_arg_index(kind, arg->text);
    if (slot >= 0) return slot;
    const char *near = NULL;
    for (int k = 0; k < kind->n_args; k++)
        if (st_edit_distance(arg->text, kind->args[k].name, 2) <= 2) near = kind->args[k].name;
    diag_error(s->d, arg->start, arg->start + (uint32_t)strlen(arg->text), "hp.%s has no argument '%s'", kind->name,
               arg->text);
    if (near) {
        diag_hint(s->d, "did you mean '%s'?", near);
    } else if (kind->n_args > 2) {      /* name and one more: nothing to list */
        char names[160];
        list_arguments(kind, names, sizeof names);
        diag_hint(s->d, "hp.%s takes %s", kind->name, names);
    }
    return -1;
}

/* One argument, arg -> expr | NAME '=' expr: bound to its position, lowered,
 * its constant value kept; false when it fails (reported). */
static bool bind_hp_arg(sema *s, hp_call *c, const ast *arg, int *pos, bool *seen_kw)
{
    int slot;
    const ast *value = arg;
    if (arg->kind == AST_KWARG) {
        *seen_kw = true;
        value = arg->a;
        if ((slot = hp_keyword_slot(s, c->kind, arg)) < 0) return false;
    } else if (*seen_kw) {
        diag_error(s->d, arg->start, arg->end, "positional argument after keyword arguments");
        return false;
    } else if ((slot = (*pos)++) >= c->kind->n_args) {
        diag_error(s->d, arg->start, arg->end, "hp.%s takes at most %d arguments", c->kind->name, c->kind->n_args);
        return false;
    }
    const char *param = c->kind->args[slot].name;
    if (c->where[slot]) {
        diag_error(s->d, arg->start, arg->end, "argument '%s' given twice", param);
        return false;
    }
    c->where[slot] = value;
    if (slot == 0 && value->kind == AST_NAME && !sema_bound_name(s, value->text)) {
        diag_error(s->d, value->start, value->end, "a hyperparameter's name must be a string, such as \"%s\"", value->text);
        return false;
    }
    ir_expr *e = sema_lower_expr(s, value);
    if (!e) return false;
    if (!sema_const_value(s, e, &c->got[slot])) {
        diag_error(s->d, value->start, value->end, "hp.%s argument '%s' must be a constant", c->kind->name, param);
        return false;
    }
    return true;
}

/* args -> arglist: every argument bound (all of them reported), the required
 * ones given, the name a string that can be printed on one line. */
static bool bind_hp_args(sema *s, hp_call *c)
{
    bool ok = true, seen_kw = false;
    int pos = 0;
    for (const ast *arg = c->call->first; arg; arg = arg->next)
        if (!bind_hp_arg(s, c, arg, &pos, &seen_kw)) ok = false;
    if (!ok) return false;
    for (int k = 0, needed = st_hp_required(c->kind); k < needed; k++)
        if (!c->where[k]) {
            diag_error(s->d, c->call->start, c->call->end, "hp.%s is missing its '%s' argument", c->kind->name,
                       c->kind->args[k].name);
            return false;
        }
    hpt_value name = c->got[hp_Int_name];
    const ast *at = c->where[hp_Int_name];
    if (name.type != V_STRING || !name.u.s[0]) {
        diag_error(s->d, at->start, at->end, "a hyperparameter's name must be a non-empty string");
        return false;
    }
    if (sema_has_control(name.u.s)) {
        char text[300];
        value_format(text, sizeof text, name);
        diag_error(s->d, at->start, at->end, "a hyperparameter's name must not hold a control character, but it is %s", text);
        diag_hint(s->d, "names are printed in tables, one per line: write it without \\n or \\t");
        return false;
    }
    return true;
}

/* call: 'hp' '.' NAME '(' args ')' -- a hyperparameter, defined or reused. */
static ir_expr *lower_hp(sema *s, const ast *call, const char *func)
{
    hp_call c = { .call = call, .kind = sema_hp_kind(s, call, func) };
    if (!c.kind || !bind_hp_args(s, &c)) return NULL;
    return sema_define_hp(s, &c);
}

/* ---- expressions -------------------------------------------------------- */

/* primary: FSTRING -- f"units_{i}": each {name} is a loop variable or a
 * constant, so the string is a constant. */
static ir_expr *lower_fstring(sema *s, const ast *n)
{
    const char *t = n->text;
    size_t cap = strlen(t) * 2 + 64, len = 0;
    char *out = arena_alloc(s->a, cap);
    if (!out) return NULL;
    for (size_t k = 0; t[k]; k++) {
        if (t[k] == '{' && t[k + 1] == '{') { out[len++] = '{'; k++; continue; }
        if (t[k] == '}' && t[k + 1] == '}') { out[len++] = '}'; k++; continue; }
        if (t[k] != '{') { out[len++] = t[k]; continue; }
        const char *close = strchr(t + k, '}');
        if (!close) {
            diag_error(s->d, n->start, n->end, "f-string has '{' without '}'");
            return NULL;
        }
        char name[64];
        size_t nl = (size_t)(close - (t + k + 1));
        if (nl == 0 || nl >= sizeof name) {
            diag_error(s->d, n->start, n->end, "f-string field must be a name, such as {i}");
            return NULL;
        }
        memcpy(name, t + k + 1, nl);
        name[nl] = 0;
        hpt_value v;
        bool found = false;
        for (loopvar *l = s->loops; l && !found; l = l->outer)
            if (!strcmp(l->name, name)) v = value_int(l->value), found = true;
        constant *c = found ? NULL : sema_find_constant(s, name);
        if (c && c->value && c->value->op == X_CONST) v = c->value->value, found = true, c->used = 1;
        if (!found) {
            diag_error(s->d, n->start, n->end, "f-string field {%s} is not a loop variable or constant", name);
            return NULL;
        }
        char text[128];
        if (v.type == V_STRING) snprintf(text, sizeof text, "%s", v.u.s);
        else value_format(text, sizeof text, v);
        size_t tl = strlen(text);
        if (len + tl + 1 >= cap) {
            diag_error(s->d, n->start, n->end, "f-string too long");
            return NULL;
        }
        memcpy(out + len, text, tl);
        len += tl;
        k += nl + 1;
    }
    out[len] = 0;
    return const_expr(s, value_string(out));
}

/* A literal's value, without allocating (most literals of a spec are folded away). */
static bool literal(const ast *n, hpt_value *v)
{
    switch (n ? n->kind : AST_ERROR) {
    case AST_INT: *v = value_int(n->ival); return true;
    case AST_FLOAT: *v = value_float(n->fval); return true;
    case AST_BOOL: *v = value_bool(n->ival != 0); return true;
    case AST_NONE: *v = value_none(); return true;
    case AST_STRING: *v = value_string(n->text); return true;
    default: return false;
    }
}

/* An operand: a literal in *slot (not allocated), or lowered. */
static ir_expr *operand(sema *s, const ast *n, ir_expr *slot)
{
    if (!literal(n, &slot->value)) return sema_lower_expr(s, n);
    slot->op = X_CONST;
    return slot;
}

/* x op y (y NULL for a unary op): folded to one constant when both are
 * constant, with an error at n when that fails (a division by zero, an
 * overflow); otherwise a node, operands copied out of their stack slots. */
static ir_expr *operate(sema *s, ir_xop op, ir_expr *x, ir_expr *y, const ast *n, const ir_expr *slots)
{
    if (!x || (n->kind == AST_BINARY && !y)) return NULL;
    if (x->op == X_CONST && (!y || y->op == X_CONST)) {
        ir_expr e = { .op = op, .a = x, .b = y };
        hpt_value v;
        char why[160];
        arena scratch = { 0 };
        int rc = ir_eval(s->p, &e, NULL, &scratch, &v, why, sizeof why);
        arena_free(&scratch);
        if (rc) {
            diag_error(s->d, n->start, n->end, "%s", why);
            return NULL;
        }
        return const_expr(s, v);
    }
    if (x == &slots[0] || x == &slots[1]) x = const_expr(s, x->value);
    if (y == &slots[0] || y == &slots[1]) y = const_expr(s, y->value);
    return x && (y || n->kind != AST_BINARY) ? binary(s, op, x, y) : NULL;
}

/* The names in scope, latest first, for "did you mean". */
static const char *const *constant_names(sema *s)
{
    static _Thread_local const char *names[64];
    int k = 0;
    for (loopvar *l = s->loops; l && k < 62; l = l->outer) names[k++] = l->name;
    for (int j = s->n_consts - 1; j >= 0 && k < 62; j--) names[k++] = s->consts[j].name;   /* the latest */
    names[k] = NULL;
    return names;
}

/* name_path: NAME -- a loop variable, else a constant (which uses its
 * hyperparameters here, under this guard). */
static ir_expr *lower_name(sema *s, const ast *n)
{
    for (loopvar *l = s->loops; l; l = l->outer)
        if (!strcmp(l->name, n->text)) return const_expr(s, value_int(l->value));
    constant *c = sema_find_constant(s, n->text);
    if (c) {
        c->used = 1;
        /* A constant holding a hyperparameter uses it here, under this guard. */
        sema_use_hps(s, c->value);
        return c->value;
    }
    if (st_find(ST_ACTIVATION, n->text) || st_find(ST_METRIC, n->text)) {
        diag_error(s->d, n->start, n->end, "unknown name '%s'", n->text);
        diag_hint(s->d, "names of activations, losses and metrics are strings: \"%s\"", n->text);
        return NULL;
    }
    diag_error(s->d, n->start, n->end, "unknown name '%s'", n->text);
    const char *near = st_suggest(-1, n->text, constant_names(s));
    if (near) diag_hint(s->d, "did you mean '%s'?", near);
    else diag_hint(s->d, "a name is a loop variable or a constant assigned above it (%s = ...)", n->text);
    return NULL;
}

/* name_path: name_path '.' NAME -- only ever a callee, never a value. */
static ir_expr *lower_attr(sema *s, const ast *n)
{
    const char *path = sema_path_text(s, n);
    diag_error(s->d, n->start, n->end, "'%s' is not a value", path ? path : n->text);
    if (path && st_find(-1, path)) diag_hint(s->d, "call it: %s()", path);
    return NULL;
}

/* primary: call, call: name_path '(' args ')' -- a hyperparameter, or a
 * catalogue object used as a value (an optimizer, a callback, a data source). */
static ir_expr *lower_call_value(sema *s, const ast *n)
{
    const char *path = sema_path_text(s, n->a);
    if (!path) {
        diag_error(s->d, n->start, n->end, "only named things can be called");
        return NULL;
    }
    if (!strncmp(path, "hp.", 3)) return lower_hp(s, n, path + 3);
    if (!strcmp(path, "range")) {
        diag_error(s->d, n->start, n->end, "range(...) is only allowed as the bound of a for loop");
        return NULL;
    }
    const st_entry *entry = st_find(-1, path);
    if (!entry) {
        diag_error(s->d, n->a->start, n->a->end, "unknown name '%s'", path);
        const char *near = st_suggest(-1, path, NULL);
        if (near) diag_hint(s->d, "did you mean '%s'?", near);
        return NULL;
    }
    if (entry->kind == ST_LAYER || entry->kind == ST_COMPILE || entry->kind == ST_SEARCH) {
        diag_error(s->d, n->a->start, n->a->end, "%s(...) cannot be used as a value", entry->name);
        if (entry->kind == ST_LAYER) diag_hint(s->d, "layers go inside model { ... }");
        return NULL;
    }
    if (entry->kind == ST_ACTIVATION || entry->kind == ST_METRIC) {
        diag_error(s->d, n->a->start, n->a->end, "'%s' is not called; write it as a string: \"%s\"", entry->name, entry->name);
        return NULL;
    }
    ir_expr **args;
    return sema_lower_call(s, n, entry, &args, NULL);
}

/* list: '[' exprs ']', tuple: '(' expr ',' exprs ')' -- NULL when an item fails. */
static ir_expr *lower_list(sema *s, const ast *n)
{
    ir_expr *e = new_expr(s, X_LIST);
    if (!e) return NULL;
    e->tuple = n->kind == AST_TUPLE;
    e->items = ARENA_ARRAY(s->a, ir_expr *, n->n ? n->n : 1);
    bool ok = e->items != NULL;
    int k = 0;
    for (const ast *c = n->first; c && ok; c = c->next) {
        e->items[k] = sema_lower_expr(s, c);
        if (!e->items[k++]) ok = false;
    }
    e->n_items = k;
    return ok ? e : NULL;
}

/* expr: or_expr ... primary -- by the node's kind; operators fold (operate). */
ir_expr *sema_lower_expr(sema *s, const ast *n)
{
    if (!n) return NULL;
    switch (n->kind) {
    case AST_INT: return const_expr(s, value_int(n->ival));
    case AST_FLOAT: return const_expr(s, value_float(n->fval));
    case AST_BOOL: return const_expr(s, value_bool(n->ival != 0));
    case AST_NONE: return const_expr(s, value_none());
    case AST_STRING: return const_expr(s, value_string(n->text));
    case AST_FSTRING: return lower_fstring(s, n);
    case AST_NAME: return lower_name(s, n);
    case AST_ATTR: return lower_attr(s, n);
    case AST_CALL: return lower_call_value(s, n);
    case AST_LIST:
    case AST_TUPLE: return lower_list(s, n);
    case AST_UNARY: {
        ir_expr slots[2] = { 0 };   /* literal operands, folded without being allocated */
        return operate(s, (ir_xop)n->op, operand(s, n->a, &slots[0]), NULL, n, slots);
    }
    case AST_BINARY: {
        ir_expr slots[2] = { 0 };
        ir_expr *x = operand(s, n->a, &slots[0]), *y = operand(s, n->b, &slots[1]);
        return operate(s, (ir_xop)n->op, x, y, n, slots);
    }
    case AST_KWARG:
        diag_error(s->d, n->start, n->end, "'%s = ...' is only allowed inside a call's parentheses", n->text);
        return NULL;
    case AST_ERROR:
        return NULL;    /* reported by the lexer */
    default:
        diag_error(s->d, n->start, n->end, "expected a value");
        return NULL;
    }
}

/* ---- the data ----------------------------------------------------------- */

/* A data call's facts: a built-in dataset's, or what the caller's probe finds
 * in the files, its failure reported at the argument it names (the path that
 * does not open, the label column that is not in the header).  Arguments that
 * depend on a hyperparameter (scale) reach the probe as None. */
static void probe_data(sema *s, const ast *call, const st_entry *entry, ir_expr **args, const ast **where)
{
    if (s->n_probed == (int)(sizeof s->probed / sizeof s->probed[0])) return;
    probe_facts *f = &s->probed[s->n_probed].facts;
    memset(f, 0, sizeof *f);
    if (shapes_builtin_facts(entry, f)) {
        s->probed[s->n_probed++].args = args;
        return;
    }
    if (!s->options || !s->options->probe) return;
    hpt_value values[16];
    for (int k = 0; k < entry->n_args && k < 16; k++) values[k] = args[k] && args[k]->op == X_CONST ? args[k]->value : value_none();
    if (s->options->probe(s->options->probe_user, s->p->file, entry, values, f) == 0) {
        s->probed[s->n_probed++].args = args;
        return;
    }
    for (int k = 0; k < f->n_failures && k < (int)(sizeof f->failures / sizeof f->failures[0]); k++) {
        const probe_failure *why = &f->failures[k];
        const ast *at = why->arg >= 0 && why->arg < entry->n_args && where[why->arg] ? where[why->arg] : call;
        diag_error(s->d, at->start, at->end, "%s", why->message);
        if (why->hint[0]) diag_hint(s->d, "%s", why->hint);
    }
}

const probe_facts *sema_facts_of(const sema *s, ir_expr *const *args)
{
    for (int k = 0; args && k < s->n_probed; k++)
        if (s->probed[k].args == args) return &s->probed[k].facts;
    return NULL;
}

/* arg -> expr | NAME '=' expr: the position of entry's argument it gives,
 * or -1 when it fits none (reported; an unknown name's value is still
 * lowered, to check what is inside). */
static int call_arg_slot(sema *s, const st_entry *entry, const ast *arg, int *pos, bool *seen_kw)
{
    int n_args = entry->n_args;
    if (arg->kind == AST_KWARG) {
        *seen_kw = true;
        int slot = st_arg_index(entry, arg->text);
        if (slot >= 0) return slot;
        const char *names[64];
        int k = 0;
        for (; k < n_args && k < 63; k++) names[k] = entry->args[k].name;
        names[k] = NULL;
        diag_error(s->d, arg->start, arg->start + (uint32_t)strlen(arg->text),
                   "%s has no argument '%s'", entry->name, arg->text);
        const char *near = st_suggest(ST_KIND_COUNT, arg->text, names);
        if (near) diag_hint(s->d, "did you mean '%s'?", near);
        else if (n_args == 0) diag_hint(s->d, "%s takes no arguments", entry->name);
        sema_lower_expr(s, arg->a);   /* still check what is inside */
        return -1;
    }
    if (*seen_kw) {
        diag_error(s->d, arg->start, arg->end, "positional argument after keyword arguments");
        diag_hint(s->d, "put positional arguments first, or name this one: %s(name = value)", entry->name);
        return -1;
    }
    int slot = (*pos)++;
    /* input_shape is keyword-only in Keras; do not let it eat a stray positional. */
    if (slot >= n_args || !strcmp(entry->args[slot].name, "input_shape")) {
        int max = n_args - (n_args && !strcmp(entry->args[n_args - 1].name, "input_shape"));
        diag_error(s->d, arg->start, arg->end, "%s takes %s%d positional argument%s", entry->name,
                   max ? "at most " : "", max, max == 1 ? "" : "s");
        return -1;
    }
    return slot;
}

/* The arguments not given take their defaults; false when a required one is
 * missing (reported, unless an argument went astray: it is most likely that one). */
static bool fill_defaults(sema *s, const ast *call, const st_entry *entry, ir_expr **args, const ast **where,
                          bool misbound)
{
    bool ok = true;
    for (int k = 0; k < entry->n_args; k++) {
        if (where[k]) continue;
        if ((entry->args[k].flags & A_REQ) && !misbound) {
            diag_error(s->d, call->start, call->end, "%s is missing its required argument '%s'", entry->name,
                       entry->args[k].name);
            diag_hint(s->d, "add %s = ... (%s)", entry->args[k].name, entry->args[k].doc);
            ok = false;
        } else if (entry->args[k].flags & A_REQ) {
            ok = false;
        }
        args[k] = const_expr(s, entry->args[k].default_value);
    }
    return ok;
}

/* call: name_path '(' args ')' -- bind the arguments to entry's parameters,
 * lower them, check them over the space, and fill in defaults.  Returns an
 * X_OBJECT expression. */
ir_expr *sema_lower_call(sema *s, const ast *call, const st_entry *entry, ir_expr ***args_out, const ast **arg_nodes)
{
    int n_args = entry->n_args;
    ir_expr **args = ARENA_ARRAY(s->a, ir_expr *, n_args ? n_args : 1);
    const ast **where = calloc((size_t)(n_args ? n_args : 1), sizeof *where);
    if (!args || !where) {
        free(where);
        return NULL;
    }
    bool ok = true, seen_kw = false, misbound = false;
    int pos = 0;
    for (const ast *arg = call->first; arg; arg = arg->next) {
        int slot = call_arg_slot(s, entry, arg, &pos, &seen_kw);
        if (slot < 0) {
            ok = false;
            misbound = true;
            continue;
        }
        const ast *value = arg->kind == AST_KWARG ? arg->a : arg;
        if (where[slot]) {
            diag_error(s->d, arg->start, arg->end, "argument '%s' given twice", entry->args[slot].name);
            diag_note(s->d, where[slot]->start, where[slot]->end, "first given here");
            ok = false;
            continue;
        }
        where[slot] = value;
        args[slot] = sema_lower_expr(s, value);
        /* A value that fails its check makes the call fail too: what follows (shapes) must not see it. */
        if (!args[slot] || !sema_check_arg(s, entry, slot, args[slot], value)) ok = false;
    }
    if (!fill_defaults(s, call, entry, args, where, misbound)) ok = false;
    if (ok && entry->kind == ST_DATA) probe_data(s, call, entry, args, where);
    if (arg_nodes)
        for (int k = 0; k < n_args; k++) arg_nodes[k] = where[k];
    free(where);
    *args_out = args;
    if (!ok) return NULL;
    ir_expr *e = new_expr(s, X_OBJECT);
    if (!e) return NULL;
    e->entry = entry;
    e->items = args;
    e->n_items = n_args;
    return e;
}
