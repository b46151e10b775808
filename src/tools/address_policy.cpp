#include "tools/address_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace grok::tools {
namespace {

struct range {
  std::array<std::uint8_t, 16> network;
  int prefix;
  address_class cls;
};

bool in_prefix(const std::array<std::uint8_t, 16>& bytes,
               const std::array<std::uint8_t, 16>& network, int prefix) {
  int bits = prefix;
  for (std::size_t i = 0; bits > 0; ++i, bits -= 8) {
    const unsigned mask = bits >= 8 ? 0xFFU : (0xFFU << (8 - bits)) & 0xFFU;
    if ((bytes[i] & mask) != (network[i] & mask)) return false;
  }
  return true;
}

// Most specific first: the first match wins.
constexpr std::array<range, 20> k_v4_ranges{{
    {{169, 254, 169, 254}, 32, address_class::cloud_metadata},  // AWS, GCP, Azure, ...
    {{169, 254, 170, 2}, 32, address_class::cloud_metadata},    // AWS ECS task credentials
    {{100, 100, 100, 200}, 32, address_class::cloud_metadata},  // Alibaba Cloud
    {{192, 0, 0, 192}, 32, address_class::cloud_metadata},      // Oracle Cloud
    {{255, 255, 255, 255}, 32, address_class::broadcast},
    {{0, 0, 0, 0}, 8, address_class::unspecified},
    {{10, 0, 0, 0}, 8, address_class::private_network},
    {{100, 64, 0, 0}, 10, address_class::shared},
    {{127, 0, 0, 0}, 8, address_class::loopback},
    {{169, 254, 0, 0}, 16, address_class::link_local},
    {{172, 16, 0, 0}, 12, address_class::private_network},
    {{192, 0, 0, 0}, 24, address_class::reserved},  // IETF protocol assignments
    {{192, 0, 2, 0}, 24, address_class::documentation},
    {{192, 88, 99, 0}, 24, address_class::reserved},  // deprecated 6to4 relay anycast
    {{192, 168, 0, 0}, 16, address_class::private_network},
    {{198, 18, 0, 0}, 15, address_class::reserved},  // benchmarking
    {{198, 51, 100, 0}, 24, address_class::documentation},
    {{203, 0, 113, 0}, 24, address_class::documentation},
    {{224, 0, 0, 0}, 4, address_class::multicast},
    {{240, 0, 0, 0}, 4, address_class::reserved},
}};

// IPv6 ranges without an embedded IPv4 address (those are handled in classify_v6).
constexpr std::array<range, 16> k_v6_ranges{{
    {{}, 128, address_class::unspecified},
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, address_class::loopback},
    {{0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54},
     128,
     address_class::cloud_metadata},    // fd00:ec2::254, AWS
    {{}, 96, address_class::reserved},  // deprecated IPv4-compatible
    {{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96, address_class::reserved},  // IPv4-translated
    {{0, 0x64, 0xff, 0x9b, 0, 1}, 48, address_class::private_network},    // local-use NAT64
    {{0x01, 0x00}, 64, address_class::reserved},                          // discard-only
    {{0x20, 0x01, 0x0d, 0xb8}, 32, address_class::documentation},
    {{0x20, 0x01, 0x00, 0x02, 0, 0}, 48, address_class::reserved},  // benchmarking
    {{0x20, 0x01, 0x00, 0x10}, 28, address_class::reserved},        // ORCHID
    {{0x20, 0x01, 0x00, 0x20}, 28, address_class::reserved},        // ORCHIDv2
    {{0x3f, 0xff}, 20, address_class::documentation},
    {{0xfc}, 7, address_class::private_network},  // unique local
    {{0xfe, 0x80}, 10, address_class::link_local},
    {{0xfe, 0xc0}, 10, address_class::private_network},  // deprecated site-local
    {{0xff}, 8, address_class::multicast},
}};

ip_address v4_from(const std::uint8_t* four) {
  ip_address a;
  std::copy(four, four + 4, a.bytes.begin());
  return a;
}

address_class classify_v4(const ip_address& a) {
  for (const auto& r : k_v4_ranges) {
    if (in_prefix(a.bytes, r.network, r.prefix)) return r.cls;
  }
  return address_class::public_unicast;
}

// For IPv6 forms whose traffic ends at an IPv4 address: refused when that address is.
address_class embedded(const std::uint8_t* four) { return classify_v4(v4_from(four)); }

address_class classify_v6(const ip_address& a) {
  const auto& b = a.bytes;
  static constexpr std::array<std::uint8_t, 16> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static constexpr std::array<std::uint8_t, 16> nat64{0, 0x64, 0xff, 0x9b};
  static constexpr std::array<std::uint8_t, 16> six_to_four{0x20, 0x02};
  static constexpr std::array<std::uint8_t, 16> teredo{0x20, 0x01, 0x00, 0x00};

  // A socket connecting to ::ffff:a.b.c.d talks IPv4 to a.b.c.d: the same address.
  if (in_prefix(b, mapped, 96)) return embedded(&b[12]);
  if (in_prefix(b, nat64, 96)) return embedded(&b[12]);
  if (in_prefix(b, six_to_four, 16)) return embedded(&b[2]);
  if (in_prefix(b, teredo, 32)) {
    // The client address is stored inverted; the server address as is.
    std::array<std::uint8_t, 4> client{};
    for (std::size_t i = 0; i < 4; ++i) client[i] = static_cast<std::uint8_t>(~b[12 + i]);
    if (auto c = embedded(client.data()); c != address_class::public_unicast) return c;
    return embedded(&b[4]);
  }
  for (const auto& r : k_v6_ranges) {
    if (in_prefix(b, r.network, r.prefix)) return r.cls;
  }
  // Only 2000::/3 is allocated for global unicast; the rest is IANA-reserved.
  if ((b[0] & 0xE0U) != 0x20U) return address_class::reserved;
  return address_class::public_unicast;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string normalise_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::string out(host);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool valid_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
  });
}

