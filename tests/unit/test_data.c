/* test_data.c: the dataset loaders and the batch gather.
 *
 * The committed slice tests/data/fashion-mnist (first 1000 training and 300
 * test samples of the Debian dataset-fashion-mnist files) is checked against
 * values read from the original files with python's gzip + struct.  Every
 * malformed input is written into a fresh mkdtemp directory at run time and
 * must fail with an exact message naming the file.  Run from the repository
 * root (tests/run.sh does). */
#include "runtime/data/data.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "tests/unit/check.h"

static char tmp[1024];

/* tmp/name, in one of a few rotating buffers so several can be live at once. */
static const char *tpath(const char *name)
{
    static char buf[8][PATH_MAX];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, PATH_MAX, "%s/%s", tmp, name);
    return p;
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) { perror(path); exit(2); }
    fclose(f);
}

static void write_text(const char *path, const char *text) { write_file(path, text, strlen(text)); }

static void write_gz(const char *path, const void *data, size_t n)
{
    gzFile f = gzopen(path, "wb9");
    if (!f || gzwrite(f, data, (unsigned)n) != (int)n) { perror(path); exit(2); }
    gzclose(f);
}

/* The gzip file (one member, level 9) of n bytes, built in memory so a test
 * can cut or corrupt it at a known offset; *out_len is its size. */
static unsigned char *gzip_bytes(const void *data, size_t n, size_t *out_len)
{
    z_stream z = { 0 };
    if (deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) exit(2);
    size_t cap = deflateBound(&z, (uLong)n);
    unsigned char *out = malloc(cap);
    z.next_in = (unsigned char *)data, z.avail_in = (uInt)n;
    z.next_out = out, z.avail_out = (uInt)cap;
    if (!out || deflate(&z, Z_FINISH) != Z_STREAM_END) exit(2);
    *out_len = cap - z.avail_out;
    deflateEnd(&z);
    return out;
}

static void *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    void *p = malloc(*n ? *n : 1);
    if (fread(p, 1, *n, f) != *n) { perror(path); exit(2); }
    fclose(f);
    return p;
}

/* An IDX file: magic, big-endian dims, then the bytes. */
static size_t idx_bytes(unsigned char *out, uint32_t magic, int ndims, const uint32_t *dims, const uint8_t *data, size_t n)
{
    size_t k = 0;
    for (int s = 24; s >= 0; s -= 8) out[k++] = (unsigned char)(magic >> s);
    for (int i = 0; i < ndims; i++)
        for (int s = 24; s >= 0; s -= 8) out[k++] = (unsigned char)(dims[i] >> s);
    memcpy(out + k, data, n);
    return k + n;
}

static void write_idx(const char *path, uint32_t magic, int ndims, const uint32_t *dims, const uint8_t *data, size_t n, int gz)
{
    unsigned char *buf = malloc(16 + n);
    size_t len = idx_bytes(buf, magic, ndims, dims, data, n);
    if (gz) write_gz(path, buf, len);
    else write_file(path, buf, len);
    free(buf);
}

/* A .npy file (format version 1, 2 or 3) with the dict padded so the data
 * starts at a multiple of 64; returns the header size. */
static size_t write_npy(const char *path, int version, const char *dict, const void *data, size_t n)
{
    unsigned char buf[4096];
    size_t pre = version == 1 ? 10 : 12, len = strlen(dict) + 1, total = pre + len;
    total = (total + 63) / 64 * 64;
    len = total - pre;
    memcpy(buf, "\x93NUMPY", 6);
    buf[6] = (unsigned char)version;
    buf[7] = 0;
    for (size_t i = 0; i < pre - 8; i++) buf[8 + i] = (unsigned char)(len >> (8 * i));
    memset(buf + pre, ' ', len);
    memcpy(buf + pre, dict, strlen(dict));
    buf[total - 1] = '\n';
    memcpy(buf + total, data, n);
    write_file(path, buf, total + n);
    return total;
}

static void expect_err(int rc, const hpt_error *e, const data_set *d, const char *want, const char *what)
{
    CHECK(rc == -1 && strstr(e->message, want) != NULL, "%s: error \"%s\" contains \"%s\"", what, e->message, want);
    if (d) CHECK(d->n == 0 && !d->u8 && !d->f32 && !d->labels && !d->class_names, "%s: the data_set is left zeroed", what);
}

static long sum_u8(const uint8_t *p, size_t n)
{
    long s = 0;
    for (size_t i = 0; i < n; i++) s += p[i];
    return s;
}

/* Values read from /usr/share/datasets/fashion-mnist with python gzip+struct. */
static const int train_labels20[20] = { 9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 9, 5, 5, 7, 9, 1, 0, 6, 4 };
static const int test_labels20[20] = { 9, 2, 1, 1, 6, 1, 4, 6, 5, 7, 4, 5, 7, 3, 4, 1, 2, 4, 8, 0 };
static const int train_class_counts[10] = { 107, 104, 86, 92, 95, 100, 100, 115, 102, 99 };

static void check_train_slice(const data_set *d, const char *what)
{
    CHECK(d->n == 1000 && d->rank == 2 && d->shape[0] == 28 && d->shape[1] == 28 && d->sample_size == 784,
          "%s: 1000 samples of 28x28 (got %d, rank %d, %dx%d)", what, d->n, d->rank, d->shape[0], d->shape[1]);
    CHECK(d->u8 && !d->f32 && d->n_classes == 10 && !d->class_names, "%s: bytes, 10 classes", what);
    if (d->n != 1000 || !d->u8) return;
    int ok = 1, counts[10] = { 0 };
    for (int i = 0; i < 20; i++) ok &= d->labels[i] == train_labels20[i];
    CHECK(ok, "%s: the first 20 labels are 9 0 0 3 0 2 7 2 5 5 ...", what);
    for (int i = 0; i < d->n; i++) counts[d->labels[i]]++;
    CHECK(memcmp(counts, train_class_counts, sizeof counts) == 0, "%s: class counts 107 104 86 92 95 100 100 115 102 99", what);
    CHECK(d->labels[500] == 3 && d->labels[999] == 8, "%s: labels[500] = 3, labels[999] = 8", what);
    const uint8_t *p = d->u8;
    CHECK(p[96] == 1 && p[99] == 13 && p[100] == 73 && p[103] == 1 && p[104] == 4 && p[417] == 255 && p[14 * 28 + 14] == 217,
          "%s: image 0 pixels 96=1 99=13 100=73 103=1 104=4 417=255 (14,14)=217", what);
    CHECK(sum_u8(p, 96) == 0 && sum_u8(p, 784) == 76247, "%s: image 0 starts with 96 zeros and sums to 76247", what);
    CHECK(p[999 * 784 + 400] == 184 && p[999 * 784 + 409] == 231 && sum_u8(p + 999 * 784, 784) == 69838,
          "%s: image 999 pixels 400=184 409=231, sum 69838", what);
    CHECK(sum_u8(p, 1000 * 784) == 56558003, "%s: all pixels sum to 56558003", what);
}

