// JSON-lines decoding, 7063 recognition and event JSON writing.
//
// Input: the lines of $SW_BENCH_JSONL when set (e.g. /work/shared/bench/gen_jsonl.py output),
// else Winlogbeat-shaped lines generated here in the same style (Security 4624/4634/4647/4778/
// 4779, TS-LSM 21/24/25 with user_data, 1 in 1000 an Application 7063 event; ~800 bytes each).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "sessionwatch/decode.hpp"
#include "sessionwatch/error_catalog.hpp"

namespace {

std::string security_line(std::mt19937& r, int eid, std::uint64_t record) {
  const std::string user = "user" + std::to_string(r() % 600);
  const std::string host = "ws-" + std::to_string(r() % 200) + ".contoso.local";
  const std::string lid = "0x" + std::to_string(0x100000 + r() % 0x7000000);
  const std::string ip = "10." + std::to_string(r() % 40) + "." + std::to_string(r() % 255) + "." +
                         std::to_string(1 + r() % 250);
  return R"({"@timestamp":"2026-11-02T08:)" + std::to_string(10 + r() % 50) + ":" +
         std::to_string(10 + r() % 50) + "." + std::to_string(100 + r() % 900) +
         R"(Z","agent":{"type":"winlogbeat","name":"WS"},"host":{"name":")" + host +
         R"("},"log":{"level":"information"},"event":{"code":")" + std::to_string(eid) +
         R"(","kind":"event","action":"logged-in"},"winlog":{"channel":"Security","provider_name":"Microsoft-Windows-Security-Auditing","event_id":")" +
         std::to_string(eid) + R"(","record_id":")" + std::to_string(record) +
         R"(","computer_name":")" + host +
         R"(","task":"Logon","event_data":{"TargetUserSid":"S-1-5-21-3623811015-3361044348-30300820-)" +
         std::to_string(1100 + r() % 600) + R"(","TargetUserName":")" + user +
         R"(","TargetDomainName":"CONTOSO","TargetLogonId":")" + lid +
         R"(","LogonType":"3","WorkstationName":"-","IpAddress":")" + ip + R"(","IpPort":")" +
         std::to_string(49152 + r() % 16000) +
         R"("},"keywords":["Audit Success"]},"message":"An account was successfully logged on.\n\nLogon Type:\t3\n\nNew Logon:\n\tAccount Name:\t)" +
         user + R"(\n\tAccount Domain:\tCONTOSO\n\tLogon ID:\t)" + lid +
         R"(\n\nSource Network Address:\t)" + ip + R"("})";
}

std::string lsm_line(std::mt19937& r, int eid, std::uint64_t record) {
  const std::string user = "user" + std::to_string(r() % 600);
  const std::string host = "rds-" + std::to_string(r() % 20) + ".contoso.local";
  const std::string sid = std::to_string(2 + r() % 30);
  return R"({"@timestamp":"2026-11-02T08:30:00.123Z","agent":{"type":"winlogbeat","name":"RDS"},"host":{"name":")" +
         host + R"("},"log":{"level":"information"},"event":{"code":")" + std::to_string(eid) +
         R"(","kind":"event","action":"session-logon"},"winlog":{"channel":"Microsoft-Windows-TerminalServices-LocalSessionManager/Operational","provider_name":"Microsoft-Windows-TerminalServices-LocalSessionManager","event_id":")" +
         std::to_string(eid) + R"(","record_id":")" + std::to_string(record) +
         R"(","computer_name":")" + host + R"(","task":"","user_data":{"User":"CONTOSO\\)" + user +
         R"(","SessionID":")" + sid +
         R"(","Address":"10.9.3.77","xml_name":"EventXML"}},"message":"Remote Desktop Services: Session logon succeeded:\n\nUser: CONTOSO\\)" +
         user + R"(\nSession ID: )" + sid + R"(\nSource Network Address: 10.9.3.77"})";
}

std::string app_7063_line(std::uint64_t record) {
  return R"({"@timestamp":"2026-11-02T08:40:00.000Z","host":{"name":"ws-42.contoso.local"},"log":{"level":"error"},"event":{"code":"1001","kind":"event","outcome":"failure"},"winlog":{"channel":"Application","provider_name":"Contoso-SeatReclaimer","event_id":"1001","record_id":")" +
         std::to_string(record) +
         R"(","computer_name":"ws-42.contoso.local","task":"None","event_data":{"TargetUserName":"ben","TargetDomainName":"CONTOSO","ConsoleUserName":"anna","ConsoleDomainName":"CONTOSO","SessionId":"1","Operation":"WTSConnectSession","Win32Status":"7063"}},"message":"Reclaiming the console of WS-42 for CONTOSO\\ben failed with error 7063 (0x1B97): The user CONTOSO\\anna is already logged on to the console of this computer. You do not have permission to log in at this time. To resolve this issue, contact CONTOSO\\anna and have them log off."})";
}

