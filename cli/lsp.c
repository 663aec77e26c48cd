/* lsp.c: `hptc lsp`, a Language Server Protocol server on stdin/stdout.
 *
 * Messages are framed as the protocol says, "Content-Length: N\r\n\r\n"
 * then N bytes of JSON-RPC (parsed by cJSON).  The server never trusts a
 * frame: a body larger than LSP_MAX_MESSAGE is read past in small pieces
 * and answered with an error, never allocated; JSON that does not parse is
 * answered -32700, an unknown request -32601 (an unknown notification is
 * ignored, as the protocol asks), and the server reads on.  The input ending,
 * even mid-message, ends the server cleanly.
 *
 * Documents are synchronised in full (the client sends the whole text on
 * each change), and each version is compiled by compile_spec with the same
 * options as `hptc check`, so the diagnostics an editor shows are check's,
 * message for message, with the byte ranges of the compiler's locations
 * turned into the protocol's positions: lines, and columns in UTF-8 bytes
 * when the client offers them (positionEncoding, or Neovim's offsetEncoding),
 * else in UTF-16 code units as the protocol's default.  Each method is a row
 * of `methods`, its handler here (the life cycle, the documents) or in
 * cli/lsp_features.c (hover, completion, definition, formatting). */
#include "cli/cli.h"
#include "cli/lsp.h"
#include "compiler/compile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The largest message read: a spec is at most 8 MiB (COMPILE_MAX_SPEC_BYTES),
 * which JSON's escapes may nearly double.  A larger frame is skipped. */
#define LSP_MAX_MESSAGE (16u << 20)
enum { HEADER_LINE_MAX = 1024 };

/* ---- positions ------------------------------------------------------------ */

/* Units of the line prefix text[from, to): bytes, or UTF-16 code units
 * (a 4-byte UTF-8 sequence is a surrogate pair: 2). */
static long units_of(const lsp_server *sv, const char *text, size_t from, size_t to)
{
    if (sv->utf8) return (long)(to - from);
    long n = 0;
    for (size_t k = from; k < to; k++) {
        unsigned char c = (unsigned char)text[k];
        if ((c & 0xc0) != 0x80) n += c >= 0xf0 ? 2 : 1;
    }
    return n;
}

cJSON *lsp_range(lsp_server *sv, const lsp_doc *d, uint32_t start, uint32_t end)
{
    static const char *const names[2] = { "start", "end" };
    uint32_t at[2] = { start, end };
    cJSON *range = cJSON_CreateObject();
    for (int k = 0; k < 2; k++) {
        size_t off = at[k] > d->len ? d->len : at[k], line = 0, hi = d->n_lines;
        while (hi - line > 1) {     /* the last line start <= off */
            size_t mid = line + (hi - line) / 2;
            if (d->lines[mid] <= off) line = mid;
            else hi = mid;
        }
        size_t bol = d->lines[line];
        cJSON *p = cJSON_AddObjectToObject(range, names[k]);
        cJSON_AddNumberToObject(p, "line", (double)line);
        cJSON_AddNumberToObject(p, "character", (double)units_of(sv, d->text, bol, off));
    }
    return range;
}

/* A member that is a whole number from 0, or -1. */
static double count_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 4e9 ? v->valuedouble : -1;
}

long lsp_offset_of(lsp_server *sv, const lsp_doc *d, const cJSON *params, lsp_error *err)
{
    const cJSON *position = cJSON_GetObjectItemCaseSensitive(params, "position");
    double line = count_of(position, "line"), character = count_of(position, "character");
    if (line < 0 || character < 0) {
        err->code = LSP_INVALID_PARAMS;
        snprintf(err->message, sizeof err->message, "params.position must hold line and character, numbers from 0");
        return -1;
    }
    size_t k = line < (double)d->n_lines ? d->lines[(size_t)line] : d->len;
    /* Along the line, unit by unit (a byte, or a UTF-16 unit: a character
     * of 4 UTF-8 bytes is 2); a position past the line's end is its end. */
    for (double units = 0; k < d->len && d->text[k] != '\n' && units < character;) {
        unsigned char c = (unsigned char)d->text[k];
        size_t n = sv->utf8 || c < 0xc0 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
        units += !sv->utf8 && c >= 0xf0 ? 2 : 1;
        k += n;
    }
    return (long)(k > d->len ? d->len : k);
}

