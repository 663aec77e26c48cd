/* space.c: see space.h.  The size is counted by a walk over the
 * hyperparameters in dependency order (each after those its condition reads),
 * splitting only on parents (hyperparameters some condition reads) and
 * multiplying by the cardinality of every other active one.  Two walks that
 * reach the same position with the same values of the parents still read
 * further on count the same, so the count of each such state is kept (a memo):
 * exact, and linear for independent or nested conditions alike. */
#include "compiler/space.h"
#include "compiler/memo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { UNSET = -2, INACTIVE = -1, STEP_CAP = 2000000, SPLIT_CAP = 10000 };

typedef struct counter {
    const ir_program *p;
    int *order;             /* hps, each after the hps its condition reads */
    char *parent;           /* read by some condition */
    int *last_read;         /* last position whose condition reads the hp */
    int *status;            /* UNSET, INACTIVE or the index of its value */
    hpt_value *values;
    int *stack, depth;      /* assigned parents, to build keys and undo */
    memo seen;
    int end;                /* end of the segment being counted */
    int splits;             /* nested splits now: the C recursion depth */
    long steps;
    bool infinite, gave_up;
} counter;

/* The distinct hyperparameters e reads, appended to list (seen[] marks them). */
static void reads_of(const ir_expr *e, char *seen, int *list, int *n)
{
    if (!e) return;
    if (e->op == X_HP && !seen[e->hp]) {
        seen[e->hp] = 1;
        list[(*n)++] = e->hp;
    }
    reads_of(e->a, seen, list, n);
    reads_of(e->b, seen, list, n);
    for (int k = 0; k < e->n_items; k++) reads_of(e->items[k], seen, list, n);
}

/* order: every hp after the ones its condition reads (depth-first post-order,
 * with an explicit stack).  A cycle of conditions (a when b, b when a) is
 * broken at the back edge; such hps are never active anyway. */
static void dependency_order(const ir_program *p, const int *first, const int *reads, int *order)
{
    int n = p->n_hps, placed = 0;
    char *state = calloc((size_t)n + 1, 1);         /* 0 new, 1 on the stack, 2 placed */
    int *stack = malloc(((size_t)n + 1) * sizeof *stack), *next = malloc(((size_t)n + 1) * sizeof *next);
    for (int root = 0; state && stack && next && root < n; root++) {
        if (state[root]) continue;
        int top = 0;
        stack[top++] = root, next[root] = first[root], state[root] = 1;
        while (top > 0) {
            int h = stack[top - 1];
            if (next[h] < first[h + 1]) {
                int q = reads[next[h]++];
                if (!state[q]) stack[top++] = q, next[q] = first[q], state[q] = 1;
            } else {
                state[h] = 2;
                order[placed++] = h;
                top--;
            }
        }
    }
    for (int h = 0; placed < n && h < n; h++) order[placed++] = h;   /* out of memory: definition order */
    free(state), free(stack), free(next);
}

/* The memo slot of the state at position pos: pos, and the status of every
 * assigned parent that a condition at pos or later reads (sorted by hp). */
static double *state_slot(counter *c, int pos, bool *fresh)
{
    int small[64], *key = small;
    size_t n = 1 + 2 * (size_t)c->depth, len = 0;
    if (n > 64 && !(key = malloc(n * sizeof *key))) return NULL;
    key[len++] = pos;
    for (int j = 0; j < c->depth; j++) {
        int q = c->stack[j];
        if (c->last_read[q] < pos) continue;
        size_t at = len;
        while (at > 1 && key[at - 2] > q) key[at] = key[at - 2], key[at + 1] = key[at - 1], at -= 2;
        key[at] = q, key[at + 1] = c->status[q];
        len += 2;
    }
    double *slot = memo_find(&c->seen, key, len, fresh);
    if (key != small) free(key);
    return slot;
}

