/* fuzz_data.c: libFuzzer harness over the data readers (`make fuzz`).
 *
 * An input is one file for the CSV loader or two for the IDX and .npy
 * loaders, with a byte or three in front saying how to use it:
 *
 *   byte 0    bits 0-1  loader: 0 CSV, label = the last column; 1 CSV, label
 *                       column named by bits 4-6; 2 IDX images + labels;
 *                       3 .npy x + y
 *             bit 2     gzip the first file here before it is read
 *             bit 3     gzip the second file here before it is read
 *             bits 4-6  CSV: the label column's name, from label_names[]
 *   bytes 1-2 (IDX, .npy) the first file's length, little-endian (clamped);
 *             the rest is the second file
 *
 * A file not gzipped here is read as its bytes are, so an input that starts
 * with 1f 8b fuzzes the gzip reader itself (header, deflate data, trailer,
 * further members); one gzipped here fuzzes the loader on valid gzip data.
 * Files live in memfds opened by path (/proc/self/fd/N): no disk traffic.
 *
 * Checked on every run, beyond what ASan, UBSan and LeakSanitizer catch:
 * on success, the invariants data.h promises (n >= 1, 1..3 dims each >= 1,
 * sample_size their product, exactly one of u8 / f32, labels in [0,
 * n_classes), finite floats, string class names distinct and numbered in
 * order of first appearance, data_gather of the first and last rows); on
 * failure, a zeroed data_set and a message naming one of the files.  When a
 * file was gzipped here, loading the same bytes uncompressed must give the
 * same outcome and, on success, the same data: the reader is transparent.
 * When the input holds gzip bytes, an independent strict gunzip is the
 * oracle: a damaged stream must fail the load (nothing wrong accepted), and
 * a sound one must load exactly as its gunzipped bytes do.
 *
 * HPTC_FUZZ_SEEDS=DIR: write the seed corpus (small valid files of each
 * kind, plain and gzip, and the start of tests/data and examples/data) into
 * DIR and exit; bench/fuzz.mk does so from the repository root. */
#include "runtime/data/data.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

enum { LOAD_CSV, LOAD_CSV_NAMED, LOAD_IDX, LOAD_NPY };
enum { GZIP_FIRST = 4, GZIP_SECOND = 8 };

static const char *const label_names[8] = { "label", "y", "class", "species", "target", "", "a", "label2" };

/* ---- files in memory ---------------------------------------------------- */

typedef struct mem_file {
    int fd;
    char path[64];
} mem_file;

static mem_file files[2];

static void put(mem_file *f, const void *data, size_t n)
{
    if (ftruncate(f->fd, 0) || (n && pwrite(f->fd, data, n, 0) != (ssize_t)n)) abort();
}

/* The gzip file of n bytes (malloc'd), as gzip(1) would write it. */
static unsigned char *gzip_bytes(const void *data, size_t n, size_t *out_len, gz_header *head)
{
    z_stream z = { 0 };
    if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) abort();
    if (head && deflateSetHeader(&z, head) != Z_OK) abort();
    size_t cap = deflateBound(&z, (uLong)n) + 256;   /* + the header's name, comment, extra */
    unsigned char *out = malloc(cap);
    z.next_in = (unsigned char *)data, z.avail_in = (uInt)n;
    z.next_out = out, z.avail_out = (uInt)cap;
    if (!out || deflate(&z, Z_FINISH) != Z_STREAM_END) abort();
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static bool is_gzip(const uint8_t *p, size_t n) { return n >= 2 && p[0] == 0x1f && p[1] == 0x8b; }

/* The oracle for gzip bytes in the input: gunzip all of it in memory, in one
 * loop quite unlike the reader's streaming, and strictly (every member
 * whole, nothing after the last).  The data, malloc'd, or NULL when the
 * stream is damaged (or would inflate past 64 MB). */
static unsigned char *strict_gunzip(const uint8_t *p, size_t n, size_t *out_len)
{
    z_stream z = { 0 };
    size_t cap = 4096, len = 0;
    unsigned char *out = malloc(cap);
    if (!out || inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) abort();
    z.next_in = (unsigned char *)p, z.avail_in = (uInt)n;
    for (;;) {
        if (len == cap) {
            if (cap >= (64u << 20) || !(out = realloc(out, cap *= 2))) goto damaged;
        }
        z.next_out = out + len, z.avail_out = (uInt)(cap - len);
        int rc = inflate(&z, Z_NO_FLUSH);
        len = cap - z.avail_out;
        if (rc == Z_STREAM_END) {
            if (z.avail_in == 0) break;
            if (z.avail_in < 2 || z.next_in[0] != 0x1f || z.next_in[1] != 0x8b) goto damaged;
            inflateReset(&z);
        } else if (rc != Z_OK) {
            goto damaged;   /* Z_BUF_ERROR with room to write: the input ran out */
        }
    }
    inflateEnd(&z);
    *out_len = len;
    return out;
damaged:
    inflateEnd(&z);
    free(out);
    return NULL;
}

