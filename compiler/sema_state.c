/* sema_state.c: what every part of sema looks up in the pass's state (see
 * sema_state.h): the names, by open addressing over FNV-1a (hyperparameters
 * and constants, so a spec of 100,000 constants lowers in linear time;
 * loop variables are few and searched in their chain), and the small walks
 * over an IR expression the other files share (its hyperparameters, whether
 * it is a constant).  It calls no other sema file. */
#include "compiler/sema_state.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- IR expressions -------------------------------------------------------- */

/* The dotted name of a callee ("hp.Int", "datasets.fashion_mnist"), or NULL. */
const char *sema_path_text(sema *s, const ast *n)
{
    if (!n) return NULL;
    if (n->kind == AST_NAME) return n->text;
    if (n->kind == AST_ATTR) {
        const char *left = sema_path_text(s, n->a);
        return left ? arena_printf(s->a, "%s.%s", left, n->text) : NULL;
    }
    return NULL;
}

/* A constant expression tree (X_CONST, or lists of them) as a value. */
bool sema_const_value(sema *s, const ir_expr *e, hpt_value *out)
{
    if (!e) return false;
    if (e->op == X_CONST) {
        *out = e->value;
        return true;
    }
    if (e->op != X_LIST) return false;
    hpt_value *items = ARENA_ARRAY(s->a, hpt_value, e->n_items ? e->n_items : 1);
    if (!items) return false;
    for (int k = 0; k < e->n_items; k++)
        if (!sema_const_value(s, e->items[k], &items[k])) return false;
    *out = (hpt_value){ .type = V_LIST, .tuple = e->tuple, .u.list = { items, e->n_items } };
    return true;
}

/* Append the distinct hyperparameters e reads to list[0..*n), at most cap. */
void sema_collect(const ir_expr *e, int *list, int *n, int cap)
{
    if (!e) return;
    if (e->op == X_HP) {
        for (int k = 0; k < *n; k++)
            if (list[k] == e->hp) return;
        if (*n < cap) list[(*n)++] = e->hp;
        return;
    }
    sema_collect(e->a, list, n, cap);
    sema_collect(e->b, list, n, cap);
    for (int k = 0; k < e->n_items; k++) sema_collect(e->items[k], list, n, cap);
}

bool sema_depends_on_hp(const ir_expr *e)
{
    if (!e) return false;
    if (e->op == X_HP) return true;
    if (sema_depends_on_hp(e->a) || sema_depends_on_hp(e->b)) return true;
    for (int k = 0; k < e->n_items; k++)
        if (sema_depends_on_hp(e->items[k])) return true;
    return false;
}

/* ---- names ---------------------------------------------------------------- */

/* Is name a loop variable or a constant here? */
bool sema_bound_name(sema *s, const char *name)
{
    for (loopvar *l = s->loops; l; l = l->outer)
        if (!strcmp(l->name, name)) return true;
    return sema_find_constant(s, name) != NULL;
}

static uint32_t name_hash(const char *name)
{
    uint32_t h = 2166136261u;
    for (; *name; name++) h = (h ^ (unsigned char)*name) * 16777619u;
    /* FNV's low bits barely depend on the last characters (units_1, units_2, ...),
     * and the table indexes by them: mix the high bits down. */
    h ^= h >> 16;
    h *= 0x7feb352du;
    return h ^ (h >> 15);
}

/* The name of entry k of the table: a hyperparameter's or a constant's. */
static const char *entry_name(const sema *s, const name_table *t, int k)
{
    return t == &s->hp_names ? s->hps[k].name : s->consts[k].name;
}

static int table_find(const sema *s, const name_table *t, const char *name)
{
    if (!t->cap) return -1;
    uint32_t mask = (uint32_t)t->cap - 1, h = name_hash(name);
    for (uint32_t j = h & mask; t->slots[j]; j = (j + 1) & mask) {
        int k = (int)(uint32_t)t->slots[j] - 1;
        if ((uint32_t)(t->slots[j] >> 32) == h && !strcmp(entry_name(s, t, k), name)) return k;
    }
    return -1;
}

/* Index entry k under name (the entry is about to hold it); false when out of memory. */
bool sema_table_add(sema *s, name_table *t, const char *name, int k)
{
    if ((k + 1) * 2 > t->cap) {
        int cap = t->cap ? t->cap * 2 : 64;
        uint64_t *slots = calloc((size_t)cap, sizeof *slots);
        if (!slots) return false;
        for (int j = 0; j < t->cap; j++) {
            if (!t->slots[j]) continue;
            uint32_t at = (uint32_t)(t->slots[j] >> 32) & (uint32_t)(cap - 1);
            while (slots[at]) at = (at + 1) & (uint32_t)(cap - 1);
            slots[at] = t->slots[j];
        }
        free(t->slots);
        t->slots = slots;
        t->cap = cap;
    }
    uint32_t h = name_hash(name), at = h & (uint32_t)(t->cap - 1);
    while (t->slots[at]) at = (at + 1) & (uint32_t)(t->cap - 1);
    t->slots[at] = (uint64_t)h << 32 | (uint32_t)(k + 1);
    return true;
}

int sema_find_hp(sema *s, const char *name) { return table_find(s, &s->hp_names, name); }

constant *sema_find_constant(sema *s, const char *name)
{
    int k = table_find(s, &s->const_names, name);
    return k < 0 ? NULL : &s->consts[k];
}
