/* parser.y: the grammar of .hpt specs.
 *
 *   program  -> { stmt }
 *   stmt     -> NAME '=' expr | call | block_call | 'model' block
 *   block    -> '{' { item } '}'
 *   item     -> call | block_call | 'for' NAME 'in' expr block | if
 *             | NAME '=' expr (an error)
 *   block_call -> call block | name_path block     (Add { ... }, branch { ... })
 *   if       -> 'if' expr block [ ('else' block) | ('elif' ...) | ('else' if) ]
 *   expr     -> Python's expressions: or, and, not, comparisons, + -, * / // %,
 *               unary -, **, calls on dotted names, lists, tuples, literals
 *
 * Newlines are layout only: a statement cannot start with an operator or a
 * bracket, so `a = b` followed by `c(...)` is never ambiguous (%expect 0).
 * Actions only build nodes; every meaning is checked in compiler/sema.c.
 * Nodes live in an arena, so semantic values need no %destructor. */
%define api.pure full
%define api.prefix {hpt_yy}
%define parse.error custom
%define api.location.type {ast_loc}
%locations
%expect 0
%param {yyscan_t scanner}
%parse-param {parse_ctx *ctx}

%code requires {
#include "compiler/parse.h"
typedef struct ast_loc { uint32_t start, end; } ast_loc;
#define YYLLOC_DEFAULT(cur, rhs, n)                                          \
    do {                                                                     \
        if (n) { (cur).start = YYRHSLOC(rhs, 1).start; (cur).end = YYRHSLOC(rhs, n).end; } \
        else { (cur).start = (cur).end = YYRHSLOC(rhs, 0).end; }             \
    } while (0)
typedef void *yyscan_t;
}

%code {
#include <string.h>
#include "compiler/ir.h"
#define YYSTYPE HPT_YYSTYPE
#define YYLTYPE HPT_YYLTYPE
#include "lexer.h"
#define A (ctx->arena)
static void hpt_yyerror(HPT_YYLTYPE *loc, yyscan_t scanner, parse_ctx *ctx, const char *msg);
static ast *nest(parse_ctx *ctx, ast *n);
static ast *block_node(parse_ctx *ctx, ast_kind kind, ast_loc at, ast *body);
static ast *named(ast_kind kind, ast *name, ast *value, ast_loc at);
static ast *own_block(parse_ctx *ctx, ast *call, ast *body);
static ast *bare_call(parse_ctx *ctx, ast *callee, ast_loc at);
}

%union { ast *node; }

%token <node> NAME LITERAL FSTRING
%token MODEL "model" FOR "for" IN "in" IF "if" ELIF "elif" ELSE "else"
%token AND "and" OR "or" NOT "not"
%token EQ "==" NE "!=" LE "<=" GE ">=" FLOORDIV "//" POW "**"

%type <node> stmts stmt block items item if_item expr or_expr and_expr not_expr cmp_expr
%type <node> add_expr mul_expr unary_expr pow_expr primary name_path call args arglist arg
%type <node> exprs list tuple elif_tail block_call

%%

program : stmts                         { ctx->root = $1; }
        ;

stmts   : %empty                        { $$ = ast_new(A, AST_PROGRAM, 0, 0); }
        | stmts stmt                    { $$ = ast_append($1, $2); }
        ;

stmt    : NAME '=' expr                 { $$ = named(AST_ASSIGN, $1, $3, @$); }
        | call                          { $$ = $1; }
        | block_call                    { $$ = $1; }   /* out of place here: sema says so */
        | MODEL block                   { $$ = $2; if ($$) { $$->kind = AST_MODEL; $$->start = @1.start; } }
        | error                         { $$ = NULL; }
        ;

block   : '{' items '}'                 { $$ = block_node(ctx, AST_BLOCK, @$, $2); }
        ;

items   : %empty                        { $$ = ast_new(A, AST_BLOCK, 0, 0); }
        | items item                    { $$ = ast_append($1, $2); }
        ;

item    : call                          { $$ = $1; }
        | block_call                    { $$ = $1; }
        | FOR NAME IN expr block        { $$ = ast_set_a(ast_new(A, AST_FOR, @$.start, @$.end), $4);
                                          if ($$) { $$->text = $2 ? $2->text : ""; $$->b = $5; }
                                          $$ = nest(ctx, $$); }
        | if_item                       { $$ = $1; }
        | NAME '=' expr                 { $$ = named(AST_ASSIGN, $1, $3, @$); }   /* refused by sema, with a reason */
        | error                         { $$ = NULL; }
        ;

