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

#endif
