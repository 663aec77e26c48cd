/* store.c: see store.h.  Schema version 5:
 *
 *   meta(key PRIMARY KEY, value)
 *   trials(id PRIMARY KEY, status, hps, seed, parent, bracket, round, epochs,
 *          initial_epoch, score, best_epoch, reason, started, finished, data,
 *          dtype_policy, reused_from)
 *   epochs(trial, execution, epoch, loss, accuracy, val_loss, val_accuracy,
 *          seconds, metrics, PRIMARY KEY(trial, execution, epoch))
 *   checkpoints(trial, execution, kind, epoch, weights, optimizer, state, crc,
 *               PRIMARY KEY(trial, execution, kind))
 *   objective_values(trial, k, value, PRIMARY KEY(trial, k))
 *   sessions(id PRIMARY KEY, started, finished, slots, ranks)
 *   work(session, trial, execution, retry, rank, slot, started, finished)
 *
 * Version 1 lacked trials.data and checkpoints.crc, version 2
 * trials.dtype_policy, version 3 epochs.metrics (the compiled metrics
 * beyond accuracy, a JSON object, NULL when none), version 4 (issue 15)
 * trials.reused_from (whence a `--warm-start` copied a trial),
 * objective_values (each objective of a Pareto search) and the timeline;
 * a writer adds them, and readers of an old store (which may not write)
 * leave them out of queries.  A trial without a dtype_policy trained in
 * float32, the only precision before it.
 *
 * The timeline records when the work ran, apart from what it computed: one
 * session per `hptc run` process (finished moves on with every work item
 * that ends, so a killed session ends at its last item), one work row per
 * execution (or fold) of a trial as a slot ran it.  Timing only: never
 * part of the results (trials and epochs), which are the same for any
 * --jobs, ranks and resume while these are not.
 *
 * synchronous=NORMAL in WAL mode keeps every committed epoch across a
 * process kill (only a power loss can take the last transactions back). */
#include "runtime/store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

