/* rank0_epoch.c: what one trained epoch costs rank 0 of a distributed search
 * (docs/distributed.md, the 64-rank estimate), measured piece by piece for
 * the seed MLP (784-512-10: 407,050 weights):
 *   commit: store_epoch of the epoch row, the last checkpoint (weights,
 *           2x-weights Adam state, training state) and the best weights,
 *           i.e. the worst case, an improving epoch: 6.5 MB into SQLite;
 *   transfer (under mpirun -np 2): rank 1 sends rank 0 the same epoch
 *           message through dist_send/dist_recv, and waits for the ACK.
 * Run alone it prints "rank0_commit_ms X"; under mpirun -np 2,
 * "rank0_transfer_ms Y" (apart, so that rank 1 spinning in MPI does not slow
 * the commit down on a small machine).  Build: see bench/mpi.sh. */
#include "runtime/tune/dist.h"
#include "runtime/store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_WEIGHTS 407050
#define REPS 40

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    hpt_error e;
    dist *d = dist_init(&argc, &argv, &e);
    float *w = calloc(N_WEIGHTS, sizeof *w), *opt = calloc(2 * (size_t)N_WEIGHTS, sizeof *opt);
    char state[256] = { 0 }, ack[64] = { 0 }, head[1200] = { 0 };
    store_blob bw = { w, N_WEIGHTS * sizeof *w }, bo = { opt, 2 * N_WEIGHTS * sizeof *opt }, bs = { state, sizeof state };
    double t[REPS];
    if (!w || !opt) return 1;
    for (int k = 0; k < N_WEIGHTS; k++) w[k] = (float)k * 1e-6f;
    if (dist_size(d) == 1) {
        const char *dir = argc > 1 ? argv[1] : "/tmp/hptc_rank0_epoch";
        store_identity id = { 1, "bench", "bench.hpt", NULL, NULL };
        store *s = store_open(dir, &id, 1, &e);
        if (!s) return fprintf(stderr, "%s\n", e.message), 1;
        store_trial tr = { .id = 0, .hps_json = "{}", .parent = -1, .bracket = -1, .round = -1, .epochs = REPS };
        store_trial_begin(s, &tr, &e);
        for (int r = 0; r < REPS; r++) {
            store_epoch_row row = { 0, 0, r, 1, 0.5, 1, 0.5, 1, "" };
            double t0 = now();
            if (store_epoch(s, &row, bw, bo, bs, &bw, &e)) return fprintf(stderr, "%s\n", e.message), 1;
            t[r] = now() - t0;
        }
        qsort(t, REPS, sizeof *t, cmp);
        printf("rank0_commit_ms %.2f (median of %d improving epochs, %.1f MB each)\n", t[REPS / 2] * 1e3, REPS,
               (2.0 * bw.size + bo.size + bs.size) / 1e6);
        store_close(s);
    }
    if (dist_size(d) == 2) {
        dist_buf bufs[3] = { { 0 } };
        for (int r = 0; r < REPS; r++) {
            double t0 = now();
            if (dist_rank(d) == 1) {
                store_blob b[3] = { bw, bo, bs };
                if (dist_send(d, 0, 100, head, sizeof head, b, 3, &e) || dist_recv(d, 0, 100, ack, sizeof ack, NULL, 0, &e))
                    return fprintf(stderr, "%s\n", e.message), 1;
            } else if (dist_recv(d, 1, 100, head, sizeof head, bufs, 3, &e) ||
                       dist_send(d, 1, 100, ack, sizeof ack, NULL, 0, &e)) {
                return fprintf(stderr, "%s\n", e.message), 1;
            }
            t[r] = now() - t0;
        }
        qsort(t, REPS, sizeof *t, cmp);
        if (dist_rank(d) == 1)
            printf("rank0_transfer_ms %.2f (median of %d epoch messages of %.1f MB, rank 1 -> rank 0 and the ACK back)\n",
                   t[REPS / 2] * 1e3, REPS, (bw.size + bo.size + bs.size) / 1e6);
        for (int k = 0; k < 3; k++) dist_buf_free(&bufs[k]);
    }
    free(w);
    free(opt);
    dist_finalize(d);
    return 0;
}
