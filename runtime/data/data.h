/* data.h: datasets held in memory, and the batch gather of the training loop.
 *
 * A data_set is n samples of one shape plus one integer class label each.
 * Images stay bytes (u8) and are turned into floats only a batch at a time by
 * data_gather; CSV and float .npy features are stored as f32.  Exactly one of
 * u8 / f32 is non-NULL.  Every array is one allocation; data_free releases
 * them all and zeroes the struct.  Loaders leave *d zeroed on failure.
 * Every loader reads plain and gzip files alike; a gzip file must be whole:
 * a stream cut anywhere (header, data, trailer), a CRC-32 or length that does
 * not match its data, or bytes after the stream (other than further gzip
 * members, as `cat a.gz b.gz` makes) are errors naming the file and cause. */
#ifndef HPTC_DATA_H
#define HPTC_DATA_H
#include <stddef.h>
#include <stdint.h>

#include "runtime/err.h"

typedef struct data_set {
    int n;                /* samples */
    int rank;             /* of one sample: 1..3 */
    int shape[3];         /* of one sample, e.g. {28, 28} or {F} */
    size_t sample_size;   /* product of shape */
    uint8_t *u8;          /* (n, sample_size) bytes, or NULL */
    float *f32;           /* (n, sample_size) floats, or NULL */
    int32_t *labels;      /* (n) class ids in [0, n_classes) */
    float *targets;       /* (n) the labels as numbers when they are numbers but not all integers
                           * (a CSV's "151.5"), for a regression loss; NULL: the ids are the numbers */
    int n_classes;        /* max label + 1 */
    char **class_names;   /* (n_classes) when labels were strings, else NULL */
    char source[512];     /* the file the samples came from, for messages */
} data_set;

/* Load an IDX pair: images with magic 0x00000803 (uint8, count x rows x
 * cols) and labels with magic 0x00000801 (uint8, count).  Either file may be
 * gzip-compressed or plain.  Fails naming the file on a missing file, a bad
 * magic or dtype byte, truncated data, trailing bytes, a corrupt gzip stream
 * or differing counts.  Any byte is a valid label here (n_classes = max + 1);
 * data_check_labels or data_load_builtin hold them to a class count. */
int data_load_idx(data_set *d, const char *images_path, const char *labels_path, hpt_error *e);

/* Find the directory holding the four IDX files of the built-in dataset
 * `name` ("fashion_mnist" or "mnist"), each plain or .gz: the first of
 * $HPT_DATA/<dir>, ./data/<dir>, /usr/share/datasets/<dir> that has all four,
 * <dir> being fashion-mnist or fashion_mnist, or mnist.  Writes it to
 * dir (dir_size bytes).  The error lists every place looked. */
int data_find_builtin(const char *name, char *dir, size_t dir_size, hpt_error *e);

/* Load the training and test splits of a built-in dataset (see
 * data_find_builtin); both have 10 classes, and a label >= 10 is an error. */
int data_load_builtin(const char *name, data_set *train, data_set *test, hpt_error *e);

/* Load a CSV file with a header row.  label_column names the label column
 * (NULL: the last one); every other column is a numeric feature (float).
 * Labels are integer class ids >= 0, or else strings, numbered in order of
 * first appearance and kept in class_names (an integer id is decimal: "3",
 * "3.0", "1e2"; "0x1A" is a name).  Labels that are all finite numbers but
 * not all integer ids ("151.5", "-2") are also kept as numbers in targets.  Quoted fields ("a,b", ""), CRLF line
 * ends and a UTF-8 byte order mark are understood.  A label column named
 * twice in the header is an error.  Errors give file and line. */
int data_load_csv(data_set *d, const char *path, const char *label_column, hpt_error *e);

/* Load NumPy .npy files (format 1.0, 2.0, 3.0; C order, little-endian):
 * x of dtype |u1 (kept as bytes), <f4 or <f8 (stored as float), shape
 * (n, ...) with 1..3 sample dims; y of dtype <i4, <i8 or |u1, shape (n,) or
 * (n, 1).  Only blanks may pad the header dictionary. */
int data_load_npy(data_set *d, const char *x_path, const char *y_path, hpt_error *e);

/* Fail when a label is outside [0, n_classes), e.g. against the number of
 * outputs of a model; on success d->n_classes becomes n_classes. */
int data_check_labels(data_set *d, int n_classes, hpt_error *e);

/* Fill one batch: x[i] = scale * sample rows[i] as float, y[i] = its label
 * (y may be NULL).  Bytes are converted on the fly; floats are copied
 * (scale 1: a plain copy).  No allocation; rows must be < d->n. */
void data_gather(const data_set *d, const uint32_t *rows, int count, float scale,
                 float *x /* (count, sample_size) */, int32_t *y /* (count) */);

/* The numeric targets of rows (a regression loss's, or binary
 * cross-entropy's): d->targets[row], or the label id as a float when the
 * set has no separate targets.  No allocation. */
void data_gather_targets(const data_set *d, const uint32_t *rows, int count, float *y /* (count) */);

/* Release every array of d and zero it; safe on a zeroed or freed set. */
void data_free(data_set *d);

/* ---- probing: what `hptc check` reads of a data file ----------------------
 * The header, not the samples: one sample's shape and the number of samples.
 * A labels file (or a whole CSV, whose labels are one of its columns) is
 * read only when it is at most DATA_PROBE_READ bytes (an eighth of that
 * gzipped), to count the classes; larger ones leave n_classes 0.  Errors
 * name the file, as the loaders' do. */
#define DATA_PROBE_READ (64l << 20)

typedef struct data_header {
    long long n;            /* samples (or labels) */
    int rank, shape[3];     /* one sample; rank 0 for a labels file */
    int n_classes;          /* max label + 1 or distinct names; 0: not counted */
    char **columns;         /* CSV: the header's names (one allocation), or NULL */
    int n_columns;
} data_header;

/* An IDX file of ndims dimensions: 3 for images (count, rows, cols), 1 for labels. */
int data_probe_idx(data_header *h, const char *path, int ndims, hpt_error *e);
/* A .npy file of samples (samples = 1: shape (n, d1[, d2[, d3]])) or labels. */
int data_probe_npy(data_header *h, const char *path, int samples, hpt_error *e);
/* A CSV file with label_column (NULL: the last).  Returns -2 when the header
 * has no such column, with h->columns set for a "did you mean". */
int data_probe_csv(data_header *h, const char *path, const char *label_column, hpt_error *e);
void data_header_free(data_header *h);

#endif