/* Configurations of the hyperparameters at positions pos.., given the ones before. */
static double count(counter *c, int pos)
{
    const ir_program *p = c->p;
    int depth = c->depth;
    double product = 1;
    for (; pos < c->end; pos++) {
        if (++c->steps > STEP_CAP) {
            c->gave_up = true;
            break;
        }
        int h = c->order[pos];
        ir_assignment as = { c->values, p->n_hps };
        long card = ir_hp_cardinality(&p->hps[h]);
        if (!ir_holds(p, p->hps[h].condition, &as)) {
            if (c->parent[h]) c->status[h] = INACTIVE, c->stack[c->depth++] = h;
            continue;
        }
        if (card < 0) {
            c->infinite = true;     /* a continuous dimension: no need to count on */
            break;
        }
        if (!c->parent[h]) {
            product *= (double)card;
            continue;
        }
        /* A parent: split on its values, once per state. */
        bool fresh;
        double *slot = state_slot(c, pos, &fresh);
        if (!slot) {
            c->gave_up = true;
            break;
        }
        if (fresh && ++c->splits > SPLIT_CAP) c->gave_up = true;
        if (fresh && !c->gave_up) {
            double total = 0;
            int at = c->depth;
            c->stack[c->depth++] = h;
            for (long v = 0; v < card && !c->infinite && !c->gave_up; v++) {
                if (++c->steps > STEP_CAP) c->gave_up = true;     /* a parent of 2^63 values */
                c->status[h] = (int)v;
                c->values[h] = ir_hp_value_at(&p->hps[h], v);
                total += count(c, pos + 1);
            }
            c->status[h] = UNSET;
            c->values[h] = value_none();
            c->depth = at;
            /* The table may have grown while counting: look the slot up again. */
            if ((slot = state_slot(c, pos, &fresh))) *slot = total;
            else c->gave_up = true;
            c->splits--;
        }
        product *= slot ? *slot : 0;
        break;
    }
    /* Undo what this call assigned; the caller goes on from its own state. */
    while (c->depth > depth) {
        int q = c->stack[--c->depth];
        c->status[q] = UNSET;
        c->values[q] = value_none();
    }
    return product;
}

double space_size(const ir_program *p)
{
    size_t n = (size_t)p->n_hps + 1;
    counter c = { .p = p };
    /* reads[first[h] .. first[h + 1]): the hps h's condition reads. */
    int *first = malloc((n + 1) * sizeof *first), *reads = NULL, n_reads = 0;
    char *seen = calloc(n, 1);
    c.order = malloc(n * sizeof *c.order);
    c.parent = calloc(n, 1);
    c.last_read = malloc(n * sizeof *c.last_read);
    c.status = malloc(n * sizeof *c.status);
    c.values = calloc(n, sizeof *c.values);
    c.stack = malloc(n * sizeof *c.stack);
    double size = -2;
    if (!first || !seen || !c.order || !c.parent || !c.last_read || !c.status || !c.values || !c.stack) goto out;
    for (int h = 0, cap = 0; h < p->n_hps; h++) {
        first[h] = n_reads;
        if (n_reads + p->n_hps > cap) {
            cap = n_reads + p->n_hps + cap;
            int *grown = realloc(reads, (size_t)cap * sizeof *grown);
            if (!grown) goto out;
            reads = grown;
        }
        int before = n_reads;
        reads_of(p->hps[h].condition, seen, reads, &n_reads);
        for (int k = before; k < n_reads; k++) seen[reads[k]] = 0, c.parent[reads[k]] = 1;
        c.status[h] = UNSET;
        c.last_read[h] = -1;
    }
    first[p->n_hps] = n_reads;
    dependency_order(p, first, reads, c.order);
    for (int pos = 0; pos < p->n_hps; pos++)
        for (int k = first[c.order[pos]]; k < first[c.order[pos] + 1]; k++) c.last_read[reads[k]] = pos;
    /* Segments no condition reads across are independent: their counts multiply
     * (and the walk never nests across them). */
    size = 1;
    for (int lo = 0, reach; lo < p->n_hps && !c.infinite && !c.gave_up;) {
        c.end = lo + 1;
        for (reach = c.last_read[c.order[lo]]; c.end < p->n_hps && reach >= c.end; c.end++)
            if (c.last_read[c.order[c.end]] > reach) reach = c.last_read[c.order[c.end]];
        size *= count(&c, lo);
        lo = c.end;
    }
    if (c.infinite) size = -1;
    else if (c.gave_up) size = -2;
out:
    free(first), free(reads), free(seen), free(c.order), free(c.parent), free(c.last_read), free(c.status);
    free(c.values), free(c.stack);
    memo_free(&c.seen);
    return size;
}

