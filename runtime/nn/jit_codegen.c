/* jit_codegen.c: a trial's kernels as LLVM IR (see jit_codegen.h).
 *
 * Small builders first (constants, arithmetic, loads and stores, counted
 * loops, if-blocks, functions), then kernels.c's math written in IR with the
 * same polynomials and the same order of operations (exp, sigmoid, tanh, the
 * normal CDF, each activation and its derivative, the dropout hash), then the
 * kernels built from them, and last jit_codegen, which writes one function
 * per kernel a spec needs.  Loops run to constant trip counts: a spec's
 * column, class and parameter counts are constants here.  Nothing here
 * touches the JIT engine or its cache (jit.c). */
#ifdef HPTC_JIT
#include "runtime/nn/jit_codegen.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct gen {
    LLVMContextRef C;
    LLVMModuleRef M;
    LLVMBuilderRef b;
    LLVMTypeRef f32, f64, i1, i32, i64, ptr, vd;
    LLVMValueRef fn;
    LLVMBasicBlockRef entry;
    const char *cpu, *features;
    LLVMValueRef quad_hash;     /* non-NULL: the current 4 elements share this draw, */
    int quad_lane;              /* and this is the element's lane */
} gen;

static LLVMValueRef cf(gen *g, float v) { return LLVMConstReal(g->f32, (double)v); }
static LLVMValueRef cd(gen *g, double v) { return LLVMConstReal(g->f64, v); }
static LLVMValueRef ci64(gen *g, long long v) { return LLVMConstInt(g->i64, (unsigned long long)v, 1); }
static LLVMValueRef ci32(gen *g, int v) { return LLVMConstInt(g->i32, (unsigned long long)(long long)v, 1); }

static LLVMValueRef f_add(gen *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFAdd(g->b, a, b, ""); }
static LLVMValueRef f_sub(gen *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFSub(g->b, a, b, ""); }
static LLVMValueRef f_mul(gen *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFMul(g->b, a, b, ""); }
static LLVMValueRef f_div(gen *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFDiv(g->b, a, b, ""); }
static LLVMValueRef iadd(gen *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildAdd(g->b, a, b, ""); }
static LLVMValueRef imul(gen *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildMul(g->b, a, b, ""); }
static LLVMValueRef flt(gen *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFCmp(g->b, LLVMRealOLT, a, b, ""); }
static LLVMValueRef fgt(gen *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFCmp(g->b, LLVMRealOGT, a, b, ""); }
static LLVMValueRef sel(gen *g, LLVMValueRef c, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildSelect(g->b, c, a, b, ""); }

static LLVMValueRef call_intrinsic(gen *g, const char *name, LLVMTypeRef t, LLVMValueRef *args, unsigned n)
{
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMValueRef f = LLVMGetIntrinsicDeclaration(g->M, id, &t, 1);
    return LLVMBuildCall2(g->b, LLVMIntrinsicGetType(g->C, id, &t, 1), f, args, n, "");
}
static LLVMValueRef fma3(gen *g, LLVMValueRef a, LLVMValueRef b, LLVMValueRef c)
{
    LLVMValueRef args[3] = { a, b, c };
    return call_intrinsic(g, "llvm.fma", g->f32, args, 3);
}
static LLVMValueRef f_sqrt(gen *g, LLVMValueRef a) { return call_intrinsic(g, "llvm.sqrt", g->f32, &a, 1); }
static LLVMValueRef fabs_(gen *g, LLVMValueRef a) { return call_intrinsic(g, "llvm.fabs", g->f32, &a, 1); }
static LLVMValueRef dexp(gen *g, LLVMValueRef a) { return call_intrinsic(g, "llvm.exp", g->f64, &a, 1); }
static LLVMValueRef dlog(gen *g, LLVMValueRef a) { return call_intrinsic(g, "llvm.log", g->f64, &a, 1); }

static LLVMValueRef at(gen *g, LLVMTypeRef t, LLVMValueRef base, LLVMValueRef i)
{
    return LLVMBuildInBoundsGEP2(g->b, t, base, &i, 1, "");
}
static LLVMValueRef ld(gen *g, LLVMValueRef base, LLVMValueRef i)
{
    return LLVMBuildLoad2(g->b, g->f32, at(g, g->f32, base, i), "");
}
static void st(gen *g, LLVMValueRef v, LLVMValueRef base, LLVMValueRef i)
{
    LLVMBuildStore(g->b, v, at(g, g->f32, base, i));
}

/* A scalar variable: an entry-block alloca, promoted to SSA by SROA. */
static LLVMValueRef var(gen *g, LLVMTypeRef t, LLVMValueRef init)
{
    LLVMBasicBlockRef here = LLVMGetInsertBlock(g->b);
    LLVMValueRef first = LLVMGetFirstInstruction(g->entry);
    if (first) LLVMPositionBuilderBefore(g->b, first);
    else LLVMPositionBuilderAtEnd(g->b, g->entry);
    LLVMValueRef v = LLVMBuildAlloca(g->b, t, "");
    LLVMPositionBuilderAtEnd(g->b, here);
    LLVMBuildStore(g->b, init, v);
    return v;
}
static LLVMValueRef get(gen *g, LLVMTypeRef t, LLVMValueRef v) { return LLVMBuildLoad2(g->b, t, v, ""); }
static void set(gen *g, LLVMValueRef v, LLVMValueRef x) { LLVMBuildStore(g->b, x, v); }

/* for (i = lo; i < hi; i += step): loop_open positions the builder in the
 * body and returns i; loop_close branches back and continues after it. */
typedef struct loop {
    LLVMBasicBlockRef head, exit;
    LLVMValueRef i, step;
} loop;

