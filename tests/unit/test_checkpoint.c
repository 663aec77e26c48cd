/* test_checkpoint.c: the checks a checkpoint passes before a trial resumes
 * from it (runtime/tune/checkpoint.c), and the store's CRC over its blobs
 * (runtime/store/store.c): a sound checkpoint is accepted as it is; each way of
 * being wrong (a blob of the wrong size, a state whose epoch disagrees with
 * its row or its trial, bytes changed after the CRC was taken) is refused
 * with a message that says which. */
#include "runtime/tune/checkpoint.h"
#include "runtime/store/store.h"
#include "tests/unit/check.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { W = 6, O = 12 };

static float w[W] = { 1, 2, 3, 4, 5, 6 }, best[W] = { 6, 5, 4, 3, 2, 1 }, opt[O];
static const ckpt_model model = { W, O, 0, 5, 0 };

/* A sound state: 3 epochs done of 5, EarlyStopping's best at epoch 2. */
static ckpt_state sound(void)
{
    ckpt_state s = { .objective_best = 0.8, .objective_best_epoch = 1 };
    s.train = (train_state){ .epochs_done = 3, .step = 90, .best = 0.4, .wait = 1, .best_epoch = 1, .lr_scale = 0.1,
                             .plateau_best = 0.5, .plateau_wait = 2, .plateau_cooldown = 1 };
    return s;
}

static int check(const ckpt_model *m, int epoch, store_blob bw, store_blob bo, ckpt_state s, store_blob bb,
                 hpt_error *e)
{
    ckpt_state out;
    return ckpt_check_last(m, epoch, bw, bo, (store_blob){ &s, sizeof s }, bb, &out, e);
}

static void test_checks(void)
{
    store_blob bw = { w, sizeof w }, bo = { opt, sizeof opt }, bb = { best, sizeof best };
    hpt_error e;
    ckpt_state s = sound(), out;
    int rc = ckpt_check_last(&model, 2, bw, bo, (store_blob){ &s, sizeof s }, bb, &out, &e);
    CHECK(rc == 0 && out.train.epochs_done == 3 && out.train.step == 90 && out.objective_best == 0.8 &&
          out.train.lr_scale == 0.1 && out.train.plateau_wait == 2 && out.train.plateau_cooldown == 1,
          "a sound checkpoint is accepted and its state copied out (ReduceLROnPlateau's scale, wait and cooldown too)");

    rc = check(&model, 2, (store_blob){ w, sizeof w - 4 }, bo, s, bb, &e);
    CHECK(rc && !strcmp(e.message, "the weights blob holds 20 bytes; the model has 6 weights (24 bytes)"),
          "weights one float short: %s", e.message);
    rc = check(&model, 2, bw, (store_blob){ opt, 8 }, s, bb, &e);
    CHECK(rc && strstr(e.message, "the optimizer blob holds 8 bytes; the model's optimizer keeps 12 floats (48 bytes)"),
          "an optimizer blob of another model: %s", e.message);
    rc = ckpt_check_last(&model, 2, bw, bo, (store_blob){ &s, sizeof s - 1 }, bb, &out, &e);
    CHECK(rc && strstr(e.message, "the state blob holds"), "a state blob of the wrong size: %s", e.message);
    rc = check(&model, 2, bw, bo, s, (store_blob){ NULL, 0 }, &e);
    CHECK(rc && strstr(e.message, "the best epoch's weights blob holds 0 bytes"), "missing best weights: %s", e.message);

    s = sound(), s.train.epochs_done = -999;
    rc = check(&model, 2, bw, bo, s, bb, &e);
    CHECK(rc && strstr(e.message, "the training state says epoch -999/5, but the checkpoint is of epoch 3"),
          "a state at epoch -999: %s", e.message);
    s = sound();
    rc = check(&model, 1, bw, bo, s, bb, &e);
    CHECK(rc != 0, "a state one epoch ahead of its row is refused");
    s = sound(), s.train.epochs_done = 6;
    rc = check(&(ckpt_model){ W, O, 0, 5, 0 }, 5, bw, bo, s, bb, &e);
    CHECK(rc != 0, "a state past the trial's last epoch is refused");
    s = sound();
    rc = check(&(ckpt_model){ W, O, 3, 5, 0 }, 2, bw, bo, s, bb, &e);
    CHECK(rc != 0, "a promotion's checkpoint from before its initial epoch is refused");
    s = sound(), s.train.best_epoch = 3;
    CHECK(check(&model, 2, bw, bo, s, bb, &e) != 0, "an EarlyStopping best epoch not yet trained is refused");
    s = sound(), s.objective_best_epoch = 7;
    CHECK(check(&model, 2, bw, bo, s, bb, &e) != 0, "an objective best epoch not yet trained is refused");
    s = sound(), s.train.lr_scale = 0;
    rc = check(&model, 2, bw, bo, s, bb, &e);
    CHECK(rc && strstr(e.message, "ReduceLROnPlateau part is out of range (learning-rate scale 0"),
          "a learning-rate scale of 0 is refused: %s", e.message);
    s = sound(), s.train.plateau_wait = 4;
    CHECK(check(&model, 2, bw, bo, s, bb, &e) != 0, "a ReduceLROnPlateau wait longer than the epochs done is refused");
    s = sound(), s.train.stopped = 3;
    CHECK(check(&model, 2, bw, bo, s, bb, &e) == 0, "a TerminateOnNaN stop (flag 3) is accepted");
    s = sound(), s.train.stopped = 9;
    CHECK(check(&model, 2, bw, bo, s, bb, &e) != 0, "an unknown stop flag is refused");
    s = sound(), memset(s.train.reason, 'x', sizeof s.train.reason);
    CHECK(check(&model, 2, bw, bo, s, bb, &e) != 0, "an unterminated reason is refused");

    /* An estimator's one fit is stored as its first epoch and completes them all. */
    ckpt_model est = { 0, 0, 0, 3, 1 };
    s = sound(), s.train.epochs_done = 3, s.train.best_epoch = 0, s.objective_best_epoch = 0, s.train.wait = 0;
    rc = check(&est, 0, (store_blob){ NULL, 0 }, (store_blob){ NULL, 0 }, s, (store_blob){ NULL, 0 }, &e);
    CHECK(rc == 0, "an estimator's fit, at epoch 1 of 3, is accepted%s%s", rc ? ": " : "", rc ? e.message : "");

    CHECK(ckpt_check_weights(W, bw, &e) == 0, "a promotion's parent weights of the model's size are accepted");
    CHECK(ckpt_check_weights(W + 1, bw, &e) != 0, "... and refused for a wider model");
}

