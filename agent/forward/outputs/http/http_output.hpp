// http:// and https:// POST of batches: JSON lines, a JSON array or an Elasticsearch _bulk body.
// Its keys: http_config.cpp.
#pragma once
#include <utility>
#include <vector>

#include "forward/net/endpoints.hpp"
#include "forward/output_plugin.hpp"
namespace sw::forward::detail {

enum class HttpBody { kJsonLines, kJsonArray, kElasticBulk };

struct HttpOptions final : OutputOptions {
  Endpoints endpoints;  // logins: HTTP basic authentication per URL
  TlsOptions tls;
  std::string path = "/";                                    // used when the URL has no path
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. Authorization: Splunk <token>
  HttpBody body = HttpBody::kJsonLines;
  std::string bulk_index;  // _bulk: index name in the action line (empty: from the URL path)
  bool gzip = false;
  std::string target() const override { return first_url(endpoints); }
};

extern const PluginEntry kHttpOutput;

std::shared_ptr<const OutputOptions> parse_http_options(ConfigReader& reader,
                                                        const YAML::Node& node,
                                                        const OutputConfig& shared);
std::unique_ptr<OutputPlugin> make_http_output(const OutputConfig& config, std::string& error);
// gzip (RFC 1952) of `data`; false when zlib failed.
bool gzip_compress(std::string_view data, std::string& out);

}  // namespace sw::forward::detail
