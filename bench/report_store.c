/* report_store.c: write a synthetic experiment store for bench/report.sh.
 *
 *   report_store DIR [TRIALS] [EPOCHS]     (default 1000 trials, 10 epochs)
 *
 * Creates DIR/hptc.db afresh through runtime/store/store.h, as `hptc run` would:
 * the spec below (six hyperparameters, one conditional, one log-sampled), then
 * TRIALS trials with EPOCHS epoch rows each, laid out as Hyperband brackets
 * (blocks of 12 round-0 trials, 4 promoted to round 1, 2 to round 2) so that
 * every part of the report has work to do.  About 3% of the trials fail with a
 * reason.  The scores follow a made-up response surface plus noise from a
 * fixed-seed generator, so two runs write the same store.  Checkpoints are
 * empty: the report never reads them. */
#include "runtime/store/store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SPEC[] =
    "# A synthetic store written by bench/report_store.c.\n"
    "data = datasets.fashion_mnist(scale = 1/255)\n"
    "model {\n"
    "  Input(shape = [28, 28])\n"
    "  Flatten()\n"
    "  for i in range(hp.Int(\"layers\", min_value = 1, max_value = 3)) {\n"
    "    Dense(units = hp.Int(\"units\", min_value = 32, max_value = 512, step = 32),\n"
    "          activation = hp.Choice(\"activation\", [\"relu\", \"tanh\", \"gelu\"]))\n"
    "  }\n"
    "  if hp.Boolean(\"dropout\") {\n"
    "    Dropout(rate = hp.Float(\"rate\", min_value = 0.1, max_value = 0.5))\n"
    "  }\n"
    "  Dense(10)\n"
    "}\n"
    "compile(optimizer = Adam(learning_rate = hp.Float(\"learning_rate\", min_value = 1e-4, max_value = 1e-1,\n"
    "                                                  sampling = \"log\")),\n"
    "        loss = \"sparse_categorical_crossentropy\", metrics = [\"accuracy\"])\n"
    "tuner = Hyperband(objective = \"val_accuracy\", max_epochs = 10, factor = 3, directory = \"gen\",\n"
    "                  project_name = \"p\")\n"
    "search(validation_split = 0.2)\n";

static unsigned long long rng_state = 0x9e3779b97f4a7c15ULL;

/* Uniform in [0, 1): xorshift64*, enough for made-up data. */
static double uniform(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: report_store DIR [TRIALS] [EPOCHS]\n");
        return 2;
    }
    int n_trials = argc > 2 ? atoi(argv[2]) : 1000, n_epochs = argc > 3 ? atoi(argv[3]) : 10;
    static const char *const activations[] = { "relu", "tanh", "gelu" };
    hpt_error e;
    store_identity id = { 0x5eedULL, SPEC, "bench/report_store.c", NULL, NULL };
    store *s = store_open(argv[1], &id, 1, &e);
    if (!s || store_meta_set(s, "objective", "val_accuracy", &e) || store_meta_set(s, "tuner", "Hyperband", &e) ||
        store_meta_set(s, "hptc_version", "0.1.0", &e) || store_meta_set(s, "backend", "blas (synthetic)", &e))
        goto fail;
    /* One transaction per epoch as hptc run commits them; NORMAL sync keeps 10,000 of them fast. */
    store_blob none = { NULL, 0 };
    double *final = calloc((size_t)n_trials, sizeof *final);
    char (*hps)[256] = calloc((size_t)n_trials, sizeof *hps);
    if (!final || !hps) {
        free(final);
        free(hps);
        hpt_fail(&e, "out of memory");
        goto fail;
    }
    for (int id = 0; id < n_trials; id++) {
        /* Hyperband layout: in each block of 18, ids 0-11 are round 0, 12-15 round 1, 16-17 round 2. */
        int block = id / 18, slot = id % 18, round = slot < 12 ? 0 : slot < 16 ? 1 : 2;
        int parent = round == 1 ? block * 18 + (slot - 12) * 3 : round == 2 ? block * 18 + 12 + (slot - 16) * 2 : -1;
        if (parent >= 0) {
            /* A promoted trial trains its parent's configuration for longer. */
            snprintf(hps[id], sizeof hps[id], "%s", hps[parent]);
            final[id] = final[parent] + 0.01 * uniform();
        } else {
            int layers = 1 + (int)(uniform() * 3), units = 32 * (1 + (int)(uniform() * 16)), dropout = uniform() < 0.5;
            const char *act = activations[(int)(uniform() * 3)];
            double lr = pow(10, -4 + 3 * uniform()), rate = 0.1 + 0.4 * uniform();
            if (dropout)
                snprintf(hps[id], sizeof hps[id],
                         "{\"layers\": %d, \"units\": %d, \"activation\": \"%s\", \"dropout\": true, \"rate\": %.17g, "
                         "\"learning_rate\": %.17g}", layers, units, act, rate, lr);
            else
                snprintf(hps[id], sizeof hps[id],
                         "{\"layers\": %d, \"units\": %d, \"activation\": \"%s\", \"dropout\": false, "
                         "\"learning_rate\": %.17g}", layers, units, act, lr);
            /* The response surface: best near learning_rate 3e-3, more units help, tanh a little worse. */
            double l = log10(lr) + 2.5;
            final[id] = 0.88 - 0.06 * l * l + 0.02 * log2(units / 32.0) / 4 - (act[0] == 't' ? 0.02 : 0) -
                        (dropout ? 0.05 * (rate - 0.2) : 0) + 0.01 * (layers - 2) + 0.02 * (uniform() - 0.5);
        }
        /* Only trials nothing is promoted from fail, so every child has a completed parent. */
        int failed = round == 0 && slot % 3 && uniform() < 0.045;
        store_trial t = { .id = id, .hps_json = hps[id], .seed = (uint64_t)id * 7919, .parent = parent,
                          .bracket = 2, .round = round, .epochs = n_epochs, .initial_epoch = 0, .score = NAN,
                          .best_epoch = -1, .reason = "", .started = 1764350000.0 + id, .finished = 0 };
        if (store_trial_begin(s, &t, &e)) goto fail_free;
        double best = -1;
        int best_epoch = 0, epochs = failed ? 1 + (int)(uniform() * 3) : n_epochs;
        for (int ep = 0; ep < epochs; ep++) {
            double progress = 1 - exp(-(ep + 1) / 2.5), noise = 0.01 * (uniform() - 0.5);
            double va = 0.1 + (final[id] - 0.1) * progress + noise, acc = va + 0.02 * progress;
            store_epoch_row row = { .trial = id, .execution = 0, .epoch = ep, .loss = 2.3 * (1 - acc) + 0.1,
                                    .accuracy = acc, .val_loss = 2.3 * (1 - va) + 0.15, .val_accuracy = va,
                                    .seconds = 0.5 };
            if (store_epoch(s, &row, none, none, none, NULL, &e)) goto fail_free;
            if (va > best) best = va, best_epoch = ep;
        }
        if (failed ? store_trial_end(s, id, "failed", NAN, -1, "loss became NaN at epoch 2 (learning rate too high?)", &e)
                   : store_trial_end(s, id, "completed", best, best_epoch, "", &e))
            goto fail_free;
    }
    free(final);
    free(hps);
    store_close(s);
    printf("%d trials x %d epochs written to %s/hptc.db\n", n_trials, n_epochs, argv[1]);
    return 0;
fail_free:
    free(final);
    free(hps);
fail:
    fprintf(stderr, "report_store: %s\n", e.message);
    store_close(s);
    return 1;
}
