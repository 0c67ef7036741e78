#include <gtest/gtest.h>

#include "errors/recognizer.hpp"
#include "sessionwatch/error_catalog.hpp"

namespace sw {
namespace {

// An alerting error of a custom catalog, with no message template.
ErrorInfo alerting_error(std::uint32_t code, ErrorSpace space, std::string symbol) {
  ErrorInfo e;
  e.code = code;
  e.space = space;
  e.symbol = std::move(symbol);
  e.alerting = true;
  return e;
}

const ErrorCatalog& catalog() {
  return ErrorCatalog::builtin();
}

Event event_with(std::string_view name, std::string_view value) {
  Event e;
  e.event_id = 1001;
  e.set_channel("Application");
  e.add_field(name, value);
  return e;
}

// The single recognition of 7063, or a failure.
Recognition only_7063(const Event& e) {
  const auto found = catalog().recognize(e);
  EXPECT_EQ(found.size(), 1u);
  if (found.empty()) return {};
  EXPECT_EQ(found[0].error->code, 7063u);
  return found[0];
}

TEST(ErrorCatalog, Knows7063And7062) {
  const ErrorInfo* e = catalog().find_win32(7063);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->symbol, "ERROR_CTX_NO_FORCE_LOGOFF");
  EXPECT_TRUE(e->alerting);
  EXPECT_EQ(e->message_template,
            "The user %s\\%s is already logged on to the console of this computer. You do not "
            "have permission to log in at this time. To resolve this issue, contact %s\\%s and "
            "have them log off.");
  const ErrorInfo* s = catalog().find_win32(7062);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->symbol, "ERROR_CTX_SESSION_IN_USE");
  EXPECT_TRUE(s->alerting);
  EXPECT_EQ(catalog().find_symbol("error_ctx_no_force_logoff"), e);
  EXPECT_EQ(catalog().find_ntstatus(0xC0071B97u), e);
  EXPECT_FALSE(catalog().find_win32(5)->alerting);
}

TEST(ErrorCatalog, DescribesContextCodes) {
  EXPECT_EQ(catalog().describe("0xC000015B"),
            "the user has not been granted the requested logon type at this machine");
  EXPECT_EQ(catalog().describe("0xc000015b"), catalog().describe("0xC000015B"));
  EXPECT_NE(catalog().describe("0xC000006D"), std::nullopt);
  EXPECT_NE(catalog().describe("0xC0000234")->find("locked out"), std::string_view::npos);
  EXPECT_NE(catalog().describe("0xC0000413"), std::nullopt);
  // 0x8007042E is HRESULT_FROM_WIN32(1070), a service error, whatever the reference text says.
  EXPECT_NE(catalog().describe("0x8007042E")->find("start-pending"), std::string_view::npos);
  EXPECT_EQ(catalog().describe("0x80070005"), catalog().find_win32(5)->meaning);
  EXPECT_EQ(catalog().describe("-2147017833"), catalog().find_win32(7063)->meaning);
  EXPECT_EQ(catalog().describe("7063"), catalog().find_win32(7063)->meaning);
  EXPECT_EQ(catalog().describe(" ERROR_CTX_SESSION_IN_USE "), catalog().find_win32(7062)->meaning);
  EXPECT_EQ(catalog().describe("0xDEADBEEF"), std::nullopt);
  EXPECT_EQ(catalog().describe("hello"), std::nullopt);
  EXPECT_EQ(catalog().describe(""), std::nullopt);
}

TEST(ErrorCatalog, DescribesRelatedEvents) {
  auto d = catalog().describe_event("Security", 4825);
  ASSERT_TRUE(d);
  EXPECT_NE(d->find("Remote Desktop Users"), std::string_view::npos);
  EXPECT_TRUE(catalog().describe_event("security", 4625));
  EXPECT_FALSE(catalog().describe_event("System", 4825));
}

