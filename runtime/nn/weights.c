/* weights.c: weights files (see weights.h and docs/weights.md).
 *
 * The header is text, so `head -c 2000 f.bin` tells a person what the file
 * holds.  Invariants:
 *   - the header is written to a memory stream, so its length is exact for
 *     any number of hyperparameters and any length of name or value;
 *   - every header line is one of the kinds the writer emits and is parsed
 *     whole, or the file is refused naming the line (nothing is skipped);
 *   - a file is accepted when its model_hash equals the hash of the model the
 *     spec builds with the file's hyperparameters (trial_describe_model,
 *     names left out), or, for a file from before model hashes (no
 *     model_hash line), when its spec_hash equals the spec's;
 *   - the CRC, the length and the float count are checked before any float
 *     is handed out. */
#include "runtime/nn/weights.h"
#include "runtime/nn/trial.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const char MAGIC[8] = "HPTCWTS1";

/* The model p builds under values: its description with layer names (for the
 * header and messages), the hash of the description without them, and its
 * float count.  The trial is planned only: nothing is allocated for it. */
static int describe_model(const ir_program *p, const hpt_value *values, char **named, uint64_t *hash, size_t *floats,
                          hpt_error *e)
{
    trial *t = trial_expand(p, values, 0, 0, e);
    if (!t) return -1;
    char *anonymous = NULL;
    size_t named_len = 0, anonymous_len = 0;
    *named = NULL;
    FILE *f = open_memstream(named, &named_len), *g = f ? open_memstream(&anonymous, &anonymous_len) : NULL;
    if (f) trial_describe_model(t, 1, f);
    if (g) trial_describe_model(t, 0, g);
    int ok = f && g;
    if (f && fclose(f)) ok = 0;
    if (g && fclose(g)) ok = 0;
    trial_weights(t, floats);
    trial_free(t);
    if (ok) *hash = ir_hash_bytes(anonymous, anonymous_len);
    free(anonymous);
    if (!ok) return free(*named), *named = NULL, hpt_fail(e, "out of memory describing the model");
    return 0;
}

/* A hyperparameter's name as a header token: as it is when it has no space,
 * quote, backslash or control character, else as a quoted string. */
static void put_name(FILE *out, const char *name)
{
    int plain = *name != 0;
    for (const unsigned char *c = (const unsigned char *)name; *c && plain; c++)
        plain = *c > ' ' && *c != '"' && *c != '\\' && *c != 0x7f;
    if (plain) fputs(name, out);
    else value_fprint(out, value_string(name));
}

int weights_encode(const ir_program *p, const hpt_value *values, const char *dtype_policy, const float *w, size_t n,
                   unsigned char **out, size_t *out_len, hpt_error *e)
{
    char *model;
    uint64_t model_hash;
    size_t model_floats;
    if (describe_model(p, values, &model, &model_hash, &model_floats, e)) return -1;
    if (model_floats != n) {
        free(model);
        return hpt_fail(e, "%s: %zu weights given for a model of %zu", p->file, n, model_floats);
    }
    char *header = NULL;
    size_t len = 0;
    FILE *h = open_memstream(&header, &len);
    if (!h) return free(model), hpt_fail(e, "out of memory writing the weights");
    int ok = 1;
    fprintf(h, "spec_hash %016llx\nmodel_hash %016llx\ndtype_policy %s\n", (unsigned long long)p->spec_hash,
            (unsigned long long)model_hash, dtype_policy ? dtype_policy : "float32");
    for (int k = 0; k < p->n_hps; k++) {
        fputs("hp ", h);
        put_name(h, p->hps[k].name);
        fputc(' ', h);
        if (value_fprint(h, values[k]) == (size_t)-1) ok = 0;
        fputc('\n', h);
    }
    fputs(model, h);
    fprintf(h, "floats %zu\n", n);
    if (fclose(h)) ok = 0;
    free(model);
    size_t total = 8 + 4 + len + n * sizeof(float) + 4;
    unsigned char *buf = ok && len <= UINT32_MAX ? malloc(total) : NULL;
    if (!buf) return free(header), hpt_fail(e, "out of memory writing the weights");
    uint32_t hl = (uint32_t)len;
    memcpy(buf, MAGIC, 8);
    memcpy(buf + 8, &hl, 4);
    memcpy(buf + 12, header, len);
    if (n) memcpy(buf + 12 + len, w, n * sizeof(float));
    uint32_t crc = (uint32_t)crc32(0, buf, (uInt)(total - 4));
    memcpy(buf + total - 4, &crc, 4);
    free(header);
    *out = buf;
    *out_len = total;
    return 0;
}

