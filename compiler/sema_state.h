/* sema_state.h: the state of one sema pass and what the files of sema
 * share (not a public header: only compiler/sema*.c include it; the API is
 * compiler/sema.h).
 *
 * sema is split by what it does, each file one job of the one pass, each
 * calling only the files listed above it (no file calls back up):
 *   sema_state.c   the name tables (hyperparameters, constants), small walks
 *                  over IR expressions
 *   sema_values.c  a value against a catalogue argument, over the space: the
 *                  enumeration of assignments and one check per argument type
 *   sema_hp.c      hp.Int/Float/Choice/Boolean/Fixed from their bound values:
 *                  validated, registered; the guards under which each is used
 *   sema_expr.c    expressions: literals, names, f-strings, operators folded,
 *                  calls bound to catalogue entries (hp.* calls too), data probed
 *   sema_stmt.c    the statements outside the model: compile, search, data,
 *                  tuner, constants
 *   sema_model.c   the model block: layers (named as Keras names them), for
 *                  loops unrolled, ifs turned into guards, merge blocks
 *                  (Add, Concatenate, Residual) lowered to each layer's inputs
 *   sema.c         the driver (sema_lower), the checks at the end, handing on
 * The invariants they keep together are in sema.c's opening comment. */
#ifndef HPTC_SEMA_STATE_H
#define HPTC_SEMA_STATE_H
#include "compiler/sema.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct constant {
    const char *name;
    ir_expr *value;             /* NULL when its definition had errors */
    const ast *node;
    int used;
} constant;

/* Names to indices, by open addressing over FNV-1a: a slot holds the name's
 * hash (high 32 bits) and its index + 1 (low 32; 0 is empty), so a probe
 * compares strings only when the hashes agree; cap is a power of 2, at least
 * twice the entries.  One for the hyperparameters, one for the constants, so
 * a name costs O(1) however many there are. */
typedef struct name_table {
    uint64_t *slots;
    int cap;
} name_table;

typedef struct loopvar {
    const char *name;
    int64_t value;
    struct loopvar *outer;
} loopvar;

typedef struct hp_info {
    const ast *def;             /* the hp.X(...) call that first defined it */
    ir_expr *condition;         /* disjunction of the guards seen so far */
    bool always;                /* referenced at least once unguarded */
    int terms;                  /* guards in condition */
} hp_info;

typedef struct sema {
    ir_program *p;
    diag_ctx *d;
    arena *a;
    constant *consts;           /* in definition order */
    int n_consts, cap_consts;
    name_table const_names;
    loopvar *loops;
    ir_hp *hps;
    hp_info *info;
    hpt_value *values;          /* cap_hps slots, all None between uses: the scratch assignment */
    name_table hp_names;
    int n_hps, cap_hps;
    ir_call *layers;
    int n_layers, cap_layers;
    int real_layers;            /* layers that are not broken (add_broken) */
    int current;                /* the layer the next one reads (its branch's last), -1: none yet */
    int in_merge;               /* inside a merge's block (a branch, a Residual's body): how deep */
    int layer_counts[ST_COUNT];
    ir_expr *guard;
    const ast *model, *data, *compile, *search, *tuner;
    const ast *search_args[search_nargs];   /* where each search() argument was written */
    long unrolled;              /* layers produced by unrolling, to stop runaway specs */
    long iterations;            /* loop iterations unrolled, likewise */
    bool no_input;              /* the first layer had no input shape (reported) */
    bool network;               /* some layer is more than Input, Flatten or an estimator: compile(...) is needed */
    const ast *estimator;       /* the first estimator of the model, for messages */
    bool defining;              /* lowering a constant: its hps are not used yet */
    int syntax_errors;
    const compile_options *options;
    shapes_context *next;       /* what the checks after sema need */
    /* The facts of each data call, by its arguments' array (a constant data
     * call used twice is one call, probed once). */
    struct probed { ir_expr **args; probe_facts facts; } probed[4];
    int n_probed;
    bool search_broken;         /* search(...) had errors: its settings are not known */
    bool compile_missing_said;  /* "the spec has no compile(...)" was reported */
} sema;

enum { ENUM_CAP = 4096, MAX_UNROLLED = 20000, MAX_LOOP = 1000 };

/* ---- building IR expressions in the program's arena ---------------------- */

static inline ir_expr *new_expr(sema *s, ir_xop op)
{
    ir_expr *e = ARENA_NEW(s->a, ir_expr);
    if (e) e->op = op;
    return e;
}

static inline ir_expr *const_expr(sema *s, hpt_value v)
{
    ir_expr *e = new_expr(s, X_CONST);
    if (e) e->value = v;
    return e;
}

static inline ir_expr *binary(sema *s, ir_xop op, ir_expr *x, ir_expr *y)
{
    ir_expr *e = new_expr(s, op);
    if (e) e->a = x, e->b = y;
    return e;
}

