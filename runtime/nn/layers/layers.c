/* layers.c: the layer-operations table, indexed by catalogue id, and the
 * helpers its rows share (see layers.h).  An entry without a row is a layer
 * the checker knows but this runtime cannot train: trial_expand says so. */
#include "runtime/nn/layers/layers.h"
#include "runtime/rng.h"

#include <math.h>
#include <string.h>

/* The rows, one per file of runtime/nn/layers/. */
extern const layer_ops layer_input, layer_flatten, layer_reshape, layer_dense, layer_dropout, layer_conv2d, layer_maxpool2d,
    layer_avgpool2d, layer_global_avgpool2d, layer_batchnorm, layer_layernorm, layer_activation, layer_add,
    layer_concatenate, layer_residual;
extern const layer_ops layer_random_flip, layer_random_translation, layer_random_rotation, layer_random_zoom;
extern const layer_ops layer_embedding, layer_lstm, layer_gru;
/* Sequence and separable convolutions, 1-D and global max pooling, padding, upsampling. */
extern const layer_ops layer_conv1d, layer_maxpool1d, layer_global_avgpool1d, layer_global_maxpool1d,
    layer_global_maxpool2d, layer_depthwise_conv2d, layer_separable_conv2d, layer_zero_padding2d, layer_upsampling2d;

static const layer_ops *const table[ST_COUNT] = {
    [ST_Input] = &layer_input,
    [ST_Flatten] = &layer_flatten,
    [ST_Reshape] = &layer_reshape,
    [ST_Dense] = &layer_dense,
    [ST_Dropout] = &layer_dropout,
    [ST_Conv2D] = &layer_conv2d,
    [ST_MaxPooling2D] = &layer_maxpool2d,
    [ST_AveragePooling2D] = &layer_avgpool2d,
    [ST_GlobalAveragePooling2D] = &layer_global_avgpool2d,
    [ST_BatchNormalization] = &layer_batchnorm,
    [ST_LayerNormalization] = &layer_layernorm,
    [ST_Activation] = &layer_activation,
    [ST_RandomFlip] = &layer_random_flip,
    [ST_RandomTranslation] = &layer_random_translation,
    [ST_RandomRotation] = &layer_random_rotation,
    [ST_RandomZoom] = &layer_random_zoom,
    [ST_Add] = &layer_add,
    [ST_Concatenate] = &layer_concatenate,
    [ST_Residual] = &layer_residual,
    [ST_Embedding] = &layer_embedding,
    [ST_LSTM] = &layer_lstm,
    [ST_GRU] = &layer_gru,
    [ST_Conv1D] = &layer_conv1d,
    [ST_MaxPooling1D] = &layer_maxpool1d,
    [ST_GlobalAveragePooling1D] = &layer_global_avgpool1d,
    [ST_GlobalMaxPooling1D] = &layer_global_maxpool1d,
    [ST_GlobalMaxPooling2D] = &layer_global_maxpool2d,
    [ST_DepthwiseConv2D] = &layer_depthwise_conv2d,
    [ST_SeparableConv2D] = &layer_separable_conv2d,
    [ST_ZeroPadding2D] = &layer_zero_padding2d,
    [ST_UpSampling2D] = &layer_upsampling2d,
};

const layer_ops *layer_ops_of(const st_entry *e) { return e->kind == ST_LAYER ? table[e->id] : NULL; }

