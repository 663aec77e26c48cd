/* test_blas.c: the OpenBLAS kernel decision on fake CPUs, the live fix on
 * this machine, flush-to-zero, and sgemm against a naive product. */
#include <cblas.h>
#include <stdlib.h>
#include <string.h>
#include <xmmintrin.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "runtime/nn/blas.h"
#include "tests/unit/check.h"

static void test_pick(void)
{
    const blas_cpu none = {0}, avx2 = {.avx2 = 1}, avx512 = {.avx2 = 1, .avx512 = 1};
    static const struct {
        blas_cpu cpu;
        const char *detected, *env, *guard, *want;
    } cases[] = {
        {avx512, "Prescott", NULL, NULL, "SkylakeX"},
        {avx512, "Cooperlake", NULL, NULL, NULL},
        {avx512, "SkylakeX", NULL, NULL, NULL},
        {avx512, "SapphireRapids", NULL, NULL, NULL},
        {avx512, "Haswell", NULL, NULL, "SkylakeX"},
        {avx512, "Zen", NULL, NULL, "SkylakeX"},
        {avx512, "Sandybridge", NULL, NULL, "SkylakeX"},
        {avx2, "Haswell", NULL, NULL, NULL},
        {avx2, "Zen", NULL, NULL, NULL},
        {avx2, "Prescott", NULL, NULL, "Haswell"},
        {avx2, "Nehalem", NULL, NULL, "Haswell"},
        {avx2, "prescott", NULL, NULL, "Haswell"},
        {none, "Prescott", NULL, NULL, NULL},
        {none, "Sandybridge", NULL, NULL, NULL},
        {avx512, "Prescott", "Prescott", NULL, NULL},
        {avx512, "Prescott", "SkylakeX", NULL, NULL},
        {avx512, "Prescott", NULL, "Prescott", NULL},
        {avx512, "Prescott", "", NULL, "SkylakeX"},
        {avx512, "FutureLake", NULL, NULL, NULL},
        {avx512, NULL, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = blas_pick_coretype(cases[i].cpu, cases[i].detected,
                                             cases[i].env, cases[i].guard);
        const char *want = cases[i].want;
        CHECK((got == NULL && want == NULL) || (got && want && strcmp(got, want) == 0),
              "pick(avx2=%d avx512=%d, %s, env=%s, guard=%s) = %s, want %s",
              cases[i].cpu.avx2, cases[i].cpu.avx512,
              cases[i].detected ? cases[i].detected : "NULL",
              cases[i].env ? cases[i].env : "unset", cases[i].guard ? cases[i].guard : "unset",
              got ? got : "none", want ? want : "none");
    }
}

/* On this machine the fix either has nothing to do or re-executed this very
 * test with the better kernel; either way it returns 0 and, afterwards, the
 * decision says there is nothing more to do. */
static void test_live(char **argv)
{
    hpt_error e = {{0}};
    int rc = blas_fix_coretype(argv, &e);
    CHECK(rc == 0, "blas_fix_coretype returns 0 (%s)", rc ? e.message : "ok");
    blas_cpu cpu = blas_cpu_detect();
    CHECK(!cpu.avx512 || cpu.avx2, "AVX-512 detection implies AVX2");
    CHECK(blas_pick_coretype(cpu, blas_core_name(), getenv("OPENBLAS_CORETYPE"),
                             getenv("HPTC_BLAS_REEXEC")) == NULL,
          "no further fix needed for kernel %s", blas_core_name());
    char line[256];
    blas_describe(line, sizeof line);
    CHECK(strncmp(line, "OpenBLAS ", 9) == 0 && strstr(line, blas_core_name()) != NULL,
          "describe: %s", line);
    char tiny[8];
    blas_describe(tiny, sizeof tiny);
    CHECK(strlen(tiny) == 7, "describe truncates to the buffer");
}

/* Valgrind's CPU does not implement FTZ/DAZ (it computes denormals
 * regardless), so under it these checks are reported as skipped. */
static void test_flush(void)
{
    if (RUNNING_ON_VALGRIND) {
        printf("SKIP: FTZ/DAZ checks (valgrind does not emulate MXCSR modes)\n");
        return;
    }
    volatile float small = 1e-20f, denormal = 1e-40f, one = 1.0f;
    float before = small * small;
    CHECK(before > 0.0f, "without FTZ 1e-20*1e-20 is a denormal (%g)", (double)before);
    blas_flush_denormals();
    float product = small * small;
    float input = denormal * one;
    CHECK(product == 0.0f, "with FTZ 1e-20*1e-20 flushes to 0 (%g)", (double)product);
    CHECK(input == 0.0f, "with DAZ a denormal input reads as 0 (%g)", (double)input);
    CHECK((_mm_getcsr() & 0x8040) == 0x8040, "MXCSR has FTZ and DAZ set");
}

/* C (m,n) = A^T (m,k) * B (k,n) with A stored (k,m) and B stored (n,k)
 * transposed too: both transpose paths of the training step. */
static void test_sgemm(void)
{
    enum { M = 7, N = 9, K = 33 };
    float a[K * M], b[N * K], c[M * N], ref[M * N];
    for (int i = 0; i < K * M; i++) a[i] = (float)((i * 37) % 17 - 8) / 8.0f;
    for (int i = 0; i < N * K; i++) b[i] = (float)((i * 11) % 13 - 6) / 6.0f;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int p = 0; p < K; p++) s += (double)a[p * M + i] * b[j * K + p];
            ref[i * N + j] = (float)s + 0.5f; /* beta * C with C = 1 */
            c[i * N + j] = 1.0f;
        }
    blas_set_threads(1);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasTrans, M, N, K, 1.0f, a, M, b, K, 0.5f, c, N);
    double worst = 0;
    for (int i = 0; i < M * N; i++) {
        double d = fabs(c[i] - ref[i]) / fmax(1.0, fabs(ref[i]));
        if (d > worst) worst = d;
    }
    CHECK(worst < 1e-5, "sgemm (T,T, beta=0.5) matches naive, worst rel err %.2g", worst);
    CHECK_NEAR(c[0], ref[0], 1e-5, "sgemm c[0,0]");
}

int main(int argc, char **argv)
{
    (void)argc;
    test_live(argv);
    test_pick();
    test_flush();
    test_sgemm();
    return check_exit();
}
