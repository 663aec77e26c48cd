/* catalogue.h: the stdlib — every layer, activation, optimizer, loss, metric,
 * callback, tuner and data source hptc knows, as one declarative table.
 *
 * Each entry is one X-macro row naming its Keras spelling and its arguments
 * (type, default, valid range, flags, one line of doc).  The checker validates
 * calls against it (compiler/sema*.c), shapes.c runs its shape rules over
 * the space, `hptc space` and the runtime's messages name layers and
 * hyperparameters by it, docs/language.md's reference and its table of
 * hp.* calls are generated from it by bench/gen_stdlib_doc.c (tests/cli/docs.sh
 * fails when they differ), and the runtime indexes evaluated arguments with
 * the enums it generates (args[Dense_units]).  Adding a layer is one
 * ST_ENTRIES row, one ST_ARGS_ row list, an ST_LAYER_NAMES row, a shape rule
 * (its output shape and weight tensors), and for the runtime one file of
 * runtime/nn/layers/ with its row in layers.c (and its kernels). */
#ifndef HPTC_CATALOGUE_H
#define HPTC_CATALOGUE_H
#include <math.h>
#include "stdlib/value.h"

typedef enum {
    ST_LAYER, ST_ACTIVATION, ST_OPTIMIZER, ST_LOSS, ST_METRIC, ST_CALLBACK,
    ST_TUNER, ST_DATA, ST_COMPILE, ST_SEARCH, ST_SPLITTER, ST_ESTIMATOR, ST_SCHEDULE,
    ST_OBJECTIVE,   /* Objective(...) and Pareto(...): a tuner's objective (issue 15, pareto) */
    ST_KIND_COUNT
} st_kind;

typedef enum {
    T_INT,          /* integer */
    T_FLOAT,        /* number (an int is accepted) */
    T_BOOL,
    T_STRING,       /* free text, or one of `choices` when given */
    T_SHAPE,        /* list or tuple of positive ints, e.g. [28, 28] */
    T_INT_PAIR,     /* int, or a pair of ints: kernel_size = 3 or (3, 5) */
    T_ACTIVATION,   /* name of an ST_ACTIVATION entry */
    T_OPTIMIZER,    /* ST_OPTIMIZER object, or its string shortcut "adam" */
    T_LOSS,         /* ST_LOSS object or its string name */
    T_METRICS,      /* list of ST_METRIC names */
    T_CALLBACKS,    /* list of ST_CALLBACK objects */
    T_DATA,         /* ST_DATA object */
    T_SPLITTER,     /* int k, or StratifiedKFold(...) */
    T_FEATURES,     /* max_features: one of `choices`, an int count, a fraction in (0, 1], None */
    T_FLOAT_PAIR,   /* a range as Keras's augmentation factors: (lower, upper), lower <= upper, each
                     * within [min, max]; or f >= 0 for (-f, f) */
    T_PADDING,      /* int, (int, int), or ((top, bottom), (left, right)): ZeroPadding2D's padding */
    T_LR,           /* a learning rate: a number in the range, or an ST_SCHEDULE object */
    T_NUMBERS,      /* a non-empty list of numbers (PiecewiseConstantDecay's boundaries and values) */
    T_OBJECTIVE,    /* a metric name, Objective(name, direction), or Pareto(...) of them (issue 15, pareto) */
} st_type;

enum {
    A_REQ = 1 << 0,     /* no default: must be given */
    A_SHAPE = 1 << 1,   /* changes tensor shapes: checked over the whole space */
    A_CONST = 1 << 2,   /* must not depend on a hyperparameter */
    A_HI_OPEN = 1 << 3, /* the upper bound is exclusive */
    A_NONE_OK = 1 << 4, /* None is accepted besides the type */
    A_PATH = 1 << 5,    /* a file, relative to the spec's directory */
    A_NOT_MODEL = 1 << 6, /* not part of the model a weights file is keyed by: acts only in
                           * training, or restates the Input's shape (docs/weights.md) */
    A_NONEMPTY = 1 << 7,  /* a string that must not be empty */
    A_FOLDER = 1 << 8,    /* one folder's name: not empty, ".", ".." or holding a '/' */
    A_INFER_ONE = 1 << 9, /* a T_SHAPE whose sizes may hold one -1, inferred from the others (Reshape) */
};

typedef struct st_arg {
    const char *name;
    st_type type;
    hpt_value default_value;    /* V_NONE when A_REQ or when None is the default */
    double min, max;            /* inclusive numeric range; NAN = unbounded */
    const char *choices;        /* "valid|same" for enumerated strings, else NULL */
    unsigned flags;
    const char *doc;
} st_arg;

/* The weight tensors a layer holds, in Keras's get_weights() order: the
 * trainable ones first (Dense's kernel then bias, a normalisation's gamma then
 * beta), then the non-trainable statistics (BatchNormalization's moving mean
 * and variance).  Sizes are doubles so the checker counts a layer of 10^13
 * weights without wrapping.  The checker bounds a model's memory with these
 * counts and the runtime lays its parameter buffer out by them: one rule, so
 * the two cannot disagree. */
enum { ST_MAX_TENSORS = 4 };
typedef struct st_weights {
    int n_trainable, n_stats;
    double size[ST_MAX_TENSORS];
    /* What the layer costs beyond its weights, from the same rule, so that the
     * checker's static costs (compiler/cost.h) and the runtime's own summary
     * agree and a new layer states them in its rule (issue 15):
     * flops: forward floating-point operations per sample, a multiply-add
     *   counting 2 (the weights' multiply-adds; a bias add, a comparison or
     *   an activation 1 per value where the rule says so);
     * kept: floats per sample the layer keeps for its backward pass besides
     *   its output (a recurrent layer's gates per step, a separable
     *   convolution's depthwise output and its gradient);
     * workspace: floats of scratch whatever the batch (an im2col block);
     * view: the output is the input seen in another shape (Flatten,
     *   Reshape): no buffer of its own. */
    double flops, kept, workspace;
    int view;
} st_weights;

/* A layer's shape rule: given the evaluated arguments and the input shape of one
 * sample (no batch axis), write the output shape and the weights the layer
 * holds (w arrives zeroed: a layer without weights leaves it); on failure
 * write a sentence into why (e.g. "needs an input of at least 7x7, but the
 * input is 5x5") and return -1.  Rules are pure so the checker can run them
 * over the whole space.  Call them through st_layer_plan. */
typedef int (*st_shape_rule)(const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank,
                             st_weights *w, char *why, size_t why_len);

typedef struct st_entry {
    int id;
    st_kind kind;
    const char *name;           /* Keras spelling: "Dense", "relu", "EarlyStopping" */
    const char *aliases;        /* other accepted spellings, '|'-separated: "adam" */
    const st_arg *args;
    int n_args;
    st_shape_rule shape;        /* layers only */
    const char *doc;
} st_entry;

#define REQUIRED { .type = V_NONE }
#define DNONE { .type = V_NONE }
#define DINT(x) { .type = V_INT, .u.i = (x) }
#define DFLT(x) { .type = V_FLOAT, .u.f = (x) }
#define DBOOL(x) { .type = V_BOOL, .u.b = (x) }
#define DSTR(x) { .type = V_STRING, .u.s = (x) }
#define DLIST0 { .type = V_LIST }
#define NB NAN

/* Arguments every layer accepts: Keras lets the first layer stand in for Input(). */
#define LAYER_COMMON(X, E) \
    X(E, input_shape, T_SHAPE, DNONE, NB, NB, NULL, A_SHAPE | A_CONST | A_NONE_OK | A_NOT_MODEL, "shape of one sample; on the first layer, stands in for Input()")

#define ST_ARGS_Input(X) \
    X(Input, shape, T_SHAPE, REQUIRED, NB, NB, NULL, A_REQ | A_SHAPE | A_CONST, "shape of one sample, without the batch axis")
#define ST_ARGS_Flatten(X) LAYER_COMMON(X, Flatten)
#define ST_ARGS_Dense(X) \
    X(Dense, units, T_INT, REQUIRED, 1, 1e7, NULL, A_REQ | A_SHAPE, "dimensionality of the output") \
    X(Dense, activation, T_ACTIVATION, DSTR("linear"), NB, NB, NULL, 0, "activation applied to the output") \
    X(Dense, use_bias, T_BOOL, DBOOL(1), NB, NB, NULL, 0, "add a bias vector") \
    X(Dense, kernel_initializer, T_STRING, DSTR("glorot_uniform"), NB, NB, "glorot_uniform|glorot_normal|he_uniform|he_normal|lecun_normal", A_NOT_MODEL, "initialiser of the kernel (biases start at zero)") \
    LAYER_COMMON(X, Dense)
#define ST_ARGS_Dropout(X) \
    X(Dropout, rate, T_FLOAT, REQUIRED, 0, 1, NULL, A_REQ | A_HI_OPEN | A_NOT_MODEL, "fraction of the inputs to drop while training") \
    LAYER_COMMON(X, Dropout)
