// The null orderer: one stage in which every unit trains for train.epochs: plain training.
#include "ablate/orderer.hpp"

namespace {

class All final : public ablate::Orderer {
 public:
  std::optional<ablate::Stage> next(const ablate::OrderContext& ctx) override {
    if (ctx.stage > 0) return std::nullopt;
    return ablate::Stage{ablate::UnitSelection::everything(), ctx.epochs, -1, "all"};
  }
  int planned_epochs(const ablate::UnitGraph&, int epochs) const override { return epochs; }
};

const ablate::PluginInfo& info() {
  static const ablate::PluginInfo record{
      ablate::kAbiVersion, ablate::Kind::orderer, "all", "1.0",
      "every unit trains together for train.epochs (plain training)", {}};
  return record;
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params&) { return std::make_unique<All>(); }

}  // namespace

ABLATE_PLUGIN(info, create)