int weights_save(const char *path, const ir_program *p, const hpt_value *values, const char *dtype_policy, const float *w,
                 size_t n, hpt_error *e)
{
    unsigned char *buf;
    size_t len;
    if (weights_encode(p, values, dtype_policy, w, n, &buf, &len, e)) return -1;
    size_t tl = strlen(path) + 8;
    char *tmp = malloc(tl);
    if (!tmp) return free(buf), hpt_fail(e, "%s: out of memory", path);
    snprintf(tmp, tl, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(buf, 1, len, f) == len;
    if (f && fclose(f)) ok = 0;
    int rc = 0;
    if (!ok || rename(tmp, path)) {
        remove(tmp);
        rc = hpt_fail(e, "%s: cannot write the weights", path);
    }
    free(tmp);
    free(buf);
    return rc;
}

/* ---- reading the header --------------------------------------------------- */

/* A quoted string as value_format writes it ("a \"b\" \\ \n \t \u001f"),
 * starting at s[0] == '"'; the text in `a`, *end just past the closing quote.
 * NULL when it is not one. */
static char *parse_quoted(arena *a, const char *s, const char **end)
{
    char *text = arena_alloc(a, strlen(s) + 1), *o = text;
    if (!text || *s++ != '"') return NULL;
    for (; *s && *s != '"'; s++) {
        if (*s != '\\') {
            *o++ = *s;
            continue;
        }
        switch (*++s) {
        case '"': case '\\': *o++ = *s; break;
        case 'n': *o++ = '\n'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned code = 0;
            for (int k = 1; k <= 4; k++) {
                char c = s[k];
                int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
                if (digit < 0) return NULL;
                code = code * 16 + (unsigned)digit;
            }
            if (code == 0 || code >= 0x20) return NULL;  /* only control characters are written so */
            *o++ = (char)code;
            s += 4;
            break;
        }
        default: return NULL;
        }
    }
    if (*s != '"') return NULL;
    *o = 0;
    *end = s + 1;
    return text;
}

/* A hyperparameter's value as value_format writes it: None, True, False, an
 * int, a float (nan, inf) or a quoted string, and nothing after it. */
static int parse_value(arena *a, const char *text, hpt_value *out)
{
    char *end;
    if (*text == '"') {
        const char *after;
        char *s = parse_quoted(a, text, &after);
        if (!s || *after) return -1;
        *out = value_string(s);
        return 0;
    }
    if (!strcmp(text, "None")) return *out = value_none(), 0;
    if (!strcmp(text, "True") || !strcmp(text, "False")) return *out = value_bool(*text == 'T'), 0;
    if (!*text || *text == ' ') return -1;
    errno = 0;
    long long i = strtoll(text, &end, 10);
    if (!*end && errno != ERANGE) return *out = value_int(i), 0;
    double f = strtod(text, &end);
    if (!*end) return *out = value_float(f), 0;
    return -1;
}

/* A lower-case 64-bit hex hash, exactly 16 digits. */
static int parse_hash(const char *text, unsigned long long *out)
{
    if (strlen(text) != 16 || strspn(text, "0123456789abcdef") != 16) return -1;
    *out = strtoull(text, NULL, 16);
    return 0;
}

typedef struct header {
    int spec_hash_seen, model_hash_seen, floats_seen, policy_seen;
    unsigned long long spec_hash, model_hash;
    size_t floats;
    char *model;        /* the data/layer/loss lines, as written (names included) */
    size_t model_len;
} header;

/* One line of the header ("hp units 512", "layer dense Dense ...").  Fills
 * values[] for the spec's hyperparameters (a name the spec no longer has is
 * skipped: the model check decides whether it mattered); seen[k] marks them.
 * Returns -1 with the reason in why when the line is not one hptc writes. */
