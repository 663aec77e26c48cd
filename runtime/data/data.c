/* data.c: loading datasets (IDX, CSV, .npy) into memory, and the batch gather.
 *
 * Every file goes through one reader (rd_*), which reads gzip and plain files
 * alike, so each loader accepts both, and refuses a gzip file cut anywhere,
 * with a wrong CRC-32 or length, or with bytes after its stream.  A loader
 * validates everything the file declares (magic, dtype, counts, sizes)
 * before trusting it, allocates a declared size only if the rest of the file
 * can hold it, reads every file to its end, names the file in every error,
 * and on failure frees what it allocated and leaves the data_set zeroed.  The finished set owns one allocation per array
 * (samples, labels, class names), so data_free is four free() calls and
 * data_gather, which runs once per training step, never allocates. */
#include "runtime/data/data.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ---- reading plain and gzip files -------------------------------------- */

/* One reader serves every loader.  It sniffs the gzip magic (1f 8b) and then
 * either copies the file's bytes or inflates them with zlib's inflate().
 * zlib's gz* interface is not used: its gzread reports a stream that stops
 * early only as a soft Z_BUF_ERROR, returning what it inflated as if the file
 * ended there, and it skips whatever follows the last member, so a cut or
 * padded .gz loaded as shorter data, or as complete data whose CRC-32 was
 * never read.  Here a gzip file is valid only when every member is complete,
 * each member's trailer matches its data (inflate checks the CRC-32 and the
 * length), and nothing but another member (gzip's own concatenation, as
 * gunzip reads it) follows a member.  So a short count from rd_some means the
 * true end of valid data, and a loader that reads to the end (rd_end, or the
 * CSV slurp) has had the whole file checked. */

/* The input buffer: 128 KiB means few read() calls.  The fuzzer builds
 * with a small odd size instead, so its short inputs still cross buffer
 * edges everywhere (a gzip member or the magic split between two reads). */
#ifndef HPTC_RD_BUFFER
#define HPTC_RD_BUFFER (1 << 17)
#endif
enum { RD_BUFFER = HPTC_RD_BUFFER };

typedef struct reader {
    const char *path;
    int fd;
    unsigned char *in;      /* RD_BUFFER bytes, NULL when closed; z.next_in/avail_in: the unread part */
    z_stream z;             /* the input cursor for plain files too */
    bool gzip, inflating;   /* inflating: inflateInit2 done, inflateEnd owed */
    bool eof;               /* read() returned 0 */
    bool ended;             /* gzip: the last member is complete and checked */
    bool in_header, in_trailer;   /* gzip: where the current member stands, for messages */
    size_t pos;             /* bytes handed out (decompressed): messages compare it with sizes declared */
    uint64_t file_pos;      /* bytes read from the file */
    int64_t file_size;      /* of a regular file, else -1: bounds what a header may declare */
} reader;

/* Where the next unread byte of the file is. */
static uint64_t rd_offset(const reader *r) { return r->file_pos - r->z.avail_in; }

/* Read more of the file after the unread bytes, which move to the front. */
static int rd_fill(reader *r, hpt_error *e)
{
    size_t keep = r->z.avail_in;
    if (r->eof || keep == RD_BUFFER) return 0;
    if (keep) memmove(r->in, r->z.next_in, keep);
    ssize_t k;
    do k = read(r->fd, r->in + keep, RD_BUFFER - keep);
    while (k < 0 && errno == EINTR);
    if (k < 0) return hpt_fail(e, "%s: read error: %s", r->path, strerror(errno));
    r->eof = k == 0;
    r->file_pos += (size_t)k;
    r->z.next_in = r->in;
    r->z.avail_in = (uInt)(keep + (size_t)k);
    return 0;
}

/* Until n unread bytes are buffered or the file ends. */
static int rd_want(reader *r, size_t n, hpt_error *e)
{
    while (r->z.avail_in < n && !r->eof)
        if (rd_fill(r, e)) return -1;
    return 0;
}

static bool at_gzip_magic(const reader *r)
{
    return r->z.avail_in >= 2 && r->z.next_in[0] == 0x1f && r->z.next_in[1] == 0x8b;
}

static void rd_close(reader *r)
{
    if (!r->in) return;   /* never opened, or closed already */
    if (r->inflating) inflateEnd(&r->z);
    close(r->fd);
    free(r->in);
    r->in = NULL;
    r->inflating = false;
}

