/* sema_model.c: the model block (see sema_state.h).
 *
 * Each layer is bound to its catalogue entry and named as Keras names it
 * (dense, dense_1, ...); the first layer is Input, or a layer whose
 * input_shape stands in for it.  `for` loops are unrolled up to the largest
 * value of their bound, each iteration after the smallest one guarded by
 * `bound > i`; `if`s become guards on what they hold, their conditions
 * checked to be booleans over the space.  The model is bounded (MAX_UNROLLED
 * layers and loop iterations, MAX_LOOP per loop), and a model item that
 * cannot be lowered leaves one broken layer in its place.
 *
 * Graphs: every layer names the layers it reads (ir_call.inputs).  s->current
 * is the layer the next one reads; a merge block (Add { branch { ... } ... },
 * Residual { ... }) starts each branch (or its body) from the layer before the
 * block, and the merge layer, added after all of them, reads each branch's
 * last layer (the block's input for an empty branch).  Guards combine as
 * anywhere else: a layer absent from a trial passes its first input through.
 */
#include "compiler/sema_state.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the model ---------------------------------------------------------- */

/* The layer's name as Keras gives it (the catalogue's ST_LAYER_NAMES):
 * dense, then dense_1, dense_2, ... for the later layers of that kind. */
static const char *snake_name(sema *s, const st_entry *e)
{
    int count = s->layer_counts[e->id]++;
    const char *base = st_layer_name(e);
    return count ? arena_printf(s->a, "%s_%d", base, count) : base;
}

/* Room for one more layer; false when memory is short (the layer is dropped). */
static bool room_for_layer(sema *s)
{
    if (s->n_layers < s->cap_layers) return true;
    int cap = s->cap_layers ? s->cap_layers * 2 : 16;
    ir_call *grown = realloc(s->layers, sizeof *grown * (size_t)cap);
    if (!grown) return false;
    s->layers = grown;
    s->cap_layers = cap;
    return true;
}

/* A layer reading inputs[0..n) (copied into the arena), which becomes the
 * one the next layer reads. */
static void add_layer_reading(sema *s, const ast *call, const st_entry *entry, ir_expr **args, const int *inputs, int n)
{
    if (!room_for_layer(s)) return;
    int *in = n ? ARENA_ARRAY(s->a, int, n) : NULL;
    if (n && !in) return;
    if (n) memcpy(in, inputs, sizeof *in * (size_t)n);
    s->layers[s->n_layers] = (ir_call){
        .entry = entry, .args = args, .guard = s->guard, .name = snake_name(s, entry),
        .inputs = in, .n_inputs = n, .span = { call->start, call->end },
    };
    s->current = s->n_layers++;
    s->real_layers++;
}

/* In a stack (a branch), a layer reads the one before it; the Input, nothing. */
static void add_layer(sema *s, const ast *call, const st_entry *entry, ir_expr **args)
{
    add_layer_reading(s, call, entry, args, &s->current, s->current >= 0);
}


/* A model item that could not be lowered: a layer with no arguments in its
 * place, where the checks over the space stop (see sema.h).  Only after an
 * error, so no program that compiles holds one. */
static void add_broken(sema *s, const ast *where)
{
    const ir_call *last = s->n_layers ? &s->layers[s->n_layers - 1] : NULL;
    if (last && !last->args && last->guard == s->guard) return;    /* one is enough */
    if (!room_for_layer(s)) return;
    int *in = s->current >= 0 ? ARENA_ARRAY(s->a, int, 1) : NULL;
    if (in) in[0] = s->current;
    s->layers[s->n_layers] = (ir_call){ .guard = s->guard, .name = "", .inputs = in, .n_inputs = in != NULL,
                                         .span = { where->start, where->end } };
    s->current = s->n_layers++;
}

static void lower_one_layer(sema *s, const ast *call);
static void lower_block_call(sema *s, const ast *call);

/* item: call -- a layer, counted against MAX_UNROLLED; a broken one in its
 * place when it cannot be lowered. */
