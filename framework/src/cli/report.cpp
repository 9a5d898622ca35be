// ablate report / ablate dashboard: the pictures of runs and studies (docs/REPORT.md).
#include <spdlog/spdlog.h>

#include <iostream>

#include "cli/commands.hpp"
#include "report/bundle.hpp"
#include "report/dashboard.hpp"
#include "report/page.hpp"
#include "util/atomic_file.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace ablate::cli {
namespace {

std::vector<fs::path> dirs_of(const po::variables_map& vm) {
  std::vector<fs::path> dirs;
  for (const auto& d : vm["dirs"].as<std::vector<std::string>>()) dirs.emplace_back(d);
  return dirs;
}

}  // namespace

int report(const std::vector<std::string>& args) {
  po::options_description options("ablate report");
  options.add_options()("dirs", po::value<std::vector<std::string>>()->required(),
                        "run directories, study directories, or folders holding them")(
      "output,o", po::value<std::string>()->default_value("report.html"), "the HTML file to write");
  po::positional_options_description positional;
  positional.add("dirs", -1);
  po::variables_map vm;
  if (!parse(args, "ablate report DIR... [-o FILE.html]", options, positional, vm)) return 0;
  const std::vector<fs::path> sources = report::expand_sources(dirs_of(vm));
  const std::string page = report::render_page(report::collect_bundle(sources));
  const fs::path out = vm["output"].as<std::string>();
  write_atomic(out, page);
  std::cout << out.string() << "\n";
  spdlog::info("report of {} director{} ({} KB): {}", sources.size(),
               sources.size() == 1 ? "y" : "ies", page.size() / 1024, out.string());
  return 0;
}

int dashboard(const std::vector<std::string>& args) {
  po::options_description options("ablate dashboard");
  options.add_options()("dirs", po::value<std::vector<std::string>>()->required(),
                        "run directories, study directories, or folders holding them")(
      "port", po::value<unsigned short>()->default_value(8600), "port on 127.0.0.1 (0: any free one)")(
      "poll-ms", po::value<int>()->default_value(1000), "how often the page asks for new rows");
  po::positional_options_description positional;
  positional.add("dirs", -1);
  po::variables_map vm;
  if (!parse(args, "ablate dashboard DIR... [--port N]   (Ctrl-C ends it)", options, positional, vm))
    return 0;
  report::DashboardOptions dashboard;
  dashboard.dirs = dirs_of(vm);
  dashboard.port = vm["port"].as<unsigned short>();
  dashboard.poll_ms = std::max(100, vm["poll-ms"].as<int>());
  dashboard.on_listening = [](unsigned short port) {
    std::cout << "http://127.0.0.1:" << port << "/" << std::endl;
    spdlog::info("dashboard on http://127.0.0.1:{}/ (read-only; Ctrl-C ends it)", port);
  };
  return report::serve_dashboard(dashboard);
}

}  // namespace ablate::cli
