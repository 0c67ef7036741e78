// The report page: one self-contained HTML file (inline CSS and SVG, a few lines of inline
// script, no fetches: its Content-Security-Policy forbids them).
#pragma once

#include <string>
#include <vector>

#include "cli/report_model.hpp"

namespace sw::cli {

struct ReportPage {
  std::vector<std::string> inputs;  // what it was drawn from, for the header
  std::string generated;            // when, as format_time
};

std::string render_report_html(const ReportData& data, const ReportPage& page);

}  // namespace sw::cli