if_item : IF expr block elif_tail       { $$ = ast_set_a(ast_new(A, AST_IF, @$.start, @$.end), $2);
                                          if ($$) { $$->first = $3; ast_set_b($$, $4); }
                                          $$ = nest(ctx, $$); }
        ;

/* A layer call that owns a block: a merge layer and its branches or body,
 * or a branch of one.  `branch` is no keyword: sema gives the word its
 * meaning, inside a merge's block only, so a constant may still be named so. */
block_call: call block                  { $$ = own_block(ctx, $1, $2); }
        | name_path block               { $$ = own_block(ctx, bare_call(ctx, $1, @1), $2); }
        ;

elif_tail : %empty                      { $$ = NULL; }
        | ELSE block                    { $$ = $2; }
        | ELSE if_item                  { $$ = $2; }
        | ELIF expr block elif_tail     { $$ = ast_set_a(ast_new(A, AST_IF, @$.start, @$.end), $2);
                                          if ($$) { $$->first = $3; ast_set_b($$, $4); }
                                          $$ = nest(ctx, $$); }
        ;

expr    : or_expr
        ;
or_expr : and_expr
        | or_expr OR and_expr           { $$ = nest(ctx, ast_binary(A, X_OR, $1, $3)); }
        ;
and_expr: not_expr
        | and_expr AND not_expr         { $$ = nest(ctx, ast_binary(A, X_AND, $1, $3)); }
        ;
not_expr: cmp_expr
        | NOT not_expr                  { $$ = nest(ctx, ast_unary(A, X_NOT, $2, @1.start)); }
        ;
cmp_expr: add_expr
        | add_expr EQ add_expr          { $$ = nest(ctx, ast_binary(A, X_EQ, $1, $3)); }
        | add_expr NE add_expr          { $$ = nest(ctx, ast_binary(A, X_NE, $1, $3)); }
        | add_expr '<' add_expr         { $$ = nest(ctx, ast_binary(A, X_LT, $1, $3)); }
        | add_expr LE add_expr          { $$ = nest(ctx, ast_binary(A, X_LE, $1, $3)); }
        | add_expr '>' add_expr         { $$ = nest(ctx, ast_binary(A, X_GT, $1, $3)); }
        | add_expr GE add_expr          { $$ = nest(ctx, ast_binary(A, X_GE, $1, $3)); }
        ;
add_expr: mul_expr
        | add_expr '+' mul_expr         { $$ = nest(ctx, ast_binary(A, X_ADD, $1, $3)); }
        | add_expr '-' mul_expr         { $$ = nest(ctx, ast_binary(A, X_SUB, $1, $3)); }
        ;
mul_expr: unary_expr
        | mul_expr '*' unary_expr       { $$ = nest(ctx, ast_binary(A, X_MUL, $1, $3)); }
        | mul_expr '/' unary_expr       { $$ = nest(ctx, ast_binary(A, X_DIV, $1, $3)); }
        | mul_expr FLOORDIV unary_expr  { $$ = nest(ctx, ast_binary(A, X_FLOORDIV, $1, $3)); }
        | mul_expr '%' unary_expr       { $$ = nest(ctx, ast_binary(A, X_MOD, $1, $3)); }
        ;
unary_expr: pow_expr
        | '-' unary_expr                { $$ = nest(ctx, ast_unary(A, X_NEG, $2, @1.start)); }
        | '+' unary_expr                { $$ = $2; if ($$) $$->start = @1.start; }
        ;
pow_expr: primary
        | primary POW unary_expr        { $$ = nest(ctx, ast_binary(A, X_POW, $1, $3)); }
        ;

primary : LITERAL
        | FSTRING
        | name_path
        | call
        | '(' expr ')'                  { $$ = $2; }
        | tuple
        | list
        ;

name_path: NAME
        | name_path '.' NAME            { $$ = ast_set_a(ast_new(A, AST_ATTR, @$.start, @$.end), $1);
                                          if ($$) $$->text = $3 ? $3->text : ""; $$ = nest(ctx, $$); }
        ;

call    : name_path '(' args ')'        { $$ = $3; if ($$) { $$->kind = AST_CALL; $$->start = @$.start;
                                          $$->end = @$.end; } $$ = nest(ctx, ast_set_a($$, $1)); }
        | name_path '(' error ')'       { $$ = NULL; }   /* resume after the call, not inside it */
        ;

args    : %empty                        { $$ = ast_new(A, AST_CALL, 0, 0); }
        | arglist
        | arglist ','
        ;
