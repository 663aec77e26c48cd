/* ir.h: the IR — the only contract between the compiler and the runtime.
 *
 * A checked spec lowers to an ir_program: the search space (hyperparameters
 * with their conditions), a graph template (a flat list of layers, each with
 * an optional guard), and the data, compile, search and tuner calls.  Every
 * argument of every call is present (defaults filled in by the compiler) as an
 * expression over constants and hyperparameters; `for` loops are unrolled and
 * `if`s became guards, so expanding a trial is: evaluate each guard and each
 * argument under one assignment.  Nothing here points into the AST; all memory
 * belongs to the program's arena.  The text form is documented in docs/ir.md. */
#ifndef HPTC_IR_H
#define HPTC_IR_H
#include <stdint.h>
#include <stdio.h>
#include "compiler/arena.h"
#include "stdlib/catalogue.h"
#include "stdlib/value.h"

#define IR_VERSION 2      /* 2: layers name their inputs (graphs) */

/* A byte range of the spec, for messages at run time ("layer dense_2 (line 9)"). */
typedef struct ir_span { uint32_t start, end; } ir_span;

typedef enum {
    X_CONST, X_HP, X_LIST, X_OBJECT,
    X_NEG, X_NOT,
    X_ADD, X_SUB, X_MUL, X_DIV, X_FLOORDIV, X_MOD, X_POW,
    X_EQ, X_NE, X_LT, X_LE, X_GT, X_GE, X_AND, X_OR,
} ir_xop;

typedef struct ir_expr ir_expr;
struct ir_expr {
    ir_xop op;
    bool tuple;                 /* X_LIST written as (a, b) */
    hpt_value value;            /* X_CONST */
    int hp;                     /* X_HP: index into program->hps */
    ir_expr *a, *b;             /* operands */
    ir_expr **items;            /* X_LIST items; X_OBJECT arguments (entry->n_args) */
    int n_items;
    const st_entry *entry;      /* X_OBJECT */
};

typedef enum { HP_INT, HP_FLOAT, HP_CHOICE, HP_BOOLEAN, HP_FIXED } ir_hp_kind;
typedef enum { SAMPLING_LINEAR, SAMPLING_LOG, SAMPLING_REVERSE_LOG } ir_sampling;

typedef struct ir_hp {
    const char *name;
    ir_hp_kind kind;
    hpt_value min, max, step;   /* HP_INT / HP_FLOAT; step V_NONE when not given */
    ir_sampling sampling;
    hpt_value *values;          /* HP_CHOICE: the values; HP_FIXED: one value */
    int n_values;
    bool ordered;               /* HP_CHOICE */
    hpt_value default_value;
    ir_expr *condition;         /* active only when true; NULL = always active */
    ir_span span;               /* first definition */
} ir_hp;

/* One use of a catalogue entry: a layer, or the data/compile/search/tuner call. */
typedef struct ir_call {
    const st_entry *entry;
    ir_expr **args;             /* entry->n_args, never NULL: defaults filled in */
    ir_expr *guard;             /* layers: present only when true; NULL = always */
    const char *name;           /* layers: Keras-style unique name, "dense_1" */
    /* Layers: the indices in `layers` of the layers whose outputs this one
     * reads, in order, each before it: one for a layer in a stack (the layer
     * before it in its branch), two or more for a merge layer (Add,
     * Concatenate: its branches' last layers; Residual: its input, then its
     * body's last layer), none for the Input.  A layer absent from a trial
     * (its guard false) passes its first input through: whoever reads it
     * reads what it would have read. */
    const int *inputs;
    int n_inputs;
    ir_span span;
} ir_call;

typedef struct ir_program {
    int version;
    const char *file;           /* as given on the command line */
    const char *source;         /* the spec's text, kept for the store and messages */
    size_t source_len;
    uint64_t spec_hash;         /* FNV-1a 64 of the source text */
    ir_hp *hps;
    int n_hps;
    ir_call *layers;            /* in order; layers[0] is the Input */
    int n_layers;
    ir_call data, compile, search, tuner;
    arena arena;                /* owns everything above */
} ir_program;

