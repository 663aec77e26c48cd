/* front.c: a project's Pareto front (front.h). */
#include "cli/front.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "runtime/tune/pareto.h"

/* Minimised form of trial i's vector into x. */
static void minimised(const front *f, int i, double *x)
{
    for (int k = 0; k < f->set.n; k++) {
        double v = f->values[(size_t)i * f->set.n + k];
        x[k] = f->set.maximize[k] ? -v : v;
    }
}

static int usable(const front *f, const store_trial *t, int i)
{
    if (strcmp(t[i].status, "completed")) return 0;
    for (int k = 0; k < f->set.n; k++)
        if (isnan(f->values[(size_t)i * f->set.n + k])) return 0;
    return 1;
}

int front_load(store *s, const store_trial *t, int n, front *f)
{
    memset(f, 0, sizeof *f);
    char *text = store_meta_get(s, "objectives");
    int parsed = text ? objectives_parse(text, &f->set) : -1;
    free(text);
    if (parsed || !f->set.pareto) {
        f->set.pareto = 0;
        return 0;
    }
    int m = f->set.n, n_ids = n ? t[n - 1].id + 1 : 0;
    hpt_error e;
    double *by_id = malloc(sizeof *by_id * ((size_t)n_ids * m + 1));
    f->values = malloc(sizeof *f->values * ((size_t)n * m + 1));
    f->on_front = calloc((size_t)n + 1, 1);
    f->hypervolume_after = malloc(sizeof *f->hypervolume_after * ((size_t)n + 1));
    double *pts = malloc(sizeof *pts * ((size_t)n * m + 1));
    int *idx = malloc(sizeof *idx * ((size_t)n + 1)), *rank = malloc(sizeof *rank * ((size_t)n + 1));
    int rc = -1;
    if (!by_id || !f->values || !f->on_front || !f->hypervolume_after || !pts || !idx || !rank) {
        fprintf(stderr, "hptc: out of memory\n");
        goto out;
    }
    if (store_objectives_load(s, m, n_ids, by_id, &e)) {
        fprintf(stderr, "hptc: %s\n", e.message);
        goto out;
    }
    for (int i = 0; i < n; i++) memcpy(f->values + (size_t)i * m, by_id + (size_t)t[i].id * m, sizeof *by_id * (size_t)m);
    int u = 0;
    for (int k = 0; k < m; k++) f->reference[k] = NAN;
    for (int i = 0; i < n; i++) {
        if (!usable(f, t, i)) continue;
        minimised(f, i, pts + (size_t)u * m);
        for (int k = 0; k < m; k++) {
            double x = pts[(size_t)u * m + k];
            if (isnan(f->reference[k]) || x > f->reference[k]) f->reference[k] = x;
        }
        idx[u++] = i;
    }
    if (pareto_rank(pts, u, m, rank) < 0) goto out;
    for (int j = 0; j < u; j++)
        if (rank[j] == 0) f->on_front[idx[j]] = 1, f->n_front++;
    /* Hypervolume after each trial, under the final reference. */
    int seen = 0;
    for (int i = 0, j = 0; i < n; i++) {
        if (j < u && idx[j] == i) seen = ++j;
        f->hypervolume_after[i] = seen ? pareto_hypervolume(pts, seen, m, f->reference) : 0;
    }
    f->hypervolume = u ? f->hypervolume_after[n - 1] : 0;
    f->n = n;
    rc = 0;
out:
    free(by_id), free(pts), free(idx), free(rank);
    if (rc) front_free(f);
    return rc;
}

void front_free(front *f)
{
    free(f->values), free(f->on_front), free(f->hypervolume_after);
    f->values = NULL, f->on_front = NULL, f->hypervolume_after = NULL;
}

void front_json(json_writer *w, const front *f, const store_trial *t)
{
    json_key(w, "objectives");
    json_open(w, '[');
    for (int k = 0; k < f->set.n; k++) {
        json_open(w, '{');
        json_key(w, "name"), json_string(w, f->set.name[k]);
        json_key(w, "direction"), json_string(w, f->set.maximize[k] ? "max" : "min");
        json_close(w);
    }
    json_close(w);
    json_key(w, "front");
    json_open_lines(w);
    for (int i = 0; i < f->n; i++) {
        if (!f->on_front[i]) continue;
        json_open(w, '{');
        json_key(w, "trial"), json_int(w, t[i].id);
        json_key(w, "values");
        json_open(w, '{');
        for (int k = 0; k < f->set.n; k++) json_key(w, f->set.name[k]), json_number(w, f->values[(size_t)i * f->set.n + k]);
        json_close(w);
        json_key(w, "hyperparameters"), json_raw(w, t[i].hps_json);
        json_close(w);
    }
    json_close(w);
    json_key(w, "reference");
    json_open(w, '{');
    for (int k = 0; k < f->set.n; k++)
        json_key(w, f->set.name[k]), json_number(w, f->set.maximize[k] ? -f->reference[k] : f->reference[k]);
    json_close(w);
    json_key(w, "hypervolume"), json_number(w, f->hypervolume);
}

void front_text(FILE *out, const front *f, const store_trial *t)
{
    fprintf(out, "Pareto front of");
    for (int k = 0; k < f->set.n; k++) fprintf(out, "%s %s (%s)", k ? "," : "", f->set.name[k], f->set.maximize[k] ? "max" : "min");
    fprintf(out, ": %d trial%s\n", f->n_front, f->n_front == 1 ? "" : "s");
    for (int i = 0; i < f->n; i++) {
        if (!f->on_front[i]) continue;
        fprintf(out, "  trial %d:", t[i].id);
        for (int k = 0; k < f->set.n; k++) fprintf(out, "%s %s %.6g", k ? "," : "", f->set.name[k], f->values[(size_t)i * f->set.n + k]);
        fprintf(out, "  %s\n", t[i].hps_json);
    }
    fprintf(out, "Hypervolume %.6g (reference: the worst of each objective over the trials:", f->hypervolume);
    for (int k = 0; k < f->set.n; k++)
        fprintf(out, "%s %s %.6g", k ? "," : "", f->set.name[k], f->set.maximize[k] ? -f->reference[k] : f->reference[k]);
    fprintf(out, ")\n");
}
