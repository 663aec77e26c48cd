/* test_fmt.c: `hptc fmt` (compiler/fmt.c).
 *
 * Every example spec must already be in canonical form.  For hand-written
 * messy inputs fmt must be idempotent, must give back the same syntax tree
 * (kinds, texts, values, structure; positions ignored), and where the case
 * has an expected text, produce exactly it.  A generated batch of random
 * expressions checks the parenthesisation, and nesting at the parser's cap
 * checks that deep inputs format or fail cleanly. */
#include "compiler/fmt.h"
#include "compiler/parse.h"
#include "tests/unit/check.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int same_ast(const ast *x, const ast *y)
{
    if (!x || !y) return x == y;
    if (x->kind != y->kind || x->op != y->op || x->n != y->n || x->ival != y->ival) return 0;
    if (x->kind == AST_FLOAT && x->fval != y->fval) return 0;
    if (strcmp(x->text ? x->text : "", y->text ? y->text : "")) return 0;
    if (!same_ast(x->a, y->a) || !same_ast(x->b, y->b)) return 0;
    const ast *cx = x->first, *cy = y->first;
    for (; cx && cy; cx = cx->next, cy = cy->next)
        if (!same_ast(cx, cy)) return 0;
    return !cx && !cy;
}

/* Both texts parse without errors to the same tree. */
static int same_meaning(const char *s1, size_t n1, const char *s2, size_t n2)
{
    arena a1 = { 0 }, a2 = { 0 };
    diag_ctx d1 = { .file = "1", .src = s1, .len = n1 }, d2 = { .file = "2", .src = s2, .len = n2 };
    parse_ctx *p1 = malloc(sizeof *p1), *p2 = malloc(sizeof *p2);
    int ok = 0;
    if (p1 && p2) {
        int e = parse_spec(p1, &a1, &d1, s1, n1) + parse_spec(p2, &a2, &d2, s2, n2);
        ok = e == 0 && same_ast(p1->root, p2->root);
        parse_ctx_free(p1);
        parse_ctx_free(p2);
    }
    free(p1);
    free(p2);
    arena_free(&a1);
    arena_free(&a2);
    return ok;
}

/* fmt once and twice; checks idempotence and meaning, returns the first
 * output (caller frees) or NULL. */
static char *fmt_checked(const char *name, const char *src, size_t len)
{
    fmt_result r = fmt_format(name, src, len, stderr);
    if (!CHECK(r.text && r.errors == 0 && strlen(r.text) == r.len, "%s: formats without errors", name)) {
        free(r.text);
        return NULL;
    }
    fmt_result r2 = fmt_format(name, r.text, r.len, stderr);
    CHECK(r2.text && r2.len == r.len && memcmp(r2.text, r.text, r.len) == 0, "%s: idempotent", name);
    if (r2.text && (r2.len != r.len || memcmp(r2.text, r.text, r.len)))
        printf("--- first\n%s--- second\n%s---\n", r.text, r2.text);
    CHECK(same_meaning(src, len, r.text, r.len), "%s: same syntax tree after fmt", name);
    free(r2.text);
    return r.text;
}

static void check_case(const char *name, const char *in, const char *want)
{
    char *got = fmt_checked(name, in, strlen(in));
    if (got && want) {
        if (!CHECK(strcmp(got, want) == 0, "%s: exact output", name))
            printf("--- got\n%s--- want\n%s---\n", got, want);
    }
    free(got);
}

