// HashtronModel state: checkpoints (StateStore) and standalone model files (docs/HASHTRON.md).
//   architecture       U8   the HashtronSpec as JSON (HashtronSpec::to_json)
//   features           I64  [first-layer neurons x taps] the features each first-layer key reads
//   units              I64  [units, 4] per unit: next salt, next premodulo, table salt,
//                           table modulus
//   exception_offsets  I64  [units + 1] unit u's exceptions are [offsets[u], offsets[u + 1])
//   exceptions         I64  hashed keys answering the opposite of their pseudo-random base,
//                           ascending per unit
#include <fmt/format.h>

#include "hashtron/model_impl.hpp"
#include "runs/safetensors.hpp"

namespace ablate {
using namespace hashtron;
namespace {

constexpr std::size_t kUnitFields = 4;
constexpr const char* kFileFormat = "ablate-hashtron";
constexpr const char* kFileVersion = "1";

std::string corrupt(const std::string& prefix, const std::string& what) {
  return "hashtron state '" + prefix + "': " + what;
}

}  // namespace

void HashtronModel::save(StateStore& out, const std::string& prefix) const {
  const Impl& m = *impl_;
  out.put_text(prefix + "architecture", m.spec.to_json());
  out.put(prefix + "features", std::vector<std::int64_t>(m.features.begin(), m.features.end()));
  std::vector<std::int64_t> units, offsets{0}, exceptions;
  for (std::size_t u = 0; u < m.tables.size(); ++u) {
    const Table& t = m.tables[u];
    units.insert(units.end(), {m.salts[u], static_cast<std::int64_t>(m.premodulos[u]), t.salt(),
                               static_cast<std::int64_t>(t.modulus())});
    for (auto k : t.exceptions()) exceptions.push_back(k);
    offsets.push_back(static_cast<std::int64_t>(exceptions.size()));
  }
  out.put(prefix + "units", units);
  out.tensors()[prefix + "units"].shape = {static_cast<std::int64_t>(m.tables.size()),
                                           static_cast<std::int64_t>(kUnitFields)};
  out.put(prefix + "exception_offsets", offsets);
  out.put(prefix + "exceptions", exceptions);
}

void HashtronModel::load(const StateStore& in, const std::string& prefix) {
  Impl& m = *impl_;
  const std::string saved = in.text(prefix + "architecture");
  if (saved != m.spec.to_json())
    throw Error("the saved hashtron model has another architecture:\n  saved: " + saved +
                "\n  this:  " + m.spec.to_json());
  const auto features = in.integers(prefix + "features");
  const std::size_t taps = static_cast<std::size_t>(m.spec.input.taps);
  if (features.size() != taps * static_cast<std::size_t>(m.spec.layers.front().neurons))
    throw Error(corrupt(prefix, fmt::format("{} first-layer features; the architecture needs {}",
                                            features.size(),
                                            taps * m.spec.layers.front().neurons)));
  for (auto f : features)
    if (f < 0 || f >= m.spec.input.features)
      throw Error(corrupt(prefix, fmt::format("feature {} out of range", f)));

  const auto units = in.integers(prefix + "units");
  const auto offsets = in.integers(prefix + "exception_offsets");
  const auto exceptions = in.integers(prefix + "exceptions");
  const std::size_t count = m.tables.size();
  if (units.size() != count * kUnitFields || offsets.size() != count + 1 || offsets.front() != 0 ||
      offsets.back() != static_cast<std::int64_t>(exceptions.size()))
    throw Error(corrupt(prefix, "unit records do not match the architecture's " +
                                    std::to_string(count) + " units"));
  std::vector<Table> tables;
  std::vector<std::uint32_t> salts;
  std::vector<std::uint64_t> premodulos;
  for (std::size_t u = 0; u < count; ++u) {
    const std::int64_t* r = units.data() + u * kUnitFields;
    const auto in_range = [](std::int64_t v) { return v >= 1 && v <= std::int64_t(kNoPremodulo); };
    if (!in_range(r[1]) || !in_range(r[3]) || offsets[u] > offsets[u + 1])
      throw Error(corrupt(prefix, fmt::format("unit {} has an invalid record", u)));
    std::vector<std::uint32_t> keys;
    for (auto i = offsets[u]; i < offsets[u + 1]; ++i) {
      const std::int64_t k = exceptions[static_cast<std::size_t>(i)];
      if (k < 0 || k >= r[3] || (!keys.empty() && k <= std::int64_t(keys.back())))
        throw Error(corrupt(prefix, fmt::format("unit {}: exception keys not ascending below "
                                                "its modulus",
                                                u)));
      keys.push_back(static_cast<std::uint32_t>(k));
    }
    salts.push_back(static_cast<std::uint32_t>(r[0]));
    premodulos.push_back(static_cast<std::uint64_t>(r[1]));
    tables.emplace_back(static_cast<std::uint32_t>(r[2]), static_cast<std::uint64_t>(r[3]), keys);
  }
  m.features.assign(features.begin(), features.end());
  m.tables = std::move(tables);
  m.salts = std::move(salts);
  m.premodulos = std::move(premodulos);
  m.rewire();
}

void HashtronModel::save_model(const std::filesystem::path& file) const {
  StateStore state;
  save(state, "");
  write_safetensors(file, state, {{"format", kFileFormat}, {"format_version", kFileVersion}});
}

std::unique_ptr<HashtronModel> HashtronModel::load_model(const std::filesystem::path& file) {
  std::map<std::string, std::string> metadata;
  const StateStore state = read_safetensors(file, &metadata);
  if (metadata["format"] != kFileFormat || metadata["format_version"] != kFileVersion)
    throw Error(fmt::format("not a hashtron model file of format version {} (its metadata says "
                            "format '{}', version '{}')",
                            kFileVersion, metadata["format"], metadata["format_version"]),
                file.string());
  try {
    const HashtronSpec spec = HashtronSpec::from_json(state.text("architecture"));
    Rng unused(0);  // salts and taps come from the file
    auto model = std::make_unique<HashtronModel>(spec, unused);
    model->load(state, "");
    return model;
  } catch (const Error& e) {
    throw Error(e.what(), file.string());
  }
}

}  // namespace ablate
