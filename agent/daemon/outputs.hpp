// Where alerts go: every configured output. store() returns only once each alert is durably in
// every output (the forwarding module's spools, or the file itself for the built-in outputs), which
// is what lets the engine advance a source checkpoint after it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "daemon/metrics.hpp"
#include "sessionwatch/alert.hpp"
#include "sessionwatch/config.hpp"

namespace sw::daemon {

class AlertOutputs {
 public:
  virtual ~AlertOutputs() = default;
  // Blocks while an output's spool is full (its when_full: block policy), until abort().
  virtual bool store(const std::vector<Alert>& alerts, std::string& error) = 0;
  // store() in two halves, so the caller can work while the disks sync: store_unsynced() returns
  // once every output's spool holds the alerts (readable, their fsync perhaps still under way),
  // sync_stored() once they are durable in all. They go in turns, one batch unsynced at most:
  // sync_stored() comes before the next store() or store_unsynced().
  virtual bool store_unsynced(std::vector<Alert>&& alerts, std::string& error) {
    return store(alerts, error);
  }
  // An output whose fsync failed is given the whole batch again (duplicates rather than loss).
  // False only after abort().
  virtual bool sync_stored(std::string& error) {
    (void)error;
    return true;
  }
  // Makes a blocked store() give up (shutdown deadline).
  virtual void abort() {}
  // True while store() waits for an output's spool to take alerts (full, or its disk refusing
  // writes): the pipeline is held on purpose, not hung.
  virtual bool waiting_for_spool() const { return false; }
  // True once every stored alert was confirmed by its collector (false after `timeout`).
  virtual bool wait_delivered(std::chrono::milliseconds /*timeout*/) { return true; }
  // Stops delivery (flushes what it can within its own bounded time).
  virtual void close() = 0;
  // The per-output metric families.
  virtual void write_metrics(Exposition& out) const = 0;
};

std::unique_ptr<AlertOutputs> make_outputs(const std::vector<OutputConfig>& outputs,
                                           const std::string& data_dir, std::string& error);

}  // namespace sw::daemon
