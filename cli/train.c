/* train.c: `hptc train` and `hptc eval` — one configuration, no tuner.
 *
 * train: compile, take every hyperparameter's default unless --set, load the
 * data once, expand the trial, print its summary and cost, fit with Keras's
 * epoch lines (a progress bar on a terminal, plain lines when piped), then
 * report test accuracy and optionally save the weights.  eval: the same
 * trial from a weights file, evaluated on the test split. */
#include "runtime/nn/blas.h"
#include "cli/cli.h"
#include "runtime/rng.h"
#include "runtime/data/source.h"
#include "runtime/nn/train.h"
#include "runtime/nn/weights.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct progress {
    int tty, epochs;
    double start;
} progress;

static void on_batch(void *user, int epoch, int batch, int n_batches, double loss, double accuracy)
{
    progress *pr = user;
    if (!pr->tty) return;
    int width = 30, done = (int)((long)width * batch / n_batches);
    char bar[64];
    for (int k = 0; k < width; k++) bar[k] = k < done ? '=' : k == done ? '>' : '.';
    bar[width] = 0;
    fprintf(stderr, "\r%5d/%d [%s] - loss: %.4f - accuracy: %.4f", batch, n_batches, bar, loss, accuracy);
    (void)epoch;
}

/* The compiled metrics beyond accuracy, as Keras prints them: " - val_mae: 41.2034". */
static void print_metrics(const char *prefix, const double *values)
{
    for (int k = 0; k < METRIC_COUNT; k++)
        if (!isnan(values[k])) printf(" - %s%s: %.4f", prefix, metric_key((metric_id)k), values[k]);
}

static int on_epoch(void *user, const train_epoch *m, trial *t, const train_state *s)
{
    progress *pr = user;
    if (pr->tty) fprintf(stderr, "\r\033[K");
    printf("Epoch %d/%d - %.2fs - loss: %.4f - accuracy: %.4f", m->epoch + 1, pr->epochs, m->seconds, m->loss,
           m->accuracy);
    print_metrics("", m->metrics);
    if (m->has_val) printf(" - val_loss: %.4f - val_accuracy: %.4f", m->val_loss, m->val_accuracy);
    if (m->has_val) print_metrics("val_", m->val_metrics);
    if (!isnan(m->learning_rate)) printf(" - learning_rate: %.4g", m->learning_rate);
    putchar('\n');
    if (s->stopped == 1) printf("%s (best epoch %d)\n", s->reason, s->best_epoch + 1);
    if (s->stopped == 3) printf("%s\n", s->reason);
    fflush(stdout);
    (void)t;
    return 0;
}

typedef struct train_opts {
    cli_list sets;
    int epochs, threads, limit, jit, seed;
    int dtype_policy;           /* --dtype-policy: a trial_dtype_policy, or -1 (the spec's) */
    const char *save, *weights, *file, *predictions;
} train_opts;

/* train and eval take the same options (eval needs --weights). */
static int parse_opts(const char *cmd, int argc, char **argv, train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->threads = 1;
    const char *backend = "blas", *policy = NULL;
    const cli_option opts[] = { CLI_LIST_OPT("--set", &o->sets), CLI_INT_OPT("--epochs", &o->epochs, 1),
                                CLI_INT_OPT("--threads", &o->threads, 1), CLI_INT_OPT("--limit", &o->limit, 1),
                                CLI_INT_OPT("--seed", &o->seed, 0), CLI_STRING_OPT("--save", &o->save),
                                CLI_STRING_OPT("--weights", &o->weights), CLI_STRING_OPT("--predictions", &o->predictions),
                                CLI_CHOICE_OPT("--backend", &backend, "blas|jit"),
                                CLI_CHOICE_OPT("--dtype-policy", &policy, "float32|mixed_bfloat16"), CLI_END_OPT };
    if (cli_parse(cmd, argc, argv, opts, &o->file, 1, 1)) return cli_usage(!strcmp(cmd, "eval") ? cli_eval_usage : cli_train_usage);
    o->jit = !strcmp(backend, "jit");
    o->dtype_policy = policy ? trial_dtype_policy_of(policy) : -1;
    return 0;
}

