#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "daemon/inputs/evtx/evtx_job.hpp"
#include "daemon/inputs/file/file_checkpoint.hpp"
#include "daemon/state.hpp"

namespace sw::daemon {
namespace {

namespace fs = std::filesystem;

class StateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sw_state_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// The followed file's position, as the file input keeps it in the state.
FileCheckpoint file_of(const AgentState& s) {
  FileCheckpoint cp;
  std::string error;
  EXPECT_TRUE(parse_checkpoint(s.streams.at("win").begin()->second, cp, error)) << error;
  return cp;
}
void set_offset(AgentState& s, std::uint64_t offset) {
  FileCheckpoint cp = file_of(s);
  cp.offset = offset;
  s.streams["win"][file_stream_key(cp.id)] = checkpoint_text(cp);
}

AgentState sample_state() {
  AgentState s;
  FileCheckpoint cp{"/var/log/a.jsonl", {64769, 1234}, 4096, 17, 1024, 0xfeedbeefcafef00dULL};
  s.streams["win"][file_stream_key(cp.id)] = checkpoint_text(cp);
  s.streams["evtx-2"]["/srv/Security.evtx"] = checkpoint_text(EvtxCheckpoint{
      "/srv/Security.evtx", {64769, 99}, 31337, EvtxPosition{3, 4096, 31200, 31337}});
  s.streams["evtx-2"]["/srv/Old.evtx"] =
      checkpoint_text(EvtxCheckpoint{"/srv/Old.evtx", {64769, 98}, 12, std::nullopt});
  s.streams["eventlog"]["Security"] = "<BookmarkList><Bookmark RecordId='42'/></BookmarkList>";
  s.parts
      ["record_ids/win/64769:1234\x1e"
       "dc01\x1e"
       "Security"] = R"([64769,1234,"dc01","Security",9,9])";
  s.parts["session/host/ws01"] = R"({"name":"WS01","console":"alice"})";
  s.parts["rules/x\x1ey"] = "{}";
  s.saved_at = 16000000000000000;
  return s;
}

TEST_F(StateTest, RoundTripsEveryField) {
  const AgentState s = sample_state();
  AgentState back;
  std::string error;
  ASSERT_TRUE(parse_state(serialize_state(s), back, error)) << error;
  EXPECT_EQ(back.streams, s.streams);
  EXPECT_EQ(back.parts, s.parts);
  EXPECT_EQ(back.saved_at, s.saved_at);
}

// A state written before stream checkpoints were generic kept the Event Log bookmarks under
// "eventlog": an upgrade must resume those channels where they stood.
TEST_F(StateTest, EventlogBookmarksOfEarlierVersionsBecomeStreams) {
  nlohmann::json doc = nlohmann::json::parse(serialize_state(sample_state()));
  doc.erase("streams");
  doc["eventlog"] = {{"win", {{{"channel", "Security"}, {"bookmark", "<BookmarkList/>"}}}}};
  AgentState back;
  std::string error;
  ASSERT_TRUE(parse_state(doc.dump(), back, error)) << error;
  ASSERT_EQ(back.streams.count("win"), 1u);
  EXPECT_EQ(back.streams["win"]["Security"], "<BookmarkList/>");
}

// Version 2 kept file positions under "files": an upgrade resumes each file where it stood.
TEST_F(StateTest, PositionsOfVersion2BecomeTheInputsStreams) {
  const std::string v2 = R"({"version":2,"saved_at":5,"parts":{},
      "evtx":{"e":[{"path":"/srv/S.evtx","device":1,"inode":2,"record_id":7}]},"files":{"win":[
      {"path":"/var/log/a.jsonl","device":64769,"inode":1234,"offset":4096,"records":17,
       "head_length":1024,"head_hash":99}]}})";
  AgentState back;
  std::string error;
  ASSERT_TRUE(parse_state(v2, back, error)) << error;
  ASSERT_EQ(back.streams["win"].count("64769:1234"), 1u);
  const FileCheckpoint cp = file_of(back);
  EXPECT_EQ(cp.path, "/var/log/a.jsonl");
  EXPECT_EQ(cp.offset, 4096u);
  EXPECT_EQ(cp.records, 17u);
  EXPECT_EQ(cp.head_hash, 99u);
  EvtxCheckpoint evtx;
  ASSERT_TRUE(parse_checkpoint(back.streams["e"]["/srv/S.evtx"], evtx, error)) << error;
  EXPECT_EQ(evtx.record_id, 7u);
  EXPECT_FALSE(evtx.position);
}

TEST_F(StateTest, MissingFileIsFirstStartNotAnError) {
  StateStore store((dir_ / "state.json").string());
  AgentState s;
  std::string error = "x";
  std::vector<std::string> notes;
  EXPECT_FALSE(store.load(s, error, notes));
  EXPECT_TRUE(error.empty());
  EXPECT_TRUE(notes.empty());
}

