/* objectives.c: a tuner's objective as a set (objectives.h). */
#include "stdlib/objectives.h"
#include <stdio.h>
#include <string.h>
#include "stdlib/catalogue.h"

objective_kind objective_kind_of(const char *name)
{
    static const struct { const char *name; objective_kind kind; } costs[] = {
        { "params", OBJ_PARAMS }, { "flops", OBJ_FLOPS }, { "memory_mb", OBJ_MEMORY_MB }, { "latency_ms", OBJ_LATENCY_MS },
    };
    for (size_t k = 0; k < sizeof costs / sizeof costs[0]; k++)
        if (!strcmp(name, costs[k].name)) return costs[k].kind;
    return OBJ_METRIC;
}

/* One objective: a name or Objective(name, direction). */
static int add_one(hpt_value v, objective_set *s, char *why, size_t n)
{
    const char *name = NULL;
    int maximize = -1;
    if (v.type == V_STRING) {
        name = v.u.s;
    } else if (v.type == V_OBJECT && v.u.object.entry->id == ST_Objective) {
        if (v.u.object.args[Objective_name].type != V_STRING || v.u.object.args[Objective_direction].type != V_STRING) {
            snprintf(why, n, "Objective(name, direction) takes two strings");
            return -1;
        }
        name = v.u.object.args[Objective_name].u.s;
        maximize = !strcmp(v.u.object.args[Objective_direction].u.s, "max");
    } else if (v.type == V_OBJECT && v.u.object.entry->id == ST_Pareto) {
        snprintf(why, n, "a Pareto(...) cannot hold another Pareto(...)");
        return -1;
    } else {
        snprintf(why, n, "an objective is a metric's name or Objective(name, direction)");
        return -1;
    }
    for (int k = 0; k < s->n; k++)
        if (!strcmp(s->name[k], name)) {
            snprintf(why, n, "the objective '%s' is given twice", name);
            return -1;
        }
    if (s->n == OBJECTIVES_MAX) {
        snprintf(why, n, "a Pareto front takes at most %d objectives", OBJECTIVES_MAX);
        return -1;
    }
    int k = s->n++;
    snprintf(s->name[k], sizeof s->name[k], "%s", name);
    s->maximize[k] = maximize;
    s->kind[k] = objective_kind_of(name);
    if (s->kind[k] == OBJ_METRIC && s->primary < 0) s->primary = k;
    return 0;
}

int objectives_from_value(hpt_value v, objective_set *out, char *why, size_t n)
{
    memset(out, 0, sizeof *out);
    out->primary = -1;
    if (v.type == V_OBJECT && v.u.object.entry->id == ST_Pareto) {
        out->pareto = 1;
        for (int k = 0; k < Pareto_nargs; k++)
            if (v.u.object.args[k].type != V_NONE && add_one(v.u.object.args[k], out, why, n)) return -1;
        if (out->n < 2) {
            snprintf(why, n, "a Pareto front needs at least two objectives, but Pareto(...) has %d", out->n);
            return -1;
        }
        if (out->primary < 0) {
            snprintf(why, n, "a Pareto front needs a metric among its objectives: costs alone need no training");
            return -1;
        }
        return 0;
    }
    if (v.type == V_LIST) {
        /* Keras Tuner's list: one score, the sum (MultiObjective). */
        out->sum = 1;
        for (int k = 0; k < v.u.list.n; k++) {
            if (add_one(v.u.list.items[k], out, why, n)) return -1;
            if (out->kind[out->n - 1] != OBJ_METRIC) {
                snprintf(why, n, "'%s' is a cost: a list of objectives sums metrics, as Keras Tuner's; "
                                 "Pareto(...) weighs a cost against them", out->name[out->n - 1]);
                return -1;
            }
        }
        if (out->n == 0) {
            snprintf(why, n, "the list of objectives is empty");
            return -1;
        }
        char name[64];
        objective_set worst = *out;
        for (int k = 0; k < worst.n; k++) worst.maximize[k] = 1;
        if (objectives_sum_name(&worst, name, sizeof name)) {
            snprintf(why, n, "the list of objectives is too long: its names may take 40 characters in all");
            return -1;
        }
        return 0;
    }
    if (add_one(v, out, why, n)) return -1;
    if (out->primary < 0) {
        snprintf(why, n, "'%s' is a cost, an objective only beside a metric in Pareto(...)", out->name[0]);
        return -1;
    }
    return 0;
}

int objectives_sum_name(const objective_set *s, char *buf, size_t n)
{
    size_t len = (size_t)snprintf(buf, n, "multi_objective(");
    for (int k = 0; k < s->n && len < n; k++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s%s", k ? "," : "", s->maximize[k] > 0 ? "-" : "", s->name[k]);
    if (len < n) len += (size_t)snprintf(buf + len, n - len, ")");
    return len < n ? 0 : -1;
}

void objectives_format(const objective_set *s, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    if (s->sum) len = (size_t)snprintf(buf, n, "sum of ");
    for (int k = 0; k < s->n && len < n; k++)
        len += (size_t)snprintf(buf + len, n - len, "%s%s %s", k ? ", " : "", s->name[k], s->maximize[k] > 0 ? "max" : "min");
}

int objectives_parse(const char *text, objective_set *out)
{
    memset(out, 0, sizeof *out);
    out->primary = -1;
    const char *p = text;
    if (!strncmp(p, "sum of ", 7)) out->sum = 1, p += 7;
    while (p && *p && out->n < OBJECTIVES_MAX) {
        char name[64], dir[8];
        int used = 0;
        if (sscanf(p, " %63[^ ,] %7[a-z]%n", name, dir, &used) != 2) return -1;
        int k = out->n++;
        snprintf(out->name[k], sizeof out->name[k], "%s", name);
        out->maximize[k] = !strcmp(dir, "max");
        out->kind[k] = objective_kind_of(name);
        if (out->kind[k] == OBJ_METRIC && out->primary < 0) out->primary = k;
        p += used;
        while (*p == ',' || *p == ' ') p++;
    }
    out->pareto = out->n > 1 && !out->sum;
    return out->n ? 0 : -1;
}
