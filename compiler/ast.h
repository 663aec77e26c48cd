/* ast.h: the syntax tree the parser builds and sema, fmt read.
 *
 * One node type for everything: a kind, a byte range of the source, an
 * optional text (a name, a string's decoded contents, a literal's spelling),
 * two operands and a child list.  Nodes live in the compile's arena.  Every
 * node knows its depth so recursive passes can refuse absurd nesting before
 * they recurse (a 1 MB file of '(' must not overflow the C stack). */
#ifndef HPTC_AST_H
#define HPTC_AST_H
#include <stdint.h>
#include "compiler/arena.h"

typedef enum {
    AST_INT, AST_FLOAT, AST_STRING, AST_FSTRING, AST_BOOL, AST_NONE,
    AST_NAME,       /* text */
    AST_ATTR,       /* a.text */
    AST_CALL,       /* a(children); in a model, b: the block it owns (Add { ... });
                       op = 1: written without parentheses (Add { ... }) */
    AST_KWARG,      /* text = a */
    AST_LIST,       /* [children] */
    AST_TUPLE,      /* (children) */
    AST_UNARY,      /* op a */
    AST_BINARY,     /* a op b */
    AST_ASSIGN,     /* text = a */
    AST_MODEL,      /* model { children } */
    AST_FOR,        /* for text in a { children } */
    AST_IF,         /* if a { children } else b (b: AST_BLOCK or AST_IF) */
    AST_BLOCK,      /* { children } */
    AST_PROGRAM,
    AST_ERROR,      /* a literal the lexer already reported (bad number, broken string) */
} ast_kind;

typedef struct ast ast;
struct ast {
    ast_kind kind;
    int op;             /* ir_xop of AST_UNARY / AST_BINARY */
    uint32_t start, end;
    const char *text;
    ast *a, *b;
    ast *first, *last;  /* children */
    ast *next;          /* next sibling */
    int n;              /* number of children */
    int depth;
    union {
        int64_t ival;   /* AST_INT, AST_BOOL */
        double fval;    /* AST_FLOAT */
    };
};

/* Deeper than this the parser reports an error instead of building. */
#define AST_MAX_DEPTH 200

ast *ast_new(arena *a, ast_kind kind, uint32_t start, uint32_t end);
ast *ast_unary(arena *a, int op, ast *x, uint32_t start);
ast *ast_binary(arena *a, int op, ast *x, ast *y);
/* Append child c to n's list (and widen n's range and depth). */
ast *ast_append(ast *n, ast *c);
/* Set n->a (and depth). */
ast *ast_set_a(ast *n, ast *x);
ast *ast_set_b(ast *n, ast *x);

#endif
