// Checks an alert document against ECS's field definitions (tests/data/ecs/ecs_fields.json,
// reduced from ECS's generated/ecs/ecs_flat.yml): what Elasticsearch with an ECS mapping would
// reject or misfile, and what ECS-based detections and views need to classify an alert.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sw::test {

class EcsChecker {
 public:
  // Loads the definitions; throws std::runtime_error when the file cannot be read.
  explicit EcsChecker(const std::string& definitions_path);

  // Every problem of `doc`, each naming its field ("event.type: ..."); empty when clean.
  std::vector<std::string> check(const nlohmann::json& doc) const;

  const std::string& version() const { return version_; }

 private:
  void check_leaf(const std::string& path, const nlohmann::json& value,
                  std::vector<std::string>& problems) const;
  void walk(const std::string& path, const nlohmann::json& value,
            std::vector<std::string>& problems) const;
  void check_required(const nlohmann::json& doc, std::vector<std::string>& problems) const;
  void check_categories(const nlohmann::json& doc, std::vector<std::string>& problems) const;

  std::string version_;
  nlohmann::json fields_;
};

}  // namespace sw::test
