/* fmt.c: prints a parsed spec back out in the one canonical layout.
 *
 * The AST holds no layout, so the output depends only on the tree, on where
 * the comments are relative to it, and on where blank lines separated
 * statements.  Code is printed in source order; comments are a second,
 * sorted stream merged in by position: before each statement, item, '}' and
 * call argument, every comment that starts earlier is flushed.  A comment
 * that the layout has no place for (inside a list, a condition, an
 * expression) moves to the next line break after it, which is where it is
 * found again on the next run: that, plus layout decisions that read only
 * widths and comment positions relative to arguments, is what makes
 * fmt(fmt(x)) == fmt(x).
 *
 * Width: a call stays on one line when it fits in FMT_MAX_WIDTH columns;
 * otherwise its arguments are filled up to FMT_FILL_WIDTH, continuation
 * lines aligned one column after its '('.  A positional argument that is a
 * call is wrapped the same way when it does not fit; keyword values, lists
 * and expressions never are.  Columns count code points; comments are not
 * counted. */
#include "compiler/fmt.h"
#include "compiler/compile.h"
#include "compiler/ir.h"
#include "compiler/parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { FMT_MAX_WIDTH = 100, FMT_FILL_WIDTH = 80, FMT_INDENT = 2 };

/* Growable output; with `counting` set it only measures (col). */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    int col;            /* code points since the last '\n' */
    int counting;
    int oom;
} sbuf;

