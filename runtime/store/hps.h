/* hps.h: a trial's hyperparameters, back from the JSON the store keeps
 * (runtime/tune/tuner.h's tune_values_json writes it): `hptc best`,
 * `hptc export`, and `hptc diff` / `run --warm-start`, which read an old
 * spec's trials against a new spec. */
#ifndef HPTC_STORE_HPS_H
#define HPTC_STORE_HPS_H
#include "compiler/ir.h"

/* One "name": value pair: the name decoded, the value as text (a string
 * decoded, with quoted set). */
typedef struct hps_pair {
    char *name, *value;
    int quoted;
} hps_pair;

/* object -> '{' (string ':' value (',' string ':' value)*)? '}', the values
 * being strings, numbers, true, false or null: the pairs in *out (malloc'd,
 * free with hps_free).  -1 when malformed. */
int hps_parse(const char *json, hps_pair **out, int *n);
void hps_free(hps_pair *pairs, int n);
/* One pair's value for hyperparameter k of p: a string is taken as the
 * string it is (a Choice of "64" and 64 differ; copied into a), anything
 * else through the spec's own parser of --set values.  -1 when p's
 * hyperparameter cannot take it. */
int hps_value(const ir_program *p, int k, const hps_pair *pair, arena *a, hpt_value *out);
/* Values (p->n_hps slots, the others V_NONE) from a trial's JSON.  -1 when
 * a name or value is not the spec's. */
int hps_values(const ir_program *p, const char *json, arena *a, hpt_value *values);

#endif