static LLVMValueRef loop_open(gen *g, loop *l, LLVMValueRef lo, LLVMValueRef hi, long long step)
{
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(g->b);
    l->head = LLVMAppendBasicBlockInContext(g->C, g->fn, "loop");
    LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(g->C, g->fn, "body");
    l->exit = LLVMAppendBasicBlockInContext(g->C, g->fn, "done");
    l->step = ci64(g, step);
    LLVMBuildBr(g->b, l->head);
    LLVMPositionBuilderAtEnd(g->b, l->head);
    l->i = LLVMBuildPhi(g->b, g->i64, "i");
    LLVMAddIncoming(l->i, &lo, &pre, 1);
    LLVMBuildCondBr(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, l->i, hi, ""), body, l->exit);
    LLVMPositionBuilderAtEnd(g->b, body);
    return l->i;
}

static void loop_close(gen *g, loop *l)
{
    LLVMValueRef next = LLVMBuildNSWAdd(g->b, l->i, l->step, "");
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(g->b);
    LLVMBuildBr(g->b, l->head);
    LLVMAddIncoming(l->i, &next, &latch, 1);
    LLVMPositionBuilderAtEnd(g->b, l->exit);
}

/* if (cond) { ... }: returns the block after, which if_close moves to. */
static LLVMBasicBlockRef if_open(gen *g, LLVMValueRef cond)
{
    LLVMBasicBlockRef then = LLVMAppendBasicBlockInContext(g->C, g->fn, "then");
    LLVMBasicBlockRef after = LLVMAppendBasicBlockInContext(g->C, g->fn, "after");
    LLVMBuildCondBr(g->b, cond, then, after);
    LLVMPositionBuilderAtEnd(g->b, then);
    return after;
}
static void if_close(gen *g, LLVMBasicBlockRef after)
{
    LLVMBuildBr(g->b, after);
    LLVMPositionBuilderAtEnd(g->b, after);
}

/* A function of the module; noalias_mask marks the pointer parameters that
 * never alias another (bit k: parameter k). */
static void func_open(gen *g, const char *name, LLVMTypeRef ret, LLVMTypeRef *params, unsigned n,
                      unsigned noalias_mask)
{
    g->fn = LLVMAddFunction(g->M, name, LLVMFunctionType(ret, params, n, 0));
    unsigned kind = LLVMGetEnumAttributeKindForName("noalias", 7);
    for (unsigned k = 0; k < n; k++)
        if (noalias_mask >> k & 1) LLVMAddAttributeAtIndex(g->fn, k + 1, LLVMCreateEnumAttribute(g->C, kind, 0));
    LLVMAddAttributeAtIndex(g->fn, LLVMAttributeFunctionIndex,
                            LLVMCreateStringAttribute(g->C, "target-cpu", 10, g->cpu, (unsigned)strlen(g->cpu)));
    LLVMAddAttributeAtIndex(g->fn, LLVMAttributeFunctionIndex,
                            LLVMCreateStringAttribute(g->C, "target-features", 15, g->features,
                                                      (unsigned)strlen(g->features)));
    /* These loops stream through memory: full-width vectors win. */
    LLVMAddAttributeAtIndex(g->fn, LLVMAttributeFunctionIndex,
                            LLVMCreateStringAttribute(g->C, "prefer-vector-width", 19, "512", 3));
    LLVMAddAttributeAtIndex(g->fn, LLVMAttributeFunctionIndex,
                            LLVMCreateEnumAttribute(g->C, LLVMGetEnumAttributeKindForName("nounwind", 8), 0));
    g->entry = LLVMAppendBasicBlockInContext(g->C, g->fn, "entry");
    LLVMPositionBuilderAtEnd(g->b, g->entry);
}
static LLVMValueRef arg(gen *g, unsigned k) { return LLVMGetParam(g->fn, k); }

/* ------------------------------------------ kernels.c's math, in IR */

/* kexp: 2^n·e^r, Taylor degree 7, clamped to [-87, 88]. */
static LLVMValueRef gexp(gen *g, LLVMValueRef x)
{
    x = sel(g, flt(g, x, cf(g, -87.0f)), cf(g, -87.0f), x);
    x = sel(g, fgt(g, x, cf(g, 88.0f)), cf(g, 88.0f), x);
    LLVMValueRef t = fma3(g, x, cf(g, 1.44269504088896341f), cf(g, 12582912.0f));
    LLVMValueRef n = f_sub(g, t, cf(g, 12582912.0f));
    LLVMValueRef r = fma3(g, n, cf(g, -0.693359375f), x);
    r = fma3(g, n, cf(g, 2.12194440e-4f), r);
    LLVMValueRef p = fma3(g, r, cf(g, 1.0f / 5040.0f), cf(g, 1.0f / 720.0f));
    static const float coef[] = { 1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f, 1.0f, 1.0f };
    for (int k = 0; k < 6; k++) p = fma3(g, p, r, cf(g, coef[k]));
    LLVMValueRef bits = LLVMBuildBitCast(g->b, t, g->i32, "");
    bits = LLVMBuildSub(g->b, bits, ci32(g, 0x4B400000), "");
    bits = LLVMBuildAdd(g->b, bits, ci32(g, 127), "");
    bits = LLVMBuildShl(g->b, bits, ci32(g, 23), "");
    return f_mul(g, p, LLVMBuildBitCast(g->b, bits, g->f32, ""));
}

static LLVMValueRef gsigmoid(gen *g, LLVMValueRef x)
{
    return f_div(g, cf(g, 1.0f), f_add(g, cf(g, 1.0f), gexp(g, LLVMBuildFNeg(g->b, x, ""))));
}