TEST(ErrorCatalog, FirstAlertingIsTheFirstAlertingRecognition) {
  Event both = event_with("Status", "0xC000006D");  // a context code, not alerting
  both.add_field("Detail", "hr=0x80071B97");
  const Event::FoundError found = catalog().first_alerting(both);
  EXPECT_TRUE(found.searched);
  ASSERT_NE(found.error, nullptr);
  EXPECT_EQ(found.error->code, 7063u);
  EXPECT_EQ(found.form, ErrorForm::kHresult);
  const Event::FoundError none = catalog().first_alerting(event_with("Status", "0xC000006D"));
  EXPECT_TRUE(none.searched) << "searched, nothing found: not searched again";
  EXPECT_EQ(none.error, nullptr);
}

TEST(Recognizer, DecimalInStatusFieldNames) {
  for (std::string_view name :
       {"Status", "SubStatus", "Error", "ErrorCode", "Win32Status", "Win32Error", "ReturnCode",
        "ResultCode", "HResult", "errorcode", "LastError", "exit_code", "NTSTATUS"}) {
    SCOPED_TRACE(std::string(name));
    const Recognition r = only_7063(event_with(name, "7063"));
    EXPECT_EQ(r.form, ErrorForm::kDecimal);
    EXPECT_EQ(field_name(r.field), name);
    EXPECT_EQ(r.matched, "7063");
  }
}

