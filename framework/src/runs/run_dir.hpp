#pragma once
// A run directory (docs/ARCHITECTURE.md, "Run directory"): every file in it is replaced
// atomically (util/atomic_file.hpp), so a run killed at any moment leaves whole files only.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "runs/json.hpp"
#include "util/atomic_file.hpp"
#include "util/dir_lock.hpp"

namespace ablate {

/// An Error unless `name` can be one folder's name (non-empty, no '/', not "." or ".."), naming
/// it as `what` ("experiment name").
void check_folder_name(const std::string& name, const std::string& what);

/// The local time as yyyymmdd-hhmmss (run and study folder names).
std::string timestamp_now();

/// The UTC time as ISO 8601, 2026-12-07T05:35:20Z (what a file records as its creation).
std::string utc_time_now();

class RunDirectory {
 public:
  /// Makes `root`/<experiment>/<yyyymmdd-hhmmss>-<6 hex id>/ (local time) holding `config_toml`
  /// as config.toml, creating `root` as needed; the folder appears with its config already in it,
  /// and is never reused, even for runs started in the same second.
  /// An Error if `experiment` is not usable as a folder name.
  static RunDirectory create(const std::filesystem::path& root, const std::string& experiment,
                             const std::string& config_toml);

  /// An existing run, for resume: a folder holding config.toml (the first file a run writes).
  /// Removes the temporaries a killed writer left behind.
  /// Both hold the folder's lock while the object lives: a BusyError (nothing written) when
  /// another process has it, e.g. a second `ablate resume` of a run still training.
  static RunDirectory open(const std::filesystem::path& dir);

  const std::filesystem::path& path() const { return path_; }

  /// Replaces the file `relative` (e.g. "checkpoints/last.safetensors") atomically, creating its
  /// folders. `relative` must stay inside the run directory.
  void write(const std::string& relative, const std::string& contents) const;
  std::string read(const std::string& relative) const;
  bool exists(const std::string& relative) const;

  /// metrics.jsonl: one JSON object per line, appended (util/atomic_file.hpp, AppendOnlyFile):
  /// the file only ever holds whole rows, and an append costs the same at row 10 and row 10^6.
  void append_metrics(const Json& row);
  /// Puts the rows appended so far on the disk (before a checkpoint that counts them).
  void sync_metrics();
  /// Every row; an Error naming the line when one is not a JSON object.
  std::vector<Json> metrics() const;
  /// Keeps the first `rows` rows (on resume: drops rows written after the checkpoint).
  /// An Error if fewer rows exist: the file and the checkpoint disagree.
  void keep_metrics(std::size_t rows);

 private:
  RunDirectory(std::filesystem::path path, DirectoryLock lock)
      : path_(std::move(path)), lock_(std::move(lock)) {}
  std::filesystem::path file(const std::string& relative) const;
  std::vector<std::string> metric_lines() const;

  std::filesystem::path path_;
  DirectoryLock lock_;
  std::optional<AppendOnlyFile> metrics_;  // opened at the first append
};

}  // namespace ablate
