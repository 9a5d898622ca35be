#pragma once
// Shared by the [config] tests: experiment files in a temp folder, the cfgtest plugins, and
// locations computed from the text so that assertions name the exact file:line:col.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "config/experiment.hpp"
#include "plugins/registry.hpp"

namespace cfgtest {

namespace fs = std::filesystem;

inline const std::vector<std::string> kPluginFolders = {
    ABLATE_TEST_PLUGIN_DIR "/cfgtest_topology", ABLATE_TEST_PLUGIN_DIR "/cfgtest_orderer",
    ABLATE_TEST_PLUGIN_DIR "/cfgtest_capacity", ABLATE_TEST_PLUGIN_DIR "/cfgtest_regularizer",
    ABLATE_TEST_PLUGIN_DIR "/cfgtest_dataset"};

/// `plugin_paths = [...]` naming the cfgtest plugin folders (absolute).
inline std::string plugin_paths_line() {
  std::string line = "plugin_paths = [";
  for (std::size_t i = 0; i < kPluginFolders.size(); ++i)
    line += (i ? ", \"" : "\"") + kPluginFolders[i] + "\"";
  return line + "]\n";
}

/// A complete, valid experiment; tests append sections or replace lines of it.
inline std::string valid_experiment() {
  return "[experiment]\nname = \"t\"\n" + plugin_paths_line() +
         "\n[dataset]\nplugin = \"cfg_blobs\"\n"
         "\n[topology]\nplugin = \"cfg_net\"\ndepth = 2\n"
         "\n[orderer]\nplugin = \"cfg_repeat\"\n";
}

/// A fresh folder under the system temp dir, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::random_device seed;
    path_ = fs::temp_directory_path() / ("ablate-config-" + std::to_string(seed()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }

  fs::path write(const std::string& name, const std::string& text) const {
    const fs::path file = path_ / name;
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
    return file;
  }

 private:
  fs::path path_;
};

/// "file:line:col" of the `nth` occurrence (from 1) of `marker` in `text`, counted as TOML++
/// counts (lines and columns from 1).
inline std::string at(const fs::path& file, const std::string& text, const std::string& marker,
                      int nth = 1) {
  std::size_t pos = std::string::npos;
  for (int i = 0; i < nth; ++i) pos = text.find(marker, pos == std::string::npos ? 0 : pos + 1);
  REQUIRE(pos != std::string::npos);
  int line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < pos; ++i)
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  return file.string() + ":" + std::to_string(line) + ":" + std::to_string(pos - line_start + 1);
}

inline ablate::Experiment load(const fs::path& file,
                               const std::vector<std::string>& overrides = {}) {
  std::vector<ablate::Override> parsed;
  for (const auto& item : overrides) parsed.push_back(ablate::parse_override(item));
  ablate::Registry registry;
  return ablate::load_experiment(file, parsed, registry);
}

/// The ConfigError loading `file` throws; the test fails if it throws none.
inline ablate::ConfigError load_error(const fs::path& file,
                                      const std::vector<std::string>& overrides = {}) {
  try {
    load(file, overrides);
  } catch (const ablate::ConfigError& error) {
    return error;
  }
  FAIL("loading " << file << " threw no ConfigError");
  throw std::logic_error("unreachable");
}

}  // namespace cfgtest
