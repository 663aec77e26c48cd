/* memo.h: a hash map from short int arrays to doubles, for the walks over the
 * search space (compiler/shapes.c, compiler/space.c) that must not visit the
 * same state twice.  Keys are copied into one growing pool; nothing is
 * removed until memo_free. */
#ifndef HPTC_MEMO_H
#define HPTC_MEMO_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct memo {
    uint64_t *hash;
    uint32_t *at;       /* offset of the key in pool, + 1 (0 = empty slot) */
    double *value;
    size_t cap, used;
    int *pool;          /* each key stored as its length, then its ints */
    size_t pool_len, pool_cap;
} memo;

/* The value slot of key[0..n), inserted (holding 0) when absent, with *fresh
 * telling which.  NULL when out of memory. */
double *memo_find(memo *m, const int *key, size_t n, bool *fresh);
void memo_free(memo *m);

#endif
