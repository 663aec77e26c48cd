/* reader.c: reading plain and gzip files, for every loader (reader.h).
 *
 * One reader serves every loader.  It sniffs the gzip magic (1f 8b) and then
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

#include "runtime/data/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* The input buffer: 128 KiB means few read() calls.  The fuzzer builds
 * with a small odd size instead, so its short inputs still cross buffer
 * edges everywhere (a gzip member or the magic split between two reads). */
#ifndef HPTC_RD_BUFFER
#define HPTC_RD_BUFFER (1 << 17)
#endif
enum { RD_BUFFER = HPTC_RD_BUFFER };

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

void rd_close(reader *r)
{
    if (!r->in) return;   /* never opened, or closed already */
    if (r->inflating) inflateEnd(&r->z);
    close(r->fd);
    free(r->in);
    r->in = NULL;
    r->inflating = false;
}

int rd_open(reader *r, const char *path, hpt_error *e)
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
int rd_some(reader *r, void *buf, size_t n, size_t *got, hpt_error *e)
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
int rd_expect(reader *r, size_t n, size_t expect, hpt_error *e)
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
int rd_exact(reader *r, void *buf, size_t n, size_t expect, hpt_error *e)
{
    size_t got;
    if (rd_some(r, buf, n, &got, e)) return -1;
    if (got < n) return hpt_fail(e, "%s: truncated: expected %zu bytes, got %zu", r->path, expect, r->pos);
    return 0;
}

/* After the declared contents, the file must end. */
int rd_end(reader *r, hpt_error *e)
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

/* Reads through a bounce buffer a chunk at a time (reader.h). */
int rd_converted(reader *r, size_t count, size_t size, size_t expect, convert_fn fn, void *dst, hpt_error *e)
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

/* uint8 labels widened to int32. */
int rd_conv_u1(const void *chunk, size_t first, size_t count, void *dst, const char *path, hpt_error *e)
{
    const uint8_t *s = chunk;
    int32_t *y = (int32_t *)dst + first;
    for (size_t i = 0; i < count; i++) y[i] = s[i];
    return 0;
}

/* ---- probing: what the probes share (data.h) -------------------------- */

/* Whether the file may be read whole to count its classes, whether it is
 * plain (not gzip), and its size on disk; false when it cannot be stat'd
 * (rd_open then says why). */
bool rd_probe_small(const char *path, bool *plain, long long *bytes)
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
int rd_probe_length(const char *path, bool plain, long long bytes, size_t header, size_t count, size_t item,
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
int rd_probe_max_label(reader *r, size_t count, size_t item, size_t expect, long long *max, hpt_error *e)
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