#define ST_ARGS_Conv2D(X) \
    X(Conv2D, filters, T_INT, REQUIRED, 1, 1e6, NULL, A_REQ | A_SHAPE, "number of output channels") \
    X(Conv2D, kernel_size, T_INT_PAIR, REQUIRED, 1, 1e4, NULL, A_REQ | A_SHAPE, "height and width of the window") \
    X(Conv2D, strides, T_INT_PAIR, DINT(1), 1, 1e4, NULL, A_SHAPE, "step of the window") \
    X(Conv2D, padding, T_STRING, DSTR("valid"), NB, NB, "valid|same", A_SHAPE, "\"valid\" (no padding) or \"same\" (output size = ceil(input/stride))") \
    X(Conv2D, activation, T_ACTIVATION, DSTR("linear"), NB, NB, NULL, 0, "activation applied to the output") \
    X(Conv2D, use_bias, T_BOOL, DBOOL(1), NB, NB, NULL, 0, "add a bias per filter") \
    X(Conv2D, kernel_initializer, T_STRING, DSTR("glorot_uniform"), NB, NB, "glorot_uniform|glorot_normal|he_uniform|he_normal|lecun_normal", A_NOT_MODEL, "initialiser of the kernel") \
    LAYER_COMMON(X, Conv2D)
#define POOL_ARGS(X, E) \
    X(E, pool_size, T_INT_PAIR, DINT(2), 1, 1e4, NULL, A_SHAPE, "height and width of the window") \
    X(E, strides, T_INT_PAIR, DNONE, 1, 1e4, NULL, A_SHAPE | A_NONE_OK, "step of the window; None means pool_size") \
    X(E, padding, T_STRING, DSTR("valid"), NB, NB, "valid|same", A_SHAPE, "\"valid\" or \"same\"") \
    LAYER_COMMON(X, E)
#define ST_ARGS_MaxPooling2D(X) POOL_ARGS(X, MaxPooling2D)
#define ST_ARGS_AveragePooling2D(X) POOL_ARGS(X, AveragePooling2D)
#define ST_ARGS_BatchNormalization(X) \
    X(BatchNormalization, momentum, T_FLOAT, DFLT(0.99), 0, 1, NULL, A_NOT_MODEL, "momentum of the moving mean and variance") \
    X(BatchNormalization, epsilon, T_FLOAT, DFLT(1e-3), 0, 1, NULL, 0, "added to the variance before the square root") \
    LAYER_COMMON(X, BatchNormalization)
#define ST_ARGS_LayerNormalization(X) \
    X(LayerNormalization, axis, T_INT, DINT(-1), -1, 3, NULL, A_SHAPE, "the axis normalised: the last, written -1 or as its index counting the batch axis") \
    X(LayerNormalization, epsilon, T_FLOAT, DFLT(1e-3), 0, 1, NULL, 0, "added to the variance before the square root") \
    X(LayerNormalization, center, T_BOOL, DBOOL(1), NB, NB, NULL, 0, "add a learned offset beta") \
    X(LayerNormalization, scale, T_BOOL, DBOOL(1), NB, NB, NULL, 0, "multiply by a learned scale gamma") \
    LAYER_COMMON(X, LayerNormalization)
#define ST_ARGS_GlobalAveragePooling2D(X) \
    X(GlobalAveragePooling2D, keepdims, T_BOOL, DBOOL(0), NB, NB, NULL, A_SHAPE, "keep the spatial axes, as (1, 1, channels)") \
    LAYER_COMMON(X, GlobalAveragePooling2D)
/* Sequence and separable convolutions, 1-D pooling, global max pooling,
 * padding and upsampling (runtime/nn/layers/conv1d.c, depthwise_conv2d.c,
 * pool2d.c, global_pool2d.c, resize2d.c). */
#define ST_ARGS_Conv1D(X) \
    X(Conv1D, filters, T_INT, REQUIRED, 1, 1e6, NULL, A_REQ | A_SHAPE, "number of output channels") \
    X(Conv1D, kernel_size, T_INT, REQUIRED, 1, 1e4, NULL, A_REQ | A_SHAPE, "length of the window") \
    X(Conv1D, strides, T_INT, DINT(1), 1, 1e4, NULL, A_SHAPE, "step of the window") \
    X(Conv1D, padding, T_STRING, DSTR("valid"), NB, NB, "valid|same|causal", A_SHAPE, "\"valid\" (no padding), \"same\" (output length = ceil(steps/stride)) or \"causal\" (padded before only: output t sees steps <= t)") \
    X(Conv1D, dilation_rate, T_INT, DINT(1), 1, 1e4, NULL, A_SHAPE, "spacing of the window's taps; more than 1 needs strides = 1") \
    X(Conv1D, activation, T_ACTIVATION, DSTR("linear"), NB, NB, NULL, 0, "activation applied to the output") \
    X(Conv1D, use_bias, T_BOOL, DBOOL(1), NB, NB, NULL, 0, "add a bias per filter") \
    X(Conv1D, kernel_initializer, T_STRING, DSTR("glorot_uniform"), NB, NB, "glorot_uniform|glorot_normal|he_uniform|he_normal|lecun_normal", A_NOT_MODEL, "initialiser of the kernel") \
    LAYER_COMMON(X, Conv1D)
#define ST_ARGS_MaxPooling1D(X) \
    X(MaxPooling1D, pool_size, T_INT, DINT(2), 1, 1e4, NULL, A_SHAPE, "length of the window") \
    X(MaxPooling1D, strides, T_INT, DNONE, 1, 1e4, NULL, A_SHAPE | A_NONE_OK, "step of the window; None means pool_size") \
    X(MaxPooling1D, padding, T_STRING, DSTR("valid"), NB, NB, "valid|same", A_SHAPE, "\"valid\" or \"same\"") \
    LAYER_COMMON(X, MaxPooling1D)
#define GLOBAL_POOL_ARGS(X, E, kept) \
    X(E, keepdims, T_BOOL, DBOOL(0), NB, NB, NULL, A_SHAPE, "keep the pooled axes, as " kept) \
    LAYER_COMMON(X, E)
#define ST_ARGS_GlobalAveragePooling1D(X) GLOBAL_POOL_ARGS(X, GlobalAveragePooling1D, "(1, channels)")
#define ST_ARGS_GlobalMaxPooling1D(X) GLOBAL_POOL_ARGS(X, GlobalMaxPooling1D, "(1, channels)")
#define ST_ARGS_GlobalMaxPooling2D(X) GLOBAL_POOL_ARGS(X, GlobalMaxPooling2D, "(1, 1, channels)")
#define ST_ARGS_DepthwiseConv2D(X) \
    X(DepthwiseConv2D, kernel_size, T_INT_PAIR, REQUIRED, 1, 1e4, NULL, A_REQ | A_SHAPE, "height and width of the window") \
    X(DepthwiseConv2D, strides, T_INT_PAIR, DINT(1), 1, 1e4, NULL, A_SHAPE, "step of the window") \
    X(DepthwiseConv2D, padding, T_STRING, DSTR("valid"), NB, NB, "valid|same", A_SHAPE, "\"valid\" (no padding) or \"same\" (output size = ceil(input/stride))") \
    X(DepthwiseConv2D, depth_multiplier, T_INT, DINT(1), 1, 1e4, NULL, A_SHAPE, "output channels per input channel") \
    X(DepthwiseConv2D, activation, T_ACTIVATION, DSTR("linear"), NB, NB, NULL, 0, "activation applied to the output") \
    X(DepthwiseConv2D, use_bias, T_BOOL, DBOOL(1), NB, NB, NULL, 0, "add a bias per output channel") \
    X(DepthwiseConv2D, depthwise_initializer, T_STRING, DSTR("glorot_uniform"), NB, NB, "glorot_uniform|glorot_normal|he_uniform|he_normal|lecun_normal", A_NOT_MODEL, "initialiser of the depthwise kernel") \
    LAYER_COMMON(X, DepthwiseConv2D)
#define ST_ARGS_SeparableConv2D(X) \
    X(SeparableConv2D, filters, T_INT, REQUIRED, 1, 1e6, NULL, A_REQ | A_SHAPE, "number of output channels") \
    X(SeparableConv2D, kernel_size, T_INT_PAIR, REQUIRED, 1, 1e4, NULL, A_REQ | A_SHAPE, "height and width of the depthwise window") \
    X(SeparableConv2D, strides, T_INT_PAIR, DINT(1), 1, 1e4, NULL, A_SHAPE, "step of the depthwise window") \
    X(SeparableConv2D, padding, T_STRING, DSTR("valid"), NB, NB, "valid|same", A_SHAPE, "\"valid\" (no padding) or \"same\" (output size = ceil(input/stride))") \
    X(SeparableConv2D, depth_multiplier, T_INT, DINT(1), 1, 1e4, NULL, A_SHAPE, "depthwise output channels per input channel") \
    X(SeparableConv2D, activation, T_ACTIVATION, DSTR("linear"), NB, NB, NULL, 0, "activation applied to the output") \
    X(SeparableConv2D, use_bias, T_BOOL, DBOOL(1), NB, NB, NULL, 0, "add a bias per filter (after the pointwise step)") \
    X(SeparableConv2D, depthwise_initializer, T_STRING, DSTR("glorot_uniform"), NB, NB, "glorot_uniform|glorot_normal|he_uniform|he_normal|lecun_normal", A_NOT_MODEL, "initialiser of the depthwise kernel") \
    X(SeparableConv2D, pointwise_initializer, T_STRING, DSTR("glorot_uniform"), NB, NB, "glorot_uniform|glorot_normal|he_uniform|he_normal|lecun_normal", A_NOT_MODEL, "initialiser of the pointwise (1x1) kernel") \
    LAYER_COMMON(X, SeparableConv2D)
