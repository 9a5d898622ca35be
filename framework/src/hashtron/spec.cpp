// The hashtron architecture (ablate/hashtron.hpp): combiner spellings, consistency checks, and
// the JSON that model files store.
#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "ablate/hashtron.hpp"
#include "hashtron/spec_limits.hpp"
#include "runs/json.hpp"

namespace ablate {
using namespace hashtron;
namespace {

constexpr const char* kCombinerForms =
    "\"concat\", \"majority:G\" (groups of G bits) or \"majority2d:WxH:wxh\" (a W x H grid of "
    "bits pooled in w x h windows)";

int parse_positive(std::string_view text, std::string_view whole) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1)
    throw Error(fmt::format("combiner '{}': '{}' is not a positive integer; write {}", whole, text,
                            kCombinerForms));
  return value;
}

std::pair<int, int> parse_size(std::string_view text, std::string_view whole) {
  const auto x = text.find('x');
  if (x == std::string_view::npos)
    throw Error(fmt::format("combiner '{}': '{}' is not a size like 4x2; write {}", whole, text,
                            kCombinerForms));
  return {parse_positive(text.substr(0, x), whole), parse_positive(text.substr(x + 1), whole)};
}

const char* to_string(VoteRule rule) { return rule == VoteRule::exact ? "exact" : "hamming"; }
const char* to_string(OutputCode code) { return code == OutputCode::binary ? "binary" : "groups"; }

OutputCode parse_output(const std::string& text) {
  if (text == "binary") return OutputCode::binary;
  if (text == "groups") return OutputCode::groups;
  throw Error("hashtron output code '" + text + "': use \"binary\" or \"groups\"");
}

VoteRule parse_vote(const std::string& text) {
  if (text == "exact") return VoteRule::exact;
  if (text == "hamming") return VoteRule::hamming;
  throw Error("hashtron vote rule '" + text + "': use \"exact\" or \"hamming\"");
}

}  // namespace

std::uint64_t premodulo_for_capacity(double capacity) {
  if (!(capacity >= 1.0)) return 1;  // also NaN
  const double squared = std::round(capacity * capacity);
  return squared >= static_cast<double>(kNoPremodulo) ? kNoPremodulo
                                                      : static_cast<std::uint64_t>(squared);
}

Combiner Combiner::parse(std::string_view text) {
  Combiner c;
  if (text == "concat") return c;
  const auto colon = text.find(':');
  const std::string_view head = text.substr(0, colon);
  if (colon != std::string_view::npos && head == "majority") {
    c.kind = Kind::majority;
    c.group = parse_positive(text.substr(colon + 1), text);
    return c;
  }
  if (colon != std::string_view::npos && head == "majority2d") {
    const std::string_view rest = text.substr(colon + 1);
    const auto second = rest.find(':');
    if (second == std::string_view::npos)
      throw Error(fmt::format("combiner '{}' needs a grid and a window; write {}", text,
                              kCombinerForms));
    c.kind = Kind::majority2d;
    std::tie(c.grid_width, c.grid_height) = parse_size(rest.substr(0, second), text);
    std::tie(c.window_width, c.window_height) = parse_size(rest.substr(second + 1), text);
    return c;
  }
  throw Error(fmt::format("unknown combiner '{}'; write {}", text, kCombinerForms));
}

std::string Combiner::str() const {
  switch (kind) {
    case Kind::concat: return "concat";
    case Kind::majority: return fmt::format("majority:{}", group);
    case Kind::majority2d:
      return fmt::format("majority2d:{}x{}:{}x{}", grid_width, grid_height, window_width,
                         window_height);
  }
  return "?";
}

int hashtron::pooled_bits(const Combiner& c, int bits) {
  switch (c.kind) {
    case Combiner::Kind::concat: return bits;
    case Combiner::Kind::majority: return bits / c.group;
    case Combiner::Kind::majority2d:
      return (c.grid_width / c.window_width) * (c.grid_height / c.window_height);
  }
  return bits;
}

int hashtron::first_layer_key_bits(const HashtronInputSpec& input) {
  return (input.taps > 0 ? input.taps : input.features) * input.bits_per_feature;
}