/* ---- the checks --------------------------------------------------------- */

static bool zeroed(const data_set *d)
{
    return d->n == 0 && !d->u8 && !d->f32 && !d->labels && !d->class_names && d->sample_size == 0;
}

static void check_loaded(const data_set *d, int loader)
{
    if (d->n < 1 || d->rank < 1 || d->rank > 3) abort();
    size_t ss = 1;
    for (int i = 0; i < d->rank; i++) {
        if (d->shape[i] < 1) abort();
        ss *= (size_t)d->shape[i];
    }
    if (ss != d->sample_size || !d->u8 == !d->f32 || !d->labels || d->n_classes < 1) abort();
    if (strcmp(d->source, files[0].path) != 0) abort();
    size_t values = (size_t)d->n * ss;
    if (d->f32)
        for (size_t i = 0; i < values; i++)
            if (!isfinite(d->f32[i])) abort();
    for (int i = 0; i < d->n; i++)
        if (d->labels[i] < 0 || d->labels[i] >= d->n_classes) abort();
    if (loader == LOAD_IDX && (d->rank != 2 || !d->u8 || d->class_names)) abort();
    if ((loader == LOAD_CSV || loader == LOAD_CSV_NAMED) && (d->rank != 1 || !d->f32)) abort();
    if (d->class_names) {
        /* Ids in order of first appearance: each new one is the next id. */
        int next = 0;
        for (int i = 0; i < d->n; i++)
            if (d->labels[i] == next) next++;
            else if (d->labels[i] > next) abort();
        if (next != d->n_classes) abort();
        for (int a = 0; a < d->n_classes && a < 64; a++)
            for (int b = a + 1; b < d->n_classes && b < 64; b++)
                if (strcmp(d->class_names[a], d->class_names[b]) == 0) abort();
    }
    /* The batch gather over the first and last rows (ASan checks the sizes). */
    uint32_t rows[2] = { 0, (uint32_t)d->n - 1 };
    int32_t y[2];
    float *x = malloc(2 * ss * sizeof *x);
    if (!x) abort();
    data_gather(d, rows, 2, 0.5f, x, y);
    if (y[0] != d->labels[0] || y[1] != d->labels[d->n - 1]) abort();
    if (d->u8 && (x[0] != (float)d->u8[0] * 0.5f || x[2 * ss - 1] != (float)d->u8[values - 1] * 0.5f)) abort();
    if (d->f32 && (x[0] != d->f32[0] * 0.5f || x[2 * ss - 1] != d->f32[values - 1] * 0.5f)) abort();
    free(x);
}

static bool same_data(const data_set *a, const data_set *b)
{
    if (a->n != b->n || a->rank != b->rank || memcmp(a->shape, b->shape, sizeof a->shape) ||
        a->sample_size != b->sample_size || a->n_classes != b->n_classes || !a->u8 != !b->u8 || !a->class_names != !b->class_names)
        return false;
    size_t values = (size_t)a->n * a->sample_size;
    if (a->u8 ? memcmp(a->u8, b->u8, values) : memcmp(a->f32, b->f32, values * sizeof(float))) return false;
    if (memcmp(a->labels, b->labels, (size_t)a->n * sizeof *a->labels)) return false;
    for (int k = 0; a->class_names && k < a->n_classes; k++)
        if (strcmp(a->class_names[k], b->class_names[k])) return false;
    return true;
}

/* ---- one input ---------------------------------------------------------- */

typedef struct parts {
    const uint8_t *p[2];
    size_t n[2];
    int count;
} parts;

static int load(int loader, int label, data_set *d, hpt_error *e)
{
    switch (loader) {
    case LOAD_CSV:       return data_load_csv(d, files[0].path, NULL, e);
    case LOAD_CSV_NAMED: return data_load_csv(d, files[0].path, label_names[label], e);
    case LOAD_IDX:       return data_load_idx(d, files[0].path, files[1].path, e);
    default:             return data_load_npy(d, files[0].path, files[1].path, e);
    }
}