/* An assignment: one value per hyperparameter, in program->hps order.
 * Inactive hyperparameters hold V_NONE. */
typedef struct ir_assignment {
    hpt_value *values;
    int n;
} ir_assignment;

/* Evaluate e under an assignment.  Lists and objects are built in `scratch`.
 * Returns -1 with a sentence in why on a type error or division by zero. */
int ir_eval(const ir_program *p, const ir_expr *e, const ir_assignment *a, arena *scratch,
            hpt_value *out, char *why, size_t why_len);
/* Evaluate a guard or condition: NULL is true; errors count as false. */
bool ir_holds(const ir_program *p, const ir_expr *cond, const ir_assignment *a);
/* Evaluate every argument of a call. */
int ir_eval_call(const ir_program *p, const ir_call *c, const ir_assignment *a, arena *scratch,
                 hpt_value *args_out, char *why, size_t why_len);

/* The default assignment (every active hyperparameter at its default), filling
 * values[] in place; inactive ones become V_NONE.  values has n_hps slots. */
void ir_default_assignment(const ir_program *p, hpt_value *values);
/* Clear the hyperparameters that are inactive under the rest of the assignment
 * (conditions are evaluated in definition order, parents first). */
void ir_deactivate(const ir_program *p, hpt_value *values);
/* Index of a hyperparameter by name, or -1. */
int ir_find_hp(const ir_program *p, const char *name);
/* Parse the value text of a --set units=256 for hyperparameter `hp`: True or
 * False, a number, or a string bare (relu) or quoted as the spec and
 * `hptc best` write it ("relu"; quoted, "64" stays a string). */
int ir_parse_hp_value(const ir_program *p, int hp, const char *text, hpt_value *out, char *why, size_t why_len);
/* v in the hyperparameter's own spelling: an int given to a Float becomes a
 * float, a value equal to one of a Choice's (or Fixed's) becomes that value.
 * Returns whether the hyperparameter can take it (ir_hp_admits). */
bool ir_hp_coerce(const ir_hp *h, hpt_value *v);
/* Is v one of the values the hyperparameter can take (range, step, choices)? */
bool ir_hp_admits(const ir_hp *h, hpt_value v);
/* The hyperparameter's finite list of values (grid order); -1 when it is a
 * continuous Float without step (then n_out = 0).  Fills up to cap values.
 * The count saturates at LONG_MAX (an hp.Int over all of int64 has 2^64 - 1
 * values); ir_hp_count gives it as a double, unsaturated. */
long ir_hp_cardinality(const ir_hp *h);
double ir_hp_count(const ir_hp *h);
int ir_hp_values(const ir_hp *h, hpt_value *out, int cap);
/* The k-th of those values (0 <= k < cardinality), without listing the others.
 * Exact for any int64 bounds and step: never outside [min, max], always on the
 * step grid. */
hpt_value ir_hp_value_at(const ir_hp *h, long k);
/* The largest value (max, unless the step skips it). */
hpt_value ir_hp_last(const ir_hp *h);
/* Where a dimension too large to try in full is tried: its smallest and
 * largest values (an Int, a Float, a numeric Choice: range and shape rules
 * are monotone in sizes, so they break there first), or a Choice's first and
 * last. */
void ir_hp_ends(const ir_hp *h, hpt_value ends[2]);
/* For samplers: the value at fraction f in [0, 1) of a finite list (the
 * floor(f * count)-th, count unsaturated), and the value nearest v with its
 * index (as a double).  Both stay in range and on the grid. */
hpt_value ir_hp_value_at_fraction(const ir_hp *h, double f);
hpt_value ir_hp_nearest(const ir_hp *h, hpt_value v, double *index);

/* Line (1-based) of a byte offset, for messages at run time. */
int ir_line_of(const ir_program *p, uint32_t offset);
/* The stable text form (docs/ir.md). */
void ir_print(const ir_program *p, FILE *out);
void ir_print_expr(const ir_program *p, const ir_expr *e, FILE *out);
void ir_free(ir_program *p);
uint64_t ir_hash_bytes(const void *data, size_t n);

#endif