static int report_test(trial *t, const source_data *d, float scale, int batch)
{
    if (d->test.n == 0) {
        printf("no test split: nothing to evaluate\n");
        return 0;
    }
    uint32_t *rows = malloc(sizeof *rows * (size_t)d->test.n);
    if (!rows) return 1;
    for (int i = 0; i < d->test.n; i++) rows[i] = (uint32_t)i;
    double loss, acc, metrics[METRIC_COUNT];
    hpt_error e;
    int rc = train_evaluate_metrics(t, &d->test, rows, d->test.n, scale, batch, &loss, &acc, metrics, &e);
    free(rows);
    if (rc) {
        fprintf(stderr, "hptc: %s\n", e.message);
        return 1;
    }
    printf("test_loss: %.4f - test_accuracy: %.4f", loss, acc);
    print_metrics("test_", metrics);
    putchar('\n');
    return 0;
}

/* eval --predictions FILE: the model's outputs on every test row, as CSV
 * (row,label,output_0,...), each float printed exactly (%.9g), for
 * comparing with another runtime (docs/onnx.md). */
static int write_predictions(trial *t, const data_set *test, float scale, int batch, const char *path)
{
    FILE *f = fopen(path, "w");
    uint32_t *rows = malloc(sizeof *rows * (size_t)batch);
    int32_t *labels = malloc(sizeof *labels * (size_t)batch);
    int K = trial_output_size(t), rc = 0;
    if (!f || !rows || !labels) {
        fprintf(stderr, "hptc: %s: cannot write the predictions\n", path);
        rc = 1;
        goto out;
    }
    fprintf(f, "row,label");
    for (int k = 0; k < K; k++) fprintf(f, ",output_%d", k);
    fputc('\n', f);
    for (int i = 0; i < test->n; i += batch) {
        int B = test->n - i < batch ? test->n - i : batch;
        for (int r = 0; r < B; r++) rows[r] = (uint32_t)(i + r);
        data_gather(test, rows, B, scale, trial_input(t), labels);
        const float *y = trial_forward(t, B, 0, 0);
        for (int r = 0; r < B; r++) {
            fprintf(f, "%d,%d", i + r, labels[r]);
            for (int k = 0; k < K; k++) fprintf(f, ",%.9g", y[(size_t)r * K + k]);
            fputc('\n', f);
        }
    }
    if (fclose(f)) rc = 1, fprintf(stderr, "hptc: %s: cannot write the predictions\n", path);
    f = NULL;
out:
    if (f) fclose(f);
    free(rows);
    free(labels);
    return rc;
}

/* The trial's dtype policy, right after its expansion; a refusal (a CPU
 * without bf16) names the file, the trial and where the policy came from. */
static int set_policy(trial *t, const ir_program *p, trial_dtype_policy policy, int override, const char *desc)
{
    hpt_error e;
    if (trial_set_dtype_policy(t, policy, &e) == 0) return 0;
    fprintf(stderr, "hptc: %s: trial (%s): dtype_policy %s (%s): %s\n", p->file, *desc ? desc : "defaults",
            trial_dtype_policy_name(policy), override >= 0 ? "from --dtype-policy" : "from the spec's compile(dtype_policy)",
            e.message);
    return -1;
}

