// The experiment loader (config/): TOML, [experiment] include, --set overrides, validation
// against the declared parameters of the cfgtest plugins (every parameter type), and the
// resolved TOML written back. Input parts (split at fuzz::kSeparator): the main file, a file
// `inc.toml` next to it (what `include = ["inc.toml"]` reads), then one --set text per part
// ("train.lr=0.1"). The experiment's plugin_paths are checked, as load_experiment checks them,
// but never scanned: the fuzzer's text does not choose which libraries this process loads.
#include "config/document.hpp"
#include "config/validate.hpp"
#include "fuzz_support.hpp"

namespace {

ablate::Registry& registry() {
  static ablate::Registry* registry = [] {
    auto* r = new ablate::Registry;
    fuzz::load_plugins(*r, {"cfgtest_topology", "cfgtest_orderer", "cfgtest_capacity",
                            "cfgtest_regularizer", "cfgtest_dataset"});
    return r;
  }();
  return *registry;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fuzz::Scratch scratch("experiment");
  ablate::Registry& plugins = registry();
  const std::vector<std::string> parts = fuzz::split_parts(data, size);
  const auto main_file = scratch.write("main.toml", parts[0]);
  scratch.write("inc.toml", parts.size() > 1 ? parts[1] : std::string());
  try {
    std::vector<ablate::Override> overrides;
    for (std::size_t i = 2; i < parts.size(); ++i)
      overrides.push_back(ablate::parse_override(parts[i]));
    ablate::Document document = ablate::read_document(main_file);
    ablate::apply_overrides(document, overrides);
    (void)ablate::experiment_plugin_paths(document);
    const ablate::Experiment experiment = ablate::validate_experiment(document, plugins);
    (void)experiment;
  } catch (const ablate::Error&) {
  }
  return 0;
}
