/* arena.c: a list of blocks bumped from the front.  Blocks grow with the
 * arena (64 KiB, then as large as everything handed out so far, up to
 * 8 MiB), so a 50 MB spec takes a few dozen blocks, not thousands; blocks
 * of 2 MiB and more are asked to be backed by huge pages, which makes
 * touching them one page fault per 2 MiB instead of one per 4 KiB (on a
 * virtual machine a fault costs microseconds: it was half the time of
 * checking 100,000 constants).  Oversized requests get a block of their own
 * so small ones keep packing. */
#include "compiler/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#endif

struct arena_block {
    arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

enum { ARENA_BLOCK = 64 * 1024, ARENA_MAX_BLOCK = 8 << 20, HUGE_PAGE = 2 << 20 };

static arena_block *new_block(size_t cap)
{
    size_t bytes = sizeof(arena_block) + cap;
    if (bytes < HUGE_PAGE) return malloc(bytes);
    bytes = (bytes + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
    arena_block *b = aligned_alloc(HUGE_PAGE, bytes);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (b) madvise(b, bytes, MADV_HUGEPAGE);    /* advice only: without huge pages nothing changes */
#endif
    return b;
}

void *arena_alloc(arena *a, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    arena_block *b = a->head;
    if (!b || b->cap - b->used < size) {
        size_t grow = a->bytes < ARENA_BLOCK ? ARENA_BLOCK : a->bytes < ARENA_MAX_BLOCK ? a->bytes : ARENA_MAX_BLOCK;
        size_t cap = size > grow ? size : grow;
        b = new_block(cap);
        if (!b) {
            a->failed = 1;
            return NULL;
        }
        b->used = 0;
        b->cap = cap;
        /* Keep a partly used head in front when the new block is a one-off. */
        if (a->head && size > grow) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = a->head;
            a->head = b;
        }
    }
    void *p = b->data + b->used;
    b->used += size;
    a->bytes += size;
    memset(p, 0, size);
    return p;
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    if (p) memcpy(p, s, n);
    return p;
}

char *arena_strdup(arena *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

char *arena_printf(arena *a, const char *fmt, ...)
{
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *p = n < 0 ? NULL : arena_alloc(a, (size_t)n + 1);
    if (p) vsnprintf(p, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    return p;
}

void arena_free(arena *a)
{
    for (arena_block *b = a->head, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    a->head = NULL;
    a->bytes = 0;
}