static int parse_line(const ir_program *p, arena *a, const char *line, header *h, hpt_value *values, char *seen,
                      char *why, size_t why_len)
{
    size_t kind_len = strcspn(line, " ");
    const char *rest = line + kind_len + 1;
#define KIND(word) (kind_len == sizeof word - 1 && !strncmp(line, word, kind_len))
    if (!line[kind_len]) return snprintf(why, why_len, "is not one hptc writes"), -1;
    if (KIND("spec_hash")) {
        if (!h->spec_hash_seen++ && parse_hash(rest, &h->spec_hash) == 0) return 0;
    } else if (KIND("model_hash")) {
        if (!h->model_hash_seen++ && parse_hash(rest, &h->model_hash) == 0) return 0;
    } else if (KIND("dtype_policy")) {
        /* Informative: the floats are float32 master weights under either policy. */
        if (!h->policy_seen++ && trial_dtype_policy_of(rest) >= 0) return 0;
    } else if (KIND("floats")) {
        char *end;
        if (!h->floats_seen++ && *rest >= '0' && *rest <= '9' && (h->floats = strtoull(rest, &end, 10), !*end)) return 0;
    } else if (KIND("hp")) {
        const char *name, *after = rest + strcspn(rest, " ");
        hpt_value v;
        if (*rest == '"') name = parse_quoted(a, rest, &after);
        else name = after > rest ? arena_strndup(a, rest, (size_t)(after - rest)) : NULL;
        if (name && *after == ' ' && parse_value(a, after + 1, &v) == 0) {
            int k = ir_find_hp(p, name);
            if (k < 0) return 0;
            if (seen[k]++) return snprintf(why, why_len, "names hyperparameter '%s' a second time", name), -1;
            /* A value outside the spec's present search space is still the value the model was built with. */
            if (v.type != V_NONE) ir_hp_coerce(&p->hps[k], &v);
            values[k] = v;
            return 0;
        }
    } else if (KIND("data") || KIND("layer") || KIND("loss")) {
        /* The model's description: kept as written, for saying what differs. */
        size_t n = strlen(line);
        char *grown = realloc(h->model, h->model_len + n + 2);
        if (!grown) return snprintf(why, why_len, "does not fit in memory"), -1;
        h->model = grown;
        memcpy(h->model + h->model_len, line, n);
        h->model_len += n;
        h->model[h->model_len++] = '\n';
        h->model[h->model_len] = 0;
        return 0;
    }
#undef KIND
    snprintf(why, why_len, "is not one hptc writes");
    return -1;
}

/* ---- what differs between two models ------------------------------------- */

/* A description line's tokens: words separated by spaces outside quotes and
 * brackets ("units=512", "output=(28, 28)", "label=\"a b\""). */
static int tokens(arena *a, const char *line, const char **out, int cap)
{
    int n = 0;
    while (*line && n < cap) {
        const char *start = line;
        int depth = 0, quoted = 0;
        for (; *line && (quoted || depth || *line != ' '); line++) {
            if (quoted && *line == '\\' && line[1]) line++;
            else if (*line == '"') quoted = !quoted;
            else if (!quoted && (*line == '(' || *line == '[')) depth++;
            else if (!quoted && (*line == ')' || *line == ']') && depth) depth--;
        }
        out[n++] = arena_strndup(a, start, (size_t)(line - start));
        while (*line == ' ') line++;
    }
    return n;
}

typedef struct model_line {
    const char **tok;
    int n;
    int first_field;    /* tok[first_field..] are key=value */
} model_line;

/* The description's lines of one kind ("data", "layer", "loss") as tokens;
 * *out in `a`.  Returns how many. */
static int model_lines(arena *a, const char *text, const char *kind, model_line **out)
{
    int n = 0, cap = 1;
    for (const char *c = text; *c; c++) cap += *c == '\n';
    *out = ARENA_ARRAY(a, model_line, cap);
    for (const char *line = text; *out && *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char *copy = arena_strndup(a, line, len);
        model_line m = { .tok = ARENA_ARRAY(a, const char *, len / 2 + 2) };
        line += len + (nl != NULL);
        if (!copy || !m.tok) break;
        m.n = tokens(a, copy, m.tok, (int)(len / 2 + 2));
        /* data FIELDS; layer NAME TYPE FIELDS; loss TYPE FIELDS */
        m.first_field = !strcmp(kind, "layer") ? 3 : !strcmp(kind, "loss") ? 2 : 1;
        if (m.n >= m.first_field && !strcmp(m.tok[0], kind)) (*out)[n++] = m;
    }
    return n;
}

/* The value of `key` among a line's fields, "None" when absent (None values are left out). */
static const char *field(const model_line *m, const char *key)
{
    size_t kl = strlen(key);
    for (int k = m->first_field; k < m->n; k++)
        if (!strncmp(m->tok[k], key, kl) && m->tok[k][kl] == '=') return m->tok[k] + kl + 1;
    return "None";
}

typedef struct diff_report {
    char *out;
    size_t cap, len;
    int shown, hidden;
} diff_report;

