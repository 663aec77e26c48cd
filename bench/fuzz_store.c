/* fuzz_store.c: libFuzzer harness over the store's checkpoint loader (`make fuzz`).
 *
 * What a resumed trial trusts, fed arbitrary bytes two ways, chosen by the
 * input's first byte:
 *   even: the input is a whole hptc.db file.  It is opened read-only as a
 *         store (runtime/store/store.c), and every trial, epoch and checkpoint it
 *         claims to hold is loaded, each checkpoint held against a model
 *         the input's next bytes describe (runtime/tune/checkpoint.c), as the
 *         tuner does before resuming.  Seeds are real stores of tiny models.
 *   odd:  the input is a model (weights, optimizer floats, epochs) and the
 *         blobs of one checkpoint, stored through store_epoch into a fresh
 *         store, loaded back and checked.
 * Run with HPTC_FUZZ_SEEDS=DIR in the environment, it writes seed inputs of
 * both kinds into DIR and exits (bench/fuzz.mk's SEEDS_store).
 * Sanitizers turn any memory error, undefined behaviour or leak into a
 * crash; the harness checks that a loaded checkpoint is the bytes stored
 * (CRC verified) and that one the checks accept is consistent with the
 * model: sizes equal, epochs in range, the reason terminated. */
#include "runtime/tune/checkpoint.h"
#include "runtime/store/store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

static void once(void)
{
    if (dir[0]) return;
    snprintf(dir, sizeof dir, "/dev/shm/hptc-fuzz-store-%d", (int)getpid());
}

static void wipe(void)
{
    const char *names[] = { "hptc.db", "hptc.db-wal", "hptc.db-shm", "hptc.lock" };
    char path[400];
    for (int k = 0; k < 4; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[k]);
        unlink(path);
    }
}

/* The model a checkpoint is checked against, from four bytes. */
static ckpt_model model_of(const uint8_t *b)
{
    ckpt_model m = { .weights = b[0] % 64, .optimizer = (size_t)(b[1] % 3) * (b[0] % 64),
                     .initial_epoch = b[2] % 8, .epochs = 0, .fit_once = b[3] >= 128 };
    m.epochs = m.initial_epoch + 1 + b[3] % 8;
    return m;
}

/* What an accepted checkpoint must be. */
static void check_accepted(const ckpt_model *m, int epoch, const ckpt_state *s)
{
    const train_state *t = &s->train;
    if (t->epochs_done <= m->initial_epoch || t->epochs_done > m->epochs ||
        t->epochs_done != (m->fit_once ? m->epochs : epoch + 1) ||
        t->best_epoch >= t->epochs_done || s->objective_best_epoch >= t->epochs_done ||
        !memchr(t->reason, 0, sizeof t->reason))
        abort();
}

static void load_and_check(store *s, int trial, int execution, const ckpt_model *m)
{
    void *w = NULL, *o = NULL, *st = NULL, *b = NULL;
    size_t sw = 0, so = 0, ss = 0, sb = 0;
    int epoch = 0;
    hpt_error e;
    int found = store_load_checkpoint(s, trial, execution, "last", &w, &sw, &o, &so, &st, &ss, &epoch, &e);
    if (found == 1) {
        store_load_checkpoint(s, trial, execution, "best", &b, &sb, NULL, NULL, NULL, NULL, NULL, &e);
        ckpt_state out;
        store_blob bw = { w, sw }, bo = { o, so }, bs = { st, ss }, bb = { b, sb };
        if (ckpt_check_last(m, epoch, bw, bo, bs, bb, &out, &e) == 0) check_accepted(m, epoch, &out);
    }
    if (found == 1 || store_load_checkpoint(s, trial, execution, "best", &b, &sb, NULL, NULL, NULL, NULL, NULL, &e) == 1)
        ckpt_check_weights(m->weights, (store_blob){ b, sb }, &e);
    free(w), free(o), free(st), free(b);
}

/* even: a whole database file. */
static void fuzz_file(const uint8_t *data, size_t size)
{
    if (size < 5) return;
    ckpt_model m = model_of(data + 1);
    char path[400];
    snprintf(path, sizeof path, "%s/hptc.db", dir);
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(data + 5, 1, size - 5, f);
    fclose(f);
    hpt_error e;
    store *s = store_open_readonly(dir, &e);
    if (!s) return;
    store_trial *t;
    int n;
    if (store_load_trials(s, &t, &n, &e) == 0) {
        for (int k = 0; k < n && k < 8; k++) {
            store_epoch_row *rows;
            int nr;
            if (store_load_epochs(s, t[k].id, &rows, &nr, &e) == 0) free(rows);
            for (int x = 0; x < 2; x++) load_and_check(s, t[k].id, x, &m);
        }
        store_free_trials(t, n);
    }
    free(store_meta_get(s, "spec"));
    store_checkpoint_bytes(s);
    store_close(s);
}

/* odd: one checkpoint's blobs, stored and loaded back.  Input: mode, four
 * model bytes, the epoch (int8), two little-endian u16 cut points, a flags
 * byte (bit 0: also the best weights), then the bytes the cuts split into
 * weights, optimizer and state. */
