#include "study/runner.hpp"

#include <fmt/format.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "ablate/error.hpp"
#include "config/suggest.hpp"
#include "runs/manifest.hpp"
#include "plugins/plugin_call.hpp"
#include "runs/run_dir.hpp"
#include "train/stop.hpp"
#include "util/atomic_file.hpp"
#include "util/program.hpp"

namespace fs = std::filesystem;

namespace ablate::study {
namespace {

// Stopping a local study: the signal handler may only touch lock-free atomics, so each worker
// publishes its child's pid in its own slot and the handler signals every published child.
constexpr std::size_t kMaxWorkers = 256;
std::atomic<bool> stop_requested{false};
std::atomic<int> running_children[kMaxWorkers];

extern "C" void request_stop(int) {
  stop_requested.store(true);
  for (auto& child : running_children)
    if (const int pid = child.load(); pid > 0) ::kill(pid, SIGTERM);
}

/// Installs request_stop for SIGINT and SIGTERM while alive; the previous handlers after.
class StopSignals {
 public:
  StopSignals() {
    struct sigaction action {};
    action.sa_handler = request_stop;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &action, &old_int_);
    ::sigaction(SIGTERM, &action, &old_term_);
  }
  ~StopSignals() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

Json read_summary(const fs::path& run_dir) {
  try {
    if (fs::exists(run_dir / "summary.json"))
      return Json::parse(read_file(run_dir / "summary.json"));
  } catch (const Error&) {
  }
  return {};
}

std::string text_member(const Json& object, const char* key) {
  const Json* value = object.is_object() ? object.find(key) : nullptr;
  return value && value->is_string() ? value->as_string() : std::string();
}

/// A run worth continuing: it has a checkpoint and did not finish ok.
bool resumable(const fs::path& run_dir) {
  return fs::exists(run_dir / "checkpoints" / "last.safetensors") &&
         text_member(read_summary(run_dir), "status") != "ok";
}

/// The last line mentioning an error in `text` (else its last non-empty line), trimmed; progress
/// redraws ("\r") keep only their last frame.
std::string last_error_line(const std::string& text) {
  std::string last, last_error, line;
  std::istringstream lines(text);
  while (std::getline(lines, line)) {
    if (const auto cr = line.find_last_of('\r'); cr != std::string::npos)
      line = line.substr(cr + 1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (line.empty()) continue;
    last = line;
    std::string lower = line;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (lower.find("error") != std::string::npos) last_error = line;
  }
  return last_error.empty() ? last : last_error;
}

}  // namespace

TrialStatus run_trial(const fs::path& study_dir, const std::string& id, const fs::path& binary,
                      const std::function<void(int pid)>& started,
                      const std::function<bool()>& interrupted) {
  const fs::path folder = trial_path(study_dir, id);
  if (!fs::exists(folder / "config.toml"))
    throw Error("trial '" + id + "' has no config.toml in " + folder.string());

  // Continue the run of an earlier attempt when it left a checkpoint; otherwise start afresh.
  const TrialStatus before = read_status(study_dir, id);
  std::optional<fs::path> previous;
  if (!before.run_dir.empty() && fs::exists(study_dir / before.run_dir))
    previous = study_dir / before.run_dir;
  else
    previous = latest_run_dir(folder);
  std::vector<std::string> argv{binary.string()};
  if (previous && resumable(*previous))
    argv.insert(argv.end(), {"resume", previous->string()});
  else
    argv.insert(argv.end(), {"run", (folder / "config.toml").string(), "--out", folder.string()});

  const fs::path output = folder / "output.txt";
  const std::uintmax_t output_start = fs::exists(output) ? fs::file_size(output) : 0;
  std::ofstream(output, std::ios::app) << "=== " << timestamp_now() << " " << join(argv, " ") << "\n";
  const std::set<fs::path> existing = run_dirs(folder);

  const auto start = std::chrono::steady_clock::now();
  TrialStatus status;
  status.status = "running";
  status.pid = start_program(argv, output);
  status.host = hostname();
  write_status(study_dir, id, status);
  if (started) started(status.pid);
  const ProgramExit exit = wait_program(status.pid);
  status.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  status.pid = 0;
  status.host.clear();

  // The run directory this attempt used: the one it resumed, or the one it created.
  std::optional<fs::path> run_dir = argv[1] == "resume" ? previous : std::nullopt;
  for (const fs::path& dir : run_dirs(folder))
    if (!existing.count(dir)) run_dir = dir;
  if (run_dir) status.run_dir = fs::relative(*run_dir, study_dir).string();
  const Json summary = run_dir ? read_summary(*run_dir) : Json();
  const std::string summary_status = text_member(summary, "status");

  status.exit_code = exit.exit_code;
  const bool crashed = exit.signal == SIGSEGV || exit.signal == SIGBUS || exit.signal == SIGFPE ||
                       exit.signal == SIGILL || exit.signal == SIGABRT;
  if (crashed) {  // the run's own fault (a plugin's, most often): failed, naming what it called
    status.signal = signal_name(exit.signal);
    status.status = "failed";
    const std::string text = read_file(output);
    const auto at = text.rfind(kCrashMarker);
    status.reason = at != std::string::npos && at >= output_start
                        ? "crashed: " + text.substr(at + std::strlen(kCrashMarker),
                                                    text.find('\n', at) - at - std::strlen(kCrashMarker))
                        : "crashed with " + status.signal;
  } else if (exit.signal != 0) {
    status.signal = signal_name(exit.signal);
    const bool stopping = exit.signal == SIGINT || (interrupted && interrupted());
    status.status = stopping ? "interrupted" : "killed";
    status.reason = (stopping ? "interrupted by " : "killed by ") + status.signal;
  } else if (exit.exit_code == 0 && summary_status == "ok") {
    status.status = "ok";
  } else if (summary_status == "interrupted") {  // the run stopped cleanly on SIGTERM / SIGINT
    status.status = "interrupted";
    status.reason = text_member(summary, "reason");
  } else if (summary_status == "diverged") {
    status.status = "diverged";
    status.reason = text_member(summary, "reason");
  } else {
    status.status = "failed";
    status.reason = text_member(summary, "reason");
    if (status.reason.empty()) {
      const std::string text = read_file(output);
      status.reason =
          last_error_line(text.substr(std::min<std::size_t>(output_start, text.size())));
    }
    if (status.reason.empty())
      status.reason = exit.exit_code == 0 ? "the run left no summary.json"
                                          : "exit code " + std::to_string(exit.exit_code);
  }
  write_status(study_dir, id, status);
  return status;
}

std::string progress_line(const fs::path& study_dir, const std::string& id,
                          const TrialStatus& status, std::size_t done, std::size_t total) {
  std::string line = fmt::format("[{}/{}] {}  {}", done, total, id, status.status);
  const Json summary = status.run_dir.empty() ? Json() : read_summary(study_dir / status.run_dir);
  if (const Json* accuracy = summary.is_object() ? summary.find("test_accuracy") : nullptr;
      accuracy && accuracy->is_number())
    line += fmt::format("  test_accuracy {:.4f}", accuracy->as_number());
  line += fmt::format("  {:.1f} s", status.seconds);
  if (!status.reason.empty()) line += "  (" + status.reason + ")";
  return line;
}

std::vector<TrialStatus> run_local(const fs::path& study_dir, const std::vector<std::string>& ids,
                                   int workers) {
  const std::size_t slots =
      std::clamp<std::size_t>(static_cast<std::size_t>(std::max(workers, 1)), 1,
                              std::min(kMaxWorkers, std::max<std::size_t>(ids.size(), 1)));
  stop_requested.store(false);
  const StopSignals stop_signals;
  const fs::path binary = current_executable();
  std::vector<TrialStatus> statuses(ids.size());
  std::atomic<std::size_t> next{0};
  std::size_t done = 0;
  std::mutex print;

  auto work = [&](std::size_t slot) {
    for (;;) {
      if (stop_requested.load()) return;
      const std::size_t i = next++;
      if (i >= ids.size()) return;
      TrialStatus status;
      try {
        status = run_trial(
            study_dir, ids[i], binary,
            [&](int pid) {
              running_children[slot].store(pid);
              if (stop_requested.load()) ::kill(pid, SIGTERM);  // the signal came before the pid
            },
            [] { return stop_requested.load(); });
      } catch (const std::exception& e) {  // the trial could not even start: it fails alone
        status.status = "failed";
        status.reason = e.what();
        try {
          write_status(study_dir, ids[i], status);
        } catch (const std::exception&) {
        }
      }
      running_children[slot].store(0);
      statuses[i] = status;
      const std::lock_guard lock(print);
      std::cout << progress_line(study_dir, ids[i], status, ++done, ids.size()) << std::endl;
    }
  };
  {
    std::vector<std::jthread> threads;
    for (std::size_t slot = 0; slot < slots; ++slot) threads.emplace_back(work, slot);
  }
  return statuses;
}

bool was_interrupted() { return stop_requested.load(); }

}  // namespace ablate::study