/* The store verifies each checkpoint's CRC-32 on load. */
static void test_crc(void)
{
    char dir[] = "/tmp/hptc-test-checkpoint-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0, "a scratch directory");
        return;
    }
    hpt_error e;
    store_identity id = { 7, "spec", "spec.hpt", "crc32 0, 1+1 rows of 1 values", "test" };
    store *s = store_open(dir, &id, 0, &e);
    CHECK(s != NULL, "a new store opens");
    if (!s) return;
    store_trial t = { .id = 0, .hps_json = "{}", .parent = -1, .bracket = -1, .round = -1, .epochs = 5 };
    ckpt_state st = sound();
    store_blob bw = { w, sizeof w }, bo = { opt, sizeof opt }, bs = { &st, sizeof st };
    store_epoch_row row = { 0, 0, 2, 1, 0.5, 1, 0.5, 0.1, "" };
    CHECK(store_trial_begin(s, &t, &e) == 0 && store_epoch(s, &row, bw, bo, bs, &bw, &e) == 0, "an epoch is committed");
    void *lw = NULL, *lo = NULL, *ls = NULL;
    size_t nw, no, ns;
    int epoch = -1;
    int found = store_load_checkpoint(s, 0, 0, "last", &lw, &nw, &lo, &no, &ls, &ns, &epoch, &e);
    CHECK(found == 1 && epoch == 2 && nw == sizeof w && !memcmp(lw, w, nw) && ns == sizeof st,
          "the checkpoint comes back as it went in");
    free(lw), free(lo), free(ls);
    store_close(s);

    /* Change one weight byte behind the store's back, as a disk or an editor might. */
    char cmd[300];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c \"import sqlite3; d = sqlite3.connect('%s/hptc.db'); "
             "d.execute(\\\"UPDATE checkpoints SET weights = zeroblob(24) WHERE kind = 'last'\\\"); d.commit()\"", dir);
    int edited = system(cmd) == 0;
    s = store_open_readonly(dir, &e);
    lw = lo = ls = NULL;
    found = s ? store_load_checkpoint(s, 0, 0, "last", &lw, &nw, &lo, &no, &ls, &ns, &epoch, &e) : 0;
    CHECK(edited && found == -1 && strstr(e.message, "the last checkpoint of trial 0 (execution 0) is damaged: its CRC-32"),
          "a changed blob fails its CRC on load: %s", found == -1 ? e.message : "loaded");
    CHECK(lw == NULL && lo == NULL && ls == NULL, "... and nothing of it is returned");
    found = s ? store_load_checkpoint(s, 0, 0, "best", &lw, &nw, NULL, NULL, NULL, NULL, NULL, &e) : 0;
    CHECK(found == 1 && nw == sizeof w, "the untouched best checkpoint still loads");
    free(lw);
    store_close(s);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) { /* a scratch directory left in /tmp */ }
}

int main(void)
{
    test_checks();
    test_crc();
    return check_failed_count != 0;
}