TEST(Recognizer, FindsEachNumericForm) {
  struct Case {
    std::string_view name, value;
    ErrorForm form;
    std::string_view matched;
  };
  const Case cases[] = {
      {"Detail", "0x1B97", ErrorForm::kHex, "0x1b97"},  // add_field canonicalizes hex values
      {"Detail", "result 0x00001b97 returned", ErrorForm::kHex, "0x00001b97"},
      {"Detail", "hr=0x80071B97", ErrorForm::kHresult, "0x80071B97"},
      {"Detail", "hr=0x0000000080071B97", ErrorForm::kHresult, "0x0000000080071B97"},
      // Both letters are looked for in one pass: an x that starts nothing does not hide the next.
      {"Detail", "x X 0x 0X0x ax0X 0X1B97 max", ErrorForm::kHex, "0X1B97"},
      {"Param3", "-2147017833", ErrorForm::kHresult, "-2147017833"},
      {"Detail", "call failed: -2147017833.", ErrorForm::kHresult, "-2147017833"},
      {"Param1", "0xC0071B97", ErrorForm::kNtStatus, "0xc0071b97"},
      {"Detail", "status 0xC0071B97 from WinStationConnect", ErrorForm::kNtStatus, "0xC0071B97"},
      {"HResult", "2147949463", ErrorForm::kHresult, "2147949463"},
      {"Detail", "ERROR_CTX_NO_FORCE_LOGOFF", ErrorForm::kSymbol, "ERROR_CTX_NO_FORCE_LOGOFF"},
      {"Detail", "WTSConnectSession: error_ctx_no_force_logoff", ErrorForm::kSymbol,
       "error_ctx_no_force_logoff"},
      {"Output", "Error code 7063", ErrorForm::kToolOutput, "code 7063"},
      {"Output", "Error [7063]: cannot take the console", ErrorForm::kToolOutput, "Error [7063]"},
      {"Output", "tscon 2 /dest:console failed with error 7063", ErrorForm::kToolOutput,
       "error 7063"},
      {"Output", "WTSConnectSession failed (7063)", ErrorForm::kToolOutput, "failed (7063)"},
      {"Output", "The reconnect was refused by the server (7063)", ErrorForm::kToolOutput,
       "server (7063)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.value));
    const Recognition r = only_7063(event_with(c.name, c.value));
    EXPECT_EQ(r.form, c.form);
    EXPECT_EQ(r.matched, c.matched);
    EXPECT_EQ(field_name(r.field), c.name);
  }
}

// The short-value prefilter reads eight bytes at a time: a code must be found at any offset of a
// value of any length, including the bytes of a last, partial word.
TEST(Recognizer, FindsTheCodeAtEveryOffsetOfAShortValue) {
  for (std::string_view code : {"0x1B97", "0X1B97", "error 7063"}) {
    for (std::size_t before = 0; before <= 64; ++before) {
      for (std::size_t after : {0, 1, 3, 7}) {
        const std::string value =
            "status:" + std::string(before, ' ') + std::string(code) + std::string(after, ' ');
        SCOPED_TRACE(value);
        EXPECT_EQ(only_7063(event_with("Detail", value)).matched, code);
      }
    }
  }
}

// And none where no byte can start a numeric form, whatever the length.
TEST(Recognizer, FindsNoCodeInShortValuesWithoutSevenOrX) {
  for (std::size_t n = 4; n <= 80; ++n) {
    const std::string value = "error " + std::string(n, '1') + " 0y1B96 W";
    EXPECT_TRUE(catalog().recognize(event_with("Status", value)).empty()) << value;
  }
}

TEST(Recognizer, FindsTheFilledInMessageAndItsHolder) {
  Event e;
  e.set_message(
      "Reclaiming the console of WS-0042 for CONTOSO\\ben.berg failed: The user "
      "CONTOSO\\anna.adams is already logged on to the console of this computer. You do not have "
      "permission to log in at this time. To resolve this issue, contact CONTOSO\\anna.adams and "
      "have them log off.");
  const Recognition r = only_7063(e);
  EXPECT_EQ(r.form, ErrorForm::kMessage);
  EXPECT_EQ(r.field, fields::Message);
  EXPECT_EQ(r.holder_domain, "CONTOSO");
  EXPECT_EQ(r.holder_user, "anna.adams");
  EXPECT_EQ(r.matched.substr(0, 8), "The user");
  EXPECT_NE(r.matched.find("have them log off"), std::string::npos);
}

TEST(Recognizer, MessageRewrappedAcrossLinesStillMatches) {
  Event e = event_with("Text",
                       "The user FABRIKAM\\Jo Smith is already logged\r\non to the  console of "
                       "this computer.\nYou do not have permission to log in at this time.");
  const Recognition r = only_7063(e);
  EXPECT_EQ(r.form, ErrorForm::kMessage);
  EXPECT_EQ(r.holder_domain, "FABRIKAM");
  EXPECT_EQ(r.holder_user, "Jo Smith");
}

TEST(Recognizer, HolderFromTheContactClauseWhenTheFirstIsMissing) {
  Event e = event_with("Text",
                       "... is already logged on to the console of this computer. You do not have "
                       "permission to log in at this time. To resolve this issue, contact "
                       "WS-7\\admin and have them log off.");
  const Recognition r = only_7063(e);
  EXPECT_EQ(r.form, ErrorForm::kMessage);
  EXPECT_EQ(r.holder_domain, "WS-7");
  EXPECT_EQ(r.holder_user, "admin");
}

TEST(Recognizer, PhraseWithoutTemplate) {
  const Recognition r =
      only_7063(event_with("Text", "Someone Is Already Logged On To The Console Of This Computer"));
  EXPECT_EQ(r.form, ErrorForm::kPhrase);
  EXPECT_TRUE(r.holder_user.empty());
}

TEST(Recognizer, Sibling7062) {
  Event e;
  e.set_message(
      "The user CORP\\maria is currently logged on to this computer. Only the current user or an "
      "administrator can log on to this computer.");
  e.add_field("Win32Error", "0x1B96");
  const auto found = catalog().recognize(e);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].error->code, 7062u);
  EXPECT_EQ(found[0].form, ErrorForm::kMessage);
  EXPECT_EQ(found[0].holder_domain, "CORP");
  EXPECT_EQ(found[0].holder_user, "maria");
  EXPECT_EQ(found[1].error->code, 7062u);
  EXPECT_EQ(found[1].form, ErrorForm::kHex);
}

TEST(Recognizer, OneRecognitionPerErrorAndFieldMostSpecificFirst) {
  Event e;
  e.add_field("Win32Status", "7063");
  e.set_message(
      "Reclaiming the console failed with error 7063 (0x1B97): The user CONTOSO\\nora is already "
      "logged on to the console of this computer.");
  const auto found = catalog().recognize(e);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].form, ErrorForm::kMessage);
  EXPECT_EQ(found[0].field, fields::Message);
  EXPECT_EQ(found[0].holder_user, "nora");
  EXPECT_EQ(found[1].form, ErrorForm::kDecimal);
  EXPECT_EQ(field_name(found[1].field), "Win32Status");
}