static int train(const train_opts *opts)
{
    train_opts o = *opts;
    int rc;
    blas_set_threads(o.threads);
    blas_flush_denormals();
    ir_program *p = cli_compile(o.file, 0);
    if (!p) return 1;
    hpt_value *values = calloc((size_t)p->n_hps + 1, sizeof *values);
    source_data d = { 0 };
    trial *t = NULL;
    uint32_t *rows = NULL;
    float *best = NULL;
    hpt_error e;
    rc = 1;
    if (!values || cli_apply_sets(p, values, o.sets.items, o.sets.n)) goto out;
    if (source_load(p, &d, &e)) {
        fprintf(stderr, "hptc: %s\n", e.message);
        goto out;
    }
    if (o.limit > 0 && o.limit < d.train.n) d.train.n = o.limit;
    /* The batch size may itself be a hyperparameter: expand once to read it. */
    hpt_value batch_v;
    arena scratch = { 0 };
    char why[200];
    ir_assignment as = { values, p->n_hps };
    int batch = 32;
    if (ir_eval(p, p->search.args[search_batch_size], &as, &scratch, &batch_v, why, sizeof why) == 0) batch = (int)batch_v.u.i;
    arena_free(&scratch);
    uint64_t seed = rng_key((uint64_t)o.seed, 0);
    t = trial_expand(p, values, batch, seed, &e);
    if (!t) {
        fprintf(stderr, "hptc: %s\n", e.message);
        goto out;
    }
    if (o.jit && trial_start_backend(t, &e)) {
        fprintf(stderr, "hptc: %s\n", e.message);
        goto out;
    }
    char desc[1024];
    cli_describe_values(p, values, desc, sizeof desc);
    trial_dtype_policy policy = train_dtype_policy(p, values, o.dtype_policy);
    if (set_policy(t, p, policy, o.dtype_policy, desc)) goto out;
    if (trial_input_size(t) != d.train.sample_size) {
        fprintf(stderr, "hptc: %s: the model's input has %zu values per sample, but %s has %zu\n", p->file,
                trial_input_size(t), d.train.source, d.train.sample_size);
        goto out;
    }
    if (!trial_float_targets(t) && source_check_classes(&d, trial_output_size(t), &e)) {
        fprintf(stderr, "hptc: %s\n", e.message);
        goto out;
    }
    printf("hyperparameters: %s\n", *desc ? desc : "(none)");
    trial_summary(t, stdout);
    const hpt_value *sa = trial_search_args(t);
    train_config cfg = { .epochs = o.epochs > 0 ? o.epochs : (int)sa[search_epochs].u.i, .batch = batch,
                         .shuffle = sa[search_shuffle].u.b, .seed = seed };
    train_callbacks(trial_search_args(t), &cfg);
    int n_train, n_val = 0;
    rows = malloc(sizeof *rows * (size_t)(d.train.n + 1));
    if (!rows) goto out;
    for (int i = 0; i < d.train.n; i++) rows[i] = (uint32_t)i;
    train_data td = { .set = &d.train, .train_rows = rows, .n_train = d.train.n, .val_set = &d.train, .scale = source_scale(p, values) };
    if (d.validation.n > 0) {
        uint32_t *vrows = malloc(sizeof *vrows * (size_t)d.validation.n);
        /* validation rows are the validation set's own; allocate alongside */
        for (int i = 0; vrows && i < d.validation.n; i++) vrows[i] = (uint32_t)i;
        td.val_set = &d.validation, td.val_rows = vrows, td.n_val = vrows ? d.validation.n : 0;
    } else {
        n_val = train_split(d.train.n, value_as_double(sa[search_validation_split]), &n_train);
        td.n_train = n_train, td.val_rows = rows + n_train, td.n_val = n_val;
    }
    if (sa[search_cv].type != V_NONE)
        printf("cv is for the search: hptc train fits one model on all the training rows, then tests it\n");
    printf("training on %d samples, validating on %d, batch %d, %d epochs in %s\n", td.n_train, td.n_val, batch,
           cfg.epochs, trial_dtype_policy_name(policy));
    size_t n_weights;
    trial_weights(t, &n_weights);
    best = malloc(sizeof(float) * (n_weights + 1));
    progress pr = { isatty(2) && !getenv("NO_COLOR") ? 1 : isatty(2), cfg.epochs, 0 };
    train_state s;
    train_state_init(&s, &cfg);
    if (train_fit(t, &td, &cfg, &s, best, on_epoch, on_batch, &pr, &e)) {
        if (pr.tty) fprintf(stderr, "\r\033[K");
        fprintf(stderr, "hptc: %s: trial (%s): %s\n", p->file, *desc ? desc : "defaults", e.message);
        if (td.val_set != &d.train) free((void *)td.val_rows);
        goto out;
    }
    if (td.val_set != &d.train) free((void *)td.val_rows);
    rc = report_test(t, &d, td.scale, batch);
    if (rc == 0 && o.save) {
        float *w = trial_weights(t, &n_weights);
        if (weights_save(o.save, p, values, trial_dtype_policy_name(policy), w, n_weights, &e)) {
            fprintf(stderr, "hptc: %s\n", e.message);
            rc = 1;
        } else {
            printf("saved %zu weights to %s\n", n_weights, o.save);
        }
    }
out:
    free(best);
    free(rows);
    trial_free(t);
    source_free(&d);
    free(values);
    ir_free(p);
    return rc;
}