/* Length of the valid UTF-8 sequence at s[k] (before n), 0 if none. */
static size_t utf8_length(const unsigned char *s, size_t k, size_t n)
{
    unsigned c = s[k];
    size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (!len || k + len > n || (len == 2 && c < 0xc2) || (len == 4 && c > 0xf4)) return 0;
    for (size_t j = 1; j < len; j++)
        if ((s[k + j] & 0xc0) != 0x80) return 0;
    if (len == 3 && ((c == 0xe0 && s[k + 1] < 0xa0) || (c == 0xed && s[k + 1] >= 0xa0))) return 0;
    if (len == 4 && ((c == 0xf0 && s[k + 1] < 0x90) || (c == 0xf4 && s[k + 1] >= 0x90))) return 0;
    return len;
}

cJSON *lsp_text(const char *s, size_t n)
{
    char *copy = malloc(3 * n + 1), *o = copy;
    if (!copy) return cJSON_CreateString("");
    for (size_t k = 0; k < n;) {
        size_t len = utf8_length((const unsigned char *)s, k, n);
        if (len && s[k]) memcpy(o, s + k, len), o += len, k += len;
        else memcpy(o, "\xef\xbf\xbd", 3), o += 3, k++;
    }
    *o = 0;
    cJSON *j = cJSON_CreateString(copy);
    free(copy);
    return j;
}

/* ---- documents ------------------------------------------------------------ */

static lsp_doc *find_doc(lsp_server *sv, const char *uri)
{
    for (int k = 0; k < sv->n_docs; k++)
        if (!strcmp(sv->docs[k].uri, uri)) return &sv->docs[k];
    return NULL;
}

/* params.textDocument.KEY as a string, or NULL. */
static const char *doc_string(const cJSON *params, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(params, "textDocument"), key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

lsp_doc *lsp_doc_of(lsp_server *sv, const cJSON *params, lsp_error *err)
{
    const char *uri = doc_string(params, "uri");
    lsp_doc *d = uri ? find_doc(sv, uri) : NULL;
    if (!d) {
        err->code = LSP_INVALID_PARAMS;
        snprintf(err->message, sizeof err->message, "%s", uri ? "the document is not open (textDocument/didOpen first)"
                                                              : "params.textDocument.uri is missing");
    }
    return d;
}

/* The path a file:// URI names (percent-escapes decoded); another URI as it is. */
static char *path_of_uri(const char *uri)
{
    const char *p = strncmp(uri, "file://", 7) ? uri : uri + 7;
    char *path = malloc(strlen(p) + 1), *o = path;
    if (!path) return NULL;
    for (; *p; p++) {
        unsigned hex;
        if (*p == '%' && sscanf(p + 1, "%2x", &hex) == 1 && hex) *o++ = (char)hex, p += 2;
        else *o++ = *p;
    }
    *o = 0;
    return path;
}

static void doc_clear(lsp_doc *d)
{
    free(d->uri), free(d->path), free(d->text), free(d->lines);
    lookup_free(d->spec);
    ir_free(d->program);
}

/* ---- messages out ----------------------------------------------------------- */

static void send(cJSON *msg)
{
    char *body = cJSON_PrintUnformatted(msg);
    cJSON_Delete(msg);
    if (!body) return;
    printf("Content-Length: %zu\r\n\r\n%s", strlen(body), body);
    fflush(stdout);
    free(body);
}

/* A message with "jsonrpc" and the request's id (null when it has none). */
static cJSON *message(const cJSON *id)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    cJSON_AddItemToObject(m, "id", id ? cJSON_Duplicate(id, 1) : cJSON_CreateNull());
    return m;
}

static void send_result(const cJSON *id, cJSON *result)
{
    cJSON *m = message(id);
    cJSON_AddItemToObject(m, "result", result);
    send(m);
}