static LLVMValueRef gtanh(gen *g, LLVMValueRef x)
{
    LLVMValueRef a = fabs_(g, x);
    LLVMValueRef e = gexp(g, f_mul(g, cf(g, -2.0f), a));
    LLVMValueRef big = f_div(g, f_sub(g, cf(g, 1.0f), e), f_add(g, cf(g, 1.0f), e));
    LLVMValueRef args[2] = { big, x };
    big = call_intrinsic(g, "llvm.copysign", g->f32, args, 2);
    LLVMValueRef x2 = f_mul(g, x, x);
    LLVMValueRef p = fma3(g, x2, cf(g, -929569.0f / 638512875.0f), cf(g, 21844.0f / 6081075.0f));
    static const float coef[] = { -1382.0f / 155925.0f, 62.0f / 2835.0f, -17.0f / 315.0f, 2.0f / 15.0f, -1.0f / 3.0f };
    for (int k = 0; k < 5; k++) p = fma3(g, p, x2, cf(g, coef[k]));
    LLVMValueRef small = fma3(g, f_mul(g, p, x2), x, x);
    return sel(g, flt(g, a, cf(g, 0.4f)), small, big);
}

static LLVMValueRef gphi_cdf(gen *g, LLVMValueRef x)
{
    LLVMValueRef a = f_mul(g, fabs_(g, x), cf(g, 0.707106781186547524f));
    LLVMValueRef t = f_div(g, cf(g, 1.0f), fma3(g, cf(g, 0.5f), a, cf(g, 1.0f)));
    LLVMValueRef p = fma3(g, t, cf(g, 0.17087277f), cf(g, -0.82215223f));
    static const float coef[] = { 1.48851587f, -1.13520398f, 0.27886807f, -0.18628806f,
                                  0.09678418f, 0.37409196f, 1.00002368f, -1.26551223f };
    for (int k = 0; k < 8; k++) p = fma3(g, p, t, cf(g, coef[k]));
    LLVMValueRef h = f_mul(g, f_mul(g, cf(g, 0.5f), t), gexp(g, fma3(g, f_mul(g, cf(g, -0.5f), x), x, p)));
    return sel(g, flt(g, x, cf(g, 0.0f)), h, f_sub(g, cf(g, 1.0f), h));
}

static LLVMValueRef gact(gen *g, kern_act act, LLVMValueRef t)
{
    switch (act) {
    case KERN_RELU: return sel(g, flt(g, t, cf(g, 0.0f)), cf(g, 0.0f), t);
    case KERN_TANH: return gtanh(g, t);
    case KERN_SIGMOID: return gsigmoid(g, t);
    case KERN_GELU: return f_mul(g, t, gphi_cdf(g, t));
    default: return t;
    }
}

/* d(act)/dt · dy, from y (or z for GELU), as kern_act_backward. */
static LLVMValueRef gact_grad(gen *g, kern_act act, LLVMValueRef dy, LLVMValueRef y, LLVMValueRef z)
{
    switch (act) {
    case KERN_RELU: return sel(g, fgt(g, y, cf(g, 0.0f)), dy, cf(g, 0.0f));
    case KERN_TANH: return f_mul(g, dy, f_sub(g, cf(g, 1.0f), f_mul(g, y, y)));
    case KERN_SIGMOID: return f_mul(g, f_mul(g, dy, y), f_sub(g, cf(g, 1.0f), y));
    case KERN_GELU: {
        LLVMValueRef e = gexp(g, f_mul(g, f_mul(g, cf(g, -0.5f), z), z));
        LLVMValueRef d = f_add(g, gphi_cdf(g, z), f_mul(g, f_mul(g, z, cf(g, 0.398942280401432678f)), e));
        return f_mul(g, dy, d);
    }
    default: return dy;
    }
}

/* rng.h's splitmix64 finaliser and rng_at. */
static LLVMValueRef gmix(gen *g, LLVMValueRef z)
{
    z = iadd(g, z, LLVMConstInt(g->i64, 0x9e3779b97f4a7c15ull, 0));
    z = imul(g, LLVMBuildXor(g->b, z, LLVMBuildLShr(g->b, z, ci64(g, 30), ""), ""),
             LLVMConstInt(g->i64, 0xbf58476d1ce4e5b9ull, 0));
    z = imul(g, LLVMBuildXor(g->b, z, LLVMBuildLShr(g->b, z, ci64(g, 27), ""), ""),
             LLVMConstInt(g->i64, 0x94d049bb133111ebull, 0));
    return LLVMBuildXor(g->b, z, LLVMBuildLShr(g->b, z, ci64(g, 31), ""), "");
}

/* Dropout of element i (flat index in the tensor): v·scale when lane i % 4
 * of rng_at(key, i / 4) reaches thr, else 0. */
static LLVMValueRef gdrop(gen *g, LLVMValueRef v, LLVMValueRef i, LLVMValueRef key, LLVMValueRef thr,
                          LLVMValueRef scale)
{
    LLVMValueRef h = g->quad_hash, shift = ci64(g, 16 * g->quad_lane);
    if (!h) {
        h = gmix(g, iadd(g, key, gmix(g, LLVMBuildLShr(g->b, i, ci64(g, 2), ""))));
        shift = LLVMBuildShl(g->b, LLVMBuildAnd(g->b, i, ci64(g, 3), ""), ci64(g, 4), "");
    }
    LLVMValueRef lane = LLVMBuildAnd(g->b, LLVMBuildLShr(g->b, h, shift, ""), ci64(g, 0xffff), "");
    LLVMValueRef keep = LLVMBuildICmp(g->b, LLVMIntUGE, LLVMBuildTrunc(g->b, lane, g->i32, ""), thr, "");
    return sel(g, keep, f_mul(g, v, scale), cf(g, 0.0f));
}

/* The inner loop over a row's columns j.  With a dropout mask and a row
 * length that is a multiple of 4, it steps by 4 and draws once per step (the
 * mask's 4 lanes of one rng_at), instead of re-hashing per element. */
typedef struct cols_loop { loop l; int quad, lane; LLVMValueRef jq, hash; } cols_loop;