static void test_examples(void)
{
    DIR *dir = opendir("examples");
    if (!CHECK(dir != NULL, "examples/ is readable (run from the repo root)")) return;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        size_t k = strlen(e->d_name);
        if (k < 5 || strcmp(e->d_name + k - 4, ".hpt")) continue;
        char path[512];
        snprintf(path, sizeof path, "examples/%s", e->d_name);
        FILE *f = fopen(path, "rb");
        if (!CHECK(f != NULL, "%s: readable", path)) continue;
        char *buf = NULL;
        size_t len = 0, cap = 0, got;
        do {
            if (len + 4096 > cap) {
                cap = cap ? cap * 2 : 8192;
                char *nb = realloc(buf, cap);
                if (!nb) break;
                buf = nb;
            }
            got = fread(buf + len, 1, cap - len, f);
            len += got;
        } while (got > 0);
        fclose(f);
        char *out = buf ? fmt_checked(path, buf, len) : NULL;
        if (out && !CHECK(strlen(out) == len && memcmp(out, buf, len) == 0, "%s: is a fixed point of fmt", path))
            printf("--- fmt gives\n%s---\n", out);
        free(out);
        free(buf);
        n++;
    }
    closedir(dir);
    CHECK(n >= 3, "found %d example specs", n);
}

