// `ablate report` and `ablate dashboard` (docs/REPORT.md) end to end: real runs and a real study
// made by the real binary, the page's bundle read back out of the HTML, the dashboard spoken to
// over HTTP, and (tests tagged [browser], tests/browser/page.mjs) the pages loaded in Debian's
// headless Chromium through playwright-core.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <map>

#include "runs/json.hpp"
#include "support.hpp"
#include "util/program.hpp"
#include "util/sha256.hpp"

using namespace ablate::test;
using ablate::Json;
namespace fs = std::filesystem;

namespace {

Json read_json(const fs::path& file) { return Json::parse(read_text(file)); }

/// The bundle a report page carries (its <script id="ablate-data">), parsed.
Json bundle_of(const std::string& html) {
  const std::string open = "<script id=\"ablate-data\" type=\"application/json\">";
  const auto from = html.find(open);
  REQUIRE(from != std::string::npos);
  const auto to = html.find("</script>", from);
  REQUIRE(to != std::string::npos);
  return Json::parse(html.substr(from + open.size(), to - from - open.size()));
}

std::size_t epoch_rows(const fs::path& run) {
  std::size_t n = 0;
  std::istringstream lines(read_text(run / "metrics.jsonl"));
  for (std::string line; std::getline(lines, line);)
    if (line.find("\"kind\":\"epoch\"") != std::string::npos) ++n;
  return n;
}

/// Every file under `dir` with its sha256 and modification time: what a reader must not change.
std::map<std::string, std::string> fingerprint(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file())
      out[fs::relative(e.path(), dir).string()] =
          ablate::sha256_file(e.path()) + " " +
          std::to_string(fs::last_write_time(e.path()).time_since_epoch().count());
  return out;
}

// Two arms of an MLP on the real digits, two seeds each; one finding holds, one fails.
const char* kStudy = R"toml([experiment]
name = "report_study"
seed = 1
seeds = [1, 2]

[dataset]
plugin = "digits"

[topology]
plugin = "mlp"
hidden = [32]

[train]
epochs = 4
batch_size = 64
lr = 0.05
threads = 1

[[arm]]
name = "plain"

[[arm]]
name = "slow"
set = { "train.lr" = 0.005 }

[[expect]]
finding = "a 10x smaller learning rate trains worse in 4 epochs"
check = "slow.val_accuracy < plain.val_accuracy"

[[expect]]
finding = "the small learning rate wins (it does not)"
check = "slow.val_accuracy > plain.val_accuracy"
)toml";

/// A plain HTTP/1.1 exchange with 127.0.0.1:`port`: the status line's code, headers and body.
struct HttpReply {
  int status = 0;
  std::string head, body;
};

HttpReply http(unsigned short port, const std::string& method, const std::string& target,
               const std::string& extra_headers = {}) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  const std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                              extra_headers + "Content-Length: 0\r\nConnection: close\r\n\r\n";
  REQUIRE(::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size()));
  std::string reply;
  char chunk[65536];
  for (ssize_t n; (n = ::read(fd, chunk, sizeof chunk)) > 0;) reply.append(chunk, static_cast<std::size_t>(n));
  ::close(fd);
  HttpReply out;
  const auto split = reply.find("\r\n\r\n");
  REQUIRE(split != std::string::npos);
  out.head = reply.substr(0, split);
  out.body = reply.substr(split + 4);
  out.status = std::stoi(out.head.substr(9, 3));
  return out;
}

std::string header(const HttpReply& reply, const std::string& name) {
  std::istringstream lines(reply.head);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    std::transform(key.begin(), key.end(), key.begin(), ::tolower);
    if (key == name) return line.substr(line.find_first_not_of(' ', colon + 1));
  }
  return {};
}

/// `ablate dashboard ARGS --port 0`, running: its pid and the port it printed.
struct Dashboard {
  int pid = 0;
  unsigned short port = 0;
};