typedef struct fmt_state {
    const char *src;
    size_t len;
    const parse_comment *cm;
    int n_cm, next_cm;  /* comments [next_cm, n_cm) are still to print */
    sbuf out;
    int line_open;      /* the current output line has text */
    int line_comment;   /* ... and ends in a comment: no code may follow */
    int at_start;       /* nothing printed yet in this block: no blank line */
    uint32_t last_end;  /* source end of the last statement/comment printed */
} fmt_state;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        if (s[k] == '\n') b->col = 0;
        else if (((unsigned char)s[k] & 0xc0) != 0x80) b->col++;
    }
    if (b->counting || b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void sb_str(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

static void sb_spaces(sbuf *b, int n)
{
    for (; n > 0; n--) sb_put(b, " ", 1);
}

/* ---- expressions, flat ---- */

/* Binding strength, as the grammar's levels: or < and < not < comparison
 * < + - < * / // % < unary - < ** < atoms. */
static int prec(const ast *n)
{
    if (n->kind == AST_UNARY) return n->op == X_NOT ? 3 : 7;
    if (n->kind != AST_BINARY) return 9;
    switch (n->op) {
    case X_OR: return 1;
    case X_AND: return 2;
    case X_ADD: case X_SUB: return 5;
    case X_MUL: case X_DIV: case X_FLOORDIV: case X_MOD: return 6;
    case X_POW: return 8;
    default: return 4;      /* comparisons */
    }
}

static const char *op_text(int op)
{
    switch (op) {
    case X_OR: return "or";
    case X_AND: return "and";
    case X_EQ: return "==";
    case X_NE: return "!=";
    case X_LT: return "<";
    case X_LE: return "<=";
    case X_GT: return ">";
    case X_GE: return ">=";
    case X_ADD: return "+";
    case X_SUB: return "-";
    case X_MUL: return "*";
    case X_DIV: return "/";
    case X_FLOORDIV: return "//";
    case X_MOD: return "%";
    case X_POW: return "**";
    default: return "?";
    }
}

static int is_number(const ast *n) { return n && (n->kind == AST_INT || n->kind == AST_FLOAT); }

static void print_expr(fmt_state *st, sbuf *b, const ast *n);

/* A literal's range may start at a unary '+' the parser dropped (`+ (1)`):
 * step over it, its parentheses and any comment to the literal itself. */
static uint32_t literal_start(const fmt_state *st, const ast *n)
{
    uint32_t p = n->start;
    while (p < n->end) {
        char c = st->src[p];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '+' || c == '(') p++;
        else if (c == '#') while (p < n->end && st->src[p] != '\n') p++;
        else break;
    }
    return p;
}

/* Operand x of a node needing at least binding `min`: parenthesised if looser. */
static void print_operand(fmt_state *st, sbuf *b, const ast *x, int min)
{
    int paren = x && prec(x) < min;
    if (paren) sb_put(b, "(", 1);
    print_expr(st, b, x);
    if (paren) sb_put(b, ")", 1);
}

static void print_list(fmt_state *st, sbuf *b, const ast *n)
{
    for (const ast *c = n->first; c; c = c->next) {
        print_expr(st, b, c);
        if (c->next) sb_put(b, ", ", 2);
    }
}

static void print_expr(fmt_state *st, sbuf *b, const ast *n)
{
    if (!n) return;
    switch (n->kind) {
    case AST_INT: case AST_FLOAT: case AST_STRING: case AST_FSTRING: {
        uint32_t s = literal_start(st, n);
        sb_put(b, st->src + s, n->end - s);
        break;
    }
    case AST_BOOL: sb_str(b, n->ival ? "True" : "False"); break;
    case AST_NONE: sb_str(b, "None"); break;
    case AST_NAME: sb_str(b, n->text ? n->text : ""); break;
    case AST_ATTR:
        print_expr(st, b, n->a);
        sb_put(b, ".", 1);
        sb_str(b, n->text ? n->text : "");
        break;
    case AST_CALL:
        print_expr(st, b, n->a);
        if (n->op) break;       /* Add { ... }: written without parentheses */
        sb_put(b, "(", 1);
        print_list(st, b, n);
        sb_put(b, ")", 1);
        break;
    case AST_KWARG:
        sb_str(b, n->text ? n->text : "");
        sb_put(b, " = ", 3);
        print_expr(st, b, n->a);
        break;
    case AST_LIST:
        sb_put(b, "[", 1);
        print_list(st, b, n);
        sb_put(b, "]", 1);
        break;
    case AST_TUPLE:
        sb_put(b, "(", 1);
        print_list(st, b, n);
        if (n->n == 1) sb_put(b, ",", 1);
        sb_put(b, ")", 1);
        break;
    case AST_UNARY:
        /* not_expr -> 'not' not_expr;  unary_expr -> '-' unary_expr */
        sb_str(b, n->op == X_NOT ? "not " : "-");
        print_operand(st, b, n->a, prec(n));
        break;
    case AST_BINARY: {
        int p = prec(n), lmin = p, rmin = p + 1;
        if (p == 4) lmin = rmin = 5;            /* comparisons do not chain */
        if (p == 8) lmin = 9, rmin = 7;         /* pow_expr -> primary '**' unary_expr */
        int tight = p >= 6 && is_number(n->a) && is_number(n->b);
        print_operand(st, b, n->a, lmin);
        if (!tight) sb_put(b, " ", 1);
        sb_str(b, op_text(n->op));
        if (!tight) sb_put(b, " ", 1);
        print_operand(st, b, n->b, rmin);
        break;
    }
    default: break;     /* statements never appear inside expressions */
    }
}

static int flat_width(fmt_state *st, const ast *n)
{
    sbuf m = { .counting = 1 };
    print_expr(st, &m, n);
    return m.col;
}

/* ---- lines and comments ---- */

static void end_line(fmt_state *st)
{
    if (!st->line_open) return;
    sbuf *b = &st->out;
    while (b->len && b->p[b->len - 1] == ' ') b->len--;
    sb_put(b, "\n", 1);
    st->line_open = st->line_comment = 0;
}

static void start_line(fmt_state *st, int indent)
{
    end_line(st);
    sb_spaces(&st->out, indent);
    st->line_open = 1;
}

static int newlines(const fmt_state *st, uint32_t from, uint32_t to)
{
    int k = 0;
    for (uint32_t p = from; p < to && p < st->len; p++) k += st->src[p] == '\n';
    return k;
}

/* A blank line before what starts at `at`, if the source had one since the
 * last thing printed and this is not the first thing in its block. */
static void blank_before(fmt_state *st, uint32_t at)
{
    if (!st->at_start && newlines(st, st->last_end, at) >= 2) {
        end_line(st);
        sb_put(&st->out, "\n", 1);
    }
}

/* Spaces between a comment and the code before it on its source line; 0 if
 * the comment has its own line. */
static int trailing_gap(const fmt_state *st, uint32_t at)
{
    uint32_t p = at;
    while (p > 0 && (st->src[p - 1] == ' ' || st->src[p - 1] == '\t' || st->src[p - 1] == '\r')) p--;
    if (p == 0 || st->src[p - 1] == '\n') return 0;
    return at - p ? (int)(at - p) : 1;
}

/* Print every pending comment that starts before `before`: the first one
 * that trailed code in the source ends the current line again (keeping its
 * gap), the others get lines of their own at `indent`.  `blanks`: keep a
 * blank line above an own-line comment (statement level).  Returns how many
 * were printed. */
static int comments_before(fmt_state *st, uint32_t before, int indent, int blanks)
{
    int printed = 0;
    while (st->next_cm < st->n_cm && st->cm[st->next_cm].start < before) {
        parse_comment c = st->cm[st->next_cm++];
        uint32_t end = c.end;
        while (end > c.start && (st->src[end - 1] == ' ' || st->src[end - 1] == '\t' || st->src[end - 1] == '\r'))
            end--;
        int gap = trailing_gap(st, c.start);
        if (gap && st->line_open && !st->line_comment) {
            sb_spaces(&st->out, gap);
        } else {
            if (blanks) blank_before(st, c.start);
            start_line(st, indent);
            st->at_start = 0;
        }
        sb_put(&st->out, st->src + c.start, end - c.start);
        st->line_comment = 1;
        if (c.end > st->last_end) st->last_end = c.end;
        printed++;
    }
    return printed;
}

/* Is there a comment starting in [from, to)?  Comments are sorted. */
static int comment_in(const fmt_state *st, uint32_t from, uint32_t to)
{
    int lo = 0, hi = st->n_cm;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (st->cm[mid].start < from) lo = mid + 1;
        else hi = mid;
    }
    return lo < st->n_cm && st->cm[lo].start < to;
}

