/* onednn.c: the engine, per-thread streams and thread count (see onednn.h). */
#include "runtime/nn/onednn.h"

#include <omp.h>
#include <pthread.h>
#include <stdio.h>

static dnnl_engine_t engine;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static int thread_count = 1;
static pthread_key_t stream_key;

static void free_stream(void *s) { dnnl_stream_destroy(s); }

static void create_engine(void)
{
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) engine = NULL;
    pthread_key_create(&stream_key, free_stream);
}

dnnl_engine_t onednn_engine(void)
{
    pthread_once(&engine_once, create_engine);
    return engine;
}

dnnl_stream_t onednn_stream(void)
{
    if (!onednn_engine()) return NULL;
    dnnl_stream_t s = pthread_getspecific(stream_key);
    if (s) return s;
    /* OpenMP's thread count is per thread: set it where the stream is born. */
    omp_set_num_threads(__atomic_load_n(&thread_count, __ATOMIC_RELAXED));
    if (dnnl_stream_create(&s, engine, dnnl_stream_default_flags) != dnnl_success) return NULL;
    pthread_setspecific(stream_key, s);
    return s;
}

void onednn_set_threads(int n)
{
    __atomic_store_n(&thread_count, n < 1 ? 1 : n, __ATOMIC_RELAXED);
    omp_set_num_threads(n < 1 ? 1 : n);
}

int onednn_has_bf16(void)
{
    return dnnl_get_effective_cpu_isa() >= dnnl_cpu_isa_avx512_core_bf16;
}

const char *onednn_isa_name(void)
{
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_sse41: return "sse41";
    default: return "other";
    }
}

void onednn_describe(char *buf, size_t n)
{
    const dnnl_version_t *v = dnnl_version();
    snprintf(buf, n, "oneDNN %d.%d.%d, %s", v->major, v->minor, v->patch, onednn_isa_name());
}

static const char *status_name(dnnl_status_t s)
{
    switch (s) {
    case dnnl_success: return "success";
    case dnnl_out_of_memory: return "out of memory";
    case dnnl_invalid_arguments: return "invalid arguments";
    case dnnl_unimplemented: return "no implementation for these shapes and types";
    case dnnl_iterator_ends: return "iterator ends";
    case dnnl_runtime_error: return "runtime error";
    case dnnl_not_required: return "not required";
    default: return "unknown status";
    }
}

int onednn_check(dnnl_status_t s, const char *what, hpt_error *e)
{
    if (s == dnnl_success) return 0;
    return hpt_fail(e, "oneDNN: %s: %s", what, status_name(s));
}

int onednn_execute(dnnl_primitive_t p, int n, const dnnl_exec_arg_t *args, const char *what, hpt_error *e)
{
    dnnl_stream_t s = onednn_stream();
    if (!s) return hpt_fail(e, "oneDNN: %s: no CPU stream", what);
    return onednn_check(dnnl_primitive_execute(p, s, n, args), what, e) || onednn_check(dnnl_stream_wait(s), what, e)
               ? -1 : 0;
}