std::optional<int> parse_decimal(std::string_view text, int max) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0 || value > max) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::optional<ip_address> ip_address::parse(std::string_view text) {
  // inet_pton needs a NUL-terminated string; longer input is no address anyway.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string z(text);
  ip_address a;
  if (inet_pton(AF_INET, z.c_str(), a.bytes.data()) == 1) return a;
  a.v6 = true;
  if (inet_pton(AF_INET6, z.c_str(), a.bytes.data()) == 1) return a;
  return std::nullopt;
}

std::optional<ip_address> ip_address::from_sockaddr(const sockaddr* addr, socklen_t length) {
  if (addr == nullptr) return std::nullopt;
  ip_address a;
  if (addr->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in in{};
    std::memcpy(&in, addr, sizeof in);  // the caller's buffer may not be aligned for it
    std::memcpy(a.bytes.data(), &in.sin_addr, 4);
    return a;
  }
  if (addr->sa_family == AF_INET6 && length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, addr, sizeof in6);
    a.v6 = true;
    std::memcpy(a.bytes.data(), &in6.sin6_addr, 16);
    return a;
  }
  return std::nullopt;
}

ip_address ip_address::unmapped() const {
  static constexpr std::array<std::uint8_t, 16> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (v6 && in_prefix(bytes, mapped, 96)) return v4_from(&bytes[12]);
  return *this;
}

std::string ip_address::to_string() const {
  std::array<char, INET6_ADDRSTRLEN> buf{};
  if (inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf.data(),
                static_cast<socklen_t>(buf.size())) == nullptr) {
    return "?";
  }
  return buf.data();
}

address_class classify(const ip_address& address) {
  return address.v6 ? classify_v6(address) : classify_v4(address);
}

std::string_view describe(address_class c) {
  switch (c) {
    case address_class::public_unicast:
      return "a public address";
    case address_class::loopback:
      return "a loopback address";
    case address_class::private_network:
      return "a private-network address";
    case address_class::link_local:
      return "a link-local address";
    case address_class::shared:
      return "a shared (carrier-grade NAT) address";
    case address_class::multicast:
      return "a multicast address";
    case address_class::unspecified:
      return "an unspecified address";
    case address_class::broadcast:
      return "a broadcast address";
    case address_class::cloud_metadata:
      return "a cloud metadata address";
    case address_class::documentation:
      return "a documentation address";
    case address_class::reserved:
      return "a reserved address";
  }
  return "an unknown kind of address";
}