static void lower_layer(sema *s, const ast *call)
{
    /* Every layer written counts, checked or not, so runaway loops stop cheaply. */
    if (s->unrolled++ >= MAX_UNROLLED) {
        if (s->unrolled == MAX_UNROLLED + 1) {
            diag_error(s->d, call->start, call->end, "the model unrolls to more than %d layers", MAX_UNROLLED);
            add_broken(s, call);
        }
        return;
    }
    int layers = s->n_layers;
    lower_one_layer(s, call);
    if (s->n_layers == layers) add_broken(s, call);   /* every way out without a layer is an error */
}

/* The layer or estimator a model item calls, or NULL (reported: another
 * kind of entry, or an unknown name with the nearest one; the arguments are
 * still lowered, to check what is inside). */
static const st_entry *layer_entry(sema *s, const ast *call)
{
    const char *path = sema_path_text(s, call->a);
    const st_entry *entry = path ? st_find(ST_LAYER, path) : NULL;
    if (!entry && path) entry = st_find(ST_ESTIMATOR, path);
    if (!entry) {
        const st_entry *other = path ? st_find(-1, path) : NULL;
        if (other) {
            diag_error(s->d, call->a->start, call->a->end, "'%s' is %s %s, not a layer", path,
                       other->kind == ST_ACTIVATION || other->kind == ST_OPTIMIZER ? "an" : "a", st_kind_name(other->kind));
            if (other->kind == ST_ACTIVATION) diag_hint(s->d, "use Activation(\"%s\") or activation = \"%s\"", path, path);
        } else {
            diag_error(s->d, call->a->start, call->a->end, "unknown layer '%s'", path ? path : "?");
            const char *near = path ? st_suggest(ST_LAYER, path, NULL) : NULL;
            if (!near && path) near = st_suggest(ST_ESTIMATOR, path, NULL);
            if (near) diag_hint(s->d, "did you mean '%s'?", near);
        }
        for (const ast *a = call->first; a; a = a->next) sema_lower_expr(s, a->kind == AST_KWARG ? a->a : a);
        return NULL;
    }
    return entry;
}

/* The model's first layer: Input, or a layer whose input_shape stands in
 * for it (an Input is added before it); never conditional.  False when it
 * cannot start the model (reported once). */
static bool first_layer(sema *s, const ast *call, const st_entry *entry, ir_expr **args)
{
    if (entry->kind == ST_ESTIMATOR) {
        /* An estimator takes no input_shape: the features' count comes from Input. */
        if (s->no_input) return false;
        s->no_input = true;
        diag_error(s->d, call->start, call->end, "the model's first layer needs an input shape");
        diag_hint(s->d, "start the model with Input(shape = [F]), F being the number of features (or the images' [28, 28])");
        return false;
    }
    if (entry->id != ST_Input) {
        /* Keras: input_shape on the first layer stands in for Input(). */
        int k = st_arg_index(entry, "input_shape");
        hpt_value shape;
        if (s->no_input) return false;    /* said once, for the first layer */
        if (k < 0 || !sema_const_value(s, args[k], &shape) || shape.type == V_NONE) {
            s->no_input = true;
            diag_error(s->d, call->start, call->end, "the model's first layer needs an input shape");
            diag_hint(s->d, "start the model with Input(shape = [28, 28]), or give input_shape = (28, 28) to this layer");
            return false;
        }
        if (s->guard) {
            diag_error(s->d, call->start, call->end, "the model's first layer cannot be conditional");
            return false;
        }
        ir_expr **in_args = ARENA_ARRAY(s->a, ir_expr *, Input_nargs);
        if (!in_args) return false;
        in_args[Input_shape] = args[k];
        add_layer(s, call, &st_catalogue[ST_Input], in_args);
        return true;
    }
    if (s->guard) {
        diag_error(s->d, call->start, call->end, "the model's Input cannot be conditional");
        return false;
    }
    return true;
}

