#include "sessionwatch/gap_alert.hpp"

#include "sessionwatch/alert_ecs.hpp"

namespace sw {

namespace {

std::string describe_spool_loss(const CollectionGap& gap) {
  const std::string count = gap.count ? std::to_string(*gap.count) : "an unknown number of";
  const std::string why = gap.cause == "spool_segment_missing"
                              ? "its spool file " + gap.path + " is missing"
                              : "its spool file " + gap.path + " was damaged on disk";
  return "Collection gap in output " + gap.input + ": " + count +
         " alerts waiting for delivery were lost because " + why;
}

std::string describe(const CollectionGap& gap) {
  if (gap.cause.starts_with("spool_")) return describe_spool_loss(gap);
  std::string what;
  if (gap.cause == "truncated") {
    what = "was truncated; data written after byte " + std::to_string(gap.from) +
           " before the truncation, if any, could not be read";
  } else if (gap.cause == "replaced") {
    what = "was replaced by another file before it was read past byte " + std::to_string(gap.from);
  } else if (gap.cause == "removed") {
    what = "was removed or renamed away before it was read past byte " + std::to_string(gap.from);
  } else if (gap.cause == "record_ids_skipped" && !gap.stream.empty()) {
    what = "lacks record ids " + std::to_string(gap.from) + ".." + std::to_string(gap.to) + " of " +
           gap.stream + " (events lost before the file was written)";
  } else if (gap.cause == "record_ids_skipped") {
    what = "skipped record ids " + std::to_string(gap.from) + ".." + std::to_string(gap.to) +
           " (log cleared, wrapped or replaced)";
  } else {
    what =
        "could not be read (" + gap.cause + ") from " + gap.unit + " " + std::to_string(gap.from);
  }
  return "Collection gap in input " + gap.input + ": " + gap.path + " " + what;
}

}  // namespace

Alert make_gap_alert(const CollectionGap& gap, const std::string& host, Ticks now) {
  Alert alert;
  alert.rule_id = std::string(kCollectionGapRuleId);
  alert.rule_name = "Collection gap: events could not be read";
  alert.level = Level::kHigh;
  alert.host = host;
  alert.time = now;
  std::string identity = gap.input + "|" + gap.path + "|" + gap.cause + "|" +
                         std::to_string(gap.from) + "|" + std::to_string(gap.to);
  if (!gap.stream.empty()) identity += "|" + gap.stream;
  alert.id = stable_alert_id(host, "sessionwatch", identity, alert.rule_id);

  nlohmann::json range = {{"unit", gap.unit}, {"from", gap.from}};
  if (gap.to != 0) range["to"] = gap.to;
  nlohmann::json details = {{"input", gap.input},
                            {"source", gap.path},
                            {"cause", gap.cause},
                            {"range", std::move(range)}};
  if (!gap.stream.empty()) details["stream"] = gap.stream;
  details["count"] = gap.count ? nlohmann::json(*gap.count) : nlohmann::json(nullptr);
  alert.message = describe(gap);
  alert.extras = {
      {"event",
       {{"kind", "alert"},
        {"category", {"host"}},
        {"type", {"info"}},
        {"action", "collection_gap"}}},
      {"rule",
       {{"description",
         "sessionwatch could not account for some events of an input; silence from it "
         "does not mean nothing happened there."},
        {"ruleset", "sessionwatch"}}},
      {"sessionwatch", {{"collection_gap", std::move(details)}}},
  };
  complete_ecs(alert, {}, now);
  return alert;
}

}  // namespace sw