/* guard && c, where either may be NULL (= true). */
static inline ir_expr *conjoin(sema *s, ir_expr *g, ir_expr *c)
{
    if (!g) return c;
    if (!c) return g;
    return binary(s, X_AND, g, c);
}

static inline ir_expr *negate(sema *s, ir_expr *c)
{
    ir_expr *e = new_expr(s, X_NOT);
    if (e) e->a = c;
    return e;
}

/* ---- sema_state.c: names, IR walks --------------------------------------- */

/* The index of hyperparameter name, or -1. */
int sema_find_hp(sema *s, const char *name);
/* The constant name, or NULL. */
constant *sema_find_constant(sema *s, const char *name);
/* Is name a loop variable or a constant here? */
bool sema_bound_name(sema *s, const char *name);
/* Index entry k under name (the entry is about to hold it); false when out of memory. */
bool sema_table_add(sema *s, name_table *t, const char *name, int k);
/* The dotted name of a callee ("hp.Int", "datasets.fashion_mnist"), or NULL. */
const char *sema_path_text(sema *s, const ast *n);
/* A constant expression tree (X_CONST, or lists of them) as a value. */
bool sema_const_value(sema *s, const ir_expr *e, hpt_value *out);
/* Append the distinct hyperparameters e reads to list[0..*n), at most cap. */
void sema_collect(const ir_expr *e, int *list, int *n, int cap);
bool sema_depends_on_hp(const ir_expr *e);

/* ---- sema_values.c: values over the space --------------------------------- */

/* Enumerate assignments of the hyperparameters hps[0..n) over their grid values
 * (continuous ones by their two ends), at most `cap` of them, calling fn on
 * each until it returns non-zero.  Other slots of values[] are left as they are.
 * Returns 1 when the enumeration was complete, 0 when capped or cornered. */
int sema_enumerate(const ir_program *p, const int *hps, int n, hpt_value *values, long cap,
                   int (*fn)(void *, hpt_value *), void *user);
/* "'units' = 32, 'pool' = True" for the hyperparameters in hps[0..m), in definition order. */
void sema_describe_assignment(const ir_program *p, const int *hps, int m, const hpt_value *values, char *buf, size_t n);
/* A value as a message names it: the string "10", the float 2.5, True, a list. */
void sema_describe_value(hpt_value v, char *buf, size_t n);
/* Does s hold a control character (a newline or a tab made by an escape)? */
bool sema_has_control(const char *s);
/* Check e (the value given for entry's argument k) over its hyperparameters;
 * false when some value fails (reported). */
bool sema_check_arg(sema *s, const st_entry *entry, int k, const ir_expr *e, const ast *node);

/* ---- sema_hp.c: hyperparameters ------------------------------------------- */

/* The most arguments any hp.* call takes (sema_hp.c asserts it). */
enum { HP_MAX_ARGS = 6 };

/* One hp.* call as it is lowered: its kind's row, and each argument's
 * constant value (got) and where it was written (where; NULL = not given),
 * by the row's positions.  sema_expr.c binds it, sema_hp.c defines it. */
typedef struct hp_call {
    const ast *call;
    const st_hp *kind;
    hpt_value got[HP_MAX_ARGS];
    const ast *where[HP_MAX_ARGS];
} hp_call;

/* The kind called hp.func ("Int"), or NULL (reported at call, with the nearest kind). */
const st_hp *sema_hp_kind(sema *s, const ast *call, const char *func);
/* The hyperparameter a bound call defines, registered or found again: an
 * X_HP, or NULL (reported). */
ir_expr *sema_define_hp(sema *s, const hp_call *c);
/* Note every hyperparameter e reads as used under the current guard. */
void sema_use_hps(sema *s, const ir_expr *e);

/* ---- sema_expr.c: expressions and calls ----------------------------------- */

/* An expression lowered, constant-folded; NULL after an error (reported). */
ir_expr *sema_lower_expr(sema *s, const ast *n);
/* A call bound to entry's arguments, each checked over the space, defaults
 * filled in: an X_OBJECT, or NULL when some argument failed (reported).  The
 * arguments go to *args_out either way, where each was written to arg_nodes
 * (entry->n_args slots) when it is not NULL. */
ir_expr *sema_lower_call(sema *s, const ast *call, const st_entry *entry, ir_expr ***args_out, const ast **arg_nodes);
/* The probe's facts of the data call whose arguments are args, or NULL. */
const probe_facts *sema_facts_of(const sema *s, ir_expr *const *args);

/* ---- sema_stmt.c: statements outside the model ---------------------------- */

/* stmt: call -- compile(...) or search(...). */
void sema_lower_call_statement(sema *s, const ast *n);
/* stmt: NAME '=' expr -- data, tuner or a constant. */
void sema_lower_assignment(sema *s, const ast *n);

/* ---- sema_model.c: the model block ---------------------------------------- */

/* stmt: MODEL block -- once. */
void sema_lower_model(sema *s, const ast *n);
/* block: '{' items '}': each layer, for loop and if, under the current guard. */
void sema_lower_items(sema *s, const ast *block);

#endif
