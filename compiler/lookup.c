/* lookup.c: see lookup.h.
 *
 * lookup_at walks the tree from the root to the offset, carrying what the
 * place expects: a layer inside a block, a data source after `data =`, the
 * kind an argument's type names (a loss for compile(loss = ...), so "mae"
 * there is the loss, in metrics = [...] the metric).  The enclosing for
 * loops are kept on a small stack, so a name resolves as sema resolves it:
 * the innermost loop variable, then a constant, then the catalogue.
 * lookup_complete scans the text from its start with a small tokenizer of
 * its own (strings, comments, brackets, `name =`): a half-written call has
 * no node yet, but its '(' and the words before it are there. */
#include "compiler/lookup.h"
#include "compiler/compile.h"
#include "compiler/parse.h"

#include <stdlib.h>
#include <string.h>

struct lookup_spec {
    arena arena;
    const char *src;
    size_t len;
    ast *root;
};

lookup_spec *lookup_parse(const char *src, size_t len)
{
    if (len > COMPILE_MAX_SPEC_BYTES) return NULL;
    lookup_spec *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    char *copy = arena_strndup(&s->arena, src, len);
    if (!copy) {
        lookup_free(s);
        return NULL;
    }
    diag_ctx d = { .file = "", .src = copy, .len = len };   /* no output: the compile reports */
    parse_ctx pc;
    parse_spec(&pc, &s->arena, &d, copy, len);
    s->root = pc.root;
    parse_ctx_free(&pc);
    diag_free(&d);
    s->src = copy, s->len = len;
    return s;
}

void lookup_free(lookup_spec *s)
{
    if (!s) return;
    arena_free(&s->arena);
    free(s);
}

/* The entries an argument of this type names, or -1. */
static int kind_of_type(st_type t)
{
    switch (t) {
    case T_ACTIVATION: return ST_ACTIVATION;
    case T_OPTIMIZER: return ST_OPTIMIZER;
    case T_LOSS: return ST_LOSS;
    case T_METRICS: return ST_METRIC;
    case T_CALLBACKS: return ST_CALLBACK;
    case T_DATA: return ST_DATA;
    case T_SPLITTER: return ST_SPLITTER;
    case T_LR: return ST_SCHEDULE;
    case T_OBJECTIVE: return ST_OBJECTIVE;
    default: return -1;
    }
}

/* "datasets.fashion_mnist" of a NAME or ATTR chain, into buf; 0 if not one. */
static int path_text(const ast *n, char *buf, size_t cap)
{
    if (!n || !n->text) return 0;
    if (n->kind == AST_NAME) return snprintf(buf, cap, "%s", n->text) < (int)cap;
    if (n->kind != AST_ATTR || !path_text(n->a, buf, cap)) return 0;
    size_t len = strlen(buf);
    return snprintf(buf + len, cap - len, ".%s", n->text) < (int)(cap - len);
}

/* An entry of the kind expected, else of any kind. */
static const st_entry *find_entry(int kind, const char *name)
{
    const st_entry *e = kind >= 0 ? st_find(kind, name) : NULL;
    return e ? e : st_find(-1, name);
}

/* ---- lookup_at ------------------------------------------------------------ */

enum { EXPECT_STATEMENT = -2, MAX_LOOPS = 64 };

typedef struct walk {
    const lookup_spec *s;
    uint32_t at;
    lookup_hit hit;
    const ast *loops[MAX_LOOPS];    /* the for loops around the node visited */
    int n_loops;
} walk;

static int covers(uint32_t start, uint32_t end, uint32_t at) { return start <= at && at < end; }

/* The range of a for loop's variable: the word after `for`. */
static void loop_var_range(const lookup_spec *s, const ast *loop, uint32_t *start, uint32_t *end)
{
    uint32_t k = loop->start + 3;
    while (k < s->len && (s->src[k] == ' ' || s->src[k] == '\t')) k++;
    *start = k;
    *end = k + (uint32_t)strlen(loop->text ? loop->text : "");
}

static const ast *find_constant(const lookup_spec *s, const char *name)
{
    for (const ast *c = s->root ? s->root->first : NULL; c; c = c->next)
        if (c->kind == AST_ASSIGN && c->text && !strcmp(c->text, name) && strcmp(name, "data") && strcmp(name, "tuner"))
            return c;
    return NULL;
}

