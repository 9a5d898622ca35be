// Orderer `@name@`: which units train next and for how long (ablate/orderer.hpp). As written it
// trains every unit in `stages` equal stages of train.epochs / stages epochs each; change next()
// to choose units (ctx.graph, ctx.sums, ctx.zones) and lengths.
#include <algorithm>

#include "ablate/orderer.hpp"
#include "ablate/state.hpp"

namespace {

class @Name@ final : public ablate::Orderer {
 public:
  explicit @Name@(const ablate::Params& params)
      : stages_(static_cast<int>(params.integer("stages"))) {}

  /// The next stage, or none when training is done.
  std::optional<ablate::Stage> next(const ablate::OrderContext& ctx) override {
    if (done_ >= stages_) return std::nullopt;
    ablate::Stage stage;
    stage.units = ablate::UnitSelection::everything();
    stage.epochs = std::max(1, ctx.epochs / stages_);
    stage.label = "stage " + std::to_string(done_);
    ++done_;
    return stage;
  }

  /// The position survives a checkpoint: a resumed run continues where it stopped.
  void save(ablate::StateStore& out, const std::string& prefix) const override {
    out.put(prefix + "done", std::vector<std::int64_t>{done_});
  }
  void load(const ablate::StateStore& in, const std::string& prefix) override {
    done_ = static_cast<int>(in.integers(prefix + "done").at(0));
  }

 private:
  int stages_;
  int done_ = 0;  // stages handed out
};

ablate::PluginInfo info() {
  return {ablate::kAbiVersion, ablate::Kind::orderer, "@name@", "0.1",
          "every unit trains, in `stages` equal stages",
          {ablate::integer("stages", 1, 1, 1000, "stages train.epochs is split into")}};
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  return std::make_unique<@Name@>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