#define ST_ARGS_ZeroPadding2D(X) \
    X(ZeroPadding2D, padding, T_PADDING, DINT(1), 0, 1e4, NULL, A_SHAPE, "zeros added: int (every side), (rows, columns) (each on both sides), or ((top, bottom), (left, right))") \
    LAYER_COMMON(X, ZeroPadding2D)
#define ST_ARGS_UpSampling2D(X) \
    X(UpSampling2D, size, T_INT_PAIR, DINT(2), 1, 1e4, NULL, A_SHAPE, "factors for rows and columns") \
    X(UpSampling2D, interpolation, T_STRING, DSTR("nearest"), NB, NB, "nearest|bilinear", 0, "\"nearest\" repeats each value; \"bilinear\" interpolates (half-pixel centres, as tf.image.resize)") \
    LAYER_COMMON(X, UpSampling2D)
#define ST_ARGS_Reshape(X) \
    X(Reshape, target_shape, T_SHAPE, REQUIRED, NB, NB, NULL, A_REQ | A_SHAPE | A_INFER_ONE, "shape of one sample, without the batch axis; one size may be -1, inferred from the others") \
    LAYER_COMMON(X, Reshape)
/* Merge layers join branches (see docs/language.md, *Graphs*): written as
 * `Add { branch { ... } branch { ... } }`, `Residual { ... }`.  They take no
 * input_shape: a model never starts with one. */
#define ST_ARGS_Add(X)
#define ST_ARGS_Concatenate(X) \
    X(Concatenate, axis, T_INT, DINT(-1), -3, 3, NULL, A_SHAPE, "the axis joined: -1 the last; as in Keras a positive axis counts the batch axis as 0")
#define ST_ARGS_Residual(X) \
    X(Residual, projection, T_STRING, DSTR("auto"), NB, NB, "auto|never", A_SHAPE, "\"auto\": when the body's output shape differs from its input's, the shortcut is projected by a learned 1x1 convolution (strided to the body's size) or dense map; \"never\": the shapes must match")
#define ST_ARGS_Activation(X) \
    X(Activation, activation, T_ACTIVATION, REQUIRED, NB, NB, NULL, A_REQ, "the activation to apply") \
    LAYER_COMMON(X, Activation)
/* The augmentation layers act only while training (every argument A_NOT_MODEL):
 * Keras 2's arguments, order and defaults. */
#define AUGMENT_SEED(X, E) \
    X(E, seed, T_INT, DNONE, 0, 9.2e18, NULL, A_NONE_OK | A_NOT_MODEL, "None: the draws come from the trial's seed; an int replaces it, so every trial draws the same")
#define AUGMENT_FILL_ARGS(X, E) \
    X(E, fill_mode, T_STRING, DSTR("reflect"), NB, NB, "reflect|wrap|constant|nearest", A_NOT_MODEL, "how points outside the input are read: \"reflect\" mirrors the image about its edges, \"wrap\" repeats it, \"constant\" reads fill_value, \"nearest\" repeats the edge pixels") \
    X(E, interpolation, T_STRING, DSTR("bilinear"), NB, NB, "bilinear|nearest", A_NOT_MODEL, "\"bilinear\" or \"nearest\" interpolation between pixels") \
    AUGMENT_SEED(X, E) \
    X(E, fill_value, T_FLOAT, DFLT(0.0), NB, NB, NULL, A_NOT_MODEL, "the value outside the input when fill_mode is \"constant\"") \
    LAYER_COMMON(X, E)
#define ST_ARGS_RandomFlip(X) \
    X(RandomFlip, mode, T_STRING, DSTR("horizontal_and_vertical"), NB, NB, "horizontal_and_vertical|horizontal|vertical", A_NOT_MODEL, "\"horizontal\" mirrors left-right, \"vertical\" top-bottom, each image with probability 1/2; \"horizontal_and_vertical\" draws both, independently") \
    AUGMENT_SEED(X, RandomFlip) \
    LAYER_COMMON(X, RandomFlip)
#define ST_ARGS_RandomTranslation(X) \
    X(RandomTranslation, height_factor, T_FLOAT_PAIR, REQUIRED, -1, 1, NULL, A_REQ | A_NOT_MODEL, "vertical shift as a fraction of the height, drawn from (lower, upper), or from (-f, f) for f; positive shifts down") \
    X(RandomTranslation, width_factor, T_FLOAT_PAIR, REQUIRED, -1, 1, NULL, A_REQ | A_NOT_MODEL, "horizontal shift as a fraction of the width, likewise; positive shifts right") \
    AUGMENT_FILL_ARGS(X, RandomTranslation)
#define ST_ARGS_RandomRotation(X) \
    X(RandomRotation, factor, T_FLOAT_PAIR, REQUIRED, NB, NB, NULL, A_REQ | A_NOT_MODEL, "angle as a fraction of 2 pi, drawn from (lower, upper), or from (-f, f) for f; positive turns counter-clockwise") \
    AUGMENT_FILL_ARGS(X, RandomRotation)
#define ST_ARGS_RandomZoom(X) \
    X(RandomZoom, height_factor, T_FLOAT_PAIR, REQUIRED, -1, NB, NULL, A_REQ | A_NOT_MODEL, "vertical zoom drawn from (lower, upper), or from (-f, f) for f: the image is scaled by 1 / (1 + factor), positive zooms out, -0.5 is 2x in") \
    X(RandomZoom, width_factor, T_FLOAT_PAIR, DNONE, -1, NB, NULL, A_NONE_OK | A_NOT_MODEL, "horizontal zoom, likewise; None zooms the width as the height (the same draw), keeping the aspect ratio") \
    AUGMENT_FILL_ARGS(X, RandomZoom)
#define ST_ARGS_Embedding(X) \
    X(Embedding, input_dim, T_INT, REQUIRED, 1, 1e9, NULL, A_REQ | A_SHAPE, "size of the vocabulary: indices run from 0 to input_dim - 1") \
    X(Embedding, output_dim, T_INT, REQUIRED, 1, 1e7, NULL, A_REQ | A_SHAPE, "dimensionality of each index's vector") \
    X(Embedding, embeddings_initializer, T_STRING, DSTR("uniform"), NB, NB, "uniform", A_NOT_MODEL, "initialiser of the table: \"uniform\" is U(-0.05, 0.05), as Keras") \
    X(Embedding, mask_zero, T_BOOL, DBOOL(0), NB, NB, NULL, A_SHAPE, "index 0 as padding to mask; hptc has no masks, so only False") \
    LAYER_COMMON(X, Embedding)
/* LSTM and GRU share their argument positions up to unit_forget_bias / reset_after. */
#define RECURRENT_ARGS(X, E) \
    X(E, units, T_INT, REQUIRED, 1, 1e5, NULL, A_REQ | A_SHAPE, "dimensionality of the output (and of the state)") \
    X(E, activation, T_ACTIVATION, DSTR("tanh"), NB, NB, NULL, A_SHAPE, "activation of the candidate state and of the output: tanh, sigmoid, relu or linear") \
    X(E, recurrent_activation, T_ACTIVATION, DSTR("sigmoid"), NB, NB, NULL, A_SHAPE, "activation of the gates: sigmoid, tanh, relu or linear") \
    X(E, use_bias, T_BOOL, DBOOL(1), NB, NB, NULL, 0, "add bias vectors") \
    X(E, return_sequences, T_BOOL, DBOOL(0), NB, NB, NULL, A_SHAPE, "output every step's state (steps, units), not only the last (units,)") \
    X(E, kernel_initializer, T_STRING, DSTR("glorot_uniform"), NB, NB, "glorot_uniform|glorot_normal|he_uniform|he_normal|lecun_normal", A_NOT_MODEL, "initialiser of the input kernel") \
    X(E, recurrent_initializer, T_STRING, DSTR("orthogonal"), NB, NB, "orthogonal|glorot_uniform", A_NOT_MODEL, "initialiser of the recurrent kernel: \"orthogonal\" (QR of a normal matrix, as Keras)") \
    X(E, bias_initializer, T_STRING, DSTR("zeros"), NB, NB, "zeros", A_NOT_MODEL, "initialiser of the bias")
#define ST_ARGS_LSTM(X) \
    RECURRENT_ARGS(X, LSTM) \
    X(LSTM, unit_forget_bias, T_BOOL, DBOOL(1), NB, NB, NULL, A_NOT_MODEL, "start the forget gate's bias at 1") \
    LAYER_COMMON(X, LSTM)
#define ST_ARGS_GRU(X) \
    RECURRENT_ARGS(X, GRU) \
    X(GRU, reset_after, T_BOOL, DBOOL(1), NB, NB, NULL, A_SHAPE, "apply the reset gate after the recurrent matrix (Keras 2's and PyTorch's form); hptc has only True") \
    LAYER_COMMON(X, GRU)

#define ST_ARGS_relu(X)
#define ST_ARGS_tanh(X)
#define ST_ARGS_sigmoid(X)
#define ST_ARGS_gelu(X)
#define ST_ARGS_softmax(X)
#define ST_ARGS_linear(X)

