import { describe, expect, it } from "vitest";
import { forbiddenAddressReason, isIpLiteral } from "../../src/web/AddressPolicy.js";

describe("forbiddenAddressReason", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.12.34.56", "loopback"],
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["0:0:0:0:0:0:0:1", "loopback"],
    ["10.255.255.255", "private"],
    ["172.16.0.0", "private"],
    ["172.31.255.255", "private"],
    ["192.168.0.1", "private"],
    ["fc00::1", "unique-local"],
    ["fdff:ffff::1", "unique-local"],
    ["169.254.169.254", "link-local"],
    ["169.254.0.1", "link-local"],
    ["fe80::1", "link-local"],
    ["febf::1", "link-local"],
    ["fec0::1", "site-local"],
    ["100.64.0.0", "carrier-grade NAT"],
    ["100.127.255.255", "carrier-grade NAT"],
    ["224.0.0.251", "multicast"],
    ["239.255.255.250", "multicast"],
    ["ff02::fb", "multicast"],
    ["240.0.0.0", "reserved/broadcast"],
    ["255.255.255.255", "reserved/broadcast"],
    ["0.0.0.0", "this-network"],
    ["0.1.2.3", "this-network"],
    ["::", "unspecified"],
    ["::ffff:127.0.0.1", "IPv4-mapped IPv6"],
    ["::ffff:7f00:1", "IPv4-mapped IPv6"],
    ["::FFFF:8.8.8.8", "IPv4-mapped IPv6"],
    ["::127.0.0.1", "IPv4-compatible IPv6"],
    ["::2", "IPv4-compatible IPv6"],
    ["::ffff:0:7f00:1", "IPv4-translated IPv6"],
    ["64:ff9b::7f00:1", "NAT64 of loopback"],
    ["64:ff9b::10.0.0.1", "NAT64 of private"],
    ["64:ff9b::a9fe:a9fe", "NAT64 of link-local"],
    ["64:ff9b:1::1", "local-use NAT64"],
    ["2002:a00:1::1", "6to4 of private"],
    ["2002:7f00:1::", "6to4 of loopback"],
    ["2001::1", "IETF protocol assignments"],
    ["2001:10::1", "IETF protocol assignments"],
    ["100::1", "discard-only"],
    ["192.0.0.1", "IETF protocol assignments"],
    ["192.0.2.1", "documentation"],
    ["198.51.100.1", "documentation"],
    ["203.0.113.1", "documentation"],
    ["2001:db8::1", "documentation"],
    ["3fff::1", "documentation"],
    ["198.18.0.1", "benchmarking"],
    ["198.19.255.255", "benchmarking"],
    ["192.88.99.1", "6to4 relay anycast"],
    ["4000::1", "reserved"],
    ["fe80::1%eth0", "zoned IPv6"],
    ["localhost", "not an IP address"],
    ["2130706433", "not an IP address"],
    ["0x7f000001", "not an IP address"],
    ["", "not an IP address"],
  ])("%s: %s", (address, reason) => {
    expect(forbiddenAddressReason(address)).toBe(reason);
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "9.255.255.255",
    "11.0.0.0",
    "172.15.255.255",
    "172.32.0.1",
    "100.63.255.255",
    "100.128.0.1",
    "169.253.255.255",
    "169.255.0.1",
    "192.0.1.1",
    "192.167.255.255",
    "198.17.255.255",
    "198.20.0.1",
    "223.255.255.255",
    "2606:4700:4700::1111",
    "2a00:1450:4001:82a::200e",
    "2001:4860:4860::8888",
    "64:ff9b::808:808",
    "64:ff9b::8.8.8.8",
    "2002:808:808::1",
  ])("%s is a public address", (address) => {
    expect(forbiddenAddressReason(address)).toBeNull();
  });

  it("tells IP literals from names", () => {
    expect(isIpLiteral("127.0.0.1")).toBe(true);
    expect(isIpLiteral("[::1]")).toBe(true);
    expect(isIpLiteral("acme.com")).toBe(false);
    expect(isIpLiteral("127.0.0.1.nip.io")).toBe(false);
  });
});