Dashboard start_dashboard(const std::vector<std::string>& dirs, const fs::path& log) {
  std::vector<std::string> argv{ABLATE_BINARY, "dashboard"};
  argv.insert(argv.end(), dirs.begin(), dirs.end());
  argv.insert(argv.end(), {"--port", "0", "--poll-ms", "200"});
  Dashboard d;
  d.pid = ablate::start_program(argv, log);
  for (int i = 0; i < 200 && d.port == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const std::string out = read_text(log);
    const auto at = out.find("http://127.0.0.1:");
    if (at != std::string::npos && out.find('/', at + 17) != std::string::npos)
      d.port = static_cast<unsigned short>(std::stoi(out.substr(at + 17)));
  }
  REQUIRE(d.port != 0);
  return d;
}

/// Why the browser tests cannot run here, or empty when they can.
std::string browser_missing() {
  if (!fs::exists("/usr/bin/chromium")) return "no /usr/bin/chromium (tools/setup.sh installs it)";
  if (!fs::exists(fs::path(ABLATE_SOURCE_DIR) / "tools/web/node_modules/playwright-core"))
    return "no playwright-core in tools/web/node_modules (tools/setup.sh installs it)";
  return {};
}

/// tests/browser/page.mjs on `url`: what the page showed, its console errors and requests.
Json open_in_browser(const std::string& url, const fs::path& screenshot,
                     const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv{"node", std::string(ABLATE_SOURCE_DIR) + "/tests/browser/page.mjs",
                                url, "--screenshot", screenshot.string()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  const auto out = ablate::program_output(argv);
  INFO("page.mjs " << url);
  REQUIRE(out.has_value());
  return Json::parse(*out);
}

const Json* source_with_id(const Json& summary, const std::string& id) {
  for (const Json& s : summary.at("sources").as_array())
    if (s.contains("id") && s.at("id").is_string() && s.at("id").as_string() == id) return &s;
  return nullptr;
}

/// A page that loaded cleanly: no console error, no request off this machine, a screenshot.
void check_clean(const Json& page) {
  INFO(page.dump());
  CHECK(page.at("console_errors").size() == 0);
  CHECK(page.at("external_requests").size() == 0);
  CHECK(page.at("screenshot_bytes").as_number() > 20000);
}

}  // namespace