static void send_error(const cJSON *id, int code, const char *text)
{
    cJSON *m = message(id), *e = cJSON_AddObjectToObject(m, "error");
    cJSON_AddNumberToObject(e, "code", code);
    cJSON_AddItemToObject(e, "message", lsp_text(text, strlen(text)));
    send(m);
}

static void publish(const char *uri, cJSON *diagnostics)
{
    cJSON *m = cJSON_CreateObject(), *params;
    cJSON_AddStringToObject(m, "jsonrpc", "2.0");
    cJSON_AddStringToObject(m, "method", "textDocument/publishDiagnostics");
    params = cJSON_AddObjectToObject(m, "params");
    cJSON_AddStringToObject(params, "uri", uri);
    cJSON_AddItemToObject(params, "diagnostics", diagnostics);
    send(m);
}

/* ---- diagnostics ------------------------------------------------------------ */

typedef struct collect {
    lsp_server *sv;
    lsp_doc *d;
    cJSON *list;
} collect;

/* diag_sink: an error or warning becomes a Diagnostic; a note its related
 * information (and a line of its message); a hint a line of its message. */
static void on_diagnostic(void *user, const char *level, uint32_t start, uint32_t end, const char *message)
{
    collect *c = user;
    int main_level = !strcmp(level, "error") || !strcmp(level, "warning");
    int n = cJSON_GetArraySize(c->list);
    cJSON *last = n ? cJSON_GetArrayItem(c->list, n - 1) : NULL;
    if (!main_level && !last) return;
    if (start == DIAG_NOWHERE) start = end = 0;
    /* A zero-width range marks one character, as the caret under it does. */
    if (end <= start) end = start < c->d->len && c->d->text[start] != '\n' ? start + 1 : start;
    if (main_level) {
        cJSON *diagnostic = cJSON_CreateObject();
        cJSON_AddItemToObject(diagnostic, "range", lsp_range(c->sv, c->d, start, end));
        cJSON_AddNumberToObject(diagnostic, "severity", !strcmp(level, "error") ? 1 : 2);
        cJSON_AddStringToObject(diagnostic, "source", "hptc");
        cJSON_AddItemToObject(diagnostic, "message", lsp_text(message, strlen(message)));
        cJSON_AddItemToArray(c->list, diagnostic);
        return;
    }
    const char *old = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(last, "message"));
    size_t size = strlen(old) + strlen(level) + strlen(message) + 4;
    char *joined = malloc(size);
    if (!joined) return;
    snprintf(joined, size, "%s\n%s: %s", old, level, message);
    cJSON_ReplaceItemInObjectCaseSensitive(last, "message", lsp_text(joined, strlen(joined)));
    free(joined);
    if (!strcmp(level, "note")) {
        cJSON *related = cJSON_GetObjectItemCaseSensitive(last, "relatedInformation");
        if (!related) related = cJSON_AddArrayToObject(last, "relatedInformation");
        cJSON *info = cJSON_CreateObject(), *location = cJSON_AddObjectToObject(info, "location");
        cJSON_AddStringToObject(location, "uri", c->d->uri);
        cJSON_AddItemToObject(location, "range", lsp_range(c->sv, c->d, start, end));
        cJSON_AddItemToObject(info, "message", lsp_text(message, strlen(message)));
        cJSON_AddItemToArray(related, info);
    }
}

/* Compile the document's text as `hptc check` would and publish what it says. */
static void check_doc(lsp_server *sv, lsp_doc *d)
{
    collect c = { sv, d, cJSON_CreateArray() };
    compile_options o = cli_compile_options();
    o.sink = on_diagnostic, o.sink_user = &c;
    compile_result r = compile_spec_with(d->path, d->text, d->len, NULL, &o);
    if (r.program) {
        ir_free(d->program);
        d->program = r.program;
    }
    d->program_current = r.program != NULL;
    lookup_free(d->spec);
    d->spec = lookup_parse(d->text, d->len);
    publish(d->uri, c.list);
}

