#pragma once
// Helpers for the data tests: files in the exact formats the dataset plugins read, and dataset
// plugins made through the real .so with every declared parameter filled.
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ablate/dataset.hpp"
#include "plugins/registry.hpp"
#include "support.hpp"

namespace ablate::test {

inline std::string bytes_text(const std::vector<std::uint8_t>& bytes) {
  return std::string(bytes.begin(), bytes.end());
}

/// gzip of `text` (one member).
inline std::string gzip(const std::string& text) {
  z_stream zs{};
  deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, text.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  zs.avail_in = static_cast<uInt>(text.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

/// An IDX file of unsigned bytes: 0, 0, 0x08, the number of dimensions, each dimension as a
/// big-endian uint32, then the data.
inline std::string idx(const std::vector<std::uint32_t>& dims, const std::vector<std::uint8_t>& data) {
  std::string out = {0, 0, 0x08, static_cast<char>(dims.size())};
  for (auto d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((d >> shift) & 0xff);
  out.append(data.begin(), data.end());
  return out;
}

/// A dataset plugin from the build's .so, its declared defaults overridden by `values`.
/// The registry lives on, as the host's does, so that an exception a plugin throws never
/// outlives its library.
inline std::shared_ptr<Dataset> make_dataset(const std::string& name,
                                             const std::map<std::string, Value>& values = {}) {
  static Registry registry;
  const PluginEntry* found = registry.find(Kind::dataset, name);
  const PluginEntry& entry =
      found ? *found
            : registry.load(std::filesystem::path(ABLATE_PLUGIN_BUILD_DIR) / (name + ".so"));
  Params params;
  for (const auto& spec : entry.info->params) params.set(spec.name, *spec.default_value);
  for (const auto& [key, value] : values) {
    if (!params.has(key)) throw Error("test bug: " + name + " declares no parameter " + key);
    params.set(key, value);
  }
  return registry.create<Dataset>(Kind::dataset, name, params);
}

inline Source load_dataset(const std::string& name, const std::map<std::string, Value>& values = {},
                           std::uint64_t seed = 1) {
  Rng rng(seed);
  return make_dataset(name, values)->load(rng);
}

/// Labels counted per class.
inline std::vector<std::size_t> class_counts(const std::vector<std::int32_t>& labels, int classes) {
  std::vector<std::size_t> counts(static_cast<std::size_t>(classes));
  for (auto label : labels) ++counts.at(static_cast<std::size_t>(label));
  return counts;
}

}  // namespace ablate::test