static void check_test_slice(const data_set *d, const char *what)
{
    CHECK(d->n == 300 && d->rank == 2 && d->shape[0] == 28 && d->shape[1] == 28 && d->n_classes == 10,
          "%s: 300 samples of 28x28, 10 classes (got %d)", what, d->n);
    if (d->n != 300) return;
    int ok = 1;
    long lsum = 0;
    for (int i = 0; i < 20; i++) ok &= d->labels[i] == test_labels20[i];
    for (int i = 0; i < d->n; i++) lsum += d->labels[i];
    CHECK(ok && lsum == 1286 && d->labels[299] == 8, "%s: labels 9 2 1 1 6 1 4 6 ..., sum 1286, last 8", what);
    CHECK(d->u8[215] == 3 && d->u8[216] == 1 && d->u8[219] == 7 && d->u8[221] == 37 && sum_u8(d->u8, 215) == 0,
          "%s: image 0 pixels 215=3 216=1 219=7 221=37 after 215 zeros", what);
    CHECK(sum_u8(d->u8, 784) == 33456 && sum_u8(d->u8 + 299 * 784, 784) == 43991 && sum_u8(d->u8, 300 * 784) == 17441706,
          "%s: image sums 33456 (first), 43991 (last), 17441706 (all)", what);
}

#define SLICE "tests/data/fashion-mnist/"

/* gunzip src into dst through zlib, to get the plain IDX files. */
static void gunzip(const char *src, const char *dst)
{
    static unsigned char buf[1 << 20];
    gzFile f = gzopen(src, "rb");
    int n = f ? gzread(f, buf, sizeof buf) : -1;
    if (n < 0) { fprintf(stderr, "cannot read %s\n", src); exit(2); }
    gzclose(f);
    write_file(dst, buf, (size_t)n);
}

static void test_slice(void)
{
    hpt_error e = { "" };
    data_set tr, te, plain;
    int rc = data_load_idx(&tr, SLICE "train-images-idx3-ubyte.gz", SLICE "train-labels-idx1-ubyte.gz", &e);
    CHECK(rc == 0, "load the training slice (%s)", e.message);
    if (rc == 0) check_train_slice(&tr, "train slice");
    CHECK(strcmp(tr.source, SLICE "train-images-idx3-ubyte.gz") == 0, "source is the images path (%s)", tr.source);
    rc = data_load_idx(&te, SLICE "t10k-images-idx3-ubyte.gz", SLICE "t10k-labels-idx1-ubyte.gz", &e);
    CHECK(rc == 0, "load the test slice (%s)", e.message);
    if (rc == 0) check_test_slice(&te, "test slice");

    /* Plain and gzip files give identical data. */
    mkdir(tpath("plain"), 0700);
    gunzip(SLICE "train-images-idx3-ubyte.gz", tpath("plain/train-images-idx3-ubyte"));
    gunzip(SLICE "train-labels-idx1-ubyte.gz", tpath("plain/train-labels-idx1-ubyte"));
    rc = data_load_idx(&plain, tpath("plain/train-images-idx3-ubyte"), tpath("plain/train-labels-idx1-ubyte"), &e);
    CHECK(rc == 0, "load the plain (gunzipped) training slice (%s)", e.message);
    CHECK(rc == 0 && plain.n == tr.n && memcmp(plain.u8, tr.u8, 1000 * 784) == 0 &&
          memcmp(plain.labels, tr.labels, 1000 * sizeof(int32_t)) == 0, "plain and .gz loads are identical");

    /* data_gather: bytes times 1/255, bytes times 1, and the labels. */
    static float x[3 * 784];
    int32_t y[3] = { -1, -1, -1 };
    const uint32_t rows[3] = { 999, 0, 500 };
    if (tr.n == 1000) {
        const float s = 1.0f / 255.0f;
        data_gather(&tr, rows, 3, s, x, y);
        int exact = 1;
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < 784; k++) exact &= x[i * 784 + k] == (float)tr.u8[rows[i] * 784 + k] * s;
        CHECK(exact, "gather 1/255: every x equals (float)byte * (1/255f)");
        CHECK(y[0] == 8 && y[1] == 9 && y[2] == 3, "gather: labels 8 9 3 of rows 999 0 500 (got %d %d %d)", y[0], y[1], y[2]);
        CHECK_NEAR(x[784 + 100], 73.0 / 255.0, 1e-7, "gather 1/255: row 0 pixel 100 = 73/255");
        CHECK_NEAR(x[784 + 417], 1.0, 1e-7, "gather 1/255: row 0 pixel 417 = 255/255");
        CHECK(x[784] == 0.0f && x[400] == 184.0f * s, "gather 1/255: row 999 pixel 400 = 184/255, row 0 pixel 0 = 0");
        data_gather(&tr, rows, 2, 1.0f, x, NULL);
        CHECK(x[400] == 184.0f && x[409] == 231.0f && x[784 + 100] == 73.0f && x[784 + 417] == 255.0f,
              "gather scale 1: raw byte values 184 231 73 255, y may be NULL");
    }
    data_free(&plain);
    data_free(&tr);
    data_free(&te);
    CHECK(tr.u8 == NULL && tr.labels == NULL && tr.n == 0, "data_free zeroes the set");
    data_free(&tr);   /* twice is harmless */
}

