#pragma once
// The plugin contract. A plugin .so exports, through ABLATE_PLUGIN:
//   ablate_abi_version  a plain uint32, read and checked before anything else;
//   ablate_build_stamp  the build settings that change the binary layout of what host and plugin
//                       share (kBuildStamp), checked next;
//   ablate_plugin_info  its PluginInfo: kind, name, version, summary, declared parameters;
//   ablate_plugin_create  a factory from validated Params to the object behind its kind's
//                         interface (orderer.hpp, capacity.hpp, regularizer.hpp, topology.hpp,
//                         dataset.hpp).
// Nothing a plugin makes may outlive its library: the host keeps the library loaded for as long
// as any object it made is alive (plugins/registry.hpp).
#include <boost/dll/alias.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ablate/params.hpp"
#include "ablate/tensor.hpp"  // Eigen's configuration, for the stamp

#define ABLATE_STRINGIFY_(x) #x
#define ABLATE_STRINGIFY(x) ABLATE_STRINGIFY_(x)
#if defined(EIGEN_VECTORIZE_AVX512)
#define ABLATE_STAMP_SIMD "avx512"
#elif defined(EIGEN_VECTORIZE_AVX2)
#define ABLATE_STAMP_SIMD "avx2"
#elif defined(EIGEN_VECTORIZE_AVX)
#define ABLATE_STAMP_SIMD "avx"
#elif defined(EIGEN_VECTORIZE_SSE)
#define ABLATE_STAMP_SIMD "sse"
#else
#define ABLATE_STAMP_SIMD "none"
#endif
#if defined(EIGEN_VECTORIZE_FMA)
#define ABLATE_STAMP_FMA "+fma"
#else
#define ABLATE_STAMP_FMA ""
#endif

namespace ablate {

/// Bumped on any change to the SDK headers that breaks binary compatibility: a virtual function
/// added, removed or reordered in an interface; a member of a struct both sides touch (PluginInfo,
/// ParamSpec, Stage, OrderContext, SumRecord...) added, removed or retyped; a changed export.
/// docs/PLUGINS.md, "ABI".
inline constexpr std::uint32_t kAbiVersion = 4;

/// What else must match for host and plugin to share Eigen matrices and standard strings: Eigen's
/// version, its heap and static alignment and SIMD width (set by -march and
/// EIGEN_MAX_ALIGN_BYTES), and libstdc++'s string ABI. ablate::sdk carries the host's flags, so a
/// plugin built through find_package(ablate) gets the host's stamp.
inline constexpr const char kBuildStamp[] =
    "eigen " ABLATE_STRINGIFY(EIGEN_WORLD_VERSION) "." ABLATE_STRINGIFY(EIGEN_MAJOR_VERSION) "." \
    ABLATE_STRINGIFY(EIGEN_MINOR_VERSION) ", align " ABLATE_STRINGIFY(EIGEN_MAX_ALIGN_BYTES) \
    "/" ABLATE_STRINGIFY(EIGEN_MAX_STATIC_ALIGN_BYTES) ", simd " ABLATE_STAMP_SIMD \
    ABLATE_STAMP_FMA ", cxx11-abi " ABLATE_STRINGIFY(_GLIBCXX_USE_CXX11_ABI);

enum class Kind { orderer, capacity_law, regularizer, topology, dataset };
inline constexpr Kind kAllKinds[] = {Kind::orderer, Kind::capacity_law, Kind::regularizer,
                                     Kind::topology, Kind::dataset};
const char* to_string(Kind kind);
std::optional<Kind> parse_kind(std::string_view text);

struct PluginInfo {
  std::uint32_t abi_version = kAbiVersion;
  Kind kind = Kind::orderer;
  std::string name;
  std::string version;
  std::string summary;  // one line
  std::vector<ParamSpec> params;
  /// Names of the summary figures its Model::evaluate reports (what a finding's check may read
  /// as arm.figure); a trailing `*` makes a name a prefix: "expert_share_*". The `= {}` lets
  /// plugins that report none leave it out (no missing-initializer warning).
  std::vector<std::string> figures = {};
};

class StateStore;

/// The base of every plugin object. State that must survive a checkpoint (an orderer's
/// position, EWC's Fisher) goes through save/load; stateless plugins leave them alone.
class ABLATE_API Plugin {
 public:
  virtual ~Plugin() = default;
  virtual void save(StateStore& /*out*/, const std::string& /*prefix*/) const {}
  virtual void load(const StateStore& /*in*/, const std::string& /*prefix*/) {}
};

using PluginInfoFn = const PluginInfo&();
using PluginCreateFn = std::unique_ptr<Plugin>(const Params&);

}  // namespace ablate

/// Exports a plugin: `info` returns its PluginInfo, `create` makes it from Params.
///   ABLATE_PLUGIN(my_info, my_create)
#define ABLATE_PLUGIN(info, create)                                                \
  namespace ablate_export {                                                        \
  const std::uint32_t abi_version = ::ablate::kAbiVersion;                         \
  const char* build_stamp() { return ::ablate::kBuildStamp; }                      \
  const ::ablate::PluginInfo& plugin_info() {                                      \
    static const ::ablate::PluginInfo record = info();                             \
    return record;                                                                 \
  }                                                                                \
  std::unique_ptr<::ablate::Plugin> plugin_create(const ::ablate::Params& params) { \
    return create(params);                                                         \
  }                                                                                \
  }                                                                                \
  BOOST_DLL_ALIAS(ablate_export::abi_version, ablate_abi_version)                  \
  BOOST_DLL_ALIAS(ablate_export::build_stamp, ablate_build_stamp)                  \
  BOOST_DLL_ALIAS(ablate_export::plugin_info, ablate_plugin_info)                  \
  BOOST_DLL_ALIAS(ablate_export::plugin_create, ablate_plugin_create)
