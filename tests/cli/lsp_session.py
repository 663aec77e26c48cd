#!/usr/bin/env python3
# tests/cli/lsp_session.py HPTC SPEC TMPDIR: scripted JSON-RPC sessions with
# `hptc lsp` (tests/cli/lsp.sh runs it): every request of the protocol the
# server answers, and the malformed messages it must survive.  Prints
# PASS:/FAIL: lines, each on a value read from the server's replies.
import json, os, re, subprocess, sys, threading, time

hptc, spec_path, tmp = sys.argv[1], sys.argv[2], sys.argv[3]
spec = open(spec_path, encoding="utf-8").read()


def report(ok, what, got=None):
    print(("PASS: " if ok else "FAIL: ") + what + ("" if ok or got is None else "  (got: %s)" % str(got)[:400]))


class Server:
    def __init__(self):
        self.err = open(os.path.join(tmp, "lsp.stderr"), "ab")
        self.p = subprocess.Popen([hptc, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err)
        self.inbox, self.lock = [], threading.Condition()
        threading.Thread(target=self.reader, daemon=True).start()
        self.next_id = 0

    def reader(self):
        out = self.p.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                m = re.match(rb"Content-Length: *(\d+)", line, re.I)
                if m:
                    length = int(m.group(1))
            body = out.read(length)
            with self.lock:
                self.inbox.append(json.loads(body))
                self.lock.notify_all()

    def raw(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def send(self, obj):
        body = json.dumps(obj).encode()
        self.raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def wait(self, pred, timeout=20):
        end = time.time() + timeout
        with self.lock:
            while True:
                for k, m in enumerate(self.inbox):
                    if pred(m):
                        return self.inbox.pop(k)
                left = end - time.time()
                if left <= 0:
                    return None
                self.lock.wait(left)

    def request(self, method, params):
        self.next_id += 1
        i = self.next_id
        self.send({"jsonrpc": "2.0", "id": i, "method": method, "params": params})
        return self.wait(lambda m: m.get("id") == i)

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def diagnostics(self, uri):
        m = self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri)
        return m["params"]["diagnostics"] if m else None


def pos(text, needle, delta=0, utf16=False):
    return pos_at(text, text.index(needle) + delta, utf16)


def pos_at(text, off, utf16=False):
    line = text.count("\n", 0, off)
    col = text[text.rfind("\n", 0, off) + 1:off]
    n = len(col.encode("utf-16-le")) // 2 if utf16 else len(col.encode("utf-8"))
    return {"line": line, "character": n}


def doc(uri):
    return {"textDocument": {"uri": uri}}


def at(uri, text, needle, delta=0):
    return dict(doc(uri), position=pos(text, needle, delta))


def check_text(text):
    """The first error line of `hptc check` on text, without file:line:col."""
    path = os.path.join(tmp, "check.hpt")
    open(path, "w", encoding="utf-8").write(text)
    r = subprocess.run([hptc, "check", path], capture_output=True, text=True)
    m = re.search(r"^[^\n]*?:\d+:\d+: error: (.*)$", r.stderr, re.M)
    return m.group(1) if m else r.stderr


def hover_text(s, uri, text, needle, delta=0):
    r = s.request("textDocument/hover", at(uri, text, needle, delta))
    res = r and r.get("result")
    return res["contents"]["value"] if res else ""


def labels(r):
    res = r.get("result") if r else None
    items = res["items"] if isinstance(res, dict) else res or []
    return [i["label"] for i in items]


# ---- session 1: the features, over UTF-8 positions --------------------------
s = Server()
uri = "file://" + os.path.abspath(spec_path)
r = s.request("initialize", {"processId": None, "rootUri": None,
                             "capabilities": {"general": {"positionEncodings": ["utf-8", "utf-16"]}}})
caps = r["result"]["capabilities"] if r and "result" in r else {}
report(caps.get("positionEncoding") == "utf-8" and caps.get("hoverProvider") and caps.get("documentFormattingProvider"),
       "initialize: utf-8 positions negotiated, hover and formatting offered", caps)
s.notify("initialized", {})
s.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "hpt", "version": 1, "text": spec}})
d = s.diagnostics(uri)
report(d == [], "didOpen of %s: no diagnostics, as hptc check" % os.path.basename(spec_path), d)

h = hover_text(s, uri, spec, "Adam(", 1)
report("**Adam** (optimizer)" in h and "`learning_rate` = `0.001`" in h and "`beta_1` = `0.9`" in h,
       "hover on Adam: its entry with the defaults (learning_rate = 0.001, beta_1 = 0.9)", h)
h = hover_text(s, uri, spec, 'hp.Int("units"', 4)
report("**units**: hp.Int, 16 .. 512 step 16, linear, 32 values; default 16" in h and "active in every configuration" in h,
       "hover on hp.Int: the domain as hptc space gives it, and when it is active", h)
