#!/usr/bin/env python3
"""Checks that every StreamHouse metric name used by the dashboards and alert rules exists.

Usage:
    curl -s http://127.0.0.1:8080/metrics > scrape.txt
    python3 deploy/check_metric_names.py scrape.txt [DEPLOY_DIR] [--extra FILE ...] [--samples-only]

Every token matching the metric-name pattern (the `streamhouse` prefix, an underscore, then
lower-case letters, digits and underscores) in DEPLOY_DIR's *.json, *.yml and *.yaml files
(default: the directory holding this script), and in any --extra file, must be a series
name of the scrape, exactly as a PromQL query would use it:

* a name with a sample line in the scrape is fine (`..._total`, gauges, `..._info`,
  `..._bucket`, `..._sum`, `..._count`);
* a name declared by a `# TYPE` line but with no sample yet (a labelled family nothing
  has touched, e.g. no produce error so far) is fine too, unless --samples-only is given;
  for a histogram that means its `_bucket`, `_sum` and `_count` series, so `_bucket`,
  `_sum` or `_count` is stripped only when the remaining base is a histogram;
* a bare histogram name (no suffix) is not a series and is reported.

Exit status: 0 if every name exists, 1 if some do not (each is listed with where it is
used), 2 on bad usage or when no name was found at all.
"""

import argparse
import os
import re
import sys

NAME = re.compile(r"streamhouse_[a-z0-9_]+")
SUFFIXES = ("_bucket", "_sum", "_count")
EXTENSIONS = (".json", ".yml", ".yaml")


def parse_scrape(text):
    """Returns (names with a sample line, {declared name: type})."""
    samples, types = set(), {}
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            parts = line.split()
            if len(parts) >= 4 and parts[1] == "TYPE":
                types[parts[2]] = parts[3]
            continue
        match = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line)
        if match:
            samples.add(match.group(0))
    return samples, types


def declared_series(types):
    """Series names the `# TYPE` lines promise (text format 0.0.4 and OpenMetrics)."""
    names = set()
    for name, kind in types.items():
        if kind == "histogram":
            names.update(name + s for s in SUFFIXES)
        elif kind == "summary":
            names.update((name, name + "_sum", name + "_count"))
        elif kind == "counter" and not name.endswith("_total"):
            names.add(name + "_total")  # OpenMetrics declares counters without _total
        elif kind == "info" and not name.endswith("_info"):
            names.add(name + "_info")
        else:
            names.add(name)
    return names


def is_known(token, samples, types, samples_only):
    if token in samples:
        return True
    for suffix in SUFFIXES:
        if token.endswith(suffix):
            base = token[: -len(suffix)]
            if types.get(base) == "histogram":
                return not samples_only or token in samples
    if samples_only:
        return False
    if types.get(token) == "histogram":
        return False  # the bare histogram name is no series
    return token in declared_series(types)


def files_to_check(deploy_dir, extra):
    paths = []
    for root, dirs, files in os.walk(deploy_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.endswith(EXTENSIONS):
                paths.append(os.path.join(root, name))
    return paths + list(extra)


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scrape", help="a file holding the text of GET /metrics")
    parser.add_argument("deploy_dir", nargs="?", default=here,
                        help="directory of dashboards and rules (default: %(default)s)")
    parser.add_argument("--extra", action="append", default=[], metavar="FILE",
                        help="another file to check (e.g. docs/metrics.md); repeatable")
    parser.add_argument("--samples-only", action="store_true",
                        help="require a sample line for each name (# TYPE alone is not enough)")
    args = parser.parse_args(argv)

    with open(args.scrape, encoding="utf-8") as f:
        samples, types = parse_scrape(f.read())
    if not samples and not types:
        print(f"{args.scrape}: no metrics found", file=sys.stderr)
        return 2

    used = {}  # token -> ["path:line", ...]
    for path in files_to_check(args.deploy_dir, args.extra):
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                for token in NAME.findall(line):
                    used.setdefault(token, []).append(f"{path}:{number}")
    if not used:
        print(f"no metric names found under {args.deploy_dir}", file=sys.stderr)
        return 2

    unknown = sorted(t for t in used if not is_known(t, samples, types, args.samples_only))
    for token in unknown:
        where = used[token]
        more = f" (+{len(where) - 3} more)" if len(where) > 3 else ""
        print(f"unknown: {token}  used at {', '.join(where[:3])}{more}")
    print(f"{len(used)} names checked, {len(unknown)} unknown", file=sys.stderr)
    return 1 if unknown else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
