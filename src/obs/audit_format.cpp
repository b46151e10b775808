#include "obs/audit_format.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <system_error>

namespace grok::obs {

using json = nlohmann::json;

namespace {

// `,"hash":"` + 64 hex + `"}`
constexpr std::string_view k_hash_prefix = ",\"hash\":\"";
constexpr std::size_t k_hash_hex = 64;
constexpr std::size_t k_hash_suffix = k_hash_prefix.size() + k_hash_hex + 2;

bool is_hex64(std::string_view s) noexcept {
  return s.size() == k_hash_hex && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string to_hex(const unsigned char* data, unsigned int length) {
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::size_t{length} * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += k_hex[data[i] >> 4U];
    out += k_hex[data[i] & 0xFU];
  }
  return out;
}

bool all_digits(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

field_allow_list::field_allow_list(const std::vector<std::string>& paths) {
  std::vector<std::string> list = paths;
  if (list.empty())
    list.assign(k_default_audit_allow_fields.begin(), k_default_audit_allow_fields.end());
  for (const auto& path : list) {
    node* at = &root_;
    std::string_view rest = path;
    bool any = false;
    while (!rest.empty()) {
      const auto dot = rest.find('.');
      const auto part = rest.substr(0, dot);
      rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
      if (part.empty()) continue;
      at = &at->children[std::string(part)];
      any = true;
    }
    if (any) at->whole = true;
  }
}

json field_allow_list::redact(const json& body) const {
  if (!body.is_object()) return json{{"body", k_redacted}};
  return redact_value(body, root_);
}

json field_allow_list::redact_value(const json& value, const node& rules) {
  if (rules.whole) return value;
  if (value.is_object()) {
    json out = json::object();
    for (const auto& [key, v] : value.items()) {
      const auto rule = rules.children.find(key);
      out[key] = rule == rules.children.end() ? json(k_redacted) : redact_value(v, rule->second);
    }
    return out;
  }
  if (value.is_array() && !rules.children.empty()) {
    json out = json::array();
    for (const auto& item : value) out.push_back(redact_value(item, rules));
    return out;
  }
  return k_redacted;
}

std::string chain_hash(std::string_view secret, std::string_view prev, std::string_view canonical) {
  std::string message;
  message.reserve(prev.size() + canonical.size());
  message.append(prev).append(canonical);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (secret.empty()) {
    // Fails only when out of memory; an empty hash never verifies.
    if (EVP_Digest(message.data(), message.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
      return {};
    }
  } else if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
                  reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest,
                  &length) == nullptr) {
    return {};
  }
  return to_hex(digest, length);
}

std::string seal_line(json record, chain_state& state, std::string_view secret) {
  const auto seq = state.audit_seq + 1;
  record["audit_seq"] = seq;
  record["prev"] = state.prev_hash;
  record["alg"] = secret.empty() ? k_alg_sha256 : k_alg_hmac;
  const auto canonical = record.dump(-1, ' ', false, json::error_handler_t::replace);
  auto hash = chain_hash(secret, state.prev_hash, canonical);
  std::string line = canonical;
  line.pop_back();  // the closing brace: the hash goes last
  line.append(k_hash_prefix).append(hash).append("\"}");
  state.prev_hash = std::move(hash);
  state.audit_seq = seq;
  return line;
}

result<sealed_line> parse_sealed_line(std::string_view raw) {
  auto doc = json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return fail(errc::corrupt, "bad JSON: the line does not parse");
  if (!doc.is_object()) return fail(errc::corrupt, "not an audit line: not a JSON object");
  const auto text = [&doc](const char* key) -> std::optional<std::string> {
    auto it = doc.find(key);
    if (it == doc.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  sealed_line out;
  auto hash = text("hash");
  auto prev = text("prev");
  auto alg = text("alg");
  auto event = text("event");
  if (!hash || !is_hex64(*hash)) return fail(errc::corrupt, "not an audit line: no hash");
  if (!prev || !is_hex64(*prev)) return fail(errc::corrupt, "not an audit line: no prev hash");
  if (!alg || (*alg != k_alg_sha256 && *alg != k_alg_hmac)) {
    return fail(errc::corrupt, "not an audit line: no known alg");
  }
  if (!event) return fail(errc::corrupt, "not an audit line: no event");
  const auto seq = doc.find("audit_seq");
  if (seq == doc.end() || !seq->is_number_integer() || seq->get<std::int64_t>() < 1) {
    return fail(errc::corrupt, "not an audit line: no audit_seq");
  }
  const auto suffix_at = raw.size() >= k_hash_suffix ? raw.size() - k_hash_suffix : 0;
  if (raw.size() < k_hash_suffix + 2 ||
      raw.substr(suffix_at, k_hash_prefix.size()) != k_hash_prefix ||
      raw.substr(suffix_at + k_hash_prefix.size(), k_hash_hex) != *hash ||
      raw.substr(raw.size() - 2) != "\"}") {
    return fail(errc::corrupt, "not an audit line: the hash is not its last member");
  }
  out.canonical = std::string(raw.substr(0, suffix_at)) + "}";
  out.hash = std::move(*hash);
  out.prev = std::move(*prev);
  out.alg = std::move(*alg);
  out.event = std::move(*event);
  out.audit_seq = seq->get<std::int64_t>();
  out.doc = std::move(doc);
  return out;
}

bool hash_matches(const sealed_line& line, std::string_view secret) {
  const std::string_view key = line.alg == k_alg_hmac ? secret : std::string_view();
  return chain_hash(key, line.prev, line.canonical) == line.hash;
}

std::string utc_date(time_point t) {
  using namespace std::chrono;
  const year_month_day ymd(floor<days>(t));
  char out[9];
  const int y = std::clamp(static_cast<int>(ymd.year()), 0, 9999);
  const auto m = static_cast<unsigned>(ymd.month());
  const auto d = static_cast<unsigned>(ymd.day());
  out[0] = static_cast<char>('0' + y / 1000);
  out[1] = static_cast<char>('0' + y / 100 % 10);
  out[2] = static_cast<char>('0' + y / 10 % 10);
  out[3] = static_cast<char>('0' + y % 10);
  out[4] = static_cast<char>('0' + m / 10);
  out[5] = static_cast<char>('0' + m % 10);
  out[6] = static_cast<char>('0' + d / 10);
  out[7] = static_cast<char>('0' + d % 10);
  out[8] = '\0';
  return out;
}

std::string audit_file_name(std::uint64_t number, std::string_view date) {
  std::string digits = std::to_string(number);
  if (digits.size() < 6) digits.insert(0, 6 - digits.size(), '0');
  return "audit-" + digits + "-" + std::string(date) + ".jsonl";
}

result<std::vector<audit_file>> list_audit_files(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return fail(errc::not_found, "no audit directory " + dir);
  std::vector<audit_file> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    // audit-<digits>-<8 digits>.jsonl
    constexpr std::string_view prefix = "audit-";
    constexpr std::string_view suffix = ".jsonl";
    if (name.size() < prefix.size() + 1 + 1 + 8 + suffix.size() || !name.starts_with(prefix) ||
        !name.ends_with(suffix)) {
      continue;
    }
    const std::string_view middle =
        std::string_view(name).substr(prefix.size(), name.size() - prefix.size() - suffix.size());
    const auto dash = middle.find('-');
    if (dash == std::string_view::npos) continue;
    const auto number = middle.substr(0, dash);
    const auto date = middle.substr(dash + 1);
    if (!all_digits(number) || number.size() > 18 || !all_digits(date) || date.size() != 8)
      continue;
    audit_file f;
    f.path = it->path().string();
    f.name = name;
    std::from_chars(number.data(), number.data() + number.size(), f.number);
    f.date = std::string(date);
    files.push_back(std::move(f));
  }
  if (ec) return fail(errc::io, "cannot read the audit directory " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end(), [](const audit_file& a, const audit_file& b) {
    return a.number != b.number ? a.number < b.number : a.name < b.name;
  });
  return files;
}

}  // namespace grok::obs
