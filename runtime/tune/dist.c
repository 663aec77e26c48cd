/* dist.c: see dist.h.  The MPI calls of hptc, all of them, and their stubs
 * when hptc is built without MPI.
 *
 * A blob larger than MPI's int count is sent in DIST_CHUNK pieces; both sides
 * know its size from the header frame, so they cut it the same way. */
#include "runtime/tune/dist.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void dist_buf_free(dist_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->size = b->cap = 0;
}

#ifdef HPTC_MPI
#include <mpi.h>

#define DIST_CHUNK ((size_t)1 << 30)

struct dist {
    int rank, size;
};

int dist_available(void) { return 1; }

void dist_describe(char *buf, size_t n)
{
    char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(v, &len);
    v[strcspn(v, ",\n")] = 0;   /* "Open MPI v4.1.4, package: ..." -> "Open MPI v4.1.4" */
    snprintf(buf, n, "%s", v);
}

/* Launchers announce themselves in the environment: Open MPI's mpirun
 * (OMPI_*), PMIx (srun --mpi=pmix, prterun), PMI-1/2 (srun --mpi=pmi2,
 * MPICH's hydra).  Without one, MPI_Init would start a singleton, slowly and
 * to no purpose. */
static int launched(void)
{
    static const char *vars[] = { "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE" };
    for (size_t k = 0; k < sizeof vars / sizeof vars[0]; k++)
        if (getenv(vars[k])) return 1;
    return 0;
}

static int mpi_fail(hpt_error *e, int code, const char *what)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, msg, &len) != MPI_SUCCESS) snprintf(msg, sizeof msg, "error %d", code);
    return hpt_fail(e, "MPI: %s: %s", what, msg);
}

dist *dist_init(int *argc, char ***argv, hpt_error *e)
{
    e->message[0] = 0;
    if (!launched()) return NULL;
    int provided = 0, rc = MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided);
    if (rc != MPI_SUCCESS) {
        hpt_fail(e, "MPI_Init_thread failed (error %d)", rc);
        return NULL;
    }
    /* Errors come back as codes, so a failed call ends in a message, not an abort. */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    if (provided < MPI_THREAD_MULTIPLE) {
        hpt_fail(e, "this MPI library does not provide MPI_THREAD_MULTIPLE, which hptc needs");
        MPI_Finalize();
        return NULL;
    }
    dist *d = calloc(1, sizeof *d);
    if (!d) {
        hpt_fail(e, "out of memory");
        MPI_Finalize();
        return NULL;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    return d;
}

int dist_rank(const dist *d) { return d ? d->rank : 0; }
int dist_size(const dist *d) { return d ? d->size : 1; }

void dist_finalize(dist *d)
{
    if (!d) return;
    MPI_Finalize();
    free(d);
}

