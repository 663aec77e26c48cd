/* jit_compile.c: the JIT's compile time for the seed MLP's trial (units 512),
 * then for another shape in the same process (LLVM warm), then 512 again
 * (the cache).  bench/jit.sh runs it: jit_compile FILE.hpt. */
#include "compiler/compile.h"
#include "runtime/nn/jit.h"
#include "runtime/nn/trial.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv)
{
    FILE *f = fopen(argv[1], "rb");
    static char src[1 << 16];
    size_t n = f ? fread(src, 1, sizeof src - 1, f) : 0;
    if (f) fclose(f);
    compile_result r = compile_spec(argv[1], src, n, NULL);
    if (!r.program) return 1;
    hpt_value v[64];
    ir_default_assignment(r.program, v);
    v[ir_find_hp(r.program, "units")] = value_int(512);
    double ms[3];
    jit_stats s;
    for (int k = 0; k < 3; k++) {
        hpt_error e;
        /* 512, then another shape (a new compile, LLVM warm), then 512 again (the cache). */
        v[ir_find_hp(r.program, "units")] = value_int(k == 1 ? 256 : 512);
        trial *t = trial_expand(r.program, v, 32, 1, &e);
        if (!t || trial_set_backend(t, 1, &e)) return fprintf(stderr, "%s\n", e.message), 1;
        jit_get_stats(&s);
        ms[k] = s.last_lookup_ms;
        trial_free(t);
    }
    printf("jit_compile_ms_first %.2f jit_compile_ms_next_shape %.2f jit_compile_ms_cached %.4f (LLVM start-up once per process %.1f ms; %ld compile, %ld hit)\n",
           ms[0], ms[1], ms[2], s.startup_ms, s.compiles, s.hits);
    return 0;
}
