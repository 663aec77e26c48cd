/* pareto.h: Pareto fronts of minimised objective vectors (issue 15, pareto).
 *
 * Points are n rows of m doubles (row-major), every objective minimised
 * (a maximised one is negated by the caller).  Shared by the oracles that
 * search for a front (MOTPE, NSGA-II) and by the commands that show it. */
#ifndef HPTC_PARETO_H
#define HPTC_PARETO_H

/* Does a dominate b: no worse on every objective, better on one? */
int pareto_dominates(const double *a, const double *b, int m);
/* Non-dominated sorting (Deb et al.): rank[i] = 0 for the front, 1 for the
 * front of the rest, ...  Returns the number of fronts, -1 out of memory. */
int pareto_rank(const double *pts, int n, int m, int *rank);
/* Hypervolume dominated by the points and bounded by ref (points not
 * strictly better than ref on every objective add nothing).  Exact: a
 * sort-and-sweep for m = 2, slicing on the last objective for more
 * (fine for the fronts of a search, not for thousands of points in 4-D).
 * NaN when memory is short. */
double pareto_hypervolume(const double *pts, int n, int m, const double *ref);
/* Greedy hypervolume subset selection (Optuna's _solve_hssp): choose k of
 * the n points, each time the one adding the most hypervolume (ties: the
 * lowest index), writing their indices to chosen.  Returns 0, -1 out of memory. */
int pareto_select_by_hypervolume(const double *pts, int n, int m, const double *ref, int k, int *chosen);
/* NSGA-II's crowding distance of each point within one front (the
 * extremes of each objective infinite). */
void pareto_crowding(const double *pts, int n, int m, double *dist);

#endif
