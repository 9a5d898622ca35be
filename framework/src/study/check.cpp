// The check language of [[expect]] findings: a small recursive-descent parser and evaluator.
//   or_expr    := and_expr ("or" and_expr)*
//   and_expr   := not_expr ("and" not_expr)*
//   not_expr   := "not" not_expr | comparison
//   comparison := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
//   sum        := product (("+" | "-") product)*
//   product    := unary (("*" | "/") unary)*
//   unary      := "-" unary | number | figure | call | "(" or_expr ")"
//   figure     := arm "." metric                  (its mean over seeds)
//   call       := ("diff_ci95" | "welch_p" | "cohen_d") "(" figure "," figure ")"
// Comparisons do not chain, arithmetic reads numbers only and `and`/`or`/`not` read conditions
// only: a check that mixes them is refused with the column, rather than given a meaning.
// diff_ci95 is an interval (study/statistics.hpp): it is only compared with a number, and holds
// on the whole interval: `diff_ci95(a.x, b.x) > 0` means its lower end is above 0.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <optional>

#include "study/plan.hpp"
#include "study/statistics.hpp"

namespace ablate::study {

struct Check::Node {
  enum class Op {
    number,
    figure,
    negate,
    add,
    subtract,
    multiply,
    divide,
    less,
    less_equal,
    greater,
    greater_equal,
    equal,
    not_equal,
    logical_and,
    logical_or,
    logical_not,
    diff_ci95,  // an interval: only a comparison's operand
    welch_p,
    cohen_d
  };
  Op op = Op::number;
  double number = 0;
  FigureRef figure, other;  // figure: a figure; both: a statistic's two arms
  std::shared_ptr<const Node> left, right;
};

namespace {

using Node = Check::Node;
using Op = Node::Op;
using NodePtr = std::shared_ptr<const Node>;

struct Token {
  enum class Kind { number, name, symbol, end };
  Kind kind = Kind::end;
  std::string text;
  std::size_t column = 0;  // from 1
};

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

std::string describe(const Token& token) {
  return token.kind == Token::Kind::end ? "the end of the check" : "'" + token.text + "'";
}

class Parser {
 public:
  Parser(const std::string& text, const Location& where) : text_(text), where_(where) {}

  Check parse() {
    if (text_.find_first_not_of(" \t") == std::string::npos)
      fail(1,
           "the check is empty: write a condition over arm.metric figures, e.g. "
           "\"a.test_accuracy > b.test_accuracy\"");
    advance();
    const Typed root = or_expr();
    if (token_.kind != Token::Kind::end)
      fail(token_.column,
           "expected an operator, 'and', 'or' or the end of the check, got " + describe(token_));
    if (!root.condition)
      fail(1, "the check is a number, not a condition: compare it, e.g. \"" + text_ + " > 0\"");
    return Check(root.node, figures_, pairs_);
  }

 private:
  struct Typed {
    NodePtr node;
    bool condition = false;  // a comparison or and/or/not, as opposed to a number
    std::size_t column = 0;
    bool interval = false;  // diff_ci95(...): neither a number nor a condition
  };

  [[noreturn]] void fail(std::size_t column, const std::string& message) const {
    throw ConfigError("check \"" + text_ + "\", column " + std::to_string(column) + ": " + message,
                      where_.str());
  }

  void advance() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
    token_ = {Token::Kind::end, "", pos_ + 1};
    if (pos_ >= text_.size()) return;
    const std::size_t start = pos_;
    const char c = text_[pos_];
    if (is_digit(c) || (c == '.' && pos_ + 1 < text_.size() && is_digit(text_[pos_ + 1]))) {
      while (pos_ < text_.size() && (is_digit(text_[pos_]) || text_[pos_] == '.')) ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
        std::size_t exponent = pos_ + 1;
        if (exponent < text_.size() && (text_[exponent] == '+' || text_[exponent] == '-'))
          ++exponent;
        if (exponent < text_.size() && is_digit(text_[exponent])) {
          pos_ = exponent;
          while (pos_ < text_.size() && is_digit(text_[pos_])) ++pos_;
        }
      }
      token_ = {Token::Kind::number, text_.substr(start, pos_ - start), start + 1};
      return;
    }
    if (is_name_start(c)) {
      while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
      token_ = {Token::Kind::name, text_.substr(start, pos_ - start), start + 1};
      return;
    }
    static const char* const kSymbols[] = {"<=", ">=", "==", "!=", "<", ">", "+",
                                           "-",  "*",  "/",  "(",  ")", ".", ","};
    for (const char* symbol : kSymbols)
      if (text_.compare(pos_, std::char_traits<char>::length(symbol), symbol) == 0) {
        pos_ += std::char_traits<char>::length(symbol);
        token_ = {Token::Kind::symbol, symbol, start + 1};
        return;
      }
    fail(start + 1, "unexpected character '" + std::string(1, c) +
                        "': a check has numbers, arm.metric figures, + - * / ( ), "
                        "< <= > >= == != and 'and', 'or', 'not'");
  }