/* `hptc check`'s probes over the same files (runtime/data/data.h): they read
 * headers only, so they may accept a file whose data the loader refuses,
 * never the other way round, and on a file that loads they agree with it. */
static void probe_agrees(int loader, int label, const data_set *d, int loaded)
{
    data_header h[2];
    hpt_error e;
    int rc[2] = { 0, 0 }, n = 1;
    memset(h, 0, sizeof h);
    switch (loader) {
    case LOAD_CSV: rc[0] = data_probe_csv(&h[0], files[0].path, NULL, &e); break;
    case LOAD_CSV_NAMED: rc[0] = data_probe_csv(&h[0], files[0].path, label_names[label], &e); break;
    case LOAD_IDX:
        rc[0] = data_probe_idx(&h[0], files[0].path, 3, &e), rc[1] = data_probe_idx(&h[1], files[1].path, 1, &e), n = 2;
        break;
    default:
        rc[0] = data_probe_npy(&h[0], files[0].path, 1, &e), rc[1] = data_probe_npy(&h[1], files[1].path, 0, &e), n = 2;
    }
    if (loaded) {
        if (rc[0] || rc[1]) abort();
        if (loader <= LOAD_CSV_NAMED) {
            if (h[0].n_columns != (int)d->sample_size + 1 || (h[0].n_classes && h[0].n_classes != d->n_classes)) abort();
        } else {
            size_t ss = 1;
            for (int k = 0; k < h[0].rank; k++) ss *= (size_t)h[0].shape[k];
            if (h[0].n != d->n || h[1].n != d->n || h[0].rank != d->rank || ss != d->sample_size) abort();
            if (h[1].n_classes && h[1].n_classes != d->n_classes) abort();
        }
    }
    for (int k = 0; k < n; k++) data_header_free(&h[k]);
}

/* Write the parts (gzipping those flagged) and load them. */
static int run(const parts *in, int loader, int label, int gzip_mask, data_set *d, hpt_error *e)
{
    for (int i = 0; i < in->count; i++) {
        if (gzip_mask & (GZIP_FIRST << i)) {
            size_t len;
            unsigned char *gz = gzip_bytes(in->p[i], in->n[i], &len, NULL);
            put(&files[i], gz, len);
            free(gz);
        } else {
            put(&files[i], in->p[i], in->n[i]);
        }
    }
    e->message[0] = '\0';
    int rc = load(loader, label, d, e);
    probe_agrees(loader, label, d, rc == 0);
    if (rc == 0) {
        check_loaded(d, loader);
    } else {
        if (rc != -1 || !zeroed(d) || !e->message[0]) abort();
        bool named = strstr(e->message, files[0].path) || (in->count == 2 && strstr(e->message, files[1].path));
        if (!named) abort();
    }
    return rc;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int mode = data[0], loader = mode & 3, label = (mode >> 4) & 7;
    parts in = { .count = loader >= LOAD_IDX ? 2 : 1 };
    data++, size--;
    if (in.count == 1) {
        in.p[0] = data, in.n[0] = size;
    } else {
        if (size < 2) return 0;
        size_t first = (size_t)data[0] | (size_t)data[1] << 8;
        data += 2, size -= 2;
        if (first > size) first = size;
        in.p[0] = data, in.n[0] = first;
        in.p[1] = data + first, in.n[1] = size - first;
    }
    int gzip_mask = mode & (in.count == 2 ? GZIP_FIRST | GZIP_SECOND : GZIP_FIRST);

    data_set d, plain;
    hpt_error e, e_plain;
    int rc = run(&in, loader, label, gzip_mask, &d, &e);
    /* Gzipped here or not, the same bytes load the same (unless they are
     * gzip already: then gzipping adds a layer the reader peels only once). */
    bool raw_gzip = false;
    for (int i = 0; i < in.count; i++) raw_gzip |= is_gzip(in.p[i], in.n[i]);
    if (gzip_mask && !raw_gzip) {
        int rc_plain = run(&in, loader, label, 0, &plain, &e_plain);
        if (rc_plain != rc || (rc == 0 && !same_data(&d, &plain))) abort();
        data_free(&plain);
    }
    /* Gzip bytes in the input: a damaged stream must fail the load, and a
     * sound one load as its gunzipped bytes do. */
    parts unzipped = in;
    unsigned char *owned[2] = { NULL, NULL };
    bool damaged = false, nested = false;
    for (int i = 0; i < in.count; i++) {
        if ((gzip_mask & (GZIP_FIRST << i)) || !is_gzip(in.p[i], in.n[i])) continue;
        if (!(owned[i] = strict_gunzip(in.p[i], in.n[i], &unzipped.n[i]))) damaged = true;
        else unzipped.p[i] = owned[i], nested |= is_gzip(owned[i], unzipped.n[i]);
    }
    if (damaged && rc == 0) abort();
    if (raw_gzip && !damaged && !nested) {
        int rc_plain = run(&unzipped, loader, label, gzip_mask, &plain, &e_plain);
        if (rc_plain != rc || (rc == 0 && !same_data(&d, &plain))) abort();
        data_free(&plain);
    }
    free(owned[0]);
    free(owned[1]);
    data_free(&d);
    return 0;
}

