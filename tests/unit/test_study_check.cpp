// The check language of [[expect]] findings: parsing, precedence, evaluation, NaN, errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>

#include "study/plan.hpp"

using ablate::ConfigError;
using ablate::Location;
using ablate::study::Check;
using ablate::study::FigureRef;
using ablate::study::parse_check;

namespace {

const Location kWhere{"exp.toml", 7, 9};

/// The check's value with the figures given by name ("a.x" -> 0.5).
double eval(const std::string& text, const std::map<std::string, double>& figures = {}) {
  const Check check = parse_check(text, kWhere);
  return check.value([&](const FigureRef& ref) { return figures.at(ref.str()); });
}

/// The message of the ConfigError parsing `text` throws; checks it is located at the check.
std::string error_of(const std::string& text) {
  try {
    parse_check(text, kWhere);
  } catch (const ConfigError& error) {
    CHECK(error.where() == "exp.toml:7:9");
    return error.what();
  }
  FAIL("parsing '" << text << "' threw no ConfigError");
  return {};
}

}  // namespace

TEST_CASE("check: arithmetic follows the usual precedence", "[study][check]") {
  CHECK(eval("1 + 2 * 3 == 7") == 1);
  CHECK(eval("(1 + 2) * 3 == 9") == 1);
  CHECK(eval("10 - 4 - 3 == 3") == 1);  // left-associative
  CHECK(eval("8 / 4 / 2 == 1") == 1);
  CHECK(eval("-2 * -3 == 6") == 1);
  CHECK(eval("- -1 == 1") == 1);
  CHECK(eval("1.5e1 == 15 and .5 == 0.5 and 2E-1 == 0.2") == 1);
  CHECK(eval("2 * 3 > 5") == 1);
  CHECK(eval("1 + 1 != 2") == 0);
}

TEST_CASE("check: not binds tighter than and, and tighter than or", "[study][check]") {
  CHECK(eval("1 > 0 or 1 > 0 and 0 > 1") == 1);  // or (and)
  CHECK(eval("(1 > 0 or 1 > 0) and 0 > 1") == 0);
  CHECK(eval("not 0 > 1 and 1 > 0") == 1);  // (not ...) and ...
  CHECK(eval("not (1 > 0 and 0 > 1)") == 1);
  CHECK(eval("not not 1 > 0") == 1);
  for (const char* op : {"<", "<=", ">", ">=", "==", "!="}) {
    const std::string o(op);
    const double lt = eval("1 " + o + " 2"), eq = eval("2 " + o + " 2"), gt = eval("3 " + o + " 2");
    INFO(o);
    CHECK(lt == (o == "<" || o == "<=" || o == "!=" ? 1 : 0));
    CHECK(eq == (o == "<=" || o == ">=" || o == "==" ? 1 : 0));
    CHECK(gt == (o == ">" || o == ">=" || o == "!=" ? 1 : 0));
  }
}

TEST_CASE("check: figures are read by arm.metric, each listed once in order", "[study][check]") {
  const std::string text =
      "D.routing_accuracy - A.routing_accuracy > 4 * (D.test_accuracy - A.test_accuracy)";
  const Check check = parse_check(text, kWhere);
  REQUIRE(check.figures().size() == 4);
  CHECK(check.figures()[0] == FigureRef{"D", "routing_accuracy"});
  CHECK(check.figures()[1] == FigureRef{"A", "routing_accuracy"});
  CHECK(check.figures()[2] == FigureRef{"D", "test_accuracy"});
  CHECK(check.figures()[3] == FigureRef{"A", "test_accuracy"});
  std::map<std::string, double> figures{{"D.routing_accuracy", 0.95},
                                        {"A.routing_accuracy", 0.80},
                                        {"D.test_accuracy", 0.88},
                                        {"A.test_accuracy", 0.87}};
  auto lookup = [&](const FigureRef& ref) { return figures.at(ref.str()); };
  CHECK(check.holds(lookup));  // 0.15 > 0.04
  figures["D.test_accuracy"] = 0.93;
  CHECK_FALSE(check.holds(lookup));  // 0.15 > 0.24 fails
  CHECK(eval("fixed.test_accuracy > grow.test_accuracy + 0.01",
             {{"fixed.test_accuracy", 0.9}, {"grow.test_accuracy", 0.85}}) == 1);
}