h = hover_text(s, uri, spec, "units =", 1)
report(h.startswith("argument of **Dense**: `units` (required, int") and "dimensionality of the output" in h,
       "hover on Dense's units =: the argument's type, range and meaning", h)
h = hover_text(s, uri, spec, '"sparse_categorical_crossentropy"', 3)
report("**SparseCategoricalCrossentropy** (loss)" in h, "hover on a loss named by a string: its catalogue entry", h)
h = hover_text(s, uri, spec, "Hyperband", 2)
report("**Hyperband** (tuner)" in h and "`max_epochs`" in h, "hover on a tuner: its entry and arguments", h)

# Completion: a layer begun in the model block, an argument in a call, hp., a string's choices.
text2 = spec.replace("  Flatten()\n", "  Flatten()\n  Den\n")
s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": text2}]})
d = s.diagnostics(uri)
report(d and len(d) >= 1, "didChange: the half-written line is diagnosed", d)
c = labels(s.request("textDocument/completion", at(uri, text2, "  Den\n", 5)))
report("Dense" in c and all(x.lower().startswith("den") for x in c), "completion after Den offers Dense (names begun so)", c)
c = labels(s.request("textDocument/completion", at(uri, text2, "Dense(units", 6)))
report("units" in c and "activation" in c and "use_bias" in c, "completion at Dense( offers its keyword arguments", c)
c = labels(s.request("textDocument/completion", at(uri, text2, 'activation = "relu"', 15)))
report("relu" in c and "linear" not in c, 'completion in activation = "re offers relu', c)
c = labels(s.request("textDocument/completion", at(uri, text2, 'hp.Int', 3)))
report(set(c) >= {"Int", "Float", "Choice", "Boolean", "Fixed"}, "completion after hp. offers the five kinds", c)
c = labels(s.request("textDocument/completion", at(uri, text2, "optimizer = Adam", 14)))
report("Adam" in c and "AdamW" in c and "Dense" not in c, "completion at optimizer = Ad offers optimizers only", c)

# Diagnostics: the message hptc check prints, at the byte range of the compiler.
text3 = spec.replace("  Dropout(0.2)", "  Dropot(0.2)")
s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": text3}]})
d = s.diagnostics(uri) or [{}]
want = check_text(text3)
first = d[0].get("message", "").split("\n")[0]
p = pos(text3, "Dropot")
rng = d[0].get("range", {})
report(first == want and rng.get("start") == p and rng.get("end") == {"line": p["line"], "character": p["character"] + 6}
       and d[0].get("severity") == 1, "didChange: the error of hptc check (%s) at Dropot's range" % want, d)
report("hint: did you mean 'Dropout'?" in d[0].get("message", ""), "the diagnostic carries check's hint", d)

# Formatting: hptc fmt's text as one edit.
messy = spec.replace("Dense(10)", "Dense( 10 )").replace("Flatten()", "Flatten(  )")
s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 4}, "contentChanges": [{"text": messy}]})
s.diagnostics(uri)
r = s.request("textDocument/formatting", dict(doc(uri), options={"tabSize": 2, "insertSpaces": True}))
fmt = subprocess.run([hptc, "fmt", "-"], input=messy, capture_output=True, text=True).stdout
edits = r.get("result") if r else None
report(isinstance(edits, list) and len(edits) == 1 and edits[0]["newText"] == fmt and fmt != messy
       and edits[0]["range"]["start"] == {"line": 0, "character": 0}, "formatting: one edit holding hptc fmt's text", edits)

# Definition: a constant used below, a hyperparameter named again.
defs = ('width = hp.Int("units", min_value = 16, max_value = 512, step = 16)\n' +
        spec.replace('Dense(units = hp.Int("units", min_value = 16, max_value = 512, step = 16), activation = "relu")',
                     'Dense(units = width, activation = "relu")\n  Dense(hp.Int("units", min_value = 16, max_value = 512, step = 16))'))
s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 5}, "contentChanges": [{"text": defs}]})
d = s.diagnostics(uri)
r = s.request("textDocument/definition", at(uri, defs, "units = width", 9))
res = r.get("result") if r else None
report(res and res["range"]["start"] == {"line": 0, "character": 0} and res["range"]["end"] == {"line": 0, "character": 5},
       "definition of a constant's use: its assignment (line 1)", res)
second = defs.index('hp.Int("units"', defs.index("Dense(hp.Int"))
r = s.request("textDocument/definition", dict(doc(uri), position=pos_at(defs, second + 9)))
res = r.get("result") if r else None
report(res and res["range"]["start"] == {"line": 0, "character": 8}, "definition of a hyperparameter named again: its first hp.Int", res)
h = hover_text(s, uri, defs, "units = width", 9)
report("constant **width**" in h and 'hp.Int("units"' in h, "hover on a constant: its value", h)