static int eval(const train_opts *opts)
{
    train_opts o = *opts;
    int rc;
    if (!o.weights) {
        fprintf(stderr, "hptc eval: --weights FILE says which weights to evaluate\n");
        return cli_usage(cli_eval_usage);
    }
    blas_set_threads(o.threads);
    blas_flush_denormals();
    ir_program *p = cli_compile(o.file, 1);
    if (!p) return 1;
    hpt_value *values = calloc((size_t)p->n_hps + 1, sizeof *values);
    source_data d = { 0 };
    trial *t = NULL;
    float *w = NULL;
    size_t n = 0, n_weights;
    hpt_error e;
    arena a = { 0 };
    rc = 1;
    if (!values) goto out;
    if (weights_load(o.weights, p, &a, values, &w, &n, &e) || source_load(p, &d, &e)) {
        fprintf(stderr, "hptc: %s\n", e.message);
        goto out;
    }
    t = trial_expand(p, values, 256, 0, &e);
    if (!t) {
        fprintf(stderr, "hptc: %s\n", e.message);
        goto out;
    }
    if (trial_estimator(t, NULL)) {
        fprintf(stderr, "hptc: %s: the model is the classic estimator %s, which keeps no weights; "
                "`hptc train` fits it and scores the test split\n", p->file, trial_estimator(t, NULL)->name);
        goto out;
    }
    float *dst = trial_weights(t, &n_weights);
    if (n_weights != n) {
        fprintf(stderr, "hptc: %s holds %zu weights, but the model has %zu\n", o.weights, n, n_weights);
        goto out;
    }
    memcpy(dst, w, n * sizeof(float));
    char desc[1024];
    cli_describe_values(p, values, desc, sizeof desc);
    if (set_policy(t, p, train_dtype_policy(p, values, o.dtype_policy), o.dtype_policy, desc)) goto out;
    printf("hyperparameters: %s\n", *desc ? desc : "(none)");
    rc = report_test(t, &d, source_scale(p, values), 256);
    if (rc == 0 && o.predictions) rc = write_predictions(t, &d.test, source_scale(p, values), 256, o.predictions);
out:
    free(w);
    arena_free(&a);
    trial_free(t);
    source_free(&d);
    free(values);
    ir_free(p);
    return rc;
}

int cli_train(int argc, char **argv)
{
    train_opts o;
    int rc = parse_opts("train", argc, argv, &o);
    if (rc) return rc;
    rc = train(&o);
    free(o.sets.items);
    return rc;
}

int cli_eval(int argc, char **argv)
{
    train_opts o;
    int rc = parse_opts("eval", argc, argv, &o);
    if (rc) return rc;
    rc = eval(&o);
    free(o.sets.items);
    return rc;
}

const char cli_train_usage[] =
    "hptc train FILE.hpt [--set NAME=VALUE]... [--epochs N] [--save WEIGHTS] [--threads N] [--limit N]\n"
    "                    [--seed N] [--backend blas|jit] [--dtype-policy float32|mixed_bfloat16]\n"
    "  Train the configuration made of every hyperparameter's default, changed by --set,\n"
    "  printing Keras's epoch lines, then the test split's accuracy.  --epochs overrides\n"
    "  search(epochs); --limit trains on the first N rows only; --seed N (default 0) keys\n"
    "  the initial weights, dropout and shuffling; --save writes the weights\n"
    "  (docs/weights.md); --backend jit runs the steps' elementwise kernels, loss and\n"
    "  optimizer as LLVM code compiled for this model (GEMMs stay oneDNN's), compiled\n"
    "  on a thread of its own while the first 512 steps run without it.\n"
    "  --dtype-policy overrides compile(dtype_policy): mixed_bfloat16 computes in\n"
    "  bfloat16 and keeps weights, optimizer and loss in float32 (Keras's policy), on\n"
    "  a CPU with AVX512-BF16 or AMX only.  Exit 1 when the loss becomes NaN or\n"
    "  infinite, this build has no JIT, or this CPU cannot run the dtype policy.";
const char cli_eval_usage[] =
    "hptc eval FILE.hpt --weights WEIGHTS [--dtype-policy float32|mixed_bfloat16] [--predictions FILE]\n"
    "  Rebuild the model the weights were trained with (hyperparameters are in the file)\n"
    "  and report loss and accuracy on the test split.  The spec may have changed since in\n"
    "  anything that leaves the model alone (comments, tuner, search, optimizer); when the\n"
    "  model differs, eval refuses the file naming what differs (docs/weights.md).\n"
    "  It evaluates under compile(dtype_policy), or --dtype-policy when given.\n"
    "  --predictions FILE also writes the model's outputs on every test row as CSV\n"
    "  (row,label,output_0,...; logits when the last layer has no activation).";