static int rd_open(reader *r, const char *path, hpt_error *e)
{
    struct stat st;
    memset(r, 0, sizeof *r);
    r->path = path;
    do r->fd = open(path, O_RDONLY | O_CLOEXEC);
    while (r->fd < 0 && errno == EINTR);
    if (r->fd < 0) return hpt_fail(e, "%s: cannot open: %s", path, strerror(errno));
    r->file_size = fstat(r->fd, &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
    if (!(r->in = malloc(RD_BUFFER))) {
        close(r->fd);
        return hpt_fail(e, "%s: out of memory for a read buffer", path);
    }
    r->z.next_in = r->in;
    if (rd_want(r, 2, e)) goto fail;
    if ((r->gzip = at_gzip_magic(r))) {
        int rc = inflateInit2(&r->z, 16 + MAX_WBITS);   /* gzip only, no zlib or raw streams */
        if (rc != Z_OK) {
            hpt_fail(e, "%s: cannot start inflating: %s", path, rc == Z_MEM_ERROR ? "out of memory" : "zlib error");
            goto fail;
        }
        r->inflating = r->in_header = true;
    }
    return 0;
fail:
    rd_close(r);
    return -1;
}

/* A member ended (its trailer checked): the file must end, or another member begin. */
static int rd_next_member(reader *r, hpt_error *e)
{
    uint64_t end = rd_offset(r);
    if (rd_want(r, 2, e)) return -1;
    if (r->z.avail_in == 0) {
        r->ended = true;
        return 0;
    }
    if (at_gzip_magic(r)) {
        inflateReset(&r->z);
        r->in_header = true;
        r->in_trailer = false;
        return 0;
    }
    uint64_t extra = r->z.avail_in;   /* count the rest: a size tells a stray byte from a second file */
    while (!r->eof) {
        r->z.avail_in = 0;
        if (rd_fill(r, e)) return -1;
        extra += r->z.avail_in;
    }
    return hpt_fail(e, "%s: %llu byte%s of trailing garbage after the gzip stream, which ends at byte %llu",
                    r->path, (unsigned long long)extra, extra == 1 ? "" : "s", (unsigned long long)end);
}

/* inflate's own words, and what they mean for the trailer's two fields. */
static int rd_corrupt(reader *r, int rc, hpt_error *e)
{
    if (rc == Z_MEM_ERROR) return hpt_fail(e, "%s: out of memory inflating", r->path);
    const char *msg = r->z.msg ? r->z.msg : "invalid stream";
    const char *why = strcmp(msg, "incorrect data check") == 0 ? " (the CRC-32 in the trailer does not match the data)"
                    : strcmp(msg, "incorrect length check") == 0 ? " (the length in the trailer does not match the data)" : "";
    if (*why) return hpt_fail(e, "%s: corrupt gzip data: %s%s", r->path, msg, why);
    return hpt_fail(e, "%s: corrupt gzip data: %s (detected at byte %llu of the file)", r->path, msg, (unsigned long long)rd_offset(r));
}

/* Inflate up to n bytes into buf; *got < n only at the checked end.  Z_BLOCK
 * makes inflate stop after the header and after each deflate block, and its
 * data_type then says so (128), and whether that block was the last (64):
 * after the last one only the 8-byte trailer is left. */
static int rd_inflate(reader *r, unsigned char *buf, size_t n, size_t *got, hpt_error *e)
{
    size_t done = 0;
    while (done < n && !r->ended) {
        if (r->z.avail_in == 0 && rd_fill(r, e)) return -1;
        size_t chunk = n - done > (1u << 30) ? 1u << 30 : n - done;
        r->z.next_out = buf + done;
        r->z.avail_out = (uInt)chunk;
        int rc = inflate(&r->z, Z_BLOCK);
        done += chunk - r->z.avail_out;
        if (r->z.data_type & 128) r->in_header = false;
        if ((r->z.data_type & 192) == 192) r->in_trailer = true;
        if (rc == Z_STREAM_END) {
            if (rd_next_member(r, e)) return -1;
        } else if (rc == Z_BUF_ERROR && r->eof && r->z.avail_in == 0) {
            const char *where = r->in_header ? "the gzip header" : r->in_trailer ? "the 8-byte trailer (CRC-32 and length)" : "the compressed data";
            return hpt_fail(e, "%s: truncated gzip stream: the file ends at byte %llu, inside %s",
                            r->path, (unsigned long long)r->file_pos, where);
        } else if (rc != Z_OK) {
            return rd_corrupt(r, rc, e);
        }
    }
    *got = done;
    return 0;
}

/* Copy up to n bytes of a plain file; large reads go straight into buf. */
static int rd_copy(reader *r, unsigned char *buf, size_t n, size_t *got, hpt_error *e)
{
    size_t done = 0;
    while (done < n) {
        if (r->z.avail_in) {
            size_t k = r->z.avail_in < n - done ? r->z.avail_in : n - done;
            memcpy(buf + done, r->z.next_in, k);
            r->z.next_in += k;
            r->z.avail_in -= (uInt)k;
            done += k;
        } else if (r->eof) {
            break;
        } else if (n - done >= RD_BUFFER) {
            size_t chunk = n - done > (1u << 30) ? 1u << 30 : n - done;
            ssize_t k = read(r->fd, buf + done, chunk);
            if (k < 0 && errno == EINTR) continue;
            if (k < 0) return hpt_fail(e, "%s: read error: %s", r->path, strerror(errno));
            r->eof = k == 0;
            r->file_pos += (size_t)k;
            done += (size_t)k;
        } else if (rd_fill(r, e)) {
            return -1;
        }
    }
    *got = done;
    return 0;
}

/* Read up to n bytes into buf; *got < n only at the end of the data, and
 * for a gzip file only once the whole stream checked out. */
static int rd_some(reader *r, void *buf, size_t n, size_t *got, hpt_error *e)
{
    if ((r->gzip ? rd_inflate : rd_copy)(r, buf, n, got, e)) return -1;
    r->pos += *got;
    return 0;
}

/* Before allocating n bytes a header declares (the whole file being `expect`
 * bytes): can the rest of the file hold them?  A plain file has exactly its
 * size left; deflate expands at most 1032:1 (a 258-byte match in two 1-bit
 * codes), plus what inflate holds back.  So a damaged count is refused
 * without allocating gigabytes for a file of a few bytes. */
static int rd_expect(reader *r, size_t n, size_t expect, hpt_error *e)
{
    if (r->file_size < 0 || (uint64_t)r->file_size < rd_offset(r)) return 0;   /* a pipe, or a file that grew */
    uint64_t left = (uint64_t)r->file_size - rd_offset(r);
    if (!r->gzip) {
        if (n > left)
            return hpt_fail(e, "%s: truncated: expected %zu bytes, got %llu", r->path, expect, (unsigned long long)r->file_size);
        return 0;
    }
    if (left < UINT64_MAX / 2048 && n > left * 1032 + 65536)
        return hpt_fail(e, "%s: truncated: expected %zu bytes, more than the %llu bytes of gzip data left can hold",
                        r->path, expect, (unsigned long long)left);
    return 0;
}

/* Read exactly n bytes of a file whose full size should be `expect`. */
static int rd_exact(reader *r, void *buf, size_t n, size_t expect, hpt_error *e)
{
    size_t got;
    if (rd_some(r, buf, n, &got, e)) return -1;
    if (got < n) return hpt_fail(e, "%s: truncated: expected %zu bytes, got %zu", r->path, expect, r->pos);
    return 0;
}

/* After the declared contents, the file must end. */
static int rd_end(reader *r, hpt_error *e)
{
    char buf[4096];
    size_t declared = r->pos, extra = 0, got;
    do {
        if (rd_some(r, buf, sizeof buf, &got, e)) return -1;
        extra += got;
    } while (got == sizeof buf);
    if (extra)
        return hpt_fail(e, "%s: %zu bytes of trailing garbage after the %zu bytes its header declares", r->path, extra, declared);
    return 0;
}

/* Read count elements of `size` bytes each in chunks through a bounce
 * buffer, handing each chunk to convert(); for dtypes stored widened. */
typedef int (*convert_fn)(const void *chunk, size_t first, size_t count, void *dst, const char *path, hpt_error *e);

static int read_converted(reader *r, size_t count, size_t size, size_t expect, convert_fn fn, void *dst, hpt_error *e)
{
    enum { CHUNK = 1 << 13 };
    uint64_t bounce[CHUNK];
    for (size_t done = 0; done < count; ) {
        size_t k = count - done < CHUNK ? count - done : CHUNK;
        if (rd_exact(r, bounce, k * size, expect, e) || fn(bounce, done, k, dst, r->path, e)) return -1;
        done += k;
    }
    return 0;
}

static int conv_u1(const void *chunk, size_t first, size_t count, void *dst, const char *path, hpt_error *e)
{
    const uint8_t *s = chunk;
    int32_t *y = (int32_t *)dst + first;
    for (size_t i = 0; i < count; i++) y[i] = s[i];
    return 0;
}

static void *alloc_or_fail(size_t n, const char *what, const char *path, hpt_error *e)
{
    void *p = malloc(n ? n : 1);
    if (!p) hpt_fail(e, "%s: out of memory allocating %zu bytes for the %s", path, n, what);
    return p;
}

static void set_source(data_set *d, const char *path)
{
    snprintf(d->source, sizeof d->source, "%s", path);
}

static int max_label(const int32_t *labels, int n)
{
    int32_t m = -1;
    for (int i = 0; i < n; i++)
        if (labels[i] > m) m = labels[i];
    return m;
}

/* Names the first offender: with 60k labels, "some label is bad" is no help. */
static int check_labels(const int32_t *labels, int n, int n_classes, const char *path, hpt_error *e)
{
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= n_classes)
            return hpt_fail(e, "%s: label %d of sample %d is out of range for %d classes (0..%d)",
                            path, (int)labels[i], i, n_classes, n_classes - 1);
    return 0;
}

/* ---- IDX --------------------------------------------------------------- */

static const char *idx_dtype_name(int t)
{
    switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default:   return "unknown";
    }
}

/* idx -> 0x00 0x00 dtype ndims, ndims big-endian uint32 dims, the data.
 * Reads and checks the header of an IDX file of uint8 with `ndims` dims. */
