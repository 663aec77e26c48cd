/* probe.h: what the caller tells the compiler about the data a spec reads.
 *
 * The compiler never opens a data file and never includes a runtime header:
 * the caller (the command line) may hand it a probe, a function that looks
 * at a data source's files as far as their headers and says what one sample
 * looks like and how many classes the labels hold, or what is wrong with
 * them (runtime/data/source.c's source_probe).  The checker calls it once for each
 * data call of the spec (data = ..., search(validation_data = ...)), with
 * the call's constant arguments evaluated, reports a failure at the argument
 * at fault, and checks the model against the facts: the Input's size, the
 * output's width against the classes over the whole search space. */
#ifndef HPTC_PROBE_H
#define HPTC_PROBE_H
#include <stdbool.h>
#include "stdlib/catalogue.h"

/* One thing wrong with a data call's files, at the argument at fault. */
typedef struct probe_failure {
    int arg;                    /* the argument's catalogue index; -1 for the call */
    char message[1100];
    char hint[300];             /* "" or a hint ("did you mean 'species'?") */
} probe_failure;

typedef struct probe_facts {
    int rank, shape[3];         /* one sample's shape; rank 0: not known */
    long long n_classes;        /* classes in the labels (max + 1, or distinct names); 0: not known */
    bool classes_fixed;         /* the source defines its classes (the built-in datasets' 10) */
    char source[160];           /* the samples as messages name them: "fashion_mnist", "data/digits.csv" */
    char labels[160];           /* the file holding the labels (the same for a CSV) */
    char sample[80];            /* one sample as messages describe it: "28x28", "64 feature columns" */
    probe_failure failures[4];  /* independent failures (the training files', the test files') */
    int n_failures;
} probe_facts;

/* Look at the data call `source` (an ST_DATA entry) whose arguments are args
 * (entry->n_args values; V_NONE where an argument depends on a
 * hyperparameter).  spec_file is the spec's name as given ("<stdin>" for -):
 * relative paths are relative to its directory.  Fill *facts (zeroed by the
 * caller) and return 0, or add failures and return -1. */
typedef int (*probe_fn)(void *user, const char *spec_file, const st_entry *source, const hpt_value *args,
                        probe_facts *facts);

#endif