arglist : arg                           { $$ = ast_append(ast_new(A, AST_CALL, 0, 0), $1); }
        | arglist ',' arg               { $$ = ast_append($1, $3); }
        ;
arg     : expr
        | NAME '=' expr                 { $$ = named(AST_KWARG, $1, $3, @$); }
        ;

tuple   : '(' ')'                       { $$ = ast_new(A, AST_TUPLE, @$.start, @$.end); }
        | '(' expr ',' ')'              { $$ = nest(ctx, ast_append(ast_new(A, AST_TUPLE, @$.start, @$.end), $2)); }
        | '(' expr ',' exprs ')'        { $$ = ast_new(A, AST_TUPLE, @$.start, @$.end);
                                          ast_append($$, $2);
                                          for (ast *c = $4 ? $4->first : NULL, *nx; c; c = nx) { nx = c->next; c->next = NULL; ast_append($$, c); }
                                          $$ = nest(ctx, $$); }
        | '(' expr ',' exprs ',' ')'    { $$ = ast_new(A, AST_TUPLE, @$.start, @$.end);
                                          ast_append($$, $2);
                                          for (ast *c = $4 ? $4->first : NULL, *nx; c; c = nx) { nx = c->next; c->next = NULL; ast_append($$, c); }
                                          $$ = nest(ctx, $$); }
        ;
list    : '[' ']'                       { $$ = ast_new(A, AST_LIST, @$.start, @$.end); }
        | '[' exprs ']'                 { $$ = $2; if ($$) { $$->start = @$.start; $$->end = @$.end; } $$ = nest(ctx, $$); }
        | '[' exprs ',' ']'             { $$ = $2; if ($$) { $$->start = @$.start; $$->end = @$.end; } $$ = nest(ctx, $$); }
        ;
exprs   : expr                          { $$ = ast_append(ast_new(A, AST_LIST, 0, 0), $1); }
        | exprs ',' expr                { $$ = ast_append($1, $3); }
        ;

%%

/* Every node passes through here: past AST_MAX_DEPTH the tree is cut, so no
 * later recursive pass can overflow the C stack, and the error is said once. */
static ast *nest(parse_ctx *ctx, ast *n)
{
    if (n && n->depth > AST_MAX_DEPTH) {
        if (!ctx->too_deep) {
            diag_error(ctx->diag, n->start, n->start + 1, "expression nested more than %d deep", AST_MAX_DEPTH);
            diag_hint(ctx->diag, "name the inner parts: x = ... on a line of its own, then use x");
        }
        ctx->too_deep = 1;
        return NULL;
    }
    return n;
}

/* `name = value` (an assignment, a keyword argument): the name's own node
 * becomes the statement's, so a spec of 100,000 constants makes one node
 * fewer each. */
static ast *named(ast_kind kind, ast *name, ast *value, ast_loc at)
{
    if (!name) return NULL;
    name->kind = kind;
    name->start = at.start;
    name->end = at.end;
    return ast_set_a(name, value);
}

/* A call and the block it owns (in call->b).  The call keeps its own range,
 * name to ')', so a message about the layer underlines its header only. */
static ast *own_block(parse_ctx *ctx, ast *call, ast *body)
{
    if (!call) return NULL;
    call->b = body;
    if (body && body->depth + 1 > call->depth) call->depth = body->depth + 1;
    return nest(ctx, call);
}

/* `Add` before a block, written without parentheses: a call of no
 * arguments, marked (op = 1) so fmt prints it as written. */
static ast *bare_call(parse_ctx *ctx, ast *callee, ast_loc at)
{
    ast *call = ast_new(A, AST_CALL, at.start, at.end);
    if (call) call->op = 1;
    return ast_set_a(call, callee);
}

static ast *block_node(parse_ctx *ctx, ast_kind kind, ast_loc at, ast *body)
{
    if (!body) return NULL;
    body->kind = kind;
    body->start = at.start;
    body->end = at.end;
    return nest(ctx, body);
}

static void hpt_yyerror(HPT_YYLTYPE *loc, yyscan_t scanner, parse_ctx *ctx, const char *msg)
{
    if (ctx->too_deep) return;
    /* Bison's only own message is "memory exhausted", from a parser stack of
     * YYMAXDEPTH: that is nesting, said in the user's terms. */
    if (strstr(msg, "exhausted")) {
        diag_error(ctx->diag, loc->start, loc->end, "expression nested too deeply");
        diag_hint(ctx->diag, "name the inner parts: x = ... on a line of its own, then use x");
        ctx->too_deep = 1;
        return;
    }
    diag_error(ctx->diag, loc->start, loc->end, "%s", msg);
}

