/* checkpoint.h: what a trial's checkpoint holds besides its weights, and the
 * checks every checkpoint passes before anything trains from it.
 *
 * A "last" checkpoint (runtime/store/store.h) is three blobs: the weights, the
 * optimizer state and a ckpt_state; a "best" one is weights only.  The store
 * verifies each row's CRC-32; these checks hold the blobs against the model
 * they are loaded into (its weight and optimizer-state counts) and the trial
 * they belong to (its epochs), so a damaged or foreign checkpoint is named
 * and refused, never loaded in part or silently replaced by fresh weights. */
#ifndef HPTC_CHECKPOINT_H
#define HPTC_CHECKPOINT_H
#include <stddef.h>
#include "runtime/err.h"
#include "runtime/store/store.h"
#include "runtime/nn/train.h"

/* The state blob of a "last" checkpoint: the training loop's state plus the
 * objective's best so far, so a resumed trial continues bit for bit. */
typedef struct ckpt_state {
    train_state train;
    double objective_best;
    int objective_best_epoch;       /* -1 before the first epoch */
} ckpt_state;

/* What a checkpoint must fit: the expanded trial and the trial's epochs. */
typedef struct ckpt_model {
    size_t weights, optimizer;      /* floats (trial_weights, trial_optimizer_state) */
    int initial_epoch, epochs;      /* the trial trains epochs initial_epoch .. epochs - 1 */
    int fit_once;                   /* a classic estimator: its one fit, stored as the first
                                     * epoch, completes them all */
} ckpt_model;

/* Check a "last" checkpoint (weights, optimizer, state, stored at epoch
 * `epoch`, 0-based) and the best weights that go with it against m; on
 * success copy the state into *out.  On failure e
 * says which blob is wrong and how ("the weights blob holds 1200 bytes; the
 * model has 407050 weights (1628200 bytes)"). */
int ckpt_check_last(const ckpt_model *m, int epoch, store_blob weights, store_blob optimizer, store_blob state,
                    store_blob best, ckpt_state *out, hpt_error *e);
/* Check a weights-only blob (a "best" checkpoint: a promotion's start, an
 * export) against the model's weight count. */
int ckpt_check_weights(size_t weights, store_blob w, hpt_error *e);

#endif