struct store {
    sqlite3 *db;
    int lock_fd;                /* path/hptc.lock, held by a writer; -1 for readers */
    int has_data, has_crc;      /* schema 2 columns present (always, once a writer opened it) */
    int has_policy;             /* schema 3's trials.dtype_policy, likewise */
    int has_metrics;            /* schema 4's epochs.metrics, likewise */
    int has_reused;             /* warm start's trials.reused_from, likewise */
    int has_timeline;           /* the "busy" step's sessions and work tables */
    char path[1024];
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS trials(id INTEGER PRIMARY KEY, status TEXT NOT NULL, hps TEXT NOT NULL,"
    " seed INTEGER, parent INTEGER, bracket INTEGER, round INTEGER, epochs INTEGER, initial_epoch INTEGER,"
    " score REAL, best_epoch INTEGER, reason TEXT, started REAL, finished REAL, data TEXT, dtype_policy TEXT);"
    "CREATE TABLE IF NOT EXISTS epochs(trial INTEGER, execution INTEGER, epoch INTEGER, loss REAL,"
    " accuracy REAL, val_loss REAL, val_accuracy REAL, seconds REAL, metrics TEXT, PRIMARY KEY(trial, execution, epoch));"
    "CREATE TABLE IF NOT EXISTS checkpoints(trial INTEGER, execution INTEGER, kind TEXT, epoch INTEGER,"
    " weights BLOB, optimizer BLOB, state BLOB, crc INTEGER, PRIMARY KEY(trial, execution, kind));"
    /* version 5: the timeline, see the opening comment */
    "CREATE TABLE IF NOT EXISTS sessions(id INTEGER PRIMARY KEY, started REAL, finished REAL, slots INTEGER,"
    " ranks INTEGER);"
    "CREATE TABLE IF NOT EXISTS work(session INTEGER, trial INTEGER, execution INTEGER, retry INTEGER,"
    " rank INTEGER, slot INTEGER, started REAL, finished REAL);";

static int db_fail(store *s, hpt_error *e, const char *what)
{
    return hpt_fail(e, "%s/hptc.db: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static int exec(store *s, const char *sql, hpt_error *e)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        hpt_fail(e, "%s/hptc.db: %s", s->path, msg ? msg : "error");
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

/* Prepare sql and bind its parameters, one letter of `types` for each:
 *   i  an int              l  a long long (int64)
 *   d  a double (NaN binds NULL, as SQL has no NaN)
 *   t  a text (a NULL pointer binds NULL)
 *   b  a blob, as a const store_blob * (a NULL pointer binds NULL)
 * Texts and blobs are bound in place (SQLITE_STATIC): they outlive every
 * step in this file.  Returns the statement, or NULL with e filled as
 * db_fail(what) says. */
static sqlite3_stmt *vprepare(store *s, hpt_error *e, const char *what, const char *sql, const char *types, va_list ap)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL)) {
        db_fail(s, e, what);
        return NULL;
    }
    int rc = SQLITE_OK;
    for (int k = 1; types[k - 1] && rc == SQLITE_OK; k++) {
        switch (types[k - 1]) {
        case 'i': rc = sqlite3_bind_int(st, k, va_arg(ap, int)); break;
        case 'l': rc = sqlite3_bind_int64(st, k, (sqlite3_int64)va_arg(ap, long long)); break;
        case 'd': {
            double v = va_arg(ap, double);
            rc = isnan(v) ? sqlite3_bind_null(st, k) : sqlite3_bind_double(st, k, v);
            break;
        }
        case 't': rc = sqlite3_bind_text(st, k, va_arg(ap, const char *), -1, SQLITE_STATIC); break;
        case 'b': {
            const store_blob *b = va_arg(ap, const store_blob *);
            if (b) rc = sqlite3_bind_blob64(st, k, b->data, b->size, SQLITE_STATIC);
            break;
        }
        }
    }
    /* A value SQLite refuses (too big for its limits) is an error, never a
     * NULL stored in its place. */
    if (rc != SQLITE_OK) {
        db_fail(s, e, what);
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

static sqlite3_stmt *prepare(store *s, hpt_error *e, const char *what, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    sqlite3_stmt *st = vprepare(s, e, what, sql, types, ap);
    va_end(ap);
    return st;
}

/* A statement that returns no rows (an insert, an update): prepare, bind
 * (as prepare), step it to its end.  0, or -1 with e filled as db_fail(what). */
static int run(store *s, hpt_error *e, const char *what, const char *sql, const char *types, ...)
{
    va_list ap;
    va_start(ap, types);
    sqlite3_stmt *st = vprepare(s, e, what, sql, types, ap);
    va_end(ap);
    if (!st) return -1;
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_fail(s, e, what);
    sqlite3_finalize(st);
    return rc;
}

static int mkdirs(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0777) && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(tmp, 0777) && errno != EEXIST ? -1 : 0;
}

static int has_column(store *s, const char *table, const char *column)
{
    sqlite3_stmt *st = prepare(s, NULL, "columns", "SELECT 1 FROM pragma_table_info(?) WHERE name = ?", "tt", table,
                               column);
    int found = st && sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}
/* A first query: opening is lazy in SQLite, so errors (a read-only WAL store,
 * a file that is no database) surface here. */
static int probe(store *s)
{
    return sqlite3_exec(s->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
}

static store *open_db(const char *path, const char *uri_query, int flags, hpt_error *e)
{
    store *s = calloc(1, sizeof *s);
    if (!s) return hpt_fail(e, "out of memory"), NULL;
    s->lock_fd = -1;
    snprintf(s->path, sizeof s->path, "%s", path);
    /* A URI, so read-only opens can ask for immutable=1; the path is
     * percent-encoded where a URI would misread it. */
    char uri[3400];
    size_t n = (size_t)snprintf(uri, sizeof uri, "file:");
    for (const char *c = path; *c && n + 4 < sizeof uri; c++)
        n += (size_t)(strchr("?#%", *c) ? snprintf(uri + n, sizeof uri - n, "%%%02X", (unsigned char)*c)
                                         : snprintf(uri + n, sizeof uri - n, "%c", *c));
    snprintf(uri + n, sizeof uri - n, "/hptc.db%s", uri_query);
    if (sqlite3_open_v2(uri, &s->db, flags | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
        hpt_fail(e, "%s/hptc.db: cannot open: %s", path, s->db ? sqlite3_errmsg(s->db) : "out of memory");
        store_close(s);
        return NULL;
    }
    /* Readers wait rather than fail while a search commits an epoch. */
    sqlite3_busy_timeout(s->db, 10000);
    return s;
}

/* The project's lock: an OFD lock on path/hptc.lock, which holds the
 * holder's "pid host start-time" for the message a second writer gets.  OFD
 * locks belong to the open file, not the process, so threads cannot trip
 * over them, and the kernel drops them when the holder exits or is killed:
 * a dead run never blocks a new one.  Returns the locked descriptor. */
static int lock_project(const char *path, hpt_error *e)
{
    char file[1100];
    snprintf(file, sizeof file, "%s/hptc.lock", path);
    int fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) return hpt_fail(e, "%s: cannot open the project's lock: %s", file, strerror(errno));
    struct flock l = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    if (fcntl(fd, F_OFD_SETLK, &l) == 0) {
        char host[256] = "?", line[400];
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = 0;
        int len = snprintf(line, sizeof line, "%ld %s %lld\n", (long)getpid(), host, (long long)time(NULL));
        if (ftruncate(fd, 0) || pwrite(fd, line, (size_t)len, 0) != len) { /* the lock holds; only the note is lost */ }
        return fd;
    }
    int err = errno;
    if (err != EAGAIN && err != EACCES) {
        close(fd);
        return hpt_fail(e, "%s: cannot lock the project: %s", file, strerror(err));
    }
    /* The holder writes its note just after it takes the lock: give it a
     * moment before calling the holder unknown. */
    char note[400] = "", host[256] = "?";
    long pid = 0;
    long long since = 0;
    int parsed = 0;
    for (int tries = 0; tries < 50 && !parsed; tries++) {
        if (tries) nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
        ssize_t got = pread(fd, note, sizeof note - 1, 0);
        note[got > 0 ? got : 0] = 0;
        parsed = sscanf(note, "%ld %255s %lld", &pid, host, &since) == 3;
    }
    close(fd);
    if (!parsed)
        return hpt_fail(e, "%s is in use by another hptc run, which is starting: one search per project at a time", path);
    char when[64] = "?";
    time_t t = (time_t)since;
    struct tm tm;
    if (gmtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return hpt_fail(e, "%s is in use by another hptc run (pid %ld on %s, since %s): one search per project at a "
                       "time; wait for it to end or stop it (a stopped search resumes where it left off)",
                    path, pid, host, when);
}

/* Bring a version 1 to 4 store to version 5 (a writer only). */
static int upgrade(store *s, hpt_error *e)
{
    if (!has_column(s, "trials", "data") && exec(s, "ALTER TABLE trials ADD COLUMN data TEXT", e)) return -1;
    if (!has_column(s, "checkpoints", "crc") && exec(s, "ALTER TABLE checkpoints ADD COLUMN crc INTEGER", e)) return -1;
    if (!has_column(s, "trials", "dtype_policy") && exec(s, "ALTER TABLE trials ADD COLUMN dtype_policy TEXT", e))
        return -1;
    if (!has_column(s, "epochs", "metrics") && exec(s, "ALTER TABLE epochs ADD COLUMN metrics TEXT", e)) return -1;
    /* Version 5: each trial's value of every objective (objectives.h),
     * index k in the order of the meta "objectives". */
    if (exec(s, "CREATE TABLE IF NOT EXISTS objective_values(trial INTEGER, k INTEGER, value REAL, PRIMARY KEY(trial, k))",
             e))
        return -1;
    /* Version 5: trials.reused_from, "DIR/PROJECT trial N" for a trial copied from
     * another study's store by `hptc run --warm-start`, NULL otherwise. */
    if (!has_column(s, "trials", "reused_from") && exec(s, "ALTER TABLE trials ADD COLUMN reused_from TEXT", e))
        return -1;
    s->has_data = s->has_crc = s->has_policy = s->has_metrics = s->has_reused = 1;
    s->has_timeline = 1;        /* version 5's sessions and work: SCHEMA creates them in any store */
    return 0;
}

/* An existing store must be of this spec and this data. */
static int check_identity(store *s, const char *path, const store_identity *id, hpt_error *e)
{
    char hash[32];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)id->spec_hash);
    char *old = store_meta_get(s, "spec_hash");
    int rc = 0;
    if (old && strcmp(old, hash)) {
        char *old_file = store_meta_get(s, "spec_file");
        rc = hpt_fail(e, "%s holds a search of another spec (%s, hash %s; this spec %s, hash %s): "
                         "run with --warm-start to start a new study beside it seeded with its trials that still "
                         "hold (hptc diff %s %s lists them), or with --overwrite to start afresh, or change "
                         "project_name",
                      path, old_file ? old_file : "?", old, id->spec_file, hash, old_file ? old_file : "OLD.hpt",
                      id->spec_file);
        free(old_file);
    }
    free(old);
    char *old_data = rc == 0 && id->data_fingerprint ? store_meta_get(s, "data_fingerprint") : NULL;
    if (old_data && strcmp(old_data, id->data_fingerprint)) {
        char *old_source = store_meta_get(s, "data_source");
        rc = hpt_fail(e, "%s was searched on other data (%s; fingerprint %s) than this run reads (%s; fingerprint "
                         "%s): its trials would not compare.  Resume with the same data (the same files, HPT_DATA "
                         "and --limit), or run with --overwrite to start a new study, or change project_name",
                      path, old_source ? old_source : "?", old_data, id->data_source ? id->data_source : "?",
                      id->data_fingerprint);
        free(old_source);
    }
    free(old_data);
    return rc;
}

store *store_open(const char *path, const store_identity *id, int overwrite, hpt_error *e)
{
    if (!*path) return hpt_fail(e, "the project path is empty"), NULL;
    if (mkdirs(path)) return hpt_fail(e, "%s: cannot create the project directory: %s", path, strerror(errno)), NULL;
    /* The lock comes first: --overwrite must never remove a live project. */
    int lock_fd = lock_project(path, e);
    if (lock_fd < 0) return NULL;
    if (overwrite) {
        const char *suffix[] = { "", "-wal", "-shm" };
        char file[1100];
        for (int k = 0; k < 3; k++) {
            snprintf(file, sizeof file, "%s/hptc.db%s", path, suffix[k]);
            unlink(file);
        }
    }
    store *s = open_db(path, "", SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, e);
    if (!s) {
        close(lock_fd);
        return NULL;
    }
    s->lock_fd = lock_fd;
    /* auto_vacuum only takes on a new database, before any table: it lets
     * store_compact hand the pages of pruned checkpoints back to the disk. */
    if (exec(s, "PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;", e) ||
        exec(s, SCHEMA, e) || upgrade(s, e) || check_identity(s, path, id, e)) {
        store_close(s);
        return NULL;
    }
    char hash[32];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)id->spec_hash);
    if (store_meta_set(s, "schema_version", "5", e) || store_meta_set(s, "spec_hash", hash, e) ||
        store_meta_set(s, "spec", id->spec, e) || store_meta_set(s, "spec_file", id->spec_file, e) ||
        (id->data_fingerprint && (store_meta_set(s, "data_fingerprint", id->data_fingerprint, e) ||
                                  store_meta_set(s, "data_source", id->data_source ? id->data_source : "", e)))) {
        store_close(s);
        return NULL;
    }
    return s;
}