static int idx_header(reader *r, int ndims, uint32_t dims[3], hpt_error *e)
{
    unsigned char h[16];
    size_t hlen = 4 + 4 * (size_t)ndims, got;
    uint32_t want = 0x0800u | (uint32_t)ndims;
    const char *kind = ndims == 3 ? "uint8 images: count, rows, cols" : "uint8 labels: count";

    if (rd_some(r, h, hlen, &got, e)) return -1;
    if (got < 4) return hpt_fail(e, "%s: truncated: expected a %zu-byte IDX header, got %zu bytes", r->path, hlen, got);
    uint32_t magic = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    if (h[0] || h[1] || h[3] != ndims) {
        const char *hint = magic == 0x0801 ? "; is this a labels file?" : magic == 0x0803 ? "; is this an images file?" : "";
        return hpt_fail(e, "%s: bad magic 0x%08x, expected 0x%08x (IDX %s)%s", r->path, magic, want, kind, hint);
    }
    if (h[2] != 0x08)
        return hpt_fail(e, "%s: unsupported IDX dtype byte 0x%02x (%s); only 0x08 (unsigned byte) is supported",
                        r->path, h[2], idx_dtype_name(h[2]));
    if (got < hlen) return hpt_fail(e, "%s: truncated: expected a %zu-byte IDX header, got %zu bytes", r->path, hlen, got);
    for (int i = 0; i < ndims; i++) {
        const unsigned char *b = h + 4 + 4 * i;
        dims[i] = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
        if (dims[i] == 0 || dims[i] > INT_MAX)
            return hpt_fail(e, "%s: dimension %d of the IDX header is %u, expected 1..%d", r->path, i, dims[i], INT_MAX);
    }
    return 0;
}

int data_load_idx(data_set *d, const char *images_path, const char *labels_path, hpt_error *e)
{
    reader ri = { 0 }, rl = { 0 };
    uint32_t di[3], dl[3];
    size_t ss, bytes;

    memset(d, 0, sizeof *d);
    /* Both headers first: a count mismatch is reported before 47 MB of
     * pixels are inflated, and nothing is allocated from an unchecked size. */
    if (rd_open(&ri, images_path, e) || idx_header(&ri, 3, di, e)) goto fail;
    if (rd_open(&rl, labels_path, e) || idx_header(&rl, 1, dl, e)) goto fail;
    if (di[0] != dl[0]) {
        hpt_fail(e, "%s has %u images but %s has %u labels", images_path, di[0], labels_path, dl[0]);
        goto fail;
    }
    ss = (size_t)di[1] * di[2];
    if (__builtin_mul_overflow(ss, (size_t)di[0], &bytes)) {
        hpt_fail(e, "%s: %u images of %ux%u do not fit in memory", images_path, di[0], di[1], di[2]);
        goto fail;
    }
    d->n = (int)di[0];
    d->rank = 2;   /* IDX images: (rows, cols) per sample */
    d->shape[0] = (int)di[1];
    d->shape[1] = (int)di[2];
    d->sample_size = ss;
    set_source(d, images_path);
    if (rd_expect(&ri, bytes, 16 + bytes, e) || rd_expect(&rl, (size_t)d->n, 8 + (size_t)d->n, e)) goto fail;
    if (!(d->u8 = alloc_or_fail(bytes, "images", images_path, e))) goto fail;
    if (!(d->labels = alloc_or_fail((size_t)d->n * sizeof *d->labels, "labels", labels_path, e))) goto fail;

    if (rd_exact(&ri, d->u8, bytes, 16 + bytes, e) || rd_end(&ri, e)) goto fail;
    if (read_converted(&rl, (size_t)d->n, 1, 8 + (size_t)d->n, conv_u1, d->labels, e) || rd_end(&rl, e)) goto fail;
    d->n_classes = max_label(d->labels, d->n) + 1;
    rd_close(&ri);
    rd_close(&rl);
    return 0;
fail:
    rd_close(&ri);
    rd_close(&rl);
    data_free(d);
    return -1;
}

/* ---- built-in datasets ------------------------------------------------- */

static const struct builtin {
    const char *name;
    const char *dirs[2];   /* directory names to look for, NULL-padded */
    const char *hint;
} builtins[] = {
    { "fashion_mnist", { "fashion-mnist", "fashion_mnist" },
      "install the Debian package dataset-fashion-mnist or set HPT_DATA" },
    { "mnist", { "mnist", NULL },
      "Debian has no MNIST package: download the four files into one of these or set HPT_DATA" },
};

static const char *const idx_files[4] = {
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
};

/* dir/base, or else dir/base.gz, whichever exists (plain first: it reads faster). */
static bool find_file(const char *dir, const char *base, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", dir, base);
    if (access(out, F_OK) == 0) return true;
    snprintf(out, size, "%s/%s.gz", dir, base);
    return access(out, F_OK) == 0;
}

/* Appends to a fixed buffer, truncating silently: the message stays a message. */
static void append(char *buf, size_t size, const char *fmt, const char *s1, const char *s2)
{
    size_t len = strlen(buf);
    if (len + 1 < size) snprintf(buf + len, size - len, fmt, s1, s2);
}

int data_find_builtin(const char *name, char *dir, size_t dir_size, hpt_error *e)
{
    const struct builtin *b = NULL;
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++)
        if (strcmp(name, builtins[i].name) == 0) b = &builtins[i];
    if (!b) return hpt_fail(e, "unknown built-in dataset '%s' (known: fashion_mnist, mnist)", name);

    /* Most specific first: the user's HPT_DATA, the project's ./data, then
     * what a Debian package installed.  A directory counts only when it holds
     * all four files, so a half-copied one is skipped (and said so). */
    const char *env = getenv("HPT_DATA");
    const char *roots[3] = { env && *env ? env : NULL, "./data", "/usr/share/datasets" };
    char looked[900] = "", cand[PATH_MAX], file[PATH_MAX];
    for (int r = 0; r < 3; r++) {
        if (!roots[r]) continue;
        for (int k = 0; k < 2 && b->dirs[k]; k++) {
            snprintf(cand, sizeof cand, "%s/%s", roots[r], b->dirs[k]);
            int missing = -1;
            for (int f = 0; f < 4 && missing < 0; f++)
                if (!find_file(cand, idx_files[f], file, sizeof file)) missing = f;
            if (missing < 0) {
                if (strlen(cand) >= dir_size) return hpt_fail(e, "%s: path too long", cand);
                memcpy(dir, cand, strlen(cand) + 1);
                return 0;
            }
            append(looked, sizeof looked, *looked ? ", %s%s" : "%s%s", cand,
                   access(cand, F_OK) != 0 ? "" : missing == 0 ? " (no train-images-idx3-ubyte[.gz])"
                   : missing == 1 ? " (no train-labels-idx1-ubyte[.gz])" : missing == 2 ? " (no t10k-images-idx3-ubyte[.gz])"
                   : " (no t10k-labels-idx1-ubyte[.gz])");
        }
    }
    return hpt_fail(e, "%s: dataset not found; looked for train-images-idx3-ubyte[.gz] and its 3 companions in %s%s; %s",
                    name, looked, roots[0] ? "" : " (HPT_DATA is not set)", b->hint);
}

