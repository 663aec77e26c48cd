/* cluster.c: see cluster.h.  The messages of a distributed search and what
 * each side does with them.
 *
 * Every thread that talks uses its own (rank, tag) pair, under
 * MPI_THREAD_MULTIPLE: on rank 0 the thread driving another rank's slot k,
 * on that rank the thread serving it, both under CLUSTER_SLOT_TAG + k.  A
 * message is a fixed-size `wire` header and up to five blobs (dist_send):
 *   JOB  (rank 0 -> slot)  one execution: the trial, its dtype policy (rank
 *                          0's resolution, the one the store records), its start; blobs: the
 *                          hyperparameters (pack_values), then the weights,
 *                          optimizer, state and best weights it starts from
 *   EPOCH (slot -> rank 0) a trained epoch's row; blobs: weights,
 *                          optimizer, state (the checkpoint to commit)
 *   ACK  (rank 0 -> slot)  committed; stop or go on
 *   END  (slot -> rank 0)  the execution's outcome and reason
 *   STOP (rank 0 -> slot)  no more jobs
 * Each EPOCH waits for its ACK, so a rank is never more than one epoch ahead
 * of the store. */
#include "runtime/tune/cluster.h"
#include "runtime/nn/blas.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Message kinds: rank 0 sends JOB (one execution) and STOP to a slot; the
 * slot answers each trained epoch with EPOCH, which rank 0 commits and
 * answers with ACK (stop or go on), and each execution with END. */
enum { MSG_JOB = 1, MSG_STOP, MSG_EPOCH, MSG_ACK, MSG_END };

typedef struct wire {
    int kind;
    int trial, parent, epochs, initial_epoch, execution, retry;    /* JOB */
    int dtype_policy;                                               /* JOB */
    int resume, from_parent, checkpoint_epoch;                      /* JOB: exec_start's */
    store_epoch_row row;                                            /* EPOCH */
    int improved;                                                   /* EPOCH */
    int stop;                                                       /* ACK */
    int rc;                                                         /* END */
    char reason[sizeof(hpt_error)];                                 /* END */
} wire;

/* Hyperparameter values as bytes: the hpt_values themselves, with a string
 * replaced by its index among the hyperparameter's values (its pointer means
 * nothing on another rank; the index does, as every rank compiled the same
 * spec). */
static int pack_values(const ir_program *p, const hpt_value *values, hpt_value *out)
{
    for (int k = 0; k < p->n_hps; k++) {
        out[k] = values[k];
        if (values[k].type == V_LIST || values[k].type == V_OBJECT) return -1;
        if (values[k].type != V_STRING) continue;
        const ir_hp *h = &p->hps[k];
        out[k].u.i = -1;
        for (int v = 0; v < h->n_values; v++)
            if (h->values[v].type == V_STRING && !strcmp(h->values[v].u.s, values[k].u.s)) out[k].u.i = v;
        if (out[k].u.i < 0) return -1;
    }
    return 0;
}

static int unpack_values(const ir_program *p, const dist_buf *b, hpt_value *out)
{
    if (b->size != sizeof *out * (size_t)p->n_hps) return -1;
    if (p->n_hps) memcpy(out, b->data, b->size);
    for (int k = 0; k < p->n_hps; k++) {
        if (out[k].type != V_STRING) continue;
        int64_t v = out[k].u.i;
        if (v < 0 || v >= p->hps[k].n_values) return -1;
        out[k].u.s = p->hps[k].values[v].u.s;
    }
    return 0;
}

int cluster_execution(slot *s, job *j, int execution, int retry, const exec_start *st, commit_fn commit, void *user,
                      char *reason, size_t reason_len)
{
    tuner *T = s->T;
    dist *d = T->o->dist;
    hpt_error e;
    hpt_value *packed = malloc(sizeof *packed * ((size_t)T->p->n_hps + 1));
    if (!packed || pack_values(T->p, j->values, packed)) {
        free(packed);
        snprintf(reason, reason_len, "cannot send trial %d's hyperparameters to rank %d", j->trial, s->rank);
        return -1;
    }
    wire w = { .kind = MSG_JOB, .trial = j->trial, .parent = j->parent, .epochs = j->epochs,
               .initial_epoch = j->initial_epoch, .execution = execution, .retry = retry,
               .dtype_policy = j->policy, .resume = st->resume,
               .from_parent = st->from_parent, .checkpoint_epoch = st->epoch };
    store_blob blobs[5] = { { packed, sizeof *packed * (size_t)T->p->n_hps }, st->w, st->opt, st->state, st->best };
    int rc = dist_send(d, s->rank, s->tag, &w, sizeof w, blobs, 5, &e);
    free(packed);
    while (rc == 0) {
        wire m;
        if ((rc = dist_recv(d, s->rank, s->tag, &m, sizeof m, s->bufs, 3, &e))) break;
        if (m.kind == MSG_END) {
            m.reason[sizeof m.reason - 1] = 0;
            snprintf(reason, reason_len, "%s", m.reason);
            if (m.rc != 1) return m.rc;
            pthread_mutex_lock(&T->mu);
            if (!T->stop && !(T->o->interrupted && *T->o->interrupted)) {
                /* The rank stopped on its own (a signal): stop too, resumably. */
                hpt_fail(&T->error, "rank %d was interrupted during trial %d; run the same command again to resume",
                         s->rank, j->trial);
                T->has_error = 1, T->stop = 1;
            }
            pthread_mutex_unlock(&T->mu);
            return 1;
        }
        if (m.kind != MSG_EPOCH || m.row.trial != j->trial) {
            rc = hpt_fail(&e, "rank %d sent an unexpected message (kind %d) during trial %d", s->rank, m.kind, j->trial);
            break;
        }
        store_blob bw = { s->bufs[0].data, s->bufs[0].size }, bo = { s->bufs[1].data, s->bufs[1].size };
        store_blob bs = { s->bufs[2].data, s->bufs[2].size };
        wire ack = { .kind = MSG_ACK, .stop = commit(user, j, &m.row, bw, bo, bs, m.improved) };
        rc = dist_send(d, s->rank, s->tag, &ack, sizeof ack, NULL, 0, &e);
    }
    pthread_mutex_lock(&T->mu);
    if (!T->has_error) T->error = e, T->has_error = 1;
    T->stop = 1;
    pthread_mutex_unlock(&T->mu);
    return 1;
}