/* A later layer: not an Input; its input_shape, if written, does nothing. */
static bool later_layer(sema *s, const ast *call, const st_entry *entry, const ast **where)
{
    if (entry->id == ST_Input && s->in_merge) {
        diag_error(s->d, call->start, call->end, "Input(...) cannot be inside a merge block");
        diag_hint(s->d, "a branch (or a Residual's body) reads the layer before its block; the model has one Input, first");
        return false;
    }
    if (entry->id == ST_Input) {
        diag_error(s->d, call->start, call->end, "Input(...) must be the model's first layer");
        if (s->layers[0].span.start != call->start && s->n_layers > 0)
            diag_note(s->d, s->layers[0].span.start, s->layers[0].span.end, "the model already starts here");
        diag_hint(s->d, "declare the input once: Input(shape = ...) at the top, or input_shape = ... on the first layer");
        return false;
    }
    int k = st_arg_index(entry, "input_shape");
    if (k >= 0 && where[k])
        diag_warning(s->d, where[k]->start, where[k]->end,
                     "input_shape has no effect here: only the first layer's is used");
    return true;
}

/* call: name_path '(' args ')' in the model -- a layer or an estimator,
 * bound and checked; the first one is the model's Input or stands in for it. */
static void lower_one_layer(sema *s, const ast *call)
{
    const st_entry *entry = layer_entry(s, call);
    if (!entry) return;
    if (st_merge_rule_of(entry)) {
        diag_error(s->d, call->start, call->end, "%s joins branches: it needs a block", entry->name);
        if (entry->id == ST_Residual) diag_hint(s->d, "write its body in a block: Residual { Conv2D(...) Conv2D(...) }");
        else diag_hint(s->d, "write its branches in a block: %s { branch { Dense(64) } branch { } }",
                       entry->id == ST_Concatenate ? "Concatenate(axis = -1)" : entry->name);
        return;
    }
    /* Noted before the arguments are checked, so a bad one does not also bring "no compile(...)". */
    if (entry->kind == ST_ESTIMATOR && !s->estimator) s->estimator = call;
    if (entry->kind == ST_LAYER && entry->id != ST_Input && entry->id != ST_Flatten) s->network = true;
    ir_expr **args;
    const ast *where[32] = { 0 };
    if (!sema_lower_call(s, call, entry, &args, where)) return;
    bool first = s->real_layers == 0;       /* broken layers before it do not count */
    if (first ? !first_layer(s, call, entry, args) : !later_layer(s, call, entry, where)) return;
    add_layer(s, call, entry, args);
    if (entry->id == ST_Dropout && where[Dropout_rate] && args[Dropout_rate]->op == X_CONST &&
        value_as_double(args[Dropout_rate]->value) == 0)
        diag_warning(s->d, where[Dropout_rate]->start, where[Dropout_rate]->end,
                     "Dropout with rate 0 has no effect");
}

static bool lower_for_items(sema *s, const ast *n);

/* item: FOR NAME IN expr block -- a loop whose bound could not be lowered
 * (or that was cut short) leaves a broken layer in its place. */
static void lower_for(sema *s, const ast *n)
{
    if (!lower_for_items(s, n)) add_broken(s, n);
}

/* The range(...) a loop runs over, range '(' [start ','] stop ')': its start
 * (a constant), its stop lowered and where it is written; false after an
 * error (reported). */
static bool lower_range(sema *s, const ast *n, int64_t *start, ir_expr **stop, const ast **stop_node)
{
    const ast *it = n->a;
    const char *path = it && it->kind == AST_CALL ? sema_path_text(s, it->a) : NULL;
    if (!path || strcmp(path, "range") || it->n < 1 || it->n > 2 || it->first->kind == AST_KWARG ||
        (it->n == 2 && it->first->next->kind == AST_KWARG)) {
        diag_error(s->d, it ? it->start : n->start, it ? it->end : n->end, "a for loop runs over range(n) or range(start, stop)");
        diag_hint(s->d, "for i in range(3) { ... } repeats its body; range(hp.Int(\"depth\", 1, 3)) searches the depth");
        return false;
    }
    const ast *start_node = it->n == 2 ? it->first : NULL;
    *stop_node = it->n == 2 ? it->first->next : it->first;
    *start = 0;
    if (start_node) {
        ir_expr *e = sema_lower_expr(s, start_node);
        if (!e) return false;
        if (e->op != X_CONST || e->value.type != V_INT) {
            diag_error(s->d, start_node->start, start_node->end, "range's start must be an integer constant");
            return false;
        }
        *start = e->value.u.i;
    }
    *stop = sema_lower_expr(s, *stop_node);
    return *stop != NULL;
}

