#include <gtest/gtest.h>

#include <cctype>
#include <limits>

#include "forward_test_util.hpp"
#include "sessionwatch/alert_json.hpp"
#include "sessionwatch/forward.hpp"
#include "sessionwatch/utf8.hpp"

namespace sw::forward {
namespace {

using testing::make_alert;

std::string render(const Alert& a, Format f, bool cef_header = false) {
  FormatOptions o;
  o.format = f;
  o.cef_syslog_header = cef_header;
  std::string out;
  format_alert(a, o, out);
  return out;
}

bool has_line_break_or_control(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

const std::string kHostile = "evil\"]\\ \n<13>1 2021-01-01T00:00:00Z forged - - - [x@1] {}\r\x1b";

TEST(FormatJson, IsTheDocumentOnOneLine) {
  Alert a = make_alert(1, kHostile);
  std::string line = render(a, Format::kJson);
  EXPECT_FALSE(has_line_break_or_control(line));
  EXPECT_EQ(nlohmann::json::parse(line), alert_to_json(a));
}

TEST(FormatJson, InvalidUtf8IsReplacedNotFatal) {
  Alert a = make_alert(1, std::string("bad\xff\xfe user"));
  std::string line = render(a, Format::kJson);
  EXPECT_TRUE(is_valid_utf8(line));
  EXPECT_NE(line.find("\xEF\xBF\xBD"), std::string::npos) << line;  // U+FFFD
}

// The JSON writer is our own (bulk appends); collectors and dedup by content rely on it
// producing exactly what nlohmann's dump would, for every kind of value.
TEST(FormatJson, SameBytesAsNlohmannDumpForEveryValueKind) {
  Alert a = make_alert(3, kHostile);
  a.extras["kinds"] = {{"float", 0.1},
                       {"whole_float", 2.0},
                       {"negative", -42},
                       {"unsigned", std::uint64_t{18446744073709551615ULL}},
                       {"bool", true},
                       {"null", nullptr},
                       {"array", {1, "two", {{"three", 3}}, nlohmann::json::array()}},
                       {"empty", nlohmann::json::object()},
                       {"controls", std::string("a\x01"
                                                "b\x1f"
                                                "c\td\x7f\b\f")},
                       {"unicode", "Zoë 日本 \xf0\x9f\x94\x92"},
                       {"invalid", std::string("bad\xff\xfe\xc0\x80 tail")},
                       {"quote\"key\\", "\"\\/"}};
  std::string line = render(a, Format::kJson);
  EXPECT_EQ(line, alert_to_json(a).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

TEST(FormatRfc5424, HeaderAndStructuredData) {
  Alert a = make_alert(1);
  std::string line = render(a, Format::kRfc5424);
  // authpriv (10) * 8 + severity of "high" (3) = 83; 6 fractional digits at most.
  const std::string expected_head =
      "<83>1 2021-02-12T12:34:28.194437Z WS01 sessionwatch - 0b3a1c2e111142228333944455556666 "
      "[sessionwatch@32473 event_id=\"" +
      a.id +
      "\" rule_id=\"0b3a1c2e-1111-4222-8333-944455556666\" rule_name=\"Console logon refused "
      "(7063)\" level=\"high\" host=\"WS01\" user=\"alice\" domain=\"CORP\" event_code=\"7063\"] ";
  ASSERT_EQ(line.substr(0, expected_head.size()), expected_head) << line;
  EXPECT_EQ(nlohmann::json::parse(line.substr(expected_head.size())), alert_to_json(a));
}

// The writer scans 16 bytes at a time: a character to escape must be found at every position of
// a block and of the tail, next to multi-byte UTF-8 too.
TEST(FormatJson, EscapesAtEveryPositionLikeNlohmann) {
  const std::string base = "abcdefghij\xc3\xa9klmnopqrstuvwxyz0123456789ABCDEFGH";
  for (char special : {'"', '\\', '\n', '\x01', '\x1f', '\t'}) {
    for (std::size_t at = 0; at <= base.size(); ++at) {
      std::string value = base;
      value.insert(at, 1, special);
      Alert a = make_alert(1);
      a.extras = {{"v", value}};
      EXPECT_EQ(render(a, Format::kJson),
                alert_to_json(a).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
          << "special " << static_cast<int>(special) << " at " << at;
    }
  }
}

// The header's own date writer must agree with the core's format_time (cut to 6 fraction
// digits) across leap days, centuries, the epoch and before it.
TEST(FormatRfc5424, TimestampAgreesWithCoreFormatTime) {
  std::vector<Ticks> times = {0,
                              1,
                              -1,
                              951'782'400LL * kTicksPerSecond + 9'999'999,
                              -11'644'473'600LL * kTicksPerSecond,
                              4'107'542'399LL * kTicksPerSecond,
                              253'402'300'799LL * kTicksPerSecond + 1'234'567};
  for (Ticks t = -2'208'988'800LL * kTicksPerSecond; t < 4'102'444'800LL * kTicksPerSecond;
       t += 86'399LL * kTicksPerSecond * 37 + 123'457) {
    times.push_back(t);
  }
  for (Ticks t : times) {
    Alert a = make_alert(1);
    a.time = t;
    std::string line = render(a, Format::kRfc5424);
    std::string expected = format_time(t);
    if (expected.size() == 28) expected.erase(26, 1);
    const std::size_t start = line.find(' ') + 1;
    ASSERT_EQ(line.substr(start, line.find(' ', start) - start), expected) << "ticks " << t;
  }
}

// TIMESTAMP has four year digits: a time beyond them (FILETIME's maximum, year 30828, occurs in
// real EVTX files) is the NILVALUE, not a date a collector cannot parse; the document keeps it.
TEST(FormatRfc5424, TimeBeyondFourDigitYearsIsNil) {
  const Ticks filetime_max = 0x7fff'ffff'ffff'ffffLL - 116'444'736'000'000'000LL;
  const Ticks before_year_0 = -62'167'219'201LL * kTicksPerSecond;
  for (Ticks t : {filetime_max, before_year_0, std::numeric_limits<Ticks>::min()}) {
    Alert a = make_alert(1);
    a.time = t;
    const std::string line = render(a, Format::kRfc5424);
    EXPECT_EQ(line.substr(0, line.find(" WS01 ")), "<83>1 -") << "ticks " << t;
  }
}

// The RFC 3164 timestamp has no year: any time gives "Mmm dd hh:mm:ss".
TEST(FormatRfc3164, TimeBeyondFourDigitYearsKeepsTheTimestampShape) {
  const Ticks filetime_max = 0x7fff'ffff'ffff'ffffLL - 116'444'736'000'000'000LL;
  const Ticks before_year_0 = -62'167'219'201LL * kTicksPerSecond;
  const std::pair<Ticks, std::string> cases[] = {{filetime_max, "<83>Sep 14 02:48:05 WS01 "},
                                                 {before_year_0, "<83>Dec 31 23:59:59 WS01 "}};
  for (const auto& [t, head] : cases) {
    Alert a = make_alert(1);
    a.time = t;
    EXPECT_EQ(render(a, Format::kRfc3164).substr(0, head.size()), head) << "ticks " << t;
  }
}

TEST(FormatRfc5424, FacilityAndEnterpriseIdAreConfigurable) {
  Alert a = make_alert(1);
  a.level = Level::kCritical;
  FormatOptions o;
  o.format = Format::kRfc5424;
  ASSERT_TRUE(parse_facility("local4", o.facility));
  o.enterprise_id = 99999;
  o.hostname = "collector-visible-name";
  std::string line;
  format_alert(a, o, line);
  EXPECT_EQ(line.rfind("<162>1 ", 0), 0U) << line;  // 20*8+2
  EXPECT_NE(line.find(" collector-visible-name sessionwatch "), std::string::npos);
  EXPECT_NE(line.find("[sessionwatch@99999 "), std::string::npos);
}

TEST(FormatRfc5424, HostileValueIsEscapedAndStaysOneRecord) {
  Alert a = make_alert(1, kHostile);
  a.host = "bad host\nname";
  std::string line = render(a, Format::kRfc5424);
  EXPECT_FALSE(has_line_break_or_control(line)) << line;
  // '"', '\' and ']' escaped per RFC 5424 6.3.3; controls as rsyslog-style #ooo.
  EXPECT_NE(line.find("user=\"evil\\\"\\]\\\\ #012<13>1 2021-01-01T00:00:00Z forged - - - "
                      "[x@1\\] {}#015#033\""),
            std::string::npos)
      << line;
  // Header fields allow no spaces at all.
  EXPECT_NE(line.find(" bad_host_name sessionwatch "), std::string::npos) << line;
  // A reader following RFC 5424's grammar finds one SD element whose user parameter is the
  // whole hostile value, and the JSON message right after it.
  std::size_t i = line.find("[sessionwatch@");
  ASSERT_NE(i, std::string::npos);
  std::string user;
  std::string current_name;
  bool in_value = false;
  std::string value;
  for (++i; i < line.size(); ++i) {
    char c = line[i];
    if (in_value) {
      if (c == '\\' && i + 1 < line.size() &&
          (line[i + 1] == '"' || line[i + 1] == '\\' || line[i + 1] == ']')) {
        value.push_back(line[++i]);
      } else if (c == '"') {
        in_value = false;
        if (current_name == " user") user = value;
        current_name.clear();
      } else {
        value.push_back(c);
      }
    } else if (c == '"') {
      in_value = true;
      value.clear();
      current_name = current_name.substr(0, current_name.size() - 1);  // drop '='
      current_name = current_name.substr(current_name.rfind(' '));
    } else if (c == ']') {
      break;
    } else {
      current_name.push_back(c);
    }
  }
  ASSERT_LT(i + 1, line.size());
  EXPECT_EQ(user, "evil\"]\\ #012<13>1 2021-01-01T00:00:00Z forged - - - [x@1] {}#015#033");
  EXPECT_EQ(line[i + 1], ' ');
  EXPECT_EQ(nlohmann::json::parse(line.substr(i + 2)), alert_to_json(a));
}

TEST(FormatRfc5424, ShortRuleIdIsKeptAndEmptyOneIsNil) {
  Alert a = make_alert(1);
  a.rule_id = "builtin-7063";
  EXPECT_NE(render(a, Format::kRfc5424).find(" sessionwatch - builtin-7063 ["), std::string::npos);
  a.rule_id.clear();
  EXPECT_NE(render(a, Format::kRfc5424).find(" sessionwatch - - ["), std::string::npos);
}

TEST(FormatRfc3164, LegacyHeader) {
  Alert a = make_alert(1);
  std::string line = render(a, Format::kRfc3164);
  const std::string head = "<83>Feb 12 12:34:28 WS01 sessionwatch: ";
  ASSERT_EQ(line.substr(0, head.size()), head);
  EXPECT_EQ(nlohmann::json::parse(line.substr(head.size())), alert_to_json(a));
  a.time = 0;  // 1970-01-01: day padded with a space
  EXPECT_EQ(render(a, Format::kRfc3164).rfind("<83>Jan  1 00:00:00 WS01 ", 0), 0U);
}

// A computer name that a RFC 3164 receiver would read as "HOSTNAME TAG:" must stay one
// HOSTNAME token of host name characters, and so must the TAG.
TEST(FormatRfc3164, SpoofingHostNameAndTagStayOneTokenEach) {
  Alert a = make_alert(1);
  FormatOptions o;
  o.format = Format::kRfc3164;
  for (const std::string host : {"sshd:", "dc01 sshd[4242]:", "a\tb", "h\xc3\xa9te"}) {
    a.host = host;
    std::string line;
    format_alert(a, o, line);
    const std::string after_time = line.substr(std::string("<83>Feb 12 12:34:28 ").size());
    const std::string hostname = after_time.substr(0, after_time.find(' '));
    EXPECT_EQ(hostname.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789._-"),
              std::string::npos)
        << line;
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(hostname.back()))) << line;
    EXPECT_EQ(after_time.substr(hostname.size(), 15), " sessionwatch: ") << line;
  }
  a.host = "dc01 sshd[4242]:";
  std::string line;
  format_alert(a, o, line);
  EXPECT_EQ(line.rfind("<83>Feb 12 12:34:28 dc01-sshd-4242 sessionwatch: ", 0), 0U) << line;
  o.app_name = "my app:";
  a.host.clear();
  line.clear();
  format_alert(a, o, line);
  EXPECT_EQ(line.rfind("<83>Feb 12 12:34:28 - my-app: ", 0), 0U) << line;
}

TEST(FormatCef, SyslogHeaderOfASpoofingHostNameIsOneToken) {
  Alert a = make_alert(1);
  a.host = "sshd:";
  EXPECT_EQ(render(a, Format::kCef, true).rfind("<83>Feb 12 12:34:28 sshd sessionwatch: CEF:0|", 0),
            0U);
}

TEST(FormatCef, HeaderAndExtension) {
  Alert a = make_alert(1);
  std::string line = render(a, Format::kCef);
  EXPECT_EQ(line,
            "CEF:0|sessionwatch|sessionwatch|0.1|0b3a1c2e-1111-4222-8333-944455556666|Console "
            "logon refused (7063)|8|rt=1613133268194 externalId=" +
                a.id +
                " dvchost=WS01 suser=alice sntdom=CORP cs1Label=level cs1=high "
                "cs2Label=eventCode cs2=7063 msg=The user CORP\\\\alice is already logged on to "
                "the console");
}

TEST(FormatCef, HostileFieldsAreEscaped) {
  Alert a = make_alert(1, "x=1 act=allow\nCEF:0|forged|");
  a.rule_name = "name|with\\pipe\nand newline";
  std::string line = render(a, Format::kCef);
  EXPECT_FALSE(has_line_break_or_control(line)) << line;
  EXPECT_NE(line.find("|name\\|with\\\\pipe and newline|"), std::string::npos) << line;
  EXPECT_NE(line.find("suser=x\\=1 act\\=allow\\nCEF:0|forged|"), std::string::npos) << line;
}

TEST(FormatCef, SyslogHeaderWhenCarriedBySyslog) {
  Alert a = make_alert(1);
  EXPECT_EQ(render(a, Format::kCef, true).rfind("<83>Feb 12 12:34:28 WS01 sessionwatch: CEF:0|", 0),
            0U);
}

TEST(FormatNames, RoundTrip) {
  for (Format f : {Format::kJson, Format::kRfc5424, Format::kRfc3164, Format::kCef}) {
    Format back;
    ASSERT_TRUE(parse_format(to_string(f), back));
    EXPECT_EQ(back, f);
  }
  Format f;
  EXPECT_FALSE(parse_format("xml", f));
  int facility = -1;
  EXPECT_TRUE(parse_facility("auth", facility));
  EXPECT_EQ(facility, 4);
  EXPECT_TRUE(parse_facility("23", facility));
  EXPECT_EQ(facility, 23);
  EXPECT_FALSE(parse_facility("24", facility));
  EXPECT_FALSE(parse_facility("mail2", facility));
}

}  // namespace
}  // namespace sw::forward