enum { BLOB_HEAD = 11 };
static void fuzz_blobs(const uint8_t *data, size_t size)
{
    if (size < BLOB_HEAD) return;
    ckpt_model m = model_of(data + 1);
    int epoch = (int8_t)data[5];
    const uint8_t *rest = data + BLOB_HEAD;
    size_t n = size - BLOB_HEAD;
    size_t cut1 = (size_t)(data[6] | data[7] << 8) % (n + 1), cut2 = (size_t)(data[8] | data[9] << 8) % (n + 1);
    if (cut1 > cut2) { size_t tmp = cut1; cut1 = cut2; cut2 = tmp; }
    store_blob w = { rest, cut1 }, o = { rest + cut1, cut2 - cut1 }, st = { rest + cut2, n - cut2 };
    wipe();
    hpt_error e;
    store_identity id = { 1, "fuzz", "fuzz.hpt", NULL, NULL };
    store *s = store_open(dir, &id, 1, &e);
    if (!s) abort();
    store_trial t = { .id = 0, .hps_json = "{}", .parent = -1, .bracket = -1, .round = -1, .epochs = m.epochs };
    store_epoch_row row = { 0, 0, epoch, 1, 0.5, 1, 0.5, 0.1, "" };
    if (store_trial_begin(s, &t, &e) || store_epoch(s, &row, w, o, st, data[10] & 1 ? &w : NULL, &e)) abort();
    /* What comes back is what went in: the CRC holds. */
    void *bw = NULL, *bo = NULL, *bs = NULL;
    size_t sw, so, ss;
    int got_epoch;
    if (store_load_checkpoint(s, 0, 0, "last", &bw, &sw, &bo, &so, &bs, &ss, &got_epoch, &e) != 1 || sw != w.size ||
        so != o.size || ss != st.size || got_epoch != epoch || memcmp(bw, w.data, sw) || memcmp(bo, o.data, so) ||
        memcmp(bs, st.data, ss))
        abort();
    free(bw), free(bo), free(bs);
    load_and_check(s, 0, 0, &m);
    store_close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    once();
    mkdir(dir, 0700);
    if (size == 0) return 0;
    if (data[0] & 1) fuzz_blobs(data, size);
    else fuzz_file(data, size), wipe();
    return 0;
}

/* A seed of each kind for models of 4 and 12 weights, Adam's 2 floats per
 * weight, a trial at epoch 2 of 3: a valid checkpoint, its store as a file. */
static void write_seed(const char *out, const char *name, const uint8_t *head, size_t head_len, const void *body,
                       size_t body_len)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", out, name);
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(head, 1, head_len, f);
    fwrite(body, 1, body_len, f);
    fclose(f);
}

static int write_seeds(const char *out)
{
    once();
    mkdir(dir, 0700);
    for (int weights = 4; weights <= 12; weights += 8) {
        float w[12] = { 0 }, o[24] = { 0 };
        ckpt_state st = { .objective_best = 0.5, .objective_best_epoch = 1 };
        st.train = (train_state){ .epochs_done = 2, .step = 20, .best = 0.5, .best_epoch = 1 };
        for (int k = 0; k < weights; k++) w[k] = 0.25f * (float)k;
        uint8_t model[5] = { 0, (uint8_t)weights, 2, 0, 1 };   /* weights, 2 x optimizer, initial 0, 3 epochs */
        /* odd: the blobs, cut where the weights and optimizer end */
        unsigned char blobs[512];
        size_t nw = (size_t)weights * 4, no = 2 * nw;
        memcpy(blobs, w, nw), memcpy(blobs + nw, o, no), memcpy(blobs + nw + no, &st, sizeof st);
        uint8_t head[11] = { 1, model[1], model[2], model[3], model[4], 1, (uint8_t)nw, (uint8_t)(nw >> 8),
                             (uint8_t)(nw + no), (uint8_t)((nw + no) >> 8), 1 };
        char name[64];
        snprintf(name, sizeof name, "blobs_%d", weights);
        write_seed(out, name, head, sizeof head, blobs, nw + no + sizeof st);
        /* even: a store holding that checkpoint, as a file */
        wipe();
        hpt_error e;
        store_identity id = { 1, "fuzz", "fuzz.hpt", "crc32 0, 1+1 rows of 1 values", "seed" };
        store *s = store_open(dir, &id, 1, &e);
        if (!s) return fprintf(stderr, "%s\n", e.message), 1;
        store_trial t = { .id = 0, .hps_json = "{\"units\": 4}", .parent = -1, .bracket = -1, .round = -1, .epochs = 3 };
        store_blob bw = { w, nw }, bo = { o, no }, bs = { &st, sizeof st };
        for (int epoch = 0; epoch < 2; epoch++) {
            store_epoch_row row = { 0, 0, epoch, 1, 0.5, 1, 0.5, 0.1, "" };
            if (store_trial_begin(s, &t, &e) || store_epoch(s, &row, bw, bo, bs, &bw, &e))
                return fprintf(stderr, "%s\n", e.message), 1;
        }
        store_compact(s, &e);
        store_close(s);
        char path[400];
        snprintf(path, sizeof path, "%s/hptc.db", dir);
        FILE *f = fopen(path, "rb");
        static unsigned char db[1 << 20];
        size_t len = f ? fread(db, 1, sizeof db, f) : 0;
        if (f) fclose(f);
        model[0] = 0;
        snprintf(name, sizeof name, "store_%d", weights);
        write_seed(out, name, model, sizeof model, db, len);
    }
    wipe();
    rmdir(dir);
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char **argv[])
{
    const char *seeds = getenv("HPTC_FUZZ_SEEDS");
    if (seeds) exit(write_seeds(seeds));
    return 0;
}