static void report(diff_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(diff_report *r, const char *fmt, ...)
{
    if (r->shown == 4 || r->len + 2 >= r->cap) {
        r->hidden++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    if (r->shown++) r->len += (size_t)snprintf(r->out + r->len, r->cap - r->len, "; ");
    if (r->len < r->cap) r->len += (size_t)vsnprintf(r->out + r->len, r->cap - r->len, fmt, ap);
    if (r->len >= r->cap) r->len = r->cap - 1;
    va_end(ap);
}

/* Report, as one difference, the fields of `what` that differ between the
 * file's line f and the spec's s ("layer dense: units 16 in the file, 24 in
 * the spec, activation ...").  derived = 0 compares the arguments, 1 only
 * output and params (which differ after any upstream change, so they are
 * reported only when no argument differs anywhere).  Returns how many differ. */
static int diff_fields(diff_report *r, const char *what, const model_line *f, const model_line *s, int derived)
{
    int differ = 0;
    char text[600];
    size_t len = (size_t)snprintf(text, sizeof text, "%s:", what);
    for (int pass = 0; pass < 2; pass++) {
        const model_line *m = pass ? s : f, *other = pass ? f : s;
        for (int k = m->first_field; k < m->n; k++) {
            const char *eq = strchr(m->tok[k], '=');
            if (!eq) continue;
            char key[64];
            snprintf(key, sizeof key, "%.*s", (int)(eq - m->tok[k]), m->tok[k]);
            int is_derived = !strcmp(key, "output") || !strcmp(key, "params");
            if (is_derived != derived) continue;
            const char *mine = eq + 1, *theirs = field(other, key);
            if (!strcmp(mine, theirs)) continue;
            if (pass && strcmp(field(f, key), "None")) continue;     /* reported in the first pass */
            if (len < sizeof text)
                len += (size_t)snprintf(text + len, sizeof text - len, "%s %s %s in the file, %s in the spec",
                                        differ ? "," : "", key, pass ? theirs : mine, pass ? mine : theirs);
            differ++;
        }
    }
    if (differ) report(r, "%s", text);
    return differ;
}

/* Up to four differences between the file's model and the spec's, as
 * "layer dense_1: units 512 in the file, 256 in the spec".  Layers are
 * paired by position (names may differ when the template changed around them). */
static void model_diff(const char *file_model, const char *spec_model, char *out, size_t cap)
{
    arena a = { 0 };
    diff_report r = { out, cap, 0, 0, 0 };
    *out = 0;
    model_line *fl, *sl, *fd, *sd, *fo, *so;
    int nf = model_lines(&a, file_model, "layer", &fl), ns = model_lines(&a, spec_model, "layer", &sl);
    int has_fd = model_lines(&a, file_model, "data", &fd) == 1, has_sd = model_lines(&a, spec_model, "data", &sd) == 1;
    int has_fo = model_lines(&a, file_model, "loss", &fo) == 1, has_so = model_lines(&a, spec_model, "loss", &so) == 1;
    int args_differ = 0, paired = nf < ns ? nf : ns;
    if (nf != ns) {
        report(&r, "the file's model has %d layers, the spec's %d", nf, ns);
        args_differ++;
    }
    if (has_fd && has_sd) args_differ += diff_fields(&r, "data", fd, sd, 0);
    for (int k = 0; k < paired; k++) {
        const model_line *f = &fl[k], *s = &sl[k];
        if (strcmp(f->tok[2], s->tok[2])) {
            report(&r, "layer %s: %s (%s) in the file, %s in the spec", s->tok[1], f->tok[2], f->tok[1], s->tok[2]);
            args_differ++;
            paired = k;     /* the layers after it no longer line up */
            break;
        }
        char what[200];
        if (strcmp(f->tok[1], s->tok[1]))
            snprintf(what, sizeof what, "layer %s (%s in the file)", s->tok[1], f->tok[1]);
        else
            snprintf(what, sizeof what, "layer %s", s->tok[1]);
        args_differ += diff_fields(&r, what, f, s, 0);
    }
    if (has_fo && has_so) {
        if (strcmp(fo->tok[1], so->tok[1])) {
            report(&r, "loss: %s in the file, %s in the spec", fo->tok[1], so->tok[1]);
            args_differ++;
        } else {
            args_differ += diff_fields(&r, "loss", fo, so, 0);
        }
    }
    for (int k = 0; !args_differ && k < paired; k++) {
        char what[200];
        snprintf(what, sizeof what, "layer %s", sl[k].tok[1]);
        if (diff_fields(&r, what, &fl[k], &sl[k], 1)) break;
    }
    if (r.hidden) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "; and %d more", r.hidden);
    }
    arena_free(&a);
}

/* ---- reading a file --------------------------------------------------------- */

