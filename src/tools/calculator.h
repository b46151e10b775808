// The `calculator` tool (SPEC §5): safe arithmetic on an expression the model wrote.
//
// The expression is parsed by a small recursive-descent parser, never handed to a shell or
// an interpreter. Grammar, loosest binding first:
//   expr    := term (('+' | '-') term)*
//   term    := unary (('*' | '/' | '%') unary)*
//   unary   := ('+' | '-') unary | power
//   power   := primary (('^' | '**') unary)?      right-associative; -2^2 is -(2^2)
//   primary := number | constant | function '(' expr (',' expr)* ')' | '(' expr ')'
// Numbers: 12, 1.5, .5, 1e-3. Constants: pi, e. Functions: sqrt abs round floor ceil ln
// log10 exp sin cos tan (one argument), pow (two), min max (one or more). Names are
// case-insensitive.
//
// Thread-safety: pure functions; the tool object holds only its constant schema.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.h"
#include "tools/tool.h"

namespace grok::tools {

// Nested parentheses, unary signs and powers deeper than this are refused, so a hostile
// expression cannot exhaust the stack.
inline constexpr int k_calculator_max_depth = 100;

// The value of `expression`. errc::invalid_argument for a syntax error (the message names
// the 1-based column), an unknown name, a wrong argument count, division or modulo by zero,
// nesting deeper than k_calculator_max_depth, or any step whose result is not finite.
[[nodiscard]] result<double> evaluate_expression(std::string_view expression);

// The shortest text that reads back as `value`; integral values below 1e15 in magnitude are
// written without a fraction or exponent ("42", not "42.0" or "4.2e+01").
[[nodiscard]] std::string format_number(double value);

// The `calculator` tool: {"expression": string} → the formatted value.
std::unique_ptr<tool> make_calculator_tool();

}  // namespace grok::tools
