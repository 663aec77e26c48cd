/* jit.c: the LLVM JIT backend (see jit.h).
 *
 * For a trial's jit_spec, jit_codegen.c writes one LLVM module with LLVM's C API:
 * per layer a forward epilogue (bias, activation, the following Dropout's
 * mask) and a backward chain (mask, activation derivative, bias gradient),
 * BatchNormalization's reductions, the fused softmax cross-entropy with its
 * gradient and accuracy, and one optimizer loop over every parameter.  Every
 * column count, class count and parameter count is a constant in the code,
 * so loops have known trip counts and LLVM's vectoriser needs no guessing.
 * The module goes through "default<O3>" with a TargetMachine for the host
 * CPU and its features (AVX-512 where present), then into one process-wide
 * ORC LLJIT; this file holds the calls into the compiled code, the engine
 * and the cache by shape.  Loop unrolling and interleaving are off and instruction
 * selection runs at the "Less" level: every loop here is memory-bound, so
 * unrolling the vector loops bought nothing at run time and cost 30% of the
 * compile (88 -> 61 ms for the seed MLP's kernels, epoch time unchanged).
 *
 * Invariants: the arithmetic is the BLAS backend's, operation for operation
 * (same polynomials for exp/tanh/erf, same association, fma only where
 * kernels.c calls fmaf, no fast-math flags), and the dropout mask is
 * rng_at's, so the two backends agree to rounding and usually bit for bit.
 * One mutex guards LLVM and the cache; compiled code is immutable and is
 * called without it.  Nothing here prints. */
#include "runtime/nn/jit.h"
#include "runtime/nn/jit_codegen.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HPTC_JIT
#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include <pthread.h>
#include <time.h>
#endif

/* The compiled entry points of one spec.  Indexed by layer where per layer. */
typedef void (*fwd_fn)(const float *src, float *y, float *z, const float *b, int64_t rows, float *ydrop,
                       uint64_t key, uint32_t thr, float scale);
typedef void (*bwd_fn)(const float *y, const float *z, float *dy, float *db, int64_t rows, uint64_t key,
                       uint32_t thr, float scale);
typedef double (*ce_fn)(const float *logits, const float *scores, const int32_t *labels, float *dlogits,
                        int32_t B, int32_t *correct);
typedef void (*opt_fn)(float *w, const float *g, float *state, const float *consts, int64_t lo, int64_t hi);
typedef void (*bnf_fn)(const float *x, float *y, const float *gamma, const float *beta, float *mm, float *mv,
                       int64_t N, float momentum, float epsilon, float *state);
typedef void (*bnb_fn)(const float *x, const float *dy, float *dx, const float *gamma, float *dgamma,
                       float *dbeta, int64_t N, float *state);

struct jit_code {
    char *signature;
    int n_layers;
    fwd_fn *fwd, *fwd_drop;
    bwd_fn *bwd;
    bnf_fn *bnf;
    bnb_fn *bnb;
    ce_fn ce;
    opt_fn opt;
    size_t n_params;
    jit_code *next;
};

/* Dropout's threshold and scale exactly as kernels.c's dropout_apply. */
static void dropout_consts(float rate, uint32_t *thr, float *scale)
{
    *thr = (uint32_t)(rate * 65536.0f + 0.5f);
    *scale = rate < 1.0f ? 1.0f / (1.0f - rate) : 0.0f;
}

/* ------------------------------------------------- kernels (both builds) */

void jit_forward(const jit_code *c, int layer, const float *src, float *y, float *z, const float *b,
                 size_t rows, float *ydrop, float rate, uint64_t key)
{
    uint32_t thr;
    float scale;
    dropout_consts(rate, &thr, &scale);
    if (ydrop && c->fwd_drop[layer]) c->fwd_drop[layer](src, y, z, b, (int64_t)rows, ydrop, key, thr, scale);
    else c->fwd[layer](src, y, z, b, (int64_t)rows, NULL, key, thr, scale);
}

void jit_backward(const jit_code *c, int layer, const float *y, const float *z, float *dy, float *db,
                  size_t rows, float rate, uint64_t key)
{
    uint32_t thr;
    float scale;
    dropout_consts(rate, &thr, &scale);
    c->bwd[layer](y, z, dy, db, (int64_t)rows, key, thr, scale);
}