int weights_load(const char *path, const ir_program *p, arena *a, hpt_value *values, float **w, size_t *n,
                 hpt_error *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) return hpt_fail(e, "%s: cannot open the weights file", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    unsigned char *buf = size > 16 ? malloc((size_t)size) : NULL;
    int got = buf && fread(buf, 1, (size_t)size, f) == (size_t)size;
    fclose(f);
    if (!got) return free(buf), hpt_fail(e, "%s: not an hptc weights file (too short)", path);
    uint32_t hl, crc;
    memcpy(&hl, buf + 8, 4);
    memcpy(&crc, buf + size - 4, 4);
    if (memcmp(buf, MAGIC, 8)) return free(buf), hpt_fail(e, "%s: not an hptc weights file (bad magic)", path);
    if ((uint32_t)crc32(0, buf, (uInt)(size - 4)) != crc)
        return free(buf), hpt_fail(e, "%s: the file is corrupt (CRC mismatch)", path);
    if (12 + (size_t)hl + 4 > (size_t)size) return free(buf), hpt_fail(e, "%s: header runs past the end", path);

    /* The header, line by line; hyperparameters the file does not name (the
     * spec gained them) take their defaults, then conditions are applied. */
    char *text = arena_strndup(a, (const char *)buf + 12, hl), *seen = calloc((size_t)p->n_hps + 1, 1);
    header h = { 0 };
    int rc = -1, line_no = 0;
    char *model = NULL;
    if (!text || !seen) {
        hpt_fail(e, "%s: out of memory", path);
        goto out;
    }
    if (memchr(text, 0, hl)) {
        hpt_fail(e, "%s: the header holds a NUL byte", path);
        goto out;
    }
    for (int k = 0; k < p->n_hps; k++) values[k] = value_none();
    for (char *line = text, *next; line < text + hl; line = next) {
        next = strchr(line, '\n');
        if (!next) {
            hpt_fail(e, "%s: the header's last line ('%.60s') has no end", path, line);
            goto out;
        }
        *next++ = 0;
        line_no++;
        char why[200];
        if (parse_line(p, a, line, &h, values, seen, why, sizeof why)) {
            hpt_fail(e, "%s: header line %d ('%.60s%s') %s", path, line_no, line, strlen(line) > 60 ? "..." : "", why);
            goto out;
        }
    }
    if (!h.floats_seen || (!h.spec_hash_seen && !h.model_hash_seen)) {
        hpt_fail(e, "%s: the header has no %s line", path, h.floats_seen ? "model_hash" : "floats");
        goto out;
    }
    for (int k = 0; k < p->n_hps; k++)
        if (!seen[k]) values[k] = p->hps[k].default_value;
    ir_deactivate(p, values);
    if (h.floats > ((size_t)size - 16) / sizeof(float) || 12 + hl + h.floats * sizeof(float) + 4 != (size_t)size) {
        hpt_fail(e, "%s: holds %zu floats but is %ld bytes long", path, h.floats, size);
        goto out;
    }

    /* The model: rebuilt from the spec and the file's hyperparameters. */
    uint64_t model_hash;
    size_t model_floats;
    if (!h.model_hash_seen && h.spec_hash != p->spec_hash) {
        hpt_fail(e, "%s: the file predates model hashes, and the spec's text changed since it was written "
                 "(spec hash %016llx in the file, %016llx now): evaluate it with the spec as it was, or train "
                 "or export it again", path, h.spec_hash, (unsigned long long)p->spec_hash);
        goto out;
    }
    hpt_error why;
    if (describe_model(p, values, &model, &model_hash, &model_floats, &why)) {
        hpt_fail(e, "%s: %s cannot build the model of these weights: %s", path, p->file, why.message);
        goto out;
    }
    if (h.model_hash_seen && h.model_hash != model_hash) {
        char diff[700];
        model_diff(h.model ? h.model : "", model, diff, sizeof diff);
        if (*diff) hpt_fail(e, "%s: these weights are for another model than %s builds: %s", path, p->file, diff);
        else hpt_fail(e, "%s: these weights are for another model than %s builds (model hash %016llx in the file, "
                      "%016llx for the spec)", path, p->file, h.model_hash, (unsigned long long)model_hash);
        goto out;
    }
    if (h.floats != model_floats) {
        hpt_fail(e, "%s: holds %zu weights, but the model %s builds has %zu", path, h.floats, p->file, model_floats);
        goto out;
    }
    *w = malloc(h.floats * sizeof(float) + 1);
    if (!*w) {
        hpt_fail(e, "%s: out of memory", path);
        goto out;
    }
    memcpy(*w, buf + 12 + hl, h.floats * sizeof(float));
    *n = h.floats;
    rc = 0;
out:
    for (int k = 0; rc && k < p->n_hps; k++) values[k] = value_none();
    free(model);
    free(h.model);
    free(seen);
    free(buf);
    return rc;
}
