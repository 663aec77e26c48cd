/* space.c: see space.h.  The size is counted by enumerating only the
 * hyperparameters that other hyperparameters' conditions mention (parents),
 * and multiplying the cardinalities of the active leaves for each parent
 * combination: exact, and cheap because parents are few and small. */
#include "compiler/space.h"
#include "compiler/sema.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct size_scan {
    const ir_program *p;
    const char *parent;
    double total;
} size_scan;

static int add_combination(void *user, hpt_value *values)
{
    size_scan *sc = user;
    const ir_program *p = sc->p;
    ir_assignment a = { values, p->n_hps };
    /* A parent combination that is itself impossible (a parent inactive but
     * set) is counted once, under its active form, by skipping it here. */
    for (int k = 0; k < p->n_hps; k++)
        if (sc->parent[k] && !ir_holds(p, p->hps[k].condition, &a) &&
            !value_equal(values[k], p->hps[k].default_value))
            return 0;
    double product = 1;
    for (int k = 0; k < p->n_hps; k++) {
        if (sc->parent[k] || !ir_holds(p, p->hps[k].condition, &a)) continue;
        long card = ir_hp_cardinality(&p->hps[k]);
        if (card < 0) {
            sc->total = -1;
            return 1;
        }
        product *= (double)card;
    }
    sc->total += product;
    return 0;
}

double space_size(const ir_program *p)
{
    char *parent = calloc((size_t)p->n_hps + 1, 1);
    int *list = malloc(sizeof(int) * ((size_t)p->n_hps + 1));
    hpt_value *values = calloc((size_t)p->n_hps + 1, sizeof *values);
    double total = -1;
    if (parent && list && values) {
        for (int k = 0; k < p->n_hps; k++) sema_collect_hps(p->hps[k].condition, parent);
        int n = 0;
        for (int k = 0; k < p->n_hps; k++)
            if (parent[k]) list[n++] = k;
        for (int k = 0; k < p->n_hps; k++) values[k] = p->hps[k].default_value;
        size_scan sc = { p, parent, 0 };
        sema_enumerate(p, list, n, values, 1000000, add_combination, &sc);
        total = sc.total;
    }
    free(parent), free(list), free(values);
    return total;
}

static void print_value(hpt_value v, FILE *out)
{
    char buf[128];
    value_format(buf, sizeof buf, v);
    fputs(buf, out);
}

/* Conditions print as written, minus the IR's full parenthesisation at the top. */
void space_print_condition(const ir_program *p, const ir_expr *cond, FILE *out)
{
    if (cond->op >= X_EQ && cond->op <= X_GE && cond->a->op == X_HP) {
        static const char *const ops[] = { [X_EQ] = "==", [X_NE] = "!=", [X_LT] = "<", [X_LE] = "<=", [X_GT] = ">", [X_GE] = ">=" };
        fprintf(out, "%s %s ", p->hps[cond->a->hp].name, ops[cond->op]);
        ir_print_expr(p, cond->b, out);
        return;
    }
    if (cond->op == X_HP) {
        fputs(p->hps[cond->hp].name, out);
        return;
    }
    ir_print_expr(p, cond, out);
}

static const char *const kind_names[] = { "Int", "Float", "Choice", "Boolean", "Fixed" };
static const char *const sampling_names[] = { "linear", "log", "reverse_log" };

void space_print(const ir_program *p, FILE *out)
{
    fprintf(out, "%d hyperparameter%s\n", p->n_hps, p->n_hps == 1 ? "" : "s");
    for (int k = 0; k < p->n_hps; k++) {
        const ir_hp *h = &p->hps[k];
        fprintf(out, "  %-20s %-8s ", h->name, kind_names[h->kind]);
        long card = ir_hp_cardinality(h);
        if (h->kind == HP_INT || h->kind == HP_FLOAT) {
            print_value(h->min, out);
            fputs(" .. ", out);
            print_value(h->max, out);
            if (h->step.type != V_NONE) {
                fputs(h->sampling == SAMPLING_LOG ? " step x" : " step ", out);
                print_value(h->step, out);
            }
            fprintf(out, ", %s", sampling_names[h->sampling]);
            if (card > 0) fprintf(out, ", %ld values", card);
            else fputs(", continuous", out);
        } else if (h->kind == HP_CHOICE || h->kind == HP_FIXED) {
            fputc('[', out);
            for (int j = 0; j < h->n_values; j++) {
                if (j) fputs(", ", out);
                print_value(h->values[j], out);
            }
            fputc(']', out);
            if (h->kind == HP_CHOICE) fputs(h->ordered ? ", ordered" : ", unordered", out);
        } else {
            fputs("False, True", out);
        }
        fputs("; default ", out);
        print_value(h->default_value, out);
        if (h->condition) {
            fputs("; only when ", out);
            space_print_condition(p, h->condition, out);
        }
        fputc('\n', out);
    }
    double size = space_size(p);
    if (size < 0) fputs("size: infinite (continuous hyperparameters)\n", out);
    else if (size >= 1e18) fputs("size: more than 1e18 configurations\n", out);
    else fprintf(out, "size: %.0f configuration%s\n", size, size == 1 ? "" : "s");
}
