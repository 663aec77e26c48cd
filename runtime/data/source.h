/* source.h: loading the data a spec names (its data = ... statement).
 *
 * The data call's paths are constants (the checker insists), so the data is
 * loaded once per run and shared read-only by every trial; only `scale`,
 * which may be a hyperparameter, is read per trial (source_scale). */
#ifndef HPTC_SOURCE_H
#define HPTC_SOURCE_H
#include "compiler/ir.h"
#include "compiler/probe.h"
#include "runtime/data/data.h"
#include "runtime/err.h"

typedef struct source_data {
    data_set train;
    data_set test;          /* n == 0 when the source has no test split */
    data_set validation;    /* search(validation_data = ...); n == 0 when absent */
} source_data;

/* Load the train and test splits, and validation_data when given. */
int source_load(const ir_program *p, source_data *d, hpt_error *e);
void source_free(source_data *d);
/* The data's scale under an assignment (1/255 in the seed). */
float source_scale(const ir_program *p, const hpt_value *values);
/* A label outside the model's outputs is an error naming the file. */
int source_check_classes(const source_data *d, int outputs, hpt_error *e);

/* The checker's probe (compiler/probe.h's probe_fn): the headers of the
 * files a data call names, resolved as source_load resolves them; a missing
 * file, a bad header, a label column not in the CSV's header, counts that
 * differ are failures at the argument at fault.  Labels are counted for
 * files small enough (data.h's DATA_PROBE_READ). */
int source_probe(void *user, const char *spec_file, const st_entry *source, const hpt_value *args, probe_facts *facts);

#endif
