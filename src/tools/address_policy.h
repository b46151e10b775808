// Which network addresses http_get and web_page may connect to (SPEC §5): public unicast
// addresses always; loopback, private, link-local, shared (CGNAT), multicast, unspecified,
// broadcast, cloud metadata, documentation and reserved addresses only when
// tools.http_allow permits them. IPv6 forms that embed an IPv4 address (IPv4-mapped,
// NAT64, 6to4, Teredo) are judged by the IPv4 address they reach.
//
// Pure functions, no network access: the caller resolves names and asks about the address
// it is about to connect to (see http_get.cpp), which is the only check that odd spellings
// of an address and DNS rebinding cannot get around.
//
// Thread-safety: address_policy is immutable after compile(); share it freely.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace grok::tools {

// An IPv4 or IPv6 address.
struct ip_address {
  bool v6 = false;
  // IPv4: the first 4 bytes, in network order; IPv6: all 16.
  std::array<std::uint8_t, 16> bytes{};

  // Strict inet_pton syntax: dotted-quad IPv4 ("127.0.0.1", not "127.1" or "0x7f000001") or
  // IPv6 without brackets or zone. Empty on anything else.
  [[nodiscard]] static std::optional<ip_address> parse(std::string_view text);
  // An AF_INET or AF_INET6 socket address; empty for other families or a short length.
  [[nodiscard]] static std::optional<ip_address> from_sockaddr(const sockaddr* addr,
                                                               socklen_t length);
  // The embedded IPv4 address of an IPv4-mapped IPv6 address (::ffff:a.b.c.d), else itself.
  [[nodiscard]] ip_address unmapped() const;
  // inet_ntop form: "127.0.0.1", "::1".
  [[nodiscard]] std::string to_string() const;

  friend bool operator==(const ip_address&, const ip_address&) = default;
};

enum class address_class {
  public_unicast,  // reachable on the internet: always allowed
  loopback,
  private_network,  // 10/8, 172.16/12, 192.168/16, fc00::/7, fec0::/10, 64:ff9b:1::/48
  link_local,       // 169.254/16, fe80::/10
  shared,           // 100.64/10, carrier-grade NAT
  multicast,
  unspecified,  // 0.0.0.0/8, ::
  broadcast,    // 255.255.255.255
  cloud_metadata,
  documentation,
  reserved,  // 240/4, benchmarking, IETF protocol assignments, unassigned IPv6 space
};

// What `address` is. An IPv6 address embedding an IPv4 address (IPv4-mapped ::ffff:0:0/96,
// NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32) gets the class of that IPv4
// address whenever it is not public.
[[nodiscard]] address_class classify(const ip_address& address);

// "a loopback address", for messages.
[[nodiscard]] std::string_view describe(address_class c);

class address_policy {
 public:
  // Allows only public unicast addresses.
  address_policy() = default;

  // Entries (tools.http_allow): a host name ("intranet.example", matched case-insensitively
  // against the URL's host), an IP address ("10.0.0.5", "::1"), a CIDR range ("10.0.0.0/8",
  // "fd00::/8"), or any of these restricted to one port: "host:8080", "10.0.0.5:8080",
  // "[::1]:8080", "10.0.0.0/8:8080". errc::invalid_argument naming the first bad entry.
  [[nodiscard]] static result<address_policy> compile(const std::vector<std::string>& allow);

  // Whether a connection to `ip`:`port`, made for the URL host `host` (a name or an address
  // literal, without brackets), is allowed. errc::invalid_argument (never retryable) with a
  // message such as "refused: 127.0.0.1 is a loopback address (add it to tools.http_allow to
  // permit it)".
  [[nodiscard]] result<void> check(std::string_view host, const ip_address& ip,
                                   std::uint16_t port) const;

 private:
  struct entry {
    std::string host;  // lower case; empty for an address entry
    ip_address network;
    int prefix = -1;  // -1: a host entry; else the CIDR prefix length (32 or 128: one address)
    std::optional<std::uint16_t> port;
  };
  [[nodiscard]] bool permits(std::string_view host, const ip_address& ip, std::uint16_t port) const;

  std::vector<entry> entries_;
};

}  // namespace grok::tools
