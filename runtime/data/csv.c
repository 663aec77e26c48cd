/* csv.c: CSV files with a header row: numeric features, and labels that are
 * integer ids or else names (data.h).
 *
 * The whole file is read into memory (CSV files are small next to image
 * sets) through the reader, so a gzipped one reads the same, and tokenised
 * in place.  Pass 1 checks every record's field count and learns whether the
 * labels are all integers; pass 2 parses the numbers straight into the final
 * array.  Errors name the file and the line.  data_probe_csv reads the header
 * row for `hptc check`, and a small file whole. */
#include "runtime/data/reader.h"

#include <errno.h>
#include <limits.h>
#include <math.h>

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
    bool integer_labels = true, numeric_labels = true;
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
        if (numeric_labels && !integer_labels) {
            char *end;
            double t = strtod(lt, &end);
            numeric_labels = !*end && isfinite(t) && fabs(t) < 3e38;
        }
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
    if (!integer_labels && numeric_labels && !(d->targets = alloc_or_fail((size_t)nrec * sizeof *d->targets, "targets", path, e)))
        goto fail;
    /* Numbers are parsed only now, once, straight into the final array;
     * strtof rounds correctly, so "0.1" is the float nearest 0.1. */
    char *s = records;
    float *x = d->f32;
    for (int i = 0; i < nrec; i++) {
        for (int j = 0; j < ncols; j++, s += strlen(s) + 1) {
            if (j == label) {
                long long v = 0;
                if (!integer_labels) {
                    if (d->targets) d->targets[i] = strtof(s, NULL);
                    label_text[i] = s;
                    continue;
                }
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

/* ---- probing ------------------------------------------------------------ */

int data_probe_csv(data_header *h, const char *path, const char *label_column, hpt_error *e)
{
    enum { HEADER_MAX = 1 << 20 };
    reader r = { 0 };
    bool plain;
    long long bytes;
    size_t got;
    memset(h, 0, sizeof *h);
    bool small = rd_probe_small(path, &plain, &bytes);
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
