/* args.c: the one parser of every command's arguments (see cli.h).
 *
 * A command declares its options as a table of cli_option rows and its
 * positional arguments as a count range; cli_parse fills the destinations
 * or says exactly what is wrong — the unknown option and the nearest known
 * one, the option whose value is missing or malformed, the surplus or
 * missing file — and returns -1 (the caller then prints its usage).  "--name value" and "--name=value" are both accepted; "-" alone
 * is a positional argument (stdin); "--" ends the options. */
#include "cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Print why; -1. */
static int refuse(const char *command, const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "hptc %s: ", command);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return -1;
}

static const cli_option *find_option(const cli_option *opts, const char *arg, size_t len)
{
    for (const cli_option *o = opts; o && o->name; o++)
        if (strlen(o->name) == len && !strncmp(o->name, arg, len)) return o;
    return NULL;
}

static int unknown_option(const char *command, const char *arg, const cli_option *opts)
{
    const char *names[64];
    int n = 0;
    for (const cli_option *o = opts; o && o->name && n < 63; o++) names[n++] = o->name;
    names[n] = NULL;
    const char *eq = strchr(arg, '=');
    char name[128];
    snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
    const char *near = st_suggest(ST_KIND_COUNT, name, names);   /* no catalogue kind: the options alone */
    if (near) {
        fprintf(stderr, "hptc %s: unknown option '%s'; did you mean '%s'?\n", command, name, near);
        return -1;
    }
    return refuse(command, "unknown option '%s'%s", name, "");
}

/* Store one option's value (text is NULL for a flag). */
static int set_option(const char *command, const cli_option *o, const char *text)
{
    switch (o->kind) {
    case CLI_FLAG:
        *(int *)o->dest = 1;
        return 0;
    case CLI_INT: {
        char *end;
        errno = 0;
        long v = strtol(text, &end, 10);
        if (!*text || *end || errno || v < o->min || v > INT_MAX)
            return o->min > 0 ? refuse(command, "%s wants a whole number of at least 1, not '%s'", o->name, text)
                              : refuse(command, "%s wants a whole number, not '%s'", o->name, text);
        *(int *)o->dest = (int)v;
        return 0;
    }
    case CLI_STRING:
        if (o->choices && !st_choice_ok(o->choices, text)) {
            fprintf(stderr, "hptc %s: %s wants one of %s, not '%s'\n", command, o->name, o->choices, text);
            return -1;
        }
        *(const char **)o->dest = text;
        return 0;
    case CLI_LIST: {
        cli_list *l = o->dest;
        l->items[l->n++] = text;
        return 0;
    }
    }
    return 0;
}

static int parse(const char *command, int argc, char **argv, const cli_option *opts, const char **positional,
                 int min_positional, int max_positional)
{
    int n_pos = 0, options_done = 0;
    for (int k = 0; k < argc; k++) {
        const char *a = argv[k];
        if (!options_done && !strcmp(a, "--")) {
            options_done = 1;
            continue;
        }
        if (options_done || a[0] != '-' || !a[1]) {
            if (n_pos == max_positional)
                return max_positional == 1 ? refuse(command, "one file at a time: '%s' is one too many%s", a, "")
                                           : refuse(command, "unexpected argument '%s'%s", a, "");
            positional[n_pos++] = a;
            continue;
        }
        const char *eq = strchr(a, '=');
        const cli_option *o = find_option(opts, a, eq ? (size_t)(eq - a) : strlen(a));
        if (!o) return unknown_option(command, a, opts);
        if (o->kind == CLI_FLAG) {
            if (eq) return refuse(command, "%s takes no value%s", o->name, "");
            set_option(command, o, NULL);
            continue;
        }
        const char *value = eq ? eq + 1 : k + 1 < argc ? argv[++k] : NULL;
        if (!value) return refuse(command, "%s needs a value%s", o->name, "");
        if (set_option(command, o, value)) return -1;
    }
    if (n_pos < min_positional) return refuse(command, "an argument is missing%s%s", "", "");
    for (int k = n_pos; k < max_positional; k++) positional[k] = NULL;
    return 0;
}

int cli_parse(const char *command, int argc, char **argv, const cli_option *opts, const char **positional,
              int min_positional, int max_positional)
{
    /* A list can hold at most every argument: sized so, it never overflows. */
    int rc = 0;
    for (const cli_option *o = opts; o && o->name; o++)
        if (o->kind == CLI_LIST) {
            cli_list *l = o->dest;
            l->n = 0;
            if (!(l->items = calloc((size_t)argc + 1, sizeof *l->items))) rc = 1;
        }
    if (rc) rc = -1, fprintf(stderr, "hptc %s: out of memory\n", command);
    else rc = parse(command, argc, argv, opts, positional, min_positional, max_positional);
    if (rc) cli_list_free(opts);
    return rc;
}

void cli_list_free(const cli_option *opts)
{
    for (const cli_option *o = opts; o && o->name; o++)
        if (o->kind == CLI_LIST) {
            cli_list *l = o->dest;
            free(l->items);
            l->items = NULL, l->n = 0;
        }
}
