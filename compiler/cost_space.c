/* cost_space.c: costs over the whole space (cost.h's second half): the
 * ranges `hptc space` prints, per region and overall, and the share of the
 * configurations that meet the tuner's limits.
 *
 * Only the hyperparameters that can change a cost are varied ("relevant"):
 * those read by a layer's guard, by a layer argument that is not
 * training-only (A_NOT_MODEL: dropout rates, initialisers), by
 * search(batch_size) or compile(optimizer), and the parents their
 * conditions read.  The others stay at their defaults and count as many
 * configurations as they have values (a continuous one counts once), so the
 * feasible share is the share of the space's configurations.  A region is
 * one combination of the relevant hyperparameters a guard reads.
 *
 * The walk assigns hyperparameters in definition order (a condition reads
 * only earlier ones), one branch per value for a relevant active one.  When
 * the configurations to cost would take more than PLAN_BUDGET layer plans,
 * it draws DRAWS random configurations instead (each relevant value uniform
 * over its grid or range, RandomSearch's way) plus the two corners, every
 * relevant value at its smallest and at its largest (costs grow with sizes,
 * so the corners usually hold the extremes). */
#include "compiler/cost.h"
#include "compiler/space.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { PLAN_BUDGET = 2000000, GRID_CAP = 4096, REGION_CAP = 24, DRAW_CAP = 2000, DRAW_MIN = 64 };

typedef struct region {
    char *key;              /* "num_layers = 2, dropout = True" */
    cost_range range;
} region;

typedef struct survey {
    const ir_program *p;
    cost_limits limits;
    char *relevant, *structural;
    hpt_value *values;
    hpt_value **grid;       /* per relevant hp: the values walked (NULL until needed) */
    int *n_grid;
    bool ends;              /* some dimension walked at its ends only */
    double leaves, leaf_cap;
    bool counting;          /* a dry run: count leaves only, up to leaf_cap */
    cost_survey out;
    region regions[REGION_CAP];
    int n_regions;
    bool too_many_regions;
    char why[300];
} survey;

static void mark_reads(const ir_program *p, const ir_expr *e, char *set, int depth)
{
    if (!e || depth > p->n_hps + 1) return;
    if (e->op == X_HP) {
        if (set[e->hp]) return;
        set[e->hp] = 1;
        mark_reads(p, p->hps[e->hp].condition, set, depth + 1);
        return;
    }
    mark_reads(p, e->a, set, depth);
    mark_reads(p, e->b, set, depth);
    for (int k = 0; k < e->n_items; k++) mark_reads(p, e->items[k], set, depth);
}

static void find_relevant(survey *s)
{
    const ir_program *p = s->p;
    for (int k = 0; k < p->n_layers; k++) {
        const ir_call *c = &p->layers[k];
        mark_reads(p, c->guard, s->structural, 0);
        mark_reads(p, c->guard, s->relevant, 0);
        for (int j = 0; c->args && j < c->entry->n_args; j++)
            if (!(c->entry->args[j].flags & A_NOT_MODEL)) mark_reads(p, c->args[j], s->relevant, 0);
    }
    if (p->search.entry && p->search.args) mark_reads(p, p->search.args[search_batch_size], s->relevant, 0);
    /* The optimizer's state per parameter depends on its kind and momentum only, not its learning rate. */
    const ir_expr *opt = p->compile.entry && p->compile.args ? p->compile.args[compile_optimizer] : NULL;
    if (opt && opt->op == X_OBJECT && opt->entry) {
        for (int j = 0; j < opt->n_items; j++)
            if (!strcmp(opt->entry->args[j].name, "momentum")) mark_reads(p, opt->items[j], s->relevant, 0);
    } else {
        mark_reads(p, opt, s->relevant, 0);
    }
}

/* The values walked for relevant hp h: its grid, or its two ends. */
static int grid_of(survey *s, int h)
{
    if (s->grid[h]) return s->n_grid[h];
    const ir_hp *hp = &s->p->hps[h];
    long card = ir_hp_cardinality(hp);
    int n = card > 0 && card <= GRID_CAP ? (int)card : 2;
    hpt_value *v = malloc((size_t)n * sizeof *v);
    if (!v) return 0;
    if (n == (int)card) ir_hp_values(hp, v, n);
    else ir_hp_ends(hp, v), s->ends = true;
    s->grid[h] = v, s->n_grid[h] = n;
    return n;
}

