// A plugin of the right ABI version built with another Eigen alignment than the host (as a
// plugin built without the SDK's flags would be): its build stamp differs, and the host must
// refuse it naming both stamps before touching anything else in it.
#undef EIGEN_MAX_ALIGN_BYTES
#define EIGEN_MAX_ALIGN_BYTES 16
#include "ablate/orderer.hpp"

namespace {

class Misaligned final : public ablate::Orderer {
 public:
  std::optional<ablate::Stage> next(const ablate::OrderContext&) override { return std::nullopt; }
};

ablate::PluginInfo info() {
  return {ablate::kAbiVersion, ablate::Kind::orderer, "stamp_mismatch", "1.0",
          "built with EIGEN_MAX_ALIGN_BYTES=16", {}};
}
std::unique_ptr<ablate::Plugin> create(const ablate::Params&) {
  return std::make_unique<Misaligned>();
}

}  // namespace

ABLATE_PLUGIN(info, create)
