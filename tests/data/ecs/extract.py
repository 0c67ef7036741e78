#!/usr/bin/env python3
"""Reduce ECS's generated/ecs/ecs_flat.yml to the facts the alert checker needs.

Usage: git show v9.4.0:generated/ecs/ecs_flat.yml | python3 extract.py > ecs_fields.json
(in a clone of https://github.com/elastic/ecs). Keeps, per field: its type, whether it is an
array ("normalize: [array]"), its allowed or expected values, and for event.category the event
types each category expects. Descriptions and examples are left out.
"""
import json
import sys

import yaml

flat = yaml.safe_load(sys.stdin)
fields = {}
for name, spec in sorted(flat.items()):
    entry = {"type": spec["type"]}
    if "array" in (spec.get("normalize") or []):
        entry["array"] = True
    allowed = spec.get("allowed_values") or []
    if allowed:
        entry["allowed"] = [a["name"] for a in allowed]
        expected_types = {a["name"]: a["expected_event_types"]
                          for a in allowed if a.get("expected_event_types")}
        if expected_types:
            entry["expected_event_types"] = expected_types
    if spec.get("expected_values"):
        entry["expected"] = list(spec["expected_values"])
    fields[name] = entry
json.dump({"ecs_version": sys.argv[1] if len(sys.argv) > 1 else "", "fields": fields},
          sys.stdout, indent=0, sort_keys=True)
sys.stdout.write("\n")