int data_load_builtin(const char *name, data_set *train, data_set *test, hpt_error *e)
{
    char dir[PATH_MAX], p[4][PATH_MAX];
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (data_find_builtin(name, dir, sizeof dir, e)) return -1;
    for (int f = 0; f < 4; f++) find_file(dir, idx_files[f], p[f], sizeof p[f]);   /* found above */
    /* Both datasets have exactly 10 classes; a stray label is a damaged file. */
    if (data_load_idx(train, p[0], p[1], e) || check_labels(train->labels, train->n, 10, p[1], e)) goto fail;
    if (data_load_idx(test, p[2], p[3], e) || check_labels(test->labels, test->n, 10, p[3], e)) goto fail;
    if (test->shape[0] != train->shape[0] || test->shape[1] != train->shape[1]) {
        hpt_fail(e, "%s: test images are %dx%d but the training images in %s are %dx%d", p[2],
                 test->shape[0], test->shape[1], p[0], train->shape[0], train->shape[1]);
        goto fail;
    }
    train->n_classes = test->n_classes = 10;
    return 0;
fail:
    data_free(train);
    data_free(test);
    return -1;
}

/* ---- CSV --------------------------------------------------------------- */

/* The whole file, NUL-terminated; CSV files are small next to image sets. */
static char *slurp(const char *path, size_t *len, hpt_error *e)
{
    reader r;
    size_t cap = 1 << 16, n = 0, got;
    char *buf = NULL;
    if (rd_open(&r, path, e)) return NULL;
    for (;;) {
        char *nb = realloc(buf, cap + 1);
        if (!nb) { hpt_fail(e, "%s: out of memory reading %zu bytes", path, cap); goto fail; }
        buf = nb;
        if (rd_some(&r, buf + n, cap - n, &got, e)) goto fail;
        n += got;
        if (n < cap) break;
        cap *= 2;
    }
    rd_close(&r);
    buf[n] = '\0';
    *len = n;
    return buf;
fail:
    rd_close(&r);
    free(buf);
    return NULL;
}

/* Tokenising happens in place: each field's text, unquoted and trimmed, is
 * copied down to the write cursor wp and NUL-terminated.  A field never
 * grows when unquoted, so wp never passes rp, and afterwards the buffer holds
 * all fields back to back as C strings. */
typedef struct csv {
    const char *path;
    char *rp, *end, *wp;
    int line;   /* of rp, from 1 */
} csv;

static bool is_blank(char c) { return c == ' ' || c == '\t'; }

/* field -> '"' ([^"] | '""')* '"' | [^,\r\n]*
 * Returns what ended the field: ',', '\n' (end of record, any of \n \r\n \r)
 * or 0 (end of text); -1 on a malformed quoted field. */
static int csv_field(csv *c, char **text, hpt_error *e)
{
    char *p = c->rp, *w = c->wp;
    *text = w;
    while (p < c->end && is_blank(*p)) p++;
    if (p < c->end && *p == '"') {
        int open_line = c->line;
        for (p++;; ) {
            if (p >= c->end) return hpt_fail(e, "%s: line %d: unterminated quoted field", c->path, open_line);
            if (*p == '"') {
                if (p + 1 < c->end && p[1] == '"') { *w++ = '"'; p += 2; continue; }
                p++;
                break;
            }
            if (*p == '\n') c->line++;
            *w++ = *p++;
        }
        while (p < c->end && is_blank(*p)) p++;
        if (p < c->end && *p != ',' && *p != '\n' && *p != '\r')
            return hpt_fail(e, "%s: line %d: unexpected '%c' after a closing quote", c->path, c->line, *p);
    } else {
        while (p < c->end && *p != ',' && *p != '\n' && *p != '\r') *w++ = *p++;
        while (w > *text && is_blank(w[-1])) w--;
    }
    int delim;
    if (p >= c->end) {
        delim = 0;
    } else if (*p == ',') {
        delim = ',';
        p++;
    } else {
        if (*p++ == '\r' && p < c->end && *p == '\n') p++;
        c->line++;
        delim = '\n';
    }
    *w++ = '\0';   /* w <= p here, and the byte at end is the slurp's NUL */
    c->rp = p;
    c->wp = w;
    return delim;
}

/* Skip lines holding nothing but blanks; false at the end of the text. */
static bool csv_next_record(csv *c)
{
    for (;;) {
        char *q = c->rp;
        while (q < c->end && is_blank(*q)) q++;
        if (q >= c->end) return false;
        if (*q != '\n' && *q != '\r') return true;
        if (*q++ == '\r' && q < c->end && *q == '\n') q++;
        c->rp = q;
        c->line++;
    }
}

/* record -> field (',' field)* ; the fields land at wp; returns their count. */
static int csv_record(csv *c, hpt_error *e)
{
    int nf = 0, delim;
    char *t;
    do {
        if ((delim = csv_field(c, &t, e)) < 0) return -1;
        nf++;
    } while (delim == ',');
    return nf;
}

/* An integer class id: "3", or an integral float such as "3.0" or "1e2";
 * in decimal only, so names such as "0x1A" or "inf" stay names. */
static bool parse_int_label(const char *s, long long *out)
{
    char *end;
    if (!*s || s[strspn(s, "0123456789+-.eE")]) return false;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*end && !errno) { *out = v; return true; }
    double dv = strtod(s, &end);
    if (*end || !isfinite(dv) || dv != floor(dv) || fabs(dv) > 9e18) return false;
    *out = (long long)dv;
    return true;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;   /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* String labels -> ids in order of first appearance, via an open-addressing
 * table of (size pow2 >= 2n) indices into names.  Fills d->labels and
 * d->class_names (one block: the pointers, then the strings). */
static int map_string_labels(data_set *d, char **label_text, const char *path, hpt_error *e)
{
    size_t cap = 16;
    while (cap < 2 * (size_t)d->n) cap *= 2;
    int32_t *table = malloc(cap * sizeof *table);
    char **names = malloc((size_t)d->n * sizeof *names);
    int k = 0, rc = -1;
    size_t bytes = 0;
    if (!table || !names) { hpt_fail(e, "%s: out of memory mapping %d string labels", path, d->n); goto done; }
    memset(table, -1, cap * sizeof *table);
    for (int i = 0; i < d->n; i++) {
        size_t h = hash_str(label_text[i]) & (cap - 1);
        while (table[h] >= 0 && strcmp(names[table[h]], label_text[i]) != 0) h = (h + 1) & (cap - 1);
        if (table[h] < 0) {
            table[h] = k;
            names[k++] = label_text[i];
            bytes += strlen(label_text[i]) + 1;
        }
        d->labels[i] = table[h];
    }
    d->class_names = malloc((size_t)k * sizeof(char *) + bytes);
    if (!d->class_names) { hpt_fail(e, "%s: out of memory for %d class names", path, k); goto done; }
    char *s = (char *)(d->class_names + k);
    for (int j = 0; j < k; j++) {
        size_t len = strlen(names[j]) + 1;
        memcpy(s, names[j], len);
        d->class_names[j] = s;
        s += len;
    }
    d->n_classes = k;
    rc = 0;
done:
    free(table);
    free(names);
    return rc;
}

