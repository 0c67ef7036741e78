// The logsource map: Sigma logsources (product, category, service) -> Windows channels,
// event ids, field conditions and field renames.
#include "rules/compile_internal.hpp"
#include "sessionwatch/yaml_guard.hpp"

namespace sw::rules {
namespace {

using detail::CompileError;
using detail::count_value;
using detail::fail;
using detail::scalar;
using detail::string_list;

std::vector<LogSource> parse_sources(const YAML::Node& n) {
  std::vector<LogSource> out;
  if (!n.IsSequence()) fail(n, "a logsource maps to a list of sources");
  for (const YAML::Node& s : n) {
    if (!s.IsMap()) fail(s, "a source is a map (channel, event_ids, conditions, fieldmap)");
    LogSource src;
    if (s["channel"]) src.channels.push_back(scalar(s["channel"], "channel"));
    for (const std::string& c : string_list(s, "channels")) src.channels.push_back(c);
    if (const YAML::Node ids = s["event_ids"]; ids) {
      for (const YAML::Node& id : ids) {
        src.event_ids.push_back(static_cast<std::uint32_t>(*count_value(id)));
      }
    }
    if (const YAML::Node cond = s["conditions"]; cond) {
      for (auto it = cond.begin(); it != cond.end(); ++it) {
        src.conditions.emplace_back(scalar(it->first, "field"), scalar(it->second, "value"));
      }
    }
    if (const YAML::Node fm = s["fieldmap"]; fm) {
      for (auto it = fm.begin(); it != fm.end(); ++it) {
        src.fieldmap[scalar(it->first, "field")] = scalar(it->second, "field");
      }
    }
    out.push_back(std::move(src));
  }
  return out;
}

}  // namespace

bool LogsourceMap::add_yaml(std::string_view yaml, std::string& error) {
  YAML::Node root;
  yaml::Problem problem;
  if (!yaml::load_first(yaml, root, problem)) {
    error = "logsource map:" + std::to_string(problem.line) + ":" + std::to_string(problem.column) +
            ": " + problem.message;
    return false;
  }
  try {
    if (!root.IsMap()) {
      error = "logsource map: the document must be a map of products";
      return false;
    }
    for (auto it = root.begin(); it != root.end(); ++it) {
      Product& p = products_[text::lowered(scalar(it->first, "product"))];
      const YAML::Node body = it->second;
      if (!body.IsMap()) fail(body, "a product maps to any/services/categories");
      if (body["any"]) p.any = parse_sources(body["any"]);
      for (const char* kind : {"services", "categories"}) {
        const YAML::Node m = body[kind];
        if (!m) continue;
        if (!m.IsMap()) fail(m, std::string("'") + kind + "' must be a map");
        auto& target = std::string_view(kind) == "services" ? p.services : p.categories;
        for (auto jt = m.begin(); jt != m.end(); ++jt) {
          target[text::lowered(scalar(jt->first, "name"))] = parse_sources(jt->second);
        }
      }
    }
    return true;
  } catch (const CompileError& e) {
    const yaml::Position p = yaml::position_of(e.mark);
    error = "logsource map:" + std::to_string(p.line) + ":" + std::to_string(p.column) + ": " +
            e.message;
  } catch (const YAML::Exception& e) {
    error = std::string("logsource map: ") + e.what();
  }
  return false;
}

bool LogsourceMap::resolve(const std::string& product, const std::string& category,
                           const std::string& service, std::vector<LogSource>& out,
                           std::string& error) const {
  out.clear();
  if (product.empty() && category.empty() && service.empty()) return true;
  const Product* p = nullptr;
  if (!product.empty()) {
    auto it = products_.find(product);
    if (it == products_.end()) {
      error = "unsupported: logsource product '" + product + "' (not in the logsource map)";
      return false;
    }
    p = &it->second;
  }
  auto lookup = [&](const std::map<std::string, std::vector<LogSource>> Product::*table,
                    const std::string& name, const char* what) -> bool {
    if (p) {
      auto it = (p->*table).find(name);
      if (it != (p->*table).end()) {
        out = it->second;
        return true;
      }
    } else {
      for (const auto& [pname, prod] : products_) {
        auto it = (prod.*table).find(name);
        if (it != (prod.*table).end()) {
          out = it->second;
          return true;
        }
      }
    }
    error = std::string("unsupported: logsource ") + what + " '" + name + "'" +
            (product.empty() ? "" : " of product '" + product + "'") +
            " (not in the logsource map)";
    return false;
  };
  if (!category.empty()) return lookup(&Product::categories, category, "category");
  if (!service.empty()) return lookup(&Product::services, service, "service");
  if (p && p->any) out = *p->any;
  return true;
}

const LogsourceMap& LogsourceMap::builtin() {
  static const LogsourceMap* map = new LogsourceMap(compiled());  // never destroyed: used to exit
  return *map;
}

}  // namespace sw::rules
