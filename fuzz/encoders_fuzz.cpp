// The alert encoders (JSON, RFC 5424, RFC 3164, CEF with and without its syslog header): whatever
// an alert holds, each gives one well-formed record: one line without control characters, whose
// RFC 5424 structured data and CEF header and extensions parse back to the alert's values and
// whose JSON part is the alert's document.
#include <fuzzer/FuzzedDataProvider.h>

#include <map>

#include "fuzz_util.hpp"
#include "record_parsers.hpp"
#include "sessionwatch/forward.hpp"

namespace {

using nlohmann::json;
using sw::fuzz::require;

sw::Alert make_alert(FuzzedDataProvider& in) {
  sw::Alert a;
  a.level = static_cast<sw::Level>(in.ConsumeIntegralInRange<int>(0, 4));
  a.time = in.ConsumeIntegral<sw::Ticks>();
  a.id = in.ConsumeRandomLengthString(64);
  a.rule_id = in.ConsumeRandomLengthString(64);
  a.rule_name = in.ConsumeRandomLengthString(128);
  a.host = in.ConsumeRandomLengthString(64);
  a.user = sw::AlertUser{in.ConsumeRandomLengthString(64), in.ConsumeRandomLengthString(64)};
  a.source =
      sw::AlertSource{in.ConsumeRandomLengthString(64), in.ConsumeRandomLengthString(64), {}};
  a.event_code = in.ConsumeRandomLengthString(16);
  a.message = in.ConsumeRandomLengthString(256);
  json extra = json::parse(in.ConsumeRemainingBytesAsString(), nullptr, false);
  if (!extra.is_discarded()) a.extras["extra"] = std::move(extra);
  return a;
}

sw::forward::FormatOptions make_options(FuzzedDataProvider& in) {
  sw::forward::FormatOptions o;
  o.facility = in.ConsumeIntegralInRange<int>(0, 23);
  o.enterprise_id = in.ConsumeIntegral<std::uint32_t>();
  if (in.ConsumeBool()) o.app_name = in.ConsumeRandomLengthString(64);
  if (in.ConsumeBool()) o.hostname = in.ConsumeRandomLengthString(64);
  return o;
}

std::string render(const sw::Alert& a, sw::forward::FormatOptions o, sw::forward::Format f,
                   bool cef_header = false) {
  o.format = f;
  o.cef_syslog_header = cef_header;
  std::string out;
  sw::forward::format_alert(a, o, out);
  require(!out.empty(), "empty record");
  // C0 controls could end or split a record. DEL cannot, and JSON (nlohmann's dump, which the
  // writer matches byte for byte) leaves it unescaped.
  for (unsigned char c : out) require(c >= 0x20, "control character in record", out);
  require(sw::is_valid_utf8(out), "record is not valid UTF-8", out);
  return out;
}

// The document as the JSON writer must give it back: invalid UTF-8 replaced, nothing else.
// Built here as a tree, independently of the writer, and dumped by nlohmann.
json expected_doc(const sw::Alert& a) {
  json doc = a.extras;
  doc["@timestamp"] = sw::format_time(a.time);
  doc["event"]["id"] = a.id;
  if (!a.event_code.empty()) doc["event"]["code"] = a.event_code;
  if (!a.host.empty()) doc["host"]["name"] = a.host;
  if (!a.message.empty()) doc["message"] = a.message;
  doc["rule"] = {{"id", a.rule_id}, {"name", a.rule_name}};
  doc["sessionwatch"]["rule"]["level"] = std::string(sw::to_string(a.level));
  doc["user"] = {{"name", a.user->name}, {"domain", *a.user->domain}};
  doc["source"] = {{"address", a.source->address}};
  if (!a.source->ip.empty()) doc["source"]["ip"] = a.source->ip;
  return json::parse(doc.dump(-1, ' ', false, json::error_handler_t::replace));
}

void check_json_part(std::string_view text, const sw::Alert& a, std::string_view record) {
  json parsed = json::parse(text, nullptr, false);
  require(!parsed.is_discarded(), "JSON part does not parse", record);
  require(parsed == expected_doc(a), "JSON part is not the alert's document", record);
}

void check_rfc5424(const sw::Alert& a, const sw::forward::FormatOptions& o) {
  const std::string record = render(a, o, sw::forward::Format::kRfc5424);
  sw::fuzz::Rfc5424 parsed;
  std::string why;
  require(sw::fuzz::parse_rfc5424(record, parsed, why), "RFC 5424 record does not parse: " + why,
          record);
  require(parsed.pri == o.facility * 8 + sw::syslog_severity(a.level), "wrong PRI", record);
  require(parsed.sd_id == "sessionwatch@" + std::to_string(o.enterprise_id), "wrong SD-ID", record);
  const std::map<std::string, std::string> expected = {
      {"event_id", a.id},
      {"rule_id", a.rule_id},
      {"rule_name", a.rule_name},
      {"level", std::string(sw::to_string(a.level))},
      {"host", a.host},
      {"user", a.user->name},
      {"domain", *a.user->domain},
      {"source_ip", a.source->ip},
      {"event_code", a.event_code}};
  for (const auto& [name, raw] : expected) {
    auto it = parsed.params.find(name);
    if (raw.empty()) {
      require(it == parsed.params.end(), "SD parameter for an empty value: " + name, record);
    } else {
      require(it != parsed.params.end(), "SD parameter missing: " + name, record);
      require(it->second == sw::fuzz::expected_sd_value(raw), "SD parameter differs: " + name,
              record);
    }
  }
  require(parsed.params.size() <= expected.size(), "unexpected SD parameter", record);
  check_json_part(parsed.msg, a, record);
}

void check_rfc3164(const sw::Alert& a, const sw::forward::FormatOptions& o) {
  const std::string record = render(a, o, sw::forward::Format::kRfc3164);
  std::string_view rest;
  std::string why;
  require(sw::fuzz::parse_rfc3164_header(record, rest, why),
          "RFC 3164 header does not parse: " + why, record);
  check_json_part(rest, a, record);
}

void check_cef(const sw::Alert& a, const sw::forward::FormatOptions& o, bool header) {
  const std::string record = render(a, o, sw::forward::Format::kCef, header);
  std::string_view cef = record;
  std::string why;
  if (header) {
    require(sw::fuzz::parse_rfc3164_header(record, cef, why),
            "CEF's syslog header does not parse: " + why, record);
  }
  sw::fuzz::Cef parsed;
  require(sw::fuzz::parse_cef(cef, parsed, why), "CEF record does not parse: " + why, record);
  require(parsed.header.size() == 7, "CEF header has not 7 fields", record);
  require(parsed.header[4] == sw::fuzz::expected_cef_header(a.rule_id), "signature id differs",
          record);
  require(parsed.header[5] == sw::fuzz::expected_cef_header(a.rule_name), "name differs", record);
  const std::map<std::string, std::string> expected = {
      {"externalId", a.id},        {"dvchost", a.host},   {"suser", a.user->name},
      {"sntdom", *a.user->domain}, {"src", a.source->ip}, {"cs2", a.event_code},
      {"msg", a.message}};
  for (const auto& [key, raw] : expected) {
    auto it = parsed.extension.find(key);
    if (raw.empty()) continue;
    require(it != parsed.extension.end(), "CEF extension missing: " + key, record);
    require(it->second == sw::fuzz::expected_cef_value(raw), "CEF extension differs: " + key,
            record);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const sw::forward::FormatOptions options = make_options(in);
  const sw::Alert alert = make_alert(in);
  check_json_part(render(alert, options, sw::forward::Format::kJson), alert, "json");
  check_rfc5424(alert, options);
  check_rfc3164(alert, options);
  check_cef(alert, options, false);
  check_cef(alert, options, true);
  return 0;
}