/* The smallest and largest values of a loop's stop, evaluated for every
 * combination of the hyperparameters it reads (bounds are small integer
 * spaces); false when it is not an integer or takes too many values (reported). */
static bool bound_extent(sema *s, const ir_expr *stop, const ast *stop_node, int64_t *lo, int64_t *hi)
{
    int list[16], m = 0;
    sema_collect(stop, list, &m, 16);
    *lo = INT64_MAX, *hi = INT64_MIN;
    const char *culprit = NULL;
    bool ok = true;
    long total = 1;
    for (int k = 0; k < m; k++) {
        long card = ir_hp_cardinality(&s->hps[list[k]]);
        if (s->hps[list[k]].kind == HP_FLOAT) culprit = s->hps[list[k]].name;
        if (card < 0 || s->hps[list[k]].kind == HP_FLOAT) ok = false;
        else if (total <= 100000) total *= card;
    }
    if (!ok) {
        if (culprit)
            diag_error(s->d, stop_node->start, stop_node->end,
                       "a for loop's bound must be an integer, but '%s' is an hp.Float", culprit);
        else
            diag_error(s->d, stop_node->start, stop_node->end,
                       "a for loop's bound must be an integer constant or depend on integer hyperparameters");
        diag_hint(s->d, "use hp.Int(\"num_layers\", 1, 3) or hp.Choice over integers");
        return false;
    }
    if (total > 100000 || m == 16) {
        diag_error(s->d, stop_node->start, stop_node->end,
                   "a for loop's bound takes too many values to unroll (more than 100000 combinations)");
        diag_hint(s->d, "bound the loop by one hp.Int, such as range(hp.Int(\"num_layers\", 1, 3))");
        return false;
    }
    s->p->hps = s->hps;
    s->p->n_hps = s->n_hps;
    for (long idx = 0; idx < total && ok; idx++) {
        long rest = idx;
        for (int k = 0; k < m; k++) {
            long card = ir_hp_cardinality(&s->hps[list[k]]);
            s->values[list[k]] = ir_hp_value_at(&s->hps[list[k]], rest % card);
            rest /= card;
        }
        ir_assignment as = { s->values, s->n_hps };
        arena scratch = { 0 };
        hpt_value v;
        char why[160];
        if (ir_eval(s->p, stop, &as, &scratch, &v, why, sizeof why) || v.type != V_INT) {
            diag_error(s->d, stop_node->start, stop_node->end, "a for loop's bound must be an integer");
            ok = false;
        } else {
            if (v.u.i < *lo) *lo = v.u.i;
            if (v.u.i > *hi) *hi = v.u.i;
        }
        arena_free(&scratch);
    }
    for (int k = 0; k < m; k++) s->values[list[k]] = value_none();
    return ok;
}

/* item: FOR NAME IN expr block, expr being range(...) -- unrolled from
 * start to the stop's largest value, each iteration i >= the stop's
 * smallest value guarded by stop > i.  False after an error about the loop
 * itself (its body's are the body's). */
static bool lower_for_items(sema *s, const ast *n)
{
    int64_t start, lo, hi;
    ir_expr *stop;
    const ast *stop_node;
    if (!lower_range(s, n, &start, &stop, &stop_node) || !bound_extent(s, stop, stop_node, &lo, &hi)) return false;
    /* Unsigned: the difference of two int64 may not fit in one. */
    if (hi > start && (uint64_t)hi - (uint64_t)start > (uint64_t)MAX_LOOP) {
        diag_error(s->d, stop_node->start, stop_node->end, "a for loop may run at most %d times, but this one runs up to %llu",
                   MAX_LOOP, (unsigned long long)((uint64_t)hi - (uint64_t)start));
        return false;
    }
    ir_expr *outer = s->guard;
    for (int64_t i = start; i < hi; i++) {
        /* Nested loops multiply: bound the total work, empty bodies included. */
        if (s->iterations++ >= MAX_UNROLLED) {
            if (s->iterations == MAX_UNROLLED + 1)
                diag_error(s->d, stop_node->start, stop_node->end, "the model's loops run more than %d iterations in all",
                           MAX_UNROLLED);
            s->guard = outer;
            return false;
        }
        ir_expr *cond = NULL;
        if (i >= lo) cond = binary(s, X_GT, stop, const_expr(s, value_int(i)));  /* only some trials get here */
        s->guard = conjoin(s, outer, cond);
        loopvar var = { n->text, i, s->loops };
        s->loops = &var;
        sema_lower_items(s, n->b);
        s->loops = var.outer;
    }
    s->guard = outer;
    return true;
}