/* Four small IDX files (train 5 and test 3 images of 2x3) in root/dir. */
static void write_builtin(const char *dir, const uint8_t *train_labels, int gz)
{
    uint8_t px[5 * 6];
    for (int i = 0; i < 30; i++) px[i] = (uint8_t)(i * 7);
    char p[PATH_MAX];
    mkdir(dir, 0700);
    const char *sfx = gz ? ".gz" : "";
    uint32_t d5[3] = { 5, 2, 3 }, d3[3] = { 3, 2, 3 }, l5[1] = { 5 }, l3[1] = { 3 };
    const uint8_t test_labels[3] = { 1, 0, 9 };
    snprintf(p, sizeof p, "%s/train-images-idx3-ubyte%s", dir, sfx); write_idx(p, 0x803, 3, d5, px, 30, gz);
    snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte%s", dir, sfx); write_idx(p, 0x801, 1, l5, train_labels, 5, gz);
    snprintf(p, sizeof p, "%s/t10k-images-idx3-ubyte%s", dir, sfx);  write_idx(p, 0x803, 3, d3, px, 18, gz);
    snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte%s", dir, sfx);  write_idx(p, 0x801, 1, l3, test_labels, 3, gz);
}

static void test_builtin(void)
{
    hpt_error e = { "" };
    data_set tr, te;
    char dir[PATH_MAX], cwd[PATH_MAX], want[PATH_MAX + 64];
    if (!getcwd(cwd, sizeof cwd)) { perror("getcwd"); exit(2); }

    setenv("HPT_DATA", "tests/data", 1);
    int rc = data_find_builtin("fashion_mnist", dir, sizeof dir, &e);
    CHECK(rc == 0 && strcmp(dir, "tests/data/fashion-mnist") == 0, "HPT_DATA=tests/data: fashion_mnist is tests/data/fashion-mnist (%s)", rc ? e.message : dir);
    rc = data_load_builtin("fashion_mnist", &tr, &te, &e);
    CHECK(rc == 0, "data_load_builtin fashion_mnist from the slice (%s)", rc ? e.message : "");
    if (rc == 0) {
        check_train_slice(&tr, "builtin train");
        check_test_slice(&te, "builtin test");
    }
    data_free(&tr);
    data_free(&te);
    rc = data_find_builtin("cifar10", dir, sizeof dir, &e);
    expect_err(rc, &e, NULL, "unknown built-in dataset 'cifar10' (known: fashion_mnist, mnist)", "unknown dataset");

    /* The second spelling, plain files, and 2x3 images. */
    const uint8_t good[5] = { 3, 1, 4, 1, 5 };
    mkdir(tpath("b"), 0700);
    write_builtin(tpath("b/fashion_mnist"), good, 0);
    setenv("HPT_DATA", tpath("b"), 1);
    rc = data_load_builtin("fashion_mnist", &tr, &te, &e);
    CHECK(rc == 0 && tr.n == 5 && te.n == 3 && tr.shape[0] == 2 && tr.shape[1] == 3 && tr.u8[29] == 203 &&
          tr.labels[4] == 5 && te.labels[2] == 9 && tr.n_classes == 10 && te.n_classes == 10,
          "HPT_DATA/fashion_mnist with plain files: 5 + 3 images of 2x3, 10 classes (%s)", rc ? e.message : "");
    data_free(&tr);
    data_free(&te);

    /* A training label of 10 is out of range for the 10 classes. */
    const uint8_t bad[5] = { 3, 1, 4, 10, 5 };
    mkdir(tpath("c"), 0700);
    write_builtin(tpath("c/fashion-mnist"), bad, 1);
    setenv("HPT_DATA", tpath("c"), 1);
    rc = data_load_builtin("fashion_mnist", &tr, &te, &e);
    snprintf(want, sizeof want, "%s: label 10 of sample 3 is out of range for 10 classes (0..9)", tpath("c/fashion-mnist/train-labels-idx1-ubyte.gz"));
    expect_err(rc, &e, &tr, want, "builtin label 10");
    CHECK(te.n == 0 && !te.u8, "builtin failure leaves the test set zeroed too");

    /* Nothing anywhere: mnist, with an incomplete directory under HPT_DATA. */
    mkdir(tpath("a"), 0700);
    mkdir(tpath("a/mnist"), 0700);
    write_file(tpath("a/mnist/train-images-idx3-ubyte.gz"), "", 0);
    write_file(tpath("a/mnist/train-labels-idx1-ubyte"), "", 0);
    setenv("HPT_DATA", tpath("a"), 1);
    if (chdir(tmp) != 0) { perror(tmp); exit(2); }   /* so ./data is ours */
    rc = data_find_builtin("mnist", dir, sizeof dir, &e);
    snprintf(want, sizeof want, "mnist: dataset not found; looked for train-images-idx3-ubyte[.gz] and its 3 companions in %s (no t10k-images-idx3-ubyte[.gz]), ./data/mnist, /usr/share/datasets/mnist;", tpath("a/mnist"));
    expect_err(rc, &e, NULL, want, "mnist nowhere: every place looked");
    expect_err(rc, &e, NULL, "set HPT_DATA", "mnist nowhere: the hint");

    /* ./data/<dir> is the second place. */
    mkdir(tpath("data"), 0700);
    write_builtin(tpath("data/mnist"), good, 1);
    rc = data_find_builtin("mnist", dir, sizeof dir, &e);
    CHECK(rc == 0 && strcmp(dir, "./data/mnist") == 0, "mnist found in ./data/mnist (%s)", rc ? e.message : dir);

    /* HPT_DATA unset, nothing in ./data: the Debian package or the hint. */
    unsetenv("HPT_DATA");
    rc = data_find_builtin("fashion_mnist", dir, sizeof dir, &e);
    if (access("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", F_OK) == 0)
        CHECK(rc == 0 && strcmp(dir, "/usr/share/datasets/fashion-mnist") == 0, "fashion_mnist falls back to the Debian package (%s)", rc ? e.message : dir);
    else
        expect_err(rc, &e, NULL, "./data/fashion-mnist, ./data/fashion_mnist, /usr/share/datasets/fashion-mnist, /usr/share/datasets/fashion_mnist (HPT_DATA is not set); install the Debian package dataset-fashion-mnist or set HPT_DATA", "fashion_mnist nowhere");
    if (chdir(cwd) != 0) { perror(cwd); exit(2); }
    setenv("HPT_DATA", "tests/data", 1);
}

