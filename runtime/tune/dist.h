/* dist.h: the MPI transport of a distributed `hptc run` (docs/distributed.md).
 *
 * Only bytes travel here; what they mean (jobs, epochs, checkpoints) is the
 * scheduler's business (runtime/tune/tuner.c).  A message is a fixed-size header
 * followed by up to DIST_MAX_BLOBS blobs of any size; the header goes first
 * with the blob sizes, then each blob, all on one (peer, tag) pair, so MPI's
 * non-overtaking rule keeps them in order.  Every thread that talks uses its
 * own (peer, tag) pairs, under MPI_THREAD_MULTIPLE.
 *
 * Ranks are assumed to run the same hptc binary on the same architecture
 * (headers are raw structs); the cluster's usual setup.
 *
 * Built without MPI (HPTC_MPI undefined), dist_init returns NULL and a run is
 * the single-process one. */
#ifndef HPTC_DIST_H
#define HPTC_DIST_H
#include <stddef.h>
#include "runtime/err.h"
#include "runtime/store/store.h"

#define DIST_MAX_BLOBS 5

typedef struct dist dist;

/* A receive buffer, grown as needed and reused across messages. */
typedef struct dist_buf {
    void *data;
    size_t size, cap;
} dist_buf;

/* Is MPI built in?  (For --version.) */
int dist_available(void);
/* One line: the MPI library's version, into buf (for --version). */
void dist_describe(char *buf, size_t n);

/* When built with MPI and started by a launcher (mpirun, srun: its
 * environment variables are present), initialise MPI with
 * MPI_THREAD_MULTIPLE and return the world.  NULL otherwise, with
 * e->message "" when there is simply no launcher, or the reason MPI could
 * not start. */
dist *dist_init(int *argc, char ***argv, hpt_error *e);
int dist_rank(const dist *d);
int dist_size(const dist *d);
/* MPI_Finalize; d may be NULL. */
void dist_finalize(dist *d);

/* Collective: rank 0's *len bytes at *buf reach every rank (others get a
 * malloc'd copy in *buf, to free). */
int dist_bcast(dist *d, void **buf, size_t *len, hpt_error *e);
/* Collective: each rank's `size` bytes at `mine` into rank 0's `all`
 * (size * dist_size bytes; ignored elsewhere). */
int dist_gather(dist *d, const void *mine, size_t size, void *all, hpt_error *e);
/* Collective: rank 0's int to every rank. */
int dist_bcast_int(dist *d, int *v, hpt_error *e);

/* Send a header and n blobs (n <= DIST_MAX_BLOBS; a NULL or empty blob
 * arrives empty) to rank `to` under `tag`. */
int dist_send(dist *d, int to, int tag, const void *head, size_t head_size, const store_blob *blobs, int n,
              hpt_error *e);
/* Receive what dist_send sent from rank `from` under `tag`: the header into
 * head (head_size bytes), the blobs into bufs[0..n-1] (a blob the sender did
 * not send arrives with size 0). */
int dist_recv(dist *d, int from, int tag, void *head, size_t head_size, dist_buf *bufs, int n, hpt_error *e);
void dist_buf_free(dist_buf *b);

#endif
