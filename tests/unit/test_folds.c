/* test_folds.c: stratified k-fold assignment.
 *
 * Without shuffle the folds must equal scikit-learn 1.2's StratifiedKFold
 * exactly (the expected arrays below were printed by it for this label
 * vector, with classes appearing out of order and a class smaller than k).
 * With shuffle: every class is still spread evenly, the same seed gives the
 * same folds, another seed other folds; folds_rows partitions the rows. */
#include <stdlib.h>
#include <string.h>

#include "runtime/data/folds.h"
#include "tests/unit/check.h"

enum { N = 25 };
static const int32_t labels[N] = { 3, 1, 1, 0, 3, 3, 1, 0, 2, 2, 1, 3, 0, 0, 1, 3, 2, 1, 1, 0, 3, 2, 1, 1, 0 };
static const int sklearn_k2[N] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };
static const int sklearn_k3[N] = { 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 1, 1, 2, 2, 2, 2, 2, 2, 2 };
static const int sklearn_k5[N] = { 0, 0, 1, 0, 0, 1, 1, 0, 1, 2, 2, 2, 1, 2, 2, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4 };

/* Per class, fold sizes differ by at most one. */
static int stratified(const int *fold_of, int k)
{
    for (int c = 0; c < 4; c++) {
        int count[8] = { 0 }, lo = N, hi = 0;
        for (int i = 0; i < N; i++)
            if (labels[i] == c) count[fold_of[i]]++;
        for (int f = 0; f < k; f++) lo = count[f] < lo ? count[f] : lo, hi = count[f] > hi ? count[f] : hi;
        if (hi - lo > 1) return 0;
    }
    return 1;
}

int main(void)
{
    int got[N], again[N], other[N];
    hpt_error e;
    const int *want[] = { NULL, NULL, sklearn_k2, sklearn_k3, NULL, sklearn_k5 };
    for (int k = 2; k <= 5; k++) {
        if (!want[k]) continue;
        CHECK(folds_stratified(labels, N, k, 0, 0, got, &e) == 0, "k=%d folds without shuffle", k);
        CHECK(!memcmp(got, want[k], sizeof got), "k=%d folds equal scikit-learn's StratifiedKFold", k);
        CHECK(stratified(got, k), "k=%d every class spread evenly", k);
    }

    CHECK(folds_stratified(labels, N, 3, 1, 42, got, &e) == 0, "shuffled folds");
    CHECK(stratified(got, 3), "shuffled folds stay stratified");
    folds_stratified(labels, N, 3, 1, 42, again, &e);
    CHECK(!memcmp(got, again, sizeof got), "same seed, same folds");
    folds_stratified(labels, N, 3, 1, 43, other, &e);
    CHECK(memcmp(got, other, sizeof got) != 0, "another seed, other folds");
    CHECK(memcmp(got, sklearn_k3, sizeof got) != 0, "shuffle changes the assignment");

    uint32_t rows[N];
    int n_train, n_val, seen[N] = { 0 }, ok = 1;
    folds_rows(sklearn_k3, N, 1, rows, &n_train, &n_val);
    CHECK(n_train + n_val == N && n_val == 8, "fold 1 of 3 validates on 8 rows (got %d)", n_val);
    for (int i = 0; i < N; i++) seen[rows[i]]++;
    for (int i = 0; i < N; i++) ok &= seen[i] == 1;
    for (int i = 0; i < n_train; i++) ok &= sklearn_k3[rows[i]] != 1 && (i == 0 || rows[i] > rows[i - 1]);
    for (int i = n_train; i < N; i++) ok &= sklearn_k3[rows[i]] == 1;
    CHECK(ok, "folds_rows: training rows in order, then the fold's, each row once");

    int rc = folds_stratified(labels, N, 10, 0, 0, got, &e);
    CHECK(rc == -1 && strstr(e.message, "no class has more than 9"), "more folds than any class has is an error: %s",
          e.message);
    CHECK(folds_stratified(labels, N, 1, 0, 0, got, &e) == -1, "one fold is an error");
    return check_exit();
}