static void test_idx_errors(void)
{
    hpt_error e = { "" };
    data_set d;
    char want[PATH_MAX + 200];
    uint8_t px[5 * 4], lab[5] = { 0, 1, 2, 12, 4 };
    for (int i = 0; i < 20; i++) px[i] = (uint8_t)(i + 1);
    const uint32_t d5[3] = { 5, 2, 2 }, l5[1] = { 5 }, l4[1] = { 4 };
    const char *img = tpath("img"), *lbl = tpath("lbl");
    write_idx(img, 0x803, 3, d5, px, 20, 0);
    write_idx(lbl, 0x801, 1, l5, lab, 5, 0);

    int rc = data_load_idx(&d, img, lbl, &e);
    CHECK(rc == 0 && d.n == 5 && d.n_classes == 13 && d.u8[19] == 20 && d.labels[3] == 12,
          "a valid small pair loads; n_classes is max label + 1 = 13 (%s)", rc ? e.message : "");
    rc = data_check_labels(&d, 10, &e);
    snprintf(want, sizeof want, "%s: label 12 of sample 3 is out of range for 10 classes (0..9)", img);
    expect_err(rc, &e, NULL, want, "data_check_labels: label 12 >= 10");
    CHECK(data_check_labels(&d, 13, &e) == 0 && d.n_classes == 13, "data_check_labels: 13 classes are fine");
    data_free(&d);

    rc = data_load_idx(&d, tpath("nope"), lbl, &e);
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory", tpath("nope"));
    expect_err(rc, &e, &d, want, "missing file");

    const char *bad = tpath("bad");
    write_idx(bad, 0x801, 3, d5, px, 20, 0);
    rc = data_load_idx(&d, bad, lbl, &e);
    snprintf(want, sizeof want, "%s: bad magic 0x00000801, expected 0x00000803 (IDX uint8 images: count, rows, cols); is this a labels file?", bad);
    expect_err(rc, &e, &d, want, "bad magic: labels given as images");
    write_idx(bad, 0x12345678, 0, NULL, px, 20, 0);
    rc = data_load_idx(&d, img, bad, &e);
    snprintf(want, sizeof want, "%s: bad magic 0x12345678, expected 0x00000801 (IDX uint8 labels: count)", bad);
    expect_err(rc, &e, &d, want, "bad magic: garbage");

    write_idx(bad, 0x0D03, 3, d5, px, 20, 0);
    rc = data_load_idx(&d, bad, lbl, &e);
    snprintf(want, sizeof want, "%s: unsupported IDX dtype byte 0x0d (float32); only 0x08 (unsigned byte) is supported", bad);
    expect_err(rc, &e, &d, want, "wrong dtype byte");

    write_idx(bad, 0x803, 3, d5, px, 13, 0);
    rc = data_load_idx(&d, bad, lbl, &e);
    snprintf(want, sizeof want, "%s: truncated: expected 36 bytes, got 29", bad);
    expect_err(rc, &e, &d, want, "truncated images");

    write_idx(bad, 0x801, 1, l5, lab, 3, 0);
    rc = data_load_idx(&d, img, bad, &e);
    snprintf(want, sizeof want, "%s: truncated: expected 13 bytes, got 11", bad);
    expect_err(rc, &e, &d, want, "truncated labels");

    write_file(bad, "\0\0\x08", 3);
    rc = data_load_idx(&d, bad, lbl, &e);
    snprintf(want, sizeof want, "%s: truncated: expected a 16-byte IDX header, got 3 bytes", bad);
    expect_err(rc, &e, &d, want, "truncated header");

    uint8_t more[23];
    memcpy(more, px, 20);
    memcpy(more + 20, "xyz", 3);
    write_idx(bad, 0x803, 3, d5, more, 23, 0);
    rc = data_load_idx(&d, bad, lbl, &e);
    snprintf(want, sizeof want, "%s: 3 bytes of trailing garbage after the 36 bytes its header declares", bad);
    expect_err(rc, &e, &d, want, "trailing garbage");

    write_idx(bad, 0x801, 1, l4, lab, 4, 0);
    rc = data_load_idx(&d, img, bad, &e);
    snprintf(want, sizeof want, "%s has 5 images but %s has 4 labels", img, bad);
    expect_err(rc, &e, &d, want, "count mismatch");

    /* A gzip file whose CRC no longer matches, and one cut in half. */
    static uint8_t noise[400 * 4];
    uint32_t s = 1, d400[3] = { 400, 2, 2 };
    for (size_t i = 0; i < sizeof noise; i++) noise[i] = (uint8_t)((s = s * 1103515245u + 12345u) >> 24);
    const char *gz = tpath("img.gz"), *lbl400 = tpath("lbl400");
    write_idx(gz, 0x803, 3, d400, noise, sizeof noise, 1);
    write_idx(lbl400, 0x801, 1, d400, noise, 400, 0);
    size_t n;
    unsigned char *raw = read_file(gz, &n);
    raw[n - 8] ^= 0xff;   /* the CRC-32 of the gzip trailer */
    write_file(gz, raw, n);
    rc = data_load_idx(&d, gz, lbl400, &e);
    snprintf(want, sizeof want, "%s: corrupt gzip data: incorrect data check", gz);
    expect_err(rc, &e, &d, want, "corrupt gzip: the file and zlib's message");
    raw[n - 8] ^= 0xff;
    write_file(gz, raw, n / 2);
    rc = data_load_idx(&d, gz, lbl400, &e);
    snprintf(want, sizeof want, "%s: truncated gzip stream: the file ends at byte %zu, inside the compressed data", gz, n / 2);
    expect_err(rc, &e, &d, want, "gzip cut in half: truncated, says where");
    free(raw);

    /* A count no file of this size can hold is refused before anything is
     * allocated: plain, exactly; gzip, by deflate's 1032:1 at most. */
    const uint32_t huge[3] = { 400, 60000, 60000 };
    write_idx(bad, 0x803, 3, huge, px, 20, 0);
    rc = data_load_idx(&d, bad, lbl400, &e);
    snprintf(want, sizeof want, "%s: truncated: expected 1440000000016 bytes, got 36", bad);
    expect_err(rc, &e, &d, want, "plain IDX declaring 1.4 TB in 36 bytes");
    write_idx(gz, 0x803, 3, huge, px, 20, 1);
    rc = data_load_idx(&d, gz, lbl400, &e);
    snprintf(want, sizeof want, "%s: truncated: expected 1440000000016 bytes, more than the ", gz);
    expect_err(rc, &e, &d, want, "gzip IDX declaring 1.4 TB in a few bytes");
    const uint32_t l9[1] = { 400000 };
    write_idx(bad, 0x801, 1, l9, lab, 5, 0);
    uint8_t *zeros = calloc(400000, 1);
    write_idx(gz, 0x803, 3, (const uint32_t[3]){ 400000, 1, 1 }, zeros, 400000, 1);
    free(zeros);
    rc = data_load_idx(&d, gz, bad, &e);
    snprintf(want, sizeof want, "%s: truncated: expected 400008 bytes, got 13", bad);
    expect_err(rc, &e, &d, want, "plain labels declaring 400000 in 13 bytes");
}