const std::vector<std::string>& winlogbeat_lines() {
  static const std::vector<std::string> lines = [] {
    std::vector<std::string> out;
    if (const char* path = std::getenv("SW_BENCH_JSONL")) {
      std::ifstream in(path);
      for (std::string line; std::getline(in, line) && out.size() < 200000;) out.push_back(line);
      if (!out.empty()) return out;
    }
    std::mt19937 r(7063);
    static constexpr int kSecurity[] = {4624, 4634, 4647, 4778, 4779};
    static constexpr int kLsm[] = {21, 24, 25};
    for (std::uint64_t i = 0; i < 20000; ++i) {
      if (i % 1000 == 999) {
        out.push_back(app_7063_line(i));
      } else if (r() % 4 == 0) {
        out.push_back(lsm_line(r, kLsm[r() % 3], 1000 + i));
      } else {
        out.push_back(security_line(r, kSecurity[r() % 5], 9000000 + i));
      }
    }
    return out;
  }();
  return lines;
}

std::vector<std::string> nxlog_lines() {
  std::vector<std::string> out;
  for (int i = 0; i < 20000; ++i) {
    out.push_back(
        R"({"EventTime":"2021-02-12 12:34:28","Hostname":"dc.windomain.local","Keywords":-9214364837600034816,"EventType":"AUDIT_SUCCESS","SeverityValue":2,"Severity":"INFO","EventID":4624,"SourceName":"Microsoft-Windows-Security-Auditing","ProviderGuid":"{54849625-5478-4994-A5BA-3E3B0328C30D}","Version":2,"Task":12544,"OpcodeValue":0,"RecordNumber":)" +
        std::to_string(203040 + i) +
        R"(,"ExecutionProcessID":612,"ExecutionThreadID":3464,"Channel":"Security","Message":"An account was successfully logged on.","Category":"Logon","Opcode":"Info","SubjectUserSid":"S-1-5-18","SubjectUserName":"DC$","SubjectDomainName":"WINDOMAIN","SubjectLogonId":"0x3e7","TargetUserSid":"S-1-5-21-1-2-3-1000","TargetUserName":"vagrant","TargetDomainName":"WINDOMAIN","TargetLogonId":"0xae31a","LogonType":"10","IpAddress":"192.168.38.1","IpPort":"0","EventReceivedTime":"2021-02-12 12:34:29","SourceModuleName":"eventlog","SourceModuleType":"im_msvistalog"})");
  }
  return out;
}

void decode_lines(benchmark::State& state, const std::vector<std::string>& lines) {
  sw::JsonLineDecoder decoder;
  sw::Event event;
  std::string error;
  std::size_t i = 0, bytes = 0, items = 0;
  for (auto _ : state) {
    const std::string& line = lines[i];
    if (!decoder.decode(line, event, error)) state.SkipWithError(error.c_str());
    benchmark::DoNotOptimize(event.event_id);
    bytes += line.size() + 1;
    ++items;
    if (++i == lines.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(items));
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}

void BM_DecodeWinlogbeatLine(benchmark::State& state) {
  decode_lines(state, winlogbeat_lines());
}
BENCHMARK(BM_DecodeWinlogbeatLine);

void BM_DecodeNxlogLine(benchmark::State& state) {
  static const auto lines = nxlog_lines();
  decode_lines(state, lines);
}
BENCHMARK(BM_DecodeNxlogLine);

std::vector<sw::Event> decoded_events() {
  std::vector<sw::Event> events;
  sw::JsonLineDecoder decoder;
  std::string error;
  for (const auto& line : winlogbeat_lines()) {
    sw::Event e;
    if (decoder.decode(line, e, error)) events.push_back(std::move(e));
  }
  return events;
}

void BM_Recognize(benchmark::State& state) {
  static const auto events = decoded_events();
  const sw::ErrorCatalog& catalog = sw::ErrorCatalog::builtin();
  std::size_t i = 0, found = 0;
  for (auto _ : state) {
    found += catalog.recognize(events[i]).size();
    if (++i == events.size()) i = 0;
  }
  benchmark::DoNotOptimize(found);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Recognize);

void BM_WriteEventJson(benchmark::State& state) {
  static const auto events = decoded_events();
  std::string out;
  std::size_t i = 0, bytes = 0;
  for (auto _ : state) {
    out.clear();
    sw::write_event_json(events[i], out);
    bytes += out.size();
    if (++i == events.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
}
BENCHMARK(BM_WriteEventJson);

// The whole buffer path: line splitting, decoding, the sink call.
class CountingSink : public sw::EventSink {
 public:
  void on_event(sw::Event& e) override { sum += e.event_id; }
  void on_error(const sw::DecodeError&) override { ++errors; }
  std::uint64_t sum = 0, errors = 0;
};

void BM_DecodeBufferWinlogbeat(benchmark::State& state) {
  static const std::string buffer = [] {
    std::string b;
    for (const auto& line : winlogbeat_lines()) b += line + "\n";
    return b;
  }();
  CountingSink sink;
  std::int64_t events = 0;
  for (auto _ : state) {
    const sw::DecodeStats stats = sw::decode_buffer(buffer, "bench", {}, sink);
    events += static_cast<std::int64_t>(stats.records_read);
  }
  state.SetItemsProcessed(events);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(buffer.size()));
}
BENCHMARK(BM_DecodeBufferWinlogbeat)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