void jit_dense_forward(const jit_code *c, int layer, const float *x, const float *w, const float *b, float *y,
                       float *z, float *ydrop, int B, int in, int out, float rate, uint64_t key)
{
    if (B <= 0 || out <= 0) return;
    if (in > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, out, in, 1.0f, x, in, w, out, 0.0f, y, out);
    else
        memset(y, 0, (size_t)B * out * sizeof *y);
    jit_forward(c, layer, y, y, z, b, (size_t)B, ydrop, rate, key);
}

void jit_dense_backward(const jit_code *c, int layer, const float *x, const float *w, const float *y,
                        const float *z, float *dy, float *dx, float *dw, float *db, int B, int in, int out,
                        float rate, uint64_t key)
{
    if (B <= 0 || out <= 0 || in <= 0) return;
    jit_backward(c, layer, y, z, dy, db, (size_t)B, rate, key);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, in, out, B, 1.0f, x, in, dy, out, 1.0f, dw, out);
    if (dx) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, in, out, 1.0f, dy, out, w, out, 0.0f, dx, in);
}

double jit_sparse_softmax_ce(const jit_code *c, const float *logits, const float *scores, const int32_t *labels,
                             float *dlogits, int B, int *correct)
{
    int32_t hits = 0;
    double loss = c->ce(logits, scores, labels, dlogits, B, &hits);
    if (correct) *correct = hits;
    return loss;
}

/* The step-dependent scalars, computed as optim_step does, in the order the
 * generated loop reads them (OC_*, jit_codegen.h). */
_Static_assert(OC_N <= JIT_OPTIM_SCALARS, "the optimizer's scalars fit JIT_OPTIM_SCALARS");

void jit_optim_prepare(const optim_config *cfg, long step, float k[JIT_OPTIM_SCALARS])
{
    memset(k, 0, sizeof(float) * JIT_OPTIM_SCALARS);
    const float lr = cfg->learning_rate;
    k[OC_DECAY] = lr * cfg->weight_decay;
    k[OC_LR] = lr;
    if (cfg->kind == OPTIM_ADAM || cfg->kind == OPTIM_ADAMW) {
        double t = step > 0 ? (double)step : 1.0;
        k[OC_ALPHA] = (float)(lr * sqrt(1.0 - pow(cfg->beta_2, t)) / (1.0 - pow(cfg->beta_1, t)));
    }
    k[OC_C1] = 1.0f - cfg->beta_1;
    k[OC_C2] = 1.0f - cfg->beta_2;
    k[OC_EPS] = cfg->epsilon;
    k[OC_MU] = cfg->momentum;
    k[OC_RHO] = cfg->rho;
    k[OC_1MRHO] = 1.0f - cfg->rho;
}

void jit_optim_update(const jit_code *c, const float k[JIT_OPTIM_SCALARS], float *params, const float *grads,
                      float *state, size_t lo, size_t hi)
{
    c->opt(params, grads, state, k, (int64_t)lo, (int64_t)hi);
}

void jit_optim_step(const jit_code *c, const optim_config *cfg, float *params, const float *grads, float *state,
                    long step)
{
    float k[JIT_OPTIM_SCALARS];
    jit_optim_prepare(cfg, step, k);
    c->opt(params, grads, state, k, 0, (int64_t)c->n_params);
}

void jit_batchnorm_forward_train(const jit_code *c, int layer, const float *x, float *y, const float *gamma,
                                 const float *beta, float *moving_mean, float *moving_var, size_t N,
                                 float momentum, float epsilon, float *state)
{
    if (N == 0) return;
    c->bnf[layer](x, y, gamma, beta, moving_mean, moving_var, (int64_t)N, momentum, epsilon, state);
}

void jit_batchnorm_backward(const jit_code *c, int layer, const float *x, const float *dy, float *dx,
                            const float *gamma, float *dgamma, float *dbeta, size_t N, float *state)
{
    if (N == 0) return;
    c->bnb[layer](x, dy, dx, gamma, dgamma, dbeta, (int64_t)N, state);
}

#ifndef HPTC_JIT

#define NO_JIT "this build of hptc has no JIT backend (LLVM was not found at build time)"

int jit_available(void) { return 0; }
void jit_describe(char *buf, size_t n) { snprintf(buf, n, "%s", NO_JIT); }
const jit_code *jit_get(const jit_spec *spec, hpt_error *e)
{
    (void)spec;
    hpt_fail(e, NO_JIT);
    return NULL;
}
char *jit_emit_ir(const jit_spec *spec, int optimized, hpt_error *e)
{
    (void)spec, (void)optimized;
    hpt_fail(e, NO_JIT);
    return NULL;
}
void jit_get_stats(jit_stats *s) { memset(s, 0, sizeof *s); }
void jit_shutdown(void) {}

