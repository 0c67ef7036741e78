// The daemon's inputs, Fluent Bit style: each type lives in inputs/<name>/ and has the same small
// lifecycle (init, collect, exit) behind one factory, so new ones (the Windows eventlog input)
// plug in without touching the engine.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "daemon/metrics.hpp"
#include "daemon/state.hpp"
#include "daemon/work.hpp"
#include "sessionwatch/config.hpp"
#include "sessionwatch/interest.hpp"

namespace sw::daemon {

class Input {
 public:
  virtual ~Input() = default;
  // Applies the checkpoints of the last run and finds what there is to read. Work found now
  // (gaps, EVTX files) goes to `out`.
  virtual bool init(const AgentState& state, std::vector<WorkItem>& out, std::string& error) = 0;
  // Reads what is new. `rescan`: files may have appeared or gone. True when there is more to
  // read than one round takes.
  virtual bool collect(bool rescan, std::vector<WorkItem>& out) = 0;
  virtual void exit() {}
  // Folders whose changes concern this input.
  virtual std::vector<std::string> directories() const = 0;
  // True when collect() should run again after a while even without a notification.
  virtual bool lingering() const { return false; }
  // True while files wait to settle before they are read (still being copied in): `run --once`
  // waits for them, where it does not wait for lingering rotated files.
  virtual bool settling() const { return false; }
  // Where this input stands now, to write a checkpoint at once on first start.
  virtual void positions(AgentState& /*state*/) const {}
  // `checkpoint` of `stream` (from an EventBatch of this input) is now in the state file: every
  // alert of the events before it is in every output's spool. Inputs that also keep their
  // position elsewhere (a Kafka consumer group's offsets) move it on here, never earlier.
  virtual void committed(const std::string& /*stream*/, const std::string& /*checkpoint*/) {}
  // For inputs fed by a thread of their own (the Windows Event Log): called from that thread when
  // collect() has something new. Set once, before init.
  // NOLINTNEXTLINE(performance-unnecessary-value-param): overrides keep it (std::move)
  virtual void set_wakeup(std::function<void()> /*wakeup*/) {}
  // On the detection thread, after each state write, before the committed() calls it leads to:
  // the detector parts it wrote (every part after a full write, the changed ones otherwise).
  // For inputs that hand state on with their checkpoints (a Kafka partition's computers).
  virtual void state_written(const StateParts& /*parts*/) {}
  // True for inputs that override state_written(): the engine keeps the parts of a full write
  // for them (the whole detector state, a second copy), and otherwise does not.
  virtual bool wants_state_written() const { return false; }
  // Metric families of this input's own (the engine counts what every input reads). Called on
  // the metrics thread.
  virtual void write_metrics(Exposition& /*out*/) const {}
  // True when what it reads depends on the `needed` events it was made with (an eventlog input
  // with `event_ids: auto`): a reload whose rules read other events then restarts the inputs.
  virtual bool follows_interest() const { return false; }
};

// The input of `config.type` in the registry (daemon/input_plugin.hpp). `needed`: the events the
// detector reads, for inputs that filter at the origin (eventlog with `event_ids: auto`).
std::unique_ptr<Input> make_input(const InputConfig& config, std::size_t index,
                                  const EventInterest& needed, std::string& error);

}  // namespace sw::daemon
