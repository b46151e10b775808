// Hand-written: no packaged library does safe arithmetic expression parsing for us, with
// bounded recursion, errors that name the column, and nothing beyond arithmetic (no
// variables, assignments or calls into the host).
#include "tools/calculator.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <numbers>
#include <optional>
#include <vector>

namespace grok::tools {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }
char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// How a character from the input appears in an error message: printable ASCII quoted,
// anything else (control bytes, NUL, UTF-8 pieces) as a hex byte, so a message never
// carries raw bytes.
std::string describe_char(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (byte >= 0x20 && byte < 0x7f) return std::string("'") + c + "'";
  std::array<char, 16> buf{};
  std::snprintf(buf.data(), buf.size(), "byte 0x%02X", byte);
  return buf.data();
}

struct function_spec {
  std::string_view name;
  int min_args;
  int max_args;  // -1: any number
};

constexpr std::array<function_spec, 15> k_functions{{
    {"sqrt", 1, 1},
    {"abs", 1, 1},
    {"round", 1, 1},
    {"floor", 1, 1},
    {"ceil", 1, 1},
    {"ln", 1, 1},
    {"log10", 1, 1},
    {"exp", 1, 1},
    {"sin", 1, 1},
    {"cos", 1, 1},
    {"tan", 1, 1},
    {"pow", 2, 2},
    {"min", 1, -1},
    {"max", 1, -1},
    {"log", 1, 1},  // refused below with a hint: ln or log10 would be a guess
}};