typedef struct cond_check {
    sema *s;
    const ir_expr *e;
    const int *hps;
    int n_hps;
    long truths, falses;
    const ast *node;
    bool failed;
} cond_check;

static int cond_one(void *user, hpt_value *values)
{
    cond_check *c = user;
    ir_assignment as = { values, c->s->p->n_hps };
    arena scratch = { 0 };
    hpt_value v;
    char why[300], with[300];
    int rc = ir_eval(c->s->p, c->e, &as, &scratch, &v, why, sizeof why);
    if (rc == 0 && v.type == V_BOOL) {
        if (v.u.b) c->truths++;
        else c->falses++;
    } else {
        if (rc == 0) {
            char what[120];
            sema_describe_value(v, what, sizeof what);
            snprintf(why, sizeof why, "an if condition must be True or False, not %s", what);
        }
        sema_describe_assignment(c->s->p, c->hps, c->n_hps, values, with, sizeof with);
        diag_error(c->s->d, c->node->start, c->node->end, "%s%s%s", why, *with ? " when " : "", with);
        c->failed = true;
    }
    arena_free(&scratch);
    return c->failed;
}

/* A condition over hyperparameters must be a bool for every value they take;
 * one that is never (or always) true is worth a warning: a block never built. */
static bool check_condition(sema *s, const ir_expr *cond, const ast *node)
{
    int list[64], n = 0;
    sema_collect(cond, list, &n, 64);
    s->p->n_hps = s->n_hps;
    s->p->hps = s->hps;
    cond_check c = { s, cond, list, n, 0, 0, node, false };
    int complete = sema_enumerate(s->p, list, n, s->values, ENUM_CAP, cond_one, &c);
    for (int j = 0; j < n; j++) s->values[list[j]] = value_none();
    if (c.failed) return false;
    if (complete && (!c.truths || !c.falses)) {
        diag_warning(s->d, node->start, node->end, "this condition is %s true, whatever the hyperparameters",
                     c.truths ? "always" : "never");
        diag_hint(s->d, "%s", c.truths ? "its else branch is never built" : "the block under it is never built");
    }
    return true;
}

/* if_item: IF expr block elif_tail -- elif_tail being ELSE block, ELSE if_item
 * or ELIF expr block elif_tail (an AST_IF, as else if). */
