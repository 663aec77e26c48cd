/* value.h: the values of the .hpt language, shared by compiler and runtime.
 *
 * A value is what a constant, an attribute or a hyperparameter evaluates to:
 * None, a bool, a 64-bit int, a double, a string, a list (tuples are lists
 * that print with parentheses) or an object (a catalogue entry applied to
 * arguments, e.g. Adam(learning_rate = 0.001)).  Values never own memory:
 * strings and items live in the arena of whoever built them. */
#ifndef HPTC_VALUE_H
#define HPTC_VALUE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { V_NONE, V_BOOL, V_INT, V_FLOAT, V_STRING, V_LIST, V_OBJECT } hpt_vtype;

struct st_entry;
typedef struct hpt_value hpt_value;
struct hpt_value {
    hpt_vtype type;
    bool tuple;                 /* V_LIST written as (a, b) */
    union {
        bool b;
        int64_t i;
        double f;
        const char *s;
        struct { const hpt_value *items; int n; } list;
        struct { const struct st_entry *entry; const hpt_value *args; } object; /* args: entry->n_args */
    } u;
};

static inline hpt_value value_none(void) { hpt_value v = { .type = V_NONE }; return v; }
static inline hpt_value value_bool(bool b) { hpt_value v = { .type = V_BOOL, .u.b = b }; return v; }
static inline hpt_value value_int(int64_t i) { hpt_value v = { .type = V_INT, .u.i = i }; return v; }
static inline hpt_value value_float(double f) { hpt_value v = { .type = V_FLOAT, .u.f = f }; return v; }
static inline hpt_value value_string(const char *s) { hpt_value v = { .type = V_STRING, .u.s = s }; return v; }

static inline bool value_is_number(hpt_value v) { return v.type == V_INT || v.type == V_FLOAT; }
/* Numeric view of an int, float or bool (bools are 0/1 as in Python). */
double value_as_double(hpt_value v);
/* Structural equality; 1 == 1.0 as in Python. */
bool value_equal(hpt_value a, hpt_value b);
/* Canonical text of a value, the one IR, `hptc space` and the store use:
 * floats in the shortest form that reads back exactly (%.17g trimmed). */
size_t value_format(char *buf, size_t n, hpt_value v);
/* The same text written to a stream, however long: its length, or
 * (size_t)-1 when memory for a long text is short. */
size_t value_fprint(FILE *out, hpt_value v);
const char *value_type_name(hpt_vtype t);

#endif