store *store_open_readonly(const char *path, hpt_error *e)
{
    char file[1100];
    snprintf(file, sizeof file, "%s/hptc.db", path);
    if (access(file, R_OK)) return hpt_fail(e, "%s: no hptc.db here (is it directory/project_name?)", path), NULL;
    store *s = open_db(path, "?mode=ro", SQLITE_OPEN_READONLY, e);
    if (s && probe(s) != SQLITE_OK) {
        /* A WAL database needs its -shm index, which a reader creates when
         * the search that wrote it has ended: impossible on read-only media
         * or in a directory this user may not write.  Without a -wal file
         * every commit is in the database itself, so it can be read as an
         * immutable file, without the index and without locks. */
        snprintf(file, sizeof file, "%s/hptc.db-wal", path);
        int wal = access(file, F_OK) == 0;
        hpt_error why;
        hpt_fail(&why, "%s", sqlite3_errmsg(s->db));
        store_close(s);
        s = wal ? NULL : open_db(path, "?immutable=1", SQLITE_OPEN_READONLY, e);
        if (!s || probe(s) != SQLITE_OK) {
            store_close(s);
            return hpt_fail(e, "%s/hptc.db: cannot read: %s%s", path, why.message,
                            wal ? " (its -wal file holds commits, and reading them needs write access to the "
                                  "directory: copy the project somewhere writable)" : ""), NULL;
        }
    }
    if (s) {
        s->has_data = has_column(s, "trials", "data"), s->has_crc = has_column(s, "checkpoints", "crc");
        s->has_policy = has_column(s, "trials", "dtype_policy");
        s->has_metrics = has_column(s, "epochs", "metrics");
        s->has_reused = has_column(s, "trials", "reused_from");
        s->has_timeline = has_column(s, "work", "slot");
    }
    return s;
}

