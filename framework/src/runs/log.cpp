#include "runs/log.hpp"

#include <fmt/format.h>
#include <spdlog/sinks/ansicolor_sink.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mutex>

#include "ablate/error.hpp"

namespace ablate {
namespace {

constexpr const char* kConsolePattern = "[%H:%M:%S] %^%l%$ %v";
constexpr const char* kFilePattern = "[%Y-%m-%d %H:%M:%S.%e] [%l] %v";
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);
constexpr const char* kEraseLine = "\r\x1b[K";

/// Colour lines on stdout that first erase the live progress line, when one is showing, so a
/// message logged mid-epoch never lands on the end of it.
class ConsoleSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  void draw_status(const std::string& line) {
    std::lock_guard lock(mutex_);
    std::fputs(kEraseLine, stdout);
    std::fputs(line.c_str(), stdout);
    std::fflush(stdout);
    status_shown_ = true;
  }

  void erase_status() {
    std::lock_guard lock(mutex_);
    erase_status_locked();
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& message) override {
    erase_status_locked();
    inner_.log(message);
  }
  void flush_() override { inner_.flush(); }
  void set_pattern_(const std::string& pattern) override { inner_.set_pattern(pattern); }
  void set_formatter_(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_.set_formatter(std::move(formatter));
  }

 private:
  void erase_status_locked() {
    if (!status_shown_) return;
    std::fputs(kEraseLine, stdout);
    std::fflush(stdout);
    status_shown_ = false;
  }

  spdlog::sinks::ansicolor_stdout_sink_st inner_;  // guarded by this sink's mutex
  bool status_shown_ = false;
};

std::shared_ptr<ConsoleSink>& console_sink() {
  static std::shared_ptr<ConsoleSink> sink;
  return sink;
}

std::shared_ptr<spdlog::sinks::sink>& run_log_sink() {
  static std::shared_ptr<spdlog::sinks::sink> sink;
  return sink;
}

void draw_status(const std::string& line) {
  if (auto& sink = console_sink()) return sink->draw_status(line);
  std::fputs(kEraseLine, stdout);
  std::fputs(line.c_str(), stdout);
  std::fflush(stdout);
}

void erase_status() {
  if (auto& sink = console_sink()) return sink->erase_status();
  std::fputs(kEraseLine, stdout);
  std::fflush(stdout);
}

}  // namespace

void setup_console_logging(bool verbose) {
  close_run_log();
  console_sink() = std::make_shared<ConsoleSink>();
  console_sink()->set_pattern(kConsolePattern);
  auto logger = std::make_shared<spdlog::logger>("ablate", console_sink());
  logger->set_level(verbose ? spdlog::level::debug : spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
}

void add_run_log(const std::filesystem::path& file) {
  close_run_log();
  std::shared_ptr<spdlog::sinks::basic_file_sink_mt> sink;
  try {
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file.string(), /*truncate=*/false);
  } catch (const spdlog::spdlog_ex& e) {
    throw Error("cannot open the run log " + file.string() + ": " + e.what(), file.string());
  }
  sink->set_pattern(kFilePattern);
  auto logger = spdlog::default_logger();
  logger->sinks().push_back(sink);
  logger->flush_on(spdlog::level::info);
  run_log_sink() = std::move(sink);
}

void close_run_log() {
  auto& sink = run_log_sink();
  if (!sink) return;
  auto& sinks = spdlog::default_logger()->sinks();
  sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
  sink->flush();
  sink.reset();
}

std::string short_duration(double seconds) {
  const auto total = static_cast<std::int64_t>(std::llround(std::max(0.0, seconds)));
  if (total < 60) return fmt::format("{}s", total);
  if (total < 3600) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}h{:02}m", total / 3600, total % 3600 / 60);
}

std::string progress_line(const ProgressFigures& f) {
  return fmt::format("epoch {}/{}  step {}/{}  loss {:.4f}  acc {:.2f}%  {:.0f} samples/s  ETA {}",
                     f.epoch, f.epochs, f.step, f.steps, f.loss, 100 * f.accuracy,
                     f.samples_per_second, f.eta_seconds ? short_duration(*f.eta_seconds) : "--");
}

Progress::Progress(int epochs, std::int64_t steps_per_epoch, Display display)
    : epochs_(epochs),
      steps_per_epoch_(steps_per_epoch),
      live_(display == Display::live ||
            (display == Display::automatic && ::isatty(STDOUT_FILENO) == 1)) {}

Progress::~Progress() {
  if (live_ && last_draw_) erase_status();
}

void Progress::step(int epoch, std::int64_t step, double loss, double accuracy,
                    double samples_per_second) {
  if (state_due(false)) {  // checked first: a step between reports allocates nothing
    Json state = epoch_state(epoch);
    state["step"] = step;
    state["steps"] = steps_per_epoch_;
    report_state(std::move(state));
  }
  if (!live_) return;
  const Clock::time_point now = Clock::now();
  const std::int64_t done = static_cast<std::int64_t>(epoch - 1) * steps_per_epoch_ + step;
  if (!first_time_) {
    first_time_ = now;
    first_done_ = done;
  }
  if (last_draw_ && now - *last_draw_ < kRedrawInterval) return;
  last_draw_ = now;

  ProgressFigures figures{
      epoch, epochs_, step, steps_per_epoch_, loss, accuracy, samples_per_second, std::nullopt};
  const double elapsed = std::chrono::duration<double>(now - *first_time_).count();
  if (done > first_done_ && elapsed > 0) {
    const auto remaining =
        static_cast<double>(static_cast<std::int64_t>(epochs_) * steps_per_epoch_ - done);
    figures.eta_seconds = elapsed / static_cast<double>(done - first_done_) * remaining;
  }
  draw_status(progress_line(figures));
}

void Progress::unit_done(int epoch, const std::string& layer, int index, std::int64_t done,
                         std::int64_t total) {
  if (state_due(false)) {
    Json state = epoch_state(epoch);
    state["layer"] = layer;
    state["unit"] = index;
    state["units_done"] = done;
    state["units_total"] = total;
    report_state(std::move(state));
  }
  if (!live_) return;
  const Clock::time_point now = Clock::now();
  if (last_draw_ && now - *last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  draw_status(fmt::format("epoch {}  layer {}  unit {}  fit {}/{}", epoch, layer, index, done, total));
}

Json Progress::epoch_state(int epoch) const {
  Json state = Json::object();
  state["epoch"] = epoch;
  state["epochs"] = epochs_;
  return state;
}

bool Progress::state_due(bool now) {
  if (!state_sink_) return false;
  const Clock::time_point t = Clock::now();
  if (!now && last_state_ && t - *last_state_ < std::chrono::milliseconds(500)) return false;
  last_state_ = t;
  return true;
}

void Progress::report_state(Json state) {
  state["updated"] = std::chrono::duration<double>(
                         std::chrono::system_clock::now().time_since_epoch()).count();
  state_sink_(state);
}

void Progress::epoch_done(int epoch, const std::string& summary_line) {
  if (live_ && last_draw_) {
    erase_status();
    last_draw_.reset();  // draw the next epoch's first step at once
  }
  spdlog::info("epoch {}/{}  {}", epoch, epochs_, summary_line);
  if (state_due(true)) {
    Json state = epoch_state(epoch);
    state["epoch_done"] = true;
    report_state(std::move(state));
  }
}

}  // namespace ablate