TEST_CASE("check: a NaN figure makes every comparison reading it false", "[study][check]") {
  const double nan = std::nan("");
  const std::map<std::string, double> figures{{"a.x", nan}, {"b.x", 1.0}};
  for (const char* text :
       {"a.x > 0", "a.x < 0", "a.x == a.x", "a.x != 1", "a.x + 1 >= b.x", "-a.x <= b.x"})
    CHECK(eval(text, figures) == 0);
  CHECK(eval("a.x > 0 or b.x > 0", figures) == 1);  // the other side can still hold
  CHECK(eval("a.x > 0 and b.x > 0", figures) == 0);
  const Check check = parse_check("a.x > 0", kWhere);
  CHECK_FALSE(check.holds([](const FigureRef&) { return std::nan(""); }));
  CHECK_FALSE(Check().holds([](const FigureRef&) { return 1.0; }));  // an empty check holds nothing
}

TEST_CASE("check: errors name the column and what was expected", "[study][check]") {
  using Catch::Contains;
  CHECK_THAT(error_of("a.x > "), Contains("column 7") && Contains("expected a number") &&
                                     Contains("the end of the check"));
  CHECK_THAT(error_of("a.x >> 1"), Contains("column 6") && Contains("expected a number"));
  CHECK_THAT(error_of("a > 1"), Contains("column 3") && Contains("expected '.' after 'a'"));
  CHECK_THAT(error_of("a. > 1"), Contains("column 4") && Contains("expected a metric name"));
  CHECK_THAT(error_of("(a.x > 1"),
             Contains("column 9") && Contains("expected ')'") && Contains("column 1"));
  CHECK_THAT(error_of("a.x > 1 b.y"), Contains("column 9") && Contains("expected an operator"));
  CHECK_THAT(error_of("a.x $ 1"), Contains("column 5") && Contains("unexpected character '$'"));
  CHECK_THAT(error_of("1 < a.x < 2"), Contains("column 9") && Contains("do not chain"));
  CHECK_THAT(error_of("a.x + 1"), Contains("column 1") && Contains("not a condition"));
  CHECK_THAT(error_of("a.x and b.y > 1"),
             Contains("column 1") && Contains("'and' needs a condition"));
  CHECK_THAT(error_of("(a.x > 1) + 2 > 0"), Contains("column 1") && Contains("'+' needs a number"));
  CHECK_THAT(error_of("not a.x"), Contains("column 5") && Contains("'not' needs a condition"));
  CHECK_THAT(error_of("a.x > 1e"), Contains("column 7") && Contains("'1e' is not a number"));
  CHECK_THAT(error_of("a.x > 1.2.3"), Contains("column 7") && Contains("not a number"));
  CHECK_THAT(error_of("   "), Contains("empty"));
  CHECK_THAT(error_of("a.x > or"), Contains("column 7") && Contains("got 'or'"));
}

TEST_CASE("check: nesting is bounded, so a hostile check is an error and not a stack overflow",
          "[study][check][fuzz]") {
  // Found by tests/fuzz/fuzz_expect: a thousand '(' recursed until the stack ran out.
  const auto nested = [](int depth, const std::string& open) {
    std::string text;
    for (int i = 0; i < depth; ++i) text += open;
    text += "1";
    if (open == "(") text += std::string(static_cast<std::size_t>(depth), ')');
    return text + " > 0";
  };
  CHECK(eval(nested(100, "(")) == 1.0);
  CHECK(eval(nested(99, "-")) == 0.0);  // odd: -1 > 0 is false
  CHECK_THAT(error_of(nested(101, "(")), Catch::Contains("nests deeper than 100"));
  CHECK_THAT(error_of(nested(5000, "(")), Catch::Contains("nests deeper than 100"));
  CHECK_THAT(error_of(nested(5000, "-")), Catch::Contains("nests deeper than 100"));
  CHECK_THAT(error_of(nested(5000, "not ")), Catch::Contains("nests deeper than 100"));
}
