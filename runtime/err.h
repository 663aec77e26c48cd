/* err.h: errors as values.
 *
 * Library code never prints and never exits: a function that can fail takes
 * an hpt_error *, fills it with one human sentence naming the file, the trial
 * or the tensor and the cause, and returns -1 (or NULL).  The CLI prints it. */
#ifndef HPTC_ERR_H
#define HPTC_ERR_H

typedef struct hpt_error {
    char message[1024];
} hpt_error;

/* Format the message into e (e may be NULL) and return -1, so callers write
 * `return hpt_fail(e, "%s: truncated after %zu bytes", path, n);`. */
int hpt_fail(hpt_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
