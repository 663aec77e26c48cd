/* step_rate.c: one training step of the seed MLP or the CNN example, timed
 * by phase on the calling thread's CPU clock (robust to other processes on
 * the machine), for a dtype policy and a backend.
 *
 *   step_rate [--model mlp|cnn] [--policy float32|mixed_bfloat16]
 *             [--backend blas|jit] [--steps N] [--batch B]
 *
 * Phases, each the median over N steps of random data (after N/4 warm-up
 * steps): forward (training mode), gradients (forward, loss, backward) and
 * the whole step (gradients and the optimizer); the optimizer is the
 * difference.  Prints one line per phase, then "step_us X" for scripts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "compiler/compile.h"
#include "runtime/nn/blas.h"
#include "runtime/nn/matmul.h"
#include "runtime/nn/trial.h"
#include "runtime/rng.h"

static const char *const MLP =
    "data = datasets.fashion_mnist(scale = 1/255)\n"
    "model {\n  Input(shape = [28, 28])\n  Flatten()\n  Dense(512, activation = \"relu\")\n  Dropout(0.2)\n"
    "  Dense(10)\n}\n"
    "compile(optimizer = Adam(learning_rate = 1e-3), loss = \"sparse_categorical_crossentropy\", metrics = [\"accuracy\"])\n"
    "tuner = RandomSearch(objective = \"val_accuracy\", max_trials = 1)\n"
    "search(epochs = 1, batch_size = 32, validation_split = 0.2)\n";

static const char *const CNN =
    "data = datasets.fashion_mnist(scale = 1/255)\n"
    "model {\n  Input(shape = [28, 28, 1])\n  Conv2D(32, 3, activation = \"relu\")\n  MaxPooling2D(2)\n"
    "  Conv2D(64, 3, activation = \"relu\")\n  MaxPooling2D(2)\n  Flatten()\n  Dropout(0.25)\n"
    "  Dense(128, activation = \"relu\")\n  Dense(10)\n}\n"
    "compile(optimizer = Adam(learning_rate = 1e-3), loss = \"sparse_categorical_crossentropy\", metrics = [\"accuracy\"])\n"
    "tuner = RandomSearch(objective = \"val_accuracy\", max_trials = 1)\n"
    "search(epochs = 1, batch_size = 32, validation_split = 0.2)\n";

static double thread_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Time-stamp counter ticks per second, against the monotonic clock. */
static double tsc_hz(void)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    uint64_t t0 = __rdtsc();
    do clock_gettime(CLOCK_MONOTONIC, &b);
    while ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec) < 2e7);
    return (double)(__rdtsc() - t0) / ((b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) * 1e-9);
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    const char *model = "mlp", *policy = "float32", *backend = "blas";
    int steps = 400, batch = 32;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--model")) model = argv[i + 1];
        else if (!strcmp(argv[i], "--policy")) policy = argv[i + 1];
        else if (!strcmp(argv[i], "--backend")) backend = argv[i + 1];
        else if (!strcmp(argv[i], "--steps")) steps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--batch")) batch = atoi(argv[i + 1]);
        else return fprintf(stderr, "step_rate: unknown option %s\n", argv[i]), 2;
    }
    hpt_error e;
    if (blas_fix_coretype(argv, &e)) fprintf(stderr, "step_rate: %s\n", e.message);
    blas_set_threads(1);
    blas_flush_denormals();
    const char *src = !strcmp(model, "cnn") ? CNN : MLP;
    compile_result r = compile_spec("step_rate.hpt", src, strlen(src), stderr);
    if (!r.program) return 1;
    hpt_value values[8];
    ir_default_assignment(r.program, values);
    trial *t = trial_expand(r.program, values, batch, 1, &e);
    int p = trial_dtype_policy_of(policy);
    if (!t || p < 0 || trial_set_dtype_policy(t, (trial_dtype_policy)p, &e) ||
        trial_set_backend(t, !strcmp(backend, "jit"), &e))
        return fprintf(stderr, "step_rate: %s\n", p < 0 ? "unknown policy" : e.message), 1;

    size_t n_in = trial_input_size(t) * (size_t)batch;
    float *x = trial_input(t);
    int32_t *labels = calloc((size_t)batch, sizeof *labels);
    rng g = rng_stream(3);
    double *fwd = malloc(sizeof(double) * (size_t)steps), *grad = malloc(sizeof(double) * (size_t)steps),
           *step = malloc(sizeof(double) * (size_t)steps);
    /* Phases apart, each on its own run of steps, so that one does not
     * warm the caches for the next; a first step makes the weights the
     * trial's own (trusted: no repacking outside the optimizer's pass). */
    trial_train_step(t, labels, batch, 0, NULL);
    dense_mm_stats before = { 0 };
    uint64_t step_ticks = 0;
    for (int phase = 0; phase < 3; phase++) {
        double *v = phase == 0 ? fwd : phase == 1 ? grad : step;
        for (int s = -steps / 4; s < steps; s++) {
            if (phase == 2 && s == 0) before = dense_mm_get_stats();
            uint64_t k0 = __rdtsc();
            for (size_t i = 0; i < n_in; i++) x[i] = rng_float(&g);
            for (int i = 0; i < batch; i++) labels[i] = (int32_t)rng_below(&g, 10);
            double t0 = thread_seconds();
            if (phase == 0) trial_forward(t, batch, 1, s + steps);
            else if (phase == 1) trial_compute_gradients(t, labels, batch, s + steps, NULL);
            else trial_train_step(t, labels, batch, s + steps, NULL);
            if (s >= 0) v[s] = thread_seconds() - t0;
            if (phase == 2 && s >= 0) step_ticks += __rdtsc() - k0;
        }
    }
    dense_mm_stats after = dense_mm_get_stats();
    double hz = tsc_hz(), gemm_s = (double)(after.gemm_ticks - before.gemm_ticks) / hz;
    double gemm_flops = after.gemm_flops - before.gemm_flops;
    double f = median(fwd, steps) * 1e6, gr = median(grad, steps) * 1e6, st = median(step, steps) * 1e6;
    printf("%s %s %s batch %d, thread CPU microseconds, median of %d steps\n", model, policy, backend, batch, steps);
    printf("  forward        %8.1f\n  gradients      %8.1f   (forward + loss + backward)\n", f, gr);
    printf("  optimizer      %8.1f   (step - gradients)\n  step           %8.1f\n", st - gr, st);
    if (gemm_flops > 0) {
        printf("  Dense GEMMs    %8.1f   (%.0f%% of the steps, %.1f GFLOP/s)\n", gemm_s / steps * 1e6,
               100.0 * (double)(after.gemm_ticks - before.gemm_ticks) / (double)step_ticks, gemm_flops / gemm_s / 1e9);
        printf("  Dense packing  %8.1f   (%.1f%% of the steps; reorders of weights changed outside a step)\n",
               (double)(after.pack_ticks - before.pack_ticks) / hz / steps * 1e6,
               100.0 * (double)(after.pack_ticks - before.pack_ticks) / (double)step_ticks);
        printf("  bf16 shadow    %8.1f   (%.1f%% of the steps; written in the optimizer's pass)\n",
               (double)(after.shadow_ticks - before.shadow_ticks) / hz / steps * 1e6,
               100.0 * (double)(after.shadow_ticks - before.shadow_ticks) / (double)step_ticks);
        printf("step_gemm_gflops %.1f\nstep_pack_percent %.2f\nstep_shadow_percent %.2f\n", gemm_flops / gemm_s / 1e9,
               100.0 * (double)(after.pack_ticks - before.pack_ticks) / (double)step_ticks,
               100.0 * (double)(after.shadow_ticks - before.shadow_ticks) / (double)step_ticks);
    }
    printf("step_us %.1f\n", st);
    trial_free(t);
    return 0;
}
