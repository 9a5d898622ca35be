// Test orderer for the study tests: plain training (like `all`) in two stages, that can fail on
// purpose or pause between its stages so a test can kill a run that already has a checkpoint.
// The pause happens only in a fresh run: a run resumed from a checkpoint (load() called) goes on.
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "ablate/error.hpp"
#include "ablate/orderer.hpp"

namespace {

// A real SIGSEGV, under the sanitize preset too: UBSan would report the null store and abort
// (SIGABRT) before the fault happened, so its check is off here.
[[gnu::noinline, gnu::no_sanitize("undefined")]] void store_to_address_zero() {
  volatile int* volatile nowhere = nullptr;  // volatile both: a real store to address 0
  *nowhere = 1;
}

class StudyProbe final : public ablate::Orderer {
 public:
  explicit StudyProbe(const ablate::Params& p)
      : fail_(p.string("fail")), crash_(p.string("crash")), pause_seconds_(p.real("pause_seconds")) {}

  std::optional<ablate::Stage> next(const ablate::OrderContext& ctx) override {
    if (!fail_.empty()) throw ablate::Error(fail_);
    if (crash_ == "throw") throw std::runtime_error("probe threw on purpose");
    if (crash_ == "abort") std::abort();
    if (crash_ == "segfault") store_to_address_zero();
    if (ctx.stage == 0) return ablate::Stage{ablate::UnitSelection::everything(), 1, -1, "first"};
    if (ctx.stage > 1 || ctx.epochs < 2) return std::nullopt;
    if (!resumed_ && pause_seconds_ > 0)
      std::this_thread::sleep_for(std::chrono::duration<double>(pause_seconds_));
    return ablate::Stage{ablate::UnitSelection::everything(), ctx.epochs - 1, -1, "rest"};
  }
  void load(const ablate::StateStore&, const std::string&) override { resumed_ = true; }

 private:
  std::string fail_, crash_;
  double pause_seconds_;
  bool resumed_ = false;
};

ablate::PluginInfo info() {
  using namespace ablate;
  return {kAbiVersion,
          Kind::orderer,
          "study_probe",
          "1.0",
          "test orderer: fails on purpose, or pauses after its first epoch in a fresh run",
          {text("fail", "", "when not empty: throw this message instead of training"),
           text("crash", "",
                "throw, abort or segfault: crash on purpose: throw a std::exception, abort(), or write through null"),
           real("pause_seconds", 0.0, 0.0, 3600.0,
                "seconds to pause after the first epoch (fresh runs only)")}};
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& p) {
  return std::make_unique<StudyProbe>(p);
}

}  // namespace

ABLATE_PLUGIN(info, create)
