/* check.h: the assertions every unit test uses.
 *
 * Each check prints one line, "PASS: what" or "FAIL: what (file:line)", so
 * tests/run.sh can count them; a test binary exits non-zero when any failed.
 * CHECK_NEAR compares floats with a relative tolerance and prints both values
 * on failure, in the spirit of llm.c's per-tensor OK / NOT OK lines. */
#ifndef HPTC_CHECK_H
#define HPTC_CHECK_H
#include <math.h>
#include <stdio.h>

static int check_failed_count;

#define CHECK(cond, ...) check_report((cond) != 0, __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_NEAR(got, want, rel, ...)                                              \
    do {                                                                             \
        double got_ = (got), want_ = (want);                                         \
        double err_ = fabs(got_ - want_) / fmax(1e-12, fmax(fabs(got_), fabs(want_))); \
        if (fabs(got_ - want_) < 1e-30) err_ = 0;                                    \
        if (!check_report(err_ <= (rel), __FILE__, __LINE__, __VA_ARGS__))           \
            printf("      got %.9g want %.9g (rel err %.3g > %.3g)\n", got_, want_, err_, (double)(rel)); \
    } while (0)

#include <stdarg.h>
static int check_report(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf(ok ? "PASS: " : "FAIL: ");
    vprintf(fmt, ap);
    va_end(ap);
    if (!ok) {
        printf(" (%s:%d)", file, line);
        check_failed_count++;
    }
    printf("\n");
    fflush(stdout);
    return ok;
}

static inline int check_exit(void) { return check_failed_count ? 1 : 0; }

#endif
