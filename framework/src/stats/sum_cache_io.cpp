#include "stats/sum_cache_io.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "util/atomic_file.hpp"
#include "util/sha256.hpp"

namespace ablate {
namespace {

constexpr std::string_view kMagic = "ABLATE-SUMCACHE\n";
constexpr std::size_t kDigestSize = 64;  // hex
constexpr std::size_t kHeaderSize = kMagic.size() + 4 + 4 * 8 + kDigestSize;
constexpr std::uint64_t kMaxSumHistory = std::uint64_t{1} << 16;  // SumCache keeps 50

/// Appends fixed-width little-endian fields.
class Writer {
 public:
  void u32(std::uint32_t v) { put(v, 4); }
  void u64(std::uint64_t v) { put(v, 8); }
  void i32(std::int32_t v) { u32(static_cast<std::uint32_t>(v)); }
  void f32(float v) { u32(std::bit_cast<std::uint32_t>(v)); }
  void f64(double v) { u64(std::bit_cast<std::uint64_t>(v)); }
  void text(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    bytes_.append(s);
  }
  void raw(std::string_view s) { bytes_.append(s); }
  std::string& bytes() { return bytes_; }

 private:
  void put(std::uint64_t v, int width) {
    for (int i = 0; i < width; ++i) bytes_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string bytes_;
};

/// Reads what Writer wrote; running past the end is an Error naming the source.
class Reader {
 public:
  Reader(std::string_view bytes, const std::string& source) : bytes_(bytes), source_(source) {}
  std::uint32_t u32() { return static_cast<std::uint32_t>(get(4)); }
  std::uint64_t u64() { return get(8); }
  std::int32_t i32() { return static_cast<std::int32_t>(u32()); }
  float f32() { return std::bit_cast<float>(u32()); }
  double f64() { return std::bit_cast<double>(u64()); }
  std::string_view raw(std::size_t size) {
    need(size);
    const std::string_view out = bytes_.substr(at_, size);
    at_ += size;
    return out;
  }
  std::string text() { return std::string(raw(u32())); }
  std::size_t left() const { return bytes_.size() - at_; }

 private:
  void need(std::size_t size) const {
    if (size > left())
      throw Error(fmt::format("{}: the sum-cache snapshot ends early (wanted {} more bytes at "
                              "offset {}, {} left): refusing to use it",
                              source_, size, at_, left()));
  }
  std::uint64_t get(int width) {
    need(static_cast<std::size_t>(width));
    std::uint64_t v = 0;
    for (int i = 0; i < width; ++i)
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes_[at_ + i])) << (8 * i);
    at_ += static_cast<std::size_t>(width);
    return v;
  }
  std::string_view bytes_;
  const std::string& source_;
  std::size_t at_ = 0;
};

std::string describe_layers(const std::vector<UnitLayer>& layers) {
  std::string out;
  for (const auto& layer : layers)
    out += fmt::format("{}{} ({})", out.empty() ? "" : ", ", layer.name, layer.size);
  return "[" + out + "]";
}

}  // namespace

SnapshotIdentity run_identity(const std::string& experiment, std::uint64_t seed,
                              const UnitGraph& graph) {
  return {fmt::format("{} seed {}", experiment, seed), graph.layers()};
}

std::string encode_sums(const SumCache& sums, const SnapshotIdentity& identity) {
  Writer payload;
  payload.text(identity.run);
  payload.u32(static_cast<std::uint32_t>(identity.layers.size()));
  for (const auto& layer : identity.layers) {
    payload.text(layer.name);
    payload.i32(layer.size);
  }
  payload.u64(sums.keep());
  std::uint64_t records = 0;
  payload.u64(sums.units().size());
  for (const auto& [unit, history] : sums.units()) {
    payload.i32(unit.layer);
    payload.i32(unit.index);
    payload.u32(static_cast<std::uint32_t>(history.size()));
    for (const SumRecord& r : history) {
      payload.i32(r.s);
      payload.i32(r.n);
      payload.f32(r.capacity);
      payload.i32(r.stage);
    }
    records += history.size();
  }
  payload.u64(sums.stages().size());
  for (const StageRecord& st : sums.stages()) {
    payload.i32(st.stage);
    payload.i32(st.epoch);
    payload.i32(st.layer);
    payload.f64(st.timestamp);
    payload.f64(st.duration);
    payload.f64(st.train_accuracy);
    payload.f64(st.val_accuracy);
    payload.text(st.label);
  }
  Writer out;
  out.raw(kMagic);
  out.u32(kSnapshotVersion);
  out.u64(sums.units().size());
  out.u64(records);
  out.u64(sums.stages().size());
  out.u64(payload.bytes().size());
  out.raw(sha256_hex(payload.bytes()));
  out.raw(payload.bytes());
  return std::move(out.bytes());
}