#else

/* ------------------------------------------------------ LLJIT and cache */

static struct {
    pthread_mutex_t lock;
    int state;                  /* 0 not started, 1 ready, -1 failed */
    char why[256];
    char *triple, *cpu, *features;
    LLVMTargetMachineRef tm;    /* for the pass pipeline */
    LLVMOrcLLJITRef jit;
    jit_code *cache;
    long compiles, hits, serial;
    double last_compile_ms, last_lookup_ms, startup_ms;
} J = { .lock = PTHREAD_MUTEX_INITIALIZER };

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

/* Take an LLVM error's message into e and release it. */
static int llvm_fail(hpt_error *e, const char *what, LLVMErrorRef err)
{
    char *msg = LLVMGetErrorMessage(err);
    hpt_fail(e, "JIT: %s: %s", what, msg);
    LLVMDisposeErrorMessage(msg);
    return -1;
}

static LLVMTargetMachineRef host_machine(char **why)
{
    LLVMTargetRef target;
    if (LLVMGetTargetFromTriple(J.triple, &target, why)) return NULL;
    return LLVMCreateTargetMachine(target, J.triple, J.cpu, J.features, LLVMCodeGenLevelLess, LLVMRelocDefault,
                                   LLVMCodeModelJITDefault);
}

/* Under the lock: the target, the host's CPU and features, one LLJIT that
 * also resolves the process's symbols (libm's exp and log). */
static int start(hpt_error *e)
{
    if (J.state == 1) return 0;
    if (J.state == -1) return hpt_fail(e, "%s", J.why);
    J.state = -1;
    if (LLVMInitializeNativeTarget() || LLVMInitializeNativeAsmPrinter()) {
        snprintf(J.why, sizeof J.why, "JIT: LLVM has no native target for this machine");
        return hpt_fail(e, "%s", J.why);
    }
    J.triple = LLVMGetDefaultTargetTriple();
    J.cpu = LLVMGetHostCPUName();
    J.features = LLVMGetHostCPUFeatures();
    char *why = NULL;
    J.tm = host_machine(&why);
    LLVMTargetMachineRef tm_jit = J.tm ? host_machine(&why) : NULL;
    if (!tm_jit) {
        snprintf(J.why, sizeof J.why, "JIT: no target machine for %s: %s", J.triple, why ? why : "?");
        LLVMDisposeMessage(why);
        return hpt_fail(e, "%s", J.why);
    }
    LLVMOrcLLJITBuilderRef builder = LLVMOrcCreateLLJITBuilder();
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(builder, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(tm_jit));
    LLVMErrorRef err = LLVMOrcCreateLLJIT(&J.jit, builder);
    if (err) {
        llvm_fail(e, "creating LLJIT", err);
        snprintf(J.why, sizeof J.why, "%.200s", e->message);
        return -1;
    }
    LLVMOrcDefinitionGeneratorRef dg;
    err = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(&dg, LLVMOrcLLJITGetGlobalPrefix(J.jit), NULL, NULL);
    if (err) {
        llvm_fail(e, "resolving process symbols", err);
        snprintf(J.why, sizeof J.why, "%.200s", e->message);
        return -1;
    }
    LLVMOrcJITDylibAddGenerator(LLVMOrcLLJITGetMainJITDylib(J.jit), dg);
    J.state = 1;
    return 0;
}

/* The cache key: everything the generated code depends on, nothing else. */
static char *signature(const jit_spec *s)
{
    size_t cap = 64 + (size_t)s->n_layers * 48, len = 0;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    for (int k = 0; k < s->n_layers; k++) {
        const jit_layer *L = &s->layers[k];
        if (L->kind == JIT_ELEMENTWISE)
            len += (size_t)snprintf(buf + len, cap - len, "e%d,%d,%d,%d%d%d%d;", L->cols, L->act, L->bwd_act, L->bias,
                                    L->keep_z, L->dropout, L->forward);
        else if (L->kind == JIT_BATCHNORM)
            len += (size_t)snprintf(buf + len, cap - len, "n%d;", L->cols);
        else
            len += (size_t)snprintf(buf + len, cap - len, "-;");
    }
    const optim_config *o = &s->opt;
    snprintf(buf + len, cap - len, "ce%d;o%d,%d,%d,%d,%d,%zu", s->loss_classes, o->kind, o->momentum != 0.0f,
             o->momentum > 0.0f, o->nesterov, o->centered * 2 + (o->weight_decay > 0.0f), s->n_params);
    return buf;
}

