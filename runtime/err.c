/* err.c: the one formatter behind hpt_error (see err.h). */
#include "runtime/err.h"

#include <stdarg.h>
#include <stdio.h>

int hpt_fail(hpt_error *e, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof e->message, fmt, ap);
        va_end(ap);
    }
    return -1;
}
