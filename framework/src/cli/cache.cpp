// `ablate cache SOURCE`: a run's sum cache (its sumcache.bin, or any snapshot file) read back:
// the stages it recorded, each layer's zones and margin trend, one unit's history, or every
// record exported as CSV or JSON for pandas, R or a spreadsheet (issue 18).
#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <toml++/toml.h>
#include <iostream>
#include <sstream>

#include "ablate/error.hpp"
#include "cli/commands.hpp"
#include "runs/json.hpp"
#include "stats/layer_summary.hpp"
#include "stats/sum_cache_io.hpp"
#include "util/atomic_file.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace ablate::cli {
namespace {

struct Source {
  fs::path file;
  Zones zones;  // the run's [pipeline] zones when SOURCE is a run directory, else the defaults
};

Source source_of(const fs::path& given) {
  Source out{given, {}};
  if (fs::is_directory(given)) {
    out.file = given / "sumcache.bin";
    if (!fs::is_regular_file(out.file))
      throw ConfigError(given.string() + " holds no sumcache.bin (a run writes it at its first "
                        "checkpoint)");
    if (const fs::path config = given / "config.toml"; fs::is_regular_file(config)) {
      const toml::table table = toml::parse_file(config.string());
      out.zones.noise_factor = table["pipeline"]["noise_factor"].value_or(out.zones.noise_factor);
      out.zones.collapse_fraction =
          table["pipeline"]["collapse_fraction"].value_or(out.zones.collapse_fraction);
    }
  } else if (!fs::is_regular_file(given)) {
    throw ConfigError("no run directory or sum-cache file at " + given.string());
  }
  return out;
}

UnitId unit_argument(const std::string& text, const std::vector<UnitLayer>& layers) {
  const auto dot = text.find('.');
  int layer = -1, index = -1;
  try {
    if (dot != std::string::npos) {
      layer = std::stoi(text.substr(0, dot));
      index = std::stoi(text.substr(dot + 1));
    }
  } catch (const std::exception&) {
    layer = -1;
  }
  if (layer < 0 || index < 0 || layer >= static_cast<int>(layers.size()) ||
      index >= layers[static_cast<std::size_t>(layer)].size)
    throw ConfigError(fmt::format("--unit {}: give LAYER.INDEX with LAYER in 0..{} and INDEX "
                                  "below that layer's size (e.g. --unit 0.3)",
                                  text, layers.size() - 1));
  return {layer, index};
}

/// "3", or "3*" for a stale stage.
std::string stage_name(std::int32_t stored) {
  return std::to_string(stage_number(stored)) + (stored < 0 ? "*" : "");
}

void print_stages(const SumCache& sums, const std::vector<UnitLayer>& layers) {
  std::cout << "\nstages (* recorded by an earlier run: stale)\n"
            << fmt::format("  {:>6} {:>6}  {:<8} {:>7} {:>7} {:>9} {:>8}  {}\n", "stage", "epoch",
                           "layer", "train", "val", "began", "took", "label");
  for (const StageRecord& s : sums.stages()) {
    const std::string layer = s.layer >= 0 && s.layer < static_cast<int>(layers.size())
                                  ? layers[static_cast<std::size_t>(s.layer)].name
                                  : "all";
    std::cout << fmt::format("  {:>6} {:>6}  {:<8} {:>6.2f}% {:>6.2f}% {:>8.1f}s {:>7.1f}s  {}\n",
                             stage_name(s.stage), s.epoch, layer, 100 * s.train_accuracy,
                             100 * s.val_accuracy, s.timestamp, s.duration, s.label);
  }
}

void print_layers(const SumCache& sums, const std::vector<UnitLayer>& layers, const Zones& zones,
                  std::size_t trend) {
  std::cout << fmt::format("\nlayers (latest record of each unit; zones with epsilon = {} sqrt(N), "
                           "tau = {} N)\n",
                           zones.noise_factor, zones.collapse_fraction)
            << fmt::format("  {:<10} {:>6} {:>6} {:>6} {:>9} {:>9} {:>9}  mean margin, oldest "
                           "to newest of the last {} records\n",
                           "layer", "units", "gold", "noisy", "collapsed", "margin", "capacity",
                           trend);
  for (int layer = 0; layer < static_cast<int>(layers.size()); ++layer) {
    const LayerSummary summary = summarize_layer(sums, layer, zones);
    // The trend: the mean margin over the layer's units at each of their last `trend` records.
    std::vector<double> totals(trend, 0.0);
    std::vector<int> counts(trend, 0);
    for (int i = 0; i < layers[static_cast<std::size_t>(layer)].size; ++i) {
      const auto recent = sums.trend({layer, i}, trend);
      const std::size_t offset = trend - recent.size();
      for (std::size_t k = 0; k < recent.size(); ++k) {
        totals[offset + k] += recent[k].margin();
        ++counts[offset + k];
      }
    }
    std::string trend_text;
    for (std::size_t k = 0; k < trend; ++k)
      if (counts[k]) trend_text += fmt::format(" {:.3f}", totals[k] / counts[k]);
    std::cout << fmt::format("  {:<10} {:>6} {:>6} {:>6} {:>9} {:>9.3f} {:>9}  {}\n",
                             layers[static_cast<std::size_t>(layer)].name, summary.units,
                             summary.gold, summary.noisy, summary.collapsed, summary.margin.median,
                             summary.capacity ? fmt::format("{:.1f}", summary.capacity->median)
                                              : std::string("-"),
                             trend_text);
  }
}

void print_unit(const SumCache& sums, UnitId unit, const std::vector<UnitLayer>& layers,
                const Zones& zones) {
  std::cout << fmt::format("\nunit {} ({} {}), oldest first (* stale)\n", unit_name(unit),
                           layers[static_cast<std::size_t>(unit.layer)].name, unit.index)
            << fmt::format("  {:>6} {:>8} {:>8} {:>8} {:>10}  {}\n", "stage", "S", "N", "margin",
                           "capacity", "zone");
  for (const SumRecord& r : sums.history(unit)) {
    const char* zone = zones.gold(r.s, r.n) ? "gold" : zones.noisy(r.s, r.n) ? "noisy" : "collapsed";
    std::cout << fmt::format("  {:>6} {:>8} {:>8} {:>8.4f} {:>10.1f}  {}\n",
                             stage_name(r.stage),
                             r.s, r.n, r.margin(), r.capacity, zone);
  }
}

std::string export_csv(const SumSnapshot& snapshot) {
  std::ostringstream out;
  out << "layer,layer_name,unit,position,stage,stale,s,n,margin,capacity\n";
  for (const auto& [unit, history] : snapshot.sums.units())
    for (std::size_t k = 0; k < history.size(); ++k) {
      const SumRecord& r = history[k];
      out << fmt::format("{},{},{},{},{},{},{},{},{},{}\n", unit.layer,
                         snapshot.identity.layers[static_cast<std::size_t>(unit.layer)].name,
                         unit.index, k, stage_number(r.stage), r.stale() ? 1 : 0, r.s,
                         r.n, r.margin(), r.capacity);
    }
  return out.str();
}

Json export_json(const SumSnapshot& snapshot) {
  Json out = Json::object();
  out["run"] = snapshot.identity.run;
  out["keep"] = static_cast<std::int64_t>(snapshot.sums.keep());
  Json layers = Json::array();
  for (const auto& layer : snapshot.identity.layers)
    layers.push_back(Json(Json::Object{{"name", Json(layer.name)}, {"size", Json(layer.size)}}));
  out["layers"] = std::move(layers);
  Json stages = Json::array();
  for (const StageRecord& s : snapshot.sums.stages()) stages.push_back(to_json(s));
  out["stages"] = std::move(stages);
  Json units = Json::array();
  for (const auto& [unit, history] : snapshot.sums.units()) {
    Json records = Json::array();
    for (const SumRecord& r : history) records.push_back(to_json(r));
    units.push_back(Json(Json::Object{{"unit", Json(unit_name(unit))}, {"records", records}}));
  }
  out["units"] = std::move(units);
  return out;
}

}  // namespace

