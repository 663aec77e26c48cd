/* blas.c: make sure OpenBLAS runs the kernels this CPU deserves, set its
 * thread count, and put the FPU in flush-to-zero mode.
 *
 * OpenBLAS (DYNAMIC_ARCH) reads OPENBLAS_CORETYPE once, in its constructor,
 * so the only way to correct a bad detection from inside the program is to
 * set the variable and re-execute.  Invariants: the re-exec happens at most
 * once (the guard HPTC_BLAS_REEXEC is set before it, and a set
 * OPENBLAS_CORETYPE also stops it, so a user's explicit choice always wins);
 * the decision is never made on cpuid alone but also on xgetbv, because
 * forcing AVX-512 kernels on an OS that does not save ZMM state would crash;
 * a corename this file does not know is left alone rather than guessed at.
 * Everything here is x86-specific; elsewhere detection reports nothing and
 * nothing is changed.
 *
 * The OpenBLAS entry points are declared here rather than taken from
 * cblas.h, so this module does not depend on which OpenBLAS flavour's
 * include directory is on the path. */
#include "runtime/nn/blas.h"
#include "runtime/nn/onednn.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <xmmintrin.h>
#define BLAS_X86 1
#else
#define BLAS_X86 0
#endif

char *openblas_get_corename(void);
char *openblas_get_config(void);
void openblas_set_num_threads(int num_threads);

#define GUARD_VAR "HPTC_BLAS_REEXEC"

/* OpenBLAS 0.3.21 corenames by the widest vector ISA their sgemm uses.
 * Excavator has AVX2 and its own AMD-tuned kernels, so it counts as AVX2
 * class and is not overridden on AVX2-only CPUs. */
static const char *const core_avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
static const char *const core_avx2[] = {"Haswell", "Zen", "Excavator"};
static const char *const core_legacy[] = {
    "Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Atom",
    "Core2", "Penryn", "Dunnington", "Nehalem", "Athlon", "Opteron",
    "Opteron_SSE3", "Barcelona", "Nano", "Sandybridge", "Bobcat",
    "Bulldozer", "Piledriver", "Steamroller", "generic",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int in_table(const char *name, const char *const *table, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(name, table[i]) == 0) return 1;
    return 0;
}

/* 0 legacy, 1 AVX2 class, 2 AVX-512 class, -1 unknown. */
static int core_class(const char *name)
{
    if (in_table(name, core_avx512, COUNT(core_avx512))) return 2;
    if (in_table(name, core_avx2, COUNT(core_avx2))) return 1;
    if (in_table(name, core_legacy, COUNT(core_legacy))) return 0;
    return -1;
}

static int is_set(const char *v) { return v != NULL && v[0] != '\0'; }

const char *blas_pick_coretype(blas_cpu cpu, const char *detected,
                               const char *env_coretype, const char *env_guard)
{
    if (is_set(env_coretype) || is_set(env_guard) || detected == NULL) return NULL;
    int have = cpu.avx512 ? 2 : cpu.avx2 ? 1 : 0;
    int got = core_class(detected);
    if (got < 0 || got >= have) return NULL;
    return have == 2 ? "SkylakeX" : "Haswell";
}

#if BLAS_X86
static unsigned long long xgetbv0(void)
{
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}
#endif

blas_cpu blas_cpu_detect(void)
{
    blas_cpu c = {0, 0, 0, 0};
#if BLAS_X86
    unsigned a, b, cx, d;
    if (!__get_cpuid(1, &a, &b, &cx, &d)) return c;
    int fma = (cx >> 12) & 1, osxsave = (cx >> 27) & 1, avx = (cx >> 28) & 1;
    if (!osxsave || !avx) return c;
    unsigned long long xcr0 = xgetbv0();
    /* XCR0 bits 1,2: SSE and YMM state; 5,6,7: opmask, ZMM0-15 high, ZMM16-31. */
    int os_ymm = (xcr0 & 0x06) == 0x06;
    int os_zmm = (xcr0 & 0xe6) == 0xe6;
    if (__get_cpuid_max(0, NULL) < 7) return c;
    __cpuid_count(7, 0, a, b, cx, d); /* a: the highest subleaf of leaf 7 */
    int avx2 = (b >> 5) & 1;
    int f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    int amx_bf16 = (d >> 22) & 1, amx_tile = (d >> 24) & 1;
    c.avx2 = os_ymm && avx2 && fma;
    c.avx512 = c.avx2 && os_zmm && f && dq && bw && vl;
    /* XCR0 bits 17, 18: the tile configuration and tile data state. */
    c.amx_bf16 = c.avx512 && amx_tile && amx_bf16 && (xcr0 & 0x60000) == 0x60000;
    if (a >= 1) {
        __cpuid_count(7, 1, a, b, cx, d);
        c.avx512_bf16 = c.avx512 && ((a >> 5) & 1);
    }
#endif
    return c;
}