  bool at_symbol(const char* symbol) const {
    return token_.kind == Token::Kind::symbol && token_.text == symbol;
  }
  bool at_word(const char* word) const {
    return token_.kind == Token::Kind::name && token_.text == word;
  }

  static NodePtr make(Op op, NodePtr left, NodePtr right = nullptr) {
    auto node = std::make_shared<Node>();
    node->op = op;
    node->left = std::move(left);
    node->right = std::move(right);
    return node;
  }

  void require(const Typed& operand, bool condition, const std::string& what) const {
    if (operand.interval)
      fail(operand.column, what + " cannot take diff_ci95(...), an interval: compare it with a "
                                  "number, e.g. diff_ci95(a.x, b.x) > 0");
    if (operand.condition == condition) return;
    fail(operand.column, condition ? what + " needs a condition (a comparison), got a number"
                                   : what + " needs a number, got a condition (a comparison)");
  }

  Typed logical(Op op, const char* word, Typed (Parser::*operand)()) {
    Typed left = (this->*operand)();
    while (at_word(word)) {
      advance();
      Typed right = (this->*operand)();
      require(left, true, std::string("'") + word + "'");
      require(right, true, std::string("'") + word + "'");
      left = {make(op, left.node, right.node), true, left.column};
    }
    return left;
  }

  Typed or_expr() { return logical(Op::logical_or, "or", &Parser::and_expr); }
  Typed and_expr() { return logical(Op::logical_and, "and", &Parser::not_expr); }

  // Parentheses, '-' and 'not' recurse: past this depth the check is refused, not the stack.
  static constexpr int kMaxDepth = 100;
  struct Nested {
    Parser& parser;
    explicit Nested(Parser& p, std::size_t column) : parser(p) {
      if (++parser.depth_ > kMaxDepth)
        parser.fail(column, "the check nests deeper than " + std::to_string(kMaxDepth) +
                                " parentheses, '-' and 'not'");
    }
    ~Nested() { --parser.depth_; }
  };

  Typed not_expr() {
    if (!at_word("not")) return comparison();
    const std::size_t column = token_.column;
    const Nested nested(*this, column);
    advance();
    const Typed operand = not_expr();
    require(operand, true, "'not'");
    return {make(Op::logical_not, operand.node), true, column};
  }

  std::optional<Op> comparison_op() const {
    static const std::pair<const char*, Op> kComparisons[] = {
        {"<", Op::less},           {"<=", Op::less_equal}, {">", Op::greater},
        {">=", Op::greater_equal}, {"==", Op::equal},      {"!=", Op::not_equal}};
    for (const auto& [symbol, op] : kComparisons)
      if (at_symbol(symbol)) return op;
    return std::nullopt;
  }

  Typed comparison() {
    const Typed left = sum();
    const auto op = comparison_op();
    if (!op) {
      if (left.interval)
        fail(left.column, "diff_ci95(...) is an interval: compare it with a number, e.g. "
                          "diff_ci95(a.x, b.x) > 0");
      return left;
    }
    const std::string symbol = token_.text;
    advance();
    const Typed right = sum();
    if (left.interval || right.interval) {
      if (*op == Op::equal || *op == Op::not_equal)
        fail(left.column, "an interval is compared with <, <=, > or >=, not " + symbol);
      if (left.interval && right.interval)
        fail(right.column, "two intervals cannot be compared: compare diff_ci95(...) with a number");
    }
    require(left.interval ? Typed{} : left, false, "'" + symbol + "'");
    require(right.interval ? Typed{} : right, false, "'" + symbol + "'");
    if (comparison_op())
      fail(token_.column, "comparisons do not chain: join them with 'and' (a < b and b < c)");
    // Two plain figures compared: reproduce prints their difference with its interval and p.
    if (left.node->op == Op::figure && right.node->op == Op::figure)
      add_pair(left.node->figure, right.node->figure);
    return {make(*op, left.node, right.node), true, left.column};
  }