static int set_text(lsp_doc *d, const char *text, size_t len)
{
    size_t n = 1;
    for (size_t k = 0; k < len; k++) n += text[k] == '\n';
    char *copy = malloc(len + 1);
    uint32_t *lines = malloc(n * sizeof *lines);
    if (!copy || !lines) {
        free(copy), free(lines);
        return -1;
    }
    memcpy(copy, text, len);
    copy[len] = 0;
    lines[0] = 0, n = 1;
    for (size_t k = 0; k < len; k++)
        if (text[k] == '\n') lines[n++] = (uint32_t)(k + 1);
    free(d->text), free(d->lines);
    d->text = copy, d->len = len, d->lines = lines, d->n_lines = n;
    return 0;
}

/* ---- the methods ------------------------------------------------------------ */

/* initialize: the capabilities, in the position encoding the client offers
 * first of UTF-8 (3.17's general.positionEncodings, or the offsetEncoding
 * extension Neovim 0.7 sends); UTF-16 otherwise, as the protocol requires. */
static int offers_utf8(const cJSON *list)
{
    const cJSON *v;
    if (!cJSON_IsArray(list)) return 0;
    cJSON_ArrayForEach(v, list) if (cJSON_IsString(v) && !strcmp(v->valuestring, "utf-8")) return 1;
    return 0;
}

static cJSON *on_initialize(lsp_server *sv, const cJSON *params, lsp_error *err)
{
    const cJSON *caps = cJSON_GetObjectItemCaseSensitive(params, "capabilities");
    const cJSON *offered = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(caps, "general"), "positionEncodings");
    const cJSON *legacy = cJSON_GetObjectItemCaseSensitive(caps, "offsetEncoding");
    sv->utf8 = offers_utf8(offered) || offers_utf8(legacy);
    sv->initialized = 1;
    const char *encoding = sv->utf8 ? "utf-8" : "utf-16";
    cJSON *result = cJSON_CreateObject(), *c = cJSON_AddObjectToObject(result, "capabilities");
    cJSON_AddStringToObject(c, "positionEncoding", encoding);
    cJSON *sync = cJSON_AddObjectToObject(c, "textDocumentSync");
    cJSON_AddTrueToObject(sync, "openClose");
    cJSON_AddNumberToObject(sync, "change", 1);     /* full text on each change */
    cJSON_AddTrueToObject(c, "hoverProvider");
    static const char *const triggers[] = { ".", "\"", "(", "," };
    cJSON_AddItemToObject(cJSON_AddObjectToObject(c, "completionProvider"), "triggerCharacters",
                          cJSON_CreateStringArray(triggers, 4));
    cJSON_AddTrueToObject(c, "definitionProvider");
    cJSON_AddTrueToObject(c, "documentFormattingProvider");
    cJSON *info = cJSON_AddObjectToObject(result, "serverInfo");
    cJSON_AddStringToObject(info, "name", "hptc");
    cJSON_AddStringToObject(info, "version", cli_version());
    if (cJSON_IsArray(legacy)) cJSON_AddStringToObject(result, "offsetEncoding", encoding);
    return result;
}

static cJSON *on_initialized(lsp_server *sv, const cJSON *params, lsp_error *err) { return NULL; }

static cJSON *on_shutdown(lsp_server *sv, const cJSON *params, lsp_error *err)
{
    sv->shut_down = 1;
    return cJSON_CreateNull();
}

static cJSON *on_did_open(lsp_server *sv, const cJSON *params, lsp_error *err)
{
    const char *uri = doc_string(params, "uri"), *text = doc_string(params, "text");
    if (!uri || !text) return NULL;
    size_t len = strlen(text);
    lsp_doc *d = find_doc(sv, uri);
    if (!d) {
        if (sv->n_docs == sv->cap_docs) {
            int cap = sv->cap_docs ? 2 * sv->cap_docs : 8;
            lsp_doc *grown = realloc(sv->docs, sizeof *grown * (size_t)cap);
            if (!grown) return NULL;
            sv->docs = grown, sv->cap_docs = cap;
        }
        d = &sv->docs[sv->n_docs];
        *d = (lsp_doc){ .uri = strdup(uri), .path = path_of_uri(uri) };
        if (!d->uri || !d->path) {
            doc_clear(d);
            return NULL;
        }
        sv->n_docs++;
    }
    if (set_text(d, text, len) == 0) check_doc(sv, d);
    return NULL;
}

