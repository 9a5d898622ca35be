#include "report/page.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

#include "ablate/error.hpp"

namespace ablate::report {
namespace assets {
// report_assets.cpp, generated at build time by cmake/embed_assets.cmake.
extern const std::string_view page_html, page_js, page_css, uplot_js, uplot_css;
}  // namespace assets

namespace {

struct Part {
  std::string_view placeholder;
  std::string with;
};

/// The template with each placeholder replaced, every one looked up in the template itself
/// (never in what was put in: a config or a log may spell a placeholder).
std::string fill(std::string_view page, std::vector<Part> parts) {
  std::vector<std::pair<std::size_t, const Part*>> at;
  for (const Part& part : parts) {
    const std::size_t pos = page.find(part.placeholder);
    if (pos == std::string_view::npos)
      throw Error("the report template has no " + std::string(part.placeholder) + " (a broken build)");
    at.emplace_back(pos, &part);
  }
  std::sort(at.begin(), at.end());
  std::string out;
  std::size_t from = 0;
  for (const auto& [pos, part] : at) {
    out.append(page.substr(from, pos - from));
    out += part->with;
    from = pos + part->placeholder.size();
  }
  out.append(page.substr(from));
  return out;
}

}  // namespace

std::string script_safe(const std::string& json) {
  std::string out;
  out.reserve(json.size());
  for (char c : json) {
    if (c == '<')
      out += "\\u003c";
    else
      out += c;
  }
  return out;
}

std::string render_page(const Json& bundle) {
  if (assets::uplot_js.empty() || assets::page_html.empty())
    throw Error("this build of ablate has no charting library for the report (uPlot from npm, "
                "in tools/web/node_modules): run tools/setup.sh, then cmake and the build again");
  // Scripts go in whole; a "</script" inside one would end its element early.
  for (std::string_view part : {assets::uplot_js, assets::page_js})
    if (part.find("</script") != std::string_view::npos)
      throw Error("a report script contains </script (a broken build)");
  return fill(assets::page_html,
              {{"/*ABLATE:STYLE*/", std::string(assets::uplot_css) + "\n" + std::string(assets::page_css)},
               {"/*ABLATE:SCRIPT*/", std::string(assets::uplot_js) + "\n" + std::string(assets::page_js)},
               {"<!--ABLATE:DATA-->", "<script id=\"ablate-data\" type=\"application/json\">" +
                                          script_safe(bundle.dump()) + "</script>"}});
}

}  // namespace ablate::report
