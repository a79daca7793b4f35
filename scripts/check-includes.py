#!/usr/bin/env python3
"""check-includes.py - the module include graph: no cycle, no forbidden edge.

Reads the #include lines of src/*.c, src/*.h and include/*.h. A module is a file stem:
src/X.c, include/X.h and src/X_int.h are module X. There is an edge X -> Y when a file of X
includes "Y.h" (or "Y_int.h"). The check fails, with the files and lines that make the
offending edges, on
  - a cycle between modules (calls go downstream only: STYLE.md section 1),
  - an edge the RULES below forbid, or an include outside a module's ONLY_INCLUDES,
  - a system-library header included by a module other than its owner (SYSTEM_OWNERS),
  - a quoted include that names no module and no GENERATED header.
Known violations listed in ALLOW are printed as warnings and do not fail; an ALLOW entry that
no longer matches anything is printed as a note, to be deleted.

  check-includes.py [--root DIR]   check the tree at DIR (default: this script's checkout)
  check-includes.py --self-test    check fake trees in a temporary directory

Python 3 standard library only. Exit status: 0 clean (warnings allowed), 1 violations, 2 usage.
"""

import fnmatch
import glob
import os
import re
import sys
import tempfile

# ---- Rule table: edit here. Patterns are fnmatch globs on module names. ---------------------

# The protocol parsers: they see bytes, never packets, and know nothing of output. Any module
# whose header exports a struct parser_ops is one too (parsers_of), listed or not.
PARSERS = ["smtp", "pop3", "imap", "socks", "httpconnect", "managesieve", "ftp"]

# The protocol registry: the one module that names a parser (its table of protocols).
REGISTRY = ["registry"]

# Output modules, and the registry that may one day sit in front of them.
SINKS = ["sink_*"]  # sink_ops, the interface every sink implements, is one of them
SINK_REGISTRY = ["sink"]

# (name, includers, except these includers, included modules, why)
RULES = [
    ("parser-private", ["*"], REGISTRY, PARSERS,
     "only the registry names a parser; everything else reaches one through proto.h"),
    ("parser-lower", PARSERS, [], ["flow", "capture", "decode", "classify"] + SINKS,
     "a parser sees bytes: no flow, capture, decode, classify or sink header"),
    ("sink-private", ["*"], ["main"] + SINKS + SINK_REGISTRY, SINKS,
     "only main, the sinks and the sink registry include a sink header"),
]

# Modules that may include only the modules listed (their own header is always allowed).
ONLY_INCLUDES = {
    "decode": ["ps", "rd", "tunables", "log"],
}

# System-library headers (fnmatch globs on the <...> name) and the modules that own them.
SYSTEM_OWNERS = [
    (["pcap.h", "pcap/*", "pcap-*.h"], ["capture"], "libpcap"),
    (["ndpi/*", "ndpi_*.h", "libndpi*"], ["classify"], "nDPI"),
    # report reads the database read-only into its own rows; writing (sink_sqlite) shares
    # nothing with it but the schema.
    (["sqlite3.h", "sqlite3ext.h"], ["sink_sqlite", "report"], "SQLite"),
]

# Quoted headers that are generated into build/<flavour>/gen/, and the modules that may use them.
GENERATED = {
    "schema_sql.h": ["sink_sqlite"],
}

# Known violations, as (from, to) edges: warned about, not failed on. An edge listed here is also
# left out when looking for cycles; a cycle through it is a warning. None today: keep it so.
ALLOW = {
}

# ---- End of the rule table. -----------------------------------------------------------------

