/* sema.h: names, types, hyperparameters and lowering — AST to IR.
 *
 * One pass over the AST resolves every name against the stdlib catalogue,
 * binds positional and keyword arguments, registers hyperparameters (same
 * name and definition = the same hyperparameter), unrolls `for` loops, turns
 * `if`s into guards, records each hyperparameter's condition, and fills in
 * every default.  Argument types and ranges are checked over every value the
 * hyperparameters they depend on can take.  Shapes are checked afterwards
 * over the whole space by compiler/shapes.c. */
#ifndef HPTC_SEMA_H
#define HPTC_SEMA_H
#include "compiler/ast.h"
#include "compiler/diag.h"
#include "compiler/ir.h"

/* Lower root into p (whose arena, file and source are already set).
 * Errors and warnings go to d; returns the number of errors. */
int sema_lower(ir_program *p, const ast *root, diag_ctx *d);

/* Enumerate assignments of the hyperparameters hps[0..n) over their grid values
 * (continuous ones by their two ends), at most `cap` of them, calling fn on
 * each until it returns non-zero.  Other slots of values[] are left as they are.
 * Returns 1 when the enumeration was complete, 0 when capped or cornered. */
int sema_enumerate(const ir_program *p, const int *hps, int n, hpt_value *values, long cap,
                   int (*fn)(void *, hpt_value *), void *user);
/* Collect the hyperparameters e depends on into set[] (a flag per hp). */
void sema_collect_hps(const ir_expr *e, char *set);

#endif