static void lower_if(sema *s, const ast *n)
{
    /* A condition that cannot be lowered leaves a broken layer in the if's place. */
    ir_expr *cond = sema_lower_expr(s, n->a);
    if (!cond) {
        add_broken(s, n);
        return;
    }
    if (cond->op == X_CONST) {
        if (cond->value.type != V_BOOL) {
            char what[120];
            sema_describe_value(cond->value, what, sizeof what);
            diag_error(s->d, n->a->start, n->a->end, "an if condition must be True or False, not %s", what);
            diag_hint(s->d, "compare it, as in: if depth > 1 { ... }");
            add_broken(s, n);
            return;
        }
        /* A constant condition: only the branch taken exists. */
        const ast *taken = cond->value.u.b ? n->first : n->b;
        if (taken && taken->kind == AST_IF) lower_if(s, taken);
        else if (taken) sema_lower_items(s, taken);
        return;
    }
    if (cond->op == X_HP && s->hps[cond->hp].kind != HP_BOOLEAN) {
        const ir_hp *h = &s->hps[cond->hp];
        diag_error(s->d, n->a->start, n->a->end, "an if condition must be a boolean, but '%s' is not an hp.Boolean",
                   h->name);
        bool text = h->kind == HP_CHOICE || h->kind == HP_FIXED ? h->values[0].type == V_STRING : false;
        if (text) diag_hint(s->d, "compare it: if hp.Choice(\"%s\", ...) == \"...\" { ... }", h->name);
        else diag_hint(s->d, "compare it, as in: if hp.%s(\"%s\", ...) > 0 { ... }; or use hp.Boolean(\"%s\")",
                       h->kind == HP_INT ? "Int" : h->kind == HP_FLOAT ? "Float" : h->kind == HP_CHOICE ? "Choice" : "Fixed",
                       h->name, h->name);
        add_broken(s, n);
        return;
    }
    if (!check_condition(s, cond, n->a)) {
        add_broken(s, n);
        return;
    }
    ir_expr *outer = s->guard;
    s->guard = conjoin(s, outer, cond);
    sema_lower_items(s, n->first);
    if (n->b) {
        s->guard = conjoin(s, outer, negate(s, cond));
        if (n->b->kind == AST_IF) lower_if(s, n->b);
        else sema_lower_items(s, n->b);
    }
    s->guard = outer;
}

/* ---- merge blocks --------------------------------------------------------- */

static bool is_branch(sema *s, const ast *n)
{
    const char *path = n && n->kind == AST_CALL ? sema_path_text(s, n->a) : NULL;
    return path && !strcmp(path, "branch");
}

/* branch { items } -- its layers chained from the block's input `in`; the
 * branch's last layer (in itself when it has none) to *last. */
static void lower_branch(sema *s, const ast *block, int in, int *last)
{
    s->current = in;
    s->in_merge++;
    sema_lower_items(s, block);
    s->in_merge--;
    *last = s->current;
}

/* Add { branch { ... } branch { ... } ... }, Concatenate(...) { ... }: each
 * branch from the block's input; the branches' last layers to last[], their
 * count to *n.  False when the block is not made of 2 to ST_MAX_INPUTS
 * branches (reported). */
static bool lower_branches(sema *s, const ast *call, const st_entry *entry, int in, int *last, int *n)
{
    *n = 0;
    for (const ast *item = call->b->first; item && !diag_stopped(s->d); item = item->next) {
        if (!is_branch(s, item) || !item->b || item->first) {
            const ast *at = item->kind == AST_CALL && item->a ? item->a : item;
            if (is_branch(s, item) && item->b) {
                diag_error(s->d, item->start, item->end, "a branch takes no arguments");
                diag_hint(s->d, "write branch { ... }");
            } else {
                diag_error(s->d, at->start, at->end, "%s's block holds branches only", entry->name);
                diag_hint(s->d, "wrap the layers in branch { ... }: %s { branch { Dense(64) } branch { } }; "
                          "an empty branch is the block's input", entry->name);
            }
            return false;       /* once a block: its other items are likely the same mistake */
        }
        if (*n == ST_MAX_INPUTS) {
            diag_error(s->d, item->a->start, item->a->end, "%s joins at most %d branches", entry->name, ST_MAX_INPUTS);
            return false;
        }
        lower_branch(s, item->b, in, &last[(*n)++]);
    }
    if (*n < 2) {
        diag_error(s->d, call->start, call->end, "%s needs at least 2 branches, but its block has %d", entry->name, *n);
        diag_hint(s->d, "%s { branch { Dense(64) } branch { } } joins a Dense layer with the block's input", entry->name);
        return false;
    }
    return true;
}

/* Residual { items } -- the body, from the block's input; its last layer to
 * *last.  False when it is empty or holds branches (reported). */
