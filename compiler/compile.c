/* compile.c: parse -> sema -> shapes, the order every command uses.
 * The program, its AST and its copy of the source share one arena. */
#include "compiler/compile.h"
#include "compiler/parse.h"
#include "compiler/sema.h"
#include "compiler/shapes.h"

#include <string.h>

compile_result compile_spec(const char *file, const char *src, size_t len, FILE *diag_out)
{
    compile_result r = { 0 };
    if (len > COMPILE_MAX_SPEC_BYTES) {
        diag_ctx d = { .file = file, .out = diag_out };
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
    diag_ctx d = { .file = file, .src = copy, .len = len, .out = diag_out };
    parse_ctx pc;
    parse_spec(&pc, &a, &d, copy, len);
    parse_ctx_free(&pc);
    p->arena = a;   /* sema allocates through p->arena from here on */
    sema_lower(p, pc.root, &d);   /* after syntax errors too: it reports what it can */
    if (d.errors == 0) shapes_check(p, &d);
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