static void range_add(cost_range *r, const model_cost *c, double weight, bool feasible)
{
    if (r->n++ == 0) r->lo = r->hi = *c;
    r->lo.params = fmin(r->lo.params, c->params), r->hi.params = fmax(r->hi.params, c->params);
    r->lo.flops = fmin(r->lo.flops, c->flops), r->hi.flops = fmax(r->hi.flops, c->flops);
    r->lo.memory_bytes = fmin(r->lo.memory_bytes, c->memory_bytes);
    r->hi.memory_bytes = fmax(r->hi.memory_bytes, c->memory_bytes);
    r->weight += weight;
    if (feasible) r->feasible += weight;
}

/* The region of the current assignment: its guard hyperparameters' values. */
static region *region_of(survey *s)
{
    if (s->too_many_regions) return NULL;
    char key[512];
    size_t len = 0;
    key[0] = 0;
    for (int h = 0; h < s->p->n_hps && len + 1 < sizeof key; h++) {
        if (!s->structural[h] || s->values[h].type == V_NONE) continue;
        char v[64];
        value_format(v, sizeof v, s->values[h]);
        len += (size_t)snprintf(key + len, sizeof key - len, "%s%s = %s", len ? ", " : "", s->p->hps[h].name, v);
    }
    for (int k = 0; k < s->n_regions; k++)
        if (!strcmp(s->regions[k].key, key)) return &s->regions[k];
    if (s->n_regions == REGION_CAP) {
        s->too_many_regions = true;
        return NULL;
    }
    region *r = &s->regions[s->n_regions];
    if (!(r->key = strdup(key))) return NULL;
    r->range = (cost_range){ 0 };
    s->n_regions++;
    return r;
}

/* One configuration: its cost into the overall range and its region's;
 * weight 0 (a corner) widens the ranges without entering the share. */
static void leaf(survey *s, double weight)
{
    ir_assignment a = { s->values, s->p->n_hps };
    model_cost c;
    if (cost_of(s->p, &a, &c, s->why, sizeof s->why)) {
        s->out.failed++;
        return;
    }
    char why[200];
    bool ok = cost_within(&s->limits, &c, why, sizeof why);
    range_add(&s->out.all, &c, weight, ok);
    region *g = region_of(s);
    if (g) range_add(&g->range, &c, weight, ok);
}

/* Every configuration from hp h on (values[0 .. h) assigned), depth first. */
static void walk(survey *s, int h, double weight)
{
    const ir_program *p = s->p;
    if (s->counting && s->leaves > s->leaf_cap) return;
    for (; h < p->n_hps; h++) {
        const ir_hp *hp = &p->hps[h];
        ir_assignment a = { s->values, p->n_hps };
        if (hp->condition && !ir_holds(p, hp->condition, &a)) {
            s->values[h] = value_none();
            continue;
        }
        if (s->relevant[h]) break;
        s->values[h] = hp->default_value;
        double n = ir_hp_count(hp);
        if (n > 0) weight *= n;
    }
    if (h == p->n_hps) {
        s->leaves++;
        if (!s->counting) leaf(s, weight);
        return;
    }
    int n = grid_of(s, h);
    for (int k = 0; k < n; k++) {
        s->values[h] = s->grid[h][k];
        walk(s, h + 1, weight);
    }
    s->values[h] = value_none();
}

/* splitmix64: the draws are the same on every run. */
static double next_unit(uint64_t *state)
{
    uint64_t x = (*state += 0x9e3779b97f4a7c15ull);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return (double)((x ^ (x >> 31)) >> 11) * 0x1p-53;
}

/* A relevant hp's value: uniform over its values (corner < 0: the smallest,
 * > 0: the largest). */
static hpt_value draw(const ir_hp *hp, uint64_t *state, int corner)
{
    hpt_value ends[2];
    if (corner) {
        ir_hp_ends(hp, ends);
        return ends[corner > 0];
    }
    double u = next_unit(state);
    if (ir_hp_cardinality(hp) > 0) return ir_hp_value_at_fraction(hp, u);
    ir_hp_ends(hp, ends);   /* a continuous Float */
    double lo = value_as_double(ends[0]), hi = value_as_double(ends[1]);
    return value_float(hp->sampling == SAMPLING_LOG && lo > 0 ? lo * pow(hi / lo, u) : lo + u * (hi - lo));
}

static void draw_configuration(survey *s, uint64_t *state, int corner)
{
    const ir_program *p = s->p;
    ir_assignment a = { s->values, p->n_hps };
    for (int h = 0; h < p->n_hps; h++) {
        const ir_hp *hp = &p->hps[h];
        s->values[h] = value_none();
        if (hp->condition && !ir_holds(p, hp->condition, &a)) continue;
        s->values[h] = s->relevant[h] ? draw(hp, state, corner) : hp->default_value;
    }
}

