/* reader.h: what the data loaders share, behind runtime/data/data.h.
 *
 * Every file goes through one reader (rd_*, reader.c), which reads gzip and
 * plain files alike, so each loader (idx.c, csv.c, npy.c) and each probe of
 * `hptc check` accepts both, and refuses a gzip file cut anywhere, with a
 * wrong CRC-32 or length, or with bytes after its stream.  A loader
 * validates everything the file declares (magic, dtype, counts, sizes)
 * before trusting it, allocates a declared size only if the rest of the file
 * can hold it (rd_expect), reads every file to its end (rd_end), names the
 * file in every error, and on failure frees what it allocated and leaves the
 * data_set zeroed.  Below the reader are the loaders' small common steps.
 * Nothing here is visible outside runtime/data/. */
#ifndef HPTC_DATA_READER_H
#define HPTC_DATA_READER_H
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "runtime/data/data.h"
#include "runtime/err.h"

typedef struct reader {
    const char *path;
    int fd;
    unsigned char *in;      /* RD_BUFFER bytes (reader.c), NULL when closed; z.next_in/avail_in: the unread part */
    z_stream z;             /* the input cursor for plain files too */
    bool gzip, inflating;   /* inflating: inflateInit2 done, inflateEnd owed */
    bool eof;               /* read() returned 0 */
    bool ended;             /* gzip: the last member is complete and checked */
    bool in_header, in_trailer;   /* gzip: where the current member stands, for messages */
    size_t pos;             /* bytes handed out (decompressed): messages compare it with sizes declared */
    uint64_t file_pos;      /* bytes read from the file */
    int64_t file_size;      /* of a regular file, else -1: bounds what a header may declare */
} reader;


/* Open path and sniff the gzip magic; a reader that failed to open is closed. */
int rd_open(reader *r, const char *path, hpt_error *e);
/* Close the file and free the buffer; safe on a zeroed or closed reader. */
void rd_close(reader *r);

/* Read up to n bytes into buf; *got < n only at the end of the data, and
 * for a gzip file only once the whole stream checked out. */
int rd_some(reader *r, void *buf, size_t n, size_t *got, hpt_error *e);
/* Read exactly n bytes of a file whose full size should be `expect`. */
int rd_exact(reader *r, void *buf, size_t n, size_t expect, hpt_error *e);
/* After the declared contents, the file must end. */
int rd_end(reader *r, hpt_error *e);
/* Before allocating n bytes a header declares (the whole file being `expect`
 * bytes): can the rest of the file hold them?  Fails naming the file when not. */
int rd_expect(reader *r, size_t n, size_t expect, hpt_error *e);

/* Read count elements of `size` bytes each in chunks through a bounce
 * buffer, handing each chunk to convert(); for dtypes stored widened. */
typedef int (*convert_fn)(const void *chunk, size_t first, size_t count, void *dst, const char *path, hpt_error *e);
int rd_converted(reader *r, size_t count, size_t size, size_t expect, convert_fn fn, void *dst, hpt_error *e);
/* The converter of uint8 labels into int32 ones. */
int rd_conv_u1(const void *chunk, size_t first, size_t count, void *dst, const char *path, hpt_error *e);

/* ---- probing: what the probes of data.h share -------------------------- */

/* Whether the file may be read whole to count its classes, whether it is
 * plain (not gzip), and its size on disk; false when it cannot be stat'd
 * (rd_open then says why). */
bool rd_probe_small(const char *path, bool *plain, long long *bytes);
/* A plain file must be as long as its header says (a gzipped one is checked
 * when it is loaded). */
int rd_probe_length(const char *path, bool plain, long long bytes, size_t header, size_t count, size_t item,
                    hpt_error *e);
/* The largest of count labels of `item` bytes (1, 4 or 8; signed but for 1)
 * read a chunk at a time; a negative one is an error. */
int rd_probe_max_label(reader *r, size_t count, size_t item, size_t expect, long long *max, hpt_error *e);

/* ---- the loaders' small common steps ------------------------------------ */

static inline void *alloc_or_fail(size_t n, const char *what, const char *path, hpt_error *e)
{
    void *p = malloc(n ? n : 1);
    if (!p) hpt_fail(e, "%s: out of memory allocating %zu bytes for the %s", path, n, what);
    return p;
}

static inline void set_source(data_set *d, const char *path)
{
    snprintf(d->source, sizeof d->source, "%s", path);
}

static inline int max_label(const int32_t *labels, int n)
{
    int32_t m = -1;
    for (int i = 0; i < n; i++)
        if (labels[i] > m) m = labels[i];
    return m;
}

/* Names the first offender: with 60k labels, "some label is bad" is no help. */
static inline int check_labels(const int32_t *labels, int n, int n_classes, const char *path, hpt_error *e)
{
    for (int i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= n_classes)
            return hpt_fail(e, "%s: label %d of sample %d is out of range for %d classes (0..%d)",
                            path, (int)labels[i], i, n_classes, n_classes - 1);
    return 0;
}

/* Appends to a fixed buffer, truncating silently: the message stays a message. */
static inline void append(char *buf, size_t size, const char *fmt, const char *s1, const char *s2)
{
    size_t len = strlen(buf);
    if (len + 1 < size) snprintf(buf + len, size - len, fmt, s1, s2);
}

#endif