static void test_cases(void)
{
    check_case("spacing",
               "x=1\ny   =  true\nz=( 1 , )\nw = false\nn=None\nl=[ 1,2 , ]\n",
               "x = 1\ny = True\nz = (1,)\nw = False\nn = None\nl = [1, 2]\n");

    check_case("operators",
               "a = (a+b)*c - -d ** 2 ** e\n"
               "b = not (a or b) and c == (d < e)\n"
               "c = ((a - b) - (c - d)) / (e / f) // (g * h)\n"
               "d = (1/255, 2*16, 2 * hp.Int(\"x\", 1, 2), 2**-1, (-2)**2, 4%3, 7//2)\n"
               "e = ((a)) + (+1) - (not b)\n",
               "a = (a + b) * c - -d ** 2 ** e\n"
               "b = not (a or b) and c == (d < e)\n"
               "c = (a - b - (c - d)) / (e / f) // (g * h)\n"
               "d = (1/255, 2*16, 2 * hp.Int(\"x\", 1, 2), 2 ** -1, (-2) ** 2, 4%3, 7//2)\n"
               "e = a + 1 - (not b)\n");

    check_case("literals as written",
               "u = ( [ ], ( ), 1e-2, 1.0, .5, 'sq\\'s', \"a\\tb\", f\"u_{i}\", F'x' )\n",
               "u = ([], (), 1e-2, 1.0, .5, 'sq\\'s', \"a\\tb\", f\"u_{i}\", F'x')\n");

    check_case("blank lines collapse",
               "\n\n# head\n\n\n\nx = 1\n\n\n\ny = 2\nmodel {\n\n\n  Dense(1)\n\n\n\n  Dense(2)\n\n\n}\n\n\n",
               "# head\n\nx = 1\n\ny = 2\nmodel {\n  Dense(1)\n\n  Dense(2)\n}\n");

    check_case("blocks",
               "model { Input(shape=[28,28]) for i in range(hp.Int(\"n\",1,3)) { Dense(i) }\n"
               "if a { Dense(1) } elif b { Dense(2) }  else if c { Dense(3) } else { if d{Dropout(0.1)} }\n"
               "if e {} }\n",
               "model {\n"
               "  Input(shape = [28, 28])\n"
               "  for i in range(hp.Int(\"n\", 1, 3)) {\n"
               "    Dense(i)\n"
               "  }\n"
               "  if a {\n"
               "    Dense(1)\n"
               "  } else if b {\n"
               "    Dense(2)\n"
               "  } else if c {\n"
               "    Dense(3)\n"
               "  } else {\n"
               "    if d {\n"
               "      Dropout(0.1)\n"
               "    }\n"
               "  }\n"
               "  if e {\n"
               "  }\n"
               "}\n");

    /* Merge blocks: a call (parentheses kept or left out, as written) owning
     * a block; an empty branch on one line; comments inside and after. */
    check_case("merge blocks",
               "model { Input(shape=[8,8,1])\n"
               "Residual{Conv2D(4,3,padding=\"same\")   # body\n"
               "}\n"
               "Concatenate(axis=-1) { branch{Conv2D(2,1)} branch {   } branch { # inside\n"
               "} }\n"
               "Add(){branch{Flatten() Dense(4)} branch{Flatten()}} }\n",
               "model {\n"
               "  Input(shape = [8, 8, 1])\n"
               "  Residual {\n"
               "    Conv2D(4, 3, padding = \"same\")   # body\n"
               "  }\n"
               "  Concatenate(axis = -1) {\n"
               "    branch {\n"
               "      Conv2D(2, 1)\n"
               "    }\n"
               "    branch { }\n"
               "    branch { # inside\n"
               "    }\n"
               "  }\n"
               "  Add() {\n"
               "    branch {\n"
               "      Flatten()\n"
               "      Dense(4)\n"
               "    }\n"
               "    branch {\n"
               "      Flatten()\n"
               "    }\n"
               "  }\n"
               "}\n");
    check_case("branch is a name elsewhere", "branch = 3\nx = branch + 1\n", "branch = 3\nx = branch + 1\n");

    check_case("comments in blocks",
               "model {   # the net\n"
               "\n"
               "  # first\n"
               "  Dense(1)\t# tab gap\n"
               "  if x {\n"
               "       # only a comment\n"
               "  }\n"
               "  if y { # on brace\n"
               "  } # after brace\n"
               "  else { Dense(2) }\n"
               "\n"
               "  # last in block\n"
               "\n"
               "}\n"
               "# end of file   \n"
               "\n",
               "model {   # the net\n"
               "  # first\n"
               "  Dense(1) # tab gap\n"
               "  if x {\n"
               "    # only a comment\n"
               "  }\n"
               "  if y { # on brace\n"
               "  } else { # after brace\n"
               "    Dense(2)\n"
               "  }\n"
               "\n"
               "  # last in block\n"
               "}\n"
               "# end of file\n");

    check_case("long call filled",
               "compile(optimizer=Adam(learning_rate=hp.Choice(\"learning_rate\",[1e-2,1e-3,1e-4])),"
               "loss=\"sparse_categorical_crossentropy\",metrics=[\"accuracy\"])\n"
               "tuner = Hyperband(objective = \"val_accuracy\", max_epochs = 10, factor = 3, directory = \"my_dir\",\n"
               "   project_name = \"intro_to_kt\",\n   seed = 1)\n"
               "short = f(a,\n          b)\n",
               "compile(optimizer = Adam(learning_rate = hp.Choice(\"learning_rate\", [1e-2, 1e-3, 1e-4])),\n"
               "        loss = \"sparse_categorical_crossentropy\", metrics = [\"accuracy\"])\n"
               "tuner = Hyperband(objective = \"val_accuracy\", max_epochs = 10, factor = 3,\n"
               "                  directory = \"my_dir\", project_name = \"intro_to_kt\", seed = 1)\n"
               "short = f(a, b)\n");

    check_case("nested call wrapped",
               "model {\n"
               "  Conv2D(hp.Choice(\"filters_of_the_first_convolution\", [16, 32, 64, 128, 256, 512, 1024]),\n"
               "         kernel_size = hp.Choice(\"kernel_size\", [3, 5]), padding = \"same\", activation = \"relu\")\n"
               "}\n",
               "model {\n"
               "  Conv2D(hp.Choice(\"filters_of_the_first_convolution\", [16, 32, 64, 128, 256, 512, 1024]),\n"
               "         kernel_size = hp.Choice(\"kernel_size\", [3, 5]), padding = \"same\",\n"
               "         activation = \"relu\")\n"
               "}\n");

    check_case("positional call past 100 columns",
               "x = outer(hp.Choice(\"a_very_long_hyperparameter_name\", [\"first_option\", \"second_option\"], default = \"first_option\"), 1)\n",
               "x = outer(hp.Choice(\"a_very_long_hyperparameter_name\",\n"
               "                    [\"first_option\", \"second_option\"],\n"
               "                    default = \"first_option\"), 1)\n");

    check_case("comments in argument lists",
               "search(a,  # about a\n"
               "  b,\n"
               "  # about c\n"
               "  c = [1, # in list\n"
               "   2], d = 4)\n"
               "f(  # after paren\n"
               "  1)\n"
               "g(h(1, # inner\n"
               " 2), 3)\n"
               "k(1, 2 # before close\n"
               ")\n"
               "e(  # empty\n"
               ")\n",
               "search(a,  # about a\n"
               "       b,\n"
               "       # about c\n"
               "       c = [1, 2], # in list\n"
               "       d = 4)\n"
               "f(  # after paren\n"
               "  1)\n"
               "g(h(1, # inner\n"
               "    2), 3)\n"
               "k(1, 2) # before close\n"
               "e()  # empty\n");

    check_case("comments inside expressions move to the line end",
               "x = [1, # one\n 2]\n"
               "model {\n  if a and # why\n   b {\n    Dense(1)\n  }\n"
               "  for i in range(hp.Int(\"n\", # n\n 1, 3)) {\n  }\n}\n",
               "x = [1, 2] # one\n"
               "model {\n  if a and b { # why\n    Dense(1)\n  }\n"
               "  for i in range(hp.Int(\"n\", 1, 3)) { # n\n  }\n}\n");

    check_case("crlf and trailing whitespace",
               "x = 1   \r\n# c  \r\ny = 2\t\r\n",
               "x = 1\n# c\ny = 2\n");

    check_case("only comments", "   # a\n\n\n# b", "# a\n\n# b\n");
    check_case("empty", "", "");
    check_case("blank", "\n \n\t\n", "");

    /* No expected text: only idempotence and meaning. */
    check_case("messy mix",
               "#c0\nmodel{#c1\nfor i in range(3){#c2\nif i==1{Dense(1)#c3\n}elif i>1{#c4\n}else{}#c5\n}#c6\n"
               "Dense(units=hp.Int(\"u\",min_value=1,max_value=2,step=1),activation=hp.Choice(\"act\",[\"relu\",\"tanh\",\"sigmoid\"]),"
               "kernel_initializer=\"glorot_uniform\" # k\n, use_bias=True)}\n"
               "compile(Adam(hp.Float(\"lr\", min_value = 1e-4, max_value = 1e-2, sampling = \"log\"), beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7),\n"
               "# own line\nloss=\"mse\")#end\n",
               NULL);
}

