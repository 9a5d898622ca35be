#pragma once
// Checkpoints and sum-cache snapshots as a re-run reproduces them: without the training clock
// (the checkpoint's trainer/clock, and each stage's timestamp and duration in the sum cache),
// which is the one thing a re-run with the same seed and threads does not repeat bit for bit.
#include <filesystem>
#include <string>

#include "runs/safetensors.hpp"
#include "stats/sum_cache_io.hpp"
#include "support.hpp"

namespace ablate::test {

/// A sum-cache snapshot's bytes with every stage's timestamp and duration set to 0.
inline std::string sums_without_clock(const std::string& snapshot) {
  SumSnapshot decoded = decode_sums(snapshot, "test snapshot");
  SumCache sums(decoded.sums.keep());
  for (const auto& [unit, history] : decoded.sums.units())
    for (const SumRecord& r : history) sums.record(unit, r);
  for (StageRecord stage : decoded.sums.stages()) {
    stage.timestamp = stage.duration = 0;
    sums.record_stage(stage);
  }
  return encode_sums(sums, decoded.identity);
}

/// Every tensor of a checkpoint but trainer/clock, its sum cache without the clock: one string
/// to compare.
inline std::string state_without_clock(const StateStore& state) {
  std::string out;
  for (const auto& [name, tensor] : state.tensors()) {
    if (name == "trainer/clock") continue;
    out += name + '\n';
    out += std::to_string(static_cast<int>(tensor.dtype)) + '\n';
    for (auto d : tensor.shape) out += std::to_string(d) + ',';
    out += '\n';
    if (name == "sums/snapshot")
      out += sums_without_clock(state.text(name));
    else
      out.append(reinterpret_cast<const char*>(tensor.bytes.data()), tensor.bytes.size());
    out += '\n';
  }
  return out;
}

inline std::string checkpoint_without_clock(const std::filesystem::path& file) {
  return state_without_clock(read_safetensors(file));
}

}  // namespace ablate::test