static int cols_next(gen *g, cols_loop *c, int cols, int drop, LLVMValueRef base, LLVMValueRef key, LLVMValueRef *j)
{
    if (c->lane == 0) {
        c->quad = drop && cols % 4 == 0;
        c->jq = loop_open(g, &c->l, ci64(g, 0), ci64(g, c->quad ? cols / 4 : cols), 1);
        if (c->quad) {
            LLVMValueRef q = iadd(g, LLVMBuildLShr(g->b, base, ci64(g, 2), ""), c->jq);
            g->quad_hash = gmix(g, iadd(g, key, gmix(g, q)));
        }
    } else if (c->lane == (c->quad ? 4 : 1)) {
        g->quad_hash = NULL, g->quad_lane = 0;
        loop_close(g, &c->l);
        return 0;
    }
    g->quad_lane = c->lane;
    *j = c->quad ? iadd(g, LLVMBuildShl(g->b, c->jq, ci64(g, 2), ""), ci64(g, c->lane)) : c->jq;
    c->lane++;
    return 1;
}

/* ------------------------------------------------------ the kernels in IR */

/* fwd(src, y, z, b, rows, ydrop, key, thr, scale): one pass per row. */
static void gen_forward(gen *g, const char *name, const jit_layer *L, int drop)
{
    LLVMTypeRef ps[9] = { g->ptr, g->ptr, g->ptr, g->ptr, g->i64, g->ptr, g->i64, g->i32, g->f32 };
    func_open(g, name, g->vd, ps, 9, 1u << 2 | 1u << 3 | 1u << 5);
    LLVMValueRef src = arg(g, 0), y = arg(g, 1), z = arg(g, 2), b = arg(g, 3), rows = arg(g, 4);
    LLVMValueRef yd = arg(g, 5), key = arg(g, 6), thr = arg(g, 7), scale = arg(g, 8);
    LLVMValueRef cols = ci64(g, L->cols);
    loop R;
    LLVMValueRef r = loop_open(g, &R, ci64(g, 0), rows, 1);
    LLVMValueRef base = imul(g, r, cols), j;
    cols_loop CL = { 0 };
    while (cols_next(g, &CL, L->cols, drop && L->act != KERN_SOFTMAX, base, key, &j)) {
        LLVMValueRef i = LLVMBuildNSWAdd(g->b, base, j, "");
        LLVMValueRef t = ld(g, src, i);
        if (L->bias) t = f_add(g, t, ld(g, b, j));
        if (L->keep_z) st(g, t, z, i);
        LLVMValueRef v = L->act == KERN_SOFTMAX ? t : gact(g, L->act, t);
        st(g, v, y, i);
        if (drop && L->act != KERN_SOFTMAX) st(g, gdrop(g, v, i, key, thr, scale), yd, i);
    }
    if (L->act == KERN_SOFTMAX) {
        /* y = exp(y - max) / Σ over the row, then the mask. */
        LLVMValueRef m = var(g, g->f32, ld(g, y, base)), s = var(g, g->f32, cf(g, 0.0f));
        loop K;
        LLVMValueRef k = loop_open(g, &K, ci64(g, 1), cols, 1);
        LLVMValueRef yk = ld(g, y, iadd(g, base, k)), mk = get(g, g->f32, m);
        set(g, m, sel(g, fgt(g, yk, mk), yk, mk));
        loop_close(g, &K);
        LLVMValueRef mx = get(g, g->f32, m);
        k = loop_open(g, &K, ci64(g, 0), cols, 1);
        LLVMValueRef e = gexp(g, f_sub(g, ld(g, y, iadd(g, base, k)), mx));
        st(g, e, y, iadd(g, base, k));
        set(g, s, f_add(g, get(g, g->f32, s), e));
        loop_close(g, &K);
        LLVMValueRef inv = f_div(g, cf(g, 1.0f), get(g, g->f32, s));
        k = loop_open(g, &K, ci64(g, 0), cols, 1);
        LLVMValueRef ik = iadd(g, base, k), p = f_mul(g, ld(g, y, ik), inv);
        st(g, p, y, ik);
        if (drop) st(g, gdrop(g, p, ik, key, thr, scale), yd, ik);
        loop_close(g, &K);
    }
    loop_close(g, &R);
    LLVMBuildRetVoid(g->b);
}

/* bwd(y, z, dy, db, rows, key, thr, scale): dy becomes dz, db += Σ dz. */
static void gen_backward(gen *g, const char *name, const jit_layer *L)
{
    LLVMTypeRef ps[8] = { g->ptr, g->ptr, g->ptr, g->ptr, g->i64, g->i64, g->i32, g->f32 };
    func_open(g, name, g->vd, ps, 8, 0xf);
    LLVMValueRef y = arg(g, 0), z = arg(g, 1), dy = arg(g, 2), db = arg(g, 3), rows = arg(g, 4);
    LLVMValueRef key = arg(g, 5), thr = arg(g, 6), scale = arg(g, 7);
    LLVMValueRef cols = ci64(g, L->cols);
    loop R, J;
    LLVMValueRef r = loop_open(g, &R, ci64(g, 0), rows, 1);
    LLVMValueRef base = imul(g, r, cols);
    if (L->bwd_act == KERN_SOFTMAX) {
        /* Per row: the mask in place, d = <dy, y>, dz = y·(dy - d). */
        LLVMValueRef d = var(g, g->f32, cf(g, 0.0f));
        LLVMValueRef j = loop_open(g, &J, ci64(g, 0), cols, 1);
        LLVMValueRef i = iadd(g, base, j), gi = ld(g, dy, i);
        if (L->dropout) st(g, gi = gdrop(g, gi, i, key, thr, scale), dy, i);
        set(g, d, f_add(g, get(g, g->f32, d), f_mul(g, gi, ld(g, y, i))));
        loop_close(g, &J);
        LLVMValueRef dd = get(g, g->f32, d);
        j = loop_open(g, &J, ci64(g, 0), cols, 1);
        i = iadd(g, base, j);
        LLVMValueRef dz = f_mul(g, ld(g, y, i), f_sub(g, ld(g, dy, i), dd));
        st(g, dz, dy, i);
        if (L->bias) st(g, f_add(g, ld(g, db, j), dz), db, j);
        loop_close(g, &J);
    } else {
        LLVMValueRef j;
        cols_loop CL = { 0 };
        while (cols_next(g, &CL, L->cols, L->dropout, base, key, &j)) {
            LLVMValueRef i = LLVMBuildNSWAdd(g->b, base, j, "");
            LLVMValueRef gi = ld(g, dy, i);
            if (L->dropout) gi = gdrop(g, gi, i, key, thr, scale);
            LLVMValueRef yi = L->bwd_act == KERN_LINEAR || L->bwd_act == KERN_GELU ? NULL : ld(g, y, i);
            LLVMValueRef zi = L->bwd_act == KERN_GELU ? ld(g, z, i) : NULL;
            LLVMValueRef dz = gact_grad(g, L->bwd_act, gi, yi, zi);
            st(g, dz, dy, i);
            if (L->bias) st(g, f_add(g, ld(g, db, j), dz), db, j);
        }
    }
    loop_close(g, &R);
    LLVMBuildRetVoid(g->b);
}