void HashtronSpec::validate() const {
  const auto& in = input;
  if (in.features < 1) throw Error("hashtron: the data has no features");
  if (in.bits_per_feature < 1 || in.bits_per_feature > kMaxBitsPerFeature)
    throw Error(fmt::format("hashtron: bits_per_feature = {}; use 1 to {}", in.bits_per_feature,
                            kMaxBitsPerFeature));
  if (in.taps < 0 || in.taps > in.features)
    throw Error(fmt::format("hashtron: taps = {}, but a row has {} features; use 0 (all of them) "
                            "to {}",
                            in.taps, in.features, in.features));
  if (first_layer_key_bits(in) > kMaxKeyBits)
    throw Error(fmt::format(
        "hashtron: first-layer keys would have {} bits ({} features x {} bits each); at most {}: "
        "set taps to at most {}",
        first_layer_key_bits(in), in.taps > 0 ? in.taps : in.features, in.bits_per_feature,
        kMaxKeyBits, kMaxKeyBits / in.bits_per_feature));
  if (layers.empty()) throw Error("hashtron: no layers; give at least the output layer");
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const auto& layer = layers[l];
    if (layer.neurons < 1 || layer.bits < 1 || layer.bits > kMaxKeyBits)
      throw Error(fmt::format("hashtron layer {}: {} neurons of {} bits; use at least 1 neuron "
                              "of 1 to {} bits",
                              l + 1, layer.neurons, layer.bits, kMaxKeyBits));
    if (layer.premodulo < 1 || layer.premodulo > kNoPremodulo)
      throw Error(fmt::format("hashtron layer {}: premodulo {}; use 1 to 2^32", l + 1,
                              layer.premodulo));
  }
  if (combiners.size() + 1 != layers.size())
    throw Error(fmt::format("hashtron: {} layers need {} combiners between them, got {}",
                            layers.size(), layers.size() - 1, combiners.size()));
  for (std::size_t i = 0; i < combiners.size(); ++i) {
    const Combiner& c = combiners[i];
    const int bits = layers[i].neurons * layers[i].bits;
    const std::string where = fmt::format("hashtron combiner {} ('{}', after {} bits of layer {})",
                                          i + 1, c.str(), bits, i + 1);
    if (c.kind == Combiner::Kind::majority && bits % c.group != 0)
      throw Error(fmt::format("{}: {} bits do not split into groups of {}", where, bits, c.group));
    if (c.kind == Combiner::Kind::majority2d) {
      if (c.grid_width * c.grid_height != bits)
        throw Error(fmt::format("{}: the grid {}x{} holds {} bits; choose one that holds {}",
                                where, c.grid_width, c.grid_height,
                                c.grid_width * c.grid_height, bits));
      if (c.grid_width % c.window_width != 0 || c.grid_height % c.window_height != 0)
        throw Error(fmt::format("{}: the window {}x{} does not tile the grid {}x{}", where,
                                c.window_width, c.window_height, c.grid_width, c.grid_height));
    }
    const int pooled = pooled_bits(c, bits);
    const int next = layers[i + 1].neurons;
    if (pooled % next != 0 || pooled / next > kMaxKeyBits)
      throw Error(fmt::format("{}: {} pooled bits must split evenly into the {} neurons of layer "
                              "{}, at most {} bits each; use a neuron count dividing {} with at "
                              "least {} neurons",
                              where, pooled, next, i + 2, kMaxKeyBits, pooled,
                              (pooled + kMaxKeyBits - 1) / kMaxKeyBits));
  }
  const int out_bits = layers.back().neurons * layers.back().bits;
  if (classes < 2) throw Error(fmt::format("hashtron: {} classes; need at least 2", classes));
  if (output == OutputCode::binary &&
      (out_bits > kMaxOutputBits || (std::uint64_t{1} << out_bits) < std::uint64_t(classes)))
    throw Error(fmt::format("hashtron: the output layer has {} bits; {} classes need {} to {} "
                            "(the class is the output read as an integer, modulo the classes)",
                            out_bits, classes, output_bits_for_classes(classes, output),
                            kMaxOutputBits));
  if (output == OutputCode::groups && out_bits % classes != 0)
    throw Error(fmt::format("hashtron: the output layer has {} bits, which do not split into "
                            "{} equal groups (one per class); use a multiple of {}",
                            out_bits, classes, classes));
}

int output_bits_for_classes(int classes, OutputCode code) {
  if (code == OutputCode::groups) return classes;
  int bits = 1;
  while ((1 << bits) < classes) ++bits;
  return bits;
}

std::string HashtronSpec::to_json() const {
  Json j = Json::object();
  j["format"] = "ablate-hashtron-architecture";
  j["features"] = input.features;
  j["bits_per_feature"] = input.bits_per_feature;
  j["threshold"] = input.threshold;
  j["taps"] = input.taps;
  Json list = Json::array();
  for (const auto& layer : layers) {
    Json entry = Json::object();
    entry["neurons"] = layer.neurons;
    entry["bits"] = layer.bits;
    entry["premodulo"] = static_cast<double>(layer.premodulo);
    list.push_back(std::move(entry));
  }
  j["layers"] = std::move(list);
  Json combs = Json::array();
  for (const auto& c : combiners) combs.push_back(c.str());
  j["combiners"] = std::move(combs);
  j["classes"] = classes;
  j["output"] = to_string(output);
  j["vote"] = to_string(vote);
  j["reject_worse"] = reject_worse;
  j["resalt"] = resalt;
  return j.dump();
}

HashtronSpec HashtronSpec::from_json(std::string_view text) {
  const Json j = Json::parse(text, "hashtron architecture");
  if (!j.contains("format") || j.at("format").as_string() != "ablate-hashtron-architecture")
    throw Error("not a hashtron architecture (its \"format\" is not "
                "\"ablate-hashtron-architecture\")");
  HashtronSpec spec;
  spec.input.features = static_cast<int>(j.at("features").as_integer());
  spec.input.bits_per_feature = static_cast<int>(j.at("bits_per_feature").as_integer());
  spec.input.threshold = j.at("threshold").as_number();
  spec.input.taps = static_cast<int>(j.at("taps").as_integer());
  for (const Json& entry : j.at("layers").as_array())
    spec.layers.push_back({static_cast<int>(entry.at("neurons").as_integer()),
                           static_cast<int>(entry.at("bits").as_integer()),
                           static_cast<std::uint64_t>(entry.at("premodulo").as_integer())});
  for (const Json& c : j.at("combiners").as_array())
    spec.combiners.push_back(Combiner::parse(c.as_string()));
  spec.classes = static_cast<int>(j.at("classes").as_integer());
  spec.output = parse_output(j.at("output").as_string());
  spec.vote = parse_vote(j.at("vote").as_string());
  spec.reject_worse = j.at("reject_worse").as_bool();
  spec.resalt = j.at("resalt").as_bool();
  spec.validate();
  return spec;
}

}  // namespace ablate