void store_close(store *s)
{
    if (!s) return;
    sqlite3_close(s->db);
    if (s->lock_fd >= 0) close(s->lock_fd);
    free(s);
}

int store_meta_set(store *s, const char *key, const char *value, hpt_error *e)
{
    return run(s, e, "meta", "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", "tt", key, value);
}
char *store_meta_get(store *s, const char *key)
{
    char *value = NULL;
    sqlite3_stmt *st = prepare(s, NULL, "meta", "SELECT value FROM meta WHERE key = ?", "t", key);
    if (st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        value = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return value;
}
int store_trial_begin(store *s, const store_trial *t, hpt_error *e)
{
    return run(s, e, "trial",
               "INSERT OR IGNORE INTO trials(id, status, hps, seed, parent, bracket, round, epochs,"
               " initial_epoch, started, data, dtype_policy) VALUES(?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               "itliiiiidtt", t->id, t->hps_json, (long long)t->seed, t->parent, t->bracket, t->round, t->epochs,
               t->initial_epoch, t->started, t->data ? t->data : "", *t->dtype_policy ? t->dtype_policy : "float32");
}
/* The CRC-32 a checkpoint row carries: of its weights, optimizer state and
 * training state, in that order (absent blobs count as empty). */
static uint32_t checkpoint_crc(const store_blob *w, const store_blob *opt, const store_blob *state)
{
    const store_blob *parts[3] = { w, opt, state };
    uLong crc = crc32(0L, Z_NULL, 0);
    for (int k = 0; k < 3; k++) {
        const unsigned char *b = parts[k] ? parts[k]->data : NULL;
        size_t n = b ? parts[k]->size : 0;
        for (size_t off = 0; off < n; off += 1u << 30)
            crc = crc32(crc, b + off, (uInt)(n - off < (1u << 30) ? n - off : 1u << 30));
    }
    return (uint32_t)crc;
}

static int put_checkpoint(store *s, int trial, int execution, const char *kind, int epoch, store_blob w,
                          const store_blob *opt, const store_blob *state, hpt_error *e)
{
    return run(s, e, "checkpoint",
               "INSERT OR REPLACE INTO checkpoints(trial, execution, kind, epoch, weights, optimizer, state, crc)"
               " VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
               "iitibbbl", trial, execution, kind, epoch, &w, opt, state, (long long)checkpoint_crc(&w, opt, state));
}
int store_epoch(store *s, const store_epoch_row *row, store_blob weights, store_blob optimizer, store_blob state,
                const store_blob *best_weights, hpt_error *e)
{
    if (exec(s, "BEGIN IMMEDIATE", e)) return -1;
    int rc = -1;
    if (run(s, e, "epoch",
            "INSERT OR REPLACE INTO epochs(trial, execution, epoch, loss, accuracy, val_loss,"
            " val_accuracy, seconds, metrics) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
            "iiidddddt", row->trial, row->execution, row->epoch, row->loss, row->accuracy, row->val_loss,
            row->val_accuracy, row->seconds, row->metrics[0] && strcmp(row->metrics, "{}") ? row->metrics : NULL))
        goto out;
    if (put_checkpoint(s, row->trial, row->execution, "last", row->epoch, weights, &optimizer, &state, e)) goto out;
    if (best_weights && put_checkpoint(s, row->trial, row->execution, "best", row->epoch, *best_weights, NULL, NULL, e))
        goto out;
    rc = exec(s, "COMMIT", e);
out:
    if (rc) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}
int store_trial_end(store *s, int trial, const char *status, double score, int best_epoch, const char *reason,
                    hpt_error *e)
{
    if (exec(s, "BEGIN IMMEDIATE", e)) return -1;
    int rc = -1;
    if (run(s, e, "trial end",
            "UPDATE trials SET status = ?, score = ?, best_epoch = ?, reason = ?,"
            " finished = (julianday('now') - 2440587.5) * 86400.0 WHERE id = ?",
            "tditi", status, score, best_epoch, reason ? reason : "", trial))
        goto out;
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM checkpoints WHERE trial = %d AND kind = 'last'", trial);
    if (exec(s, sql, e)) goto out;
    rc = exec(s, "COMMIT", e);
out:
    if (rc) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}
int store_trial_reset(store *s, int trial, int execution, hpt_error *e)
{
    char sql[300], which[40] = "";
    if (execution >= 0) snprintf(which, sizeof which, " AND execution = %d", execution);
    snprintf(sql, sizeof sql,
             "BEGIN IMMEDIATE; DELETE FROM epochs WHERE trial = %d%s; DELETE FROM checkpoints WHERE trial = %d%s; COMMIT;",
             trial, which, trial, which);
    return exec(s, sql, e);
}

int store_trial_import(store *s, const store_trial *t, const store_epoch_row *rows, int n_rows, const store_blob *best,
                       const int *best_execution, const int *best_epoch, int n_best, hpt_error *e)
{
    if (exec(s, "BEGIN IMMEDIATE", e)) return -1;
    int rc = run(s, e, "reused trial",
                 "INSERT OR REPLACE INTO trials(id, status, hps, seed, parent, bracket, round, epochs, initial_epoch, score,"
                 " best_epoch, reason, started, finished, data, dtype_policy, reused_from)"
                 " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 "ittliiiiiditddttt", t->id, t->status, t->hps_json, (long long)t->seed, t->parent, t->bracket, t->round,
                 t->epochs, t->initial_epoch, t->score, t->best_epoch, t->reason ? t->reason : "", t->started,
                 t->finished, t->data ? t->data : "", *t->dtype_policy ? t->dtype_policy : "float32",
                 t->reused_from ? t->reused_from : "");
    for (int k = 0; rc == 0 && k < n_rows; k++) {
        const store_epoch_row *r = &rows[k];
        rc = run(s, e, "reused epoch",
                 "INSERT OR REPLACE INTO epochs(trial, execution, epoch, loss, accuracy, val_loss, val_accuracy, seconds, metrics)"
                 " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                 "iiidddddt", t->id, r->execution, r->epoch, r->loss, r->accuracy, r->val_loss, r->val_accuracy,
                 r->seconds, r->metrics[0] && strcmp(r->metrics, "{}") ? r->metrics : NULL);
    }
    for (int k = 0; rc == 0 && k < n_best; k++)
        rc = put_checkpoint(s, t->id, best_execution[k], "best", best_epoch[k], best[k], NULL, NULL, e);
    if (rc == 0) rc = exec(s, "COMMIT", e);
    else sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static char *column_dup(sqlite3_stmt *st, int k)
{
    const unsigned char *t = sqlite3_column_text(st, k);
    return strdup(t ? (const char *)t : "");
}

static double column_double(sqlite3_stmt *st, int k)
{
    return sqlite3_column_type(st, k) == SQLITE_NULL ? NAN : sqlite3_column_double(st, k);
}

int store_load_trials(store *s, store_trial **out, int *n, hpt_error *e)
{
    /* Columns an older store lacks read as their meaning then: no data
     * fingerprint, float32 (a NULL policy, from the upgrade, too). */
    char sql[400];
    snprintf(sql, sizeof sql, "SELECT id, status, hps, seed, parent, bracket, round, epochs, initial_epoch, score,"
             " best_epoch, reason, started, finished, %s, %s, %s FROM trials ORDER BY id", s->has_data ? "data" : "''",
             s->has_policy ? "coalesce(dtype_policy, 'float32')" : "'float32'", s->has_reused ? "reused_from" : "''");
    sqlite3_stmt *st = prepare(s, e, "trials", sql, "");
    if (!st) return -1;
    int cap = 64, count = 0, rc = 0;
    store_trial *t = malloc(sizeof *t * (size_t)cap);
    while (t && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            store_trial *grown = realloc(t, sizeof *t * (size_t)(cap *= 2));
            if (!grown) break;
            t = grown;
        }
        store_trial *r = &t[count++];
        memset(r, 0, sizeof *r);
        r->id = sqlite3_column_int(st, 0);
        const unsigned char *status = sqlite3_column_text(st, 1);
        snprintf(r->status, sizeof r->status, "%s", status ? (const char *)status : "");
        r->hps_json = column_dup(st, 2);
        r->seed = (uint64_t)sqlite3_column_int64(st, 3);
        r->parent = sqlite3_column_int(st, 4);
        r->bracket = sqlite3_column_int(st, 5);
        r->round = sqlite3_column_int(st, 6);
        r->epochs = sqlite3_column_int(st, 7);
        r->initial_epoch = sqlite3_column_int(st, 8);
        r->score = column_double(st, 9);
        r->best_epoch = sqlite3_column_type(st, 10) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 10);
        r->reason = column_dup(st, 11);
        r->started = column_double(st, 12);
        r->finished = column_double(st, 13);
        r->data = column_dup(st, 14);
        const unsigned char *policy = sqlite3_column_text(st, 15);
        snprintf(r->dtype_policy, sizeof r->dtype_policy, "%s", policy ? (const char *)policy : "float32");
        r->reused_from = column_dup(st, 16);
    }
    sqlite3_finalize(st);
    if (!t || rc != SQLITE_DONE) {
        store_free_trials(t, count);
        return db_fail(s, e, "trials");
    }
    *out = t;
    *n = count;
    return 0;
}