TEST(Recognizer, NearMissesGiveNothing) {
  const std::pair<std::string_view, std::string_view> misses[] = {
      {"IpPort", "7063"},
      {"ProcessId", "7063"},
      {"ProcessID", "0x1b97"},
      {"TargetLogonId", "0x1B97"},
      {"RecordNumber", "7063"},
      {"EventRecordID", "7063"},
      {"EventCode", "7063"},
      {"event.code", "7063"},
      {"Status", "17063"},
      {"Status", "70630"},
      {"Status", "0x1B970"},
      {"Status", "0x11B97"},
      {"Status", "7063.5"},
      {"Status", "-7063"},
      {"Detail", "10.0.7063.1"},
      {"Detail", "KB-7063 installed"},
      {"Detail", "listening on port 7063"},
      {"Detail", "pid 7063 exited"},
      {"Detail", "7063"},
      {"Detail", "0x1B97ab"},
      {"Detail", "hr 0x180071B97"},         // nine digits: not a 32-bit code
      {"Detail", "hr 0x1000000080071B97"},  // nor past zeros further in
      {"Detail", "x0x1B97"},
      {"Detail", "ERROR_CTX_NO_FORCE_LOGOFFS"},
      {"Detail", "Logon ID: 0x1B97"},
      {"Detail", "-2147017832"},
      {"Detail", "21470178330"},
      {"Detail", "2147949463"},  // unsigned HRESULT only where a status is expected
      {"Status", "0xC000015B"},
      {"SubStatus", "0xC000006A"},
      {"Status", "5"},
      {"Detail", "{6A3D1B97-7063-4F00-8000-000000007063}"},
      {"Detail", "2026-11-02T08:00:00.7063Z"},
  };
  for (const auto& [name, value] : misses) {
    SCOPED_TRACE(std::string(name) + "=" + std::string(value));
    EXPECT_TRUE(catalog().recognize(event_with(name, value)).empty());
  }
}

TEST(Recognizer, ContextEventsAreNotAlerts) {
  Event failed;
  failed.event_id = 4625;
  failed.set_channel("Security");
  failed.add_field("Status", "0xC000015B");
  failed.add_field("SubStatus", "0x0");
  failed.add_field("LogonType", "10");
  failed.add_field("IpPort", "7063");
  failed.record_id = 7063;
  EXPECT_TRUE(catalog().recognize(failed).empty());

  Event denied;
  denied.event_id = 4825;
  denied.set_channel("Security");
  denied.add_field("AccountName", "ben");
  denied.add_field("ClientAddress", "10.0.70.63");
  denied.set_message(
      "A user was denied the access to Remote Desktop. By default, users are allowed to connect "
      "only if they are members of the Remote Desktop Users group or Administrators group.");
  EXPECT_TRUE(catalog().recognize(denied).empty());
}

TEST(Recognizer, FieldNameClassification) {
  using errors::Recognizer;
  EXPECT_TRUE(Recognizer::is_status_field_name("SubStatus"));
  EXPECT_TRUE(Recognizer::is_status_field_name("sessionwatch.error_code"));
  EXPECT_FALSE(Recognizer::is_status_field_name("Opcode"));
  EXPECT_FALSE(Recognizer::is_status_field_name("ErrorCount"));
  EXPECT_FALSE(Recognizer::is_status_field_name("EventCode"));
  EXPECT_FALSE(Recognizer::is_status_field_name("StatusText2"));
  EXPECT_TRUE(Recognizer::is_identifier_field_name("TargetLogonId"));
  EXPECT_TRUE(Recognizer::is_identifier_field_name("NewProcessId"));
  EXPECT_FALSE(Recognizer::is_identifier_field_name("Status"));
}

TEST(Recognizer, CustomCatalogIsHonoured) {
  ErrorCatalog custom({alerting_error(1385, ErrorSpace::kWin32, "ERROR_LOGON_TYPE_NOT_GRANTED")});
  const auto found = custom.recognize(event_with("Status", "0x569"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].error->code, 1385u);
  EXPECT_TRUE(custom.recognize(event_with("Status", "7063")).empty());
}

}  // namespace
}  // namespace sw

