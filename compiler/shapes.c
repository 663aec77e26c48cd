/* shapes.c: see shapes.h.  Failures are collected per layer during the
 * enumeration and printed afterwards in layer order, so the output does not
 * depend on the order assignments are visited in. */
#include "compiler/shapes.h"
#include "compiler/sema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int shapes_known_classes(const ir_program *p)
{
    if (!p->data.entry) return 0;
    return p->data.entry->id == ST_fashion_mnist || p->data.entry->id == ST_mnist ? 10 : 0;
}

int shapes_infer(const ir_program *p, const ir_assignment *a, int (*shapes)[4], int *ranks, char *why, size_t n)
{
    int in[4] = { 0 }, in_rank = 0;
    hpt_value args[32];
    for (int k = 0; k < p->n_layers; k++) {
        const ir_call *c = &p->layers[k];
        ranks[k] = 0;
        if (!ir_holds(p, c->guard, a)) continue;
        arena scratch = { 0 };
        int rc = ir_eval_call(p, c, a, &scratch, args, why, n);
        int out[4] = { 0 }, out_rank = 0;
        if (rc == 0) rc = c->entry->shape(args, in, in_rank, out, &out_rank, why, n);
        arena_free(&scratch);
        if (rc) return -1 - k;
        memcpy(shapes[k], out, sizeof out);
        ranks[k] = out_rank;
        memcpy(in, out, sizeof in);
        in_rank = out_rank;
    }
    return 0;
}

typedef struct failure {
    char *message;      /* first failing assignment's message, malloc'd */
    long fails, present;
} failure;

typedef struct shape_scan {
    const ir_program *p;
    failure *fail;      /* n_layers + 1: the last slot is the model's output */
    char *set;
    int (*shapes)[4];
    int *ranks;
    int classes;
    int sparse;         /* classification loss: output must be (classes) */
} shape_scan;

static void note_failure(shape_scan *sc, int layer, const char *why, const hpt_value *values)
{
    failure *f = &sc->fail[layer];
    f->fails++;
    if (f->message) return;
    char with[400];
    size_t len = 0;
    with[0] = 0;
    for (int k = 0; k < sc->p->n_hps && len + 1 < sizeof with; k++) {
        if (!sc->set[k]) continue;
        char v[64];
        value_format(v, sizeof v, values[k]);
        len += (size_t)snprintf(with + len, sizeof with - len, "%s'%s' = %s", len ? ", " : "", sc->p->hps[k].name, v);
    }
    size_t need = strlen(why) + strlen(with) + 16;
    f->message = malloc(need);
    if (f->message) snprintf(f->message, need, "%s%s%s", why, *with ? "\x1f" : "", with);
}

static int scan_one(void *user, hpt_value *values)
{
    shape_scan *sc = user;
    const ir_program *p = sc->p;
    ir_assignment a = { values, p->n_hps };
    char why[300];
    for (int k = 0; k < p->n_layers; k++) sc->fail[k].present += ir_holds(p, p->layers[k].guard, &a);
    int rc = shapes_infer(p, &a, sc->shapes, sc->ranks, why, sizeof why);
    if (rc < 0) {
        note_failure(sc, -1 - rc, why, values);
        return 0;
    }
    /* The output: last present layer. */
    int last = -1;
    for (int k = 0; k < p->n_layers; k++)
        if (sc->ranks[k]) last = k;
    sc->fail[p->n_layers].present++;
    if (last >= 0 && sc->ranks[last] != 1) {
        note_failure(sc, p->n_layers, "the model's output must be flat (one axis); add Flatten() and a Dense layer", values);
    } else if (last >= 0 && sc->sparse && sc->classes && sc->shapes[last][0] != sc->classes) {
        snprintf(why, sizeof why, "the model outputs %d values, but the data has %d classes", sc->shapes[last][0], sc->classes);
        note_failure(sc, p->n_layers, why, values);
    }
    return 0;
}

int shapes_check(const ir_program *p, diag_ctx *d)
{
    if (p->n_layers == 0) return 0;
    int before = d->errors;
    char *set = calloc((size_t)p->n_hps + 1, 1);
    int *list = malloc(sizeof(int) * ((size_t)p->n_hps + 1));
    hpt_value *values = calloc((size_t)p->n_hps + 1, sizeof *values);
    failure *fail = calloc((size_t)p->n_layers + 1, sizeof *fail);
    int (*shapes)[4] = calloc((size_t)p->n_layers, sizeof *shapes);
    int *ranks = calloc((size_t)p->n_layers, sizeof *ranks);
    if (!set || !list || !values || !fail || !shapes || !ranks) {
        diag_error(d, 0, 0, "out of memory");
        goto out;
    }
    for (int k = 0; k < p->n_layers; k++) {
        const ir_call *c = &p->layers[k];
        sema_collect_hps(c->guard, set);
        for (int j = 0; j < c->entry->n_args; j++)
            if (c->entry->args[j].flags & A_SHAPE) sema_collect_hps(c->args[j], set);
    }
    int n = 0;
    for (int k = 0; k < p->n_hps; k++)
        if (set[k]) list[n++] = k;
    ir_default_assignment(p, values);
    for (int k = 0; k < p->n_hps; k++)
        if (values[k].type == V_NONE) values[k] = p->hps[k].default_value;
    shape_scan sc = { p, fail, set, shapes, ranks, shapes_known_classes(p), 0 };
    if (p->compile.entry) {
        ir_expr *loss = p->compile.args[compile_loss];
        const st_entry *e = NULL;
        if (loss->op == X_OBJECT) e = loss->entry;
        else if (loss->op == X_CONST && loss->value.type == V_STRING) e = st_find(ST_LOSS, loss->value.u.s);
        sc.sparse = e && e->id == ST_SparseCategoricalCrossentropy;
    }
    sema_enumerate(p, list, n, values, 20000, scan_one, &sc);
    for (int k = 0; k <= p->n_layers; k++) {
        failure *f = &fail[k];
        if (!f->message) continue;
        char *with = strchr(f->message, '\x1f');
        if (with) *with++ = 0;
        /* Breaking under every value means the hyperparameters are not the cause. */
        bool always = f->fails == f->present;
        const ir_call *at = k < p->n_layers ? &p->layers[k] : &p->layers[p->n_layers - 1];
        if (with && !always) diag_error(d, at->span.start, at->span.end, "%s, with %s", f->message, with);
        else diag_error(d, at->span.start, at->span.end, "%s", f->message);
        if (with && !always) diag_hint(d, "shapes are checked for every value the hyperparameters can take");
    }
out:
    for (int k = 0; fail && k <= p->n_layers; k++) free(fail[k].message);
    free(set), free(list), free(values), free(fail), free(shapes), free(ranks);
    return d->errors - before;
}