static void survey_run(survey *s)
{
    const ir_program *p = s->p;
    size_t nh = (size_t)p->n_hps + 1;
    s->limits = cost_limits_of(p);
    s->relevant = calloc(nh, 1), s->structural = calloc(nh, 1);
    s->values = calloc(nh, sizeof *s->values);
    s->grid = calloc(nh, sizeof *s->grid), s->n_grid = calloc(nh, sizeof *s->n_grid);
    if (!s->relevant || !s->structural || !s->values || !s->grid || !s->n_grid) {
        s->out.failed = -1;
        return;
    }
    find_relevant(s);
    double layers = p->n_layers > 0 ? p->n_layers : 1;
    s->leaf_cap = floor(PLAN_BUDGET / layers);
    s->counting = true;
    walk(s, 0, 1);
    s->counting = false;
    if (s->leaves <= s->leaf_cap) {
        s->out.exact = true;
        s->out.ends = s->ends;
        s->out.combinations = s->leaves;
        walk(s, 0, 1);
        return;
    }
    long draws = (long)fmin(DRAW_CAP, fmax(DRAW_MIN, s->leaf_cap));
    uint64_t state = 0x5eed;
    for (long k = 0; k < draws; k++) {
        draw_configuration(s, &state, 0);
        leaf(s, 1);
    }
    s->out.draws = draws;
    for (int corner = -1; corner <= 1; corner += 2) {
        draw_configuration(s, &state, corner);
        leaf(s, 0);
    }
}

static void survey_free(survey *s)
{
    for (int h = 0; s->grid && h < s->p->n_hps; h++) free(s->grid[h]);
    for (int k = 0; k < s->n_regions; k++) free(s->regions[k].key);
    free(s->relevant), free(s->structural), free(s->values), free(s->grid), free(s->n_grid);
}

int cost_survey_space(const ir_program *p, cost_survey *out)
{
    survey s = { .p = p };
    survey_run(&s);
    *out = s.out;
    survey_free(&s);
    return out->failed < 0 ? -1 : 0;
}

/* ---- printing ------------------------------------------------------------------ */

/* 7840010250 as "7,840,010,250". */
static const char *grouped(double x, char *buf, size_t n)
{
    char digits[64];
    int len = snprintf(digits, sizeof digits, "%.0f", x), o = 0;
    for (int k = 0; k < len && o + 2 < (int)n; k++) {
        if (k && (len - k) % 3 == 0) buf[o++] = ',';
        buf[o++] = digits[k];
    }
    buf[o] = 0;
    return buf;
}

/* 813056 as "813.1K", 21294144 as "21.29M". */
static const char *metric(double x, char *buf, size_t n)
{
    static const char *const prefix[] = { "", "K", "M", "G", "T", "P" };
    int u = 0;
    while (x >= 1000 && u < 5) x /= 1000, u++;
    snprintf(buf, n, u == 0 ? "%.0f%s" : x < 100 ? "%.2f%s" : "%.1f%s", x, prefix[u]);
    return buf;
}

static void print_range(const char *label, const cost_range *r, int width, FILE *out)
{
    char a[40], b[40], c[40], d[40];
    fprintf(out, "  %-*s params %s .. %s", width, label, grouped(r->lo.params, a, sizeof a), grouped(r->hi.params, b, sizeof b));
    fprintf(out, ", FLOPs %s .. %s", metric(r->lo.flops, c, sizeof c), metric(r->hi.flops, d, sizeof d));
    fprintf(out, ", memory %.2f .. %.2f MB\n", r->lo.memory_bytes / 1e6, r->hi.memory_bytes / 1e6);
}

static void print_limits(const cost_limits *l, FILE *out)
{
    char a[40];
    const char *sep = "";
    if (l->max_params > 0) fprintf(out, "max_model_size = %s", grouped(l->max_params, a, sizeof a)), sep = ", ";
    if (l->max_flops > 0) fprintf(out, "%smax_flops = %s", sep, metric(l->max_flops, a, sizeof a)), sep = ", ";
    if (l->max_memory_bytes > 0) fprintf(out, "%smax_memory = %g MB", sep, l->max_memory_bytes / 1e6);
}