  Typed arithmetic(Typed (Parser::*operand)(), const char* first, Op first_op, const char* second,
                   Op second_op) {
    Typed left = (this->*operand)();
    while (at_symbol(first) || at_symbol(second)) {
      const Op op = at_symbol(first) ? first_op : second_op;
      const std::string symbol = token_.text;
      advance();
      const Typed right = (this->*operand)();
      require(left, false, "'" + symbol + "'");
      require(right, false, "'" + symbol + "'");
      left = {make(op, left.node, right.node), false, left.column};
    }
    return left;
  }

  Typed sum() { return arithmetic(&Parser::product, "+", Op::add, "-", Op::subtract); }
  Typed product() { return arithmetic(&Parser::unary, "*", Op::multiply, "/", Op::divide); }

  Typed unary() {
    const std::size_t column = token_.column;
    if (at_symbol("-") || at_symbol("(")) {
      const Nested nested(*this, column);
      return at_symbol("-") ? negation(column) : parenthesized(column);
    }
    if (token_.kind == Token::Kind::number) return number();
    if (token_.kind == Token::Kind::name && !at_word("and") && !at_word("or") && !at_word("not"))
      return figure();
    fail(column, "expected a number, an arm.metric figure, '-' or '(', got " + describe(token_));
  }

  Typed negation(std::size_t column) {
    advance();
    const Typed operand = unary();
    require(operand, false, "unary '-'");
    return {make(Op::negate, operand.node), false, column};
  }

  Typed parenthesized(std::size_t column) {
    advance();
    Typed inner = or_expr();
    if (!at_symbol(")"))
      fail(token_.column, "expected ')' to close the '(' at column " + std::to_string(column) +
                              ", got " + describe(token_));
    advance();
    inner.column = column;
    return inner;
  }

  Typed number() {
    const Token token = token_;
    char* end = nullptr;
    const double value = std::strtod(token.text.c_str(), &end);
    if (end != token.text.c_str() + token.text.size())
      fail(token.column, "'" + token.text + "' is not a number");
    advance();
    if (token_.kind == Token::Kind::name && token_.column == token.column + token.text.size())
      fail(token.column, "'" + token.text + token_.text + "' is not a number");
    auto node = std::make_shared<Node>();
    node->number = value;
    return {node, false, token.column};
  }

  void add_pair(const FigureRef& a, const FigureRef& b) {
    if (std::find(pairs_.begin(), pairs_.end(), std::pair(a, b)) == pairs_.end())
      pairs_.emplace_back(a, b);
  }

  /// diff_ci95(a.x, b.x), welch_p(...), cohen_d(...): statistics over two arms' seeds.
  Typed call(const Token& name) {
    static const std::pair<const char*, Op> kCalls[] = {
        {"diff_ci95", Op::diff_ci95}, {"welch_p", Op::welch_p}, {"cohen_d", Op::cohen_d}};
    const auto* known = std::find_if(std::begin(kCalls), std::end(kCalls),
                                     [&](const auto& c) { return name.text == c.first; });
    if (known == std::end(kCalls))
      fail(name.column, "unknown function '" + name.text +
                            "': the check has diff_ci95, welch_p and cohen_d, each of two "
                            "figures, e.g. welch_p(a.test_accuracy, b.test_accuracy)");
    advance();  // past '('
    auto argument = [&](const char* after) {
      if (token_.kind != Token::Kind::name)
        fail(token_.column, name.text + "(...) takes two arm.metric figures, got " + describe(token_));
      const Typed operand = figure();
      if (!at_symbol(after))
        fail(token_.column, std::string("expected '") + after + "' in " + name.text +
                                "(a.metric, b.metric), got " + describe(token_));
      advance();
      return operand.node->figure;
    };
    auto node = std::make_shared<Node>();
    node->op = known->second;
    node->figure = argument(",");
    node->other = argument(")");
    add_pair(node->figure, node->other);
    return {node, false, name.column, node->op == Op::diff_ci95};
  }