/* The name an hp.* call gives its hyperparameter ("" unless a plain string):
 * its first positional argument or name = ...  *at: that argument's node. */
static const char *hp_name_of(const ast *call, const ast **at)
{
    *at = NULL;
    for (const ast *c = call->first; c; c = c->next) {
        const ast *v = c->kind == AST_KWARG ? (c->text && !strcmp(c->text, "name") ? c->a : NULL) : c;
        if (c->kind != AST_KWARG || v) {
            *at = v;
            return v && v->kind == AST_STRING && v->text ? v->text : "";
        }
    }
    return "";
}

static int is_hp_call(const ast *n, const st_hp **kind)
{
    char path[64];
    if (!n || n->kind != AST_CALL || !path_text(n->a, path, sizeof path) || strncmp(path, "hp.", 3)) return 0;
    *kind = st_find_hp(path + 3);
    return 1;
}

/* The first hp.* call (by offset) defining `name`, anywhere under n. */
static void first_hp_call(const ast *n, const char *name, const ast **best)
{
    for (; n; n = n->next) {
        const st_hp *kind;
        const ast *at;
        if (is_hp_call(n, &kind) && !strcmp(hp_name_of(n, &at), name) && (!*best || n->start < (*best)->start)) *best = n;
        if (n->a) first_hp_call(n->a, name, best);
        if (n->b) first_hp_call(n->b, name, best);
        if (n->first) first_hp_call(n->first, name, best);
    }
}

static void hit_hp(walk *w, const ast *call, const st_hp *kind, uint32_t start, uint32_t end)
{
    const ast *at;
    const char *name = hp_name_of(call, &at);
    w->hit = (lookup_hit){ .kind = LOOKUP_HP, .start = start, .end = end, .hp = kind, .call_start = call->start,
                           .call_end = call->end };
    snprintf(w->hit.name, sizeof w->hit.name, "%s", name);
    const ast *first = NULL;
    if (*name) first_hp_call(w->s->root, name, &first);
    if (first) w->hit.defined = 1, w->hit.def_start = first->start, w->hit.def_end = first->end;
}

static void visit(walk *w, const ast *n, int expect);

static void visit_list(walk *w, const ast *first, int expect)
{
    for (const ast *c = first; c; c = c->next) visit(w, c, expect);
}

/* call -> name_path '(' args ')' [block] */
static void visit_call(walk *w, const ast *n, int expect)
{
    char path[128] = "";
    path_text(n->a, path, sizeof path);
    const st_hp *hp = NULL;
    int is_hp = is_hp_call(n, &hp);
    const st_entry *entry = is_hp || !*path ? NULL : find_entry(expect, path);
    if (n->a && covers(n->a->start, n->a->end, w->at)) {
        if (is_hp && hp) hit_hp(w, n, hp, n->a->start, n->a->end);
        else if (entry) w->hit = (lookup_hit){ .kind = LOOKUP_ENTRY, .start = n->a->start, .end = n->a->end, .entry = entry };
        return;
    }
    int position = 0;
    for (const ast *c = n->first; c; c = c->next) {
        if (c->kind == AST_KWARG) {
            uint32_t name_end = c->start + (uint32_t)strlen(c->text ? c->text : "");
            int k = !c->text ? -1 : hp ? st_hp_arg_index(hp, c->text) : entry ? st_arg_index(entry, c->text) : -1;
            if (covers(c->start, name_end, w->at)) {
                if (k >= 0)
                    w->hit = (lookup_hit){ .kind = LOOKUP_ARGUMENT, .start = c->start, .end = name_end,
                                           .entry = entry, .hp = hp, .arg = k };
                return;
            }
            if (is_hp && c->a && c->text && !strcmp(c->text, "name") && covers(c->a->start, c->a->end, w->at)) {
                if (hp) hit_hp(w, n, hp, c->a->start, c->a->end);
                return;
            }
            visit(w, c->a, entry && k >= 0 ? kind_of_type(entry->args[k].type) : -1);
            continue;
        }
        if (is_hp && position == 0 && covers(c->start, c->end, w->at)) {
            if (hp) hit_hp(w, n, hp, c->start, c->end);
            return;
        }
        visit(w, c, entry && position < entry->n_args ? kind_of_type(entry->args[position].type) : -1);
        position++;
    }
    if (n->b) visit(w, n->b, ST_LAYER);
}

