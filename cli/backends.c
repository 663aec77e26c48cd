/* backends.c: which optional backends this build has, for --version. */
#include "cli/cli.h"
#include "runtime/nn/jit.h"

void cli_print_extra_backends(FILE *out)
{
    if (!jit_available()) return;
    char what[256];
    jit_describe(what, sizeof what);
    fprintf(out, ", jit [%s]", what);
}