namespace sw::errors {
namespace {

std::string described(const std::vector<Recognition>& found) {
  std::string out;
  for (const Recognition& r : found) {
    out += std::to_string(r.error->code) + " form " + std::to_string(static_cast<int>(r.form)) +
           " field " + std::string(field_name(r.field)) + " [" + r.matched + "] " +
           r.holder_domain + "\\" + r.holder_user + "\n";
  }
  return out;
}

// Events built from the forms of 7063 and 7062, their near misses and plain text, in fields
// that do and do not name a status, and in the message: recognize (which first searches the
// event's text for what every form holds) finds exactly what scanning every field finds.
void expect_filter_agrees(const ErrorCatalog& catalog, const std::vector<std::string>& parts) {
  const Recognizer recognizer(catalog);
  const std::vector<std::string> names = {"Status", "ErrorCode", "Data", "TargetLogonId", "param1"};
  std::uint32_t seed = 2024;
  auto next = [&seed] { return (seed = seed * 1103515245u + 12345u) >> 8; };
  auto text = [&] {
    std::string t;
    for (std::uint32_t k = next() % 5; k > 0; --k) t += parts[next() % parts.size()];
    return t;
  };
  std::size_t recognized = 0;
  for (int round = 0; round < 4000; ++round) {
    Event e;
    e.event_id = 1001;
    e.set_channel("Application");
    for (std::uint32_t k = next() % 4; k > 0; --k)
      e.add_field(names[next() % names.size()], text());
    if (next() % 2) e.set_message(text());
    const std::string filtered = described(recognizer.recognize(e));
    const std::string scanned = described(recognizer.recognize_every_field(e));
    EXPECT_EQ(filtered, scanned);
    recognized += scanned.empty() ? 0 : 1;
  }
  EXPECT_GT(recognized, 400u);  // the texts do hold forms, often
}

TEST(Recognizer, TheEventFilterRulesOutNoFormOfTheBuiltInErrors) {
  expect_filter_agrees(ErrorCatalog::builtin(),
                       {"7063",
                        "07063",
                        "7062",
                        "706",
                        " ",
                        "(",
                        ")",
                        ":",
                        "error ",
                        "Error code ",
                        "failed with ",
                        "0x1B97",
                        "0X00001b97",
                        "0x80071b96",
                        "0xC0071B97",
                        "0x1b9",
                        "x",
                        "-2147017833",
                        "2147949463",
                        "3221691287",
                        "1073276010",
                        "214794946",
                        "ERROR_CTX_NO_FORCE_LOGOFF",
                        "error_ctx_session_in_use",
                        "ERROR_CTX",
                        "The user CONTOSO\\ann ",
                        "is already logged on to the console of this computer. ",
                        "You do not have permission to log in at this time. ",
                        "To resolve this issue, contact CONTOSO\\ann and have them log off.",
                        "is currently logged on to this computer. ",
                        "Only the current user or an administrator can log on to this computer.",
                        "already",
                        "Permission",
                        "logged on",
                        "S-1-5-21-7063",
                        "KB-7063",
                        "v7.0.63",
                        "\t\n"});
}

// A catalog with a short code: needles shorter than the search's four-byte windows ("5") and an
// NTSTATUS.
TEST(Recognizer, TheEventFilterRulesOutNoFormOfShortCodes) {
  expect_filter_agrees(
      ErrorCatalog({alerting_error(5, ErrorSpace::kWin32, "ERROR_ACCESS_DENIED"),
                    alerting_error(0xC000006Du, ErrorSpace::kNtStatus, "STATUS_LOGON_FAILURE")}),
      {"5",          "05",          "0x5",
       "0X00000005", "0x80070005",  "-2147024891",
       "2147942405", "0xc000006d",  "0XC000006D",
       "3221225581", "-1073741715", " ",
       "error ",     "Status: ",    "(",
       ")",          "x",           "STATUS_LOGON_FAILURE",
       "7063",       "word"});
}

}  // namespace
}  // namespace sw::errors