static void print_value(hpt_value v, FILE *out)
{
    char buf[128];
    value_format(buf, sizeof buf, v);
    fputs(buf, out);
}

/* Conditions print as people write them: bare names, and parentheses only
 * where precedence needs them (the IR's text form has them everywhere). */
static int precedence(ir_xop op)
{
    switch (op) {
    case X_OR: return 1;
    case X_AND: return 2;
    case X_NOT: return 3;
    case X_EQ: case X_NE: case X_LT: case X_LE: case X_GT: case X_GE: return 4;
    case X_ADD: case X_SUB: return 5;
    case X_MUL: case X_DIV: case X_FLOORDIV: case X_MOD: return 6;
    case X_NEG: return 7;
    case X_POW: return 8;
    default: return 9;
    }
}

static void print_condition(const ir_program *p, const ir_expr *e, int outer, FILE *out)
{
    static const char *const ops[] = {
        [X_ADD] = "+", [X_SUB] = "-", [X_MUL] = "*", [X_DIV] = "/", [X_FLOORDIV] = "//", [X_MOD] = "%",
        [X_POW] = "**", [X_EQ] = "==", [X_NE] = "!=", [X_LT] = "<", [X_LE] = "<=", [X_GT] = ">",
        [X_GE] = ">=", [X_AND] = "and", [X_OR] = "or",
    };
    int prec = precedence(e->op);
    switch (e->op) {
    case X_HP: fputs(p->hps[e->hp].name, out); return;
    case X_CONST: print_value(e->value, out); return;
    case X_LIST: case X_OBJECT: ir_print_expr(p, e, out); return;
    default: break;
    }
    if (prec < outer) fputc('(', out);
    if (e->op == X_NOT || e->op == X_NEG) {
        fputs(e->op == X_NOT ? "not " : "-", out);
        /* "not (block == \"cnn\")" reads better than Python's equivalent "not block == \"cnn\"". */
        print_condition(p, e->a, e->op == X_NOT ? 5 : prec, out);
    } else {
        /* Left-associative: an equal-precedence right operand needs parentheses
         * (a - (b - c)), and comparisons do not chain as they would in Python. */
        int right = prec + (e->op != X_POW);
        print_condition(p, e->a, prec == 4 ? 5 : prec + (e->op == X_POW), out);
        fprintf(out, " %s ", ops[e->op]);
        print_condition(p, e->b, prec == 4 ? 5 : right, out);
    }
    if (prec < outer) fputc(')', out);
}

void space_print_condition(const ir_program *p, const ir_expr *cond, FILE *out)
{
    print_condition(p, cond, 0, out);
}

static const char *const sampling_names[] = { "linear", "log", "reverse_log" };

void space_print_hp(const ir_program *p, int k, FILE *out)
{
    const ir_hp *h = &p->hps[k];
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
}

void space_print(const ir_program *p, FILE *out)
{
    fprintf(out, "%d hyperparameter%s\n", p->n_hps, p->n_hps == 1 ? "" : "s");
    for (int k = 0; k < p->n_hps; k++) {
        fprintf(out, "  %-20s %-8s ", p->hps[k].name, st_hps[p->hps[k].kind].name);
        space_print_hp(p, k, out);
        if (p->hps[k].condition) {
            fputs("; only when ", out);
            space_print_condition(p, p->hps[k].condition, out);
        }
        fputc('\n', out);
    }
    double size = space_size(p);
    if (size == -2) fputs("size: too many conditional combinations to count exactly\n", out);
    else if (size < 0) fputs("size: infinite (continuous hyperparameters)\n", out);
    else if (size >= 1e18) fputs("size: more than 1e18 configurations\n", out);
    else fprintf(out, "size: %.0f configuration%s\n", size, size == 1 ? "" : "s");
}