#define ST_ARGS_SGD(X) \
    X(SGD, learning_rate, T_LR, DFLT(0.01), 0, NB, NULL, 0, "step size, or a learning-rate schedule such as CosineDecay(...)") \
    X(SGD, momentum, T_FLOAT, DFLT(0.0), 0, 1, NULL, 0, "accelerates along persistent directions; 0 is plain SGD") \
    X(SGD, nesterov, T_BOOL, DBOOL(0), NB, NB, NULL, 0, "Nesterov momentum")
#define ADAM_ARGS(X, E) \
    X(E, beta_1, T_FLOAT, DFLT(0.9), 0, 1, NULL, A_HI_OPEN, "decay of the first-moment estimate") \
    X(E, beta_2, T_FLOAT, DFLT(0.999), 0, 1, NULL, A_HI_OPEN, "decay of the second-moment estimate") \
    X(E, epsilon, T_FLOAT, DFLT(1e-7), 0, NB, NULL, 0, "added to the denominator for stability")
#define ST_ARGS_Adam(X) \
    X(Adam, learning_rate, T_LR, DFLT(0.001), 0, NB, NULL, 0, "step size, or a learning-rate schedule such as CosineDecay(...)") \
    ADAM_ARGS(X, Adam)
#define ST_ARGS_AdamW(X) \
    X(AdamW, learning_rate, T_LR, DFLT(0.001), 0, NB, NULL, 0, "step size, or a learning-rate schedule such as CosineDecay(...)") \
    X(AdamW, weight_decay, T_FLOAT, DFLT(0.004), 0, NB, NULL, 0, "decoupled weight decay") \
    ADAM_ARGS(X, AdamW)
#define ST_ARGS_RMSprop(X) \
    X(RMSprop, learning_rate, T_LR, DFLT(0.001), 0, NB, NULL, 0, "step size, or a learning-rate schedule such as CosineDecay(...)") \
    X(RMSprop, rho, T_FLOAT, DFLT(0.9), 0, 1, NULL, 0, "decay of the squared-gradient average") \
    X(RMSprop, momentum, T_FLOAT, DFLT(0.0), 0, 1, NULL, 0, "momentum") \
    X(RMSprop, epsilon, T_FLOAT, DFLT(1e-7), 0, NB, NULL, 0, "added to the denominator for stability")

#define ST_ARGS_SparseCategoricalCrossentropy(X) \
    X(SparseCategoricalCrossentropy, from_logits, T_BOOL, DBOOL(0), NB, NB, NULL, 0, "the model outputs logits, not probabilities")
#define ST_ARGS_CategoricalCrossentropy(X) \
    X(CategoricalCrossentropy, from_logits, T_BOOL, DBOOL(0), NB, NB, NULL, 0, "the model outputs logits, not probabilities")
#define ST_ARGS_MeanSquaredError(X)
#define ST_ARGS_BinaryCrossentropy(X) \
    X(BinaryCrossentropy, from_logits, T_BOOL, DBOOL(0), NB, NB, NULL, 0, "the model outputs logits, not probabilities")
#define ST_ARGS_MeanAbsoluteError(X)
#define ST_ARGS_Huber(X) \
    X(Huber, delta, T_FLOAT, DFLT(1.0), 0, NB, NULL, 0, "where the loss turns from quadratic to linear")
#define ST_ARGS_accuracy(X)
#define ST_ARGS_AUC(X)
#define ST_ARGS_Precision(X)
#define ST_ARGS_Recall(X)
#define ST_ARGS_mae(X)
#define ST_ARGS_mse(X)
#define ST_ARGS_RootMeanSquaredError(X)

/* Keras's LearningRateSchedule objects, written as an optimizer's learning_rate. */
#define ST_ARGS_CosineDecay(X) \
    X(CosineDecay, initial_learning_rate, T_FLOAT, REQUIRED, 0, NB, NULL, A_REQ, "the learning rate at step 0") \
    X(CosineDecay, decay_steps, T_INT, REQUIRED, 1, 9.2e18, NULL, A_REQ, "steps to decay over; the rate stays at alpha x initial after them") \
    X(CosineDecay, alpha, T_FLOAT, DFLT(0.0), 0, 1, NULL, 0, "the floor, as a fraction of initial_learning_rate")
#define ST_ARGS_ExponentialDecay(X) \
    X(ExponentialDecay, initial_learning_rate, T_FLOAT, REQUIRED, 0, NB, NULL, A_REQ, "the learning rate at step 0") \
    X(ExponentialDecay, decay_steps, T_INT, REQUIRED, 1, 9.2e18, NULL, A_REQ, "steps over which the rate is multiplied by decay_rate") \
    X(ExponentialDecay, decay_rate, T_FLOAT, REQUIRED, 0, NB, NULL, A_REQ, "the factor per decay_steps") \
    X(ExponentialDecay, staircase, T_BOOL, DBOOL(0), NB, NB, NULL, 0, "decay in whole steps of decay_steps (floor(step / decay_steps))")
#define ST_ARGS_PiecewiseConstantDecay(X) \
    X(PiecewiseConstantDecay, boundaries, T_NUMBERS, REQUIRED, NB, NB, NULL, A_REQ, "increasing step numbers where the rate changes") \
    X(PiecewiseConstantDecay, values, T_NUMBERS, REQUIRED, 0, NB, NULL, A_REQ, "the rates: one more than boundaries; values[i] up to boundaries[i]")

#define ST_ARGS_EarlyStopping(X) \
    X(EarlyStopping, monitor, T_STRING, DSTR("val_loss"), NB, NB, NULL, 0, "metric watched: loss, or a compiled metric, val_ for validation") \
    X(EarlyStopping, min_delta, T_FLOAT, DFLT(0.0), 0, NB, NULL, 0, "smallest change that counts as an improvement") \
    X(EarlyStopping, patience, T_INT, DINT(0), 0, 1e9, NULL, 0, "epochs without improvement before stopping") \
    X(EarlyStopping, mode, T_STRING, DSTR("auto"), NB, NB, "auto|min|max", 0, "whether the monitor should fall or rise; auto infers it as the tuner's objective") \
    X(EarlyStopping, restore_best_weights, T_BOOL, DBOOL(0), NB, NB, NULL, 0, "end with the weights of the best epoch")
#define ST_ARGS_ReduceLROnPlateau(X) \
    X(ReduceLROnPlateau, monitor, T_STRING, DSTR("val_loss"), NB, NB, NULL, 0, "metric watched: loss, or a compiled metric, val_ for validation") \
    X(ReduceLROnPlateau, factor, T_FLOAT, DFLT(0.1), 0, 1, NULL, A_HI_OPEN, "the learning rate is multiplied by this") \
    X(ReduceLROnPlateau, patience, T_INT, DINT(10), 0, 1e9, NULL, 0, "epochs without improvement before reducing") \
    X(ReduceLROnPlateau, mode, T_STRING, DSTR("auto"), NB, NB, "auto|min|max", 0, "whether the monitor should fall or rise; auto infers it as the tuner's objective") \
    X(ReduceLROnPlateau, min_delta, T_FLOAT, DFLT(1e-4), 0, NB, NULL, 0, "smallest change that counts as an improvement") \
    X(ReduceLROnPlateau, cooldown, T_INT, DINT(0), 0, 1e9, NULL, 0, "epochs to wait after a reduction before counting again") \
    X(ReduceLROnPlateau, min_lr, T_FLOAT, DFLT(0.0), 0, NB, NULL, 0, "the learning rate is never reduced below this")
#define ST_ARGS_TerminateOnNaN(X)

/* Arguments every tuner takes, as in Keras Tuner's Tuner and Oracle. */
#define TUNER_COMMON(X, E) \
    X(E, objective, T_OBJECTIVE, DSTR("val_loss"), NB, NB, NULL, A_CONST, "metric to optimise; its direction is Keras Tuner's: accuracy, auc, precision, recall maximised, loss and errors (mae, mse, rmse) minimised; Objective(name, direction) sets it; a list is summed as Keras Tuner's; Pareto(...) asks for the front of several") \
    X(E, seed, T_INT, DNONE, 0, 9.2e18, NULL, A_CONST | A_NONE_OK, "random seed of the search (0 is a seed; None means 0 too, so runs repeat)") \
    X(E, executions_per_trial, T_INT, DINT(1), 1, 1000, NULL, A_CONST, "trainings per trial; the score is their mean") \
    X(E, max_retries_per_trial, T_INT, DINT(0), 0, 1000, NULL, A_CONST, "retries of a failed trial") \
    X(E, max_consecutive_failed_trials, T_INT, DINT(3), 1, 1e6, NULL, A_CONST, "stop the search after this many failures in a row") \
    X(E, overwrite, T_BOOL, DBOOL(0), NB, NB, NULL, A_CONST, "start afresh instead of resuming the project") \
    X(E, directory, T_STRING, DSTR("."), NB, NB, NULL, A_CONST | A_NONEMPTY, "where the project's folder is made") \
    X(E, project_name, T_STRING, DSTR("untitled_project"), NB, NB, NULL, A_CONST | A_FOLDER, "folder (under directory) holding hptc.db") \
    COST_LIMITS(X, E)
/* The costs a configuration may have (issue 15, compiler/cost.h): larger ones are never built or trained. */
#define COST_LIMITS(X, E) \
    X(E, max_model_size, T_INT, DNONE, 1, 9.2e18, NULL, A_CONST | A_NONE_OK, "largest model to train, in trainable parameters (Keras Tuner's); configurations over it are never sampled nor trained") \
    X(E, max_flops, T_FLOAT, DNONE, 1, NB, NULL, A_CONST | A_NONE_OK, "largest forward pass to train, in floating-point operations per sample (a multiply-add is 2)") \
    X(E, max_memory, T_FLOAT, DNONE, 0.001, NB, NULL, A_CONST | A_NONE_OK, "largest training step to run, in MB (10^6 bytes) of weights, gradients, optimizer state and activations at the batch size")
