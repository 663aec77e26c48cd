/* memo.c: open addressing with linear probing over FNV-1a hashes of the keys;
 * the table doubles at half load, so probes stay short.  Keys live in one
 * int pool addressed by 32-bit offsets (at most 4 G ints of keys). */
#include "compiler/memo.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_ints(const int *v, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull ^ n;
    for (size_t k = 0; k < n; k++) h = (h ^ (uint32_t)v[k]) * 0x100000001b3ull;
    return h;
}

static int grow(memo *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    uint64_t *hash = calloc(cap, sizeof *hash);
    uint32_t *at = calloc(cap, sizeof *at);
    double *value = calloc(cap, sizeof *value);
    if (!hash || !at || !value) {
        free(hash), free(at), free(value);
        return -1;
    }
    for (size_t k = 0; k < m->cap; k++) {
        if (!m->at[k]) continue;
        size_t j = m->hash[k] & (cap - 1);
        while (at[j]) j = (j + 1) & (cap - 1);
        hash[j] = m->hash[k], at[j] = m->at[k], value[j] = m->value[k];
    }
    free(m->hash), free(m->at), free(m->value);
    m->hash = hash, m->at = at, m->value = value, m->cap = cap;
    return 0;
}

double *memo_find(memo *m, const int *key, size_t n, bool *fresh)
{
    *fresh = false;
    if (m->used * 2 >= m->cap && grow(m)) return NULL;
    uint64_t h = hash_ints(key, n);
    size_t j = h & (m->cap - 1);
    for (; m->at[j]; j = (j + 1) & (m->cap - 1)) {
        const int *other = m->pool + m->at[j] - 1;
        if (m->hash[j] == h && (size_t)other[0] == n && !memcmp(other + 1, key, n * sizeof *key)) return &m->value[j];
    }
    if (m->pool_len + n + 1 > m->pool_cap) {
        size_t cap = (m->pool_cap + n + 1) * 2;
        int *pool = cap < UINT32_MAX ? realloc(m->pool, cap * sizeof *pool) : NULL;
        if (!pool) return NULL;
        m->pool = pool, m->pool_cap = cap;
    }
    m->hash[j] = h;
    m->at[j] = (uint32_t)m->pool_len + 1;
    m->value[j] = 0;
    m->pool[m->pool_len] = (int)n;
    memcpy(m->pool + m->pool_len + 1, key, n * sizeof *key);
    m->pool_len += n + 1;
    m->used++;
    *fresh = true;
    return &m->value[j];
}

void memo_free(memo *m)
{
    free(m->hash), free(m->at), free(m->value), free(m->pool);
    memset(m, 0, sizeof *m);
}