/* ce(logits, scores, labels, dlogits, B, correct) -> mean loss: per row the
 * arg-max hit, then kern_sparse_softmax_ce's double-precision arithmetic
 * (libm's exp and log, reached through the process's symbols). */
static void gen_loss(gen *g, const char *name, int K)
{
    LLVMTypeRef ps[6] = { g->ptr, g->ptr, g->ptr, g->ptr, g->i32, g->ptr };
    func_open(g, name, g->f64, ps, 6, 1u << 3 | 1u << 5);
    LLVMValueRef logits = arg(g, 0), scores = arg(g, 1), labels = arg(g, 2), dl = arg(g, 3);
    LLVMValueRef B = LLVMBuildSExt(g->b, arg(g, 4), g->i64, ""), correct = arg(g, 5);
    LLVMValueRef total = var(g, g->f64, cd(g, 0.0)), hits = var(g, g->i32, ci32(g, 0));
    LLVMValueRef invB = f_div(g, cd(g, 1.0), LLVMBuildSIToFP(g->b, B, g->f64, ""));
    LLVMValueRef has_grad = LLVMBuildIsNotNull(g->b, dl, "");
    LLVMValueRef Kc = ci64(g, K);
    loop R, J;
    LLVMValueRef r = loop_open(g, &R, ci64(g, 0), B, 1);
    LLVMValueRef base = imul(g, r, Kc);
    LLVMValueRef lab = LLVMBuildLoad2(g->b, g->i32, at(g, g->i32, labels, r), "");
    /* Arg-max of the scores, the first on ties. */
    LLVMValueRef best = var(g, g->i64, ci64(g, 0));
    LLVMValueRef j = loop_open(g, &J, ci64(g, 1), Kc, 1);
    LLVMValueRef bj = get(g, g->i64, best);
    LLVMValueRef better = fgt(g, ld(g, scores, iadd(g, base, j)), ld(g, scores, iadd(g, base, bj)));
    set(g, best, sel(g, better, j, bj));
    loop_close(g, &J);
    LLVMValueRef lab64 = LLVMBuildSExt(g->b, lab, g->i64, "");
    LLVMValueRef hit = LLVMBuildZExt(g->b, LLVMBuildICmp(g->b, LLVMIntEQ, get(g, g->i64, best), lab64, ""), g->i32, "");
    set(g, hits, iadd(g, get(g, g->i32, hits), hit));
    LLVMValueRef bad = LLVMBuildOr(g->b, LLVMBuildICmp(g->b, LLVMIntSLT, lab, ci32(g, 0), ""),
                                   LLVMBuildICmp(g->b, LLVMIntSGE, lab, ci32(g, K), ""), "");
    LLVMBasicBlockRef bad_bb = LLVMAppendBasicBlockInContext(g->C, g->fn, "bad");
    LLVMBasicBlockRef good_bb = LLVMAppendBasicBlockInContext(g->C, g->fn, "good");
    LLVMBasicBlockRef next_bb = LLVMAppendBasicBlockInContext(g->C, g->fn, "next");
    LLVMBuildCondBr(g->b, bad, bad_bb, good_bb);
    /* A bad label: NaN into the loss, a zero gradient row. */
    LLVMPositionBuilderAtEnd(g->b, bad_bb);
    set(g, total, f_add(g, get(g, g->f64, total), cd(g, NAN)));
    LLVMBasicBlockRef after = if_open(g, has_grad);
    j = loop_open(g, &J, ci64(g, 0), Kc, 1);
    st(g, cf(g, 0.0f), dl, iadd(g, base, j));
    loop_close(g, &J);
    if_close(g, after);
    LLVMBuildBr(g->b, next_bb);
    /* lse = log Σ exp(z - m); loss += lse - (z_y - m). */
    LLVMPositionBuilderAtEnd(g->b, good_bb);
    LLVMValueRef m = var(g, g->f64, LLVMBuildFPExt(g->b, ld(g, logits, base), g->f64, ""));
    j = loop_open(g, &J, ci64(g, 1), Kc, 1);
    LLVMValueRef zj = LLVMBuildFPExt(g->b, ld(g, logits, iadd(g, base, j)), g->f64, ""), mj = get(g, g->f64, m);
    set(g, m, sel(g, fgt(g, zj, mj), zj, mj));
    loop_close(g, &J);
    LLVMValueRef mx = get(g, g->f64, m), s = var(g, g->f64, cd(g, 0.0));
    j = loop_open(g, &J, ci64(g, 0), Kc, 1);
    zj = LLVMBuildFPExt(g->b, ld(g, logits, iadd(g, base, j)), g->f64, "");
    set(g, s, f_add(g, get(g, g->f64, s), dexp(g, f_sub(g, zj, mx))));
    loop_close(g, &J);
    LLVMValueRef lse = dlog(g, get(g, g->f64, s));
    LLVMValueRef iy = iadd(g, base, lab64);
    LLVMValueRef zy = LLVMBuildFPExt(g->b, ld(g, logits, iy), g->f64, "");
    set(g, total, f_add(g, get(g, g->f64, total), f_sub(g, lse, f_sub(g, zy, mx))));
    after = if_open(g, has_grad);
    j = loop_open(g, &J, ci64(g, 0), Kc, 1);
    zj = LLVMBuildFPExt(g->b, ld(g, logits, iadd(g, base, j)), g->f64, "");
    LLVMValueRef p = dexp(g, f_sub(g, f_sub(g, zj, mx), lse));
    st(g, LLVMBuildFPTrunc(g->b, f_mul(g, p, invB), g->f32, ""), dl, iadd(g, base, j));
    loop_close(g, &J);
    LLVMValueRef py = dexp(g, f_sub(g, f_sub(g, zy, mx), lse));
    st(g, LLVMBuildFPTrunc(g->b, f_mul(g, f_sub(g, py, cd(g, 1.0)), invB), g->f32, ""), dl, iy);
    if_close(g, after);
    LLVMBuildBr(g->b, next_bb);
    LLVMPositionBuilderAtEnd(g->b, next_bb);
    loop_close(g, &R);
    LLVMBuildStore(g->b, get(g, g->i32, hits), correct);
    LLVMBuildRet(g->b, f_mul(g, get(g, g->f64, total), invB));
}