/* The whole module of a spec, for this host. */
static LLVMModuleRef generate(LLVMContextRef C, const jit_spec *s, long id)
{
    jit_target t = { .triple = J.triple, .cpu = J.cpu, .features = J.features, .machine = J.tm };
    return jit_codegen(C, s, id, &t);
}

static int optimize(LLVMModuleRef M, hpt_error *e)
{
    char *msg = NULL;
    if (LLVMVerifyModule(M, LLVMReturnStatusAction, &msg)) {
        hpt_fail(e, "JIT: generated an invalid module: %.200s", msg);
        LLVMDisposeMessage(msg);
        return -1;
    }
    LLVMDisposeMessage(msg);
    LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
    LLVMPassBuilderOptionsSetLoopVectorization(opts, 1);
    LLVMPassBuilderOptionsSetSLPVectorization(opts, 1);
    LLVMPassBuilderOptionsSetLoopUnrolling(opts, 0);      /* see the top of the file */
    LLVMPassBuilderOptionsSetLoopInterleaving(opts, 0);
    LLVMErrorRef err = LLVMRunPasses(M, "default<O3>", J.tm, opts);
    LLVMDisposePassBuilderOptions(opts);
    return err ? llvm_fail(e, "optimizing", err) : 0;
}

static void code_free(jit_code *c)
{
    if (!c) return;
    free(c->signature);
    free(c->fwd), free(c->fwd_drop), free(c->bwd), free(c->bnf), free(c->bnb);
    free(c);
}

static int lookup(long id, const char *what, int k, void *fp, hpt_error *e)
{
    char name[64];
    LLVMOrcExecutorAddress addr = 0;
    LLVMErrorRef err = LLVMOrcLLJITLookup(J.jit, &addr, jit_fn_name(name, sizeof name, id, what, k));
    if (err) return llvm_fail(e, name, err);
    void (*f)(void) = (void (*)(void))(uintptr_t)addr;
    memcpy(fp, &f, sizeof f);
    return 0;
}

/* Under the lock: generate, optimize, add to the JIT, look every symbol up
 * (which is when ORC compiles). */
static jit_code *compile(const jit_spec *s, char *sig, hpt_error *e)
{
    long id = ++J.serial;
    jit_code *c = calloc(1, sizeof *c);
    size_t n = (size_t)(s->n_layers > 0 ? s->n_layers : 1);
    if (!c || !(c->fwd = calloc(n, sizeof *c->fwd)) || !(c->fwd_drop = calloc(n, sizeof *c->fwd_drop)) ||
        !(c->bwd = calloc(n, sizeof *c->bwd)) || !(c->bnf = calloc(n, sizeof *c->bnf)) ||
        !(c->bnb = calloc(n, sizeof *c->bnb))) {
        code_free(c);
        free(sig);
        hpt_fail(e, "out of memory compiling a trial");
        return NULL;
    }
    c->signature = sig;
    c->n_layers = s->n_layers;
    c->n_params = s->n_params;
    LLVMOrcThreadSafeContextRef tsc = LLVMOrcCreateNewThreadSafeContext();
    LLVMModuleRef M = generate(LLVMOrcThreadSafeContextGetContext(tsc), s, id);
    if (optimize(M, e)) {
        LLVMDisposeModule(M);
        LLVMOrcDisposeThreadSafeContext(tsc);
        code_free(c);
        return NULL;
    }
    LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(M, tsc);
    LLVMOrcDisposeThreadSafeContext(tsc);
    LLVMErrorRef err = LLVMOrcLLJITAddLLVMIRModule(J.jit, LLVMOrcLLJITGetMainJITDylib(J.jit), tsm);
    if (err) {
        LLVMOrcDisposeThreadSafeModule(tsm);
        llvm_fail(e, "adding a module", err);
        code_free(c);
        return NULL;
    }
    int rc = 0;
    for (int k = 0; k < s->n_layers && !rc; k++) {
        const jit_layer *L = &s->layers[k];
        if (L->kind == JIT_ELEMENTWISE) {
            if (L->forward) rc |= lookup(id, "fwd", k, &c->fwd[k], e);
            if (L->forward && L->dropout) rc |= lookup(id, "fwdd", k, &c->fwd_drop[k], e);
            if (!rc) rc |= lookup(id, "bwd", k, &c->bwd[k], e);
        } else if (L->kind == JIT_BATCHNORM) {
            rc |= lookup(id, "bnf", k, &c->bnf[k], e);
            if (!rc) rc |= lookup(id, "bnb", k, &c->bnb[k], e);
        }
    }
    if (!rc && s->loss_classes > 0) rc = lookup(id, "ce", 0, &c->ce, e);
    if (!rc && s->n_params > 0) rc = lookup(id, "opt", 0, &c->opt, e);
    if (rc) {
        code_free(c);
        return NULL;
    }
    return c;
}