void store_free_trials(store_trial *t, int n)
{
    for (int k = 0; t && k < n; k++) free(t[k].hps_json), free(t[k].reason), free(t[k].data), free(t[k].reused_from);
    free(t);
}

int *store_rank_trials(const store_trial *t, int n, int maximize, int *m)
{
    int *order = malloc(sizeof *order * (size_t)(n ? n : 1));
    *m = 0;
    for (int k = 0; order && k < n; k++)
        if (!strcmp(t[k].status, "completed") && !isnan(t[k].score)) order[(*m)++] = k;
    /* Insertion sort: stable, so ties keep t's order. */
    for (int a = 1; a < *m; a++)
        for (int b = a; b > 0; b--) {
            double x = t[order[b]].score, y = t[order[b - 1]].score;
            if (!(maximize ? x > y : x < y)) break;
            int tmp = order[b];
            order[b] = order[b - 1];
            order[b - 1] = tmp;
        }
    return order;
}

int store_load_epochs(store *s, int trial, store_epoch_row **out, int *n, hpt_error *e)
{
    char sql[300];
    snprintf(sql, sizeof sql, "SELECT trial, execution, epoch, loss, accuracy, val_loss, val_accuracy, seconds, %s"
             " FROM epochs %s ORDER BY trial, execution, epoch", s->has_metrics ? "metrics" : "NULL",
             trial >= 0 ? "WHERE trial = ?" : "");
    sqlite3_stmt *st = prepare(s, e, "epochs", sql, trial >= 0 ? "i" : "", trial);
    if (!st) return -1;
    int cap = 64, count = 0, rc = 0;
    store_epoch_row *r = malloc(sizeof *r * (size_t)cap);
    while (r && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (count == cap) {
            store_epoch_row *grown = realloc(r, sizeof *r * (size_t)(cap *= 2));
            if (!grown) break;
            r = grown;
        }
        store_epoch_row *x = &r[count++];
        x->trial = sqlite3_column_int(st, 0);
        x->execution = sqlite3_column_int(st, 1);
        x->epoch = sqlite3_column_int(st, 2);
        x->loss = column_double(st, 3);
        x->accuracy = column_double(st, 4);
        x->val_loss = column_double(st, 5);
        x->val_accuracy = column_double(st, 6);
        x->seconds = column_double(st, 7);
        const unsigned char *metrics = sqlite3_column_text(st, 8);
        snprintf(x->metrics, sizeof x->metrics, "%s", metrics ? (const char *)metrics : "");
    }
    sqlite3_finalize(st);
    if (!r || rc != SQLITE_DONE) {
        free(r);
        return db_fail(s, e, "epochs");
    }
    *out = r;
    *n = count;
    return 0;
}

