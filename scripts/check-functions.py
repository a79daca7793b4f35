#!/usr/bin/env python3
"""check-functions.py - no function in src/ longer than a limit (100 lines, braces included).

Functions are found as the project's style writes them (STYLE section 10, Linux braces): a
definition's opening brace alone on a line at column 0, its closing brace alone at column 0.
Prints the longest few; exit status 1 when one is over the limit.

  check-functions.py [--max N] [--root DIR]
"""
import glob
import os
import re
import sys


def functions(path):
    """(lines, name, first line) of each function definition in the file at path."""
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().split("\n")
    out = []
    start = None
    name = "?"
    for i, line in enumerate(lines):
        if line == "{" and i > 0:
            j = i - 1
            while j > 0 and not re.match(r"^[A-Za-z_].*\(", lines[j]):
                j -= 1
            m = re.search(r"(\w+)\s*\(", lines[j])
            name = m.group(1) if m else "?"
            start = i
        elif line == "}" and start is not None:
            out.append((i - start + 1, name, start + 1))
            start = None
    return out


def main():
    limit = 100
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    args = sys.argv[1:]
    while args:
        a = args.pop(0)
        if a == "--max" and args:
            limit = int(args.pop(0))
        elif a == "--root" and args:
            root = args.pop(0)
        else:
            sys.exit("usage: check-functions.py [--max N] [--root DIR]")
    found = []
    for path in sorted(glob.glob(os.path.join(root, "src", "*.c"))):
        for n, name, line in functions(path):
            found.append((n, "%s:%d %s" % (os.path.relpath(path, root), line, name)))
    found.sort(reverse=True)
    over = [f for f in found if f[0] > limit]
    for n, where in over:
        print("check-functions: error: %s is %d lines (at most %d)" % (where, n, limit))
    longest = ", ".join("%s %d" % (w.split()[-1], n) for n, w in found[:3])
    print("check-functions: %d functions, %d over %d lines; longest: %s" %
          (len(found), len(over), limit, longest))
    sys.exit(1 if over else 0)


main()