TEST_F(StateTest, SaveReplacesAtomicallyAndLeavesNoTemporary) {
  StateStore store((dir_ / "state.json").string());
  std::string error;
  AgentState s = sample_state();
  ASSERT_TRUE(store.save(s, error)) << error;
  set_offset(s, 8192);
  ASSERT_TRUE(store.save(s, error)) << error;
  AgentState back;
  std::vector<std::string> notes;
  ASSERT_TRUE(store.load(back, error, notes)) << error;
  EXPECT_EQ(file_of(back).offset, 8192u);
  EXPECT_TRUE(notes.empty());
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_)) names.insert(e.path().filename().string());
  EXPECT_EQ(names, (std::set<std::string>{"state.json", "state.json.prev"}));
}

TEST_F(StateTest, TornTemporaryFromACrashDoesNotHideTheLastGoodState) {
  // A crash while writing leaves state.json.tmp half-written; state.json is still the last one.
  StateStore store((dir_ / "state.json").string());
  std::string error;
  ASSERT_TRUE(store.save(sample_state(), error)) << error;
  {
    std::ofstream torn(dir_ / "state.json.tmp");
    torn << "{\"version\":1,\"files\":{\"win\":[{\"path\":";
  }
  AgentState back;
  std::vector<std::string> notes;
  ASSERT_TRUE(store.load(back, error, notes)) << error;
  EXPECT_EQ(back.streams, sample_state().streams);
  // And the next save goes through regardless of the leftover.
  ASSERT_TRUE(store.save(back, error)) << error;
  EXPECT_FALSE(fs::exists(dir_ / "state.json.tmp"));
}

TEST_F(StateTest, CorruptStateIsReportedWithItsPath) {
  const auto path = dir_ / "state.json";
  {
    std::ofstream out(path);
    out << "{\"version\": 1, \"files\": ";
  }
  StateStore store(path.string());
  AgentState s;
  std::string error;
  std::vector<std::string> notes;
  EXPECT_FALSE(store.load(s, error, notes));
  EXPECT_NE(error.find(path.string()), std::string::npos);
  EXPECT_NE(error.find("malformed"), std::string::npos);
  EXPECT_TRUE(fs::exists(dir_ / "state.json.damaged")) << "kept for inspection";
}

TEST_F(StateTest, FutureVersionIsRefused) {
  AgentState s;
  std::string error;
  EXPECT_FALSE(parse_state(R"({"version": 4, "files": {}, "evtx": {}})", s, error));
  EXPECT_NE(error.find("version"), std::string::npos);
}

TEST_F(StateTest, SaveIntoMissingFolderFailsWithReason) {
  StateStore store((dir_ / "no" / "such" / "state.json").string());
  std::string error;
  EXPECT_FALSE(store.save(sample_state(), error));
  EXPECT_NE(error.find("cannot create"), std::string::npos);
}