static void *blob_dup(store_blob b, size_t *size)
{
    *size = b.size;
    void *copy = malloc(b.size ? b.size : 1);
    if (copy && b.data) memcpy(copy, b.data, b.size);
    return copy;
}

int store_load_checkpoint(store *s, int trial, int execution, const char *kind, void **weights, size_t *weights_size,
                          void **optimizer, size_t *optimizer_size, void **state, size_t *state_size, int *epoch,
                          hpt_error *e)
{
    sqlite3_stmt *st = prepare(s, e, "checkpoint",
                               s->has_crc ? "SELECT epoch, weights, optimizer, state, crc FROM checkpoints"
                                            " WHERE trial = ? AND execution = ? AND kind = ?"
                                          : "SELECT epoch, weights, optimizer, state, NULL FROM checkpoints"
                                            " WHERE trial = ? AND execution = ? AND kind = ?",
                               "iit", trial, execution, kind);
    if (!st) return -1;
    int found = 0;
    if (sqlite3_step(st) == SQLITE_ROW) {
        store_blob b[3];
        for (int k = 0; k < 3; k++)
            b[k] = (store_blob){ sqlite3_column_blob(st, 1 + k), (size_t)sqlite3_column_bytes(st, 1 + k) };
        /* A row written before schema 2 has no CRC: its sizes are still checked by the caller. */
        if (sqlite3_column_type(st, 4) != SQLITE_NULL &&
            (uint32_t)sqlite3_column_int64(st, 4) != checkpoint_crc(&b[0], &b[1], &b[2])) {
            found = hpt_fail(e, "%s/hptc.db: the %s checkpoint of trial %d (execution %d) is damaged: its CRC-32 "
                                "does not match its contents", s->path, kind, trial, execution);
        } else {
            found = 1;
            if (epoch) *epoch = sqlite3_column_int(st, 0);
            *weights = blob_dup(b[0], weights_size);
            if (optimizer) *optimizer = blob_dup(b[1], optimizer_size);
            if (state) *state = blob_dup(b[2], state_size);
        }
    }
    sqlite3_finalize(st);
    return found;
}

