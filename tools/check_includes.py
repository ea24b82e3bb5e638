#!/usr/bin/env python3
"""Check the include rule of user/README.md against every #include "..." in the tree.

The table "folder | may include" in user/README.md is the rule; this script only reads it.
It scans the C sources and headers of user/*/, api/, cgroup/, iforest/ and ui/, resolves each
quoted include the way the compiler does (the including file's own directory first, then
the -I directories of the Makefile's CPPFLAGS; a generated NAME.skel.h belongs to bpf/ when
bpf/NAME.bpf.c exists) and fails, naming file:line, on:
  - an include from one folder into another that the table does not list;
  - an include that resolves to no file;
  - a header of user/ included without its folder (write "folder/name.h");
  - a cycle between headers (and a cycle in the table itself);
  - two .c files in user/ with the same name (the Makefile puts them in one archive),
    except the programs' mains the Makefile keeps out of it (USER_MAINS).
Exit 0 prints one summary line; exit 1 prints every problem; exit 2: the rule is unreadable.
Python 3 standard library only.
"""
import os
import re
import sys

SCANNED_LIBRARIES = ("api", "cgroup", "iforest", "ui")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
TOKEN_RE = re.compile(r"`([A-Za-z0-9_]+)/?`")


def fatal(msg):
    print("check_includes: " + msg, file=sys.stderr)
    sys.exit(2)


def read_table(readme):
    """{folder: set of folders it may include}, {folder: README line}."""
    try:
        lines = open(readme, encoding="utf-8").read().splitlines()
    except OSError as e:
        fatal("cannot read %s: %s" % (readme, e.strerror))
    allowed, where = {}, {}
    in_table = False
    for n, line in enumerate(lines, 1):
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.lstrip().startswith("|") else None
        if cells is None:
            if in_table:
                break
            continue
        if not in_table:
            if len(cells) >= 2 and cells[0].lower() == "folder" and cells[1].lower() == "may include":
                in_table = True
            continue
        if set(cells[0]) <= set("-: "):
            continue  # the |---|---| line
        name = TOKEN_RE.fullmatch(cells[0])
        if not name or len(cells) != 2:
            fatal("%s:%d: a row must read | `folder/` | `a/` `b/` ... | (or — for none)" % (readme, n))
        folder = name.group(1)
        if folder in allowed:
            fatal("%s:%d: %s/ has two rows" % (readme, n, folder))
        allowed[folder] = set(TOKEN_RE.findall(cells[1]))
        where[folder] = n
    if not allowed:
        fatal("%s: no table with the header | folder | may include |" % readme)
    return allowed, where


def makefile_settings(top):
    """The quote-include search path and the mains kept out of libuser.a, from the Makefile."""
    try:
        text = open(os.path.join(top, "Makefile"), encoding="utf-8").read()
    except OSError as e:
        fatal("cannot read Makefile: %s" % e.strerror)
    text = text.replace("\\\n", " ")
    flags = re.search(r"^CPPFLAGS\s*\+?=(.*)$", text, re.M)
    mains = re.search(r"^USER_MAINS\s*:?=(.*)$", text, re.M)
    if not flags or not mains:
        fatal("Makefile: no CPPFLAGS or USER_MAINS line")
    # $(BUILD)/bpf holds only the generated skeletons, which resolve_generated() handles.
    dirs = [d for d in re.findall(r"-I(\S+)", flags.group(1)) if "$" not in d]
    return dirs, set(mains.group(1).split())


def sources(top):
    """Repo-relative paths of the files to scan."""
    out = []
    user = os.path.join(top, "user")
    for d in sorted(os.listdir(user)):
        if os.path.isdir(os.path.join(user, d)):
            out += ["user/%s/%s" % (d, f) for f in sorted(os.listdir(os.path.join(user, d)))]
    for lib in SCANNED_LIBRARIES:
        out += ["%s/%s" % (lib, f) for f in sorted(os.listdir(os.path.join(top, lib)))]
    return [p for p in out if p.endswith((".c", ".h"))]


def folder_of(path):
    parts = path.split("/")
    return parts[1] if parts[0] == "user" and len(parts) > 2 else parts[0]