int data_load_csv(data_set *d, const char *path, const char *label_column, hpt_error *e)
{
    size_t len;
    char *buf, **names = NULL, **label_text = NULL;
    int *lines = NULL, ncols = 0, label = -1, nrec = 0, cap = 0;
    bool integer_labels = true;
    csv c;

    memset(d, 0, sizeof *d);
    if (!(buf = slurp(path, &len, e))) return -1;
    /* A UTF-8 byte order mark (Excel writes one) is not part of the first name. */
    size_t bom = len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    c = (csv){ path, buf + bom, buf + len, buf, 1 };
    /* Fields become C strings below, so a NUL byte would shift every later
     * field; it only occurs in binary files given by mistake. */
    char *nul = memchr(buf, '\0', len);
    if (nul) {
        int line = 1;
        for (char *q = buf; q < nul; q++) line += *q == '\n';
        hpt_fail(e, "%s: line %d: a NUL byte; is this a binary file?", path, line);
        goto fail;
    }

    /* Pass 1: tokenise everything, check field counts, remember each record's
     * line for messages, and learn whether the labels are all integers. */
    if (!csv_next_record(&c)) { hpt_fail(e, "%s: empty file (a header row is required)", path); goto fail; }
    char *header = c.wp;
    if ((ncols = csv_record(&c, e)) < 0) goto fail;
    if (!(names = malloc((size_t)ncols * sizeof *names))) { hpt_fail(e, "%s: out of memory", path); goto fail; }
    for (int j = 0; j < ncols; j++) {
        names[j] = header;
        header += strlen(header) + 1;
        if (!label_column || strcmp(names[j], label_column) != 0) continue;
        if (label >= 0) {
            hpt_fail(e, "%s: the header names columns %d and %d '%s'; rename one so the label column is clear", path, label + 1, j + 1, label_column);
            goto fail;
        }
        label = j;
    }
    if (!label_column) label = ncols - 1;   /* the usual layout: features..., class */
    if (label < 0) {
        char list[700] = "";
        for (int j = 0; j < ncols; j++) append(list, sizeof list, j ? ", '%s'%s" : "'%s'%s", names[j], "");
        hpt_fail(e, "%s: no column '%s' to take the labels from; the columns are %s", path, label_column, list);
        goto fail;
    }
    if (ncols < 2) { hpt_fail(e, "%s: only the label column '%s', no feature columns", path, names[label]); goto fail; }
    char *records = c.wp;
    while (csv_next_record(&c)) {
        int line = c.line;
        char *first = c.wp;
        int nf = csv_record(&c, e);
        if (nf < 0) goto fail;
        if (nf != ncols) {
            hpt_fail(e, "%s: line %d has %d field%s, the header has %d", path, line, nf, nf == 1 ? "" : "s", ncols);
            goto fail;
        }
        if (nrec == cap) {
            cap = cap ? 2 * cap : 1024;
            int *nl = realloc(lines, (size_t)cap * sizeof *lines);
            if (!nl) { hpt_fail(e, "%s: out of memory", path); goto fail; }
            lines = nl;
        }
        lines[nrec++] = line;
        char *lt = first;
        for (int j = 0; j < label; j++) lt += strlen(lt) + 1;
        /* One non-integer label makes the whole column strings: a column of
         * "1", "2", "cat" is three names, not two ids and an error. */
        long long v;
        if (!*lt) { hpt_fail(e, "%s: line %d, column '%s': empty label", path, line, names[label]); goto fail; }
        if (integer_labels && !parse_int_label(lt, &v)) integer_labels = false;
    }
    if (nrec == 0) { hpt_fail(e, "%s: no data rows after the header", path); goto fail; }

    /* Pass 2: the fields, in order, are C strings from `records` on. */
    d->n = nrec;
    d->rank = 1;
    d->shape[0] = ncols - 1;
    d->sample_size = (size_t)(ncols - 1);
    set_source(d, path);
    if (!(d->f32 = alloc_or_fail((size_t)nrec * d->sample_size * sizeof(float), "features", path, e))) goto fail;
    if (!(d->labels = alloc_or_fail((size_t)nrec * sizeof *d->labels, "labels", path, e))) goto fail;
    if (!integer_labels && !(label_text = alloc_or_fail((size_t)nrec * sizeof *label_text, "labels", path, e))) goto fail;
    /* Numbers are parsed only now, once, straight into the final array;
     * strtof rounds correctly, so "0.1" is the float nearest 0.1. */
    char *s = records;
    float *x = d->f32;
    for (int i = 0; i < nrec; i++) {
        for (int j = 0; j < ncols; j++, s += strlen(s) + 1) {
            if (j == label) {
                long long v = 0;
                if (!integer_labels) { label_text[i] = s; continue; }
                parse_int_label(s, &v);
                if (v < 0 || v >= INT32_MAX) {
                    hpt_fail(e, "%s: line %d, column '%s': label %lld is %s", path, lines[i], names[label], v,
                             v < 0 ? "negative" : "too large");
                    goto fail;
                }
                d->labels[i] = (int32_t)v;
                continue;
            }
            char *end;
            float f = strtof(s, &end);
            if (!*s || *end) {
                hpt_fail(e, "%s: line %d, column '%s': '%.60s' is not a number", path, lines[i], names[j], s);
                goto fail;
            }
            if (!isfinite(f)) {
                hpt_fail(e, "%s: line %d, column '%s': '%.60s' is not a finite float", path, lines[i], names[j], s);
                goto fail;
            }
            *x++ = f;
        }
    }
    /* Integer ids are taken at face value: ids 0 and 5 make 6 classes. */
    if (integer_labels) d->n_classes = max_label(d->labels, d->n) + 1;
    else if (map_string_labels(d, label_text, path, e)) goto fail;
    free(label_text);
    free(lines);
    free(names);
    free(buf);
    return 0;
fail:
    free(label_text);
    free(lines);
    free(names);
    free(buf);
    data_free(d);
    return -1;
}

/* ---- NumPy .npy -------------------------------------------------------- */

typedef struct npy {
    char descr[16];
    int fortran;      /* -1 until seen */
    int rank;         /* -1 until seen */
    long long shape[8];
    size_t header_bytes;   /* magic through padding: where the data starts */
} npy;

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

/* A Python string literal in ' or "; copies at most size-1 bytes. */
static const char *py_string(const char *p, char *out, size_t size)
{
    char q = *p;
    if (q != '\'' && q != '"') return NULL;
    size_t n = 0;
    for (p++; *p && *p != q; p++)
        if (n + 1 < size) out[n++] = *p;
    out[n] = '\0';
    return *p == q ? p + 1 : NULL;
}

/* header -> '{' (key ':' value ',')* '}' padding   with keys 'descr' (a
 * string), 'fortran_order' (True | False) and 'shape' ('(' (int ',')* int?
 * ')'); numpy pads with spaces and ends with '\n', so padding is blanks only.
 * The header is len bytes at p, NUL-terminated. */
