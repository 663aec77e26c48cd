/* blas.h: OpenBLAS kernel choice, BLAS threads and the FPU mode for training.
 *
 * Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) picks its kernels when the library
 * is loaded, before main(), and misdetects some AVX-512 CPUs (Sapphire Rapids
 * class) as Prescott: sgemm then runs at ~30 GFLOP/s instead of 150-250.
 * blas_fix_coretype() checks the choice against what the CPU and OS support
 * and, when it is worse, re-executes the program with OPENBLAS_CORETYPE set. */
#ifndef HPTC_BLAS_H
#define HPTC_BLAS_H
#include <stddef.h>
#include "runtime/err.h"

/* What the CPU and the OS together support, as far as kernel choice goes:
 * avx2 = AVX2 + FMA with the YMM state enabled by the OS (xgetbv);
 * avx512 = AVX-512 F+BW+VL+DQ with the opmask/ZMM state enabled;
 * avx512_bf16 = avx512 + the bf16 dot product (vdpbf16ps: Zen 4, Cooper Lake,
 * Sapphire Rapids); amx_bf16 = AMX tiles with bf16 and the tile state
 * enabled in XCR0 (Sapphire Rapids).  mixed_bfloat16 needs one of the last two. */
typedef struct blas_cpu {
    int avx2;
    int avx512;
    int avx512_bf16;
    int amx_bf16;
} blas_cpu;

/* The features above that are present, space-separated ("avx2 avx512
 * avx512_bf16"), or "none".  Always NUL-terminates buf. */
void blas_cpu_features(blas_cpu cpu, char *buf, size_t n);

/* Read cpuid and xgetbv for the calling CPU. */
blas_cpu blas_cpu_detect(void);

/* The decision, pure so tests can feed it fake CPUs: the OPENBLAS_CORETYPE to
 * force ("SkylakeX" or "Haswell"), or NULL to leave OpenBLAS alone.  Returns
 * non-NULL only when `detected` (openblas_get_corename()) is a known pre-AVX2
 * name while the CPU has AVX2 or AVX-512, or a known AVX2-class name while it
 * has AVX-512; names it does not know are left alone.  `env_coretype` and
 * `env_guard` are the values of OPENBLAS_CORETYPE and HPTC_BLAS_REEXEC (NULL
 * when unset); either one being set means the user or an earlier re-exec has
 * already chosen, so the answer is NULL. */
const char *blas_pick_coretype(blas_cpu cpu, const char *detected,
                               const char *env_coretype, const char *env_guard);

/* Call first thing in main(), before any thread or output exists.  When
 * blas_pick_coretype() says so, sets OPENBLAS_CORETYPE and the guard
 * HPTC_BLAS_REEXEC (holding the name the library detected, for
 * blas_describe) and execv()s this same binary with argv; it does not return
 * then.  Returns 0 when nothing needed doing, -1 with e filled when the
 * re-exec failed (the caller warns and goes on with the slow kernels). */
int blas_fix_coretype(char **argv, hpt_error *e);

/* The kernel family OpenBLAS is running, e.g. "Cooperlake". */
const char *blas_core_name(void);

/* One line for `hptc --version`, e.g. "OpenBLAS 0.3.21, kernel Cooperlake
 * (auto-detected)" or "OpenBLAS 0.3.21, kernel SkylakeX (OPENBLAS_CORETYPE
 * set by hptc: library detected Prescott)".  Always NUL-terminates buf. */
void blas_describe(char *buf, size_t n);

/* Set how many threads OpenBLAS uses in this process (n >= 1).
 *
 * Policy: hptc runs parallel trials with ONE BLAS thread each, because the
 * GEMMs of a batch-32 step are too small to split across threads (PyTorch
 * is slower with 2 threads than with 1 on the seed MLP), and one trial per
 * core uses the machine fully.  A single `hptc train` uses all cores only
 * when that measurably helps (large batch or wide layers). */
void blas_set_threads(int n);

/* Set FTZ and DAZ in MXCSR for the calling thread: denormals made a
 * prototype Adam step 8x slower, and flushing them changes nothing a network
 * can learn.  The mode is per thread; threads created afterwards inherit it,
 * but OpenBLAS's pool threads, created when the library loaded, do not. */
void blas_flush_denormals(void);

#endif
