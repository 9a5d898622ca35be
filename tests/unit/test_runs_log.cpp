#include <fcntl.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <chrono>
#include <regex>
#include <sstream>
#include <thread>

#include "runs/log.hpp"
#include "support.hpp"

using ablate::Progress;
namespace fs = std::filesystem;

namespace {

/// Sends stdout (the file descriptor, so spdlog's and printf's output alike) to a file while alive.
class CapturedStdout {
 public:
  explicit CapturedStdout(fs::path file) : file_(std::move(file)) {
    std::fflush(stdout);
    saved_ = dup(STDOUT_FILENO);
    const int fd = open(file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, STDOUT_FILENO);
    close(fd);
  }
  ~CapturedStdout() { restore(); }
  std::string text() {
    restore();
    return ablate::test::read_text(file_);
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stdout);
    dup2(saved_, STDOUT_FILENO);
    close(saved_);
    saved_ = -1;
  }
  fs::path file_;
  int saved_ = -1;
};

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("the progress line shows epoch, step, loss, accuracy, speed and ETA", "[runs]") {
  ablate::ProgressFigures figures{3, 20, 1200, 1875, 0.41234, 0.85214, 12345.4, 245.0};
  CHECK(ablate::progress_line(figures) ==
        "epoch 3/20  step 1200/1875  loss 0.4123  acc 85.21%  12345 samples/s  ETA 4m05s");
  figures.eta_seconds.reset();
  CHECK_THAT(ablate::progress_line(figures), Catch::EndsWith("ETA --"));
  CHECK(ablate::short_duration(0.4) == "0s");
  CHECK(ablate::short_duration(42) == "42s");
  CHECK(ablate::short_duration(3599) == "59m59s");
  CHECK(ablate::short_duration(3720) == "1h02m");
  CHECK(ablate::short_duration(-5) == "0s");
}

TEST_CASE("progress off a terminal: nothing per step, one info line per epoch", "[runs]") {
  ablate::setup_console_logging(false);
  std::ostringstream logged;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_st>(logged);
  sink->set_pattern("%l %v");
  spdlog::default_logger()->sinks().push_back(sink);

  ablate::test::TempDir dir("ablate-log");
  CapturedStdout out(dir / "stdout.txt");
  {
    Progress progress(5, 100, Progress::Display::plain);
    for (int step = 1; step <= 100; ++step) progress.step(2, step, 0.5, 0.75, 1000);
    progress.epoch_done(2, "loss 0.5000  train 75.00%");
  }
  const std::string printed = out.text();
  spdlog::default_logger()->sinks().pop_back();

  CHECK(logged.str() == "info epoch 2/5  loss 0.5000  train 75.00%\n");
  CHECK(count(printed, "\r") == 0);
  CHECK(count(printed, "epoch 2/5") == 1);  // the console logger's line
}

TEST_CASE("progress on a terminal redraws one line at most ten times a second", "[runs]") {
  ablate::setup_console_logging(false);
  ablate::test::TempDir dir("ablate-log");
  CapturedStdout out(dir / "stdout.txt");
  const auto start = std::chrono::steady_clock::now();
  {
    Progress progress(3, 1000, Progress::Display::live);
    for (int step = 1; step <= 1000; ++step) {
      progress.step(1, step, 1.0 / step, 0.5, 2000);
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
    spdlog::warn("a message mid-epoch");
    progress.epoch_done(1, "loss 0.0010");
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string printed = out.text();

  const std::size_t draws = count(printed, "epoch 1/3  step ");
  CHECK(draws >= 2);
  CHECK(static_cast<double>(draws) <= seconds * 10 + 1);
  CHECK(count(printed, "\n") == 2);  // the live line never scrolls: only the logged lines end lines
  CHECK_THAT(printed,
             Catch::Contains("step 1/1000  loss 1.0000  acc 50.00%  2000 samples/s  ETA --"));
  CHECK(std::regex_search(printed, std::regex("step [0-9]+/1000 .* ETA [0-9]+s")));
  // A logged message first erases the live line, so it starts at the left margin.
  const auto warning = printed.find("a message mid-epoch");
  REQUIRE(warning != std::string::npos);
  CHECK(printed.rfind("\r\x1b[K", warning) > printed.rfind("samples/s", warning));
  CHECK_THAT(printed, Catch::Contains("epoch 1/3  loss 0.0010"));
}

TEST_CASE("the run log gets every message at once, and can be replaced", "[runs]") {
  ablate::setup_console_logging(false);
  ablate::test::TempDir dir("ablate-log");
  const fs::path first = dir / "run1" / "log.txt", second = dir / "run2" / "log.txt";
  ablate::test::write_text(first, "from before the resume\n");
  std::string before_close;
  {
    CapturedStdout quiet(dir / "stdout.txt");
    ablate::add_run_log(first);
    spdlog::info("training started");
    // Not flushed by anyone: a kill -9 here must still find the line in the file.
    before_close = ablate::test::read_text(first);
    spdlog::debug("hidden unless verbose");
    spdlog::warn("careful");
    ablate::add_run_log(second);
    spdlog::info("second run");
    ablate::close_run_log();
    spdlog::info("after the run");
  }
  CHECK_THAT(before_close, Catch::StartsWith("from before the resume\n") &&
                               Catch::Contains("[info] training started\n"));
  const std::string one = ablate::test::read_text(first), two = ablate::test::read_text(second);
  CHECK_THAT(one, Catch::Contains("[warning] careful"));
  CHECK_THAT(one, !Catch::Contains("hidden unless verbose") && !Catch::Contains("second run"));
  CHECK_THAT(two, Catch::Contains("second run") && !Catch::Contains("after the run"));
  CHECK_THROWS_WITH(ablate::add_run_log(dir / "run1" / "log.txt" / "nested"),
                    Catch::Contains("cannot open the run log"));
}