#define ST_ARGS_RandomSearch(X) \
    X(RandomSearch, max_trials, T_INT, DINT(10), 1, 1e9, NULL, A_CONST, "trials to run (fewer if the space is smaller)") \
    TUNER_COMMON(X, RandomSearch)
#define ST_ARGS_GridSearch(X) \
    X(GridSearch, max_trials, T_INT, DNONE, 1, 1e9, NULL, A_CONST | A_NONE_OK, "stop after this many trials; None runs the whole grid") \
    TUNER_COMMON(X, GridSearch)
#define ST_ARGS_BayesianOptimization(X) \
    X(BayesianOptimization, max_trials, T_INT, DINT(10), 1, 1e9, NULL, A_CONST, "trials to run") \
    X(BayesianOptimization, num_initial_points, T_INT, DNONE, 1, 1e9, NULL, A_CONST | A_NONE_OK, "random trials before the Gaussian process; None means 3 x dimensions") \
    X(BayesianOptimization, alpha, T_FLOAT, DFLT(1e-4), 0, NB, NULL, A_CONST, "noise variance added to the kernel's diagonal") \
    X(BayesianOptimization, beta, T_FLOAT, DFLT(2.6), 0, NB, NULL, A_CONST, "exploration weight of the confidence bound") \
    TUNER_COMMON(X, BayesianOptimization)
#define HYPERBAND_ARGS(X, E) \
    X(E, max_epochs, T_INT, DINT(100), 1, 1e6, NULL, A_CONST, "epochs of the longest-trained trials") \
    X(E, factor, T_INT, DINT(3), 2, 1e3, NULL, A_CONST, "reduction factor between rounds of a bracket") \
    X(E, hyperband_iterations, T_INT, DINT(1), 1, 1e4, NULL, A_CONST, "times the whole set of brackets is run")
#define ST_ARGS_Hyperband(X) HYPERBAND_ARGS(X, Hyperband) TUNER_COMMON(X, Hyperband)
#define ST_ARGS_BOHB(X) HYPERBAND_ARGS(X, BOHB) TUNER_COMMON(X, BOHB)
#define ST_ARGS_TPE(X) \
    X(TPE, max_trials, T_INT, DINT(10), 1, 1e9, NULL, A_CONST, "trials to run") \
    X(TPE, n_startup_trials, T_INT, DINT(10), 0, 1e9, NULL, A_CONST, "random trials before the model (Optuna's default 10)") \
    TUNER_COMMON(X, TPE)
/* Issue 15, pareto: several objectives, and NSGA-II (Optuna's NSGAIISampler). */
#define ST_ARGS_NSGAII(X) \
    X(NSGAII, max_trials, T_INT, DINT(10), 1, 1e9, NULL, A_CONST, "trials to run") \
    X(NSGAII, population_size, T_INT, DINT(50), 2, 1e6, NULL, A_CONST, "trials per generation; the first generation is random") \
    X(NSGAII, mutation_prob, T_FLOAT, DNONE, 0, 1, NULL, A_CONST | A_NONE_OK, "chance that a hyperparameter of a child is drawn afresh; None means 1 / the number of hyperparameters") \
    X(NSGAII, crossover_prob, T_FLOAT, DFLT(0.9), 0, 1, NULL, A_CONST, "chance that a child mixes two parents rather than copying one") \
    X(NSGAII, swapping_prob, T_FLOAT, DFLT(0.5), 0, 1, NULL, A_CONST, "uniform crossover: chance that a hyperparameter comes from the second parent") \
    TUNER_COMMON(X, NSGAII)
#define ST_ARGS_Objective(X) \
    X(Objective, name, T_STRING, REQUIRED, NB, NB, NULL, A_REQ | A_CONST | A_NONEMPTY, "a metric (val_accuracy), or in Pareto(...) a cost: params, flops, memory_mb, or the measured latency_ms") \
    X(Objective, direction, T_STRING, REQUIRED, NB, NB, "min|max", A_REQ | A_CONST, "whether it should fall or rise")
#define ST_ARGS_Pareto(X) \
    X(Pareto, a, T_OBJECTIVE, REQUIRED, NB, NB, NULL, A_REQ | A_CONST, "first objective: a name or Objective(name, direction)") \
    X(Pareto, b, T_OBJECTIVE, DNONE, NB, NB, NULL, A_CONST | A_NONE_OK, "second objective (a front needs two)") \
    X(Pareto, c, T_OBJECTIVE, DNONE, NB, NB, NULL, A_CONST | A_NONE_OK, "third objective") \
    X(Pareto, d, T_OBJECTIVE, DNONE, NB, NB, NULL, A_CONST | A_NONE_OK, "fourth objective")
/* ASHA (issue 15, part asha): Ray Tune's ASHAScheduler and Optuna's
 * SuccessiveHalvingPruner names; runtime/tune/oracle_asha.c has the rule. */
#define ST_ARGS_ASHA(X) \
    X(ASHA, max_epochs, T_INT, DINT(100), 1, 1e6, NULL, A_CONST, "epochs of the top rung (Ray's max_t)") \
    X(ASHA, grace_period, T_INT, DINT(1), 1, 1e6, NULL, A_CONST, "epochs of the bottom rung before any trial is stopped (Ray's grace_period, Optuna's min_resource)") \
    X(ASHA, reduction_factor, T_INT, DINT(4), 2, 1e3, NULL, A_CONST, "rung k trains grace_period x reduction_factor^(min_early_stopping_rate + k) epochs; the top 1/reduction_factor of a rung is promoted") \
    X(ASHA, min_early_stopping_rate, T_INT, DINT(0), 0, 100, NULL, A_CONST, "raises the bottom rung to grace_period x reduction_factor^this (Optuna's)") \
    X(ASHA, max_epochs_total, T_INT, DNONE, 1, 1e9, NULL, A_CONST | A_NONE_OK, "budget: stop before the epochs trained by all trials would exceed this") \
    X(ASHA, max_trials, T_INT, DNONE, 1, 1e9, NULL, A_CONST | A_NONE_OK, "configurations to sample at the bottom rung (promotions are not counted)") \
    X(ASHA, max_concurrent_trials, T_INT, DINT(4), 1, 1e4, NULL, A_CONST, "virtual workers of the deterministic clock: at most this many trials run at once, whatever --jobs") \
    TUNER_COMMON(X, ASHA)

#define DATA_COMMON(X, E) \
    X(E, scale, T_FLOAT, DFLT(1.0), NB, NB, NULL, 0, "every feature is multiplied by this (1/255 for images)")
#define ST_ARGS_fashion_mnist(X) DATA_COMMON(X, fashion_mnist)
#define ST_ARGS_mnist(X) DATA_COMMON(X, mnist)
#define ST_ARGS_idx(X) \
    X(idx, train_images, T_STRING, REQUIRED, NB, NB, NULL, A_REQ | A_CONST | A_PATH, "IDX file of training samples (.gz or plain)") \
    X(idx, train_labels, T_STRING, REQUIRED, NB, NB, NULL, A_REQ | A_CONST | A_PATH, "IDX file of training labels") \
    X(idx, test_images, T_STRING, DNONE, NB, NB, NULL, A_CONST | A_NONE_OK | A_PATH, "IDX file of test samples") \
    X(idx, test_labels, T_STRING, DNONE, NB, NB, NULL, A_CONST | A_NONE_OK | A_PATH, "IDX file of test labels") \
    DATA_COMMON(X, idx)
#define ST_ARGS_csv(X) \
    X(csv, path, T_STRING, REQUIRED, NB, NB, NULL, A_REQ | A_CONST | A_PATH, "CSV file with a header row") \
    X(csv, label, T_STRING, DNONE, NB, NB, NULL, A_CONST | A_NONE_OK, "name of the label column; None means the last") \
    X(csv, test, T_STRING, DNONE, NB, NB, NULL, A_CONST | A_NONE_OK | A_PATH, "CSV file of the test split, same columns") \
    X(csv, standardize, T_BOOL, DBOOL(0), NB, NB, NULL, A_CONST, "subtract each feature's mean and divide by its standard deviation, both of the training file (scikit-learn's StandardScaler); the test and validation files get the same") \
    DATA_COMMON(X, csv)
#define ST_ARGS_npy(X) \
    X(npy, x, T_STRING, REQUIRED, NB, NB, NULL, A_REQ | A_CONST | A_PATH, ".npy file of samples") \
    X(npy, y, T_STRING, REQUIRED, NB, NB, NULL, A_REQ | A_CONST | A_PATH, ".npy file of labels") \
    X(npy, test_x, T_STRING, DNONE, NB, NB, NULL, A_CONST | A_NONE_OK | A_PATH, ".npy file of test samples") \
    X(npy, test_y, T_STRING, DNONE, NB, NB, NULL, A_CONST | A_NONE_OK | A_PATH, ".npy file of test labels") \
    DATA_COMMON(X, npy)