int cluster_check_in(tuner *T, int setup_rc, cluster_checkin *all, hpt_error *e)
{
    dist *d = T->o->dist;
    int rank = dist_rank(d), size = dist_size(d), verdict = 0;
    cluster_checkin mine = { .ok = setup_rc == 0, .jobs = tuner_clamp_jobs(T->o->jobs) };
    char host[64] = "?";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = 0;
    if (mine.ok) {
        mine.data_crc = tuner_data_crc(T), mine.n_train = T->n_train, mine.n_val = T->n_val;
        snprintf(mine.source, sizeof mine.source, "%.180s on %s", T->data.train.source, host);
    } else {
        snprintf(mine.message, sizeof mine.message, "on %s: %.940s", host, e->message);
    }
    hpt_error ce;
    if (dist_gather(d, &mine, sizeof mine, all, &ce)) {
        *e = ce;
        return -1;
    }
    if (rank == 0) {
        for (int r = 0; r < size && !verdict; r++) {
            if (!all[r].ok) {
                verdict = 1;
                if (r > 0) hpt_fail(e, "rank %d of %d cannot start %s", r, size, all[r].message);
            } else if (all[r].data_crc != all[0].data_crc || all[r].n_train != all[0].n_train ||
                       all[r].n_val != all[0].n_val) {
                verdict = 1;
                hpt_fail(e, "rank %d loaded other data (%s: %d training rows, %d validation rows, CRC %08x) than "
                            "rank 0 (%s: %d, %d, CRC %08x); every rank must read the same files",
                         r, all[r].source, all[r].n_train, all[r].n_val, all[r].data_crc, all[0].source,
                         all[0].n_train, all[0].n_val, all[0].data_crc);
            }
        }
    }
    if (dist_bcast_int(d, &verdict, &ce)) {
        *e = ce;
        return -1;
    }
    if (verdict && rank != 0) e->message[0] = 0;
    return verdict ? -1 : 0;
}

/* Another rank: send an epoch to rank 0 and wait until it is committed. */
static int send_epoch(void *user, job *j, const store_epoch_row *row, store_blob weights, store_blob optimizer,
                      store_blob state, int improved)
{
    slot *s = user;
    tuner *T = s->T;
    hpt_error e;
    wire m = { .kind = MSG_EPOCH, .row = *row, .improved = improved }, ack = { 0 };
    store_blob blobs[3] = { weights, optimizer, state };
    if (dist_send(T->o->dist, 0, s->tag, &m, sizeof m, blobs, 3, &e) ||
        dist_recv(T->o->dist, 0, s->tag, &ack, sizeof ack, NULL, 0, &e)) {
        pthread_mutex_lock(&T->mu);
        if (!T->has_error) T->error = e, T->has_error = 1;
        pthread_mutex_unlock(&T->mu);
        return 1;
    }
    return ack.stop || (T->o->interrupted && *T->o->interrupted);
}

void *cluster_serve(void *arg)
{
    slot *s = arg;
    tuner *T = s->T;
    dist *d = T->o->dist;
    blas_flush_denormals();
    hpt_value *values = malloc(sizeof *values * ((size_t)T->p->n_hps + 1));
    hpt_error e;
    for (;;) {
        wire w;
        if (dist_recv(d, 0, s->tag, &w, sizeof w, s->bufs, DIST_MAX_BLOBS, &e)) break;
        if (w.kind == MSG_STOP) break;
        wire end = { .kind = MSG_END, .rc = -1 };
        job j = { .trial = w.trial, .parent = w.parent, .epochs = w.epochs, .initial_epoch = w.initial_epoch,
                  .policy = w.dtype_policy, .values = values };
        if (w.kind != MSG_JOB || !values || unpack_values(T->p, &s->bufs[0], values)) {
            snprintf(end.reason, sizeof end.reason, "rank %d could not read the job for trial %d", dist_rank(d), w.trial);
        } else {
            exec_start st = { { s->bufs[1].data, s->bufs[1].size }, { s->bufs[2].data, s->bufs[2].size },
                              { s->bufs[3].data, s->bufs[3].size }, { s->bufs[4].data, s->bufs[4].size },
                              w.resume, w.from_parent, w.checkpoint_epoch };
            end.rc = tuner_train_execution(T, &j, w.execution, w.retry, &st, send_epoch, s, end.reason, sizeof end.reason);
        }
        if (dist_send(d, 0, s->tag, &end, sizeof end, NULL, 0, &e)) break;
    }
    free(values);
    return NULL;
}

void cluster_release(slot *s)
{
    hpt_error e;
    wire stop = { .kind = MSG_STOP };
    if (s->rank > 0) dist_send(s->T->o->dist, s->rank, s->tag, &stop, sizeof stop, NULL, 0, &e);
    for (int b = 0; b < DIST_MAX_BLOBS; b++) dist_buf_free(&s->bufs[b]);
}