static void test_csv(void)
{
    hpt_error e = { "" };
    data_set d;
    char want[PATH_MAX + 200];
    const char *p = tpath("num.csv");

    const char num[] = "a,b,label\n1,2.5,0\n3,-4e-1,2\n";
    write_file(p, num, strlen(num));
    int rc = data_load_csv(&d, p, NULL, &e);
    CHECK(rc == 0 && d.n == 2 && d.rank == 1 && d.shape[0] == 2 && d.sample_size == 2 && d.f32 && !d.u8,
          "numeric CSV: 2 rows of 2 features (%s)", rc ? e.message : "");
    if (rc == 0) {
        CHECK(d.f32[0] == 1.0f && d.f32[1] == 2.5f && d.f32[2] == 3.0f && d.f32[3] == -0.4f, "numeric CSV: features 1 2.5 3 -0.4");
        CHECK(d.labels[0] == 0 && d.labels[1] == 2 && d.n_classes == 3 && !d.class_names, "numeric CSV: labels 0 2, 3 classes, no names");
        float x[4];
        int32_t y[2];
        const uint32_t rows[2] = { 1, 0 };
        data_gather(&d, rows, 2, 1.0f, x, y);
        CHECK(x[0] == 3.0f && x[1] == -0.4f && x[2] == 1.0f && x[3] == 2.5f && y[0] == 2 && y[1] == 0, "gather floats, scale 1: a copy");
        data_gather(&d, rows, 2, 0.5f, x, y);
        CHECK(x[0] == 1.5f && x[1] == -0.2f && x[2] == 0.5f && x[3] == 1.25f, "gather floats, scale 0.5");
    }
    data_free(&d);
    write_gz(tpath("num.csv.gz"), num, strlen(num));
    rc = data_load_csv(&d, tpath("num.csv.gz"), "label", &e);
    CHECK(rc == 0 && d.n == 2 && d.f32[3] == -0.4f && d.labels[1] == 2, "a gzipped CSV loads the same (%s)", rc ? e.message : "");
    data_free(&d);

    /* Iris-like: quoted header, CRLF, a blank line, a middle label column of strings, no final newline. */
    const char iris[] = "\"sepal.length\",\"species\",\"petal_width\"\r\n5.1,setosa,0.2\r\n\r\n4.9,\"versicolor\",1.3\r\n"
                        "6.0, setosa ,2.5\r\n7.1,virginica,2.1";
    write_file(p, iris, strlen(iris));
    rc = data_load_csv(&d, p, "species", &e);
    CHECK(rc == 0 && d.n == 4 && d.shape[0] == 2 && d.n_classes == 3 && d.class_names,
          "string labels: 4 rows, 2 features, 3 classes (%s)", rc ? e.message : "");
    if (rc == 0) {
        CHECK(d.f32[0] == 5.1f && d.f32[1] == 0.2f && d.f32[2] == 4.9f && d.f32[3] == 1.3f && d.f32[6] == 7.1f && d.f32[7] == 2.1f,
              "string labels: features skip the label column");
        CHECK(d.labels[0] == 0 && d.labels[1] == 1 && d.labels[2] == 0 && d.labels[3] == 2, "string labels: ids 0 1 0 2 in order of first appearance");
        CHECK(strcmp(d.class_names[0], "setosa") == 0 && strcmp(d.class_names[1], "versicolor") == 0 &&
              strcmp(d.class_names[2], "virginica") == 0, "string labels: names setosa versicolor virginica");
    }
    data_free(&d);

    const char quoted[] = "x,y\n1,\"a,\"\"b\"\"\"\n2,7\n";
    write_file(p, quoted, strlen(quoted));
    rc = data_load_csv(&d, p, NULL, &e);
    CHECK(rc == 0 && d.n == 2 && d.n_classes == 2 && strcmp(d.class_names[0], "a,\"b\"") == 0 && strcmp(d.class_names[1], "7") == 0,
          "a quoted label with a comma and doubled quotes; a column with any string is all strings (%s)", rc ? e.message : "");
    data_free(&d);

    const char fields[] = "a,b,c\n1,2,3\n4,5\n";
    write_file(p, fields, strlen(fields));
    rc = data_load_csv(&d, p, NULL, &e);
    snprintf(want, sizeof want, "%s: line 3 has 2 fields, the header has 3", p);
    expect_err(rc, &e, &d, want, "CSV wrong field count");

    char text[2048] = "sepal_length,petal_width,species\n";
    for (int i = 2; i <= 16; i++) strcat(text, "1.5,0.25,0\n");
    strcat(text, "2,abc,1\n");
    write_file(p, text, strlen(text));
    rc = data_load_csv(&d, p, "species", &e);
    snprintf(want, sizeof want, "%s: line 17, column 'petal_width': 'abc' is not a number", p);
    expect_err(rc, &e, &d, want, "CSV non-numeric feature");

    write_file(p, "", 0);
    rc = data_load_csv(&d, p, NULL, &e);
    snprintf(want, sizeof want, "%s: empty file (a header row is required)", p);
    expect_err(rc, &e, &d, want, "CSV empty file");

    write_file(p, "a,b\n\n", 5);
    rc = data_load_csv(&d, p, NULL, &e);
    snprintf(want, sizeof want, "%s: no data rows after the header", p);
    expect_err(rc, &e, &d, want, "CSV header only");

    write_file(p, fields, strlen(fields));
    rc = data_load_csv(&d, p, "species", &e);
    snprintf(want, sizeof want, "%s: no column 'species' to take the labels from; the columns are 'a', 'b', 'c'", p);
    expect_err(rc, &e, &d, want, "CSV unknown label column");

    write_file(p, "a,b\n1,0\n2,-1\n", 13);
    rc = data_load_csv(&d, p, NULL, &e);
    snprintf(want, sizeof want, "%s: line 3, column 'b': label -1 is negative", p);
    expect_err(rc, &e, &d, want, "CSV negative label");

    write_file(p, "a,b\n1,0\n\x1f\x8b\0\0,1\n", 15);
    rc = data_load_csv(&d, p, NULL, &e);
    snprintf(want, sizeof want, "%s: line 3: a NUL byte; is this a binary file?", p);
    expect_err(rc, &e, &d, want, "CSV with a NUL byte");

    /* A label column named twice: which one holds the labels is a guess. */
    write_text(p, "label,b,label\n0,1,2\n1,2,3\n");
    rc = data_load_csv(&d, p, "label", &e);
    snprintf(want, sizeof want, "%s: the header names columns 1 and 3 'label'; rename one so the label column is clear", p);
    expect_err(rc, &e, &d, want, "CSV with the label column named twice");

    /* Hex is not a class id: "0x1A" stays a name, not class 26. */
    write_text(p, "a,b\n1,0x1A\n2,0x2B\n3,0x1A\n");
    rc = data_load_csv(&d, p, NULL, &e);
    CHECK(rc == 0 && d.n_classes == 2 && d.class_names && strcmp(d.class_names[1], "0x2B") == 0 && d.labels[2] == 0,
          "CSV labels 0x1A 0x2B are two class names, not ids 26 and 43 (%s)", rc ? e.message : "");
    data_free(&d);

    /* A UTF-8 byte order mark (Excel writes one) is not part of the first name. */
    write_text(p, "\xEF\xBB\xBFy,a\n1,0.5\n0,1.5\n");
    rc = data_load_csv(&d, p, "y", &e);
    CHECK(rc == 0 && d.n == 2 && d.labels[0] == 1 && d.f32[1] == 1.5f, "CSV after a UTF-8 BOM: the first column is 'y' (%s)", rc ? e.message : "");
    data_free(&d);

    write_file(p, "a,b\n1,\"x\n", 9);
    rc = data_load_csv(&d, p, NULL, &e);
    snprintf(want, sizeof want, "%s: line 2: unterminated quoted field", p);
    expect_err(rc, &e, &d, want, "CSV unterminated quote");
}