SumSnapshot decode_sums(std::string_view bytes, const std::string& source) {
  auto refuse = [&](const std::string& why) {
    return Error(source + ": " + why + ": refusing to use this sum-cache snapshot", source);
  };
  if (bytes.size() < kHeaderSize || bytes.substr(0, kMagic.size()) != kMagic)
    throw refuse("not a sum-cache snapshot (it does not start with the ABLATE-SUMCACHE header)");
  Reader header(bytes.substr(kMagic.size(), kHeaderSize - kMagic.size()), source);
  const std::uint32_t version = header.u32();
  if (version != kSnapshotVersion)
    throw refuse(fmt::format("format version {}, but this build reads version {}", version,
                             kSnapshotVersion));
  const std::uint64_t units = header.u64(), records = header.u64(), stages = header.u64();
  const std::uint64_t payload_size = header.u64();
  const std::string_view digest = header.raw(kDigestSize);
  const std::string_view payload_bytes = bytes.substr(kHeaderSize);
  if (payload_size != payload_bytes.size())
    throw refuse(fmt::format("the header announces {} payload bytes but {} follow it (a truncated "
                             "or damaged file)",
                             payload_size, payload_bytes.size()));
  const std::string actual = sha256_hex(payload_bytes);
  if (actual != digest)
    throw refuse(fmt::format("checksum mismatch, the snapshot is corrupted (SHA-256 of the "
                             "payload is {}, the header records {})",
                             actual, digest));

  // The payload is intact; what follows only fails for a snapshot written inconsistently.
  Reader payload(payload_bytes, source);
  SumSnapshot out;
  out.identity.run = payload.text();
  const std::uint32_t layer_count = payload.u32();
  for (std::uint32_t i = 0; i < layer_count; ++i) {
    UnitLayer layer;
    layer.name = payload.text();
    layer.size = payload.i32();
    out.identity.layers.push_back(std::move(layer));
  }
  // The history length, which SumCache::record reserves per unit: a damaged one (say 2^55)
  // would ask for that much memory instead of being refused.
  const std::uint64_t keep = payload.u64();
  if (keep > kMaxSumHistory)
    throw refuse(fmt::format("a history of {} sums per unit, more than the {} a snapshot can hold",
                             keep, kMaxSumHistory));
  out.sums = SumCache(keep);
  const std::uint64_t unit_count = payload.u64();
  std::uint64_t record_count = 0;
  for (std::uint64_t u = 0; u < unit_count; ++u) {
    const UnitId unit{payload.i32(), payload.i32()};
    const std::uint32_t count = payload.u32();
    for (std::uint32_t k = 0; k < count; ++k) {
      SumRecord r;
      r.s = payload.i32();
      r.n = payload.i32();
      r.capacity = payload.f32();
      r.stage = payload.i32();
      out.sums.record(unit, r);
    }
    record_count += count;
  }
  const std::uint64_t stage_count = payload.u64();
  for (std::uint64_t i = 0; i < stage_count; ++i) {
    StageRecord st;
    st.stage = payload.i32();
    st.epoch = payload.i32();
    st.layer = payload.i32();
    st.timestamp = payload.f64();
    st.duration = payload.f64();
    st.train_accuracy = payload.f64();
    st.val_accuracy = payload.f64();
    st.label = payload.text();
    out.sums.record_stage(st);
  }
  if (unit_count != units || record_count != records || stage_count != stages || payload.left())
    throw refuse(fmt::format("the header counts {} units, {} records, {} stages but the payload "
                             "holds {}, {}, {} and {} stray bytes",
                             units, records, stages, unit_count, record_count, stage_count,
                             payload.left()));
  return out;
}

void require_identity(const SnapshotIdentity& found, const SnapshotIdentity& expected,
                      const std::string& source) {
  if (found.run != expected.run)
    throw Error(fmt::format("{}: the sum-cache snapshot belongs to run '{}', not to '{}': "
                            "refusing to use it",
                            source, found.run, expected.run),
                source);
  const bool same_layers = std::equal(
      found.layers.begin(), found.layers.end(), expected.layers.begin(), expected.layers.end(),
      [](const UnitLayer& a, const UnitLayer& b) { return a.name == b.name && a.size == b.size; });
  if (!same_layers)
    throw Error(fmt::format("{}: the sum-cache snapshot was made for unit layers {}, but this "
                            "model has {}: refusing to use it",
                            source, describe_layers(found.layers),
                            describe_layers(expected.layers)),
                source);
}

void write_sums(const std::filesystem::path& file, const SumCache& sums,
                const SnapshotIdentity& identity) {
  write_atomic(file, encode_sums(sums, identity));
}

SumCache read_sums(const std::filesystem::path& file, const SnapshotIdentity& expected) {
  SumSnapshot snapshot = decode_sums(read_file(file), file.string());
  require_identity(snapshot.identity, expected, file.string());
  return std::move(snapshot.sums);
}

void save_sums(const SumCache& sums, const SnapshotIdentity& identity, StateStore& out,
               const std::string& prefix) {
  out.put_text(prefix + "snapshot", encode_sums(sums, identity));
}

SumCache load_sums(const StateStore& in, const SnapshotIdentity& expected,
                   const std::string& prefix) {
  const std::string source = "checkpoint tensor " + prefix + "snapshot";
  SumSnapshot snapshot = decode_sums(in.text(prefix + "snapshot"), source);
  require_identity(snapshot.identity, expected, source);
  return std::move(snapshot.sums);
}

}  // namespace ablate
