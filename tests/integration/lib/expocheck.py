#!/usr/bin/python3
"""Strict checker for the Prometheus text exposition format 0.0.4 (what `promtool check
metrics` enforces, plus its lint rules), used because Debian's `prometheus` package pulls a
96 MB server that is enabled and started as a service on install.

Checks: line grammar (names, labels, escapes, values, optional timestamps); one HELP and
one TYPE per family, before its samples; samples grouped by family; no duplicate series;
counters named *_total; histograms with le-sorted cumulative buckets, a +Inf bucket equal
to _count, and _sum present; gauges/counters not negative where that is meaningless.
Prints each problem and exits 1 if any.
"""
import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
SAMPLE = re.compile(
    r"^(" + NAME + r")(\{(.*)\})? (\S+)( -?[0-9]+)?$")
LABEL_PAIR = re.compile(r'\s*(' + LABEL + r')="((?:[^"\\\n]|\\\\|\\"|\\n)*)"\s*(,|$)')
VALID_TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def parse_value(s):
    if s in ("+Inf", "Inf"):
        return math.inf
    if s == "-Inf":
        return -math.inf
    if s == "NaN":
        return math.nan
    return float(s)  # raises on garbage


def parse_labels(text, errors, lineno):
    labels = {}
    pos = 0
    while pos < len(text):
        m = LABEL_PAIR.match(text, pos)
        if not m:
            errors.append(f"line {lineno}: bad label syntax near {text[pos:pos+30]!r}")
            return None
        name, value = m.group(1), m.group(2)
        if name in labels:
            errors.append(f"line {lineno}: duplicate label {name}")
        if name.startswith("__"):
            errors.append(f"line {lineno}: reserved label name {name}")
        labels[name] = value
        pos = m.end()
        if m.group(3) == "" and pos < len(text):
            errors.append(f"line {lineno}: trailing label text")
            return None
    return labels


def family_of(name, types):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            if types.get(base) in ("histogram", "summary"):
                return base
    return name


def check(text):
    errors = []
    if text and not text.endswith("\n"):
        errors.append("exposition does not end with a newline")
    helps, types = {}, {}
    seen_series = set()
    finished = set()
    current = None
    samples = {}
    for lineno, line in enumerate(text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"), 1):
        if line == "":
            errors.append(f"line {lineno}: empty line")
            continue
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not re.fullmatch(NAME, name):
                    errors.append(f"line {lineno}: bad metric name {name!r}")
                if parts[1] == "HELP":
                    if name in helps:
                        errors.append(f"line {lineno}: second HELP for {name}")
                    helps[name] = parts[3] if len(parts) > 3 else ""
                else:
                    t = parts[3] if len(parts) > 3 else ""
                    if t not in VALID_TYPES:
                        errors.append(f"line {lineno}: bad TYPE {t!r}")
                    if name in types:
                        errors.append(f"line {lineno}: second TYPE for {name}")
                    if name in samples:
                        errors.append(f"line {lineno}: TYPE for {name} after its samples")
                    types[name] = t
                    if t == "counter" and not name.endswith("_total"):
                        errors.append(f"{name}: counter names should end in _total (promtool lint)")
                if current and current != name:
                    finished.add(current)
                current = name
            continue
        m = SAMPLE.match(line)
        if not m:
            errors.append(f"line {lineno}: not a sample line: {line[:80]!r}")
            continue
        name, labeltext, value = m.group(1), m.group(3) or "", m.group(4)
        fam = family_of(name, types)
        if fam in finished and fam != current:
            errors.append(f"line {lineno}: samples of {fam} are not grouped together")
        if current and fam != current:
            finished.add(current)
        current = fam
        if fam not in types:
            errors.append(f"line {lineno}: {fam} has no TYPE")
        if fam not in helps:
            errors.append(f"{fam}: no HELP (promtool lint)")
            helps[fam] = ""
        labels = parse_labels(labeltext, errors, lineno) if labeltext else {}
        if labels is None:
            continue
        try:
            v = parse_value(value)
        except ValueError:
            errors.append(f"line {lineno}: bad value {value!r}")
            continue
        key = (name, tuple(sorted(labels.items())))
        if key in seen_series:
            errors.append(f"line {lineno}: duplicate series {name}{labels}")
        seen_series.add(key)
        samples.setdefault(fam, []).append((name, labels, v))
        if types.get(fam) == "counter" and (v < 0 or math.isnan(v)):
            errors.append(f"line {lineno}: negative or NaN counter")

    for fam, t in types.items():
        if t != "histogram":
            continue
        groups = {}
        for name, labels, v in samples.get(fam, []):
            base = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
            g = groups.setdefault(base, {"buckets": [], "sum": None, "count": None})
            if name == fam + "_bucket":
                if "le" not in labels:
                    errors.append(f"{fam}: bucket without le")
                    continue
                g["buckets"].append((parse_value(labels["le"]), v))
            elif name == fam + "_sum":
                g["sum"] = v
            elif name == fam + "_count":
                g["count"] = v
            else:
                errors.append(f"{fam}: unexpected sample {name}")
        for base, g in groups.items():
            b = g["buckets"]
            les = [le for le, _ in b]
            if les != sorted(les):
                errors.append(f"{fam}{dict(base)}: buckets not sorted by le")
            if not b or b[-1][0] != math.inf:
                errors.append(f"{fam}{dict(base)}: no +Inf bucket")
            counts = [c for _, c in b]
            if any(x > y for x, y in zip(counts, counts[1:])):
                errors.append(f"{fam}{dict(base)}: buckets not cumulative")
            if g["count"] is None or g["sum"] is None:
                errors.append(f"{fam}{dict(base)}: _count or _sum missing")
            elif b and b[-1][1] != g["count"]:
                errors.append(f"{fam}{dict(base)}: +Inf bucket {b[-1][1]} != _count {g['count']}")
    return errors


def main():
    data = open(sys.argv[1], encoding="utf-8").read() if len(sys.argv) > 1 else sys.stdin.read()
    errors = check(data)
    for e in errors:
        print(e)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
