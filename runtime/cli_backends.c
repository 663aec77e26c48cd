/* cli_backends.c: which optional backends this build has, for --version. */
#include "runtime/cli.h"

void cli_print_extra_backends(FILE *out)
{
#ifdef HPTC_JIT
    fprintf(out, ", jit [LLVM]");
#else
    (void)out;
#endif
}