static int npy_parse_dict(const char *p, size_t len, npy *h, const char *path, hpt_error *e)
{
    const char *end = p + len;
    char key[32];
    h->descr[0] = '\0';
    h->fortran = h->rank = -1;
    p = skip_ws(p);
    if (*p++ != '{') goto bad;
    for (;;) {
        p = skip_ws(p);
        if (*p == '}') break;
        if (!(p = py_string(p, key, sizeof key))) goto bad;
        p = skip_ws(p);
        if (*p++ != ':') goto bad;
        p = skip_ws(p);
        if (strcmp(key, "descr") == 0) {
            if (!(p = py_string(p, h->descr, sizeof h->descr))) goto bad;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (strncmp(p, "True", 4) == 0) h->fortran = 1, p += 4;
            else if (strncmp(p, "False", 5) == 0) h->fortran = 0, p += 5;
            else goto bad;
        } else if (strcmp(key, "shape") == 0) {
            if (*p++ != '(') goto bad;
            h->rank = 0;
            for (;;) {
                p = skip_ws(p);
                if (*p == ')') { p++; break; }
                char *end;
                errno = 0;
                long long v = strtoll(p, &end, 10);
                if (end == p || errno || v < 0 || h->rank == 8) goto bad;
                h->shape[h->rank++] = v;
                p = skip_ws(*end == 'L' ? end + 1 : end);   /* Python 2 wrote 60000L */
                if (*p == ',') p++;
                else if (*p != ')') goto bad;
            }
        } else {
            return hpt_fail(e, "%s: unexpected key '%s' in the .npy header", path, key);
        }
        p = skip_ws(p);
        if (*p == ',') p++;
        else if (*p != '}') goto bad;
    }
    const char *pad = skip_ws(p + 1);
    if (pad < end) {   /* a NUL counts too: the dictionary is all numpy reads */
        char shown[72];
        size_t k = 0, n = (size_t)(end - pad);
        while (n && strchr(" \t\r\n", pad[n - 1]) && pad[n - 1]) n--;
        for (size_t i = 0; i < n && k + 5 < sizeof shown; i++)
            k += (size_t)snprintf(shown + k, sizeof shown - k, pad[i] >= 0x20 && pad[i] < 0x7f ? "%c" : "\\x%02x", (unsigned char)pad[i]);
        return hpt_fail(e, "%s: '%s' after the .npy header dictionary (only spaces and a newline may follow it)", path, shown);
    }
    if (!h->descr[0] || h->fortran < 0 || h->rank < 0)
        return hpt_fail(e, "%s: the .npy header lacks '%s'", path,
                        !h->descr[0] ? "descr" : h->fortran < 0 ? "fortran_order" : "shape");
    return 0;
bad:
    return hpt_fail(e, "%s: malformed .npy header dictionary", path);
}

/* npy -> "\x93NUMPY" major minor len (u16 LE for 1.x, u32 LE for 2.x/3.x) dict padding data */
static int npy_header(reader *r, npy *h, hpt_error *e)
{
    unsigned char pre[12];
    size_t got, len;
    if (rd_some(r, pre, 10, &got, e)) return -1;
    if (got < 10 || memcmp(pre, "\x93NUMPY", 6) != 0)
        return hpt_fail(e, "%s: not a .npy file (no \\x93NUMPY magic)", r->path);
    if (pre[6] == 1) {
        len = pre[8] | (size_t)pre[9] << 8;
        h->header_bytes = 10 + len;
    } else if (pre[6] == 2 || pre[6] == 3) {   /* 3.0 only allows utf-8 in the dict: same syntax for us */
        if (rd_exact(r, pre + 10, 2, 12, e)) return -1;
        len = pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
        h->header_bytes = 12 + len;
    } else {
        return hpt_fail(e, "%s: .npy format version %d.%d is not supported (1.0, 2.0, 3.0 are)", r->path, pre[6], pre[7]);
    }
    if (len > (1u << 20)) return hpt_fail(e, "%s: implausible .npy header length %zu", r->path, len);
    char *dict = malloc(len + 1);
    if (!dict) return hpt_fail(e, "%s: out of memory", r->path);
    int rc = rd_exact(r, dict, len, h->header_bytes, e);
    if (rc == 0) {
        dict[len] = '\0';
        rc = npy_parse_dict(dict, len, h, r->path, e);
    }
    free(dict);
    if (rc) return -1;
    if (h->fortran == 1 && h->rank > 1)
        return hpt_fail(e, "%s: fortran_order is True; only C-order arrays are supported (save np.ascontiguousarray(a))", r->path);
    return 0;
}

/* The element type, from a descr like '<f4'.  One-byte types have no byte
 * order; '=' is the host's, which for hptc's x86-64 targets is little. */
static int npy_dtype(const npy *h, const char *const *allowed, const char *want, const char *path, hpt_error *e)
{
    const char *d = h->descr;
    bool one_byte = strlen(d) == 3 && d[2] == '1';
    if (!strchr("<>=|", d[0]) || !d[0]) return hpt_fail(e, "%s: wrong dtype '%s' (expected %s)", path, d, want);
    if (d[0] == '>' && !one_byte)
        return hpt_fail(e, "%s: big-endian dtype '%s' is not supported (expected %s)", path, d, want);
    for (int i = 0; allowed[i]; i++)
        if (strcmp(d + 1, allowed[i]) == 0) return i;
    return hpt_fail(e, "%s: wrong dtype '%s' (expected %s)", path, d, want);
}

enum { X_U1, X_F4, X_F8 };
enum { Y_I4, Y_I8, Y_U1 };

static int conv_f8(const void *chunk, size_t first, size_t count, void *dst, const char *path, hpt_error *e)
{
    const double *s = chunk;
    float *x = (float *)dst + first;
    for (size_t i = 0; i < count; i++) x[i] = (float)s[i];
    return 0;
}

static int conv_i8(const void *chunk, size_t first, size_t count, void *dst, const char *path, hpt_error *e)
{
    const int64_t *s = chunk;
    int32_t *y = (int32_t *)dst + first;
    for (size_t i = 0; i < count; i++) {
        if (s[i] < 0 || s[i] >= INT32_MAX)
            return hpt_fail(e, "%s: label %lld at index %zu is %s", path, (long long)s[i], first + i, s[i] < 0 ? "negative" : "too large");
        y[i] = (int32_t)s[i];
    }
    return 0;
}

