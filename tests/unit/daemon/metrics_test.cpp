// The Prometheus exposition builder: families keep one HELP/TYPE header and their samples together
// whatever order the parts of the agent add them in; label values are escaped; numbers print in
// their shortest form.
#include <gtest/gtest.h>

#include "daemon/metrics.hpp"

namespace sw::daemon {
namespace {

using T = Exposition::Type;

TEST(Exposition, SamplesOfAFamilyStayTogetherUnderOneHeader) {
  Exposition e;
  e.add("sw_sent_total", T::kCounter, "Sent.", {{"output", "a"}}, 3);
  e.add("sw_connected", T::kGauge, "Connected.", {{"output", "a"}}, 1);
  e.add("sw_sent_total", T::kCounter, "Sent.", {{"output", "b"}}, 4);
  e.add("sw_connected", T::kGauge, "Connected.", {{"output", "b"}}, 0);
  EXPECT_EQ(e.text(),
            "# HELP sw_sent_total Sent.\n# TYPE sw_sent_total counter\n"
            "sw_sent_total{output=\"a\"} 3\nsw_sent_total{output=\"b\"} 4\n"
            "# HELP sw_connected Connected.\n# TYPE sw_connected gauge\n"
            "sw_connected{output=\"a\"} 1\nsw_connected{output=\"b\"} 0\n");
}

TEST(Exposition, ADeclaredFamilyIsListedWithoutSamples) {
  Exposition e;
  e.declare("sw_rule_matches_total", T::kCounter, "Matches per rule.");
  EXPECT_EQ(e.text(),
            "# HELP sw_rule_matches_total Matches per rule.\n"
            "# TYPE sw_rule_matches_total counter\n");
}

TEST(Exposition, LabelValuesAreEscapedAndNumbersShort) {
  Exposition e;
  e.add("sw_x", T::kGauge, "X.", {{"path", "C:\\logs\\\"a\"\nb"}, {"type", "file"}}, 0.25);
  e.add("sw_y", T::kGauge, "Y.", {}, 12345678901.0);
  EXPECT_EQ(e.text(),
            "# HELP sw_x X.\n# TYPE sw_x gauge\n"
            "sw_x{path=\"C:\\\\logs\\\\\\\"a\\\"\\nb\",type=\"file\"} 0.25\n"
            "# HELP sw_y Y.\n# TYPE sw_y gauge\nsw_y 12345678901\n");
}

}  // namespace
}  // namespace sw::daemon
