/* arena.h: bump allocation for everything that lives as long as one compile.
 *
 * The AST, the IR and every string they hold come from one arena and are
 * freed together with arena_free(); nothing in the front end frees a node.
 * Allocation failure is reported once through arena->failed and the arena
 * then hands out NULL, which callers turn into a diagnostic. */
#ifndef HPTC_ARENA_H
#define HPTC_ARENA_H
#include <stddef.h>

typedef struct arena_block arena_block;
typedef struct arena {
    arena_block *head;
    size_t bytes;       /* total handed out, for `hptc check -v` */
    int failed;
} arena;

void *arena_alloc(arena *a, size_t size);              /* zeroed, 16-byte aligned */
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_strdup(arena *a, const char *s);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void arena_free(arena *a);

#define ARENA_NEW(a, type) ((type *)arena_alloc((a), sizeof(type)))
#define ARENA_ARRAY(a, type, n) ((type *)arena_alloc((a), sizeof(type) * (size_t)(n)))

#endif
