#!/usr/bin/env python3
"""Writes agent/rules/logsource_table.cpp, the compiled-in form of agent/rules/logsources.yaml.

The agent used to parse the YAML with yaml-cpp at every start (a twentieth of a short scan).
Run this after editing the YAML; the test LogsourceMap.CompiledTableSaysWhatTheYamlSays fails
until the two agree.   Usage: scripts/gen-logsource-table.py
"""
import json
import pathlib
import yaml

ROOT = pathlib.Path(__file__).resolve().parent.parent
YAML_PATH = ROOT / "agent/rules/logsources.yaml"
OUT_PATH = ROOT / "agent/rules/logsource_table.cpp"


def text(value):
    return json.dumps(str(value), ensure_ascii=False)


def source(s):
    channels = ([s["channel"]] if "channel" in s else []) + list(s.get("channels", []))
    args = ["{" + ", ".join(text(c) for c in channels) + "}"]
    ids = s.get("event_ids", [])
    conditions = s.get("conditions", {})
    fieldmap = s.get("fieldmap", {})
    if ids or conditions or fieldmap:
        args.append("{" + ", ".join(str(int(i)) for i in ids) + "}")
    if conditions or fieldmap:
        args.append("{" + ", ".join("{%s, %s}" % (text(k), text(v))
                                    for k, v in conditions.items()) + "}")
    if fieldmap:
        args.append("{" + ", ".join("{%s, %s}" % (text(k), text(v))
                                    for k, v in fieldmap.items()) + "}")
    return "on(" + ", ".join(args) + ")"


def sources(items):
    return "{" + ", ".join(source(s) for s in items) + "}"


def main():
    doc = yaml.safe_load(YAML_PATH.read_text())
    lines = []
    for product, body in doc.items():
        lines.append("  {")
        lines.append("    Product& p = m.products_[%s];" % text(str(product).lower()))
        if "any" in body:
            lines.append("    p.any = Sources%s;" % sources(body["any"]))
        for kind in ("services", "categories"):
            for name, items in (body.get(kind) or {}).items():
                lines.append("    p.%s[%s] = %s;" % (kind, text(str(name).lower()), sources(items)))
        lines.append("  }")
    OUT_PATH.write_text(f"""// Generated from logsources.yaml by scripts/gen-logsource-table.py: edit the YAML and run it.
// Compiled in because parsing the YAML at every start cost a twentieth of a short scan; the test
// LogsourceMap.CompiledTableSaysWhatTheYamlSays keeps the two equal.
#include "rules/compile.hpp"

namespace sw::rules {{
namespace {{

using Sources = std::vector<LogSource>;

LogSource on(std::vector<std::string> channels, std::vector<std::uint32_t> event_ids = {{}},
             std::vector<std::pair<std::string, std::string>> conditions = {{}},
             std::map<std::string, std::string> fieldmap = {{}}) {{
  return LogSource{{std::move(channels), std::move(event_ids), std::move(conditions),
                   std::move(fieldmap)}};
}}

}}  // namespace

LogsourceMap LogsourceMap::compiled() {{
  LogsourceMap m;
{chr(10).join(lines)}
  return m;
}}

}}  // namespace sw::rules
""")


if __name__ == "__main__":
    main()