static void test_errors(void)
{
    const char *bad = "model {\n  Dense(\n}\n";
    fmt_result r = fmt_format("bad.hpt", bad, strlen(bad), NULL);
    CHECK(r.text == NULL && r.errors > 0, "syntax error: no text, %d error(s)", r.errors);
    free(r.text);
    const char *bad2 = "x = 1 +\n";
    r = fmt_format("bad2.hpt", bad2, strlen(bad2), NULL);
    CHECK(r.text == NULL && r.errors > 0, "dangling operator: no text, %d error(s)", r.errors);
    free(r.text);
}

static char *repeat3(const char *pre, const char *s, int n, const char *mid, const char *close, const char *post)
{
    size_t len = strlen(pre) + (strlen(s) + strlen(close)) * (size_t)n + strlen(mid) + strlen(post) + 1;
    char *b = malloc(len), *p = b;
    if (!b) return NULL;
    p = stpcpy(p, pre);
    for (int k = 0; k < n; k++) p = stpcpy(p, s);
    p = stpcpy(p, mid);
    for (int k = 0; k < n; k++) p = stpcpy(p, close);
    stpcpy(p, post);
    return b;
}

/* At the cap the parser either builds the tree (and fmt must print it) or
 * reports an error (and fmt must return NULL); neither may crash. */