# A conditional hyperparameter: the call in a loop defines units_0..units_2, each active when num_layers allows.
nas = open("examples/nas.hpt", encoding="utf-8").read()
uri_nas = "file://" + os.path.abspath("examples/nas.hpt")
s.notify("textDocument/didOpen", {"textDocument": {"uri": uri_nas, "languageId": "hpt", "version": 1, "text": nas}})
s.diagnostics(uri_nas)
h = hover_text(s, uri_nas, nas, 'hp.Int(f"units_', 3)
report("**units_0**" in h and "**units_2**: hp.Int, 32 .. 512 step 32" in h and "active only when `num_layers > 2`" in h,
       "hover on an hp.* call in a loop: each hyperparameter it defines, with its condition", h)

# Malformed messages: each answered, and the server reads on.
s.raw(b'Content-Length: 9\r\n\r\n{"bad": }')
r = s.wait(lambda m: m.get("error", {}).get("code") == -32700)
report(r is not None and r["id"] is None, "bad JSON: error -32700 with id null", r)
r = s.request("textDocument/frobnicate", {})
report(r and r.get("error", {}).get("code") == -32601, "an unknown request: error -32601", r)
s.notify("$/unknownNotification", {})
r = s.request("textDocument/hover", at(uri, defs, "Adam(", 1))
report(r and r.get("result") and "Adam" in r["result"]["contents"]["value"],
       "an unknown notification is ignored; the next request is answered", r)

def peak_rss_mb(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0


big = 100 << 20
before = peak_rss_mb(s.p.pid)
t0 = time.time()
s.raw(b"Content-Length: %d\r\n\r\n" % big)
chunk = b" " * (1 << 20)
for _ in range(100):
    s.raw(chunk)
r = s.wait(lambda m: m.get("error", {}).get("code") == -32600)
hwm = peak_rss_mb(s.p.pid)
report(r is not None and "more than the 16 MiB" in r["error"]["message"],
       "a 100 MB Content-Length: error -32600 (%s), read past in %.1f s" % (r and r["error"]["message"], time.time() - t0), r)
report(hwm - before < 20, "... without holding it: the server's peak RSS %d MB before, %d MB after" % (before, hwm), hwm)
r = s.request("textDocument/hover", at(uri, defs, "Adam(", 1))
report(r and r.get("result"), "after the 100 MB message the server resynchronises and answers", r)

emoji = defs.replace('metrics = ["accuracy"]', 'metrics = ["😀é", "accuracy"]')
s.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 6}, "contentChanges": [{"text": emoji}]})
s.diagnostics(uri)
h = hover_text(s, uri, emoji, '"accuracy"', 3)
report("**accuracy** (metric)" in h, "hover after non-ASCII text on the line: UTF-8 columns", h)

r = s.request("shutdown", None)
report(r and "result" in r and r["result"] is None, "shutdown: result null", r)
r = s.request("textDocument/hover", at(uri, defs, "Adam(", 1))
report(r and r.get("error", {}).get("code") == -32600, "after shutdown a request is refused (-32600)", r)
s.notify("exit", None)
try:
    st = s.p.wait(10)
except subprocess.TimeoutExpired:
    st = "still running"
report(st == 0, "exit after shutdown: status 0", st)

# ---- session 2: UTF-16 positions (no utf-8 offered) -------------------------
s = Server()
r = s.request("initialize", {"processId": None, "capabilities": {}})
report(r and r["result"]["capabilities"]["positionEncoding"] == "utf-16", "no utf-8 offered: utf-16 positions",
       r and r.get("result"))
wide = spec.replace('activation = "relu"', 'activation = "😀é"').replace('metrics = ["accuracy"]', 'metrics = ["😀é", "accuracy"]')
uri2 = "file://" + os.path.join(tmp, "wide.hpt")
s.notify("textDocument/didOpen", {"textDocument": {"uri": uri2, "languageId": "hpt", "version": 1, "text": wide}})
d = s.diagnostics(uri2) or [{}]
rng = d[0].get("range", {})
p = pos(wide, '"😀é"', 0, utf16=True)
report(rng.get("start") == p and rng.get("end", {}).get("character") == p["character"] + 5,
       "a diagnostic after non-ASCII text: UTF-16 columns (start %s, 5 units wide)" % p, rng)
r = s.request("textDocument/hover", dict(doc(uri2), position=pos(wide, '"accuracy"', 3, utf16=True)))
h = r["result"]["contents"]["value"] if r and r.get("result") else ""
report("**accuracy** (metric)" in h, "hover after non-ASCII text on the line: UTF-16 columns", h)
# Input ending mid-message: the server ends, cleanly.
s.raw(b'Content-Length: 100\r\n\r\n{"jsonrpc": "2.0", ')
s.p.stdin.close()
try:
    st = s.p.wait(10)
except subprocess.TimeoutExpired:
    st = "still running"
report(st == 0, "input ending mid-message: a clean exit (status 0)", st)

s.err.close()
errors = open(os.path.join(tmp, "lsp.stderr"), errors="replace").read()
report("Sanitizer" not in errors and "runtime error" not in errors, "no sanitizer report on the server's stderr",
       errors[-2000:])
