/* pareto.c: non-dominated sorting, hypervolume and crowding (pareto.h). */
#include "runtime/tune/pareto.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int pareto_dominates(const double *a, const double *b, int m)
{
    int better = 0;
    for (int j = 0; j < m; j++) {
        if (a[j] > b[j]) return 0;
        if (a[j] < b[j]) better = 1;
    }
    return better;
}

int pareto_rank(const double *pts, int n, int m, int *rank)
{
    /* O(n^2 m) peeling: fronts of a search are small. */
    for (int i = 0; i < n; i++) rank[i] = -1;
    int left = n, r = 0;
    char *in_front = malloc((size_t)n + 1);
    if (!in_front) return -1;
    while (left > 0) {
        for (int i = 0; i < n; i++) {
            in_front[i] = 0;
            if (rank[i] >= 0) continue;
            int dominated = 0;
            for (int j = 0; j < n && !dominated; j++)
                dominated = j != i && rank[j] < 0 && pareto_dominates(pts + (size_t)j * m, pts + (size_t)i * m, m);
            in_front[i] = !dominated;
        }
        for (int i = 0; i < n; i++)
            if (in_front[i]) rank[i] = r, left--;
        r++;
    }
    free(in_front);
    return r;
}

static int cmp_first(const void *a, const void *b)
{
    const double *x = a, *y = b;
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

/* pts: n rows of m, all strictly inside ref; may be reordered. */
static double hv_rec(double *pts, int n, int m, const double *ref)
{
    if (n == 0) return 0;
    if (m == 1) {
        double best = pts[0];
        for (int i = 1; i < n; i++) best = pts[i] < best ? pts[i] : best;
        return ref[0] - best;
    }
    if (m == 2) {
        /* Sweep along the first objective: each point adds the strip its
         * second objective improves on everything left of it. */
        double *p = malloc(sizeof *p * 2 * (size_t)n);
        if (!p) return NAN;
        memcpy(p, pts, sizeof *p * 2 * (size_t)n);
        qsort(p, (size_t)n, 2 * sizeof *p, cmp_first);
        double hv = 0, y = ref[1];
        for (int i = 0; i < n; i++)
            if (p[2 * i + 1] < y) hv += (ref[0] - p[2 * i]) * (y - p[2 * i + 1]), y = p[2 * i + 1];
        free(p);
        return hv;
    }
    /* Slice on the last objective: between consecutive distinct values the
     * cross-section is the (m-1)-D volume of the points at or below it. */
    double *z = malloc(sizeof *z * ((size_t)n + 1));
    double *sub = malloc(sizeof *sub * (size_t)n * (size_t)(m - 1) + 1);
    if (!z || !sub) return free(z), free(sub), NAN;
    for (int i = 0; i < n; i++) z[i] = pts[(size_t)i * m + m - 1];
    /* Insertion sort: n is small. */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && z[j - 1] > z[j]; j--) {
            double t = z[j];
            z[j] = z[j - 1], z[j - 1] = t;
        }
    z[n] = ref[m - 1];
    double hv = 0;
    for (int s = 0; s < n; s++) {
        if (z[s + 1] <= z[s]) continue;
        int k = 0;
        for (int i = 0; i < n; i++)
            if (pts[(size_t)i * m + m - 1] <= z[s]) memcpy(sub + (size_t)k++ * (m - 1), pts + (size_t)i * m, sizeof *sub * (size_t)(m - 1));
        hv += hv_rec(sub, k, m - 1, ref) * (z[s + 1] - z[s]);
    }
    free(z), free(sub);
    return hv;
}

double pareto_hypervolume(const double *pts, int n, int m, const double *ref)
{
    double *in = malloc(sizeof *in * (size_t)n * (size_t)m + 1);
    if (!in) return NAN;
    int k = 0;
    for (int i = 0; i < n; i++) {
        int inside = 1;
        for (int j = 0; j < m; j++) inside &= pts[(size_t)i * m + j] < ref[j];
        if (inside) memcpy(in + (size_t)k++ * m, pts + (size_t)i * m, sizeof *in * (size_t)m);
    }
    double hv = hv_rec(in, k, m, ref);
    free(in);
    return hv;
}

int pareto_select_by_hypervolume(const double *pts, int n, int m, const double *ref, int k, int *chosen)
{
    double *sel = malloc(sizeof *sel * ((size_t)k + 1) * (size_t)m);
    char *taken = calloc((size_t)n + 1, 1);
    if (!sel || !taken) return free(sel), free(taken), -1;
    double base = 0;
    for (int c = 0; c < k && c < n; c++) {
        int best = -1;
        double best_gain = -INFINITY;
        for (int i = 0; i < n; i++) {
            if (taken[i]) continue;
            memcpy(sel + (size_t)c * m, pts + (size_t)i * m, sizeof *sel * (size_t)m);
            double gain = pareto_hypervolume(sel, c + 1, m, ref) - base;
            if (gain > best_gain) best_gain = gain, best = i;
        }
        taken[best] = 1, chosen[c] = best;
        memcpy(sel + (size_t)c * m, pts + (size_t)best * m, sizeof *sel * (size_t)m);
        base += best_gain;
    }
    free(sel), free(taken);
    return 0;
}

void pareto_crowding(const double *pts, int n, int m, double *dist)
{
    for (int i = 0; i < n; i++) dist[i] = 0;
    if (n <= 2) {
        for (int i = 0; i < n; i++) dist[i] = INFINITY;
        return;
    }
    int *idx = malloc(sizeof *idx * (size_t)n);
    if (!idx) return;
    for (int j = 0; j < m; j++) {
        for (int i = 0; i < n; i++) idx[i] = i;
        /* Stable insertion sort by objective j, ties by index. */
        for (int i = 1; i < n; i++)
            for (int t = i; t > 0 && pts[(size_t)idx[t - 1] * m + j] > pts[(size_t)idx[t] * m + j]; t--) {
                int x = idx[t];
                idx[t] = idx[t - 1], idx[t - 1] = x;
            }
        double lo = pts[(size_t)idx[0] * m + j], hi = pts[(size_t)idx[n - 1] * m + j];
        dist[idx[0]] = dist[idx[n - 1]] = INFINITY;
        if (hi == lo) continue;
        for (int i = 1; i < n - 1; i++)
            dist[idx[i]] += (pts[(size_t)idx[i + 1] * m + j] - pts[(size_t)idx[i - 1] * m + j]) / (hi - lo);
    }
    free(idx);
}