static void test_nesting(void)
{
    struct { const char *open, *close; int depth; int ok; } cases[] = {
        { "(", ")", 150, 1 },  { "[", "]", 150, 1 },  { "f(", ")", 190, 1 },
        { "f(1, ", ")", 190, 1 }, { "-", "", 150, 1 }, { "not ", "", 150, 1 },
        { "(", ")", 400, 0 },  { "[", "]", 400, 0 },  { "f(", ")", 400, 0 },
        { "-", "", 400, 0 },   { "not ", "", 400, 0 },
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char *src = repeat3("x = ", cases[k].open, cases[k].depth, "1", cases[k].close, "\n");
        if (!src) continue;
        char name[64];
        snprintf(name, sizeof name, "nesting %s x%d", cases[k].open, cases[k].depth);
        if (cases[k].ok) {
            free(fmt_checked(name, src, strlen(src)));
        } else {
            fmt_result r = fmt_format(name, src, strlen(src), NULL);
            CHECK(r.text == NULL && r.errors > 0, "%s: refused", name);
            free(r.text);
        }
        free(src);
    }
    char *blocks = repeat3("model {\n", "if a {\n", 150, "Dense(1)\n", "}\n", "}\n");
    if (blocks) free(fmt_checked("150 nested ifs", blocks, strlen(blocks)));
    free(blocks);
}

/* Random expressions with random parentheses and spacing: parentheses must
 * be kept exactly where the tree needs them. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static void gen(char *b, size_t cap, int depth)
{
    static const char *ops[] = { "or", "and", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "//", "%", "**" };
    static const char *atoms[] = { "a", "1", "2.5", "1e-2", "\"s\"", "True", "f(x, k = 1)", "[1, b]", "(c,)", "hp.Int(\"n\", 1, 4)" };
    size_t len = strlen(b);
    if (len + 64 > cap) return;
    unsigned r = depth > 4 ? 9 : rnd(10);
    if (r < 6) {
        const char *op = ops[rnd(15)];
        int paren = rnd(2);
        snprintf(b + len, cap - len, "%s", paren ? "(" : "");
        gen(b, cap, depth + 1);
        len = strlen(b);
        snprintf(b + len, cap - len, "%s%s%s", rnd(2) ? " " : "  ", op, " ");
        gen(b, cap, depth + 1);
        len = strlen(b);
        snprintf(b + len, cap - len, "%s", paren ? ")" : "");
    } else if (r < 8) {
        snprintf(b + len, cap - len, "%s(", rnd(2) ? "-" : "not ");
        gen(b, cap, depth + 1);
        strcat(b, ")");
    } else {
        snprintf(b + len, cap - len, "%s", atoms[rnd(10)]);
    }
}

static void test_random_exprs(void)
{
    int parsed = 0, good = 0;
    for (int k = 0; k < 400; k++) {
        char src[4096] = "x = ";
        gen(src, sizeof src - 2, 0);
        strcat(src, "\n");
        arena a = { 0 };
        diag_ctx d = { .file = "r", .src = src, .len = strlen(src) };
        parse_ctx *pc = malloc(sizeof *pc);
        if (!pc) break;
        int errs = parse_spec(pc, &a, &d, src, strlen(src));   /* chained comparisons do not parse */
        parse_ctx_free(pc);
        free(pc);
        arena_free(&a);
        if (errs) continue;
        parsed++;
        fmt_result r = fmt_format("r", src, strlen(src), NULL);
        int ok = r.text != NULL && same_meaning(src, strlen(src), r.text, r.len);
        if (ok) {
            fmt_result r2 = fmt_format("r", r.text, r.len, NULL);
            ok = r2.text && r2.len == r.len && !memcmp(r.text, r2.text, r.len);
            free(r2.text);
        }
        if (!ok) printf("      random case failed: %s", src);
        good += ok;
        free(r.text);
    }
    CHECK(parsed > 100 && good == parsed, "random expressions: %d/%d keep their tree and are idempotent", good, parsed);
}

int main(void)
{
    test_examples();
    test_cases();
    test_errors();
    test_nesting();
    test_random_exprs();
    return check_exit();
}