/* didChange: full synchronisation, so the last change holds the whole text. */
static cJSON *on_did_change(lsp_server *sv, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = lsp_doc_of(sv, params, err);
    const cJSON *changes = cJSON_GetObjectItemCaseSensitive(params, "contentChanges");
    const cJSON *last = cJSON_GetArrayItem(changes, cJSON_GetArraySize(changes) - 1);
    const char *text = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(last, "text"));
    if (d && text && set_text(d, text, strlen(text)) == 0) check_doc(sv, d);
    return NULL;
}

static cJSON *on_did_close(lsp_server *sv, const cJSON *params, lsp_error *err)
{
    lsp_doc *d = lsp_doc_of(sv, params, err);
    if (!d) return NULL;
    publish(d->uri, cJSON_CreateArray());
    doc_clear(d);
    *d = sv->docs[--sv->n_docs];
    return NULL;
}

typedef struct lsp_method {
    const char *name;
    cJSON *(*run)(lsp_server *sv, const cJSON *params, lsp_error *err);
} lsp_method;

static const lsp_method methods[] = {
    { "initialize", on_initialize },
    { "initialized", on_initialized },
    { "shutdown", on_shutdown },
    { "textDocument/didOpen", on_did_open },
    { "textDocument/didChange", on_did_change },
    { "textDocument/didClose", on_did_close },
    { "textDocument/hover", lsp_hover },
    { "textDocument/completion", lsp_completion },
    { "textDocument/definition", lsp_definition },
    { "textDocument/formatting", lsp_formatting },
};

/* One message: a request answered (a result or an error), a notification
 * acted on.  Returns 1 after `exit`. */
static int dispatch(lsp_server *sv, const char *body, size_t len)
{
    cJSON *msg = cJSON_ParseWithLength(body, len);
    if (!cJSON_IsObject(msg)) {
        char text[300];
        const char *where = cJSON_GetErrorPtr();
        if (msg) snprintf(text, sizeof text, "the message is JSON but not an object");
        else snprintf(text, sizeof text, "the message is not JSON (at byte %ld)", where ? (long)(where - body) : 0L);
        send_error(NULL, msg ? LSP_INVALID_REQUEST : LSP_PARSE_ERROR, text);
        cJSON_Delete(msg);
        return 0;
    }
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");
    const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(msg, "method"));
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
    int done = 0;
    if (!name) {
        /* A response to a request of ours (we send none), or nonsense. */
        if (!cJSON_HasObjectItem(msg, "result") && !cJSON_HasObjectItem(msg, "error"))
            send_error(id, LSP_INVALID_REQUEST, "a message needs a method (or a result, being a response)");
    } else if (!strcmp(name, "exit")) {
        done = 1;
    } else {
        const lsp_method *m = NULL;
        for (size_t k = 0; k < sizeof methods / sizeof methods[0]; k++)
            if (!strcmp(methods[k].name, name)) m = &methods[k];
        lsp_error err = { 0 };
        cJSON *result = NULL;
        if (!m) {
            if (id) snprintf(err.message, sizeof err.message, "hptc lsp has no method '%.200s'", name), err.code = LSP_METHOD_NOT_FOUND;
        } else if (!sv->initialized && strcmp(name, "initialize")) {
            if (id) snprintf(err.message, sizeof err.message, "initialize first"), err.code = LSP_SERVER_NOT_INITIALIZED;
        } else if (sv->shut_down && id) {
            snprintf(err.message, sizeof err.message, "the server is shut down: only exit is accepted");
            err.code = LSP_INVALID_REQUEST;
        } else {
            result = m->run(sv, params, &err);
        }
        if (id && result) send_result(id, result);
        else if (id) send_error(id, err.code ? err.code : LSP_REQUEST_FAILED, err.message[0] ? err.message : "failed");
        else cJSON_Delete(result);
    }
    cJSON_Delete(msg);
    return done;
}

/* ---- framing ---------------------------------------------------------------- */

