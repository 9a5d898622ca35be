#pragma once
// The SumCache as a self-checking snapshot (issue 4, "The sum cache"; the epic's "cache
// corruption: checksum validation"). One byte format serves both places it is kept: inside each
// checkpoint (so a resumed run sees the same history) and as a file of its own.
//
// Layout, all integers little-endian:
//   16 bytes  "ABLATE-SUMCACHE\n"
//   u32       format version (kSnapshotVersion)
//   u64 x 3   units, records, stages
//   u64       payload size in bytes
//   64 bytes  SHA-256 of the payload, lowercase hex
//   payload   run name; unit layers (name, size); keep; per unit: layer, index, its records
//             (s, n, capacity, stage); per stage: stage, epoch, layer, timestamp, duration,
//             train and val accuracy, label.
// A snapshot is refused, with an Error naming its source, when any byte of it is wrong (the
// header is checked field by field, the payload against its checksum) or when it belongs to
// another run or another model (SnapshotIdentity).
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "ablate/state.hpp"
#include "ablate/stats.hpp"

namespace ablate {

inline constexpr std::uint32_t kSnapshotVersion = 1;

/// What a snapshot must match to be used: the run it came from and the model's unit layers
/// (names and sizes; their inputs do not matter to the history).
struct SnapshotIdentity {
  std::string run;  // e.g. "quickstart seed 1"
  std::vector<UnitLayer> layers;
};

/// The identity of a run's sum cache: "<experiment> seed <seed>" and the model's layers.
SnapshotIdentity run_identity(const std::string& experiment, std::uint64_t seed,
                              const UnitGraph& graph);

struct SumSnapshot {
  SnapshotIdentity identity;
  SumCache sums;
};

std::string encode_sums(const SumCache& sums, const SnapshotIdentity& identity);
/// Error (naming `source`, a file or "checkpoint") when the bytes are not a whole, intact
/// snapshot of a supported version.
SumSnapshot decode_sums(std::string_view bytes, const std::string& source);
/// Error when `found` differs from `expected`, saying in what.
void require_identity(const SnapshotIdentity& found, const SnapshotIdentity& expected,
                      const std::string& source);

/// The snapshot as a file, replaced atomically (util/atomic_file.hpp).
void write_sums(const std::filesystem::path& file, const SumCache& sums,
                const SnapshotIdentity& identity);
/// Decodes and checks the identity: the Errors above.
SumCache read_sums(const std::filesystem::path& file, const SnapshotIdentity& expected);

/// The snapshot inside a checkpoint, as the U8 tensor `<prefix>snapshot`.
void save_sums(const SumCache& sums, const SnapshotIdentity& identity, StateStore& out,
               const std::string& prefix);
SumCache load_sums(const StateStore& in, const SnapshotIdentity& expected,
                   const std::string& prefix);

}  // namespace ablate
