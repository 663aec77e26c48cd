/* weights.c: see weights.h.  The header is text so `head -c 300 f.bin`
 * tells a person what the file holds. */
#include "runtime/weights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const char MAGIC[8] = "HPTCWTS1";

int weights_encode(const ir_program *p, const hpt_value *values, const float *w, size_t n, unsigned char **out,
                   size_t *out_len)
{
    size_t cap = 256 + (size_t)p->n_hps * 160, len = 0;
    char *header = malloc(cap);
    if (!header) return -1;
    len += (size_t)snprintf(header + len, cap - len, "spec_hash %016llx\n", (unsigned long long)p->spec_hash);
    for (int k = 0; k < p->n_hps; k++) {
        char v[128];
        value_format(v, sizeof v, values[k]);
        len += (size_t)snprintf(header + len, cap - len, "hp %s %s\n", p->hps[k].name, v);
    }
    len += (size_t)snprintf(header + len, cap - len, "floats %zu\n", n);
    if (len >= cap) len = cap - 1;
    size_t total = 8 + 4 + len + n * sizeof(float) + 4;
    unsigned char *buf = malloc(total);
    if (!buf) return free(header), -1;
    uint32_t hl = (uint32_t)len;
    memcpy(buf, MAGIC, 8);
    memcpy(buf + 8, &hl, 4);
    memcpy(buf + 12, header, len);
    memcpy(buf + 12 + len, w, n * sizeof(float));
    uint32_t crc = (uint32_t)crc32(0, buf, (uInt)(total - 4));
    memcpy(buf + total - 4, &crc, 4);
    free(header);
    *out = buf;
    *out_len = total;
    return 0;
}

int weights_save(const char *path, const ir_program *p, const hpt_value *values, const float *w, size_t n,
                 hpt_error *e)
{
    unsigned char *buf;
    size_t len;
    if (weights_encode(p, values, w, n, &buf, &len)) return hpt_fail(e, "%s: out of memory", path);
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
    char *header = arena_strndup(a, (const char *)buf + 12, hl);
    unsigned long long hash = 0;
    size_t floats = 0;
    for (int k = 0; k < p->n_hps; k++) values[k] = value_none();
    for (char *line = header, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        char name[128];
        int used = 0;
        if (sscanf(line, "spec_hash %llx", &hash) == 1) continue;
        if (sscanf(line, "floats %zu", &floats) == 1) continue;
        if (sscanf(line, "hp %127s %n", name, &used) == 1 && used) {
            int k = ir_find_hp(p, name);
            if (k < 0) continue;
            char *text = line + used, why[200];
            if (!strcmp(text, "None")) continue;
            size_t tl = strlen(text);
            if (tl >= 2 && text[0] == '"') text[tl - 1] = 0, text++;
            if (ir_parse_hp_value(p, k, text, &values[k], why, sizeof why)) {
                free(buf);
                return hpt_fail(e, "%s: %s", path, why);
            }
            if (values[k].type == V_STRING) values[k].u.s = arena_strdup(a, values[k].u.s);
        }
    }
    if (hash != p->spec_hash) {
        free(buf);
        return hpt_fail(e, "%s: these weights were trained for another spec (hash %016llx, this spec %016llx)", path,
                        hash, (unsigned long long)p->spec_hash);
    }
    if (12 + hl + floats * sizeof(float) + 4 != (size_t)size) {
        free(buf);
        return hpt_fail(e, "%s: holds %zu floats but is %ld bytes long", path, floats, size);
    }
    *w = malloc(floats * sizeof(float) + 1);
    if (!*w) return free(buf), hpt_fail(e, "%s: out of memory", path);
    memcpy(*w, buf + 12 + hl, floats * sizeof(float));
    *n = floats;
    free(buf);
    return 0;
}
