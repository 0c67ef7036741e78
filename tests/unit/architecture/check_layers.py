#!/usr/bin/env python3
"""Keeps docs/architecture.md's module table true: every include in agent/<module>/ names only the
module itself, the modules its "depends on" cell names (and theirs, transitively), and the public
headers (include/sessionwatch/) those modules own; OS conditionals (_WIN32) stay in
agent/platform/. Prints every violation, exit status 1 when there is one.

    check_layers.py SOURCE_DIR
"""
import pathlib
import re
import sys

# Which module implements each public header (a new header must be added here).
HEADER_OWNER = {
    "alert.hpp": "core", "alert_ecs.hpp": "core", "alert_json.hpp": "core", "event.hpp": "core", "interest.hpp": "core",
    "ip_address.hpp": "core", "utf8.hpp": "core", "wildcard.hpp": "core",
    "yaml_guard.hpp": "core", "text.hpp": "core", "hash.hpp": "core", "json_escape.hpp": "core",
    "file.hpp": "core", "units.hpp": "core", "civil_time.hpp": "core", "derived.hpp": "core",
    "needle_search.hpp": "core",
    "error_catalog.hpp": "errors",
    "decode.hpp": "decode", "evtx_native.hpp": "decode",
    "session.hpp": "session",
    "alert_builder.hpp": "alert", "alert_table.hpp": "alert", "gap_alert.hpp": "alert",
    "rules.hpp": "rules",
    "pipeline.hpp": "pipeline",
    "forward.hpp": "forward", "spool.hpp": "forward",
    "platform.hpp": "platform", "eventlog.hpp": "platform", "winservice.hpp": "platform",
    "config.hpp": "daemon", "daemon.hpp": "daemon", "state_parts.hpp": "daemon",
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/([^"]+)"', re.M)


def module_table(doc):
    """{module: set of modules it may use directly}, from the "depends on" column."""
    table = {}
    for line in doc.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("module", "") or set(cells[0]) <= set("-"):
            continue
        table[cells[0]] = cells[2]
    modules = set(table)
    deps = {}
    for module, cell in table.items():
        if cell.strip() == "all":
            deps[module] = modules - {module}
        else:
            deps[module] = {w for w in re.split(r"[,\s]+", cell) if w in modules}
    return deps


def closure(deps, module):
    seen, todo = set(), list(deps.get(module, ()))
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo.extend(deps.get(m, ()))
    return seen


def main(root):
    root = pathlib.Path(root)
    deps = module_table((root / "docs/architecture.md").read_text(encoding="utf-8"))
    problems = []
    for header in sorted((root / "include/sessionwatch").glob("*.hpp")):
        if header.name not in HEADER_OWNER:
            problems.append(f"{header}: no owning module in check_layers.py's HEADER_OWNER")
    for module in sorted(deps):
        allowed = closure(deps, module) | {module}
        for path in sorted((root / "agent" / module).rglob("*")):
            if path.suffix not in (".cpp", ".hpp", ".h"):
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            rel = path.relative_to(root)
            for m in INCLUDE.finditer(text):
                folder, name = m.group(1), m.group(2)
                used = HEADER_OWNER.get(name, "?") if folder == "sessionwatch" else folder
                if used in deps and used not in allowed:
                    problems.append(f"{rel}: includes {folder}/{name} of module '{used}', which "
                                    f"'{module}' does not depend on (docs/architecture.md)")
            if module != "platform" and re.search(r"\b_WIN32\b", text):
                problems.append(f"{rel}: tests _WIN32; OS differences belong in agent/platform/")
    for header in sorted((root / "include/sessionwatch").glob("*.hpp")):
        text = header.read_text(encoding="utf-8")
        owner = HEADER_OWNER.get(header.name)
        if owner and owner != "platform" and re.search(r"\b_WIN32\b", text):
            problems.append(f"{header.relative_to(root)}: tests _WIN32; OS differences belong "
                            "in agent/platform/")
    for p in problems:
        print(p)
    print(f"{len(deps)} modules, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