void cost_print_space(const ir_program *p, FILE *out)
{
    if (p->n_layers == 0) return;
    survey s = { .p = p };
    survey_run(&s);
    const cost_survey *v = &s.out;
    if (v->failed < 0) {
        fprintf(out, "costs: out of memory\n");
        survey_free(&s);
        return;
    }
    char a[40], b[40];
    fprintf(out, "costs: trainable params, forward FLOPs per sample, memory of a training step at the batch size "
                 "(MB = 10^6 bytes)\n");
    if (v->exact)
        fprintf(out, "  exact over all %s combinations of the hyperparameters that change a cost%s\n",
                grouped(v->combinations, a, sizeof a), v->ends ? " (ranges of more than 4096 values at their ends)" : "");
    else
        fprintf(out, "  estimated: %ld random configurations and the two corners (every size at its smallest, at its largest); "
                     "the space is too large to enumerate\n", v->draws);
    int width = 3;
    bool listed = s.n_regions > 1 && !s.too_many_regions;
    for (int k = 0; listed && k < s.n_regions; k++)
        if ((int)strlen(s.regions[k].key) > width) width = (int)strlen(s.regions[k].key);
    if (width > 48) width = 48;
    if (listed)
        for (int k = 0; k < s.n_regions; k++) print_range(s.regions[k].key, &s.regions[k].range, width, out);
    else if (s.too_many_regions)
        fprintf(out, "  more than %d regions (combinations of the hyperparameters that decide which layers exist): "
                     "not listed\n", REGION_CAP);
    print_range("all", &v->all, width, out);
    if (v->failed) fprintf(out, "  %ld configurations could not be costed: %s\n", v->failed, s.why);
    if (cost_limited(&s.limits)) {
        fprintf(out, "feasible under ");
        print_limits(&s.limits, out);
        double share = v->all.weight > 0 ? v->all.feasible / v->all.weight : 0;
        if (v->exact)
            fprintf(out, share > 0 && share < 1e-3 ? ": %s of %s configurations (%.2g%%)%s\n" : ": %s of %s configurations (%.1f%%)%s\n",
                    grouped(v->all.feasible, a, sizeof a), grouped(v->all.weight, b, sizeof b), 100 * share,
                    space_size(p) < 0 ? ", a continuous hyperparameter that changes no cost counted once" : "");
        else
            fprintf(out, ": about %.1f%% (%s of %ld random configurations)\n", 100 * share,
                    grouped(v->all.feasible, a, sizeof a), v->draws);
    }
    survey_free(&s);
}

/* ---- the checker's part ---------------------------------------------------- */

int cost_check_limits(const ir_program *p, diag_ctx *d, const ir_span at[3])
{
    cost_limits l = cost_limits_of(p);
    if (!cost_limited(&l) || p->n_layers == 0) return 0;
    cost_survey v;
    if (cost_survey_space(p, &v) || v.all.n == 0 || v.all.feasible > 0) return 0;
    static const char *const names[3] = { "max_model_size", "max_flops", "max_memory" };
    static const char *const what[3] = { "trainable parameters", "FLOPs per sample", "MB to train" };
    double limit[3] = { l.max_params, l.max_flops, l.max_memory_bytes / 1e6 };
    double least[3] = { v.all.lo.params, v.all.lo.flops, v.all.lo.memory_bytes / 1e6 };
    bool certain = v.exact && !v.ends;
    int before = d->errors, first = -1, said = 0;
    for (int k = 0; k < 3; k++) {
        if (limit[k] <= 0) continue;
        if (first < 0) first = k;
        if (least[k] <= limit[k]) continue;
        char a[40], b[40];
        if (k == 2) snprintf(a, sizeof a, "%g", limit[k]), snprintf(b, sizeof b, "%.2f", least[k]);
        else grouped(limit[k], a, sizeof a), grouped(least[k], b, sizeof b);
        if (certain)
            diag_error(d, at[k].start, at[k].end, "%s = %s is below every configuration: the smallest has %s %s",
                       names[k], a, b, what[k]);
        else if (v.exact)
            diag_warning(d, at[k].start, at[k].end,
                         "%s = %s is below every configuration tried (the largest ranges at their ends): the smallest "
                         "has %s %s", names[k], a, b, what[k]);
        else
            diag_warning(d, at[k].start, at[k].end,
                         "%s = %s is below every configuration tried: the smallest of %ld drawn (and the smallest "
                         "corner) has %s %s", names[k], a, v.draws, b, what[k]);
        diag_hint(d, "raise %s, or make the model smaller; `hptc space` prints the ranges of the space", names[k]);
        said++;
    }
    if (!said && certain && first >= 0) {
        diag_error(d, at[first].start, at[first].end,
                   "no configuration meets the tuner's limits together: each holds for some, never all at once");
        diag_hint(d, "raise one of max_model_size, max_flops, max_memory; `hptc space` prints the ranges of the space");
    }
    return d->errors - before;
}
