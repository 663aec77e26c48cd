/* folds.h: k-fold cross-validation splits for search(cv = ...).
 *
 * The assignment is scikit-learn's StratifiedKFold: classes are numbered in
 * order of first appearance, the sorted labels are dealt round-robin to the
 * folds (so every fold holds each class in proportion, sizes differing by at
 * most one per class), and within a class the samples take their folds in
 * index order.  Without shuffle the folds equal scikit-learn's exactly; with
 * shuffle each class's fold list is permuted by hptc's counter-based RNG
 * keyed by the seed (deterministic, though not numpy's permutation). */
#ifndef HPTC_FOLDS_H
#define HPTC_FOLDS_H
#include <stdint.h>
#include "runtime/err.h"

/* fold_of[i] in [0, k) for each of the n labels.  Fails when k < 2 or when
 * k exceeds the number of samples of every class (as scikit-learn does). */
int folds_stratified(const int32_t *labels, int n, int k, int shuffle, uint64_t seed, int *fold_of, hpt_error *e);

/* The rows of fold f as Keras's fit wants them: rows[0..*n_train) are the
 * training rows (the other folds, in index order), then the fold's own rows
 * for validation (*n_val of them).  rows has room for n. */
void folds_rows(const int *fold_of, int n, int f, uint32_t *rows, int *n_train, int *n_val);

#endif