/* opt(w, g, state, consts, lo, hi): weight decay and the update in one pass
 * over parameters [lo, hi) of the n (the state laid out for n). */
static void gen_optim(gen *g, const char *name, const optim_config *cfg, size_t n)
{
    LLVMTypeRef ps[6] = { g->ptr, g->ptr, g->ptr, g->ptr, g->i64, g->i64 };
    func_open(g, name, g->vd, ps, 6, 0x7);
    LLVMValueRef w = arg(g, 0), gr = arg(g, 1), state = arg(g, 2), kc = arg(g, 3), lo = arg(g, 4), hi = arg(g, 5);
    LLVMValueRef k[OC_N];
    for (int q = 0; q < OC_N; q++) k[q] = ld(g, kc, ci64(g, q));
    int has_m = cfg->kind == OPTIM_RMSPROP ? cfg->momentum > 0.0f : cfg->kind == OPTIM_SGD && cfg->momentum != 0.0f;
    LLVMValueRef N = ci64(g, (long long)n);
    loop L;
    LLVMValueRef i = loop_open(g, &L, lo, hi, 1);
    LLVMValueRef wi = ld(g, w, i), gi = ld(g, gr, i);
    if (cfg->weight_decay > 0.0f) wi = f_sub(g, wi, f_mul(g, wi, k[OC_DECAY]));
    switch (cfg->kind) {
    case OPTIM_SGD:
        if (has_m) {
            LLVMValueRef mi = f_sub(g, f_mul(g, k[OC_MU], ld(g, state, i)), f_mul(g, k[OC_LR], gi));
            st(g, mi, state, i);
            wi = cfg->nesterov ? f_add(g, wi, f_sub(g, f_mul(g, k[OC_MU], mi), f_mul(g, k[OC_LR], gi))) : f_add(g, wi, mi);
        } else {
            wi = f_sub(g, wi, f_mul(g, k[OC_LR], gi));
        }
        break;
    case OPTIM_ADAM:
    case OPTIM_ADAMW: {
        LLVMValueRef iv = iadd(g, i, N);
        LLVMValueRef m0 = ld(g, state, i), v0 = ld(g, state, iv);
        LLVMValueRef mi = f_add(g, m0, f_mul(g, f_sub(g, gi, m0), k[OC_C1]));
        LLVMValueRef vi = f_add(g, v0, f_mul(g, f_sub(g, f_mul(g, gi, gi), v0), k[OC_C2]));
        st(g, mi, state, i);
        st(g, vi, state, iv);
        wi = f_sub(g, wi, f_div(g, f_mul(g, k[OC_ALPHA], mi), f_add(g, f_sqrt(g, vi), k[OC_EPS])));
        break;
    }
    case OPTIM_RMSPROP: {
        LLVMValueRef c = k[OC_1MRHO];
        LLVMValueRef vi = f_add(g, f_mul(g, k[OC_RHO], ld(g, state, i)), f_mul(g, f_mul(g, c, gi), gi));
        st(g, vi, state, i);
        LLVMValueRef im = has_m ? iadd(g, i, N) : NULL;
        LLVMValueRef lrg = f_mul(g, k[OC_LR], gi), inc;
        if (cfg->centered) {
            LLVMValueRef ia = iadd(g, i, ci64(g, (long long)n * (1 + has_m)));
            LLVMValueRef ai = f_add(g, f_mul(g, k[OC_RHO], ld(g, state, ia)), f_mul(g, c, gi));
            st(g, ai, state, ia);
            inc = f_div(g, lrg, f_sqrt(g, f_add(g, f_sub(g, vi, f_mul(g, ai, ai)), k[OC_EPS])));
            if (has_m) {
                inc = f_add(g, inc, f_mul(g, k[OC_MU], ld(g, state, im)));
                st(g, inc, state, im);
            }
        } else {
            inc = f_div(g, lrg, f_sqrt(g, f_add(g, vi, k[OC_EPS])));
            if (has_m) {
                inc = f_add(g, f_mul(g, k[OC_MU], ld(g, state, im)), inc);
                st(g, inc, state, im);
            }
        }
        wi = f_sub(g, wi, inc);
        break;
    }
    }
    st(g, wi, w, i);
    loop_close(g, &L);
    LLVMBuildRetVoid(g->b);
}

