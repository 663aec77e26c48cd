/* compile.c: parse -> sema -> shapes, the order every command uses.
 * The program, its AST and its copy of the source share one arena; sema
 * hands shapes what the IR does not hold (the data's facts) in a
 * shapes_context. */
#include "compiler/compile.h"
#include "compiler/cost.h"
#include "compiler/parse.h"
#include "compiler/sema.h"
#include "compiler/shapes.h"

#include <string.h>

compile_result compile_spec(const char *file, const char *src, size_t len, FILE *diag_out)
{
    return compile_spec_with(file, src, len, diag_out, NULL);
}

compile_result compile_spec_with(const char *file, const char *src, size_t len, FILE *diag_out,
                                 const compile_options *options)
{
    compile_result r = { 0 };
    if (len > COMPILE_MAX_SPEC_BYTES) {
        diag_ctx d = { .file = file, .out = diag_out, .sink = options ? options->sink : NULL,
                       .sink_user = options ? options->sink_user : NULL };
        diag_error(&d, DIAG_NOWHERE, DIAG_NOWHERE, "the spec is %.1f MiB, more than the %u MiB a spec may be",
                   (double)len / (1 << 20), COMPILE_MAX_SPEC_BYTES >> 20);
        diag_hint(&d, "a spec describes a search; tables of values belong in data files, read by csv(...) or npy(...)");
        r.errors = d.errors;
        return r;
    }
    arena a = { 0 };
    ir_program *p = ARENA_NEW(&a, ir_program);
    char *copy = arena_strndup(&a, src, len);
    if (!p || !copy) {
        arena_free(&a);
        r.errors = 1;
        if (diag_out) fprintf(diag_out, "%s: error: out of memory\n", file);
        return r;
    }
    p->version = IR_VERSION;
    p->file = arena_strdup(&a, file);
    p->source = copy;
    p->source_len = len;
    p->spec_hash = ir_hash_bytes(src, len);
    diag_ctx d = { .file = file, .src = copy, .len = len, .out = diag_out,
                   .sink = options ? options->sink : NULL, .sink_user = options ? options->sink_user : NULL };
    parse_ctx pc;
    int syntax_errors = parse_spec(&pc, &a, &d, copy, len);
    parse_ctx_free(&pc);
    p->arena = a;   /* sema allocates through p->arena from here on */
    shapes_context next = { .memory_bytes = options ? options->memory_bytes : 0 };
    sema_lower(p, pc.root, &d, options, &next);   /* after syntax errors too: it reports what it can */
    /* Shapes are checked after sema's errors too (they are independent: a
     * missing metric and a missing Flatten are reported in one run), but not
     * after a syntax error, which leaves the model with holes no one wrote. */
    if (syntax_errors == 0 && !diag_stopped(&d)) shapes_check(p, &d, &next);
    if (d.errors == 0) cost_check_limits(p, &d, next.limit_at);     /* the tuner's max_model_size, ... */
    r.errors = d.errors;
    r.warnings = d.warnings;
    diag_free(&d);
    if (d.errors) {
        ir_free(p);
        return r;
    }
    r.program = p;
    return r;
}