int layer_plan(trial_layer *L, const hpt_value *args, char *why, size_t n)
{
    const st_entry *e = L->call->entry;
    int out[4];
    st_weights w;
    L->ops = layer_ops_of(e);
    if (!L->ops) {
        snprintf(why, n, "%s has no kernels in this runtime", e->name);
        return -1;
    }
    if (st_merge_rule_of(e)) {
        const int *ins[ST_MAX_INPUTS];
        int ranks[ST_MAX_INPUTS];
        for (int k = 0; k < L->n_from; k++) ins[k] = L->from[k]->outs, ranks[k] = L->from[k]->out_rank;
        if (st_merge_plan(e, args, L->n_from, ins, ranks, out, &L->out_rank, &w, why, n)) return -1;
    } else if (st_layer_plan(e, args, L->in, L->in_rank, out, &L->out_rank, &w, why, n)) {
        return -1;
    }
    memcpy(L->outs, out, sizeof L->outs);
    L->in_size = L->out_size = 1;
    for (int j = 0; j < L->in_rank; j++) L->in_size *= (size_t)L->in[j];
    for (int j = 0; j < L->out_rank; j++) L->out_size *= (size_t)L->outs[j];
    L->n_trainable = w.n_trainable;
    L->n_stats = w.n_stats;
    for (int k = 0; k < w.n_trainable + w.n_stats; k++) L->size[k] = (size_t)w.size[k];
    L->flops = w.flops;         /* the rule's count (catalogue.h), which the checker's costs use too */
    return L->ops->plan ? L->ops->plan(L, args, why, n) : 0;
}

size_t layer_weight_count(const trial_layer *L)
{
    size_t n = 0;
    for (int k = 0; k < L->n_trainable + L->n_stats; k++) n += L->size[k];
    return n;
}

kern_act layer_act_of(hpt_value v)
{
    if (v.type != V_STRING) return KERN_LINEAR;
    const st_entry *e = st_find(ST_ACTIVATION, v.u.s);
    static const kern_act acts[ST_COUNT] = {
        [ST_relu] = KERN_RELU, [ST_tanh] = KERN_TANH, [ST_sigmoid] = KERN_SIGMOID,
        [ST_gelu] = KERN_GELU, [ST_softmax] = KERN_SOFTMAX,
    };
    return e ? acts[e->id] : KERN_LINEAR;
}

/* Keras's initialisers; normal ones are truncated at two standard deviations. */
void layer_init_kernel(float *w, size_t n, int fan_in, int fan_out, const char *how, uint64_t key)
{
    if (!strcmp(how, "glorot_uniform")) {
        kern_glorot_uniform(w, n, fan_in, fan_out, key);
        return;
    }
    if (!strcmp(how, "he_uniform")) {
        double limit = sqrt(6.0 / fan_in);
        for (size_t i = 0; i < n; i++) w[i] = (float)((2.0 * ((rng_at(key, i) >> 11) * 0x1p-53) - 1.0) * limit);
        return;
    }
    double var = !strcmp(how, "glorot_normal") ? 2.0 / (fan_in + fan_out) : !strcmp(how, "he_normal") ? 2.0 / fan_in : 1.0 / fan_in;
    double stddev = sqrt(var) / 0.87962566103423978;   /* Keras's correction for the truncation */
    rng r = rng_stream(key);
    for (size_t i = 0; i < n; i++) {
        double x;
        do x = rng_normal(&r);
        while (fabs(x) > 2.0);
        w[i] = (float)(x * stddev);
    }
}

uint64_t layer_dropout_key(const layer_run *r, int layer)
{
    return rng_key(r->dropout_seed, (uint64_t)r->step * 1024 + (uint64_t)layer);
}

int layer_fuses_dropout(const trial_layer *next)
{
    return next && next->ops == &layer_dropout && next->rate > 0;
}

void layer_jit_elementwise(const trial_layer *L, int last_fused, int forward, jit_layer *J)
{
    J->kind = JIT_ELEMENTWISE;
    J->cols = L->outs[L->out_rank - 1];
    J->act = L->act;
    J->bwd_act = last_fused ? KERN_LINEAR : L->act;
    J->bias = L->n_trainable > 1 && L->size[1] > 0;
    J->keep_z = !(L->ops->flags & LAYER_ACT_OF_INPUT) && L->z != NULL;
    J->forward = forward;
    J->dropout = forward && layer_fuses_dropout(L->next);
}
