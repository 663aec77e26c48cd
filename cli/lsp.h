/* lsp.h: what the language server's two files share (cli/lsp.c: the
 * protocol, the documents and their diagnostics; cli/lsp_features.c: hover,
 * completion, definition and formatting, each a request handler).  JSON is
 * cJSON's (jansson's json_* names collide with runtime/json.h's writer). */
#ifndef HPTC_CLI_LSP_H
#define HPTC_CLI_LSP_H
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler/ir.h"
#include "compiler/lookup.h"

/* An open document: the client's text, its parse for lookups, and the IR
 * of its last version that compiled (a hover on hp.* reads its domain and
 * condition there; while the text has errors, the IR may be older). */
typedef struct lsp_doc {
    char *uri, *path;           /* path: the file the URI names, as diagnostics and the data probe see it */
    char *text;
    size_t len;
    uint32_t *lines;            /* offsets of the line starts, so a position costs a binary search */
    size_t n_lines;
    lookup_spec *spec;          /* NULL for a text the parser will not read (too large) */
    ir_program *program;        /* NULL until a version compiles */
    int program_current;        /* program is of this very text */
} lsp_doc;

typedef struct lsp_server {
    int utf8;                   /* positions count UTF-8 bytes (negotiated), else UTF-16 units */
    int initialized, shut_down;
    lsp_doc *docs;
    int n_docs, cap_docs;
} lsp_server;

/* A failed request: a JSON-RPC error code and a message. */
typedef struct lsp_error {
    int code;
    char message[256];
} lsp_error;

enum {
    LSP_PARSE_ERROR = -32700, LSP_INVALID_REQUEST = -32600, LSP_METHOD_NOT_FOUND = -32601,
    LSP_INVALID_PARAMS = -32602, LSP_SERVER_NOT_INITIALIZED = -32002, LSP_REQUEST_FAILED = -32803,
};

/* The document params.textDocument.uri names, or NULL (and err filled). */
lsp_doc *lsp_doc_of(lsp_server *sv, const cJSON *params, lsp_error *err);
/* params.position as a byte offset of d's text; -1 (and err filled) when absent. */
long lsp_offset_of(lsp_server *sv, const lsp_doc *d, const cJSON *params, lsp_error *err);
/* A Range object of d's bytes [start, end). */
cJSON *lsp_range(lsp_server *sv, const lsp_doc *d, uint32_t start, uint32_t end);
/* A JSON string of n bytes of text; a byte that is not UTF-8 becomes U+FFFD
 * (cJSON passes bytes through, and a client may refuse such a message). */
cJSON *lsp_text(const char *s, size_t n);

/* The requests of cli/lsp_features.c: a result (cJSON null for none), or
 * NULL with err filled. */
cJSON *lsp_hover(lsp_server *sv, const cJSON *params, lsp_error *err);
cJSON *lsp_completion(lsp_server *sv, const cJSON *params, lsp_error *err);
cJSON *lsp_definition(lsp_server *sv, const cJSON *params, lsp_error *err);
cJSON *lsp_formatting(lsp_server *sv, const cJSON *params, lsp_error *err);

#endif
