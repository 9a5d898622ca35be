// A plugin built against a different plugin ABI: the host must refuse it before using it.
#include "ablate/orderer.hpp"

namespace {
const std::uint32_t abi_version = ablate::kAbiVersion + 41;
}
BOOST_DLL_ALIAS(abi_version, ablate_abi_version)
