#pragma once
#include "forward/output_plugin.hpp"
namespace sw::forward::detail {
// http:// and https:// POST of batches: JSON lines, a JSON array or an Elasticsearch _bulk body.
std::unique_ptr<OutputPlugin> make_http_output(const OutputConfig& config, std::string& error);
// gzip (RFC 1952) of `data`; false when zlib failed.
bool gzip_compress(std::string_view data, std::string& out);
}  // namespace sw::forward::detail