static const char *token_text(yysymbol_kind_t t)
{
    switch (t) {
    case YYSYMBOL_YYEOF: return "end of file";
    case YYSYMBOL_NAME: return "a name";
    case YYSYMBOL_LITERAL: return "a value";
    case YYSYMBOL_FSTRING: return "an f-string";
    default: return yysymbol_name(t);
    }
}

/* "expected ')' or ',' before 'Dense'", and for a block left open at the end of
 * the file, a note pointing at the '{' that was never closed. */
static int yyreport_syntax_error(const yypcontext_t *pc, yyscan_t scanner, parse_ctx *ctx)
{
    /* Right after a lexical error (a dropped ')', a string that ran to the end
     * of the line) the parser's complaint is its echo: say nothing more. */
    if (ctx->too_deep || ctx->since_lex_error <= 2) return 0;
    ctx->syntax_errors++;
    yysymbol_kind_t expected[6];
    int n = yypcontext_expected_tokens(pc, expected, 6);
    yysymbol_kind_t got = yypcontext_token(pc);
    const HPT_YYLTYPE *loc = yypcontext_location(pc);
    /* "end of file" is expected wherever a statement may end: not worth saying. */
    int m = 0;
    for (int k = 0; k < n; k++)
        if (expected[k] != YYSYMBOL_YYEOF) expected[m++] = expected[k];
    if (n > 0 && n < 6) n = m;
    char want[256] = "";
    if (n > 0 && n < 6) {
        for (int k = 0; k < n; k++) {
            if (k) strcat(want, k + 1 == n ? " or " : ", ");
            strncat(want, token_text(expected[k]), 60);
        }
    }
    /* A value right after a value inside brackets: the comma between them is missing. */
    bool value = got == YYSYMBOL_NAME || got == YYSYMBOL_LITERAL || got == YYSYMBOL_FSTRING;
    bool closer = false;
    for (int k = 0; k < n; k++)
        closer |= !strcmp(yysymbol_name(expected[k]), "')'") || !strcmp(yysymbol_name(expected[k]), "']'");
    if (value && closer && ctx->n_open > 0 && ctx->open[ctx->n_open - 1].ch != '{') {
        char close = ctx->open[ctx->n_open - 1].ch == '(' ? ')' : ']';
        diag_error(ctx->diag, loc->start, loc->end, "syntax error: expected ',' or '%c' before %s", close, token_text(got));
        diag_hint(ctx->diag, "arguments and list items are separated by commas");
        return 0;
    }
    if (got == YYSYMBOL_YYEOF && ctx->n_open > 0) {
        int k = ctx->n_open - 1;
        char ch = ctx->open[k].ch;
        char close = ch == '(' ? ')' : ch == '[' ? ']' : '}';
        diag_error(ctx->diag, loc->start, loc->end, "unexpected end of file: expected '%c'", close);
        diag_note(ctx->diag, ctx->open[k].at, ctx->open[k].at + 1, "unclosed '%c'%s opened here", ch,
                  ctx->open[k].model ? " of the model block" : "");
        return 0;
    }
    if (*want)
        diag_error(ctx->diag, loc->start, loc->end, "syntax error: expected %s before %s", want, token_text(got));
    else
        diag_error(ctx->diag, loc->start, loc->end, "syntax error: unexpected %s", token_text(got));
    if (value && ctx->n_open == 0)
        diag_hint(ctx->diag, "statements are assignments (name = ...), calls, or a model { ... } block");
    return 0;
}

int parse_spec(parse_ctx *ctx, arena *a, diag_ctx *d, const char *src, size_t len)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->arena = a;
    ctx->diag = d;
    ctx->src = src;
    ctx->len = len;
    ctx->since_lex_error = 1 << 30;
    int before = d->errors;
    yyscan_t scanner;
    if (hpt_yylex_init_extra(ctx, &scanner)) {
        diag_error(d, 0, 0, "out of memory");
        return 1;
    }
    YY_BUFFER_STATE buf = hpt_yy_scan_bytes(src, (int)len, scanner);
    hpt_yyparse(scanner, ctx);
    hpt_yy_delete_buffer(buf, scanner);
    hpt_yylex_destroy(scanner);
    if (!ctx->root) ctx->root = ast_new(a, AST_PROGRAM, 0, 0);
    if (a->failed) diag_error(d, 0, 0, "out of memory");
    return d->errors - before;
}

void parse_ctx_free(parse_ctx *ctx)
{
    free(ctx->comments);
    ctx->comments = NULL;
}