INCLUDE_RE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*([<"])([^">]+)[">]', re.M)
COMMENT_RE = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def matches(name, patterns):
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def module_of(filename):
    stem = os.path.splitext(os.path.basename(filename))[0]
    if stem.endswith("_int"):
        stem = stem[: -len("_int")]
    return stem


def strip_comments(text):
    """Blanks out comments, keeping newlines so that line numbers stay right."""
    return COMMENT_RE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def scan(root):
    """Returns (modules, includes): the set of module names, and a list of
    (path, line, module, kind, name) for every include, kind '"' or '<'."""
    files = []
    for sub, exts in (("src", (".c", ".h")), ("include", (".h",))):
        d = os.path.join(root, sub)
        if not os.path.isdir(d):
            continue
        for f in sorted(os.listdir(d)):
            if f.endswith(exts):
                files.append(os.path.join(sub, f))
    modules = {module_of(f) for f in files}
    includes = []
    for rel in files:
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as fh:
            text = strip_comments(fh.read())
        for m in INCLUDE_RE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            includes.append((rel, line, module_of(rel), m.group(1), m.group(2).strip()))
    return modules, includes


def find_cycles(nodes, edges):
    """Strongly connected components of more than one module (Tarjan), each as one concrete
    cycle: a shortest path from the component's first module back to itself."""
    index, low, on_stack, stack, sccs = {}, {}, set(), [], []
    counter = [0]

    def connect(v):  # iterative, so deep graphs cannot hit the recursion limit
        work = [(v, iter(sorted(edges.get(v, ()))))]
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        while work:
            node, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter[0]
                    counter[0] += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                    advanced = True
                    break
                if w in on_stack:
                    low[node] = min(low[node], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    sccs.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            connect(v)

    cycles = []
    for comp in sorted(sccs):
        start, inside = comp[0], set(comp)
        prev, queue, found = {start: None}, [start], None
        while queue and found is None:
            nxt = []
            for v in queue:
                for w in sorted(edges.get(v, ())):
                    if w not in inside:
                        continue
                    if w == start:
                        found = v
                        break
                    if w not in prev:
                        prev[w] = v
                        nxt.append(w)
                if found is not None:
                    break
            queue = nxt
        path, v = [], found
        while v is not None:
            path.append(v)
            v = prev[v]
        cycles.append(list(reversed(path)) + [start])
    return cycles


def parsers_of(root):
    """The modules whose header exports a parser (`extern const struct parser_ops X_parser_ops`):
    a new protocol's module is a parser to these rules without an edit here."""
    found = set()
    for path in glob.glob(os.path.join(root, "include", "*.h")):
        with open(path, encoding="utf-8", errors="replace") as f:
            if re.search(r"extern\s+const\s+struct\s+parser_ops\s+\w+_parser_ops", f.read()):
                found.add(os.path.splitext(os.path.basename(path))[0])
    return found


def check(root, allow):
    """Returns (errors, warnings, notes, stats), each message one line."""
    for p in sorted(parsers_of(root)):
        if p not in PARSERS:
            PARSERS.append(p)
    modules, includes = scan(root)
    errors, warnings, notes = [], [], []
    edges = {}  # module -> set of modules
    where = {}  # (from, to) -> first "file:line"
    used_allow = set()

    def report(edge, msg):
        if edge in allow:
            used_allow.add(edge)
            warnings.append("%s [allowed: %s]" % (msg, allow[edge]))
        else:
            errors.append(msg)

    for path, line, mod, kind, name in includes:
        loc = "%s:%d" % (path, line)
        if kind == "<":
            for patterns, owners, lib in SYSTEM_OWNERS:
                if matches(name, patterns) and not matches(mod, owners):
                    errors.append("%s: %s includes <%s>: only %s may include %s headers"
                                  % (loc, mod, name, ", ".join(owners), lib))
            continue
        base = os.path.basename(name)
        if base in GENERATED:
            if not matches(mod, GENERATED[base]):
                errors.append('%s: %s includes generated "%s": only %s may'
                              % (loc, mod, name, ", ".join(GENERATED[base])))
            continue
        target = module_of(base)
        if target not in modules or not base.endswith(".h"):
            errors.append('%s: %s includes "%s", which is no module\'s header (a generated '
                          "header goes in GENERATED in scripts/check-includes.py)"
                          % (loc, mod, name))
            continue
        if target == mod:
            continue
        edges.setdefault(mod, set()).add(target)
        where.setdefault((mod, target), loc)

    for (mod, target), loc in sorted(where.items()):
        edge = (mod, target)
        for rname, frm, unless, to, why in RULES:
            if matches(mod, frm) and not matches(mod, unless) and matches(target, to):
                report(edge, "%s: %s -> %s: %s (%s)" % (loc, mod, target, why, rname))
        if mod in ONLY_INCLUDES and target not in ONLY_INCLUDES[mod]:
            report(edge, "%s: %s -> %s: %s may include only %s and its own header (only-includes)"
                   % (loc, mod, target, mod, ", ".join(ONLY_INCLUDES[mod])))

    def describe(cycle):
        hops = ["%s -> %s (%s)" % (a, b, where[(a, b)]) for a, b in zip(cycle, cycle[1:])]
        return "cycle %s: %s" % (" -> ".join(cycle), "; ".join(hops))

    strict = {m: {t for t in ts if (m, t) not in allow} for m, ts in edges.items()}
    hard = find_cycles(modules, strict)
    for cycle in hard:
        errors.append(describe(cycle))
    hard_sets = [set(c) for c in hard]
    for cycle in find_cycles(modules, edges):
        if set(cycle) in hard_sets:
            continue
        through = [(a, b) for a, b in zip(cycle, cycle[1:]) if (a, b) in allow]
        used_allow.update(through)
        warnings.append("%s [allowed: broken by removing %s]"
                        % (describe(cycle), ", ".join("%s -> %s" % e for e in through)))

    for edge in sorted(set(allow) - used_allow):
        notes.append("ALLOW entry %s -> %s matches nothing any more: delete it" % edge)
    stats = (len(modules), sum(len(t) for t in edges.values()))
    return errors, warnings, notes, stats


def run(root):
    errors, warnings, notes, (n_mod, n_edge) = check(root, ALLOW)
    for w in warnings:
        print("check-includes: warning: " + w)
    for n in notes:
        print("check-includes: note: " + n)
    for e in errors:
        print("check-includes: error: " + e)
    print("check-includes: %d modules, %d edges, %d errors, %d allowed violations"
          % (n_mod, n_edge, len(errors), len(warnings)))
    return 1 if errors else 0


def self_test():
    """Builds small fake trees and checks that each kind of violation is caught, and that
    a clean tree and an allowed violation pass."""
    failures = []

    def expect(what, cond):
        if not cond:
            failures.append(what)

    def tree(files):
        d = tempfile.mkdtemp(prefix="check-includes-")
        for rel, text in files.items():
            os.makedirs(os.path.join(d, os.path.dirname(rel)), exist_ok=True)
            with open(os.path.join(d, rel), "w", encoding="utf-8") as fh:
                fh.write(text)
        return d

    def inc(*names):
        return "".join('#include "%s.h"\n' % n if not n.startswith("<") else
                       "#include %s\n" % n for n in names)

    def cleanup(d):
        for dirpath, _, names in os.walk(d, topdown=False):
            for n in names:
                os.unlink(os.path.join(dirpath, n))
            os.rmdir(dirpath)

    base = {
        "include/ps.h": "", "include/rd.h": "", "include/log.h": "", "include/proto.h": "",
        "include/decode.h": "", "include/flow.h": inc("proto"), "include/smtp.h": inc("proto"),
        "include/capture.h": inc("decode"), "include/sink_json.h": "",
        "include/classify.h": "",
        "src/decode.c": inc("decode", "<string.h>", "rd", "ps"),
        "src/flow.c": inc("flow", "decode", "classify"),
        "src/smtp.c": inc("smtp", "log") + '/* #include "flow.h" in a comment */\n',
        "src/capture.c": inc("capture", "<pcap/pcap.h>"),
        "src/classify.c": inc("classify", "<ndpi/ndpi_api.h>"),
        "src/sink_json.c": inc("sink_json", "log"),
        "src/main.c": inc("capture", "flow", "sink_json", "<stdio.h>"),
    }

    cases = [
        # (name, changed files, allow, expected substrings of errors, of warnings)
        ("clean tree", {}, {}, [], []),
        ("cycle", {"include/ps.h": inc("log"), "src/log.c": inc("log", "ps")}, {},
         ["cycle log -> ps -> log"], []),
        ("three-module cycle", {"src/ps.c": inc("rd"), "src/rd.c": inc("log"),
                                "src/log.c": inc("ps")}, {},
         ["cycle log -> ps -> rd -> log"], []),
        ("a module other than the registry names a parser", {"src/flow.c": inc("flow", "smtp")}, {},
         ["flow -> smtp", "parser-private"], []),
        ("parser includes decode", {"src/smtp.c": inc("smtp", "decode")}, {},
         ["smtp -> decode", "parser-lower"], []),
        ("parser includes a sink", {"src/smtp.c": inc("smtp", "sink_json")}, {},
         ["smtp -> sink_json"], []),
        ("flow includes a sink", {"src/flow.c": inc("flow", "sink_json")}, {},
         ["flow -> sink_json", "sink-private"], []),
        ("decode includes flow", {"src/decode.c": inc("decode", "flow")}, {},
         ["decode -> flow", "only-includes"], []),
        ("pcap outside capture", {"src/flow.c": inc("flow", "<pcap.h>")}, {},
         ["flow includes <pcap.h>"], []),
        ("nDPI outside classify", {"src/flow.c": inc("flow", "<ndpi/ndpi_main.h>")}, {},
         ["flow includes <ndpi/ndpi_main.h>"], []),
        ("sqlite outside sink_sqlite", {"src/sink_json.c": inc("sink_json", "<sqlite3.h>")}, {},
         ["sink_json includes <sqlite3.h>"], []),
        ("unknown quoted header", {"src/flow.c": inc("flow", "nosuch")}, {},
         ['"nosuch.h", which is no module'], []),
        ("allowed edge and cycle",
         {"src/flow.c": inc("flow", "smtp"), "src/smtp.c": inc("smtp", "flow")},
         {("flow", "smtp"): "test"}, ["smtp -> flow"],
         ["flow -> smtp", "cycle flow -> smtp -> flow"]),
        ("allowed edge alone", {"src/flow.c": inc("flow", "smtp")},
         {("flow", "smtp"): "test"}, [], ["flow -> smtp: only the registry"]),
    ]
    for name, changes, allow, want_err, want_warn in cases:
        files = dict(base)
        files.update(changes)
        d = tree(files)
        try:
            errors, warnings, notes, _ = check(d, allow)
        finally:
            cleanup(d)
        if not want_err:
            expect("%s: no error expected, got %s" % (name, errors), not errors)
        for w in want_err:
            expect("%s: error %r not reported (got %s)" % (name, w, errors),
                   any(w in e for e in errors))
        if not want_warn:
            expect("%s: no warning expected, got %s" % (name, warnings), not warnings)
        for w in want_warn:
            expect("%s: warning %r not reported (got %s)" % (name, w, warnings),
                   any(w in e for e in warnings))
        expect("%s: unexpected notes %s" % (name, notes), not notes)

    d = tree(base)
    try:
        _, _, notes, _ = check(d, {("flow", "smtp"): "test"})
    finally:
        cleanup(d)
    expect("stale ALLOW entry not noted", any("flow -> smtp matches nothing" in n for n in notes))

    for f in failures:
        print("check-includes self-test: FAIL " + f)
    total = len(cases) + 1
    print("check-includes self-test: %d cases, %d failures" % (total, len(failures)))
    return 1 if failures else 0


def main(argv):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    args = argv[1:]
    if args == ["--self-test"]:
        return self_test()
    if len(args) == 2 and args[0] == "--root":
        root = args[1]
    elif args:
        print("usage: check-includes.py [--root DIR] | --self-test", file=sys.stderr)
        return 2
    return run(root)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
