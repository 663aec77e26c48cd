/* ast.c: node constructors.  Each keeps `depth` = 1 + the deepest child,
 * which is all the parser needs to cap nesting. */
#include "compiler/ast.h"

ast *ast_new(arena *a, ast_kind kind, uint32_t start, uint32_t end)
{
    ast *n = ARENA_NEW(a, ast);
    if (!n) return NULL;
    n->kind = kind;
    n->start = start;
    n->end = end;
    n->depth = 1;
    return n;
}

static void deepen(ast *n, const ast *c)
{
    if (c && c->depth + 1 > n->depth) n->depth = c->depth + 1;
}

ast *ast_set_a(ast *n, ast *x)
{
    if (!n) return NULL;
    n->a = x;
    deepen(n, x);
    return n;
}

ast *ast_set_b(ast *n, ast *x)
{
    if (!n) return NULL;
    n->b = x;
    deepen(n, x);
    if (x && x->end > n->end) n->end = x->end;
    return n;
}

ast *ast_unary(arena *a, int op, ast *x, uint32_t start)
{
    ast *n = ast_new(a, AST_UNARY, start, x ? x->end : start);
    if (n) n->op = op;
    return ast_set_a(n, x);
}

ast *ast_binary(arena *a, int op, ast *x, ast *y)
{
    ast *n = ast_new(a, AST_BINARY, x ? x->start : 0, y ? y->end : 0);
    if (!n) return NULL;
    n->op = op;
    ast_set_a(n, x);
    return ast_set_b(n, y);
}

ast *ast_append(ast *n, ast *c)
{
    if (!n || !c) return n;
    if (n->last) n->last->next = c;
    else n->first = c;
    n->last = c;
    n->n++;
    deepen(n, c);
    return n;
}