static void visit_name(walk *w, const ast *n, int expect)
{
    for (int k = w->n_loops - 1; k >= 0; k--)
        if (w->loops[k]->text && !strcmp(w->loops[k]->text, n->text)) {
            uint32_t start, end;
            loop_var_range(w->s, w->loops[k], &start, &end);
            w->hit = (lookup_hit){ .kind = LOOKUP_LOOP_VAR, .start = n->start, .end = n->end, .defined = 1,
                                   .def_start = start, .def_end = end };
            snprintf(w->hit.name, sizeof w->hit.name, "%s", n->text);
            return;
        }
    const ast *c = find_constant(w->s, n->text);
    if (c) {
        w->hit = (lookup_hit){ .kind = LOOKUP_CONSTANT, .start = n->start, .end = n->end, .defined = 1,
                               .def_start = c->start, .def_end = c->start + (uint32_t)strlen(c->text) };
        snprintf(w->hit.name, sizeof w->hit.name, "%s", n->text);
        if (c->a) w->hit.value_text = w->s->src + c->a->start, w->hit.value_len = c->a->end - c->a->start;
        return;
    }
    const st_entry *e = find_entry(expect, n->text);
    if (e) w->hit = (lookup_hit){ .kind = LOOKUP_ENTRY, .start = n->start, .end = n->end, .entry = e };
}

static void visit(walk *w, const ast *n, int expect)
{
    if (!n || w->hit.kind != LOOKUP_NOTHING) return;
    /* A call's block lies after its range (the range is the header's). */
    if (n->kind == AST_CALL && n->b && !covers(n->start, n->end, w->at)) {
        if (covers(n->b->start, n->b->end, w->at)) visit(w, n->b, ST_LAYER);
        return;
    }
    if (n->kind != AST_PROGRAM && !covers(n->start, n->end, w->at)) return;
    switch (n->kind) {
    case AST_PROGRAM: visit_list(w, n->first, EXPECT_STATEMENT); return;
    case AST_MODEL: case AST_BLOCK: visit_list(w, n->first, ST_LAYER); return;
    case AST_CALL: visit_call(w, n, expect == EXPECT_STATEMENT ? -1 : expect); return;
    case AST_NAME: visit_name(w, n, expect); return;
    case AST_ATTR: {
        char path[128];
        const st_entry *e = path_text(n, path, sizeof path) ? find_entry(expect, path) : NULL;
        if (e) w->hit = (lookup_hit){ .kind = LOOKUP_ENTRY, .start = n->start, .end = n->end, .entry = e };
        return;
    }
    case AST_STRING: {
        const st_entry *e = expect >= 0 && n->text ? st_find(expect, n->text) : NULL;
        if (!e && expect == ST_OBJECTIVE && n->text) e = st_find(ST_METRIC, n->text);
        if (e) w->hit = (lookup_hit){ .kind = LOOKUP_ENTRY, .start = n->start, .end = n->end, .entry = e };
        return;
    }
    case AST_ASSIGN: {
        uint32_t name_end = n->start + (uint32_t)strlen(n->text ? n->text : "");
        int setting = n->text && (!strcmp(n->text, "data") || !strcmp(n->text, "tuner"));
        if (covers(n->start, name_end, w->at)) {
            if (!setting && n->text && find_constant(w->s, n->text) == n) {
                w->hit = (lookup_hit){ .kind = LOOKUP_CONSTANT, .start = n->start, .end = name_end, .defined = 1,
                                       .def_start = n->start, .def_end = name_end };
                snprintf(w->hit.name, sizeof w->hit.name, "%s", n->text);
                if (n->a) w->hit.value_text = w->s->src + n->a->start, w->hit.value_len = n->a->end - n->a->start;
            }
            return;
        }
        visit(w, n->a, !setting ? -1 : !strcmp(n->text, "data") ? ST_DATA : ST_TUNER);
        return;
    }
    case AST_FOR: {
        uint32_t start, end;
        loop_var_range(w->s, n, &start, &end);
        if (covers(start, end, w->at)) {
            w->hit = (lookup_hit){ .kind = LOOKUP_LOOP_VAR, .start = start, .end = end, .defined = 1,
                                   .def_start = start, .def_end = end };
            snprintf(w->hit.name, sizeof w->hit.name, "%s", n->text ? n->text : "");
            return;
        }
        visit(w, n->a, -1);
        if (w->n_loops < MAX_LOOPS) {
            w->loops[w->n_loops++] = n;
            visit(w, n->b, ST_LAYER);
            w->n_loops--;
        }
        return;
    }
    case AST_IF:
        visit(w, n->a, -1);
        visit(w, n->first, ST_LAYER);
        visit(w, n->b, ST_LAYER);
        return;
    case AST_LIST: case AST_TUPLE: visit_list(w, n->first, expect); return;
    case AST_UNARY: case AST_BINARY:
        visit(w, n->a, -1);
        visit(w, n->b, -1);
        return;
    default: return;
    }
}

