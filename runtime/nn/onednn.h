/* onednn.h: hptc's one door to oneDNN (Debian libdnnl-dev): the engine, a
 * stream per thread, its thread count, and its errors as hpt_error values.
 *
 * oneDNN JIT-compiles its GEMM and convolution kernels (brgemm) for the CPU
 * it runs on, keeps weights in the blocked layout those kernels read, and
 * has the bf16 kernels (AVX512-BF16, AMX) that mixed_bfloat16 needs;
 * OpenBLAS has no bf16 GEMM.  Debian builds it on OpenMP: every thread that
 * runs a primitive gets its own team, so each trial's thread is held to the
 * thread count set here (one per trial, as OpenBLAS is). */
#ifndef HPTC_ONEDNN_H
#define HPTC_ONEDNN_H
#include <oneapi/dnnl/dnnl.h>
#include "runtime/err.h"

/* The CPU engine, created on first use (thread-safe); NULL only when oneDNN
 * cannot create one, which onednn_engine_error() then explains. */
dnnl_engine_t onednn_engine(void);
/* This thread's stream on the engine, created on first use and freed when
 * the thread exits; NULL as onednn_engine. */
dnnl_stream_t onednn_stream(void);

/* Threads each oneDNN primitive runs on, for threads that create their
 * stream afterwards and for the caller (n >= 1; blas_set_threads calls it). */
void onednn_set_threads(int n);

/* 1 when oneDNN runs bf16 GEMMs natively here (AVX512-BF16 or AMX). */
int onednn_has_bf16(void);
/* The instruction set oneDNN's kernels use here, e.g. "avx512_core_bf16". */
const char *onednn_isa_name(void);
/* "oneDNN 2.6.3, avx512_core_bf16" for --version.  Always NUL-terminates. */
void onednn_describe(char *buf, size_t n);

/* Run a primitive on this thread's stream and wait for it: 0, or -1 with
 * e = "oneDNN: WHAT: ...".  Every Dense, Conv2D and pooling primitive runs here. */
int onednn_execute(dnnl_primitive_t p, int n, const dnnl_exec_arg_t *args, const char *what, hpt_error *e);

/* 0 when s is dnnl_success, else -1 with e = "oneDNN: WHAT: STATUS". */
int onednn_check(dnnl_status_t s, const char *what, hpt_error *e);

#endif