int data_load_npy(data_set *d, const char *x_path, const char *y_path, hpt_error *e)
{
    static const char *const x_types[] = { "u1", "f4", "f8", NULL }, *const y_types[] = { "i4", "i8", "u1", NULL };
    reader rx = { 0 }, ry = { 0 };
    npy hx, hy;
    int tx, ty;
    size_t ss = 1, values, xbytes;

    memset(d, 0, sizeof *d);
    if (rd_open(&rx, x_path, e) || npy_header(&rx, &hx, e)) goto fail;
    if ((tx = npy_dtype(&hx, x_types, "|u1, <f4 or <f8", x_path, e)) < 0) goto fail;
    if (hx.rank < 2 || hx.rank > 4) {
        hpt_fail(e, "%s: samples must have shape (n, d1[, d2[, d3]]), got %d dimension%s", x_path, hx.rank, hx.rank == 1 ? "" : "s");
        goto fail;
    }
    if (rd_open(&ry, y_path, e) || npy_header(&ry, &hy, e)) goto fail;
    if ((ty = npy_dtype(&hy, y_types, "<i4, <i8 or |u1", y_path, e)) < 0) goto fail;
    if (hy.rank < 1 || hy.rank > 2 || (hy.rank == 2 && hy.shape[1] != 1)) {
        hpt_fail(e, "%s: labels must have shape (n,) or (n, 1)", y_path);
        goto fail;
    }
    if (hx.shape[0] != hy.shape[0]) {
        hpt_fail(e, "%s has %lld samples but %s has %lld labels", x_path, hx.shape[0], y_path, hy.shape[0]);
        goto fail;
    }
    if (hx.shape[0] == 0 || hx.shape[0] > INT_MAX) {
        hpt_fail(e, "%s: %lld samples, expected 1..%d", x_path, hx.shape[0], INT_MAX);
        goto fail;
    }
    for (int i = 1; i < hx.rank; i++) {
        if (hx.shape[i] == 0 || hx.shape[i] > INT_MAX || __builtin_mul_overflow(ss, (size_t)hx.shape[i], &ss)) {
            hpt_fail(e, "%s: sample dimension %d is %lld", x_path, i, hx.shape[i]);
            goto fail;
        }
        d->shape[i - 1] = (int)hx.shape[i];
    }
    static const size_t x_size[] = { 1, 4, 8 }, y_size[] = { 4, 8, 1 };
    d->n = (int)hx.shape[0];
    d->rank = hx.rank - 1;
    d->sample_size = ss;
    set_source(d, x_path);
    if (__builtin_mul_overflow(ss, (size_t)d->n, &values) || __builtin_mul_overflow(values, x_size[tx], &xbytes)) {
        hpt_fail(e, "%s: %d samples of %zu values do not fit in memory", x_path, d->n, ss);
        goto fail;
    }
    /* Both totals count the header, as the truncation message does. */
    size_t x_expect = hx.header_bytes + xbytes, y_expect = hy.header_bytes + (size_t)d->n * y_size[ty];
    if (rd_expect(&rx, xbytes, x_expect, e) || rd_expect(&ry, (size_t)d->n * y_size[ty], y_expect, e)) goto fail;

    /* |u1 and <f4 land in place; <f8 is narrowed a chunk at a time so a
     * large file never needs a double-sized copy in memory. */
    if (tx == X_U1) {
        if (!(d->u8 = alloc_or_fail(values, "samples", x_path, e)) || rd_exact(&rx, d->u8, values, x_expect, e)) goto fail;
    } else {
        if (!(d->f32 = alloc_or_fail(values * sizeof(float), "samples", x_path, e))) goto fail;
        if (tx == X_F4 ? rd_exact(&rx, d->f32, xbytes, x_expect, e)
                       : read_converted(&rx, values, 8, x_expect, conv_f8, d->f32, e)) goto fail;
        /* A NaN or inf would poison every trial; name the first one. */
        for (size_t i = 0; i < values; i++)
            if (!isfinite(d->f32[i])) {
                hpt_fail(e, "%s: sample %zu holds a non-finite value (%g)", x_path, i / ss, (double)d->f32[i]);
                goto fail;
            }
    }
    if (rd_end(&rx, e)) goto fail;
    if (!(d->labels = alloc_or_fail((size_t)d->n * sizeof *d->labels, "labels", y_path, e))) goto fail;
    if (ty == Y_I4) {   /* already our label type: read in place, then check */
        if (rd_exact(&ry, d->labels, (size_t)d->n * 4, y_expect, e)) goto fail;
        for (int i = 0; i < d->n; i++)
            if (d->labels[i] < 0) {
                hpt_fail(e, "%s: label %d at index %d is negative", y_path, (int)d->labels[i], i);
                goto fail;
            }
    } else if (read_converted(&ry, (size_t)d->n, y_size[ty], y_expect, ty == Y_I8 ? conv_i8 : conv_u1, d->labels, e)) {
        goto fail;
    }
    if (rd_end(&ry, e)) goto fail;
    d->n_classes = max_label(d->labels, d->n) + 1;
    rd_close(&rx);
    rd_close(&ry);
    return 0;
fail:
    rd_close(&rx);
    rd_close(&ry);
    data_free(d);
    return -1;
}

/* ---- use --------------------------------------------------------------- */

int data_check_labels(data_set *d, int n_classes, hpt_error *e)
{
    if (check_labels(d->labels, d->n, n_classes, d->source, e)) return -1;
    d->n_classes = n_classes;
    return 0;
}

/* The gather runs every training step.  gcc -O2 vectorises only loops its
 * "very cheap" cost model accepts, one whose trip count is a known multiple
 * of the vector width, hence the split into a multiple of 64 and a tail;
 * and only out of line (inlined into the row loop, gcc 12 gives up on it).
 * The first loop then becomes zero-extend, vcvtdq2ps, vmulps over whole zmm
 * registers, about 2x the plain loop on 784-byte rows; a call per row is
 * noise next to that. */
__attribute__((noinline))
static void u8_to_f32(const uint8_t *restrict src, float *restrict dst, size_t n, float scale)
{
    size_t body = n & ~(size_t)63;
    for (size_t j = 0; j < body; j++) dst[j] = (float)src[j] * scale;
    for (size_t j = body; j < n; j++) dst[j] = (float)src[j] * scale;
}

__attribute__((noinline))
static void scale_f32(const float *restrict src, float *restrict dst, size_t n, float scale)
{
    size_t body = n & ~(size_t)63;
    for (size_t j = 0; j < body; j++) dst[j] = src[j] * scale;
    for (size_t j = body; j < n; j++) dst[j] = src[j] * scale;
}

void data_gather(const data_set *d, const uint32_t *rows, int count, float scale, float *x, int32_t *y)
{
    size_t ss = d->sample_size;
    if (d->u8)
        for (int i = 0; i < count; i++) u8_to_f32(d->u8 + rows[i] * ss, x + (size_t)i * ss, ss, scale);
    else if (scale == 1.0f)
        for (int i = 0; i < count; i++) memcpy(x + (size_t)i * ss, d->f32 + rows[i] * ss, ss * sizeof(float));
    else
        for (int i = 0; i < count; i++) scale_f32(d->f32 + rows[i] * ss, x + (size_t)i * ss, ss, scale);
    if (y)
        for (int i = 0; i < count; i++) y[i] = d->labels[rows[i]];
}

void data_free(data_set *d)
{
    free(d->u8);
    free(d->f32);
    free(d->labels);
    free(d->class_names);
    memset(d, 0, sizeof *d);
}

/* ---- probing: the headers `hptc check` reads (see data.h) ---------------- */

/* Whether the file may be read whole to count its classes, whether it is
 * plain (not gzip), and its size on disk; false when it cannot be stat'd
 * (rd_open then says why). */
static bool probe_small(const char *path, bool *plain, long long *bytes)
{
    struct stat st;
    unsigned char magic[2] = { 0, 0 };
    *plain = true, *bytes = -1;
    if (stat(path, &st) != 0) return false;
    FILE *f = fopen(path, "rb");
    if (f) {
        if (fread(magic, 1, 2, f) != 2) magic[0] = 0;
        fclose(f);
    }
    *plain = !(magic[0] == 0x1f && magic[1] == 0x8b);
    *bytes = (long long)st.st_size;
    return st.st_size <= (*plain ? DATA_PROBE_READ : DATA_PROBE_READ / 8);
}

/* A plain file must be as long as its header says (a gzipped one is checked
 * when it is loaded). */
static int probe_length(const char *path, bool plain, long long bytes, size_t header, size_t count, size_t item,
                        hpt_error *e)
{
    size_t data, total;
    if (__builtin_mul_overflow(count, item, &data) || __builtin_add_overflow(data, header, &total))
        return hpt_fail(e, "%s: its header declares more data than fits in memory", path);
    if (plain && bytes >= 0 && (long long)total != bytes)
        return hpt_fail(e, "%s: its header declares %zu bytes, but the file has %lld%s", path, total, bytes,
                        (long long)total > bytes ? " (truncated?)" : "");
    return 0;
}

/* The largest of count labels of `item` bytes (1, 4 or 8; signed but for 1)
 * read a chunk at a time; a negative one is an error. */
