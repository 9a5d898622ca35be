// A second plugin named "all" (the built-in orderer's name): in the built-in folder an error
// naming both files; in a later folder of the search path a warning, and the built-in stays.
#include "ablate/orderer.hpp"

namespace {

class Twin final : public ablate::Orderer {
 public:
  std::optional<ablate::Stage> next(const ablate::OrderContext&) override { return std::nullopt; }
};

ablate::PluginInfo info() {
  return {ablate::kAbiVersion, ablate::Kind::orderer, "all", "0.0", "a twin of the built-in", {}};
}
std::unique_ptr<ablate::Plugin> create(const ablate::Params&) { return std::make_unique<Twin>(); }

}  // namespace

ABLATE_PLUGIN(info, create)