#define ST_ARGS_compile(X) \
    X(compile, optimizer, T_OPTIMIZER, DSTR("rmsprop"), NB, NB, NULL, 0, "optimizer object or name") \
    X(compile, loss, T_LOSS, REQUIRED, NB, NB, NULL, A_REQ, "loss object or name") \
    X(compile, metrics, T_METRICS, DLIST0, NB, NB, NULL, 0, "metrics reported each epoch") \
    X(compile, dtype_policy, T_STRING, DSTR("float32"), NB, NB, "float32|mixed_bfloat16", 0, "the training step's precision, Keras's dtype policy: \"float32\", or \"mixed_bfloat16\" (compute in bfloat16; variables, optimizer and loss in float32)")
#define ST_ARGS_search(X) \
    X(search, epochs, T_INT, DINT(1), 1, 1e6, NULL, 0, "epochs per trial (Hyperband, BOHB and ASHA set their own)") \
    X(search, validation_split, T_FLOAT, DFLT(0.0), 0, 1, NULL, A_HI_OPEN, "last fraction of the training data held out for validation") \
    X(search, validation_data, T_DATA, DNONE, NB, NB, NULL, A_NONE_OK | A_CONST, "separate validation data (overrides validation_split)") \
    X(search, batch_size, T_INT, DINT(32), 1, 1e6, NULL, 0, "samples per gradient step") \
    X(search, shuffle, T_BOOL, DBOOL(1), NB, NB, NULL, 0, "reshuffle the training data every epoch") \
    X(search, callbacks, T_CALLBACKS, DLIST0, NB, NB, NULL, 0, "callbacks such as EarlyStopping") \
    X(search, cv, T_SPLITTER, DNONE, 2, 1e4, NULL, A_NONE_OK | A_CONST, "k-fold cross-validation: an int k or StratifiedKFold(...)")
#define ST_ARGS_StratifiedKFold(X) \
    X(StratifiedKFold, n_splits, T_INT, DINT(5), 2, 1e4, NULL, A_CONST, "number of folds") \
    X(StratifiedKFold, shuffle, T_BOOL, DBOOL(0), NB, NB, NULL, A_CONST, "shuffle each class before splitting") \
    X(StratifiedKFold, seed, T_INT, DNONE, 0, 9.2e18, NULL, A_CONST | A_NONE_OK, "seed of the shuffle")

/* The classic estimators, with scikit-learn 1.2's names and defaults. */
#define ST_ARGS_RidgeClassifier(X) \
    X(RidgeClassifier, alpha, T_FLOAT, DFLT(1.0), 0, NB, NULL, 0, "L2 penalty strength; 0 needs linearly independent features") \
    X(RidgeClassifier, fit_intercept, T_BOOL, DBOOL(1), NB, NB, NULL, 0, "centre the data and fit an unpenalised intercept")
#define ST_ARGS_LogisticRegression(X) \
    X(LogisticRegression, C, T_FLOAT, DFLT(1.0), 0, NB, NULL, 0, "inverse L2 penalty strength (> 0): the loss is the sum of log losses + (sum of squared coefficients) / 2C") \
    X(LogisticRegression, max_iter, T_INT, DINT(100), 1, 1e7, NULL, 0, "L-BFGS iterations at most") \
    X(LogisticRegression, tol, T_FLOAT, DFLT(1e-4), 0, NB, NULL, 0, "stop when every gradient component is at most this") \
    X(LogisticRegression, fit_intercept, T_BOOL, DBOOL(1), NB, NB, NULL, 0, "fit an unpenalised intercept")
#define ST_ARGS_RandomForestClassifier(X) \
    X(RandomForestClassifier, n_estimators, T_INT, DINT(100), 1, 1e5, NULL, 0, "trees in the forest") \
    X(RandomForestClassifier, max_depth, T_INT, DNONE, 1, 1e4, NULL, A_NONE_OK, "depth limit; None grows until leaves are pure") \
    X(RandomForestClassifier, min_samples_split, T_INT, DINT(2), 2, 1e9, NULL, 0, "samples a node needs to be split") \
    X(RandomForestClassifier, max_features, T_FEATURES, DSTR("sqrt"), NB, NB, "sqrt|log2", A_NONE_OK, "features tried per split: \"sqrt\", \"log2\", a count, a fraction, or None (all)") \
    X(RandomForestClassifier, bootstrap, T_BOOL, DBOOL(1), NB, NB, NULL, 0, "each tree sees a bootstrap sample of the rows")
#define ST_ARGS_KNeighborsClassifier(X) \
    X(KNeighborsClassifier, n_neighbors, T_INT, DINT(5), 1, 1e6, NULL, 0, "neighbours that vote") \
    X(KNeighborsClassifier, weights, T_STRING, DSTR("uniform"), NB, NB, "uniform|distance", 0, "\"uniform\" votes, or \"distance\": each weighted by 1 / distance")

