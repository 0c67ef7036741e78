// The message key of an alert record: the computer it is about. The sender hands the plugin the
// formatted record only, so the key is read back from it, where each format put host.name.
#include <simdjson.h>

#include "forward/outputs/kafka/kafka_output.hpp"

namespace sw::forward::detail {

namespace {

// host.name of an ECS JSON document; "" when it has none or is not JSON.
std::string json_host_name(std::string_view json) {
  thread_local simdjson::ondemand::parser parser;
  thread_local std::string padded;
  padded.assign(json);
  padded.append(simdjson::SIMDJSON_PADDING, '\0');
  auto doc = parser.iterate(padded.data(), json.size(), padded.size());
  std::string_view name;
  if (doc["host"]["name"].get_string().get(name) != simdjson::SUCCESS) return {};
  return std::string(name);
}

// The value after `marker` up to `end` (an unescaped character), with backslash escapes undone.
std::string escaped_value(std::string_view text, std::size_t at, char end) {
  std::string out;
  for (std::size_t i = at; i < text.size() && text[i] != end; ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) ++i;
    out.push_back(text[i]);
  }
  return out;
}

// RFC 5424: the structured data's host="..." (its '"', '\' and ']' escaped). A value cannot hold
// an unescaped quote, so the first ` host="` is the parameter.
std::string rfc5424_host(std::string_view record) {
  constexpr std::string_view kMarker = " host=\"";
  const auto at = record.find(kMarker);
  return at == std::string_view::npos ? std::string()
                                      : escaped_value(record, at + kMarker.size(), '"');
}

// RFC 3164: "<PRI>Mmm dd hh:mm:ss HOST APP: " and the document; its header fields hold no ": ".
std::string rfc3164_host(std::string_view record) {
  const auto at = record.find(": ");
  return at == std::string_view::npos ? std::string() : json_host_name(record.substr(at + 2));
}

// CEF: the dvchost extension. Extension values escape '=', so ` dvchost=` is the key itself; its
// value ends where the next key (a space, a word, an unescaped '=') begins.
std::string cef_host(std::string_view record) {
  constexpr std::string_view kMarker = " dvchost=";
  const auto at = record.rfind(kMarker);
  if (at == std::string_view::npos) return {};
  const std::size_t begin = at + kMarker.size();
  std::size_t end = record.size();
  for (std::size_t i = begin; i < record.size(); ++i) {
    if (record[i] == '\\') {
      ++i;
    } else if (record[i] == '=') {
      end = record.rfind(' ', i);
      break;
    }
  }
  return escaped_value(record.substr(0, end), begin, '\0');
}

}  // namespace

std::string computer_of(std::string_view payload, Format format) {
  switch (format) {
    case Format::kJson:
      return json_host_name(payload);
    case Format::kRfc5424:
      return rfc5424_host(payload);
    case Format::kRfc3164:
      return rfc3164_host(payload);
    case Format::kCef:
      return cef_host(payload);
  }
  return {};
}

}  // namespace sw::forward::detail
