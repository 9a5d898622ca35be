// A plugin as the previous SDK (plugin ABI 2) made it: the version, the info record and the
// factory, no build stamp. The host must refuse it on the version alone, naming both.
#include "ablate/orderer.hpp"

namespace {

class Old final : public ablate::Orderer {
 public:
  std::optional<ablate::Stage> next(const ablate::OrderContext&) override { return std::nullopt; }
};

const std::uint32_t abi_version = 2;
const ablate::PluginInfo& plugin_info() {
  static const ablate::PluginInfo record{2, ablate::Kind::orderer, "old_abi", "1.0",
                                         "built against plugin ABI 2", {}};
  return record;
}
std::unique_ptr<ablate::Plugin> plugin_create(const ablate::Params&) {
  return std::make_unique<Old>();
}

}  // namespace

static_assert(ablate::kAbiVersion != 2, "old_abi.cpp stands for an older SDK than this one");
BOOST_DLL_ALIAS(abi_version, ablate_abi_version)
BOOST_DLL_ALIAS(plugin_info, ablate_plugin_info)
BOOST_DLL_ALIAS(plugin_create, ablate_plugin_create)
