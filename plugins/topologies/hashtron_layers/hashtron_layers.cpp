// The `hashtron_layers` topology: layers of boolean hash neurons joined by combiners, built as a
// HashtronModel (ablate/hashtron.hpp; docs/HASHTRON.md). After neurlang/classifier's hashtron
// networks; premodulo = capacity^2 is the epic's capacity control (shared/seeds/002).
#include <cstdint>
#include <string>
#include <vector>

#include "ablate/hashtron.hpp"
#include "ablate/topology.hpp"

namespace {

using namespace ablate;

// Per-layer values: one value for every layer, or exactly one per layer.
template <class T>
std::vector<T> per_layer(const std::vector<T>& values, std::size_t layers, const T& fallback,
                         const char* name) {
  if (values.empty()) return std::vector<T>(layers, fallback);
  if (values.size() == 1) return std::vector<T>(layers, values.front());
  if (values.size() == layers) return values;
  throw Error("hashtron_layers: " + std::string(name) + " has " + std::to_string(values.size()) +
              " entries for " + std::to_string(layers) + " layers; give one for all or one per layer");
}

class HashtronLayers final : public Topology {
 public:
  explicit HashtronLayers(const Params& params)
      : layers_(params.integers("layers")),
        taps_(static_cast<int>(params.integer("taps"))),
        bits_per_feature_(static_cast<int>(params.integer("bits_per_feature"))),
        threshold_(params.real("threshold")),
        output_(params.string("output") == "groups" ? OutputCode::groups : OutputCode::binary),
        vote_(params.string("vote") == "hamming" ? VoteRule::hamming : VoteRule::exact),
        reject_worse_(params.boolean("reject_worse")),
        resalt_(params.boolean("resalt")) {
    // Checked here, when the experiment is validated, not once data is loaded.
    if (layers_.empty()) throw Error("hashtron_layers: layers is empty; give at least [0]");
    for (std::size_t l = 0; l + 1 < layers_.size(); ++l)
      if (layers_[l] == 0)
        throw Error("hashtron_layers: layer " + std::to_string(l + 1) +
                    " has 0 neurons; only the last layer may be 0 (sized for the classes)");
    const std::size_t count = layers_.size();
    bits_ = per_layer<std::int64_t>(params.integers("bits"), count, 1, "bits");
    premodulo_ = per_layer<std::int64_t>(params.integers("premodulo"), count, 0, "premodulo");
    std::vector<Combiner> given;
    for (const auto& c : params.strings("combiners")) given.push_back(Combiner::parse(c));
    combiners_ = per_layer<Combiner>(given, count - 1, Combiner{}, "combiners (one per gap)");
  }

  std::unique_ptr<Model> build(const BuildContext& ctx, Rng& rng) const override {
    HashtronSpec spec;
    spec.input = {ctx.data.features, bits_per_feature_, threshold_, taps_};
    spec.classes = ctx.data.classes;
    spec.output = output_;
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      HashtronLayerSpec layer;
      layer.bits = static_cast<int>(bits_[l]);
      layer.neurons = static_cast<int>(layers_[l]);
      if (layer.neurons == 0) {  // the output layer, sized for the classes
        const int needed = output_bits_for_classes(spec.classes, spec.output);
        layer.neurons = (needed + layer.bits - 1) / layer.bits;
      }
      layer.premodulo = premodulo_[l] == 0 ? kNoPremodulo : static_cast<std::uint64_t>(premodulo_[l]);
      spec.layers.push_back(layer);
    }
    spec.combiners = combiners_;
    spec.vote = vote_;
    spec.reject_worse = reject_worse_;
    spec.resalt = resalt_;
    return std::make_unique<HashtronModel>(spec, rng);
  }

  bool uses_capacity() const override { return true; }

 private:
  std::vector<std::int64_t> layers_, bits_, premodulo_;  // bits_, premodulo_: one per layer
  std::vector<Combiner> combiners_;
  int taps_, bits_per_feature_;
  double threshold_;
  OutputCode output_;
  VoteRule vote_;
  bool reject_worse_, resalt_;
};

PluginInfo info() {
  return PluginInfo{
      kAbiVersion,
      Kind::topology,
      "hashtron_layers",
      "1.0",
      "boolean hash neurons (hashtrons) in layers joined by majority-pool/concat combiners",
      {integers("layers", std::vector<std::int64_t>{0}, 0, 1 << 20,
                "neurons per layer, first to last; the last layer's bits are the output (see "
                "output); a last 0 sizes it for the classes"),
       integers("bits", std::vector<std::int64_t>{}, 1, 32,
                "output bits per neuron (units sharing its key): one value for all layers or "
                "one per layer; empty: 1"),
       texts("combiners", std::vector<std::string>{},
             "between consecutive layers: \"concat\", \"majority:G\", \"majority2d:WxH:wxh\"; "
             "one for all gaps or one per gap; empty: concat"),
       integers("premodulo", std::vector<std::int64_t>{0}, 0, 4294967296.0,
                "initial premodulo (hashed key range) per layer, one for all or one per layer; "
                "0: none (2^32); a [capacity] law then sets capacity^2"),
       integer("taps", 0, 0, 1 << 20,
               "features per first-layer neuron, chosen at random; 0: all, in order (<= 32 "
               "key bits)"),
       integer("bits_per_feature", 1, 1, 8,
               "1: a feature is x > threshold; b: x in [0, 1] quantized to 2^b levels"),
       real("threshold", 0.5, -kInf, kInf, "binarization threshold (bits_per_feature = 1)"),
       choice("output", "binary", {"binary", "groups"},
              "how the last layer's bits name the class: an integer mod classes, or the "
              "class group with the most ones (equal groups, one per class)"),
       choice("vote", "exact", {"exact", "hamming"},
              "a sample votes where exactly one of (as is, negated) is right, or where one "
              "output code is nearer the label's (graded, for multi-bit outputs)"),
       flag("reject_worse", true, "undo a fit that lowers training accuracy"),
       flag("resalt", false, "draw a new hash salt at every fit of a unit")}};
}

std::unique_ptr<Plugin> create(const Params& params) {
  return std::make_unique<HashtronLayers>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