lookup_hit lookup_at(const lookup_spec *s, uint32_t offset)
{
    walk w = { .s = s, .at = offset };
    if (s && s->root) visit(&w, s->root, EXPECT_STATEMENT);
    return w.hit;
}

void lookup_constants(const lookup_spec *s, void (*fn)(void *user, const char *name, uint32_t start, uint32_t end),
                      void *user)
{
    for (const ast *c = s && s->root ? s->root->first : NULL; c; c = c->next)
        if (c->kind == AST_ASSIGN && find_constant(s, c->text) == c) fn(user, c->text, c->start, c->end);
}

/* ---- lookup_complete ------------------------------------------------------ */

enum { MAX_FRAMES = 256 };

/* An open bracket and what it belongs to. */
typedef struct frame {
    char open;                  /* '(', '[' or '{' */
    uint32_t callee, callee_end; /* the word before it (callee_end = callee: none) */
    int position;               /* '(': positional arguments before the current one */
    uint32_t kw, kw_end;        /* '(': the current argument's `name =` (kw_end = kw: none) */
    int tokens;                 /* tokens of the current argument so far */
} frame;

static int word_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }

typedef struct scan {
    frame frames[MAX_FRAMES];
    int depth;                  /* frames open (past MAX_FRAMES: counted, not kept) */
    uint32_t word, word_end;    /* the last word, when it is the last token */
    int last_was_word;
    uint32_t target, target_end;    /* top level: `name =` of this statement */
    int line_tokens;            /* top level: tokens since the statement began */
    int in_string, in_comment;
} scan;

static frame *top(scan *sc) { return sc->depth > 0 && sc->depth <= MAX_FRAMES ? &sc->frames[sc->depth - 1] : NULL; }

static void token(scan *sc)
{
    frame *f = top(sc);
    if (f) f->tokens++;
    if (sc->depth == 0) sc->line_tokens++;
}

/* Scan src[0, end): the state at end. */
static void scan_to(scan *sc, const char *src, uint32_t end)
{
    memset(sc, 0, sizeof *sc);
    for (uint32_t i = 0; i < end;) {
        char c = src[i];
        if (c == '#') {
            while (i < end && src[i] != '\n') i++;
            if (i == end) sc->in_comment = 1;
            continue;
        }
        if (c == '"' || c == '\'') {
            uint32_t j = i + 1;
            while (j < end && src[j] != c && src[j] != '\n') j += src[j] == '\\' ? 2 : 1;
            if (j >= end) {
                sc->in_string = 1;
                return;
            }
            token(sc);
            sc->last_was_word = 0;
            i = j + 1;
            continue;
        }
        if (word_char(c)) {
            uint32_t j = i;
            while (j < end && (word_char(src[j]) || src[j] == '.')) j++;
            token(sc);
            sc->word = i, sc->word_end = j, sc->last_was_word = 1;
            i = j;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r') {
            i++;
            continue;
        }
        int was_word = sc->last_was_word;
        sc->last_was_word = 0;
        i++;
        if (c == '\n') {
            if (sc->depth == 0) sc->line_tokens = 0, sc->target = sc->target_end = 0;
            sc->last_was_word = 0;
            continue;
        }
        if (c == '(' || c == '[' || c == '{') {
            token(sc);
            if (sc->depth < MAX_FRAMES)
                sc->frames[sc->depth] = (frame){ .open = c, .callee = was_word ? sc->word : 0,
                                                 .callee_end = was_word ? sc->word_end : 0 };
            sc->depth++;
            continue;
        }
        if (c == ')' || c == ']' || c == '}') {
            if (sc->depth > 0) sc->depth--;
            if (c == '}' && sc->depth == 0) sc->line_tokens = 0, sc->target = sc->target_end = 0;
            continue;
        }
        frame *f = top(sc);
        int compare = i < end && src[i] == '=';
        if (c == '=' && !compare && was_word) {
            if (f && f->open == '(') f->kw = sc->word, f->kw_end = sc->word_end, f->tokens = 0;
            else if (sc->depth == 0) sc->target = sc->word, sc->target_end = sc->word_end;
            continue;
        }
        if (c == ',' && f && f->open == '(') {
            if (f->kw_end == f->kw) f->position++;
            f->kw = f->kw_end = 0, f->tokens = 0;
            continue;
        }
        if (compare || c == '!' || c == '<' || c == '>') i += compare;
        token(sc);
    }
}