int store_prune(store *s, int (*keep)(void *user, int trial), void *user, hpt_error *e)
{
    /* A running trial's own checkpoints are what it resumes from: never pruned. */
    sqlite3_stmt *st = prepare(s, e, "prune",
                               "SELECT DISTINCT c.trial FROM checkpoints c JOIN trials t ON t.id = c.trial"
                               " WHERE c.kind = 'best' AND t.status <> 'running'",
                               "");
    if (!st) return -1;
    int cap = 256, n = 0;
    int *drop = malloc(sizeof *drop * (size_t)cap);
    while (drop && sqlite3_step(st) == SQLITE_ROW) {
        int trial = sqlite3_column_int(st, 0);
        if (keep(user, trial)) continue;
        if (n == cap) {
            int *grown = realloc(drop, sizeof *drop * (size_t)(cap *= 2));
            if (!grown) break;
            drop = grown;
        }
        drop[n++] = trial;
    }
    sqlite3_finalize(st);
    int rc = exec(s, "BEGIN IMMEDIATE", e);
    for (int k = 0; rc == 0 && drop && k < n; k++) {
        char sql[128];
        snprintf(sql, sizeof sql, "DELETE FROM checkpoints WHERE trial = %d AND kind = 'best'", drop[k]);
        rc = exec(s, sql, e);
    }
    if (rc == 0) rc = exec(s, "COMMIT", e);
    else sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    free(drop);
    return rc;
}

int store_compact(store *s, hpt_error *e)
{
    return exec(s, "PRAGMA incremental_vacuum; PRAGMA wal_checkpoint(TRUNCATE);", e);
}

long long store_checkpoint_bytes(store *s)
{
    long long bytes = 0;
    sqlite3_stmt *st = prepare(s, NULL, "checkpoints",
                               "SELECT COALESCE(SUM(LENGTH(weights) + COALESCE(LENGTH(optimizer), 0) +"
                               " COALESCE(LENGTH(state), 0)), 0) FROM checkpoints",
                               "");
    if (!st) return -1;
    if (sqlite3_step(st) == SQLITE_ROW) bytes = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return bytes;
}

/* ---- objective vectors ------------------------------------------------- */

