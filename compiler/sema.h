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
#include "compiler/compile.h"
#include "compiler/diag.h"
#include "compiler/ir.h"
#include "compiler/shapes.h"

/* Lower root into p (whose arena, file and source are already set).
 * Errors and warnings go to d; returns the number of errors.  With a probe
 * in options (may be NULL), each data call is probed where it is written and
 * a failure reported at its argument; what the checks after sema need (the
 * data's facts, whether compile(...) was written) goes into *next.  After an
 * error a model item that could not be lowered leaves a layer with args
 * NULL in its place, so shapes_check stops there instead of reporting the
 * shapes of a model with a hole in it. */
int sema_lower(ir_program *p, const ast *root, diag_ctx *d, const compile_options *options, shapes_context *next);

#endif