def resolve(top, includer, name, search_dirs):
    """Repo-relative path the compiler would open, and whether it came from the includer's dir."""
    own = os.path.normpath(os.path.join(os.path.dirname(includer), name))
    if os.path.isfile(os.path.join(top, own)):
        return own, True
    for d in search_dirs:
        cand = os.path.normpath(os.path.join(d, name))
        if os.path.isfile(os.path.join(top, cand)):
            return cand, False
    if name.endswith(".skel.h") and "/" not in name:
        prog = "bpf/" + name[: -len(".skel.h")] + ".bpf.c"
        if os.path.isfile(os.path.join(top, prog)):
            return prog, False  # generated from this program at build time
    return None, False


def header_cycles(edges):
    """Strongly connected components of more than one header (or a header including itself)."""
    index, low, stack, on_stack, comps = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in edges.get(v, {}):
                comps.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return comps


def cycle_path(edges, comp):
    """One cycle through the component's first header, as a list of headers."""
    members, start = set(comp), comp[0]
    prev, todo = {start: None}, [start]
    while todo:
        v = todo.pop(0)
        for w in sorted(edges.get(v, {})):
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w in members and w not in prev:
                prev[w] = v
                todo.append(w)
    return comp + [start]


def main():
    top = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    readme = "user/README.md"
    allowed, table_line = read_table(os.path.join(top, readme))
    search_dirs, user_mains = makefile_settings(top)
    problems = []

    for d in sorted(os.listdir(os.path.join(top, "user"))):
        if os.path.isdir(os.path.join(top, "user", d)) and d not in allowed:
            problems.append("%s: user/%s/ has no row in the table" % (readme, d))
    for folder, deps in sorted(allowed.items()):
        for dep in sorted(deps - set(allowed)):
            problems.append("%s:%d: %s/ may include %s/, which has no row" % (readme, table_line[folder], folder, dep))
    table_edges = {f: {d: table_line[f] for d in deps if d != f} for f, deps in allowed.items()}
    for comp in header_cycles(table_edges):
        path = cycle_path(table_edges, comp)
        problems.append("%s:%d: the table has a cycle: %s" % (readme, table_line[path[0]], " -> ".join(p + "/" for p in path)))

    files = sources(top)
    checked = crossing = 0
    header_edges = {}  # header -> {included header: line}
    for path in files:
        src = folder_of(path)
        with open(os.path.join(top, path), encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                m = INCLUDE_RE.match(line)
                if not m:
                    continue
                name = m.group(1)
                checked += 1
                target, from_own_dir = resolve(top, path, name, search_dirs)
                if target is None:
                    problems.append('%s:%d: "%s" resolves to no file' % (path, n, name))
                    continue
                dst = folder_of(target)
                if target.startswith("user/") and from_own_dir and "/" not in name:
                    problems.append('%s:%d: write "%s/%s", as every include of a user/ header' % (path, n, dst, name))
                if path.endswith(".h") and target.endswith(".h"):
                    header_edges.setdefault(path, {})[target] = n
                if dst == src:
                    continue
                crossing += 1
                if src not in allowed:
                    continue  # reported above as a folder without a row
                if dst not in allowed[src]:
                    problems.append('%s:%d: %s/ may not include %s/ ("%s"; user/README.md lists what %s/ may include)'
                                    % (path, n, src, dst, name, src))

    for comp in header_cycles(header_edges):
        path = cycle_path(header_edges, comp)
        problems.append("%s:%d: include cycle: %s" % (path[0], header_edges[path[0]][path[1]], " -> ".join(path)))

    seen = {}
    for path in files:
        if path.startswith("user/") and path.endswith(".c") and path not in user_mains:
            base = os.path.basename(path)
            if base in seen:
                problems.append("%s:1: %s has the name of %s (one archive holds both)" % (path, base, seen[base]))
            else:
                seen[base] = path

    if problems:
        for p in problems:
            print(p)
        print("check_includes: %d problem%s" % (len(problems), "" if len(problems) == 1 else "s"))
        return 1
    print("check_includes: ok, %d files, %d includes resolved, %d between folders allowed by user/README.md, "
          "no header cycle, no duplicate .c name" % (len(files), checked, crossing))
    return 0


if __name__ == "__main__":
    sys.exit(main())