TEST_CASE("ablate report: one self-contained page holding a run's own files", "[report]") {
  TempDir tmp("ablate-report-run");
  const auto r = run_ablate("run " + std::string(ABLATE_SOURCE_DIR) +
                            "/experiments/quickstart.toml --out " + (tmp / "runs").string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const fs::path run = run_dir_of(r);
  const auto before = fingerprint(run);

  const auto report = run_ablate("report " + run.string() + " -o " + (tmp / "r.html").string());
  INFO(report.output);
  REQUIRE(report.exit_code == 0);
  CHECK(fingerprint(run) == before);  // reading never writes
  const std::string html = read_text(tmp / "r.html");
  // Self-contained: nothing fetched, uPlot inlined.
  CHECK(html.find("src=\"http") == std::string::npos);
  CHECK(html.find("href=\"http") == std::string::npos);
  CHECK(html.find("uPlot") != std::string::npos);

  const Json bundle = bundle_of(html);
  CHECK(bundle.at("live").is_null());
  REQUIRE(bundle.at("sources").size() == 1);
  const Json& source = bundle.at("sources").at(0);
  CHECK(source.at("type").as_string() == "run");
  CHECK(source.at("name").as_string() == "quickstart");
  CHECK(source.at("id").as_string() == run.filename().string());
  const Json& files = source.at("files");
  CHECK(files.at("metrics.jsonl").as_string() == read_text(run / "metrics.jsonl"));
  CHECK(files.at("config.toml").as_string() == read_text(run / "config.toml"));
  CHECK(files.at("manifest.json") == read_json(run / "manifest.json"));
  CHECK(files.at("summary.json") == read_json(run / "summary.json"));
  CHECK(files.at("progress.json").is_null());  // removed when the run ended
  // The sum cache as the run saved it: every unit of the MLP's three layers, one record each.
  const Json& sums = source.at("sum_cache");
  REQUIRE(sums.is_object());
  CHECK(sums.at("layers").size() == 3);
  CHECK(sums.at("units").size() == 256 + 256 + 10);
  CHECK(sums.at("units").at(0).at("records").size() == 1);
  CHECK(source.at("errors").size() == 0);

  // A folder of runs is every run in it.
  const auto folder = run_ablate("report " + (tmp / "runs").string() + " -o " + (tmp / "f.html").string());
  REQUIRE(folder.exit_code == 0);
  CHECK(bundle_of(read_text(tmp / "f.html")).at("sources").size() == 1);
}

TEST_CASE("ablate report: a study's trials with their runs, results and findings", "[report]") {
  TempDir tmp("ablate-report-study");
  write_text(tmp / "study.toml", kStudy);
  const auto r = run_ablate("reproduce " + (tmp / "study.toml").string() + " -j 2 --out " +
                            (tmp / "studies").string());
  INFO(r.output);
  REQUIRE(r.exit_code == 3);  // one finding fails, as written
  const fs::path study = study_dir_of(r);
  REQUIRE(!study.empty());
  const auto report = run_ablate("report " + study.string() + " -o " + (tmp / "s.html").string());
  INFO(report.output);
  REQUIRE(report.exit_code == 0);
  const Json bundle = bundle_of(read_text(tmp / "s.html"));
  const Json& source = bundle.at("sources").at(0);
  CHECK(source.at("type").as_string() == "study");
  CHECK(source.at("kind").as_string() == "reproduce");
  CHECK(source.at("files").at("results.csv").as_string() == read_text(study / "results.csv"));
  CHECK(source.at("files").at("findings.json") == read_json(study / "findings.json"));
  REQUIRE(source.at("trials").size() == 4);
  for (const Json& trial : source.at("trials").as_array()) {
    CHECK(trial.at("state").as_string() == "ok");
    REQUIRE(trial.at("run").is_object());
    CHECK(epoch_rows(trial.at("run").at("path").as_string()) == 4);
  }
  // A trial never started is queued.
  fs::remove(study / "trials/slow-s2/status.json");
  fs::remove_all(study / "trials/slow-s2/report_study");
  const auto again = run_ablate("report " + study.string() + " -o " + (tmp / "s2.html").string());
  REQUIRE(again.exit_code == 0);
  const Json trials = bundle_of(read_text(tmp / "s2.html")).at("sources").at(0).at("trials");
  std::map<std::string, std::string> states;
  for (const Json& t : trials.as_array()) states[t.at("id").as_string()] = t.at("state").as_string();
  CHECK(states["slow-s2"] == "queued");
  CHECK(states["plain-s1"] == "ok");
}

TEST_CASE("ablate report: what it cannot read is named, and the rest is reported", "[report]") {
  TempDir tmp("ablate-report-bad");
  const auto none = run_ablate("report " + (tmp / "missing").string());
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.output, Catch::Contains("missing is not a directory"));
  fs::create_directories(tmp / "empty");
  const auto empty = run_ablate("report " + (tmp / "empty").string());
  CHECK(empty.exit_code == 2);
  CHECK_THAT(empty.output, Catch::Contains("holds no run or study"));

  // A run killed mid-line and a sum cache cut short: the metrics go in as they are.
  const fs::path run = tmp / "runs/x/20260101-000000-abcdef";
  write_text(run / "config.toml", "[experiment]\nname = \"x\"\n");
  const std::string metrics = "{\"kind\":\"epoch\",\"epoch\":1,\"train_loss\":0.5}\n{\"kind\":\"ep";
  write_text(run / "metrics.jsonl", metrics);
  write_text(run / "manifest.json", "{\"seed\": 1,");
  write_text(run / "sumcache.bin", "ABLATESUMS but not really");
  const auto r = run_ablate("report " + run.string() + " -o " + (tmp / "x.html").string());
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  const Json source = bundle_of(read_text(tmp / "x.html")).at("sources").at(0);
  CHECK(source.at("files").at("metrics.jsonl").as_string() == metrics);
  CHECK(source.at("files").at("manifest.json").is_null());
  CHECK(source.at("sum_cache").is_null());
  const std::string errors = source.at("errors").dump();
  CHECK_THAT(errors, Catch::Contains("manifest.json is not valid JSON"));
  CHECK_THAT(errors, Catch::Contains("sumcache.bin"));
}