int jit_available(void) { return 1; }

void jit_describe(char *buf, size_t n)
{
    unsigned major, minor, patch;
    LLVMGetVersion(&major, &minor, &patch);
    char *cpu = LLVMGetHostCPUName(), *features = LLVMGetHostCPUFeatures();
    const char *vec = strstr(features, "+avx512f") ? ", AVX-512" : strstr(features, "+avx2") ? ", AVX2" : "";
    snprintf(buf, n, "LLVM %u.%u.%u, host CPU %s%s", major, minor, patch, cpu, vec);
    LLVMDisposeMessage(cpu);
    LLVMDisposeMessage(features);
}

const jit_code *jit_get(const jit_spec *spec, hpt_error *e)
{
    double t0 = now_ms();
    char *sig = signature(spec);
    if (!sig) return hpt_fail(e, "out of memory compiling a trial"), NULL;
    pthread_mutex_lock(&J.lock);
    jit_code *c = NULL;
    int cold = J.state == 0;
    if (start(e) == 0) {
        if (cold) J.startup_ms = now_ms() - t0, t0 = now_ms();
        for (c = J.cache; c && strcmp(c->signature, sig); c = c->next) {}
        if (c) {
            J.hits++;
            free(sig);
        } else if ((c = compile(spec, sig, e))) {
            c->next = J.cache;
            J.cache = c;
            J.compiles++;
            J.last_compile_ms = now_ms() - t0;
        }
    } else {
        free(sig);
    }
    J.last_lookup_ms = now_ms() - t0;
    pthread_mutex_unlock(&J.lock);
    return c;
}

char *jit_emit_ir(const jit_spec *spec, int optimized, hpt_error *e)
{
    pthread_mutex_lock(&J.lock);
    char *text = NULL;
    if (start(e) == 0) {
        LLVMContextRef C = LLVMContextCreate();
        LLVMModuleRef M = generate(C, spec, 0);
        if (!optimized || optimize(M, e) == 0) {
            char *s = LLVMPrintModuleToString(M);
            text = strdup(s);
            LLVMDisposeMessage(s);
            if (!text) hpt_fail(e, "out of memory printing IR");
        }
        LLVMDisposeModule(M);
        LLVMContextDispose(C);
    }
    pthread_mutex_unlock(&J.lock);
    return text;
}

void jit_get_stats(jit_stats *s)
{
    pthread_mutex_lock(&J.lock);
    s->compiles = J.compiles;
    s->hits = J.hits;
    s->last_compile_ms = J.last_compile_ms;
    s->last_lookup_ms = J.last_lookup_ms;
    s->startup_ms = J.startup_ms;
    pthread_mutex_unlock(&J.lock);
}

void jit_shutdown(void)
{
    pthread_mutex_lock(&J.lock);
    while (J.cache) {
        jit_code *next = J.cache->next;
        code_free(J.cache);
        J.cache = next;
    }
    if (J.jit) {
        LLVMErrorRef err = LLVMOrcDisposeLLJIT(J.jit);
        if (err) LLVMConsumeError(err);
    }
    if (J.tm) LLVMDisposeTargetMachine(J.tm);
    LLVMDisposeMessage(J.triple);
    LLVMDisposeMessage(J.cpu);
    LLVMDisposeMessage(J.features);
    J.jit = NULL, J.tm = NULL, J.triple = J.cpu = J.features = NULL;
    J.state = 0;
    J.compiles = J.hits = 0;
    pthread_mutex_unlock(&J.lock);
}

#endif