const function_spec* find_function(std::string_view name) {
  for (const auto& f : k_functions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

double apply_function(std::string_view name, const std::vector<double>& a) {
  if (name == "sqrt") return std::sqrt(a[0]);
  if (name == "abs") return std::fabs(a[0]);
  if (name == "round") return std::round(a[0]);
  if (name == "floor") return std::floor(a[0]);
  if (name == "ceil") return std::ceil(a[0]);
  if (name == "ln") return std::log(a[0]);
  if (name == "log10") return std::log10(a[0]);
  if (name == "exp") return std::exp(a[0]);
  if (name == "sin") return std::sin(a[0]);
  if (name == "cos") return std::cos(a[0]);
  if (name == "tan") return std::tan(a[0]);
  if (name == "pow") return std::pow(a[0], a[1]);
  double best = a[0];
  for (double v : a) best = (name == "min") ? std::fmin(best, v) : std::fmax(best, v);
  return best;
}

// from_chars reports overflow and underflow alike; tells them apart by the decimal
// exponent of the first significant digit. `lexeme` is digits, an optional '.', and an
// optional exponent, as parse_number accepts them.
bool underflows(std::string_view lexeme) {
  const std::size_t e_pos = lexeme.find_first_of("eE");
  const std::string_view mantissa = lexeme.substr(0, e_pos);
  long long exponent = 0;
  if (e_pos != std::string_view::npos) {
    std::size_t i = e_pos + 1;
    const bool negative = i < lexeme.size() && lexeme[i] == '-';
    if (i < lexeme.size() && (lexeme[i] == '-' || lexeme[i] == '+')) ++i;
    for (; i < lexeme.size(); ++i) {
      exponent = std::min(exponent * 10 + (lexeme[i] - '0'), 1'000'000LL);  // clamped
    }
    if (negative) exponent = -exponent;
  }
  const std::size_t dot = std::min(mantissa.find('.'), mantissa.size());
  const std::size_t first = mantissa.find_first_of("123456789");
  if (first == std::string_view::npos) return true;  // all zeros
  const auto d = static_cast<long long>(dot);
  const auto f = static_cast<long long>(first);
  const long long magnitude = f < d ? d - f - 1 : -(f - d);
  return magnitude + exponent < 0;
}

class parser {
 public:
  explicit parser(std::string_view text) : text_(text) {}

  result<double> parse_all() {
    auto value = parse_expr();
    if (!value) return value;
    skip_space();
    if (pos_ < text_.size()) return unexpected_here();
    return value;
  }

 private:
  // 1-based, as people count columns.
  [[nodiscard]] std::size_t column(std::size_t pos) const { return pos + 1; }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  // Peeks at the next non-space character; '\0' at the end (the end is checked by
  // position, so a NUL byte in the input is still reported as a byte).
  char peek() {
    skip_space();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }
  [[nodiscard]] bool at_end() const { return pos_ >= text_.size(); }

  tl::unexpected<error> error_at(std::size_t pos, const std::string& what) const {
    return fail(errc::invalid_argument, what + " at column " + std::to_string(column(pos)));
  }

  tl::unexpected<error> unexpected_here() {
    skip_space();
    if (at_end()) return fail(errc::invalid_argument, "unexpected end of expression");
    return error_at(pos_, "unexpected " + describe_char(text_[pos_]));
  }

  // Every recursion (a parenthesis or argument list, a sign, an exponent) goes through
  // this guard, so the stack stays bounded whatever the input.
  struct depth_guard {
    int& depth;
    explicit depth_guard(int& d) : depth(d) { ++depth; }
    ~depth_guard() { --depth; }
    depth_guard(const depth_guard&) = delete;
    depth_guard& operator=(const depth_guard&) = delete;
  };

  tl::unexpected<error> too_deep() const {
    return error_at(pos_, "expression nested deeper than " +
                              std::to_string(k_calculator_max_depth) + " levels");
  }

  result<double> check_finite(double v, std::size_t pos, std::string_view what) const {
    if (std::isfinite(v)) return v;
    return error_at(pos, "result of " + std::string(what) + " is not a finite number");
  }

  result<double> parse_expr() {
    depth_guard guard(depth_);
    if (depth_ > k_calculator_max_depth) return too_deep();
    auto left = parse_term();
    if (!left) return left;
    for (;;) {
      const char op = peek();
      if (at_end() || (op != '+' && op != '-')) return left;
      const std::size_t op_pos = pos_++;
      auto right = parse_term();
      if (!right) return right;
      const double v = op == '+' ? *left + *right : *left - *right;
      left = check_finite(v, op_pos, op == '+' ? "'+'" : "'-'");
      if (!left) return left;
    }
  }

  result<double> parse_term() {
    auto left = parse_unary();
    if (!left) return left;
    for (;;) {
      const char op = peek();
      if (at_end() || (op != '*' && op != '/' && op != '%')) return left;
      // "**" is power, handled by parse_power below this level.
      if (op == '*' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '*') return left;
      const std::size_t op_pos = pos_++;
      auto right = parse_unary();
      if (!right) return right;
      double v = 0;
      if (op == '*') {
        v = *left * *right;
      } else if (*right == 0) {
        return error_at(op_pos, op == '/' ? "division by zero" : "modulo by zero");
      } else {
        v = op == '/' ? *left / *right : std::fmod(*left, *right);
      }
      left = check_finite(v, op_pos, std::string("'") + op + "'");
      if (!left) return left;
    }
  }

  result<double> parse_unary() {
    const char c = peek();
    if (!at_end() && (c == '-' || c == '+')) {
      ++pos_;
      depth_guard guard(depth_);
      if (depth_ > k_calculator_max_depth) return too_deep();
      auto operand = parse_unary();
      if (!operand) return operand;
      return c == '-' ? -*operand : *operand;
    }
    return parse_power();
  }

  result<double> parse_power() {
    auto base = parse_primary();
    if (!base) return base;
    const char c = peek();
    if (at_end()) return base;
    std::size_t op_pos = pos_;
    if (c == '^') {
      ++pos_;
    } else if (c == '*' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '*') {
      pos_ += 2;
    } else {
      return base;
    }
    // The exponent is a unary, so 2^-1 works and 2^3^2 is 2^(3^2).
    depth_guard guard(depth_);
    if (depth_ > k_calculator_max_depth) return too_deep();
    auto exponent = parse_unary();
    if (!exponent) return exponent;
    if (*base == 0 && *exponent < 0) return error_at(op_pos, "division by zero");
    return check_finite(std::pow(*base, *exponent), op_pos, "'^'");
  }

  result<double> parse_primary() {
    const char c = peek();
    if (at_end()) return unexpected_here();
    if (c == '(') {
      ++pos_;
      auto inner = parse_expr();
      if (!inner) return inner;
      if (peek() != ')' || at_end()) return expected(")");
      ++pos_;
      return inner;
    }
    if (is_digit(c) || c == '.') return parse_number();
    if (is_name_start(c)) return parse_name();
    return unexpected_here();
  }

  tl::unexpected<error> expected(const std::string& what) {
    skip_space();
    if (at_end())
      return fail(errc::invalid_argument, "expected '" + what + "' at end of expression");
    return error_at(pos_, "expected '" + what + "' but found " + describe_char(text_[pos_]));
  }

  result<double> parse_number() {
    const std::size_t start = pos_;
    std::size_t p = pos_;
    while (p < text_.size() && is_digit(text_[p])) ++p;
    if (p < text_.size() && text_[p] == '.') {
      ++p;
      while (p < text_.size() && is_digit(text_[p])) ++p;
    }
    // "1." is fine, a lone "." is not a number.
    if (p - start == 1 && text_[start] == '.') return error_at(start, "unexpected '.'");
    // An exponent only when digits follow, so "2e" is 2 followed by the name e.
    if (p < text_.size() && (text_[p] == 'e' || text_[p] == 'E')) {
      std::size_t q = p + 1;
      if (q < text_.size() && (text_[q] == '+' || text_[q] == '-')) ++q;
      if (q < text_.size() && is_digit(text_[q])) {
        while (q < text_.size() && is_digit(text_[q])) ++q;
        p = q;
      }
    }
    double value = 0;
    const char* first = text_.data() + start;
    const char* last = text_.data() + p;
    auto [end, ec] = std::from_chars(first, last, value);
    if (ec == std::errc::result_out_of_range) {
      if (!underflows(std::string_view(first, p - start)))
        return error_at(start, "number out of range");
      value = 0;  // smaller than the smallest double: zero, as a calculator would say
      end = last;
      ec = std::errc();
    }
    if (ec != std::errc() || end != last) return error_at(start, "malformed number");
    pos_ = p;
    return value;
  }

  result<double> parse_name() {
    const std::size_t start = pos_;
    std::string name;
    while (pos_ < text_.size() && is_name_char(text_[pos_])) {
      // Bounded so a 1000-letter name does not end up whole in an error message.
      if (name.size() < 32) name += to_lower(text_[pos_]);
      ++pos_;
    }
    if (peek() != '(' || at_end()) {
      if (name == "pi") return std::numbers::pi;
      if (name == "e") return std::numbers::e;
      if (find_function(name) != nullptr) return error_at(pos_, "expected '(' after " + name);
      return error_at(start, "unknown name " + name);
    }
    const function_spec* fn = find_function(name);
    if (fn == nullptr) return error_at(start, "unknown function " + name);
    if (fn->name == "log") return error_at(start, "unknown function log (use ln or log10)");
    ++pos_;  // '('
    std::vector<double> args;
    for (;;) {
      auto arg = parse_expr();
      if (!arg) return arg;
      args.push_back(*arg);
      const char c = peek();
      if (!at_end() && c == ',') {
        ++pos_;
        continue;
      }
      if (at_end() || c != ')') return expected(")");
      ++pos_;
      break;
    }
    const auto count = static_cast<int>(args.size());
    if (count < fn->min_args || (fn->max_args >= 0 && count > fn->max_args)) {
      std::string want = std::to_string(fn->min_args);
      if (fn->max_args < 0) {
        want = "at least " + want;
      } else if (fn->max_args != fn->min_args) {
        want += " to " + std::to_string(fn->max_args);
      }
      return error_at(start, name + " takes " + want + " argument" +
                                 (fn->min_args == 1 && fn->max_args == 1 ? "" : "s") + ", got " +
                                 std::to_string(count));
    }
    return check_finite(apply_function(fn->name, args), start, name);
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  int depth_ = 0;
};

class calculator_tool final : public tool {
 public:
  [[nodiscard]] std::string_view name() const override { return "calculator"; }
  [[nodiscard]] std::string_view description() const override {
    return "Evaluates an arithmetic expression: + - * / % ^, parentheses, sqrt abs round floor "
           "ceil ln log10 exp sin cos tan min max pow, constants pi and e.";
  }
  [[nodiscard]] const nlohmann::json& parameters() const override { return schema_; }

  [[nodiscard]] result<tool_output> invoke(const nlohmann::json& args,
                                           const tool_context& /*ctx*/) override {
    // The registry validates against the schema first; this guards direct callers, since
    // the json accessors throw on a wrong type.
    const auto it = args.is_object() ? args.find("expression") : args.end();
    if (!args.is_object() || it == args.end() || !it->is_string()) {
      return fail(errc::invalid_argument, "calculator needs a string \"expression\"");
    }
    auto value = evaluate_expression(it->get_ref<const std::string&>());
    if (!value) return tl::unexpected(value.error());
    tool_output out;
    out.text = format_number(*value);
    return out;
  }

 private:
  nlohmann::json schema_ = nlohmann::json::parse(R"({
    "type": "object",
    "properties": {"expression": {"type": "string", "maxLength": 1000}},
    "required": ["expression"],
    "additionalProperties": false
  })");
};

}  // namespace

result<double> evaluate_expression(std::string_view expression) {
  return parser(expression).parse_all();
}

std::string format_number(double value) {
  if (value == 0) return "0";  // also -0, which reads as a surprise to people
  if (std::isfinite(value) && std::fabs(value) < 1e15 && value == std::trunc(value)) {
    return std::to_string(static_cast<long long>(value));
  }
  std::array<char, 64> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  if (ec != std::errc()) return "nan";  // 64 bytes always suffice for a double
  return std::string(buf.data(), end);
}

std::unique_ptr<tool> make_calculator_tool() { return std::make_unique<calculator_tool>(); }

}  // namespace grok::tools
