#pragma once
// Logging through spdlog: a colour console logger named "ablate" (the default logger), the run's
// log.txt beside it, and a live progress line for a terminal.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "runs/json.hpp"

namespace ablate {

/// Makes the "ablate" logger (colour, on stdout) the default: info and above, debug too when
/// `verbose`. Calling it again starts over (and stops writing any run log).
void setup_console_logging(bool verbose);

/// Also writes everything logged to `file` (appending, as a resumed run continues its log),
/// flushed at every info message or above so a killed run loses nothing it logged. Replaces the
/// previous run's log, if any. An Error naming the file if it cannot be opened.
void add_run_log(const std::filesystem::path& file);

/// Stops writing the run log (a run has ended and the process goes on).
void close_run_log();

/// One state of the live line; accuracy is a fraction in [0, 1].
struct ProgressFigures {
  int epoch = 0, epochs = 0;
  std::int64_t step = 0, steps = 0;
  double loss = 0, accuracy = 0, samples_per_second = 0;
  std::optional<double> eta_seconds;  // unknown until some steps were timed
};

/// "epoch 3/20  step 1200/1875  loss 0.4123  acc 85.21%  12345 samples/s  ETA 4m05s"
std::string progress_line(const ProgressFigures& figures);

/// "42s", "4m05s", "1h02m".
std::string short_duration(double seconds);

/// Training progress. On a terminal, a live line redrawn in place (at most ~10 times a second)
/// and, per epoch, a logged summary line; elsewhere (a file, a pipe, a sweep's trial) only the
/// summary lines, so logs stay one line per epoch.
class Progress {
 public:
  enum class Display { automatic, live, plain };  // automatic: live when stdout is a terminal

  /// Epochs and steps count from 1 in the calls below.
  Progress(int epochs, std::int64_t steps_per_epoch, Display display = Display::automatic);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// The run's epochs, once known (an orderer's stages decide them: Orderer::planned_epochs).
  void set_epochs(int epochs) { epochs_ = epochs; }

  /// Called every training step; cheap when it does not redraw.
  void step(int epoch, std::int64_t step, double loss, double accuracy, double samples_per_second);
  /// Called after every unit a hashtron epoch fits: `index` of `layer`, the `done`-th of `total`.
  void unit_done(int epoch, const std::string& layer, int index, std::int64_t done,
                 std::int64_t total);
  /// Replaces the live line with `summary_line`, logged at info as "epoch E/N  <summary_line>".
  void epoch_done(int epoch, const std::string& summary_line);

  /// Where the run is, for `ablate dashboard` (the run's progress.json): `sink` gets
  /// {"epoch", "epochs", "step", "steps"} and, in a hashtron epoch, {"layer", "unit",
  /// "units_done", "units_total"}, at most twice a second and at every epoch's end.
  void report_state_to(std::function<void(const Json&)> sink) { state_sink_ = std::move(sink); }

 private:
  using Clock = std::chrono::steady_clock;

  int epochs_;
  std::int64_t steps_per_epoch_;
  bool live_;
  bool state_due(bool now);  // a sink, and half a second since the last report (or `now`)
  Json epoch_state(int epoch) const;  // {"epoch", "epochs"}, the start of every report
  void report_state(Json state);

  std::optional<Clock::time_point> last_draw_;
  std::function<void(const Json&)> state_sink_;
  std::optional<Clock::time_point> last_state_;
  // Where timing started (the first step seen, so a resumed run estimates from its own pace).
  std::optional<Clock::time_point> first_time_;
  std::int64_t first_done_ = 0;
};

}  // namespace ablate