result<address_policy> address_policy::compile(const std::vector<std::string>& allow) {
  address_policy policy;
  for (const auto& raw : allow) {
    auto bad = [&](const std::string& why) {
      return fail(errc::invalid_argument, "tools.http_allow: bad entry \"" + raw + "\": " + why);
    };
    std::string_view text = raw;
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    if (text.empty()) return bad("empty");

    entry e;
    std::string_view body = text;
    std::string_view port_text;
    bool has_port = false;
    if (text.front() == '[') {
      const auto close = text.find(']');
      if (close == std::string_view::npos) return bad("missing ']'");
      body = text.substr(1, close - 1);
      const auto rest = text.substr(close + 1);
      if (!rest.empty()) {
        if (rest.front() != ':') return bad("expected ':PORT' after ']'");
        port_text = rest.substr(1);
        has_port = true;
      }
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
      // One colon is HOST:PORT; an IPv6 address always has at least two.
      const auto colon = text.find(':');
      body = text.substr(0, colon);
      port_text = text.substr(colon + 1);
      has_port = true;
    }
    if (has_port) {
      const auto port = parse_decimal(port_text, 65535);
      if (!port || *port == 0) return bad("the port must be a number from 1 to 65535");
      e.port = static_cast<std::uint16_t>(*port);
    }
    if (body.empty()) return bad("no host or address");

    if (const auto slash = body.find('/'); slash != std::string_view::npos) {
      const auto network = ip_address::parse(body.substr(0, slash));
      if (!network) return bad("a CIDR range needs an IP address before '/'");
      const int max = network->v6 ? 128 : 32;
      const auto prefix = parse_decimal(body.substr(slash + 1), max);
      if (!prefix) return bad("the prefix length must be 0 to " + std::to_string(max));
      e.network = *network;
      e.prefix = *prefix;
    } else if (const auto address = ip_address::parse(body)) {
      e.network = *address;
      e.prefix = address->v6 ? 128 : 32;
    } else {
      e.host = normalise_host(body);
      if (!valid_host_name(e.host)) return bad("not a host name, IP address or CIDR range");
    }
    // A v4 entry then matches the same address reached as ::ffff:a.b.c.d.
    if (e.prefix >= 96 && e.network.v6 && e.network.unmapped() != e.network) {
      e.prefix -= 96;
      e.network = e.network.unmapped();
    }
    policy.entries_.push_back(std::move(e));
  }
  return policy;
}

bool address_policy::permits(std::string_view host, const ip_address& ip,
                             std::uint16_t port) const {
  const std::string h = normalise_host(host);
  const ip_address a = ip.unmapped();
  for (const auto& e : entries_) {
    if (e.port && *e.port != port) continue;
    if (e.prefix < 0) {
      if (e.host == h) return true;
    } else if (e.network.v6 == a.v6 && in_prefix(a.bytes, e.network.bytes, e.prefix)) {
      return true;
    }
  }
  return false;
}

result<void> address_policy::check(std::string_view host, const ip_address& ip,
                                   std::uint16_t port) const {
  const address_class c = classify(ip);
  if (c == address_class::public_unicast || permits(host, ip, port)) return {};
  const std::string address = ip.to_string();
  const std::string h = normalise_host(host);
  const auto literal = ip_address::parse(h);
  if (h.empty() || (literal && *literal == ip)) {
    return fail(errc::invalid_argument, "refused: " + address + " is " + std::string(describe(c)) +
                                            " (add it to tools.http_allow to permit it)");
  }
  return fail(errc::invalid_argument, "refused: " + h + " resolved to " + address + ", " +
                                          std::string(describe(c)) + " (add " + h + " or " +
                                          address + " to tools.http_allow to permit it)");
}

}  // namespace grok::tools