/* X(ID, kind, aliases, shape rule, doc).  Order is the documentation's order. */
#define ST_ENTRIES(X) \
    X(Input, ST_LAYER, NULL, st_shape_input, "declares the shape of one sample") \
    X(Flatten, ST_LAYER, NULL, st_shape_flatten, "reshapes each sample to one axis") \
    X(Reshape, ST_LAYER, NULL, st_shape_reshape, "gives each sample another shape of the same size") \
    X(Dense, ST_LAYER, NULL, st_shape_dense, "fully connected layer: activation(x . kernel + bias)") \
    X(Dropout, ST_LAYER, NULL, st_shape_same, "zeroes a random fraction of inputs while training (inverted scaling)") \
    X(Conv2D, ST_LAYER, NULL, st_shape_conv2d, "2-D convolution over (height, width, channels) samples") \
    X(MaxPooling2D, ST_LAYER, NULL, st_shape_maxpool2d, "maximum over each window") \
    X(AveragePooling2D, ST_LAYER, NULL, st_shape_avgpool2d, "mean over each window") \
    X(GlobalAveragePooling2D, ST_LAYER, NULL, st_shape_global_avgpool2d, "mean over height and width: (height, width, channels) to (channels,)") \
    X(Conv1D, ST_LAYER, NULL, st_shape_conv1d, "1-D convolution over (steps, channels) samples") \
    X(MaxPooling1D, ST_LAYER, NULL, st_shape_maxpool1d, "maximum over each window of steps") \
    X(GlobalAveragePooling1D, ST_LAYER, NULL, st_shape_global_pool1d, "mean over the steps: (steps, channels) to (channels,)") \
    X(GlobalMaxPooling1D, ST_LAYER, NULL, st_shape_global_pool1d, "maximum over the steps: (steps, channels) to (channels,)") \
    X(GlobalMaxPooling2D, ST_LAYER, NULL, st_shape_global_maxpool2d, "maximum over height and width: (height, width, channels) to (channels,)") \
    X(DepthwiseConv2D, ST_LAYER, NULL, st_shape_depthwise_conv2d, "2-D convolution of each channel on its own, depth_multiplier outputs per channel") \
    X(SeparableConv2D, ST_LAYER, NULL, st_shape_separable_conv2d, "depthwise convolution, then a pointwise (1x1) convolution mixing the channels") \
    X(ZeroPadding2D, ST_LAYER, NULL, st_shape_zero_padding2d, "adds rows and columns of zeros around each image") \
    X(UpSampling2D, ST_LAYER, NULL, st_shape_upsampling2d, "repeats (or interpolates) rows and columns by integer factors") \
    X(BatchNormalization, ST_LAYER, NULL, st_shape_batchnorm, "normalises the last axis with batch statistics (moving statistics at inference)") \
    X(LayerNormalization, ST_LAYER, NULL, st_shape_layernorm, "normalises each sample over its last axis, in training and at inference alike") \
    X(Activation, ST_LAYER, NULL, st_shape_activation, "applies an activation") \
    X(RandomFlip, ST_LAYER, NULL, st_shape_random_flip, "mirrors each image at random while training; the identity at inference") \
    X(RandomTranslation, ST_LAYER, NULL, st_shape_random_translation, "shifts each image by a random fraction of its size while training; the identity at inference") \
    X(RandomRotation, ST_LAYER, NULL, st_shape_random_rotation, "rotates each image by a random angle about its centre while training; the identity at inference") \
    X(RandomZoom, ST_LAYER, NULL, st_shape_random_zoom, "zooms each image in or out by a random factor about its centre while training; the identity at inference") \
    X(Add, ST_LAYER, NULL, st_shape_same, "sums its branches, element by element: Add { branch { ... } branch { ... } }") \
    X(Concatenate, ST_LAYER, NULL, st_shape_same, "joins its branches along an axis: Concatenate(axis = -1) { branch { ... } branch { ... } }") \
    X(Residual, ST_LAYER, NULL, st_shape_same, "input + body(input), the input projected when the shapes differ: Residual { ... }") \
    X(Embedding, ST_LAYER, NULL, st_shape_embedding, "looks each integer index up in a trained table: (steps,) to (steps, output_dim)") \
    X(LSTM, ST_LAYER, NULL, st_shape_lstm, "long short-term memory over (steps, features) sequences, Keras's gate order i, f, c, o") \
    X(GRU, ST_LAYER, NULL, st_shape_gru, "gated recurrent unit over (steps, features) sequences, Keras's gate order z, r, h (reset_after)") \
    X(relu, ST_ACTIVATION, NULL, NULL, "max(x, 0)") \
    X(tanh, ST_ACTIVATION, NULL, NULL, "hyperbolic tangent") \
    X(sigmoid, ST_ACTIVATION, NULL, NULL, "1 / (1 + exp(-x))") \
    X(gelu, ST_ACTIVATION, NULL, NULL, "x * Phi(x), the exact (erf) form") \
    X(softmax, ST_ACTIVATION, NULL, NULL, "exp(x) / sum(exp(x)) over the last axis") \
    X(linear, ST_ACTIVATION, "None", NULL, "identity") \
    X(SGD, ST_OPTIMIZER, "sgd", NULL, "stochastic gradient descent, with optional (Nesterov) momentum") \
    X(Adam, ST_OPTIMIZER, "adam", NULL, "Adam (Keras's formulation and defaults)") \
    X(AdamW, ST_OPTIMIZER, "adamw", NULL, "Adam with decoupled weight decay") \
    X(RMSprop, ST_OPTIMIZER, "rmsprop", NULL, "RMSprop") \
    X(SparseCategoricalCrossentropy, ST_LOSS, "sparse_categorical_crossentropy", NULL, "cross-entropy against integer class labels") \
    X(CategoricalCrossentropy, ST_LOSS, "categorical_crossentropy", NULL, "cross-entropy against one-hot labels") \
    X(MeanSquaredError, ST_LOSS, "mse|mean_squared_error", NULL, "mean squared error") \
    X(BinaryCrossentropy, ST_LOSS, "binary_crossentropy", NULL, "cross-entropy of 0/1 labels against one sigmoid output (or each of several)") \
    X(MeanAbsoluteError, ST_LOSS, "mae|mean_absolute_error", NULL, "mean absolute error") \
    X(Huber, ST_LOSS, "huber|huber_loss", NULL, "squared error below delta, linear above it") \
    X(accuracy, ST_METRIC, "acc", NULL, "fraction of samples whose arg-max output is the label; with one output, Keras's binary accuracy (output > 0.5 equals the label)") \
    X(AUC, ST_METRIC, "auc", NULL, "area under the ROC curve, Keras's AUC(): 200 thresholds, interpolated") \
    X(Precision, ST_METRIC, "precision", NULL, "true positives / predicted positives, at threshold 0.5") \
    X(Recall, ST_METRIC, "recall", NULL, "true positives / actual positives, at threshold 0.5") \
    X(mae, ST_METRIC, "mean_absolute_error|MeanAbsoluteError", NULL, "mean absolute error") \
    X(mse, ST_METRIC, "mean_squared_error|MeanSquaredError", NULL, "mean squared error") \
    X(RootMeanSquaredError, ST_METRIC, "root_mean_squared_error|rmse", NULL, "square root of the mean squared error over the epoch") \
    X(CosineDecay, ST_SCHEDULE, NULL, NULL, "initial x ((1 - alpha)(1 + cos(pi min(step, decay_steps) / decay_steps)) / 2 + alpha)") \
    X(ExponentialDecay, ST_SCHEDULE, NULL, NULL, "initial x decay_rate ^ (step / decay_steps)") \
    X(PiecewiseConstantDecay, ST_SCHEDULE, NULL, NULL, "values[i] while boundaries[i - 1] < step <= boundaries[i]") \
    X(EarlyStopping, ST_CALLBACK, NULL, NULL, "stops a trial when a monitored metric stops improving") \
    X(ReduceLROnPlateau, ST_CALLBACK, NULL, NULL, "multiplies the learning rate by factor when a monitored metric stops improving") \
    X(TerminateOnNaN, ST_CALLBACK, NULL, NULL, "ends a trial, as stopped and not failed, when the loss becomes NaN or infinite") \
    X(RandomSearch, ST_TUNER, NULL, NULL, "samples configurations at random, without repeats") \
    X(GridSearch, ST_TUNER, NULL, NULL, "every configuration, in Keras Tuner's order") \
    X(BayesianOptimization, ST_TUNER, NULL, NULL, "Gaussian process (Matern 5/2) with a lower-confidence-bound acquisition") \
    X(Hyperband, ST_TUNER, NULL, NULL, "successive halving over brackets (Li et al.), Keras Tuner's schedule") \
    X(TPE, ST_TUNER, NULL, NULL, "tree-structured Parzen estimator, Optuna's default sampler") \
    X(BOHB, ST_TUNER, NULL, NULL, "Hyperband brackets with a TPE model proposing configurations") \
    X(ASHA, ST_TUNER, NULL, NULL, "asynchronous successive halving (Li et al. 2020) with promotions decided by a virtual clock") \
    X(fashion_mnist, ST_DATA, "datasets.fashion_mnist", NULL, "Fashion-MNIST (60k train, 10k test, 28x28, 10 classes)") \
    X(mnist, ST_DATA, "datasets.mnist", NULL, "MNIST digits (60k train, 10k test, 28x28, 10 classes)") \
    X(idx, ST_DATA, NULL, NULL, "IDX files (the MNIST format), plain or gzipped") \
    X(csv, ST_DATA, NULL, NULL, "a CSV file with a header row and a label column") \
    X(npy, ST_DATA, NULL, NULL, "NumPy .npy arrays") \
    X(compile, ST_COMPILE, NULL, NULL, "the training set-up, as model.compile") \
    X(search, ST_SEARCH, NULL, NULL, "how each trial trains, as tuner.search / model.fit") \
    X(StratifiedKFold, ST_SPLITTER, NULL, NULL, "k folds with each class spread evenly") \
    X(RidgeClassifier, ST_ESTIMATOR, NULL, st_shape_estimator, "least squares on {-1, +1} one-vs-all targets with an L2 penalty, solved by Cholesky (LAPACK)") \
    X(LogisticRegression, ST_ESTIMATOR, NULL, st_shape_estimator, "multinomial logistic regression with an L2 penalty, by L-BFGS") \
    X(RandomForestClassifier, ST_ESTIMATOR, NULL, st_shape_estimator, "bootstrap-aggregated gini trees; probabilities averaged over the trees") \
    X(KNeighborsClassifier, ST_ESTIMATOR, NULL, st_shape_estimator, "votes of the k nearest training rows (Euclidean, brute force)") \
    X(NSGAII, ST_TUNER, NULL, NULL, "genetic search for a Pareto front (Deb et al.'s NSGA-II, Optuna's NSGAIISampler)") \
    X(Objective, ST_OBJECTIVE, NULL, NULL, "one objective with an explicit direction, as Keras Tuner's kt.Objective") \
    X(Pareto, ST_OBJECTIVE, NULL, NULL, "several objectives searched for their Pareto front: the trials no other beats on all of them")

/* ST_Dense, ST_relu, ... : the entry ids. */
#define ST_ID_ENUM(ID, ...) ST_##ID,
enum st_id { ST_ENTRIES(ST_ID_ENUM) ST_COUNT };
#undef ST_ID_ENUM

/* Dense_units, Dense_activation, ... : argument positions, and Dense_nargs. */
#define ST_ARG_ENUM(E, name, ...) E##_##name,
#define ST_ENTRY_ARG_ENUM(ID, ...) enum { ST_ARGS_##ID(ST_ARG_ENUM) ID##_nargs };
ST_ENTRIES(ST_ENTRY_ARG_ENUM)
#undef ST_ENTRY_ARG_ENUM

extern const st_entry st_catalogue[ST_COUNT];

/* Look a name up among entries of `kind` (-1 = any), by name or alias. */
const st_entry *st_find(int kind, const char *name);
/* Index of an argument by name, or -1. */
int st_arg_index(const st_entry *e, const char *name);
/* The closest name of that kind within edit distance 2 (for "did you mean"), or NULL.
 * `extra` is an optional NULL-terminated list of further candidates. */
const char *st_suggest(int kind, const char *name, const char *const *extra);   /* in one buffer: the next call overwrites it */
/* Levenshtein distance, capped at limit+1. */
int st_edit_distance(const char *a, const char *b, int limit);
const char *st_kind_name(st_kind k);
/* Whether `s` is one of the '|'-separated words of `choices`. */
int st_choice_ok(const char *choices, const char *s);
/* An argument's type and valid values as the reference (docs/language.md)
 * and the language server's hover write them: "int or (int, int)";
 * "1 ≤ x ≤ 10000000", the choices in Markdown code spans, " " for none. */
const char *st_arg_type_text(const st_arg *a);
void st_arg_range_text(const st_arg *a, char *buf, size_t n);

/* ---- Keras's layer names ---------------------------------------------------
 *
 * X(ID, name): what Keras calls a layer of that kind in model.summary() and
 * weights files, numbered from the second on (dense, dense_1, ...); the IR,
 * `hptc summary` and the weights' checks use these names.  A layer or
 * estimator without a row is called by its catalogue name. */