TEST_F(StateTest, Version1StateWithOneDetectorTextStillLoads) {
  AgentState s;
  std::string error;
  ASSERT_TRUE(parse_state(
      R"({"version":1,"files":{},"evtx":{},"detector":"{\"version\":1}","saved_at":5})", s, error))
      << error;
  EXPECT_EQ(s.detector_snapshot, R"({"version":1})");
  EXPECT_TRUE(s.parts.empty());
}

// ---- the journal: checkpoints appended after a full one

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

// The document nlohmann::json writes with indent 1, but with its checksum member last: a full
// checkpoint is written as it is made, and its checksum is known only at the end.
std::string as_written(const std::string& text) {
  nlohmann::json doc = nlohmann::json::parse(text);
  const std::string checksum = doc.at("checksum").get<std::string>();
  doc.erase("checksum");
  std::string expected = doc.dump(1);
  expected.insert(expected.size() - 2, ",\n \"checksum\": \"" + checksum + "\"");
  return expected + "\n";
}

// The parts are written straight from their texts, not through a json document, and streamed
// to the file: it must still be the document nlohmann::json writes (what earlier versions read),
// byte for byte but for the checksum's place, whatever the texts hold, and its checksum the one
// of the document (readers find it by name).
TEST_F(StateTest, FullCheckpointFromPartsIsTheDocumentJsonWrites) {
  AgentState s = sample_state();
  s.parts["session/sids/w\u00fc"] = "{\"S-1\":[\"D\\\\x\",\"\\\"q\\u0001\"]}\n\t\x01\x7f\u20ac";
  s.parts["session/host/ws02"] = "";
  // Parts larger than the pieces the file is written in.
  s.parts["session/host/big"] = std::string(300 * 1024, '"') + std::string(300 * 1024, 'x');
  StateParts parts;  // in no particular order, as the detector hands them
  for (auto it = s.parts.rbegin(); it != s.parts.rend(); ++it)
    parts.push_back({it->first, it->second});
  // The same parts made only as they are written (the last checkpoint's), each made once.
  StateParts made_later;
  std::map<std::string, int> made;
  for (const StatePart& p : parts) {
    made_later.push_back({p.key, {}, [&made, p] {
                            ++made[p.key];
                            return p.value;
                          }});
  }
  AgentState positions = s;
  positions.parts.clear();
  for (const std::string mode : {"parts", "map", "made"}) {
    fs::create_directories(dir_ / mode);
    StateStore store((dir_ / mode / "state.json").string());
    std::string error;
    ASSERT_TRUE(mode == "map"     ? store.save(s, error)
                : mode == "parts" ? store.save(positions, parts, error)
                                  : store.save(positions, made_later, error))
        << error;
    const std::string text = read_text(store.path());
    if (mode == "made") {
      EXPECT_EQ(made.size(), parts.size());
      for (const auto& [key, times] : made) EXPECT_EQ(times, 1) << key;
    }
    EXPECT_EQ(as_written(text), text);
    EXPECT_EQ(store.full_bytes(), text.size());
    AgentState back;
    std::vector<std::string> notes;
    ASSERT_TRUE(store.load(back, error, notes)) << error;
    EXPECT_TRUE(notes.empty()) << "the checksum is the one of the document";
    EXPECT_EQ(back.parts, s.parts);
    EXPECT_EQ(back.streams, s.streams);
  }
  StateStore empty((dir_ / "state.json").string());
  std::string error;
  ASSERT_TRUE(empty.save(AgentState{}, StateParts{}, error)) << error;
  const std::string text = read_text(empty.path());
  EXPECT_EQ(as_written(text), text);
}

// A state file of an earlier version, its checksum first as nlohmann::json wrote it, still
// passes its checksum.
TEST_F(StateTest, AChecksumWrittenFirstIsFoundToo) {
  StateStore store((dir_ / "state.json").string());
  std::string error;
  ASSERT_TRUE(store.save(sample_state(), error)) << error;
  const std::string moved = nlohmann::json::parse(read_text(store.path())).dump(1) + "\n";
  ASSERT_LT(moved.find("\"checksum\""), moved.find("\"generation\""));
  std::ofstream(store.path(), std::ios::binary | std::ios::trunc) << moved;
  AgentState back;
  std::vector<std::string> notes;
  ASSERT_TRUE(StateStore(store.path()).load(back, error, notes)) << error;
  EXPECT_TRUE(notes.empty()) << notes[0];
  EXPECT_EQ(back.streams, sample_state().streams);
}

class StateJournalTest : public StateTest {
 protected:
  fs::path state() const { return dir_ / "state.json"; }
  fs::path journal() const { return dir_ / "state.journal"; }
  // A full checkpoint at offset 4096, then appended ones at 5000 and 6000 (the second also
  // changing one detector part and removing another).
  void write_three(StateStore& store) {
    std::string error;
    AgentState s = sample_state();
    ASSERT_TRUE(store.save(s, error)) << error;
    set_offset(s, 5000);
    ASSERT_TRUE(store.append(s, {{"session/host/ws01", "v2"}}, error)) << error;
    set_offset(s, 6000);
    ASSERT_TRUE(
        store.append(s, {{"session/host/ws02", "new"}, {"rules/x\x1ey", std::nullopt}}, error))
        << error;
  }
  AgentState load(std::vector<std::string>& notes) {
    StateStore store(state().string());
    AgentState back;
    std::string error;
    EXPECT_TRUE(store.load(back, error, notes)) << error;
    return back;
  }
  std::uint64_t offset(const AgentState& s) { return file_of(s).offset; }
};

TEST_F(StateJournalTest, AppendedCheckpointsAreReadBackInOrder) {
  StateStore store(state().string());
  write_three(store);
  std::vector<std::string> notes;
  const AgentState back = load(notes);
  EXPECT_TRUE(notes.empty());
  EXPECT_EQ(offset(back), 6000u);
  StatePartMap want = sample_state().parts;
  want["session/host/ws01"] = "v2";
  want["session/host/ws02"] = "new";
  want.erase("rules/x\x1ey");
  EXPECT_EQ(back.parts, want);
}

TEST_F(StateJournalTest, AnAppendedCheckpointCostsWhatChangedNotTheWholeState) {
  StateStore store(state().string());
  AgentState s = sample_state();
  for (int i = 0; i < 2000; ++i) {
    s.parts["session/host/ws" + std::to_string(i)] = std::string(1000, 'x');
  }
  std::string error;
  ASSERT_TRUE(store.save(s, error)) << error;
  EXPECT_GT(store.full_bytes(), 2'000'000u);
  ASSERT_TRUE(store.append(s, {{"session/host/ws7", "changed"}}, error)) << error;
  EXPECT_LT(store.journal_bytes(), 1000u);
  std::vector<std::string> notes;
  const AgentState back = load(notes);
  EXPECT_EQ(back.parts.at("session/host/ws7"), "changed");
  EXPECT_EQ(back.parts.size(), sample_state().parts.size() + 2000);
}

TEST_F(StateJournalTest, AnEditedOffsetIsCaughtByTheChecksumAndThePreviousCheckpointIsUsed) {
  StateStore store(state().string());
  write_three(store);
  AgentState s = sample_state();
  set_offset(s, 7000);
  std::string error;
  ASSERT_TRUE(store.save(s, error)) << error;  // the previous one (and its journal) kept
  // The offset moved forward by hand (or a flipped bit): it would skip events silently.
  std::string text = read_text(state());
  const auto at = text.find("7000");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 4, "4007000");
  write_text(state(), text);
  std::vector<std::string> notes;
  const AgentState back = load(notes);
  EXPECT_EQ(offset(back), 6000u) << "the previous full checkpoint and its journal";
  // Everything else a checkpoint holds comes back with it.
  const AgentState sample = sample_state();
  EXPECT_EQ(file_of(back).head_hash, 0xfeedbeefcafef00dULL);
  EXPECT_EQ(back.streams.at("evtx-2"), sample.streams.at("evtx-2"));
  EXPECT_EQ(back.streams.at("eventlog"), sample.streams.at("eventlog"));
  EXPECT_EQ(back.parts.count("record_ids/win/64769:1234\x1e"
                             "dc01\x1e"
                             "Security"),
            1u);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("checksum mismatch"), std::string::npos) << notes[0];
  EXPECT_NE(notes[0].find("read again"), std::string::npos) << notes[0];
  EXPECT_TRUE(fs::exists(dir_ / "state.json.damaged"));
}