int dist_bcast(dist *d, void **buf, size_t *len, hpt_error *e)
{
    uint64_t n = d->rank == 0 ? (uint64_t)*len : 0;
    int rc = MPI_Bcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return mpi_fail(e, rc, "broadcast");
    if (d->rank != 0) {
        *buf = malloc(n + 1);
        if (!*buf) return hpt_fail(e, "out of memory");
        *len = n;
    }
    for (size_t off = 0; off < n; off += DIST_CHUNK) {
        size_t part = n - off < DIST_CHUNK ? n - off : DIST_CHUNK;
        rc = MPI_Bcast((char *)*buf + off, (int)part, MPI_BYTE, 0, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return mpi_fail(e, rc, "broadcast");
    }
    return 0;
}

int dist_bcast_int(dist *d, int *v, hpt_error *e)
{
    int rc = MPI_Bcast(v, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(e, rc, "broadcast");
}

int dist_gather(dist *d, const void *mine, size_t size, void *all, hpt_error *e)
{
    int rc = MPI_Gather(mine, (int)size, MPI_BYTE, all, (int)size, MPI_BYTE, 0, MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(e, rc, "gather");
}

/* The frame ahead of the blobs: their sizes, then the caller's header. */
typedef struct frame {
    uint64_t sizes[DIST_MAX_BLOBS];
} frame;

int dist_send(dist *d, int to, int tag, const void *head, size_t head_size, const store_blob *blobs, int n,
              hpt_error *e)
{
    unsigned char first[sizeof(frame) + 4096];
    if (head_size > sizeof first - sizeof(frame) || n > DIST_MAX_BLOBS) return hpt_fail(e, "internal error: message too large");
    frame f = { { 0 } };
    for (int k = 0; k < n; k++) f.sizes[k] = blobs[k].data ? blobs[k].size : 0;
    memcpy(first, &f, sizeof f);
    memcpy(first + sizeof f, head, head_size);
    int rc = MPI_Send(first, (int)(sizeof f + head_size), MPI_BYTE, to, tag, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return mpi_fail(e, rc, "send");
    for (int k = 0; k < n; k++)
        for (size_t off = 0; off < f.sizes[k]; off += DIST_CHUNK) {
            size_t part = f.sizes[k] - off < DIST_CHUNK ? f.sizes[k] - off : DIST_CHUNK;
            rc = MPI_Send((const char *)blobs[k].data + off, (int)part, MPI_BYTE, to, tag, MPI_COMM_WORLD);
            if (rc != MPI_SUCCESS) return mpi_fail(e, rc, "send");
        }
    return 0;
}

int dist_recv(dist *d, int from, int tag, void *head, size_t head_size, dist_buf *bufs, int n, hpt_error *e)
{
    unsigned char first[sizeof(frame) + 4096];
    if (head_size > sizeof first - sizeof(frame) || n > DIST_MAX_BLOBS) return hpt_fail(e, "internal error: message too large");
    MPI_Status st;
    MPI_Request req;
    int rc = MPI_Irecv(first, (int)(sizeof(frame) + head_size), MPI_BYTE, from, tag, MPI_COMM_WORLD, &req);
    if (rc != MPI_SUCCESS) return mpi_fail(e, rc, "receive");
    /* A blocking MPI_Recv spins a core until the message comes, and a slot
     * waits an epoch for one: poll, sleeping up to 2 ms, so the waiting
     * threads leave the cores to training.  The blobs follow at once. */
    for (long nap = 20000;;) {
        int done = 0;
        if ((rc = MPI_Test(&req, &done, &st)) != MPI_SUCCESS) return mpi_fail(e, rc, "receive");
        if (done) break;
        struct timespec ts = { 0, nap };
        nanosleep(&ts, NULL);
        if (nap < 2000000) nap *= 2;
    }
    frame f;
    memcpy(&f, first, sizeof f);
    memcpy(head, first + sizeof f, head_size);
    for (int k = 0; k < DIST_MAX_BLOBS; k++) {
        if (k >= n) {
            if (f.sizes[k]) return hpt_fail(e, "internal error: rank %d sent %d blobs, %d expected", from, k + 1, n);
            continue;
        }
        dist_buf *b = &bufs[k];
        if (f.sizes[k] > b->cap) {
            void *grown = realloc(b->data, f.sizes[k]);
            if (!grown) return hpt_fail(e, "out of memory receiving %llu bytes from rank %d",
                                        (unsigned long long)f.sizes[k], from);
            b->data = grown, b->cap = f.sizes[k];
        }
        b->size = f.sizes[k];
        for (size_t off = 0; off < b->size; off += DIST_CHUNK) {
            size_t part = b->size - off < DIST_CHUNK ? b->size - off : DIST_CHUNK;
            rc = MPI_Recv((char *)b->data + off, (int)part, MPI_BYTE, from, tag, MPI_COMM_WORLD, &st);
            if (rc != MPI_SUCCESS) return mpi_fail(e, rc, "receive");
        }
    }
    return 0;
}

#else /* no MPI: a run is always the single-process one */

struct dist {
    int unused;
};

static int no_mpi(hpt_error *e) { return hpt_fail(e, "hptc was built without MPI"); }
int dist_available(void) { return 0; }
void dist_describe(char *buf, size_t n) { snprintf(buf, n, "none"); }
dist *dist_init(int *argc, char ***argv, hpt_error *e)
{
    e->message[0] = 0;
    return NULL;
}
int dist_rank(const dist *d) { return 0; }
int dist_size(const dist *d) { return 1; }
void dist_finalize(dist *d) {}
int dist_bcast(dist *d, void **buf, size_t *len, hpt_error *e) { return no_mpi(e); }
int dist_bcast_int(dist *d, int *v, hpt_error *e) { return no_mpi(e); }
int dist_gather(dist *d, const void *mine, size_t size, void *all, hpt_error *e) { return no_mpi(e); }
int dist_send(dist *d, int to, int tag, const void *head, size_t head_size, const store_blob *blobs, int n,
              hpt_error *e)
{
    return no_mpi(e);
}
int dist_recv(dist *d, int from, int tag, void *head, size_t head_size, dist_buf *bufs, int n, hpt_error *e)
{
    return no_mpi(e);
}
#endif
