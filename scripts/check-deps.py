#!/usr/bin/env python3
"""Checks that crate dependencies point one way, as docs/architecture.md describes.

Each workspace crate may depend only on the crates listed for it here (normal
dependencies; dev-dependencies on test-support are allowed everywhere).
"""
import json
import subprocess
import sys

ALLOWED = {
    "streamhouse-types": set(),
    "streamhouse-metrics": set(),
    "streamhouse-records": {"streamhouse-types"},
    "streamhouse-config": {"streamhouse-types"},
    "streamhouse-metadata": {"streamhouse-types", "streamhouse-config"},
    "streamhouse-storage": {"streamhouse-types", "streamhouse-config", "streamhouse-metrics"},
    "streamhouse-engine": {
        "streamhouse-types", "streamhouse-records", "streamhouse-metadata",
        "streamhouse-storage", "streamhouse-config", "streamhouse-metrics",
    },
    "streamhouse-kafka-proto": set(),
    "streamhouse-groups": {
        "streamhouse-kafka-proto", "streamhouse-engine", "streamhouse-metadata",
        "streamhouse-types", "streamhouse-config", "streamhouse-metrics",
    },
    "streamhouse-admin-api": {
        "streamhouse-groups", "streamhouse-engine", "streamhouse-metadata",
        "streamhouse-records", "streamhouse-types", "streamhouse-config",
        "streamhouse-metrics",
    },
    "streamhouse-kafka-server": {
        "streamhouse-kafka-proto", "streamhouse-groups", "streamhouse-engine",
        "streamhouse-metadata", "streamhouse-types", "streamhouse-config",
        "streamhouse-metrics",
    },
    "streamhouse-cli": {"streamhouse-types", "streamhouse-config"},  # the REST API only
    "streamhouse-test-support": {"streamhouse-records"},
    "streamhouse-kafka-bench": set(),  # talks to an agent over the wire only
    "streamhouse-agent": None,  # the binary may use everything; nothing may use it
}

meta = json.loads(subprocess.check_output(
    ["cargo", "metadata", "--format-version", "1", "--no-deps", "--locked"]))
problems = []
for package in meta["packages"]:
    name = package["name"]
    if name not in ALLOWED:
        problems.append(f"{name}: not listed in scripts/check-deps.py; add its layer")
        continue
    for dep in package["dependencies"]:
        dep_name = dep["name"]
        if not dep_name.startswith("streamhouse-"):
            continue
        if dep_name == "streamhouse-agent":
            problems.append(f"{name} depends on the binary crate streamhouse-agent")
        if dep_name == "streamhouse-test-support" and dep.get("kind") != "dev":
            problems.append(f"{name} depends on streamhouse-test-support outside dev-dependencies")
        if dep.get("kind") == "dev":
            if dep_name != "streamhouse-test-support" and ALLOWED[name] is not None and dep_name not in ALLOWED[name]:
                problems.append(f"{name} dev-depends on {dep_name}")
            continue
        allowed = ALLOWED[name]
        if allowed is not None and dep_name not in allowed:
            problems.append(f"{name} depends on {dep_name}, which is not below it")
for p in problems:
    print("dependency rule broken:", p, file=sys.stderr)
if problems:
    sys.exit(1)
print(f"dependency graph ok ({len(meta['packages'])} crates)")