/* ---- the seed corpus ---------------------------------------------------- */

static const char *seed_dir;
static int seed_count;

static void seed(int mode, const void *a, size_t na, const void *b, size_t nb)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/seed-%03d", seed_dir, seed_count++);
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); exit(1); }
    fputc(mode, f);
    if ((mode & 3) >= LOAD_IDX) fputc((int)(na & 0xff), f), fputc((int)(na >> 8 & 0xff), f);
    fwrite(a, 1, na, f);
    if (b) fwrite(b, 1, nb, f);
    fclose(f);
}

/* Each pair three ways: plain, gzipped by the harness, and gzip bytes in the
 * input (with a name, comment, extra field and header CRC on the first). */
static void seed_three(int loader_bits, const void *a, size_t na, const void *b, size_t nb)
{
    gz_header head = { 0 };
    head.name = (Bytef *)"seed.bin";
    head.comment = (Bytef *)"hptc fuzz seed";
    head.extra = (Bytef *)"AB\x02\x00xy";
    head.extra_len = 6;
    head.hcrc = 1;
    seed(loader_bits, a, na, b, nb);
    seed(loader_bits | GZIP_FIRST | GZIP_SECOND, a, na, b, nb);
    size_t ga, gb = 0;
    unsigned char *za = gzip_bytes(a, na, &ga, &head), *zb = b ? gzip_bytes(b, nb, &gb, NULL) : NULL;
    if (ga < 65536) seed(loader_bits, za, ga, zb, gb);
    free(za);
    free(zb);
}

static size_t idx_file(unsigned char *out, uint32_t magic, int ndims, const uint32_t *dims, const uint8_t *data, size_t n)
{
    size_t k = 0;
    for (int s = 24; s >= 0; s -= 8) out[k++] = (unsigned char)(magic >> s);
    for (int i = 0; i < ndims; i++)
        for (int s = 24; s >= 0; s -= 8) out[k++] = (unsigned char)(dims[i] >> s);
    memcpy(out + k, data, n);
    return k + n;
}

static size_t npy_file(unsigned char *out, int version, const char *dict, const void *data, size_t n)
{
    size_t pre = version == 1 ? 10 : 12, len = strlen(dict) + 1, total = (pre + len + 63) / 64 * 64;
    len = total - pre;
    memcpy(out, "\x93NUMPY", 6);
    out[6] = (unsigned char)version, out[7] = 0;
    for (size_t i = 0; i < pre - 8; i++) out[8 + i] = (unsigned char)(len >> (8 * i));
    memset(out + pre, ' ', len);
    memcpy(out + pre, dict, strlen(dict));
    out[total - 1] = '\n';
    memcpy(out + total, data, n);
    return total + n;
}

/* The first `bytes` decompressed bytes of a file (gzip or plain). */
static size_t read_head(const char *path, unsigned char *out, size_t bytes)
{
    gzFile f = gzopen(path, "rb");
    int k = f ? gzread(f, out, (unsigned)bytes) : -1;
    if (f) gzclose(f);
    if (k < 0) { fprintf(stderr, "fuzz_data seeds: cannot read %s (run from the repository root)\n", path); exit(1); }
    return (size_t)k;
}

