/* npy.c: NumPy .npy files (format 1.0, 2.0, 3.0; C order, little-endian):
 * samples of |u1, <f4 or <f8, labels of <i4, <i8 or |u1 (data.h).
 *
 * The header's dictionary is parsed by hand (descr, fortran_order, shape; only
 * blanks may pad it), every declared size is checked against what the file
 * can hold before it is allocated, bytes and float32 land in place, and
 * float64 and int64 are narrowed a chunk at a time (rd_converted), so a large
 * file never needs a second copy in memory.  data_probe_npy reads only the
 * header (and a small labels file) for `hptc check`. */
#include "runtime/data/reader.h"

#include <errno.h>
#include <limits.h>
#include <math.h>

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
                       : rd_converted(&rx, values, 8, x_expect, conv_f8, d->f32, e)) goto fail;
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
    } else if (rd_converted(&ry, (size_t)d->n, y_size[ty], y_expect, ty == Y_I8 ? conv_i8 : rd_conv_u1, d->labels, e)) {
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

/* ---- probing ------------------------------------------------------------ */

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
    bool small = rd_probe_small(path, &plain, &bytes);
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
    if (rd_probe_length(path, plain, bytes, hd.header_bytes, (size_t)h->n * values, item, e)) goto fail;
    if (!samples && small) {
        if (rd_probe_max_label(&r, (size_t)h->n, item, hd.header_bytes + (size_t)h->n * item, &max, e)) goto fail;
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
