/* folds.c: stratified k-fold assignment (see folds.h).
 *
 * allocation[f][c], the number of class-c samples in fold f, comes from
 * dealing the class-sorted labels to the folds round-robin: position p of
 * the sorted list goes to fold p % k.  Class c's samples then take the fold
 * list 0 (x allocation[0][c]), 1 (x allocation[1][c]), ... in index order. */
#include "runtime/data/folds.h"
#include "runtime/rng.h"

#include <stdlib.h>
#include <string.h>

int folds_stratified(const int32_t *labels, int n, int k, int shuffle, uint64_t seed, int *fold_of, hpt_error *e)
{
    if (k < 2) return hpt_fail(e, "cross-validation needs at least 2 folds, got %d", k);
    if (n < k) return hpt_fail(e, "cannot split %d samples into %d folds", n, k);
    int32_t max_label = 0;
    for (int i = 0; i < n; i++) {
        if (labels[i] < 0) return hpt_fail(e, "stratified folds need class labels; row %d has %d", i, labels[i]);
        if (labels[i] > max_label) max_label = labels[i];
    }
    size_t n_labels = (size_t)max_label + 1;
    /* code[label]: the class's number in order of first appearance, as numpy's
     * unique(return_index) gives scikit-learn; -1 for labels never seen. */
    int *code = malloc(sizeof *code * n_labels);
    int *count = calloc(n_labels, sizeof *count);
    int *next = calloc(n_labels, sizeof *next);
    int *alloc = NULL;
    int rc = -1;
    if (!code || !count || !next) goto oom;
    for (size_t c = 0; c < n_labels; c++) code[c] = -1;
    int classes = 0;
    for (int i = 0; i < n; i++)
        if (code[labels[i]] < 0) code[labels[i]] = classes++;
    for (int i = 0; i < n; i++) count[code[labels[i]]]++;
    int largest = 0;
    for (int c = 0; c < classes; c++)
        if (count[c] > largest) largest = count[c];
    if (k > largest) {
        rc = hpt_fail(e, "cv = %d folds, but no class has more than %d samples", k, largest);
        goto out;
    }
    alloc = calloc((size_t)k * (size_t)classes, sizeof *alloc);
    if (!alloc) goto oom;
    for (int c = 0, p = 0; c < classes; c++)
        for (int m = 0; m < count[c]; m++, p++) alloc[(p % k) * classes + c]++;
    /* Each class's fold list, shuffled when asked, handed out in index order
     * through a cursor per class. */
    int *lists = malloc(sizeof *lists * (size_t)n);
    int *start = malloc(sizeof *start * (size_t)(classes + 1));
    if (!lists || !start) {
        free(lists), free(start);
        goto oom;
    }
    start[0] = 0;
    for (int c = 0; c < classes; c++) {
        int *l = lists + start[c], m = 0;
        for (int f = 0; f < k; f++)
            for (int a = 0; a < alloc[f * classes + c]; a++) l[m++] = f;
        if (shuffle) {
            rng r = rng_stream(rng_key(rng_key(seed, RNG_CV_FOLDS), (uint64_t)c));
            for (int a = m - 1; a > 0; a--) {   /* Fisher-Yates */
                int b = (int)rng_below(&r, (uint64_t)a + 1), t = l[a];
                l[a] = l[b], l[b] = t;
            }
        }
        start[c + 1] = start[c] + m;
    }
    for (int i = 0; i < n; i++) {
        int c = code[labels[i]];
        fold_of[i] = lists[start[c] + next[c]++];
    }
    free(lists), free(start);
    rc = 0;
    goto out;
oom:
    rc = hpt_fail(e, "out of memory");
out:
    free(code), free(count), free(next), free(alloc);
    return rc;
}

void folds_rows(const int *fold_of, int n, int f, uint32_t *rows, int *n_train, int *n_val)
{
    int t = 0;
    for (int i = 0; i < n; i++)
        if (fold_of[i] != f) rows[t++] = (uint32_t)i;
    *n_train = t;
    for (int i = 0; i < n; i++)
        if (fold_of[i] == f) rows[t++] = (uint32_t)i;
    *n_val = t - *n_train;
}
