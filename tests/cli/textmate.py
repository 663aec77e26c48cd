"""textmate.py GRAMMAR [OTHER.json ...] FILE.hpt TEXT=SCOPE ... [FILE.hpt TEXT=SCOPE ...]:
reads every .json given (it must be valid JSON; the first is the grammar),
tokenises each FILE.hpt with the TextMate grammar the way VS Code's engine
does, approximated with Python's `re` (the grammar keeps to what both
Oniguruma and `re` read alike), and checks that the first character of
TEXT's first occurrence in the FILE before it carries SCOPE among its
scopes.  Prints one "ok"/"bad" line per check with the scopes found, and a
last line "N checked, N bad".  tests/cli/editors.sh runs it (one Python
start for every check).

The engine, as vscode-textmate: at each position, of the patterns in reach
(includes expanded in order) the one matching earliest wins, the first
listed on a tie; inside a begin/end rule its end pattern wins a tie with
its inner patterns; matching is per line, so $ is the line's end."""
import json
import re
import sys


def load(path):
    with open(path) as f:
        g = json.load(f)
    return g, g.get("repository", {})


def expand(patterns, repo, top, seen=()):
    """The rules of a pattern list with every include replaced by its rules."""
    out = []
    for p in patterns:
        inc = p.get("include")
        if inc is None:
            out.append(p)
        elif inc == "$self":
            out += expand(top["patterns"], repo, top, seen)
        elif inc.startswith("#") and inc[1:] not in seen:
            r = repo[inc[1:]]
            out += expand(r["patterns"], repo, top, seen + (inc[1:],)) if "patterns" in r and "match" not in r and "begin" not in r else [r]
    return out


def compiled(cache, rx):
    if rx not in cache:
        cache[rx] = re.compile(rx)
    return cache[rx]


def tokenise(grammar, repo, lines):
    """scopes[(line, col)] = the list of scopes over that character (0-based)."""
    cache, scopes = {}, {}
    stack = []   # open begin/end rules: (rule, its scope list, end regex)
    top = expand(grammar["patterns"], repo, grammar)

    def paint(line, a, b, names):
        for c in range(a, b):
            scopes.setdefault((line, c), []).extend(names)

    for ln, text in enumerate(lines):
        pos = 0
        while pos <= len(text):
            outer = [grammar["scopeName"]] + [s for _, ss, _ in stack for s in ss]
            rules = expand(stack[-1][0].get("patterns", []), repo, grammar) if stack else top
            best, best_at, best_rule = None, None, None
            if stack:
                m = compiled(cache, stack[-1][2]).search(text, pos)
                if m:
                    best, best_at, best_rule = m, m.start(), "end"
            for r in rules:
                rx = r.get("match") or r.get("begin")
                m = compiled(cache, rx).search(text, pos)
                if m and (best_at is None or m.start() < best_at):
                    best, best_at, best_rule = m, m.start(), r
            if best is None:
                paint(ln, pos, len(text), outer)
                break
            paint(ln, pos, best.start(), outer)
            if best_rule == "end":
                rule, names, _ = stack.pop()
                paint(ln, best.start(), best.end(), outer)
                for k, cap in rule.get("endCaptures", {}).items():
                    if best.group(int(k)) is not None:
                        paint(ln, best.start(int(k)), best.end(int(k)), cap["name"].split())
            else:
                names = best_rule.get("name", "").split()
                paint(ln, best.start(), best.end(), outer + names)
                caps = best_rule.get("captures" if "match" in best_rule else "beginCaptures", {})
                for k, cap in caps.items():
                    if best.group(int(k)) is not None:
                        paint(ln, best.start(int(k)), best.end(int(k)), cap["name"].split())
                if "begin" in best_rule:
                    stack.append((best_rule, names, best_rule["end"]))
            pos = best.end() if best.end() > pos else pos + 1   # an empty match must not stall the scan
    return scopes


def main(argv):
    grammar, repo = load(argv[1])
    print("ok %s is JSON" % argv[1])
    n = bad = 0
    source = scopes = None
    for arg in argv[2:]:
        if "=" not in arg and arg.endswith(".json"):
            with open(arg) as f:
                json.load(f)
            print("ok %s is JSON" % arg)
            continue
        if "=" not in arg:
            with open(arg) as f:
                source = f.read()
            scopes = tokenise(grammar, repo, source.split("\n"))
            continue
        text, scope = arg.rsplit("=", 1)
        at = source.find(text)
        line = source.count("\n", 0, at)
        col = at - (source.rfind("\n", 0, at) + 1)
        found = scopes.get((line, col), []) if at >= 0 else ["(not in the file)"]
        ok = scope in found
        n += 1
        bad += not ok
        print("%s %r %s [%s]" % ("ok" if ok else "bad", text, scope, " ".join(found)))
    print("%d checked, %d bad" % (n, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