/* Column sums over rows [0, N) of a (N, C) tensor, blocked by BN_BLOCK rows
 * into `part` then added to `sum`, exactly as kernels.c: body(r, c) returns
 * the addend for row r, channel c. */
#define BN_BLOCK 256
typedef LLVMValueRef (*term_fn)(gen *g, LLVMValueRef i, LLVMValueRef c, void *u);

static void gen_colsums(gen *g, LLVMValueRef N, int C, LLVMValueRef sum, LLVMValueRef part, term_fn term, void *u)
{
    LLVMValueRef Cc = ci64(g, C);
    loop L0, R, K;
    LLVMValueRef c = loop_open(g, &K, ci64(g, 0), Cc, 1);
    st(g, cf(g, 0.0f), sum, c);
    loop_close(g, &K);
    LLVMValueRef r0 = loop_open(g, &L0, ci64(g, 0), N, BN_BLOCK);
    LLVMValueRef r1 = iadd(g, r0, ci64(g, BN_BLOCK));
    r1 = sel(g, LLVMBuildICmp(g->b, LLVMIntSLT, r1, N, ""), r1, N);
    c = loop_open(g, &K, ci64(g, 0), Cc, 1);
    st(g, cf(g, 0.0f), part, c);
    loop_close(g, &K);
    LLVMValueRef r = loop_open(g, &R, r0, r1, 1);
    LLVMValueRef base = imul(g, r, Cc);
    c = loop_open(g, &K, ci64(g, 0), Cc, 1);
    st(g, f_add(g, ld(g, part, c), term(g, iadd(g, base, c), c, u)), part, c);
    loop_close(g, &K);
    loop_close(g, &R);
    c = loop_open(g, &K, ci64(g, 0), Cc, 1);
    st(g, f_add(g, ld(g, sum, c), ld(g, part, c)), sum, c);
    loop_close(g, &K);
    loop_close(g, &L0);
}

typedef struct bn_ctx { LLVMValueRef x, dy, mean, inv; } bn_ctx;
static LLVMValueRef term_x(gen *g, LLVMValueRef i, LLVMValueRef c, void *u) { return ld(g, ((bn_ctx *)u)->x, i); }
static LLVMValueRef term_var(gen *g, LLVMValueRef i, LLVMValueRef c, void *u)
{
    bn_ctx *b = u;
    LLVMValueRef d = f_sub(g, ld(g, b->x, i), ld(g, b->mean, c));
    return f_mul(g, d, d);
}
static LLVMValueRef term_dy(gen *g, LLVMValueRef i, LLVMValueRef c, void *u) { return ld(g, ((bn_ctx *)u)->dy, i); }
static LLVMValueRef term_dyx(gen *g, LLVMValueRef i, LLVMValueRef c, void *u)
{
    bn_ctx *b = u;
    LLVMValueRef xhat = f_sub(g, ld(g, b->x, i), ld(g, b->mean, c));
    return f_mul(g, f_mul(g, ld(g, b->dy, i), xhat), ld(g, b->inv, c));
}

/* bnf(x, y, gamma, beta, mm, mv, N, momentum, epsilon, state). */
static void gen_bn_forward(gen *g, const char *name, int C)
{
    LLVMTypeRef ps[10] = { g->ptr, g->ptr, g->ptr, g->ptr, g->ptr, g->ptr, g->i64, g->f32, g->f32, g->ptr };
    func_open(g, name, g->vd, ps, 10, 0x23f);
    LLVMValueRef x = arg(g, 0), y = arg(g, 1), gamma = arg(g, 2), beta = arg(g, 3), mm = arg(g, 4), mv = arg(g, 5);
    LLVMValueRef N = arg(g, 6), mom = arg(g, 7), eps = arg(g, 8), state = arg(g, 9);
    LLVMValueRef Cc = ci64(g, C);
    LLVMValueRef mean = state, inv = at(g, g->f32, state, Cc);
    LLVMValueRef part = at(g, g->f32, state, ci64(g, 2 * C)), shift = at(g, g->f32, state, ci64(g, 3 * C));
    bn_ctx u = { x, NULL, mean, inv };
    gen_colsums(g, N, C, mean, part, term_x, &u);
    LLVMValueRef Nf = LLVMBuildUIToFP(g->b, N, g->f32, "");
    loop K, R;
    LLVMValueRef c = loop_open(g, &K, ci64(g, 0), Cc, 1);
    st(g, f_div(g, ld(g, mean, c), Nf), mean, c);
    loop_close(g, &K);
    gen_colsums(g, N, C, inv, part, term_var, &u);
    LLVMValueRef one_m = f_sub(g, cf(g, 1.0f), mom);
    c = loop_open(g, &K, ci64(g, 0), Cc, 1);
    LLVMValueRef var_c = f_div(g, ld(g, inv, c), Nf), mc = ld(g, mean, c);
    st(g, f_add(g, f_mul(g, ld(g, mm, c), mom), f_mul(g, mc, one_m)), mm, c);
    st(g, f_add(g, f_mul(g, ld(g, mv, c), mom), f_mul(g, var_c, one_m)), mv, c);
    LLVMValueRef ic = f_div(g, cf(g, 1.0f), f_sqrt(g, f_add(g, var_c, eps)));
    st(g, ic, inv, c);
    LLVMValueRef sc = f_mul(g, ic, ld(g, gamma, c));
    st(g, sc, part, c);
    st(g, f_sub(g, ld(g, beta, c), f_mul(g, mc, sc)), shift, c);
    loop_close(g, &K);
    LLVMValueRef r = loop_open(g, &R, ci64(g, 0), N, 1);
    LLVMValueRef base = imul(g, r, Cc);
    c = loop_open(g, &K, ci64(g, 0), Cc, 1);
    LLVMValueRef i = iadd(g, base, c);
    st(g, fma3(g, ld(g, x, i), ld(g, part, c), ld(g, shift, c)), y, i);
    loop_close(g, &K);
    loop_close(g, &R);
    LLVMBuildRetVoid(g->b);
}