static int probe_max_label(reader *r, size_t count, size_t item, size_t expect, long long *max, hpt_error *e)
{
    enum { CHUNK = 1 << 13 };
    uint64_t bounce[CHUNK];
    *max = -1;
    for (size_t done = 0; done < count;) {
        size_t k = count - done < CHUNK ? count - done : CHUNK;
        if (rd_exact(r, bounce, k * item, expect, e)) return -1;
        for (size_t i = 0; i < k; i++) {
            long long v = item == 1 ? ((const uint8_t *)bounce)[i] : item == 4 ? ((const int32_t *)bounce)[i]
                                                                               : ((const int64_t *)bounce)[i];
            if (v < 0) return hpt_fail(e, "%s: label %lld at index %zu is negative", r->path, v, done + i);
            if (v > *max) *max = v;
        }
        done += k;
    }
    return rd_end(r, e);
}

int data_probe_idx(data_header *h, const char *path, int ndims, hpt_error *e)
{
    reader r = { 0 };
    uint32_t dims[3] = { 0, 0, 0 };
    bool plain;
    long long bytes, max;
    memset(h, 0, sizeof *h);
    bool small = probe_small(path, &plain, &bytes);
    if (rd_open(&r, path, e) || idx_header(&r, ndims, dims, e)) goto fail;
    h->n = dims[0];
    if (ndims == 3) h->rank = 2, h->shape[0] = (int)dims[1], h->shape[1] = (int)dims[2];
    size_t per = ndims == 3 ? (size_t)dims[1] * dims[2] : 1;
    if (probe_length(path, plain, bytes, 4 + 4 * (size_t)ndims, dims[0], per, e)) goto fail;
    if (ndims == 1 && small) {
        if (probe_max_label(&r, dims[0], 1, 8 + (size_t)dims[0], &max, e)) goto fail;
        h->n_classes = (int)max + 1;
    }
    rd_close(&r);
    return 0;
fail:
    rd_close(&r);
    return -1;
}

int data_probe_npy(data_header *h, const char *path, int samples, hpt_error *e)
{
    static const char *const x_types[] = { "u1", "f4", "f8", NULL }, *const y_types[] = { "i4", "i8", "u1", NULL };
    static const size_t x_size[] = { 1, 4, 8 }, y_size[] = { 4, 8, 1 };
    reader r = { 0 };
    npy hd;
    bool plain;
    long long bytes, max;
    size_t values = 1;
    memset(h, 0, sizeof *h);
    bool small = probe_small(path, &plain, &bytes);
    if (rd_open(&r, path, e) || npy_header(&r, &hd, e)) goto fail;
    int t = samples ? npy_dtype(&hd, x_types, "|u1, <f4 or <f8", path, e) : npy_dtype(&hd, y_types, "<i4, <i8 or |u1", path, e);
    if (t < 0) goto fail;
    if (samples && (hd.rank < 2 || hd.rank > 4)) {
        hpt_fail(e, "%s: samples must have shape (n, d1[, d2[, d3]]), got %d dimension%s", path, hd.rank, hd.rank == 1 ? "" : "s");
        goto fail;
    }
    if (!samples && (hd.rank < 1 || hd.rank > 2 || (hd.rank == 2 && hd.shape[1] != 1))) {
        hpt_fail(e, "%s: labels must have shape (n,) or (n, 1)", path);
        goto fail;
    }
    if (hd.shape[0] == 0 || hd.shape[0] > INT_MAX) {
        hpt_fail(e, "%s: %lld %s, expected 1..%d", path, hd.shape[0], samples ? "samples" : "labels", INT_MAX);
        goto fail;
    }
    h->n = hd.shape[0];
    for (int i = 1; samples && i < hd.rank; i++) {
        if (hd.shape[i] == 0 || hd.shape[i] > INT_MAX || __builtin_mul_overflow(values, (size_t)hd.shape[i], &values)) {
            hpt_fail(e, "%s: sample dimension %d is %lld", path, i, hd.shape[i]);
            goto fail;
        }
        h->shape[i - 1] = (int)hd.shape[i];
    }
    h->rank = samples ? hd.rank - 1 : 0;
    size_t item = samples ? x_size[t] : y_size[t];
    if (probe_length(path, plain, bytes, hd.header_bytes, (size_t)h->n * values, item, e)) goto fail;
    if (!samples && small) {
        if (probe_max_label(&r, (size_t)h->n, item, hd.header_bytes + (size_t)h->n * item, &max, e)) goto fail;
        if (max >= INT32_MAX) {
            hpt_fail(e, "%s: label %lld is too large", path, max);
            goto fail;
        }
        h->n_classes = (int)max + 1;
    }
    rd_close(&r);
    return 0;
fail:
    rd_close(&r);
    return -1;
}

int data_probe_csv(data_header *h, const char *path, const char *label_column, hpt_error *e)
{
    enum { HEADER_MAX = 1 << 20 };
    reader r = { 0 };
    bool plain;
    long long bytes;
    size_t got;
    memset(h, 0, sizeof *h);
    bool small = probe_small(path, &plain, &bytes);
    char *buf = malloc(HEADER_MAX + 1);
    if (!buf) return hpt_fail(e, "%s: out of memory", path);
    if (rd_open(&r, path, e) || rd_some(&r, buf, HEADER_MAX, &got, e)) goto fail;
    buf[got] = '\0';
    if (memchr(buf, '\0', got)) {
        hpt_fail(e, "%s: a NUL byte; is this a binary file?", path);
        goto fail;
    }
    /* The header row, tokenised in place as the loader does (after a UTF-8 byte order mark). */
    size_t bom = got >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    csv c = { path, buf + bom, buf + got, buf, 1 };
    if (!csv_next_record(&c)) {
        hpt_fail(e, "%s: empty file (a header row is required)", path);
        goto fail;
    }
    char *names = c.wp;
    int ncols = csv_record(&c, e), label = -1;
    if (ncols < 0) goto fail;
    if (c.rp >= c.end && got == HEADER_MAX) {
        hpt_fail(e, "%s: the header row is longer than %d bytes", path, HEADER_MAX);
        goto fail;
    }
    size_t text = (size_t)(c.wp - names);
    h->columns = malloc((size_t)ncols * sizeof *h->columns + text);
    if (!h->columns) {
        hpt_fail(e, "%s: out of memory", path);
        goto fail;
    }
    char *copy = memcpy((char *)(h->columns + ncols), names, text);
    for (int j = 0; j < ncols; j++, copy += strlen(copy) + 1) {
        h->columns[j] = copy;
        if (label < 0 && label_column && !strcmp(copy, label_column)) label = j;
    }
    h->n_columns = ncols;
    if (!label_column) label = ncols - 1;
    if (label < 0) {
        char list[700] = "";
        for (int j = 0; j < ncols; j++) append(list, sizeof list, j ? ", '%s'%s" : "'%s'%s", h->columns[j], "");
        hpt_fail(e, "%s: no column '%s' to take the labels from; the columns are %s", path, label_column, list);
        rd_close(&r), free(buf);
        return -2;
    }
    if (ncols < 2) {
        hpt_fail(e, "%s: only the label column '%s', no feature columns", path, h->columns[label]);
        goto fail;
    }
    h->rank = 1, h->shape[0] = ncols - 1, h->n = -1;
    rd_close(&r);
    free(buf);
    if (small) {
        /* Its labels are one of its columns: load it, which checks every row too. */
        data_set d;
        if (data_load_csv(&d, path, label_column, e)) return data_header_free(h), -1;
        h->n = d.n, h->n_classes = d.n_classes;
        data_free(&d);
    }
    return 0;
fail:
    rd_close(&r);
    free(buf);
    data_header_free(h);
    return -1;
}

void data_header_free(data_header *h)
{
    free(h->columns);
    h->columns = NULL;
    h->n_columns = 0;
}