/* Would printing this call in wrapped form leave a comment inside it?  Those
 * before its last argument are printed between arguments; those in the last
 * argument only if it is itself a call that keeps them.  Any other comment
 * ends up after the ')' whatever the layout, so it must not force one. */
static int keeps_comment(const fmt_state *st, const ast *call)
{
    if (!call->last) return 0;
    if (comment_in(st, call->start, call->last->start)) return 1;
    return call->last->kind == AST_CALL && keeps_comment(st, call->last);
}

/* ---- calls and statements ---- */

/* Print a call at the current column; `tail` is how many columns follow it
 * on its line (closing brackets and commas of enclosing calls).
 *   one line   if it fits in FMT_MAX_WIDTH and no comment must stay inside;
 *   otherwise  callee '(' args ')' with the arguments filled greedily to
 *              FMT_FILL_WIDTH, continuation lines aligned after the '(', and
 *              a line break after any argument a comment follows. */
static void print_call(fmt_state *st, const ast *call, int tail)
{
    sbuf *b = &st->out;
    if (b->col + flat_width(st, call) + tail <= FMT_MAX_WIDTH && !keeps_comment(st, call)) {
        print_expr(st, b, call);
        return;
    }
    print_expr(st, b, call->a);
    sb_put(b, "(", 1);
    int align = b->col;
    int brk = call->first && comments_before(st, call->first->start, align, 0) > 0;
    for (const ast *arg = call->first; arg; arg = arg->next) {
        int arg_tail = arg->next ? 1 : 1 + tail;
        if (brk || st->line_comment) start_line(st, align);
        else if (arg != call->first) {
            if (b->col + 1 + flat_width(st, arg) + arg_tail <= FMT_FILL_WIDTH) sb_put(b, " ", 1);
            else start_line(st, align);
        }
        if (arg->kind == AST_CALL) print_call(st, arg, arg_tail);
        else print_expr(st, b, arg);
        if (arg->next) {
            sb_put(b, ",", 1);
            brk = comments_before(st, arg->next->start, align, 0) > 0;
        }
    }
    sb_put(b, ")", 1);
}

static void print_item(fmt_state *st, const ast *n, int indent);