TEST_F(StateJournalTest, ADamagedJournalRecordEndsTheReplayThereAndSaysSo) {
  StateStore store(state().string());
  write_three(store);
  std::string bytes = read_text(journal());
  bytes[bytes.size() - 3] ^= 0x20;  // inside the last record
  write_text(journal(), bytes);
  std::vector<std::string> notes;
  const AgentState back = load(notes);
  EXPECT_EQ(offset(back), 5000u);
  EXPECT_EQ(back.parts.at("session/host/ws01"), "v2");
  EXPECT_EQ(back.parts.count("session/host/ws02"), 0u);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("bad checksum"), std::string::npos) << notes[0];
}

TEST_F(StateJournalTest, ARecordCutShortIsTheCheckpointBeforeIt) {
  StateStore store(state().string());
  write_three(store);
  fs::resize_file(journal(), fs::file_size(journal()) - 10);
  std::vector<std::string> notes;
  EXPECT_EQ(offset(load(notes)), 5000u);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("cut short"), std::string::npos) << notes[0];
}

TEST_F(StateJournalTest, ACrashBetweenTheRenamesOfAFullCheckpointLosesNothing) {
  StateStore store(state().string());
  write_three(store);
  // A full checkpoint moves state.json to state.json.prev before it writes the new one.
  fs::rename(state(), dir_ / "state.json.prev");
  std::vector<std::string> notes;
  EXPECT_EQ(offset(load(notes)), 6000u);
  EXPECT_TRUE(notes.empty());
}

TEST_F(StateJournalTest, AFullCheckpointStartsANewJournal) {
  StateStore store(state().string());
  write_three(store);
  AgentState s = sample_state();
  set_offset(s, 9000);
  std::string error;
  ASSERT_TRUE(store.save(s, error)) << error;
  EXPECT_EQ(store.journal_bytes(), 0u);
  std::vector<std::string> notes;
  EXPECT_EQ(offset(load(notes)), 9000u) << "the old journal's records are not applied to it";
  EXPECT_TRUE(notes.empty());
}

TEST_F(StateJournalTest, AStateWithoutChecksumIsReadWithANote) {
  StateStore store(state().string());
  write_three(store);
  auto doc = nlohmann::json::parse(read_text(state()));
  doc.erase("checksum");
  write_text(state(), doc.dump(1));
  std::vector<std::string> notes;
  EXPECT_EQ(offset(load(notes)), 6000u);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("no checksum"), std::string::npos);
}

TEST_F(StateJournalTest, AppendBeforeAFullCheckpointIsRefused) {
  StateStore store(state().string());
  std::string error;
  EXPECT_TRUE(store.needs_full());
  EXPECT_FALSE(store.append(sample_state(), {}, error));
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace sw::daemon