int cache(const std::vector<std::string>& args) {
  po::options_description options("ablate cache");
  options.add_options()("source", po::value<std::string>()->required(),
                        "a run directory (its sumcache.bin) or a sum-cache snapshot file")(
      "unit", po::value<std::vector<std::string>>()->composing(),
      "print this unit's whole history, as LAYER.INDEX (repeatable)")(
      "trend", po::value<int>()->default_value(8), "records in each layer's margin trend")(
      "export", po::value<std::string>(),
      "write every record to this file instead: .csv (one row per record) or .json")(
      "help,h", "show this help");
  po::positional_options_description positional;
  positional.add("source", 1);
  po::variables_map vm;
  if (!parse(args, "ablate cache RUN_DIR|SNAPSHOT [--unit L.I]... [--trend K] [--export FILE]",
             options, positional, vm))
    return 0;
  const Source source = source_of(vm["source"].as<std::string>());
  const SumSnapshot snapshot = decode_sums(read_file(source.file), source.file.string());
  const auto& layers = snapshot.identity.layers;

  if (vm.count("export")) {
    const fs::path target = vm["export"].as<std::string>();
    const std::string ext = target.extension().string();
    if (ext != ".csv" && ext != ".json")
      throw ConfigError("--export " + target.string() + ": give a .csv or a .json file name");
    write_atomic(target, ext == ".csv" ? export_csv(snapshot) : export_json(snapshot).dump() + "\n");
    std::cout << fmt::format("wrote {} ({} units, {} stages)\n", target.string(),
                             snapshot.sums.units().size(), snapshot.sums.stages().size());
    return 0;
  }
  const int trend = vm["trend"].as<int>();
  if (trend < 1) throw ConfigError(fmt::format("--trend {}: give 1 or more records", trend));

  std::size_t records = 0, stale = 0;
  for (const auto& [unit, history] : snapshot.sums.units())
    for (const SumRecord& r : history) {
      ++records;
      stale += r.stale();
    }
  std::cout << fmt::format("sum cache of '{}' ({})\n  {} unit layers, {} units, {} records "
                           "({} stale), at most {} per unit; {} stages\n",
                           snapshot.identity.run, source.file.string(), layers.size(),
                           snapshot.sums.units().size(), records, stale, snapshot.sums.keep(),
                           snapshot.sums.stages().size());
  print_stages(snapshot.sums, layers);
  print_layers(snapshot.sums, layers, source.zones, static_cast<std::size_t>(trend));
  if (vm.count("unit"))
    for (const std::string& text : vm["unit"].as<std::vector<std::string>>())
      print_unit(snapshot.sums, unit_argument(text, layers), layers, source.zones);
  return 0;
}

}  // namespace ablate::cli
