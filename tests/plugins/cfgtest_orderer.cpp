// Test plugin for the configuration tests: an orderer that trains every unit for the
// experiment's epochs, `repeat` times.
#include "ablate/orderer.hpp"

namespace {

class CfgRepeat : public ablate::Orderer {
 public:
  explicit CfgRepeat(const ablate::Params& params) : repeat_(params.integer("repeat")) {}
  std::optional<ablate::Stage> next(const ablate::OrderContext& ctx) override {
    if (ctx.stage >= repeat_) return std::nullopt;
    return ablate::Stage{ablate::UnitSelection::everything(), ctx.epochs, -1,
                         "all " + std::to_string(ctx.stage + 1)};
  }

 private:
  std::int64_t repeat_;
};

ablate::PluginInfo info() {
  using namespace ablate;
  return {kAbiVersion,
          Kind::orderer,
          "cfg_repeat",
          "1.0",
          "configuration-test orderer",
          {integer("repeat", 1, 1, 100, "how many times everything trains")}};
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  return std::make_unique<CfgRepeat>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
