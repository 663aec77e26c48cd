/* checkpoint.c: see checkpoint.h.  Every check is on sizes and ranges the
 * caller knows independently of the blob (the model's counts, the trial's
 * epochs), so no value read from a blob is trusted before it is checked, and
 * nothing is copied out of a blob that failed. */
#include "runtime/tune/checkpoint.h"

#include <math.h>
#include <string.h>

int ckpt_check_weights(size_t weights, store_blob w, hpt_error *e)
{
    if (w.size != weights * sizeof(float))
        return hpt_fail(e, "the weights blob holds %zu bytes; the model has %zu weights (%zu bytes)", w.size, weights,
                        weights * sizeof(float));
    return 0;
}

/* The training state, held against the epochs it claims. */
static int check_state(const ckpt_model *m, int epoch, const ckpt_state *s, hpt_error *e)
{
    const train_state *t = &s->train;
    int done = t->epochs_done;
    if (done < m->initial_epoch + 1 || done > m->epochs || done != (m->fit_once ? m->epochs : epoch + 1))
        return hpt_fail(e, "the training state says epoch %d/%d, but the checkpoint is of epoch %d and the trial trains "
                           "epochs %d to %d", done, m->epochs, epoch + 1, m->initial_epoch + 1, m->epochs);
    if (t->step < 0 || t->wait < 0 || t->wait > done || t->best_epoch < -1 || t->best_epoch >= done || isnan(t->best))
        return hpt_fail(e, "the training state is out of range (step %ld, EarlyStopping wait %d, best epoch %d)",
                        t->step, t->wait, t->best_epoch);
    if (!(t->lr_scale > 0) || !isfinite(t->lr_scale) || isnan(t->plateau_best) || t->plateau_wait < 0 ||
        t->plateau_wait > done || t->plateau_cooldown < 0)
        return hpt_fail(e, "the training state's ReduceLROnPlateau part is out of range (learning-rate scale %g, wait %d, "
                        "cooldown %d)", t->lr_scale, t->plateau_wait, t->plateau_cooldown);
    if (t->stopped < 0 || t->stopped > 3 || !memchr(t->reason, 0, sizeof t->reason))
        return hpt_fail(e, "the training state's stop flag or reason is malformed");
    if (s->objective_best_epoch < -1 || s->objective_best_epoch >= done)
        return hpt_fail(e, "the objective's best epoch %d is outside epochs 1 to %d", s->objective_best_epoch + 1, done);
    return 0;
}

int ckpt_check_last(const ckpt_model *m, int epoch, store_blob weights, store_blob optimizer, store_blob state,
                    store_blob best, ckpt_state *out, hpt_error *e)
{
    if (ckpt_check_weights(m->weights, weights, e)) return -1;
    if (optimizer.size != m->optimizer * sizeof(float))
        return hpt_fail(e, "the optimizer blob holds %zu bytes; the model's optimizer keeps %zu floats (%zu bytes)",
                        optimizer.size, m->optimizer, m->optimizer * sizeof(float));
    if (state.size != sizeof *out)
        return hpt_fail(e, "the state blob holds %zu bytes, not the %zu of a training state", state.size, sizeof *out);
    /* The first epoch is always its trial's best so far, and is committed
     * with the last checkpoint in one transaction: best weights must exist. */
    hpt_error why;
    if (ckpt_check_weights(m->weights, best, &why)) return hpt_fail(e, "the best epoch's %s", why.message + 4);
    ckpt_state s;
    memcpy(&s, state.data, sizeof s);
    if (check_state(m, epoch, &s, e)) return -1;
    *out = s;
    return 0;
}
