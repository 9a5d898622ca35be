#pragma once
// Shared by the fuzz targets (docs/FUZZING.md): inputs made of several parts, a per-process
// scratch folder for readers that take paths, and the plugins whose readers are fuzzed.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ablate/dataset.hpp"
#include "ablate/error.hpp"
#include "plugins/registry.hpp"

namespace fuzz {

namespace fs = std::filesystem;

/// Separates the parts of one input (the main file, an included file, --set texts...). A line
/// of its own in text inputs; in binary ones as likely as any other 8 bytes.
inline constexpr std::string_view kSeparator = "\n--8<--\n";

inline std::vector<std::string> split_parts(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  for (std::size_t at = 0;;) {
    const std::size_t end = input.find(kSeparator, at);
    parts.emplace_back(input.substr(at, end == std::string_view::npos ? end : end - at));
    if (end == std::string_view::npos) return parts;
    at = end + kSeparator.size();
  }
}

/// /tmp/ablate-fuzz-<target>-<pid>/ (plus `sub`), created on first use and reused by every
/// iteration; removed when the process ends normally (a crash leaves it, small, for a look).
class Scratch {
 public:
  explicit Scratch(const std::string& target)
      : root_(fs::temp_directory_path() /
              ("ablate-fuzz-" + target + "-" + std::to_string(::getpid()))) {
    fs::create_directories(root_);
  }
  ~Scratch() {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  const fs::path& root() const { return root_; }

  /// Writes `bytes` to root/name (folders created), replacing what the last iteration left.
  fs::path write(const fs::path& name, std::string_view bytes) const {
    const fs::path file = root_ / name;
    fs::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return file;
  }

  void remove(const fs::path& name) const {
    std::error_code ignored;
    fs::remove(root_ / name, ignored);
  }

 private:
  fs::path root_;
};

/// Loads the plugins built for the fuzz targets, FUZZ_PLUGIN_DIR/<name>/<name>.so, into
/// `registry` (once, before fuzzing: a target keeps one Registry for its whole run).
inline void load_plugins(ablate::Registry& registry, const std::vector<std::string>& names) {
  std::vector<fs::path> folders;
  for (const auto& name : names) folders.push_back(fs::path(FUZZ_PLUGIN_DIR) / name);
  registry.scan(folders);
}

/// The dataset plugin `name` reading the files in `folder`: its declared defaults, then
/// `settings`, then path = folder.
inline std::shared_ptr<ablate::Dataset> dataset(const ablate::Registry& registry,
                                                const std::string& name, const fs::path& folder,
                                                const std::map<std::string, ablate::Value>&
                                                    settings = {}) {
  ablate::Params params;
  for (const auto& spec : registry.find(ablate::Kind::dataset, name)->info->params)
    if (spec.default_value) params.set(spec.name, *spec.default_value);
  for (const auto& [key, value] : settings) params.set(key, value);
  params.set("path", folder.string());
  return registry.create<ablate::Dataset>(ablate::Kind::dataset, name, params);
}

/// Loads `dataset`, as a run does; an ablate::Error is the reader refusing the input.
inline void load(const ablate::Dataset& dataset) {
  try {
    ablate::Rng rng(1);
    const ablate::Source source = dataset.load(rng);
    (void)source;
  } catch (const ablate::Error&) {
  }
}

}  // namespace fuzz