static void test_npy(void)
{
    hpt_error e = { "" };
    data_set d;
    char want[PATH_MAX + 200];
    const char *x = tpath("x.npy"), *y = tpath("y.npy");

    const uint8_t xb[12] = { 0, 1, 2, 3, 10, 11, 12, 13, 250, 251, 252, 255 };
    const int64_t y8[3] = { 2, 0, 7 };
    write_npy(x, 1, "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2, 2), }", xb, sizeof xb);
    write_npy(y, 1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", y8, sizeof y8);
    int rc = data_load_npy(&d, x, y, &e);
    CHECK(rc == 0 && d.n == 3 && d.rank == 2 && d.shape[0] == 2 && d.shape[1] == 2 && d.u8 && !d.f32 &&
          memcmp(d.u8, xb, 12) == 0 && d.labels[0] == 2 && d.labels[2] == 7 && d.n_classes == 8,
          "npy |u1 (3,2,2) + <i8 (3,): bytes kept, 8 classes (%s)", rc ? e.message : "");
    data_free(&d);

    const float xf[6] = { 0.5f, -1.0f, 3.25f, 1e-3f, 2.0f, 7.0f };
    const int32_t y4[2] = { 1, 0 };
    write_npy(x, 2, "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2, 3)}", xf, sizeof xf);
    write_npy(y, 2, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", y4, sizeof y4);
    rc = data_load_npy(&d, x, y, &e);
    CHECK(rc == 0 && d.n == 2 && d.rank == 1 && d.shape[0] == 3 && d.f32 && memcmp(d.f32, xf, sizeof xf) == 0 &&
          d.labels[0] == 1 && d.labels[1] == 0, "npy v2 <f4 (2,3) + <i4: floats as stored (%s)", rc ? e.message : "");
    data_free(&d);

    const double xd[4] = { 0.1, -2.5, 1e10, 3.0 };
    const uint8_t y1[2] = { 4, 5 };
    write_npy(x, 3, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", xd, sizeof xd);
    write_npy(y, 3, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 1), }", y1, sizeof y1);
    rc = data_load_npy(&d, x, y, &e);
    CHECK(rc == 0 && d.n == 2 && d.f32 && d.f32[0] == (float)0.1 && d.f32[1] == -2.5f && d.f32[2] == 1e10f &&
          d.labels[1] == 5 && d.n_classes == 6, "npy v3 <f8 -> float, |u1 labels of shape (n,1) (%s)", rc ? e.message : "");
    data_free(&d);

    write_npy(x, 1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", xf, sizeof xf);
    write_npy(y, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", y4, sizeof y4);
    rc = data_load_npy(&d, x, y, &e);
    snprintf(want, sizeof want, "%s: fortran_order is True; only C-order arrays are supported", x);
    expect_err(rc, &e, &d, want, "npy fortran order");

    write_npy(x, 1, "{'descr': '<c16', 'fortran_order': False, 'shape': (2, 3), }", xf, sizeof xf);
    rc = data_load_npy(&d, x, y, &e);
    snprintf(want, sizeof want, "%s: wrong dtype '<c16' (expected |u1, <f4 or <f8)", x);
    expect_err(rc, &e, &d, want, "npy wrong dtype");

    write_npy(x, 1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", xf, sizeof xf);
    rc = data_load_npy(&d, x, y, &e);
    snprintf(want, sizeof want, "%s: big-endian dtype '>f4' is not supported", x);
    expect_err(rc, &e, &d, want, "npy big-endian");

    write_npy(x, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", xf, sizeof xf);
    write_npy(y, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", y4, sizeof y4);
    rc = data_load_npy(&d, x, y, &e);
    snprintf(want, sizeof want, "%s: wrong dtype '<f4' (expected <i4, <i8 or |u1)", y);
    expect_err(rc, &e, &d, want, "npy float labels");

    size_t h = write_npy(x, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", xf, 17);
    write_npy(y, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", y4, sizeof y4);
    rc = data_load_npy(&d, x, y, &e);
    snprintf(want, sizeof want, "%s: truncated: expected %zu bytes, got %zu", x, h + 24, h + 17);
    expect_err(rc, &e, &d, want, "npy truncated");

    write_npy(x, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", xf, sizeof xf);
    rc = data_load_npy(&d, x, y, &e);
    snprintf(want, sizeof want, "%s has 3 samples but %s has 2 labels", x, y);
    expect_err(rc, &e, &d, want, "npy x-y count mismatch");

    const int32_t yneg[2] = { 1, -3 };
    write_npy(x, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", xf, sizeof xf);
    write_npy(y, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", yneg, sizeof yneg);
    rc = data_load_npy(&d, x, y, &e);
    snprintf(want, sizeof want, "%s: label -3 at index 1 is negative", y);
    expect_err(rc, &e, &d, want, "npy negative label");

    const float xnan[6] = { 0, 1, 2, 3, NAN, 5 };
    write_npy(x, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", xnan, sizeof xnan);
    write_npy(y, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", y4, sizeof y4);
    rc = data_load_npy(&d, x, y, &e);
    snprintf(want, sizeof want, "%s: sample 1 holds a non-finite value", x);
    expect_err(rc, &e, &d, want, "npy NaN feature");

    /* Junk after the header dictionary: numpy pads it with spaces and a newline only. */
    write_npy(x, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }junk", xf, sizeof xf);
    write_npy(y, 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", y4, sizeof y4);
    rc = data_load_npy(&d, x, y, &e);
    snprintf(want, sizeof want, "%s: 'junk' after the .npy header dictionary (only spaces and a newline may follow it)", x);
    expect_err(rc, &e, &d, want, "npy junk after the header dict");
    char dict0[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\0\0";
    write_npy(x, 1, dict0, xf, sizeof xf);
    size_t xn;
    unsigned char *xr = read_file(x, &xn);
    memset(memchr(xr + 10, '}', xn - 10) + 1, 0, 2);   /* two NULs after the '}' */
    write_file(x, xr, xn);
    free(xr);
    rc = data_load_npy(&d, x, y, &e);
    snprintf(want, sizeof want, "%s: '\\x00\\x00' after the .npy header dictionary", x);
    expect_err(rc, &e, &d, want, "npy NUL bytes after the header dict");

    write_file(x, "PK\x03\x04 not npy", 12);
    rc = data_load_npy(&d, x, y, &e);
    snprintf(want, sizeof want, "%s: not a .npy file", x);
    expect_err(rc, &e, &d, want, "npy bad magic");
}

/* A damaged gzip file must fail naming the file and the cause, through every
 * loader: zlib's gzread reports a stream that stops early only as a soft
 * Z_BUF_ERROR and ignores bytes after the stream, so such files used to load
 * as shorter (or complete but unchecked) data.  expect_damaged shows what was
 * loaded when a load wrongly succeeds. */
enum { LOAD_CSV, LOAD_IDX, LOAD_NPY };

static void expect_damaged(int how, const char *first, const char *second, const char *damaged, const char *cause, const char *what)
{
    hpt_error e = { "" };
    data_set d;
    int rc = how == LOAD_CSV ? data_load_csv(&d, first, NULL, &e)
           : how == LOAD_IDX ? data_load_idx(&d, first, second, &e) : data_load_npy(&d, first, second, &e);
    char want[PATH_MAX + 200];
    snprintf(want, sizeof want, "%s: %s", damaged, cause);
    if (rc == 0) {
        CHECK(0, "%s: fails with \"%s\" (it loaded %d samples)", what, want, d.n);
        data_free(&d);
        return;
    }
    expect_err(rc, &e, &d, want, what);
}

static void test_gzip_damage(void)
{
    hpt_error e = { "" };
    data_set d;
    char text[8192] = "a,b,label\n", cause[200], want[PATH_MAX + 300];
    for (int i = 0; i < 200; i++) snprintf(text + strlen(text), sizeof text - strlen(text), "%d,%d.5,%d\n", i, i % 17, i % 3);
    size_t n, n2;
    unsigned char *gz = gzip_bytes(text, strlen(text), &n), *more = gzip_bytes("200,1.5,2\n", 10, &n2);
    unsigned char *buf = malloc(n + n2 + 16);
    const char *p = tpath("cut.csv.gz");

    write_file(p, gz, n);
    int rc = data_load_csv(&d, p, NULL, &e);
    CHECK(rc == 0 && d.n == 200 && d.labels[199] == 1, "the whole .csv.gz loads 200 rows (%s)", rc ? e.message : "");
    data_free(&d);

    /* Cut in the 10-byte header, in the deflate data, and in the 8-byte trailer. */
    static const struct { size_t from_end; const char *where; } cuts[] = {
        { 0, "the gzip header" }, { 1, "the compressed data" }, { 8, "the 8-byte trailer (CRC-32 and length)" },
        { 4, "the 8-byte trailer (CRC-32 and length)" }, { 1, "the 8-byte trailer (CRC-32 and length)" },
    };
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        size_t keep = k == 0 ? 5 : k == 1 ? n / 2 : n - cuts[k].from_end;
        write_file(p, gz, keep);
        snprintf(cause, sizeof cause, "truncated gzip stream: the file ends at byte %zu, inside %s", keep, cuts[k].where);
        char what[100];
        snprintf(what, sizeof what, ".csv.gz cut to %zu of %zu bytes", keep, n);
        expect_damaged(LOAD_CSV, p, NULL, p, cause, what);
    }

    /* Every cut from 2 bytes on (shorter is not gzip: the magic is 2 bytes). */
    int loaded = 0, shorter = 0, named = 0;
    for (size_t keep = 2; keep < n; keep++) {
        write_file(p, gz, keep);
        rc = data_load_csv(&d, p, NULL, &e);
        loaded += rc == 0;
        shorter += rc == 0 && d.n < 200;
        named += rc != 0 && strstr(e.message, "truncated gzip stream: the file ends at byte ") != NULL;
        data_free(&d);
    }
    CHECK(loaded == 0 && named == (int)n - 2, "each of the %zu cuts of the .csv.gz fails as a truncated gzip stream "
          "(%d loaded, %d of them with fewer than 200 rows; %d named the cause)", n - 2, loaded, shorter, named);

    /* A wrong CRC-32, a wrong length (ISIZE) in the trailer. */
    memcpy(buf, gz, n);
    buf[n - 8] ^= 0x01;
    write_file(p, buf, n);
    expect_damaged(LOAD_CSV, p, NULL, p, "corrupt gzip data: incorrect data check (the CRC-32 in the trailer does not match the data)",
                   ".csv.gz with a CRC-32 bit flipped");
    buf[n - 8] ^= 0x01;
    buf[n - 1] ^= 0x80;
    write_file(p, buf, n);
    expect_damaged(LOAD_CSV, p, NULL, p, "corrupt gzip data: incorrect length check (the length in the trailer does not match the data)",
                   ".csv.gz with a wrong length in the trailer");
    buf[n - 1] ^= 0x80;

    /* A bad byte in the deflate data, and in the header's method byte. */
    memcpy(buf, gz, n);
    buf[n / 2] ^= 0xff;
    write_file(p, buf, n);
    rc = data_load_csv(&d, p, NULL, &e);
    snprintf(want, sizeof want, "%s: corrupt gzip data: ", p);
    expect_err(rc, &e, &d, want, ".csv.gz with a byte of its deflate data flipped");
    buf[n / 2] ^= 0xff;
    buf[2] = 7;
    write_file(p, buf, n);
    expect_damaged(LOAD_CSV, p, NULL, p, "corrupt gzip data: unknown compression method (detected at byte 4 of the file)", ".csv.gz with method 7");
    buf[2] = 8;

    /* Bytes after the stream: text, one stray 0x1f, zeros. */
    static const struct { const char *bytes; size_t len; } tails[] = { { "junk\n", 5 }, { "\x1f", 1 }, { "\0\0\0\0", 4 } };
    for (size_t k = 0; k < 3; k++) {
        memcpy(buf + n, tails[k].bytes, tails[k].len);
        write_file(p, buf, n + tails[k].len);
        snprintf(cause, sizeof cause, "%zu byte%s of trailing garbage after the gzip stream, which ends at byte %zu", tails[k].len, tails[k].len == 1 ? "" : "s", n);
        expect_damaged(LOAD_CSV, p, NULL, p, cause, k == 0 ? ".csv.gz followed by text" : k == 1 ? ".csv.gz followed by one 0x1f byte" : ".csv.gz followed by zeros");
    }

    /* A second member is gzip's own concatenation (cat a.gz b.gz): one more
     * row, as gunzip reads it; cut short, it is truncated like the first. */
    memcpy(buf + n, more, n2);
    write_file(p, buf, n + n2);
    rc = data_load_csv(&d, p, NULL, &e);
    CHECK(rc == 0 && d.n == 201 && d.f32[400] == 200.0f && d.labels[200] == 2, "two gzip members load as one file of 201 rows (%s)", rc ? e.message : "");
    data_free(&d);
    write_file(p, buf, n + n2 - 3);
    snprintf(cause, sizeof cause, "truncated gzip stream: the file ends at byte %zu, inside the 8-byte trailer (CRC-32 and length)", n + n2 - 3);
    expect_damaged(LOAD_CSV, p, NULL, p, cause, "a second gzip member cut in its trailer");
    free(gz);

    /* IDX images and .npy samples, each complete but for its trailer, or followed by garbage. */
    uint8_t px[300 * 4];
    for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 37 + 11);
    const uint32_t d300[3] = { 300, 2, 2 }, l300[1] = { 300 };
    unsigned char idx[16 + sizeof px];
    size_t idx_len = idx_bytes(idx, 0x803, 3, d300, px, sizeof px);
    const char *img = tpath("cut-img.gz"), *lbl = tpath("cut-lbl");
    write_idx(lbl, 0x801, 1, l300, px, 300, 0);
    gz = gzip_bytes(idx, idx_len, &n);
    write_file(img, gz, n);
    rc = data_load_idx(&d, img, lbl, &e);
    CHECK(rc == 0 && d.n == 300 && d.u8[1199] == px[1199], "the whole IDX .gz loads 300 images (%s)", rc ? e.message : "");
    data_free(&d);
    for (size_t cut = 8; cut >= 3; cut -= 5) {   /* 8, then 3 */
        write_file(img, gz, n - cut);
        snprintf(cause, sizeof cause, "truncated gzip stream: the file ends at byte %zu, inside the 8-byte trailer (CRC-32 and length)", n - cut);
        expect_damaged(LOAD_IDX, img, lbl, img, cause, cut == 8 ? "IDX .gz without its trailer" : "IDX .gz cut in its trailer");
        if (cut == 3) break;
    }
    memcpy(buf, gz, n);
    memcpy(buf + n, "\x01\x02", 2);
    buf = realloc(buf, n + 2);
    write_file(img, buf, n + 2);
    snprintf(cause, sizeof cause, "2 bytes of trailing garbage after the gzip stream, which ends at byte %zu", n);
    expect_damaged(LOAD_IDX, img, lbl, img, cause, "IDX .gz followed by 2 bytes");
    free(gz);

    float xf[300 * 2];
    int32_t y4[300];
    for (int i = 0; i < 300; i++) xf[2 * i] = (float)i, xf[2 * i + 1] = 0.5f, y4[i] = i % 4;
    const char *x = tpath("cut-x.npy"), *y = tpath("cut-y.npy.gz");
    write_npy(x, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (300, 2), }", xf, sizeof xf);
    write_npy(tpath("y-plain.npy"), 1, "{'descr': '<i4', 'fortran_order': False, 'shape': (300,), }", y4, sizeof y4);
    size_t yn;
    unsigned char *yraw = read_file(tpath("y-plain.npy"), &yn);
    gz = gzip_bytes(yraw, yn, &n);
    write_file(y, gz, n);
    rc = data_load_npy(&d, x, y, &e);
    CHECK(rc == 0 && d.n == 300 && d.labels[299] == 3 && d.f32[2 * 299] == 299.0f, "the .npy pair with gzipped labels loads (%s)", rc ? e.message : "");
    data_free(&d);
    write_file(y, gz, n - 8);
    snprintf(cause, sizeof cause, "truncated gzip stream: the file ends at byte %zu, inside the 8-byte trailer (CRC-32 and length)", n - 8);
    expect_damaged(LOAD_NPY, x, y, y, cause, ".npy.gz labels without their trailer");
    buf = realloc(buf, n + 1);
    memcpy(buf, gz, n);
    buf[n] = '\n';
    write_file(y, buf, n + 1);
    snprintf(cause, sizeof cause, "1 byte of trailing garbage after the gzip stream, which ends at byte %zu", n);
    expect_damaged(LOAD_NPY, x, y, y, cause, ".npy.gz labels followed by a newline");
    free(yraw);
    free(gz);
    free(more);
    free(buf);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) { return remove(path); }

int main(void)
{
    snprintf(tmp, sizeof tmp, "%s/hptc-data-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmp)) { perror("mkdtemp"); return 2; }
    if (access(SLICE "train-images-idx3-ubyte.gz", F_OK) != 0)
        CHECK(0, "run from the repository root: " SLICE " not found");
    test_slice();
    test_builtin();
    test_idx_errors();
    test_csv();
    test_npy();
    test_gzip_damage();
    nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return check_exit();
}