int store_objectives_set(store *s, int trial, const double *values, int n, hpt_error *e)
{
    if (exec(s, "BEGIN IMMEDIATE", e)) return -1;
    int rc = 0;
    for (int k = 0; k < n && rc == 0; k++)
        rc = run(s, e, "objective values", "INSERT OR REPLACE INTO objective_values(trial, k, value) VALUES (?, ?, ?)",
                 "iid", trial, k, values[k]);
    if (rc == 0) rc = exec(s, "COMMIT", e);
    if (rc) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int store_objectives_load(store *s, int n_objectives, int n_trials, double *values, hpt_error *e)
{
    for (long i = 0; i < (long)n_trials * n_objectives; i++) values[i] = NAN;
    sqlite3_stmt *st = NULL;
    /* A store from before the table has no vectors: all NaN. */
    if (sqlite3_prepare_v2(s->db, "SELECT trial, k, value FROM objective_values", -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return 0;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int t = sqlite3_column_int(st, 0), k = sqlite3_column_int(st, 1);
        if (t >= 0 && t < n_trials && k >= 0 && k < n_objectives) values[(size_t)t * n_objectives + k] = column_double(st, 2);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_fail(s, e, "objective values");
}

/* ---- the timeline: when the work ran -------------------------------------- */

int store_session_begin(store *s, const store_session *row, int *id, hpt_error *e)
{
    if (run(s, e, "session", "INSERT INTO sessions(started, finished, slots, ranks) VALUES(?, ?, ?, ?)", "ddii",
            row->started, row->started, row->slots, row->ranks))
        return -1;
    *id = (int)sqlite3_last_insert_rowid(s->db);
    return 0;
}

int store_session_end(store *s, int session, double finished, hpt_error *e)
{
    return run(s, e, "session", "UPDATE sessions SET finished = max(finished, ?) WHERE id = ?", "di", finished, session);
}

int store_work_begin(store *s, const store_work *w, long long *id, hpt_error *e)
{
    if (run(s, e, "work", "INSERT INTO work(session, trial, execution, retry, rank, slot, started) "
                          "VALUES(?, ?, ?, ?, ?, ?, ?)", "iiiiiid", w->session, w->trial, w->execution, w->retry,
            w->rank, w->slot, w->started))
        return -1;
    *id = (long long)sqlite3_last_insert_rowid(s->db);
    return 0;
}

int store_work_end(store *s, long long id, int session, double finished, hpt_error *e)
{
    if (run(s, e, "work", "UPDATE work SET finished = ? WHERE rowid = ?", "dl", finished, id)) return -1;
    return store_session_end(s, session, finished, e);
}

int store_load_timeline(store *s, store_session **sessions, int *n_sessions, store_work **work, int *n_work,
                        hpt_error *e)
{
    *sessions = NULL, *work = NULL, *n_sessions = *n_work = 0;
    if (!s->has_timeline) return 0;     /* a store from before: no timing recorded */
    sqlite3_stmt *st = prepare(s, e, "sessions", "SELECT id, started, finished, slots, ranks FROM sessions ORDER BY id", "");
    if (!st) return -1;
    int cap = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n_sessions == cap) {
            store_session *grown = realloc(*sessions, sizeof *grown * (size_t)(cap = cap ? 2 * cap : 8));
            if (!grown) break;
            *sessions = grown;
        }
        store_session *r = &(*sessions)[(*n_sessions)++];
        r->id = sqlite3_column_int(st, 0);
        r->started = column_double(st, 1), r->finished = column_double(st, 2);
        r->slots = sqlite3_column_int(st, 3), r->ranks = sqlite3_column_int(st, 4);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) goto fail;
    st = prepare(s, e, "work", "SELECT session, trial, execution, retry, rank, slot, started, finished FROM work "
                               "ORDER BY started, rowid", "");
    if (!st) {
        free(*sessions);
        *sessions = NULL, *n_sessions = 0;
        return -1;
    }
    cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n_work == cap) {
            store_work *grown = realloc(*work, sizeof *grown * (size_t)(cap = cap ? 2 * cap : 64));
            if (!grown) break;
            *work = grown;
        }
        store_work *w = &(*work)[(*n_work)++];
        w->session = sqlite3_column_int(st, 0), w->trial = sqlite3_column_int(st, 1);
        w->execution = sqlite3_column_int(st, 2), w->retry = sqlite3_column_int(st, 3);
        w->rank = sqlite3_column_int(st, 4), w->slot = sqlite3_column_int(st, 5);
        w->started = column_double(st, 6), w->finished = column_double(st, 7);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_DONE) return 0;
fail:
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) db_fail(s, e, "timeline");
    else hpt_fail(e, "out of memory");
    free(*sessions), free(*work);
    *sessions = NULL, *work = NULL, *n_sessions = *n_work = 0;
    return -1;
}

/* A work row still open (its session was killed, or is running) ends with
 * its session's last record. */
double store_work_end_time(const store_work *w, const store_session *sessions, int n_sessions)
{
    if (!isnan(w->finished)) return w->finished;
    for (int k = 0; k < n_sessions; k++)
        if (sessions[k].id == w->session) return sessions[k].finished > w->started ? sessions[k].finished : w->started;
    return w->started;
}

double store_utilisation(const store_session *sessions, int n_sessions, const store_work *work, int n_work,
                         double *busy_out, double *capacity_out)
{
    double busy = 0, capacity = 0;
    for (int k = 0; k < n_sessions; k++)
        if (sessions[k].finished > sessions[k].started) capacity += sessions[k].slots * (sessions[k].finished - sessions[k].started);
    for (int k = 0; k < n_work; k++) {
        double end = store_work_end_time(&work[k], sessions, n_sessions);
        if (end > work[k].started) busy += end - work[k].started;
    }
    if (busy_out) *busy_out = busy;
    if (capacity_out) *capacity_out = capacity;
    return capacity > 0 ? (busy < capacity ? busy / capacity : 1.0) : NAN;
}