static void write_seeds(void)
{
    static unsigned char a[16384], b[4096];
    size_t na, nb;

    const char *csvs[] = {
        "a,b,label\n1,2.5,0\n3,-4e-1,2\n",
        "\"sepal.length\",\"species\",\"petal_width\"\r\n5.1,setosa,0.2\r\n\r\n4.9,\"versicolor\",1.3\r\n6.0, setosa ,2.5\r\n7.1,virginica,2.1",
        "x,y\n1,\"a,\"\"b\"\"\"\n2,7\n",
        "\xEF\xBB\xBFtarget,f\n1,0.5\n0,1e-3\n",
    };
    for (int i = 0; i < 4; i++) {
        seed_three(LOAD_CSV, csvs[i], strlen(csvs[i]), NULL, 0);
        static const int label_of[4] = { 0, 3, 1, 4 };   /* label, species, y, target */
        seed(LOAD_CSV_NAMED | label_of[i] << 4, csvs[i], strlen(csvs[i]), NULL, 0);
    }
    /* The first 20 rows of the digits data set, cut at a line end. */
    na = read_head("examples/data/digits.csv", a, 8192);
    size_t lines = 0, cut = 0;
    for (size_t i = 0; i < na && lines < 21; i++)
        if (a[i] == '\n') lines++, cut = i + 1;
    seed_three(LOAD_CSV, a, cut, NULL, 0);
    seed(LOAD_CSV_NAMED | 4 << 4, a, cut, NULL, 0);

    /* IDX: 5 images of 2x3, and the first 3 of the Fashion-MNIST slice. */
    uint8_t px[30], lab[5] = { 3, 1, 4, 1, 5 };
    for (int i = 0; i < 30; i++) px[i] = (uint8_t)(i * 7);
    na = idx_file(a, 0x803, 3, (const uint32_t[3]){ 5, 2, 3 }, px, 30);
    nb = idx_file(b, 0x801, 1, (const uint32_t[1]){ 5 }, lab, 5);
    seed_three(LOAD_IDX, a, na, b, nb);
    static unsigned char img[16 + 3 * 784], lbl[8 + 3];
    if (read_head("tests/data/fashion-mnist/train-images-idx3-ubyte.gz", img, sizeof img) != sizeof img ||
        read_head("tests/data/fashion-mnist/train-labels-idx1-ubyte.gz", lbl, sizeof lbl) != sizeof lbl) exit(1);
    img[7] = lbl[7] = 3;   /* the count: 1000 -> 3 */
    img[6] = lbl[6] = 0;
    seed_three(LOAD_IDX, img, sizeof img, lbl, sizeof lbl);

    /* .npy: the three x dtypes, the three y dtypes, versions 1 to 3. */
    const uint8_t xb[12] = { 0, 1, 2, 3, 10, 11, 12, 13, 250, 251, 252, 255 };
    const int64_t y8[3] = { 2, 0, 7 };
    na = npy_file(a, 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2, 2), }", xb, sizeof xb);
    nb = npy_file(b, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", y8, sizeof y8);
    seed_three(LOAD_NPY, a, na, b, nb);
    const float xf[6] = { 0.5f, -1.0f, 3.25f, 1e-3f, 2.0f, 7.0f };
    const int32_t y4[2] = { 1, 0 };
    na = npy_file(a, 2, "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2, 3)}", xf, sizeof xf);
    nb = npy_file(b, 2, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", y4, sizeof y4);
    seed_three(LOAD_NPY, a, na, b, nb);
    const double xd[4] = { 0.1, -2.5, 1e10, 3.0 };
    const uint8_t y1[2] = { 4, 5 };
    na = npy_file(a, 3, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1, 2), }", xd, sizeof xd);
    nb = npy_file(b, 3, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 1), }", y1, sizeof y1);
    seed_three(LOAD_NPY, a, na, b, nb);

    /* Two gzip members, and a stream cut in its trailer. */
    size_t g1, g2;
    unsigned char *m1 = gzip_bytes("a,b\n1,0\n", 8, &g1, NULL), *m2 = gzip_bytes("2,1\n", 4, &g2, NULL);
    memcpy(a, m1, g1);
    memcpy(a + g1, m2, g2);
    seed(LOAD_CSV, a, g1 + g2, NULL, 0);
    seed(LOAD_CSV, a, g1 + g2 - 3, NULL, 0);
    free(m1);
    free(m2);
    printf("fuzz_data: %d seeds in %s\n", seed_count, seed_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    for (int i = 0; i < 2; i++) {
        files[i].fd = memfd_create(i ? "fuzz-second" : "fuzz-first", MFD_CLOEXEC);
        if (files[i].fd < 0) { perror("memfd_create"); exit(1); }
        snprintf(files[i].path, sizeof files[i].path, "/proc/self/fd/%d", files[i].fd);
    }
    if ((seed_dir = getenv("HPTC_FUZZ_SEEDS"))) {
        write_seeds();
        exit(0);
    }
    return 0;
}
