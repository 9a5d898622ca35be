#pragma once
// Helpers shared by the tests: temporary folders, running the `ablate` binary, reading files.
#include <algorithm>
#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <vector>

#include "util/program.hpp"

namespace ablate::test {

/// A fresh folder under the system temp dir, removed when the object dies.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "ablate") {
    std::random_device device;
    path_ = std::filesystem::temp_directory_path() /
            (tag + "-" + std::to_string(device()) + std::to_string(device()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void write_text(const std::filesystem::path& file, const std::string& text) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

/// metrics.jsonl (or any JSON text) with its clock fields ("elapsed_s", "duration_s") set to 0:
/// what a re-run with the same seed and threads reproduces byte for byte.
inline std::string without_clock(const std::string& text) {
  static const std::regex clock(R"re("(elapsed_s|duration_s)":-?[0-9.eE+-]+)re");
  return std::regex_replace(text, clock, "\"$1\":0");
}

inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

/// Runs a shell command, capturing its output.
inline CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> chunk{};
  while (std::fgets(chunk.data(), static_cast<int>(chunk.size()), pipe)) result.output += chunk.data();
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

/// `ablate ARGS`, with the build's plugins only (the user's ABLATE_PLUGIN_PATH ignored).
inline CommandResult run_ablate(const std::string& args) {
  return run_command("env -u ABLATE_PLUGIN_PATH " + std::string(ABLATE_BINARY) + " " + args);
}

/// The run directory `ablate run` printed last (its final non-empty line).
inline std::filesystem::path run_dir_of(const CommandResult& r) {
  std::string last, line;
  std::istringstream lines(r.output);
  while (std::getline(lines, line))
    if (!line.empty()) last = line;
  return last;
}

/// The run directory `ablate run --out OUT` made under OUT/<experiment>/ (the newest, if several),
/// or empty while there is none. Hidden folders are runs still being set up.
inline std::filesystem::path newest_run_in(const std::filesystem::path& out,
                                           const std::string& experiment) {
  std::filesystem::path newest;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(out / experiment, ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (newest.empty() || name > newest.filename().string()) newest = e.path();
  }
  return newest;
}

inline std::size_t count_lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

/// The study directory `ablate sweep` / `ablate reproduce` printed ("... trials planned in DIR"),
/// or empty when it printed none.
inline std::filesystem::path study_dir_of(const CommandResult& r) {
  const std::string marker = "trials planned in ";
  const auto at = r.output.find(marker);
  if (at == std::string::npos) return {};
  const auto end = r.output.find('\n', at);
  return r.output.substr(at + marker.size(), end - at - marker.size());
}

/// A run killed mid-way: its run directory, and how the process ended.
struct KilledRun {
  std::filesystem::path dir;  // empty if `ready` never held before the timeout
  ProgramExit exit;
};

/// Starts `ablate run ARGS` (ARGS ending with its --out OUT), waits until `ready(dir)` holds for
/// the run directory it makes under OUT/<experiment>/, then sends `signal` (SIGKILL unless told)
/// and reaps it. On timeout it is signalled all the same and `dir` is empty. `env` ("K=V ...")
/// goes before the binary on its env command line.
inline KilledRun kill_run_when(const std::vector<std::string>& args,
                               const std::filesystem::path& out, const std::string& experiment,
                               const std::function<bool(const std::filesystem::path&)>& ready,
                               std::chrono::seconds timeout, const std::filesystem::path& log,
                               int signal = SIGKILL, const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv{"env", "-u", "ABLATE_PLUGIN_PATH"};
  argv.insert(argv.end(), env.begin(), env.end());
  argv.insert(argv.end(), {ABLATE_BINARY, "run"});
  argv.insert(argv.end(), args.begin(), args.end());
  const int pid = start_program(argv, log);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::filesystem::path dir;
  while (std::chrono::steady_clock::now() < deadline) {
    dir = newest_run_in(out, experiment);
    if (!dir.empty() && ready(dir)) break;
    dir.clear();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, signal);
  return {dir, wait_program(pid)};
}

/// A study with a [regime]: digits, learning rates 0.1 and 0.02 at 1, 3 and 30 epochs, 5 seeds
/// (30 trials, a few seconds). Its first finding claims epochs 1 and 3 and holds; its second
/// claims every value and fails (exit 3).
inline constexpr const char* kRegimeStudy = R"toml([experiment]
name = "regime"
seeds = [1, 2, 3, 4, 5]

[dataset]
plugin = "digits"

[topology]
plugin = "mlp"
hidden = [32]

[train]
lr = 0.1
batch_size = 64
threads = 1

[regime]
key = "train.epochs"
values = [1, 3, 30]

[[arm]]
name = "fast"

[[arm]]
name = "slow"
set = { "train.lr" = 0.02 }

[[expect]]
finding = "a 5x larger learning rate is 5 points ahead early in training"
check = "diff_ci95(fast.test_accuracy, slow.test_accuracy) > 0.05"
holds_for = [1, 3]

[[expect]]
finding = "a 5x larger learning rate is 5 points ahead however long it trains"
check = "diff_ci95(fast.test_accuracy, slow.test_accuracy) > 0.05"
)toml";

}  // namespace ablate::test
