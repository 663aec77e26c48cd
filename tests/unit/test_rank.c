/* test_rank.c: store_rank_trials, the one ranking of trials that the run's
 * summary, `hptc summary`, `best` and `export` use.
 *
 * Only completed trials with a score are ranked; best first in the
 * objective's direction; ties keep the store's order (by id), so every
 * listing is stable. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/store/store.h"
#include "tests/unit/check.h"

static store_trial row(int id, const char *status, double score)
{
    store_trial t = { .id = id, .score = score };
    snprintf(t.status, sizeof t.status, "%s", status);
    return t;
}

/* The ids in ranked order, "3 0 2", into buf. */
static const char *ids(const store_trial *t, const int *order, int m, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = 0;
    for (int k = 0; k < m && len < n; k++) len += (size_t)snprintf(buf + len, n - len, "%s%d", k ? " " : "", t[order[k]].id);
    return buf;
}

int main(void)
{
    store_trial t[] = {
        row(0, "completed", 0.5), row(1, "failed", NAN), row(2, "completed", 0.7), row(3, "running", NAN),
        row(4, "completed", 0.5), row(5, "completed", NAN), row(6, "completed", 0.9), row(7, "failed", 0.99),
    };
    int n = (int)(sizeof t / sizeof t[0]), m;
    char buf[64];

    int *order = store_rank_trials(t, n, 1, &m);
    CHECK(order && m == 4 && !strcmp(ids(t, order, m, buf, sizeof buf), "6 2 0 4"),
          "maximize: completed trials with a score, highest first, the tie 0/4 by id (got %s)", buf);
    free(order);

    order = store_rank_trials(t, n, 0, &m);
    CHECK(order && m == 4 && !strcmp(ids(t, order, m, buf, sizeof buf), "0 4 2 6"),
          "minimize: lowest first, the tie 0/4 still by id (got %s)", buf);
    free(order);

    order = store_rank_trials(t, 0, 1, &m);
    CHECK(order && m == 0, "no trials: an empty ranking");
    free(order);

    store_trial none[] = { row(0, "failed", NAN), row(1, "running", NAN) };
    order = store_rank_trials(none, 2, 1, &m);
    CHECK(order && m == 0, "no completed trial: an empty ranking (best says none yet)");
    free(order);
    return check_exit();
}
