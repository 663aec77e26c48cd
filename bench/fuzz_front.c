/* fuzz_front.c: libFuzzer harness over the front end (`make fuzz`).
 *
 * Each input is a spec of arbitrary bytes.  It is compiled with diagnostics
 * printed (to /dev/null, so the caret and UTF-8 echo code runs too); when it
 * compiles, everything downstream of the compiler that reads only the IR runs
 * as well: the IR printer, the space size and printer, and the default
 * trial's shapes.  Diagnostics also go to a sink as data (the language
 * server's path), and the language server's look-ups (compiler/lookup.h)
 * run at 17 offsets spread over the input.  With HPTC_FUZZ_FMT (set by bench/fuzz.mk once
 * compiler/fmt.c exists) the formatter runs on the same bytes, and with
 * HPTC_FUZZ_FMT_STRICT (FUZZ_FMT_STRICT=1) its output must be a fixed point
 * that compiles to the same IR as the input.
 * Sanitizers (ASan, UBSan, LeakSanitizer) turn any memory error, undefined
 * behaviour or leak into a crash; the harness itself checks only that a
 * clean compile reports no errors and a failed one reports at least one. */
#include "compiler/compile.h"
#include "compiler/lookup.h"
#include "compiler/shapes.h"
#include "compiler/space.h"
#ifdef HPTC_FUZZ_FMT
#include "compiler/fmt.h"
#endif

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static FILE *sink;

/* The language server's sink: every diagnostic as data, looked at. */
static void diagnostic(void *user, const char *level, uint32_t start, uint32_t end, const char *message)
{
    *(size_t *)user += strlen(level) + strlen(message) + (start != DIAG_NOWHERE && start > end);
}

#ifdef HPTC_FUZZ_FMT_STRICT
/* The IR of a spec without its ';' comments, or NULL when it does not compile. */
static char *ir_text(const char *src, size_t len)
{
    compile_result r = compile_spec("fuzz.hpt", src, len, NULL);
    if (!r.program) return NULL;
    char *text = NULL, *out;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);
    if (f) ir_print(r.program, f), fclose(f);
    ir_free(r.program);
    if (!text) return NULL;
    /* Drop every ';' comment outside strings (the IR escapes '"' inside them). */
    out = text;
    bool in_string = false, skip = false;
    for (char *p = text; *p; p++) {
        if (*p == '\n') skip = false;
        else if (skip) continue;
        else if (in_string && *p == '\\' && p[1]) { *out++ = *p++; }
        else if (*p == '"') in_string = !in_string;
        else if (*p == ';' && !in_string) { skip = true; continue; }
        *out++ = *p;
    }
    *out = 0;
    return text;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!sink) sink = fopen("/dev/null", "w");
    size_t seen = 0;
    compile_options o = { .sink = diagnostic, .sink_user = &seen };
    compile_result r = compile_spec_with("fuzz.hpt", (const char *)data, size, sink, &o);
    if (r.program ? r.errors != 0 : r.errors == 0) abort();
    if (r.errors && !seen) abort();     /* an error reached the printer but not the sink */
    lookup_spec *look = lookup_parse((const char *)data, size);
    for (int k = 0; k <= 16; k++) {
        uint32_t at = (uint32_t)(size * (size_t)k / 16);
        lookup_hit h = lookup_at(look, at);
        if (h.kind != LOOKUP_NOTHING && (h.start > h.end || h.end > size)) abort();
        lookup_completion c = lookup_complete((const char *)data, size, at);
        if (c.word_start > at) abort();
    }
    lookup_free(look);
    if (r.program) {
        ir_program *p = r.program;
        ir_print(p, sink);
        space_print(p, sink);
        hpt_value *values = calloc((size_t)p->n_hps + 1, sizeof *values);
        int (*shapes)[4] = calloc((size_t)p->n_layers + 1, sizeof *shapes);
        int *ranks = calloc((size_t)p->n_layers + 1, sizeof *ranks);
        char why[300];
        if (values && shapes && ranks) {
            ir_assignment a = { values, p->n_hps };
            ir_default_assignment(p, values);
            /* shapes_check passed over the space, so the default trial must fit */
            if (shapes_infer(p, &a, shapes, ranks, why, sizeof why)) abort();
        }
        free(values), free(shapes), free(ranks);
        ir_free(p);
    }
#ifdef HPTC_FUZZ_FMT
    fmt_result f = fmt_format("fuzz.hpt", (const char *)data, size, sink);
#ifdef HPTC_FUZZ_FMT_STRICT
    /* fmt's promises: idempotent, and the meaning kept (the same IR, once the
     * spec hash and line comments, which layout changes, are left out). */
    if (f.text) {
        fmt_result again = fmt_format("fuzz.hpt", f.text, f.len, NULL);
        if (!again.text || again.len != f.len || memcmp(again.text, f.text, f.len)) abort();
        free(again.text);
        char *a = ir_text((const char *)data, size), *b = ir_text(f.text, f.len);
        if ((a == NULL) != (b == NULL) || (a && strcmp(a, b))) abort();
        free(a), free(b);
    }
#endif
    free(f.text);
#endif
    return 0;
}