/* The items of a block up to its '}', then the '}' at `indent`. */
static void print_block(fmt_state *st, const ast *blk, int indent)
{
    sb_str(&st->out, "{");
    st->at_start = 1;
    for (const ast *c = blk ? blk->first : NULL; c; c = c->next) print_item(st, c, indent + FMT_INDENT);
    if (blk) comments_before(st, blk->end - 1, indent + FMT_INDENT, 1);
    start_line(st, indent);
    sb_str(&st->out, "}");
    st->at_start = 0;
    if (blk && blk->end > st->last_end) st->last_end = blk->end;
}

/* stmt -> NAME '=' expr | call | block_call | 'model' block
 * item -> call | block_call | 'for' NAME 'in' expr block | if */
static void print_item(fmt_state *st, const ast *n, int indent)
{
    if (!n) return;
    sbuf *b = &st->out;
    comments_before(st, n->start, indent, 1);
    blank_before(st, n->start);
    start_line(st, indent);
    st->at_start = 0;
    switch (n->kind) {
    case AST_ASSIGN:
        sb_str(b, n->text ? n->text : "");
        sb_put(b, " = ", 3);
        if (n->a && n->a->kind == AST_CALL) print_call(st, n->a, 0);
        else print_expr(st, b, n->a);
        break;
    case AST_CALL:
        /* block_call -> call block | name_path block: a merge and its branches, a branch */
        print_call(st, n, n->b ? 2 : 0);
        if (!n->b) break;
        sb_put(b, " ", 1);
        if (!n->b->first && !comment_in(st, n->b->start, n->b->end)) {
            sb_str(b, "{ }");       /* an empty branch: the block's input itself */
            if (n->b->end > st->last_end) st->last_end = n->b->end;
        } else {
            print_block(st, n->b, indent);
        }
        break;
    case AST_MODEL:
        sb_str(b, "model ");
        print_block(st, n, indent);
        break;
    case AST_FOR:
        sb_str(b, "for ");
        sb_str(b, n->text ? n->text : "");
        sb_str(b, " in ");
        print_expr(st, b, n->a);
        sb_put(b, " ", 1);
        print_block(st, n->b, indent);
        break;
    case AST_IF:
        /* if -> 'if' expr block [ 'else' block | 'else' if ]; elif is 'else if' */
        for (const ast *br = n; br;) {
            sb_str(b, "if ");
            print_expr(st, b, br->a);
            sb_put(b, " ", 1);
            print_block(st, br->first, indent);
            br = br->b;
            if (!br) break;
            sb_str(b, " else ");
            if (br->kind != AST_IF) {
                print_block(st, br, indent);
                break;
            }
        }
        break;
    default:
        break;
    }
    if (n->end > st->last_end) st->last_end = n->end;
}

fmt_result fmt_format(const char *file, const char *src, size_t len, FILE *diag_out)
{
    fmt_result r = { 0 };
    arena a = { 0 };
    diag_ctx d = { .file = file, .src = src, .len = len, .out = diag_out };
    if (len > COMPILE_MAX_SPEC_BYTES) {     /* the compiler's limit, and its message */
        compile_result c = compile_spec(file, src, len, diag_out);
        r.errors = c.errors;
        return r;
    }
    parse_ctx *pc = malloc(sizeof *pc);     /* ~2.5 KB of bracket stack: keep it off ours */
    if (!pc) {
        r.errors = 1;
        return r;
    }
    parse_spec(pc, &a, &d, src, len);
    if (d.errors) {
        r.errors = d.errors;
        goto done;
    }
    fmt_state st = { .src = src, .len = len, .cm = pc->comments, .n_cm = pc->n_comments, .at_start = 1 };
    for (const ast *s = pc->root ? pc->root->first : NULL; s; s = s->next) print_item(&st, s, 0);
    comments_before(&st, UINT32_MAX, 0, 1);
    end_line(&st);
    if (!st.out.oom && !st.out.p) st.out.p = calloc(1, 1);     /* empty spec: "" */
    if (st.out.oom || !st.out.p) {
        free(st.out.p);
        diag_error(&d, 0, 0, "out of memory");
        r.errors = d.errors ? d.errors : 1;
        goto done;
    }
    r.text = st.out.p;
    r.len = st.out.len;
done:
    parse_ctx_free(pc);
    free(pc);
    arena_free(&a);
    diag_free(&d);
    return r;
}
