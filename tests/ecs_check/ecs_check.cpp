#include "ecs_check/ecs_check.hpp"

#include <fstream>
#include <stdexcept>

#include "sessionwatch/event.hpp"
#include "sessionwatch/ip_address.hpp"

namespace sw::test {

using nlohmann::json;

namespace {

// Field sets whose names ECS owns: a field under them that ECS does not define is an error.
// winlog.* (Winlogbeat's) and sessionwatch.* (ours) are not ECS and are left alone.
bool ecs_owned_root(const json& fields, const std::string& root) {
  if (root == "winlog" || root == "sessionwatch") return false;
  if (fields.contains(root)) return true;
  const auto& map = fields.get_ref<const json::object_t&>();
  const auto next = map.lower_bound(root + ".");
  return next != map.end() && next->first.starts_with(root + ".");
}

bool is_integer_type(const std::string& t) {
  return t == "long" || t == "integer" || t == "short" || t == "byte" || t == "unsigned_long";
}

bool is_text_type(const std::string& t) {
  return t == "keyword" || t == "constant_keyword" || t == "wildcard" || t == "text" ||
         t == "match_only_text";
}

// What Elasticsearch's ip type takes: an address as written, no brackets, zone or port.
bool valid_ip(const std::string& s) {
  return s.find_first_of("[]%") == std::string::npos && parse_ip(s).has_value();
}

std::string type_problem(const std::string& type, const json& v) {
  if (is_text_type(type)) return v.is_string() ? "" : "expected a string, got " + v.dump();
  if (is_integer_type(type))
    return v.is_number_integer() ? "" : "expected an integer, got " + v.dump();
  if (type == "float" || type == "double" || type == "scaled_float")
    return v.is_number() ? "" : "expected a number, got " + v.dump();
  if (type == "boolean") return v.is_boolean() ? "" : "expected true/false, got " + v.dump();
  if (type == "date") {
    return v.is_string() && parse_time(v.get<std::string>())
               ? ""
               : "expected an ISO 8601 date, got " + v.dump();
  }
  if (type == "ip") {
    return v.is_string() && valid_ip(v.get<std::string>())
               ? ""
               : "expected an IP address, got " + v.dump();
  }
  return "";
}

}  // namespace

EcsChecker::EcsChecker(const std::string& definitions_path) {
  std::ifstream in(definitions_path);
  if (!in) throw std::runtime_error("cannot read " + definitions_path);
  json all = json::parse(in);
  version_ = all.value("ecs_version", "");
  fields_ = std::move(all["fields"]);
}

void EcsChecker::check_leaf(const std::string& path, const json& value,
                            std::vector<std::string>& problems) const {
  auto it = fields_.find(path);
  if (it == fields_.end()) {
    const std::string root = path.substr(0, path.find('.'));
    if (ecs_owned_root(fields_, root))
      problems.push_back(path + ": not an ECS " + version_ + " field");
    return;
  }
  const json& def = *it;
  const std::string type = def["type"];
  const bool array_field = def.value("array", false);
  if (array_field && !value.is_array()) {
    problems.push_back(path + ": ECS expects an array");
  } else if (!array_field && value.is_array()) {
    problems.push_back(path + ": ECS expects a single value, got an array");
  }
  const json items = value.is_array() ? value : json::array({value});
  for (const json& item : items) {
    if (item.is_null()) continue;
    if (std::string p = type_problem(type, item); !p.empty()) problems.push_back(path + ": " + p);
    for (const char* list : {"allowed", "expected"}) {
      if (!def.contains(list) || !item.is_string()) continue;
      bool found = false;
      for (const json& a : def[list]) found |= a == item;
      if (!found) problems.push_back(path + ": " + item.dump() + " is not an ECS value");
    }
    if (is_text_type(type) && item.is_string() && item.get<std::string>().empty())
      problems.push_back(path + ": empty string (omit the field instead)");
  }
}

void EcsChecker::walk(const std::string& path, const json& value,
                      std::vector<std::string>& problems) const {
  if (value.is_object() && !path.empty()) {
    auto it = fields_.find(path);
    if (it != fields_.end()) {
      const std::string type = (*it)["type"];
      if (type == "object" || type == "flattened" || type == "nested") return;
    }
  }
  if (value.is_object()) {
    for (const auto& [key, child] : value.items()) {
      if (key.find('.') != std::string::npos)
        problems.push_back(path + "." + key + ": a dotted key");
      walk(path.empty() ? key : path + "." + key, child, problems);
    }
    return;
  }
  check_leaf(path, value, problems);
}

void EcsChecker::check_required(const json& doc, std::vector<std::string>& problems) const {
  static const char* const kRequired[] = {
      "@timestamp",    "ecs.version",  "message",       "event.kind",      "event.id",
      "event.action",  "event.module", "event.dataset", "event.severity",  "agent.type",
      "agent.version", "rule.id",      "rule.name",     "observer.product"};
  const json flat = doc.flatten();
  for (const char* name : kRequired) {
    std::string pointer = "/" + std::string(name);
    for (char& c : pointer) c = c == '.' ? '/' : c;
    if (!flat.contains(pointer)) problems.push_back(std::string(name) + ": missing");
  }
  // The people and address the alert is about are pivots: related.* must name them.
  auto must_relate = [&](const json::json_pointer& from, const char* related) {
    if (!doc.contains(from) || !doc[from].is_string()) return;
    const json::json_pointer list(std::string("/related/") + related);
    bool found = false;
    if (doc.contains(list)) {
      for (const json& v : doc[list]) found |= v == doc[from];
    }
    if (!found)
      problems.push_back(std::string("related.") + related + ": lacks " + doc[from].dump());
  };
  must_relate(json::json_pointer("/user/name"), "user");
  must_relate(json::json_pointer("/sessionwatch/console/user"), "user");
  must_relate(json::json_pointer("/sessionwatch/attempt/user"), "user");
  must_relate(json::json_pointer("/source/ip"), "ip");
  // ATT&CK tags belong in threat.* too.
  if (doc.contains("tags")) {
    for (const json& tag : doc["tags"]) {
      if (tag.is_string() && tag.get<std::string>().starts_with("attack.t") &&
          !doc.contains(json::json_pointer("/threat/technique/id")))
        problems.push_back("threat.technique.id: missing for tag " + tag.dump());
    }
  }
}

void EcsChecker::check_categories(const json& doc, std::vector<std::string>& problems) const {
  const json::json_pointer category_ptr("/event/category");
  if (!doc.contains(category_ptr)) return;
  const json::json_pointer type_ptr("/event/type");
  if (!doc.contains(type_ptr)) {
    problems.push_back("event.type: missing where event.category is set");
    return;
  }
  const json& expected = fields_["event.category"]["expected_event_types"];
  for (const json& category : doc[category_ptr]) {
    if (!category.is_string() || !expected.contains(category.get<std::string>())) continue;
    bool fits = false;
    for (const json& type : doc[type_ptr]) {
      for (const json& e : expected[category.get<std::string>()]) fits |= e == type;
    }
    if (!fits) {
      problems.push_back("event.type: " + doc[type_ptr].dump() + " is not expected with category " +
                         category.dump() + " (ECS expects one of " +
                         expected[category.get<std::string>()].dump() + ")");
    }
  }
}

std::vector<std::string> EcsChecker::check(const json& doc) const {
  std::vector<std::string> problems;
  if (!doc.is_object()) return {"the alert is not a JSON object"};
  walk("", doc, problems);
  check_required(doc, problems);
  check_categories(doc, problems);
  return problems;
}

}  // namespace sw::test