  Typed figure() {
    const Token arm = token_;
    advance();
    if (at_symbol("(")) return call(arm);
    if (!at_symbol("."))
      fail(token_.column, "expected '.' after '" + arm.text +
                              "': a figure is written arm.metric, e.g. " + arm.text +
                              ".test_accuracy");
    advance();
    if (token_.kind != Token::Kind::name)
      fail(token_.column,
           "expected a metric name after '" + arm.text + ".', got " + describe(token_));
    auto node = std::make_shared<Node>();
    node->op = Op::figure;
    node->figure = {arm.text, token_.text};
    if (std::find(figures_.begin(), figures_.end(), node->figure) == figures_.end())
      figures_.push_back(node->figure);
    advance();
    return {node, false, arm.column};
  }

  const std::string& text_;
  const Location& where_;
  std::size_t pos_ = 0;
  Token token_;
  std::vector<FigureRef> figures_;
  std::vector<std::pair<FigureRef, FigureRef>> pairs_;
  int depth_ = 0;
};

double mean(const std::vector<double>& values) {
  if (values.empty()) return std::nan("");
  double sum = 0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

double evaluate(const Node& node, const Check::Values& values) {
  auto value = [&](const NodePtr& child) { return evaluate(*child, values); };
  auto stats = [&] { return compare_means(values(node.figure), values(node.other)); };
  // A comparison that reads NaN is false, != included: a missing figure supports no finding.
  // An interval compared with x holds on all of it: [lo, hi] > x is lo > x, x > [lo, hi] is
  // x > hi.
  auto compare = [&](auto holds) {
    auto side = [&](const NodePtr& child, bool low) {
      if (child->op != Op::diff_ci95) return value(child);
      const Comparison c = compare_means(values(child->figure), values(child->other));
      return low ? c.lo : c.hi;
    };
    const bool left_is_low = holds(1.0, 0.0);  // > and >=: the left operand's low end counts
    const double a = side(node.left, left_is_low), b = side(node.right, !left_is_low);
    return !std::isnan(a) && !std::isnan(b) && holds(a, b) ? 1.0 : 0.0;
  };
  switch (node.op) {
    case Op::number: return node.number;
    case Op::figure: return mean(values(node.figure));
    case Op::diff_ci95: return std::nan("");  // only read through compare()
    case Op::welch_p: return stats().p;
    case Op::cohen_d: return stats().cohen_d;
    case Op::negate: return -value(node.left);
    case Op::add: return value(node.left) + value(node.right);
    case Op::subtract: return value(node.left) - value(node.right);
    case Op::multiply: return value(node.left) * value(node.right);
    case Op::divide: return value(node.left) / value(node.right);
    case Op::less: return compare([](double a, double b) { return a < b; });
    case Op::less_equal: return compare([](double a, double b) { return a <= b; });
    case Op::greater: return compare([](double a, double b) { return a > b; });
    case Op::greater_equal: return compare([](double a, double b) { return a >= b; });
    case Op::equal: return compare([](double a, double b) { return a == b; });
    case Op::not_equal: return compare([](double a, double b) { return a != b; });
    case Op::logical_and: return value(node.left) != 0 && value(node.right) != 0 ? 1.0 : 0.0;
    case Op::logical_or: return value(node.left) != 0 || value(node.right) != 0 ? 1.0 : 0.0;
    case Op::logical_not: return value(node.left) == 0 ? 1.0 : 0.0;
  }
  return std::nan("");
}

}  // namespace

Check::Check() = default;

Check::Check(std::shared_ptr<const Node> root, std::vector<FigureRef> figures,
             std::vector<std::pair<FigureRef, FigureRef>> pairs)
    : root_(std::move(root)), figures_(std::move(figures)), pairs_(std::move(pairs)) {}

double Check::value(const Values& values) const {
  return root_ ? evaluate(*root_, values) : std::nan("");
}

bool Check::holds(const Values& values) const {
  const double result = value(values);
  return !std::isnan(result) && result != 0;
}

double Check::value(const std::function<double(const FigureRef&)>& figure) const {
  return value([&](const FigureRef& f) { return std::vector<double>{figure(f)}; });
}

bool Check::holds(const std::function<double(const FigureRef&)>& figure) const {
  return holds([&](const FigureRef& f) { return std::vector<double>{figure(f)}; });
}

Check parse_check(const std::string& text, const Location& where) {
  return Parser(text, where).parse();
}

}  // namespace ablate::study
