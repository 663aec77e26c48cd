/* lookup.h: what is at a byte offset of a spec, and what may be written
 * there — the questions an editor asks (the language server, cli/lsp.c).
 *
 * lookup_at names the innermost thing under an offset in the catalogue's
 * terms: a catalogue entry (the layer, optimizer, loss... called or named
 * in a string), a keyword argument of one, an hp.* call, a constant or a
 * loop variable, with where each is defined.  It reads the syntax tree, so
 * it works on a spec with errors as far as the tree holds.
 * lookup_complete reads the text up to the offset instead (what is being
 * typed seldom parses): the enclosing call and argument, the block, the
 * word begun.  Both are pure functions of the text. */
#ifndef HPTC_LOOKUP_H
#define HPTC_LOOKUP_H
#include <stddef.h>
#include <stdint.h>
#include "stdlib/catalogue.h"

typedef struct lookup_spec lookup_spec;     /* a parsed spec; opaque */

/* Parse src (len bytes; the text is copied).  NULL when out of memory or
 * longer than the compiler reads (COMPILE_MAX_SPEC_BYTES). */
lookup_spec *lookup_parse(const char *src, size_t len);
void lookup_free(lookup_spec *s);

typedef enum {
    LOOKUP_NOTHING,
    LOOKUP_ENTRY,       /* a catalogue name: Dense, Adam, "relu", datasets.fashion_mnist */
    LOOKUP_ARGUMENT,    /* a keyword argument's name: units in Dense(units = 64) */
    LOOKUP_HP,          /* an hp.* call: the offset on hp.Int, or on the hyperparameter's name */
    LOOKUP_CONSTANT,    /* a constant, where it is used or assigned */
    LOOKUP_LOOP_VAR,    /* a for loop's variable */
} lookup_kind;

typedef struct lookup_hit {
    lookup_kind kind;
    uint32_t start, end;        /* the word found */
    const st_entry *entry;      /* ENTRY; ARGUMENT: the entry called (NULL for an hp.* call's) */
    const st_hp *hp;            /* HP; ARGUMENT of an hp.* call */
    int arg;                    /* ARGUMENT: its index in entry->args or hp->args */
    uint32_t call_start, call_end;  /* HP: the call (as the IR's ir_hp.span of a first definition) */
    char name[128];             /* HP: the hyperparameter's name, "" when not a plain string;
                                   CONSTANT, LOOP_VAR: the name */
    int defined;                /* def_start, def_end are set: */
    uint32_t def_start, def_end;    /* HP: the first hp.* call of that name; CONSTANT: its name in
                                       its assignment; LOOP_VAR: its name after `for` */
    const char *value_text;     /* CONSTANT: the source of its value, value_len bytes */
    size_t value_len;
} lookup_hit;

lookup_hit lookup_at(const lookup_spec *s, uint32_t offset);

/* What may be written at an offset. */
typedef enum {
    COMPLETE_NOTHING,       /* in a comment, or a string no argument reads */
    COMPLETE_STATEMENT,     /* at the top level: data, model, compile, tuner, search, constants */
    COMPLETE_LAYER,         /* in a model block: layers, estimators, for, if, branch */
    COMPLETE_VALUE,         /* an argument's value (kind: the entries of that kind; -1 any) */
    COMPLETE_STRING,        /* inside a string that is an argument's value (choices, or names of kind) */
    COMPLETE_HP_KIND,       /* after "hp." */
    COMPLETE_DATASET,       /* after "datasets." */
} complete_kind;

typedef struct lookup_completion {
    complete_kind what;
    uint32_t word_start;        /* the word begun: text[word_start, offset) */
    const st_entry *call;       /* the call whose parentheses hold the offset, or NULL */
    const st_hp *hp_call;       /* ... when it is an hp.* call */
    int argument_name;          /* the offset may start a keyword argument of the call */
    const st_arg *arg;          /* the argument being written (by name, or by position), or NULL */
    int kind;                   /* VALUE, STRING: the st_kind of the entries expected, -1 any */
} lookup_completion;

lookup_completion lookup_complete(const char *src, size_t len, uint32_t offset);

/* The constants a spec assigns at the top level, in order: calls
 * fn(user, name, start, end) with the assignment's range. */
void lookup_constants(const lookup_spec *s, void (*fn)(void *user, const char *name, uint32_t start, uint32_t end),
                      void *user);

#endif
