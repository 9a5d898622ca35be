#include "runs/run_dir.hpp"

#include <fmt/format.h>

#include <ctime>
#include <random>

#include "ablate/error.hpp"
#include "util/atomic_file.hpp"

namespace ablate {

std::string timestamp_now() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  ::localtime_r(&now, &local);
  return fmt::format("{:04}{:02}{:02}-{:02}{:02}{:02}", local.tm_year + 1900, local.tm_mon + 1,
                     local.tm_mday, local.tm_hour, local.tm_min, local.tm_sec);
}

std::string utc_time_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

namespace {

constexpr const char* kMetricsFile = "metrics.jsonl";
constexpr const char* kConfigFile = "config.toml";

}  // namespace

void check_folder_name(const std::string& name, const std::string& what) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos)
    throw Error(what + " '" + name +
                "' cannot be a folder name (it must be non-empty, without '/', and not '.' or "
                "'..')");
}

RunDirectory RunDirectory::create(const std::filesystem::path& root, const std::string& experiment,
                                  const std::string& config_toml) {
  check_folder_name(experiment, "experiment name");
  const std::filesystem::path parent = root / experiment;
  create_folders(parent);
  // A random id, and create_directory failing on an existing folder, keep runs apart even when
  // several start in the same second (a sweep with -j N). The folder is filled in under a hidden
  // name and renamed: a run directory is never seen without its config.toml, so a run killed at
  // its first instant is still resumable (or invisible).
  std::random_device entropy;
  std::uniform_int_distribution<std::uint32_t> six_hex_digits(0, 0xFFFFFF);
  std::error_code error;
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const std::string name = fmt::format("{}-{:06x}", timestamp_now(), six_hex_digits(entropy));
    const std::filesystem::path staging = parent / ("." + name + ".partial");
    if (!std::filesystem::create_directory(staging, error)) {
      if (error) throw Error("cannot create " + staging.string() + ": " + error.message(), staging.string());
      continue;
    }
    // Locked from its first instant: the lock file's descriptor survives the rename.
    DirectoryLock lock(staging, "run directory");
    write_atomic(staging / kConfigFile, config_toml);
    // rename(2) replaces only an empty folder, and every run folder holds its config: a name
    // taken meanwhile fails here (never clobbered), and the next attempt draws another.
    const std::filesystem::path dir = parent / name;
    std::filesystem::rename(staging, dir, error);
    if (!error) return RunDirectory(dir, std::move(lock));
    std::filesystem::remove_all(staging);
    if (error != std::errc::directory_not_empty && error != std::errc::file_exists)
      throw Error("cannot rename " + staging.string() + " to " + dir.string() + ": " +
                      error.message(),
                  dir.string());
  }
  throw Error("cannot find an unused run folder name under " + parent.string(), parent.string());
}

RunDirectory RunDirectory::open(const std::filesystem::path& dir) {
  // A path that is not a run directory is a usage error (exit code 2), not a failed run.
  if (!std::filesystem::is_directory(dir))
    throw ConfigError("no run directory at " + dir.string());
  if (!std::filesystem::is_regular_file(dir / kConfigFile))
    throw ConfigError(dir.string() + " is not a run directory (it has no " + kConfigFile + ")");
  DirectoryLock lock(dir, "run directory");  // before touching anything another writer may own
  remove_temporary_files(dir);
  return RunDirectory(dir, std::move(lock));
}

std::filesystem::path RunDirectory::file(const std::string& relative) const {
  const std::filesystem::path name = std::filesystem::path(relative).lexically_normal();
  if (relative.empty() || name.is_absolute() || *name.begin() == "..")
    throw Error("'" + relative + "' is not a file inside the run directory " + path_.string());
  return path_ / name;
}

void RunDirectory::write(const std::string& relative, const std::string& contents) const {
  const std::filesystem::path target = file(relative);
  create_folders(target.parent_path());
  write_atomic(target, contents);
}

std::string RunDirectory::read(const std::string& relative) const {
  return read_file(file(relative));
}

bool RunDirectory::exists(const std::string& relative) const {
  return std::filesystem::exists(file(relative));
}

std::vector<std::string> RunDirectory::metric_lines() const {
  std::vector<std::string> lines;
  if (!exists(kMetricsFile)) return lines;
  const std::string text = read(kMetricsFile);
  // Lines end in '\n'; an unterminated last line is a row a power cut cut short, never whole.
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
    if (end > start) lines.push_back(text.substr(start, end - start));
  return lines;
}

void RunDirectory::append_metrics(const Json& row) {
  if (!row.is_object()) throw Error("a metrics row must be a JSON object, not " + row.dump());
  if (!metrics_) metrics_.emplace(file(kMetricsFile));
  metrics_->append(row.dump() + '\n');
}

void RunDirectory::sync_metrics() {
  if (metrics_) metrics_->sync();
}

std::vector<Json> RunDirectory::metrics() const {
  std::vector<Json> rows;
  const std::string where = (path_ / kMetricsFile).string();
  std::size_t line_number = 0;
  for (const std::string& line : metric_lines()) {
    ++line_number;
    Json row = Json::parse(line, fmt::format("{} row {}", where, line_number));
    if (!row.is_object())
      throw Error(fmt::format("{} row {} is not a JSON object", where, line_number), where);
    rows.push_back(std::move(row));
  }
  return rows;
}

void RunDirectory::keep_metrics(std::size_t rows) {
  const std::vector<std::string> lines = metric_lines();
  if (lines.size() < rows)
    throw Error(fmt::format("{} has {} rows, but the checkpoint counts {}",
                            (path_ / kMetricsFile).string(), lines.size(), rows),
                (path_ / kMetricsFile).string());
  std::string text;
  for (std::size_t i = 0; i < rows; ++i) text += lines[i] + '\n';
  if (exists(kMetricsFile) ? read(kMetricsFile) == text : rows == 0) return;
  metrics_.reset();  // the file is replaced: appends go to the new one
  write(kMetricsFile, text);
}

}  // namespace ablate