typedef enum { FRAME_OK, FRAME_EOF, FRAME_SKIPPED } frame_status;

/* Read one frame's headers and body.  A body over the limit is read past
 * (FRAME_SKIPPED, *len its size) without keeping it. */
static frame_status read_frame(FILE *in, char **body, size_t *len)
{
    char line[HEADER_LINE_MAX];
    long long length = -1;
    int lines = 0;
    for (;;) {
        if (!fgets(line, sizeof line, in)) return FRAME_EOF;
        size_t n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n') {
            int c;      /* a header line too long to be one: read past it */
            while ((c = fgetc(in)) != EOF && c != '\n') {}
            if (c == EOF) return FRAME_EOF;
            continue;
        }
        if (!strcmp(line, "\r\n") || !strcmp(line, "\n")) {
            if (lines == 0) continue;   /* blank lines between frames */
            break;
        }
        lines++;
        if (!strncasecmp(line, "Content-Length:", 15)) {
            char *end;
            length = strtoll(line + 15, &end, 10);
            if (end == line + 15 || length < 0) length = -1;
        }
    }
    *len = length < 0 ? 0 : (size_t)length;
    if (length < 0) return FRAME_SKIPPED;
    if ((unsigned long long)length > LSP_MAX_MESSAGE) {
        char chunk[1 << 16];
        for (long long left = length; left > 0;) {
            size_t got = fread(chunk, 1, left < (long long)sizeof chunk ? (size_t)left : sizeof chunk, in);
            if (got == 0) return FRAME_EOF;
            left -= (long long)got;
        }
        return FRAME_SKIPPED;
    }
    *body = malloc(*len + 1);
    if (!*body) return FRAME_SKIPPED;
    if (fread(*body, 1, *len, in) != *len) {
        free(*body);
        *body = NULL;
        return FRAME_EOF;       /* the input ended mid-message */
    }
    (*body)[*len] = 0;
    return FRAME_OK;
}

int cli_lsp(int argc, char **argv)
{
    int stdio_flag = 0;
    const cli_option opts[] = { CLI_FLAG_OPT("--stdio", &stdio_flag), CLI_END_OPT };
    if (cli_parse("lsp", argc, argv, opts, NULL, 0, 0)) return cli_usage(cli_lsp_usage);
    lsp_server sv = { 0 };
    int status = 0;
    for (;;) {
        char *body = NULL;
        size_t len = 0;
        frame_status f = read_frame(stdin, &body, &len);
        if (f == FRAME_EOF) break;
        if (f == FRAME_SKIPPED) {
            char text[200];
            if (len > LSP_MAX_MESSAGE)
                snprintf(text, sizeof text, "a message of %zu bytes, more than the %u MiB a message may be: skipped", len,
                         LSP_MAX_MESSAGE >> 20);
            else if (len) snprintf(text, sizeof text, "out of memory for a message of %zu bytes: skipped", len);
            else snprintf(text, sizeof text, "a message without a Content-Length header: skipped");
            fprintf(stderr, "hptc lsp: %s\n", text);
            send_error(NULL, LSP_INVALID_REQUEST, text);
            continue;
        }
        int done = dispatch(&sv, body, len);
        free(body);
        if (done) {
            status = sv.shut_down ? 0 : 1;    /* exit without shutdown: 1, as the protocol says */
            break;
        }
    }
    for (int k = 0; k < sv.n_docs; k++) doc_clear(&sv.docs[k]);
    free(sv.docs);
    return status;
}

const char cli_lsp_usage[] =
    "hptc lsp [--stdio]\n"
    "  A Language Server Protocol server on stdin and stdout, for editors: the\n"
    "  diagnostics of `hptc check` as you type, hover on a layer, argument,\n"
    "  optimizer, loss or hp.* call (its catalogue entry and defaults; a\n"
    "  hyperparameter's values and when it is active), completion of names and\n"
    "  keyword arguments, formatting as `hptc fmt`, and go-to-definition of\n"
    "  constants and hyperparameters.  --stdio is accepted (clients pass it).\n"
    "  See docs/lsp.md for Neovim and VS Code set-ups.";