/* bnb(x, dy, dx, gamma, dgamma, dbeta, N, state). */
static void gen_bn_backward(gen *g, const char *name, int C)
{
    LLVMTypeRef ps[8] = { g->ptr, g->ptr, g->ptr, g->ptr, g->ptr, g->ptr, g->i64, g->ptr };
    func_open(g, name, g->vd, ps, 8, 0xbf);
    LLVMValueRef x = arg(g, 0), dy = arg(g, 1), dx = arg(g, 2), gamma = arg(g, 3), dgamma = arg(g, 4);
    LLVMValueRef dbeta = arg(g, 5), N = arg(g, 6), state = arg(g, 7);
    LLVMValueRef Cc = ci64(g, C);
    LLVMValueRef mean = state, inv = at(g, g->f32, state, Cc);
    LLVMValueRef sdy = at(g, g->f32, state, ci64(g, 2 * C)), sdyx = at(g, g->f32, state, ci64(g, 3 * C));
    LLVMValueRef pdy = at(g, g->f32, state, ci64(g, 4 * C)), pdyx = at(g, g->f32, state, ci64(g, 5 * C));
    bn_ctx u = { x, dy, mean, inv };
    gen_colsums(g, N, C, sdy, pdy, term_dy, &u);
    gen_colsums(g, N, C, sdyx, pdyx, term_dyx, &u);
    LLVMValueRef Nf = LLVMBuildUIToFP(g->b, N, g->f32, "");
    loop K, R;
    LLVMValueRef c = loop_open(g, &K, ci64(g, 0), Cc, 1);
    st(g, f_add(g, ld(g, dbeta, c), ld(g, sdy, c)), dbeta, c);
    st(g, f_add(g, ld(g, dgamma, c), ld(g, sdyx, c)), dgamma, c);
    st(g, f_div(g, ld(g, sdy, c), Nf), sdy, c);
    st(g, f_div(g, ld(g, sdyx, c), Nf), sdyx, c);
    loop_close(g, &K);
    LLVMBasicBlockRef after = if_open(g, LLVMBuildIsNotNull(g->b, dx, ""));
    LLVMValueRef r = loop_open(g, &R, ci64(g, 0), N, 1);
    LLVMValueRef base = imul(g, r, Cc);
    c = loop_open(g, &K, ci64(g, 0), Cc, 1);
    LLVMValueRef i = iadd(g, base, c), ic = ld(g, inv, c);
    LLVMValueRef xhat = f_mul(g, f_sub(g, ld(g, x, i), ld(g, mean, c)), ic);
    LLVMValueRef kk = f_mul(g, ld(g, gamma, c), ic);
    LLVMValueRef d = f_sub(g, f_sub(g, ld(g, dy, i), ld(g, sdy, c)), f_mul(g, xhat, ld(g, sdyx, c)));
    st(g, f_mul(g, kk, d), dx, i);
    loop_close(g, &K);
    loop_close(g, &R);
    if_close(g, after);
    LLVMBuildRetVoid(g->b);
}

const char *jit_fn_name(char *buf, size_t n, long id, const char *what, int k)
{
    snprintf(buf, n, "hptc%ld_%s%d", id, what, k);
    return buf;
}

LLVMModuleRef jit_codegen(LLVMContextRef C, const jit_spec *s, long id, const jit_target *t)
{
    gen g = { .C = C, .cpu = t->cpu, .features = t->features };
    char name[64];
    snprintf(name, sizeof name, "hptc_trial_%ld", id);
    g.M = LLVMModuleCreateWithNameInContext(name, C);
    LLVMSetTarget(g.M, t->triple);
    LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(t->machine);
    LLVMSetModuleDataLayout(g.M, dl);
    LLVMDisposeTargetData(dl);
    g.b = LLVMCreateBuilderInContext(C);
    g.f32 = LLVMFloatTypeInContext(C), g.f64 = LLVMDoubleTypeInContext(C);
    g.i1 = LLVMInt1TypeInContext(C), g.i32 = LLVMInt32TypeInContext(C), g.i64 = LLVMInt64TypeInContext(C);
    g.ptr = LLVMPointerTypeInContext(C, 0), g.vd = LLVMVoidTypeInContext(C);
    for (int k = 0; k < s->n_layers; k++) {
        const jit_layer *L = &s->layers[k];
        if (L->kind == JIT_ELEMENTWISE) {
            if (L->forward) {
                gen_forward(&g, jit_fn_name(name, sizeof name, id, "fwd", k), L, 0);
                if (L->dropout) gen_forward(&g, jit_fn_name(name, sizeof name, id, "fwdd", k), L, 1);
            }
            gen_backward(&g, jit_fn_name(name, sizeof name, id, "bwd", k), L);
        } else if (L->kind == JIT_BATCHNORM) {
            gen_bn_forward(&g, jit_fn_name(name, sizeof name, id, "bnf", k), L->cols);
            gen_bn_backward(&g, jit_fn_name(name, sizeof name, id, "bnb", k), L->cols);
        }
    }
    if (s->loss_classes > 0) gen_loss(&g, jit_fn_name(name, sizeof name, id, "ce", 0), s->loss_classes);
    if (s->n_params > 0) gen_optim(&g, jit_fn_name(name, sizeof name, id, "opt", 0), &s->opt, s->n_params);
    LLVMDisposeBuilder(g.b);
    return g.M;
}

#endif