TEST_CASE("ablate run: progress.json says which layer and unit a hashtron run is fitting, and "
          "goes when the run ends",
          "[report][hashtron]") {
  TempDir tmp("ablate-report-progress");
  const fs::path log = tmp / "run.log";
  const int pid = ablate::start_program(
      {ABLATE_BINARY, "run", std::string(ABLATE_SOURCE_DIR) + "/experiments/hashtron_backward_vs_forward.toml",
       "--set", "orderer.plugin=gold_zone", "--set", "orderer.units=1000", "--set",
       "capacity.plugin=moving_average", "--seed", "1", "--out", (tmp / "runs").string()},
      log);
  Json progress;
  fs::path run;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    run = newest_run_in(tmp / "runs", "hashtron_backward_vs_forward");
    if (!run.empty() && fs::exists(run / "progress.json")) {
      try {
        progress = read_json(run / "progress.json");
        if (progress.contains("unit")) break;
      } catch (const std::exception&) {  // replaced atomically: never half a file, but retry
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  INFO(read_text(log));
  REQUIRE(progress.contains("unit"));
  const std::string layer = progress.at("layer").as_string();
  CHECK((layer == "hashtron1" || layer == "hashtron2"));
  CHECK(progress.at("unit").as_number() < (layer == "hashtron1" ? 400 : 40));
  CHECK(progress.at("units_done").as_number() <= progress.at("units_total").as_number());
  CHECK(progress.at("pid").as_number() == pid);
  // The dashboard's bundle knows the writer is alive.
  const auto report = run_ablate("report " + run.string() + " -o " + (tmp / "p.html").string());
  REQUIRE(report.exit_code == 0);
  const Json during = bundle_of(read_text(tmp / "p.html")).at("sources").at(0).at("files");
  if (during.at("progress.json").is_object())  // the run may have ended in between
    CHECK(during.at("progress.json").at("alive").as_bool());
  const ablate::ProgramExit exit = ablate::wait_program(pid);
  CHECK(exit.exit_code == 0);
  CHECK_FALSE(fs::exists(run / "progress.json"));
}

TEST_CASE("ablate dashboard: the page and its bundle over HTTP on 127.0.0.1, read-only, ended "
          "by SIGINT",
          "[report][dashboard]") {
  TempDir tmp("ablate-dashboard");
  const auto r = run_ablate("run " + std::string(ABLATE_SOURCE_DIR) +
                            "/experiments/quickstart.toml --set train.epochs=1 --out " + (tmp / "runs").string());
  REQUIRE(r.exit_code == 0);
  const fs::path run = run_dir_of(r);
  const auto before = fingerprint(run);
  const Dashboard d = start_dashboard({(tmp / "runs").string()}, tmp / "dashboard.log");

  const HttpReply page = http(d.port, "GET", "/");
  CHECK(page.status == 200);
  CHECK_THAT(header(page, "content-type"), Catch::Contains("text/html"));
  const Json live = bundle_of(page.body).at("live");
  CHECK(live.at("poll").as_string() == "/bundle.json");

  const HttpReply json = http(d.port, "GET", "/bundle.json");
  CHECK(json.status == 200);
  const std::string etag = header(json, "etag");
  REQUIRE(!etag.empty());
  CHECK(Json::parse(json.body).at("sources").at(0).at("id").as_string() == run.filename().string());
  // Unchanged: 304. Changed: a new ETag and the new row.
  CHECK(http(d.port, "GET", "/bundle.json", "If-None-Match: " + etag + "\r\n").status == 304);
  // Read-only: no method but GET and HEAD, nothing else served.
  CHECK(http(d.port, "POST", "/bundle.json").status == 405);
  CHECK(http(d.port, "PUT", "/").status == 405);
  CHECK(http(d.port, "DELETE", "/bundle.json").status == 405);
  CHECK(http(d.port, "GET", "/../config.toml").status == 404);
  CHECK(fingerprint(run) == before);

  // A run that appears in the watched folder shows up.
  const auto second = run_ablate("run " + std::string(ABLATE_SOURCE_DIR) +
                                 "/experiments/quickstart.toml --set train.epochs=1 --seed 2 --out " +
                                 (tmp / "runs").string());
  REQUIRE(second.exit_code == 0);
  const HttpReply changed = http(d.port, "GET", "/bundle.json", "If-None-Match: " + etag + "\r\n");
  CHECK(changed.status == 200);
  CHECK(header(changed, "etag") != etag);
  CHECK(Json::parse(changed.body).at("sources").size() == 2);

  // A port in use is a clear error.
  const auto busy = run_ablate("dashboard " + run.string() + " --port " + std::to_string(d.port));
  CHECK(busy.exit_code == 1);
  CHECK_THAT(busy.output, Catch::Contains("cannot listen on 127.0.0.1:" + std::to_string(d.port)));

  ::kill(d.pid, SIGINT);
  const ablate::ProgramExit exit = ablate::wait_program(d.pid);
  CHECK(exit.exit_code == 0);
  CHECK(exit.signal == 0);
  const auto bad = run_ablate("dashboard " + (tmp / "nothing").string() + " --port 0");
  CHECK(bad.exit_code == 2);
}

// ---- In a real browser: Debian's chromium, driven by playwright-core (tests/browser/page.mjs).
// Registered only where both are installed (tests/CMakeLists.txt says why not, elsewhere).
// ABLATE_SCREENSHOTS=DIR keeps the screenshots there to look at.

namespace {

fs::path screenshot_path(const TempDir& tmp, const std::string& name) {
  const char* keep = std::getenv("ABLATE_SCREENSHOTS");
  const fs::path dir = keep ? fs::path(keep) : tmp.path();
  fs::create_directories(dir);
  return dir / (name + ".png");
}

/// Every per-epoch curve of a run shows one point per epoch row of its metrics.jsonl.
void check_curves(const Json& source, std::size_t rows) {
  INFO(source.dump());
  CHECK(source.at("epochs").as_number() == static_cast<double>(rows));
  std::size_t checked = 0;
  for (const Json& curve : source.at("curves").as_array()) {
    const std::string title = curve.at("title").as_string();
    for (const Json& series : curve.at("series").as_array()) {
      const std::string label = series.at("label").as_string();
      if (label != "train_loss" && label != "train_accuracy" && label != "val_accuracy") continue;
      INFO(title << " / " << label);
      CHECK(series.at("points").as_number() == static_cast<double>(rows));
      ++checked;
    }
  }
  CHECK(checked >= 3);
}

}  // namespace

TEST_CASE("the report of a quickstart run, a hashtron backward run and a study loads in a "
          "browser with every row, finding and trial shown",
          "[report][browser]") {
  REQUIRE(browser_missing().empty());
  TempDir tmp("ablate-report-browser");
  const auto quick = run_ablate("run " + std::string(ABLATE_SOURCE_DIR) +
                                "/experiments/quickstart.toml --out " + (tmp / "runs").string());
  REQUIRE(quick.exit_code == 0);
  const fs::path run = run_dir_of(quick);
  const auto hashtron = run_ablate(
      "run " + std::string(ABLATE_SOURCE_DIR) + "/experiments/hashtron_backward_vs_forward.toml "
      "--set orderer.plugin=gold_zone --set orderer.units=1000 --set capacity.plugin=moving_average "
      "--out " + (tmp / "runs").string());
  REQUIRE(hashtron.exit_code == 0);
  const fs::path backward = run_dir_of(hashtron);
  write_text(tmp / "study.toml", kStudy);
  const auto study_run = run_ablate("reproduce " + (tmp / "study.toml").string() + " -j 2 --out " +
                                    (tmp / "studies").string());
  REQUIRE(study_run.exit_code == 3);
  const fs::path study = study_dir_of(study_run);

  SECTION("a run") {
    REQUIRE(run_ablate("report " + run.string() + " -o " + (tmp / "run.html").string()).exit_code == 0);
    const Json page = open_in_browser("file://" + (tmp / "run.html").string(),
                                      screenshot_path(tmp, "report-quickstart"));
    check_clean(page);
    const Json* source = source_with_id(page.at("report"), run.filename().string());
    REQUIRE(source);
    check_curves(*source, epoch_rows(run));
    CHECK(source->at("malformed_lines").size() == 0);
  }
  SECTION("a hashtron backward run") {
    REQUIRE(run_ablate("report " + backward.string() + " -o " + (tmp / "h.html").string()).exit_code == 0);
    const Json page = open_in_browser("file://" + (tmp / "h.html").string(),
                                      screenshot_path(tmp, "report-hashtron-backward"));
    check_clean(page);
    const Json* source = source_with_id(page.at("report"), backward.filename().string());
    REQUIRE(source);
    CHECK(source->at("epochs").as_number() == static_cast<double>(epoch_rows(backward)));
  }
  SECTION("a study") {
    REQUIRE(run_ablate("report " + study.string() + " -o " + (tmp / "s.html").string()).exit_code == 0);
    const Json page = open_in_browser("file://" + (tmp / "s.html").string(),
                                      screenshot_path(tmp, "report-study"));
    check_clean(page);
    const Json& report = page.at("report");
    std::map<std::string, std::string> shown, stored;
    for (const Json& f : report.at("findings").as_array())
      shown[f.at("finding").as_string()] = f.at("verdict").as_string();
    const Json findings = read_json(study / "findings.json");
    for (const Json& f : findings.as_array())
      stored[f.at("finding").as_string()] = f.at("verdict").as_string();
    CHECK(shown == stored);
    CHECK(shown.size() == 2);
    // Each finding compares one pair: its difference, interval and p are on the page.
    REQUIRE(report.at("comparisons").size() == 2);
    for (const Json& line : report.at("comparisons").as_array()) {
      CHECK_THAT(line.as_string(), Catch::Contains("slow.val_accuracy - plain.val_accuracy = -"));
      CHECK_THAT(line.as_string(), Catch::Contains("95% CI") && Catch::Contains("Welch p = "));
    }
    REQUIRE(report.at("trials").size() == 4);
    for (const Json& t : report.at("trials").as_array()) CHECK(t.at("state").as_string() == "ok");
    // Each trial's run, every epoch row a point.
    const Json bundle = bundle_of(read_text(tmp / "s.html"));
    for (const Json& trial : bundle.at("sources").at(0).at("trials").as_array()) {
      const Json* source = source_with_id(report, trial.at("run").at("id").as_string());
      REQUIRE(source);
      check_curves(*source, 4);
    }
  }
  SECTION("a study with a [regime]: each finding's verdict at each value") {
    write_text(tmp / "regime.toml", kRegimeStudy);
    const auto r = run_ablate("reproduce " + (tmp / "regime.toml").string() + " -j 2 --out " +
                              (tmp / "studies").string());
    const fs::path regime = study_dir_of(r);
    REQUIRE(fs::exists(regime / "findings.json"));
    REQUIRE(run_ablate("report " + regime.string() + " -o " + (tmp / "r.html").string()).exit_code == 0);
    const Json page = open_in_browser("file://" + (tmp / "r.html").string(),
                                      screenshot_path(tmp, "report-regime"));
    check_clean(page);
    const Json& rows = page.at("report").at("regime_rows");
    const Json stored = read_json(regime / "findings.json").as_array()[0].at("regimes");
    REQUIRE(rows.size() == 6);  // two findings at three values
    for (std::size_t i = 0; i < 3; ++i) {
      const std::string row = rows.as_array()[i].as_string();
      CHECK_THAT(row, Catch::StartsWith(stored.as_array()[i].at("value").as_string()));
      CHECK_THAT(row, Catch::Contains(stored.as_array()[i].at("verdict").as_string()));
      CHECK_THAT(row, Catch::Contains("] p = "));
    }
  }
  SECTION("a run killed mid-line: the page says so and shows the rest") {
    const fs::path cut = tmp / "cut/quickstart" / run.filename();
    fs::create_directories(cut.parent_path());
    fs::copy(run, cut, fs::copy_options::recursive);
    std::string metrics = read_text(run / "metrics.jsonl");
    const std::size_t whole = count_lines(metrics);
    metrics.resize(metrics.size() - 40);  // the last row loses its end
    write_text(cut / "metrics.jsonl", metrics);
    REQUIRE(run_ablate("report " + cut.string() + " -o " + (tmp / "cut.html").string()).exit_code == 0);
    const Json page = open_in_browser("file://" + (tmp / "cut.html").string(),
                                      screenshot_path(tmp, "report-half-written"));
    check_clean(page);
    const Json* source = source_with_id(page.at("report"), cut.filename().string());
    REQUIRE(source);
    REQUIRE(source->at("malformed_lines").size() == 1);
    CHECK(source->at("malformed_lines").at(0).as_number() == static_cast<double>(whole));
    CHECK(source->at("metrics_rows").as_number() == static_cast<double>(whole - 1));
    CHECK_THAT(page.at("report").at("errors").dump(), Catch::Contains("metrics.jsonl line " + std::to_string(whole)));
    check_curves(*source, epoch_rows(run));  // the cut row was the last (task) row
  }
}

TEST_CASE("the dashboard shows a new epoch of a running run without a reload",
          "[report][dashboard][browser]") {
  REQUIRE(browser_missing().empty());
  TempDir tmp("ablate-dashboard-browser");
  // Digits, MLP: one epoch, then (study_probe) a pause of 8 s, then five more epochs.
  write_text(tmp / "slow.toml",
             "[experiment]\nname = \"slow\"\nseed = 3\nplugin_paths = [\"" ABLATE_TEST_PLUGIN_DIR
             "/study_probe\"]\n\n[dataset]\nplugin = \"digits\"\n\n[topology]\nplugin = \"mlp\"\n"
             "hidden = [32]\n\n[orderer]\nplugin = \"study_probe\"\npause_seconds = 8\n\n"
             "[train]\nepochs = 6\nbatch_size = 64\nlr = 0.05\nthreads = 1\n");
  const int run_pid = ablate::start_program(
      {ABLATE_BINARY, "run", (tmp / "slow.toml").string(), "--out", (tmp / "runs").string()},
      tmp / "run.log");
  fs::path run;
  for (int i = 0; i < 600 && (run.empty() || !fs::exists(run / "metrics.jsonl") || epoch_rows(run) < 1); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    run = newest_run_in(tmp / "runs", "slow");
  }
  REQUIRE(epoch_rows(run) == 1);
  const Dashboard d = start_dashboard({run.string()}, tmp / "dashboard.log");
  const Json page = open_in_browser("http://127.0.0.1:" + std::to_string(d.port) + "/",
                                    screenshot_path(tmp, "dashboard-live"),
                                    {"--wait-for-epochs", run.filename().string() + "=6"});
  check_clean(page);
  const ablate::ProgramExit run_exit = ablate::wait_program(run_pid);
  CHECK(run_exit.exit_code == 0);
  ::kill(d.pid, SIGINT);
  CHECK(ablate::wait_program(d.pid).exit_code == 0);
  const Json* source = source_with_id(page.at("report"), run.filename().string());
  REQUIRE(source);
  CHECK(source->at("epochs").as_number() == 6);
  // The page was loaded once and saw the run at one epoch first.
  CHECK(page.at("navigations").as_number() == 1);
  const Json* first = source_with_id(page.at("initial"), run.filename().string());
  REQUIRE(first);
  CHECK(first->at("epochs").as_number() == 1);
}