#define ST_LAYER_NAMES(X) \
    X(Input, "input_layer") \
    X(Flatten, "flatten") \
    X(Dense, "dense") \
    X(Dropout, "dropout") \
    X(Conv2D, "conv2d") \
    X(MaxPooling2D, "max_pooling2d") \
    X(AveragePooling2D, "average_pooling2d") \
    X(BatchNormalization, "batch_normalization") \
    X(LayerNormalization, "layer_normalization") \
    X(Reshape, "reshape") \
    X(GlobalAveragePooling2D, "global_average_pooling2d") \
    X(Conv1D, "conv1d") \
    X(MaxPooling1D, "max_pooling1d") \
    X(GlobalAveragePooling1D, "global_average_pooling1d") \
    X(GlobalMaxPooling1D, "global_max_pooling1d") \
    X(GlobalMaxPooling2D, "global_max_pooling2d") \
    X(DepthwiseConv2D, "depthwise_conv2d") \
    X(SeparableConv2D, "separable_conv2d") \
    X(ZeroPadding2D, "zero_padding2d") \
    X(UpSampling2D, "up_sampling2d") \
    X(Activation, "activation") \
    X(RandomFlip, "random_flip") \
    X(RandomTranslation, "random_translation") \
    X(RandomRotation, "random_rotation") \
    X(RandomZoom, "random_zoom") \
    X(Add, "add") \
    X(Concatenate, "concatenate") \
    X(Residual, "residual") \
    X(Embedding, "embedding") \
    X(LSTM, "lstm") \
    X(GRU, "gru") \
    X(RidgeClassifier, "ridge_classifier") \
    X(LogisticRegression, "logistic_regression") \
    X(RandomForestClassifier, "random_forest_classifier") \
    X(KNeighborsClassifier, "k_neighbors_classifier")

/* Keras's name of a layer of entry e's kind: "dense" for Dense. */
const char *st_layer_name(const st_entry *e);

/* ---- hyperparameters: hp.Int, hp.Float, hp.Choice, hp.Boolean, hp.Fixed -----
 *
 * Keras Tuner's five kinds, with its signatures.  X(Kind, values, default):
 * Kind is written hp.Kind(...); values and default say, for the
 * documentation, what values it takes and what it defaults to.  The order
 * is compiler/ir.h's ir_hp_kind (HP_INT, ...; compiler/sema_hp.c asserts it).
 * ST_HP_ARGS_Kind(X) lists its arguments in positional order, X(Kind, name,
 * default as the signature writes it), NULL for the leading ones that must
 * be given.  Every argument is a constant; sema_hp.c checks each kind's. */
#define ST_HP_KINDS(X) \
    X(Int, "integers from `min_value` to `max_value` **inclusive**, every `step` (1 when not given)", "`min_value`") \
    X(Float, "numbers from `min_value` to `max_value` inclusive; continuous without `step`, else every `step`", "`min_value`") \
    X(Choice, "one of `values`: numbers, strings or booleans, all of one type, each once", "the first value") \
    X(Boolean, "`False`, `True`", "`False`") \
    X(Fixed, "`value` only", "`value`")

#define ST_HP_RANGE_ARGS(X, K) \
    X(K, name, NULL) X(K, min_value, NULL) X(K, max_value, NULL) \
    X(K, step, "None") X(K, sampling, "\"linear\"") X(K, default, "None")
#define ST_HP_ARGS_Int(X) ST_HP_RANGE_ARGS(X, Int)
#define ST_HP_ARGS_Float(X) ST_HP_RANGE_ARGS(X, Float)
#define ST_HP_ARGS_Choice(X) X(Choice, name, NULL) X(Choice, values, NULL) X(Choice, ordered, "None") X(Choice, default, "None")
#define ST_HP_ARGS_Boolean(X) X(Boolean, name, NULL) X(Boolean, default, "False")
#define ST_HP_ARGS_Fixed(X) X(Fixed, name, NULL) X(Fixed, value, NULL)

typedef struct st_hp_arg {
    const char *name;
    const char *default_text;   /* as the signature writes it: "None", "\"linear\""; NULL = must be given */
} st_hp_arg;

typedef struct st_hp {
    int id;                     /* ST_HP_Int, ...: ir_hp_kind's value */
    const char *name;           /* "Int", written hp.Int(...) */
    const st_hp_arg *args;      /* positional order */
    int n_args;
    const char *values_doc, *default_doc;
} st_hp;

/* ST_HP_Int, ... : the kinds' ids, in ir_hp_kind's order. */
#define ST_HP_ID_ENUM(K, ...) ST_HP_##K,
enum st_hp_id { ST_HP_KINDS(ST_HP_ID_ENUM) ST_HP_COUNT };
#undef ST_HP_ID_ENUM

/* hp_Int_name, hp_Int_min_value, ... : argument positions, and hp_Int_nargs. */
#define ST_HP_ARG_ENUM(K, name, ...) hp_##K##_##name,
#define ST_HP_KIND_ARG_ENUM(K, ...) enum { ST_HP_ARGS_##K(ST_HP_ARG_ENUM) hp_##K##_nargs };
ST_HP_KINDS(ST_HP_KIND_ARG_ENUM)
#undef ST_HP_KIND_ARG_ENUM

extern const st_hp st_hps[ST_HP_COUNT];

/* The kind written hp.name(...) ("Int"), or NULL. */
const st_hp *st_find_hp(const char *name);
/* Index of one of h's arguments by name, or -1. */
int st_hp_arg_index(const st_hp *h, const char *name);
/* How many of h's leading arguments must be given (those without a default). */
int st_hp_required(const st_hp *h);

/* Shape rules (stdlib/shape_rules.c), named by the rows above. */
#define ST_RULE(name) int name(const hpt_value *, const int *, int, int *, int *, st_weights *, char *, size_t);
ST_RULE(st_shape_input) ST_RULE(st_shape_flatten) ST_RULE(st_shape_reshape) ST_RULE(st_shape_dense)
ST_RULE(st_shape_same) ST_RULE(st_shape_activation) ST_RULE(st_shape_conv2d) ST_RULE(st_shape_maxpool2d) ST_RULE(st_shape_avgpool2d)
ST_RULE(st_shape_global_avgpool2d) ST_RULE(st_shape_batchnorm) ST_RULE(st_shape_layernorm)
ST_RULE(st_shape_random_flip) ST_RULE(st_shape_random_translation) ST_RULE(st_shape_random_rotation) ST_RULE(st_shape_random_zoom)
ST_RULE(st_shape_embedding) ST_RULE(st_shape_lstm) ST_RULE(st_shape_gru)
ST_RULE(st_shape_conv1d) ST_RULE(st_shape_maxpool1d) ST_RULE(st_shape_global_pool1d) ST_RULE(st_shape_global_maxpool2d)
ST_RULE(st_shape_depthwise_conv2d) ST_RULE(st_shape_separable_conv2d) ST_RULE(st_shape_zero_padding2d)
ST_RULE(st_shape_upsampling2d)
/* An estimator takes any input and outputs one score per class: rank 1 of
 * size 0, "as many as the data has classes" (no layer has 0 outputs). */
ST_RULE(st_shape_estimator)
#undef ST_RULE
/* A layer's plan, as both the checker and the runtime make it: its entry's
 * shape rule over the evaluated arguments and one sample's input shape, with
 * out_rank and w (may be NULL: shapes only) zeroed first.  0, or -1 with why
 * filled. */
int st_layer_plan(const st_entry *e, const hpt_value *args, const int *in, int in_rank, int *out, int *out_rank,
                  st_weights *w, char *why, size_t why_len);
/* ---- merge layers -----------------------------------------------------------
 *
 * A merge layer (Add, Concatenate, Residual) reads two or more inputs, the
 * outputs of its branches in order (Residual: the shortcut, then the body).
 * Its rule sees every input's shape; its entry's plain shape rule is the
 * identity, what a merge of one input would be.  X(ID, rule). */
#define ST_MERGES(X) \
    X(Add, st_merge_add) \
    X(Concatenate, st_merge_concatenate) \
    X(Residual, st_merge_residual)
enum { ST_MAX_INPUTS = 16 };    /* branches one merge joins, at most */
typedef int (*st_merge_rule)(const hpt_value *args, int n_in, const int *const *in, const int *in_rank, int *out,
                             int *out_rank, st_weights *w, char *why, size_t why_len);
#define ST_MERGE_RULE(ID, rule) int rule(const hpt_value *, int, const int *const *, const int *, int *, int *, st_weights *, char *, size_t);
ST_MERGES(ST_MERGE_RULE)
#undef ST_MERGE_RULE
/* The merge rule of a layer entry, or NULL: not a merge layer. */
st_merge_rule st_merge_rule_of(const st_entry *e);
/* A merge layer's plan, as st_layer_plan: n_in inputs (2 to ST_MAX_INPUTS),
 * in[k] of rank in_rank[k].  0, or -1 with why filled. */
int st_merge_plan(const st_entry *e, const hpt_value *args, int n_in, const int *const *in, const int *in_rank, int *out,
                  int *out_rank, st_weights *w, char *why, size_t why_len);

/* The elements of w's trainable tensors and of its statistics. */
void st_weights_count(const st_weights *w, double *trainable, double *stats);
/* Floats of optimizer state per trainable parameter (runtime/nn/optim.c's
 * optim_state_floats): Adam and AdamW 2, RMSprop 1 (2 with momentum), SGD 0
 * (1 with momentum).  opt is compile(optimizer = ...): an ST_OPTIMIZER object
 * or its name; -1 when it is neither. */
int st_optimizer_state(hpt_value opt);
/* An int-or-pair argument as (h, w). */
void st_pair(hpt_value v, int *h, int *w);
/* ZeroPadding2D's padding (T_PADDING) as (top, bottom, left, right). */
void st_padding2d(hpt_value v, int pad[4]);
/* Output size of one spatial axis: "valid" or "same" padding, as Keras. */
int st_conv_out(int in, int k, int stride, int same);

#endif
