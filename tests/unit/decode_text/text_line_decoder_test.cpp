#include <gtest/gtest.h>

#include "sessionwatch/decode.hpp"
#include "sessionwatch/utf8.hpp"

namespace sw {
namespace {

const Ticks kNow = *parse_time("2026-11-25T12:00:00Z");

struct Decoded {
  bool ok;
  Event event;
  std::string error;
};

Decoded decode(std::string_view line, std::string default_computer = "DEFAULT-PC") {
  DecodeOptions options;
  options.default_computer = std::move(default_computer);
  options.default_channel = "Tools";
  TextLineDecoder d(options);
  Decoded r;
  r.ok = d.decode(line, kNow, r.event, r.error);
  return r;
}

TEST(TextLineDecoder, PlainLineGetsDefaultsAndNow) {
  const auto r = decode("Session 2 could not be taken over");
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.event.message(), "Session 2 could not be taken over");
  EXPECT_EQ(r.event.time_created, kNow);
  EXPECT_EQ(r.event.computer(), "DEFAULT-PC");
  EXPECT_EQ(r.event.channel(), "Tools");
  EXPECT_EQ(r.event.provider_name(), "sessionwatch-text");
  EXPECT_EQ(r.event.event_id, 0u);
  EXPECT_TRUE(r.event.fields().empty());
}

TEST(TextLineDecoder, LeadingTimestamps) {
  struct Case {
    std::string_view line;
    std::string_view time;
  };
  const Case cases[] = {
      {"2024-03-01 10:22:31 tscon 3 /dest:console", "2024-03-01T10:22:31Z"},
      {"2024-03-01T10:22:31Z tscon", "2024-03-01T10:22:31Z"},
      {"2024-03-01T10:22:31.250+01:00 tscon", "2024-03-01T09:22:31.25Z"},
      {"2024-03-01 10:22:31,5 - tscon", "2024-03-01T10:22:31.5Z"},
      {"[2024-03-01 10:22:31] tscon", "2024-03-01T10:22:31Z"},
      {"Mar  1 10:22:31 tscon", "2026-03-01T10:22:31Z"},
      {"Dec 24 23:59:59 tscon", "2025-12-24T23:59:59Z"},  // later than now this year: last year
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.line));
    const auto r = decode(c.line);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(format_time(r.event.time_created), format_time(*parse_time(c.time)));
    EXPECT_EQ(r.event.message(), c.line);
  }
}

TEST(TextLineDecoder, NotQuiteTimestampsFallBackToNow) {
  for (std::string_view line : {"2024-13-01 10:22:31 x", "2024-03-01 x", "20240301 10:22:31 x",
                                "[2024-03-01 10:22:31 x", "Foo  1 10:22:31 x"}) {
    SCOPED_TRACE(std::string(line));
    const auto r = decode(line);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.event.time_created, kNow);
  }
}

TEST(TextLineDecoder, ComputerFromTheLine) {
  struct Case {
    std::string_view line;
    std::string_view computer;
  };
  const Case cases[] = {
      {"WS-0042: logoff 2 failed", "WS-0042"},
      {"2024-03-01 10:22:31 WS-0042: logoff 2 failed", "WS-0042"},
      {"[RDS-0010] rwinsta 4", "RDS-0010"},
      {"2024-03-01 10:22:31 [ws-7.contoso.local] rwinsta 4", "ws-7.contoso.local"},
      {"rwinsta 4 /server:WS-0042", "WS-0042"},
      {"logoff 2 /SERVER:srv-01.contoso.local /v", "srv-01.contoso.local"},
      {"JUMP01: logoff 2 /server:WS-0042", "WS-0042"},  // the target, not where it ran
      {"Invoke-Command -ComputerName WS-9 { logoff 1 }", "WS-9"},
      {"ERROR: Error code 7063", "DEFAULT-PC"},
      {"[INFO] started", "DEFAULT-PC"},
      {"Warning: something", "DEFAULT-PC"},
      {"note: lowercase words are not hosts", "DEFAULT-PC"},
      {"HTTP://example: no", "DEFAULT-PC"},
      {"C:\\Windows\\System32\\tscon.exe 3", "DEFAULT-PC"},
      {"/server:10.0.0.1 is an address", "DEFAULT-PC"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.line));
    const auto r = decode(c.line);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.event.computer(), c.computer);
  }
}

TEST(TextLineDecoder, ComputerOfSyslogLikeLines) {
  // TIMESTAMP HOST program[pid]: message, the host in any case.
  struct Case {
    std::string_view line;
    std::string_view computer;
  };
  const Case cases[] = {
      {"2026-11-20T13:03:30Z ws-fin-07 logoff: Error code 7063", "ws-fin-07"},
      {"2026-11-20 13:03:30 WS-FIN-07 helpdesk.ps1: Error code 7063", "WS-FIN-07"},
      {"Nov 20 13:03:30 ws-0042.contoso.local rwinsta[4711]: Error code 7063",
       "ws-0042.contoso.local"},
      {"Nov 20 13:03:30 jumphost sshd[812]: Error code 7063", "jumphost"},
      {"Nov 20 13:03:30 10.1.2.3 tscon: Error code 7063", "10.1.2.3"},
      // Not a host: a word without the look of a machine name, a level word, no program.
      {"2026-11-20 13:03:30 rwinsta failed: Error code 7063", "DEFAULT-PC"},
      {"2026-11-20 13:03:30 Logon failed: error 7063", "DEFAULT-PC"},
      {"2026-11-20 13:03:30 error logoff: 7063", "DEFAULT-PC"},
      {"2026-11-20 13:03:30 ws-fin-07 Error code 7063", "DEFAULT-PC"},
      {"ws-fin-07 logoff: Error code 7063", "DEFAULT-PC"},  // no timestamp: no syslog layout
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.line));
    const auto r = decode(c.line);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.event.computer(), c.computer);
  }
}

TEST(TextLineDecoder, EmptyLinesAreErrors) {
  for (std::string_view line : {"", "   ", "\r\n", "\t \r"}) {
    const auto r = decode(line);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, "empty line");
  }
}

TEST(TextLineDecoder, TrimsLineEndingsAndBom) {
  const auto r = decode("\xEF\xBB\xBFhello world\r\n");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.event.message(), "hello world");
}

TEST(TextLineDecoder, InvalidUtf8IsSanitized) {
  const auto r = decode("Benutzer M\xFCller abgemeldet");
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(is_valid_utf8(r.event.message()));
  EXPECT_EQ(r.event.message(), "Benutzer M\xEF\xBF\xBDller abgemeldet");
}

}  // namespace
}  // namespace sw
