// The ECS fields every alert carries whatever raised it (a session detection, a Sigma rule, a
// collection gap): version, agent, dataset, severity, tags and ATT&CK, related.*. Builders write
// what they alone know (event.category/type/action, user, source, host, message) and then call
// complete_ecs, so the shared part is written in one place.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sessionwatch/alert.hpp"

namespace sw {

// The ECS release the alert documents are checked against (tests/data/ecs).
inline constexpr std::string_view kEcsVersion = "9.4.0";

// event.severity: grows with the level (ECS: higher is more severe), on the scale Elastic's
// detection rules use for low, medium, high and critical (21, 47, 73, 99).
int ecs_severity(Level level);

// Adds to the alert's extras ecs.version, agent.*, observer.*, event.module/dataset/severity,
// tags (the rule's), threat.* (from attack.* tags) and related.user/ip/hosts (from the typed
// user, source, console holder, attempt and host). `created`, when not 0, is the time the alert
// was made (event.created); alerts built from events leave it to the agent that raises them, so
// that the same input always gives the same document.
void complete_ecs(Alert& alert, const std::vector<std::string>& rule_tags, Ticks created);

}  // namespace sw