static int word_is(const char *src, uint32_t start, uint32_t end, const char *w)
{
    return end - start == strlen(w) && !memcmp(src + start, w, end - start);
}

lookup_completion lookup_complete(const char *src, size_t len, uint32_t offset)
{
    if (offset > len) offset = (uint32_t)len;
    uint32_t start = offset;
    while (start > 0 && (word_char(src[start - 1]) || src[start - 1] == '.')) start--;
    lookup_completion r = { .what = COMPLETE_STATEMENT, .word_start = start, .kind = -1 };
    scan *sc = malloc(sizeof *sc);
    if (!sc) return r;
    scan_to(sc, src, start);
    /* After "hp." or "datasets.": the part after the last dot is the word. */
    const char *dot = memrchr(src + start, '.', offset - start);
    if (dot && !sc->in_string) {
        r.word_start = (uint32_t)(dot - src) + 1;
        r.what = word_is(src, start, r.word_start - 1, "hp")         ? COMPLETE_HP_KIND
                 : word_is(src, start, r.word_start - 1, "datasets") ? COMPLETE_DATASET
                                                                      : COMPLETE_NOTHING;
        free(sc);
        return r;
    }
    /* The call whose parentheses hold the offset, through lists and tuples. */
    int k = sc->depth < MAX_FRAMES ? sc->depth - 1 : -1;
    while (k >= 0 && sc->frames[k].open != '{' && !(sc->frames[k].open == '(' && sc->frames[k].callee_end > sc->frames[k].callee))
        k--;
    if (sc->in_comment) r.what = COMPLETE_NOTHING;
    else if (k >= 0 && sc->frames[k].open == '(') {
        frame *f = &sc->frames[k];
        char callee[128];
        snprintf(callee, sizeof callee, "%.*s", (int)(f->callee_end - f->callee), src + f->callee);
        r.what = sc->in_string ? COMPLETE_STRING : COMPLETE_VALUE;
        if (!strncmp(callee, "hp.", 3)) r.hp_call = st_find_hp(callee + 3);
        else r.call = st_find(-1, callee);
        r.argument_name = k == sc->depth - 1 && f->kw_end == f->kw && f->tokens == 0 && !sc->in_string;
        if (r.call) {
            char kw[64];
            snprintf(kw, sizeof kw, "%.*s", (int)(f->kw_end - f->kw), src + f->kw);
            int a = f->kw_end > f->kw ? st_arg_index(r.call, kw) : f->position < r.call->n_args ? f->position : -1;
            if (a >= 0) r.arg = &r.call->args[a], r.kind = kind_of_type(r.arg->type);
        }
    } else if (sc->in_string) {
        r.what = COMPLETE_NOTHING;
    } else if (sc->depth > 0) {
        r.what = COMPLETE_LAYER;
    } else if (sc->target_end > sc->target) {
        r.what = COMPLETE_VALUE;
        r.kind = word_is(src, sc->target, sc->target_end, "data") ? ST_DATA
                 : word_is(src, sc->target, sc->target_end, "tuner") ? ST_TUNER : -1;
    } else if (sc->line_tokens > 0) {
        r.what = COMPLETE_VALUE;
    }
    free(sc);
    return r;
}