static bool lower_body(sema *s, const ast *call, int in, int *last)
{
    for (const ast *item = call->b->first; item; item = item->next)
        if (is_branch(s, item) && item->b) {
            diag_error(s->d, item->a->start, item->a->end, "Residual's block is its body, not branches");
            diag_hint(s->d, "write the body's layers directly: Residual { Conv2D(...) Conv2D(...) }; "
                      "for branches joined by a sum, use Add { branch { ... } branch { ... } }");
            return false;
        }
    int before = s->n_layers;
    lower_branch(s, call->b, in, last);
    if (s->n_layers == before) {     /* no layer written, or none a constant condition keeps */
        diag_error(s->d, call->start, call->end, "Residual's body is empty");
        diag_hint(s->d, "Residual { ... } adds its input to what the layers of its block make of it");
        return false;
    }
    return true;
}

/* item: call block | name_path block -- a merge layer after its branches (or
 * its body), reading each branch's last layer; a branch or another layer
 * with a block here is out of place.  A merge that cannot be lowered leaves
 * a broken layer. */
static void lower_block_call(sema *s, const ast *call)
{
    if (is_branch(s, call)) {
        diag_error(s->d, call->a->start, call->a->end, "a branch belongs in the block of Add or Concatenate");
        diag_hint(s->d, "Add { branch { ... } branch { ... } } sums its branches; Concatenate(axis = -1) { ... } joins them");
        add_broken(s, call);
        return;
    }
    if (s->unrolled++ >= MAX_UNROLLED) {
        if (s->unrolled == MAX_UNROLLED + 1) {
            diag_error(s->d, call->start, call->end, "the model unrolls to more than %d layers", MAX_UNROLLED);
            add_broken(s, call);
        }
        return;
    }
    const st_entry *entry = layer_entry(s, call);
    if (!entry) {
        add_broken(s, call);
        return;
    }
    if (!st_merge_rule_of(entry)) {
        diag_error(s->d, call->b->start, call->b->start + 1, "%s takes no block: only Add, Concatenate and Residual join "
                   "branches", entry->name);
        diag_hint(s->d, "write the layers after it, not in braces");
        add_broken(s, call);
        return;
    }
    if (s->real_layers == 0) {
        diag_error(s->d, call->start, call->end, "the model cannot start with %s: its branches need an input", entry->name);
        diag_hint(s->d, "start the model with Input(shape = [28, 28, 1]), then the block");
        s->no_input = true;
        add_broken(s, call);
        return;
    }
    s->network = true;
    ir_expr **args;
    bool args_ok = sema_lower_call(s, call, entry, &args, NULL) != NULL;
    int in = s->current, last[ST_MAX_INPUTS + 1], n = 0;
    bool ok = entry->id == ST_Residual ? lower_body(s, call, in, &last[1]) : lower_branches(s, call, entry, in, last, &n);
    if (entry->id == ST_Residual) last[0] = in, n = 2;
    if (!ok || !args_ok) {
        s->current = in;
        add_broken(s, call);
        return;
    }
    add_layer_reading(s, call, entry, args, last, n);
}

/* block: '{' items '}', items: items item -- each item under the current guard. */
void sema_lower_items(sema *s, const ast *block)
{
    if (!block) return;
    for (const ast *item = block->first; item && !diag_stopped(s->d); item = item->next) {
        switch (item->kind) {
        case AST_CALL:
            if (item->b) lower_block_call(s, item);
            else lower_layer(s, item);
            break;
        case AST_FOR: lower_for(s, item); break;
        case AST_IF: lower_if(s, item); break;
        case AST_ASSIGN:
            diag_error(s->d, item->start, item->start + (uint32_t)strlen(item->text),
                       "constants are assigned outside the model block");
            diag_hint(s->d, "move '%s = ...' above model { ... }", item->text);
            /* Define it anyway (once), so its uses below are not errors too. */
            if (!sema_bound_name(s, item->text)) sema_lower_assignment(s, item);
            break;
        default:
            diag_error(s->d, item->start, item->end, "expected a layer, a for loop or an if");
            add_broken(s, item);
            break;
        }
    }
}

/* stmt: MODEL block -- once. */
void sema_lower_model(sema *s, const ast *n)
{
    if (s->model) {
        diag_error(s->d, n->start, n->start + 5, "a spec has one model block");
        diag_note(s->d, s->model->start, s->model->start + 5, "the first one is here");
        return;
    }
    s->model = n;
    sema_lower_items(s, n);
}