void blas_cpu_features(blas_cpu cpu, char *buf, size_t n)
{
    if (buf == NULL || n == 0) return;
    snprintf(buf, n, "%s%s%s%s", cpu.avx2 ? " avx2" : "", cpu.avx512 ? " avx512" : "",
             cpu.avx512_bf16 ? " avx512_bf16" : "", cpu.amx_bf16 ? " amx_bf16" : "");
    if (buf[0] == ' ') memmove(buf, buf + 1, strlen(buf));
    else snprintf(buf, n, "none");
}

const char *blas_core_name(void)
{
    const char *n = openblas_get_corename();
    return n ? n : "unknown";
}

int blas_fix_coretype(char **argv, hpt_error *e)
{
    const char *detected = blas_core_name();
    const char *want = blas_pick_coretype(blas_cpu_detect(), detected,
                                          getenv("OPENBLAS_CORETYPE"), getenv(GUARD_VAR));
    if (want == NULL) return 0;

    /* Resolve the link ourselves: under valgrind the exec'd path is what the
     * tool relaunches, and it reports the client's binary here. */
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) snprintf(self, sizeof self, "/proc/self/exe");
    else self[len] = '\0';

    char *fallback[2] = {self, NULL};
    if (argv == NULL || argv[0] == NULL) argv = fallback;
    if (setenv(GUARD_VAR, detected, 1) != 0 || setenv("OPENBLAS_CORETYPE", want, 1) != 0)
        return hpt_fail(e, "cannot set OPENBLAS_CORETYPE=%s: %s", want, strerror(errno));
    fflush(NULL);
    execv(self, argv);
    int err = errno;
    /* Undo, so blas_describe() does not claim a choice that never took effect. */
    unsetenv("OPENBLAS_CORETYPE");
    unsetenv(GUARD_VAR);
    return hpt_fail(e, "OpenBLAS detected this CPU as %s; re-running %s with "
                    "OPENBLAS_CORETYPE=%s failed: %s", detected, self, want, strerror(err));
}

void blas_describe(char *buf, size_t n)
{
    if (buf == NULL || n == 0) return;
    /* The config string starts "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ...". */
    const char *cfg = openblas_get_config();
    int vlen = 0;
    if (cfg != NULL) {
        const char *sp = strchr(cfg, ' ');
        sp = sp ? strchr(sp + 1, ' ') : NULL;
        vlen = sp ? (int)(sp - cfg) : (int)strlen(cfg);
    }
    const char *env = getenv("OPENBLAS_CORETYPE"), *guard = getenv(GUARD_VAR);
    const char *core = blas_core_name();
    if (is_set(env) && is_set(guard))
        snprintf(buf, n, "%.*s, kernel %s (OPENBLAS_CORETYPE set by hptc: library detected %s)",
                 vlen, cfg ? cfg : "", core, guard);
    else if (is_set(env))
        snprintf(buf, n, "%.*s, kernel %s (OPENBLAS_CORETYPE=%s from the environment)",
                 vlen, cfg ? cfg : "", core, env);
    else
        snprintf(buf, n, "%.*s, kernel %s (auto-detected)", vlen, cfg ? cfg : "", core);
}

void blas_set_threads(int n)
{
    openblas_set_num_threads(n < 1 ? 1 : n);
    onednn_set_threads(n);
}

void blas_flush_denormals(void)
{
#if BLAS_X86
    /* MXCSR bit 15 = FTZ (denormal results become 0), bit 6 = DAZ (denormal
     * inputs read as 0). */
    _mm_setcsr(_mm_getcsr() | 0x8040);
#endif
}
