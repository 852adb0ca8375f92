import { isIP } from "node:net";

/**
 * Which IP addresses the website fetcher may connect to. Pure functions: the fetcher calls
 * `forbiddenAddressReason` on every address it is about to connect to, after DNS, so a hostile
 * URL or DNS answer cannot reach the host itself, the private network or a cloud metadata endpoint.
 */

interface V4Range {
  readonly base: number;
  readonly bits: number;
  readonly label: string;
}

const v4 = (cidr: string, label: string): V4Range => {
  const [addr, bits] = cidr.split("/");
  return { base: parseIPv4(addr!)!, bits: Number(bits), label };
};

// The IANA IPv4 special-purpose registry: no public website lives in any of these.
const FORBIDDEN_V4: ReadonlyArray<V4Range> = [
  v4("0.0.0.0/8", "this-network"),
  v4("10.0.0.0/8", "private"),
  v4("100.64.0.0/10", "carrier-grade NAT"),
  v4("127.0.0.0/8", "loopback"),
  v4("169.254.0.0/16", "link-local"),
  v4("172.16.0.0/12", "private"),
  v4("192.0.0.0/24", "IETF protocol assignments"),
  v4("192.0.2.0/24", "documentation"),
  v4("192.88.99.0/24", "6to4 relay anycast"),
  v4("192.168.0.0/16", "private"),
  v4("198.18.0.0/15", "benchmarking"),
  v4("198.51.100.0/24", "documentation"),
  v4("203.0.113.0/24", "documentation"),
  v4("224.0.0.0/4", "multicast"),
  v4("240.0.0.0/4", "reserved/broadcast"),
];

/** Strict dotted-quad decimal only; anything else is not treated as IPv4 here. */
function parseIPv4(s: string): number | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n;
}

const inV4 = (addr: number, r: V4Range): boolean =>
  r.bits === 0 ? true : Math.floor(addr / 2 ** (32 - r.bits)) === Math.floor(r.base / 2 ** (32 - r.bits));

const v4Reason = (addr: number): string | null => {
  for (const r of FORBIDDEN_V4) if (inV4(addr, r)) return r.label;
  return null;
};

/** Parses an IPv6 address (zone-less, optionally with a trailing dotted IPv4) into 8 groups. */
const parseIPv6 = (s: string): ReadonlyArray<number> | null => {
  let text = s;
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".", lastColon)) {
    const quad = parseIPv4(text.slice(lastColon + 1));
    if (quad === null) return null;
    text = `${text.slice(0, lastColon + 1)}${Math.floor(quad / 65536).toString(16)}:${(quad % 65536).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const groups = (h: string): Array<number> | null => {
    if (h === "") return [];
    const out: Array<number> = [];
    for (const g of h.split(":")) {
      if (!/^[0-9a-f]{1,4}$/i.test(g)) return null;
      out.push(Number.parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === null || tail === null) return null;
  if (halves.length === 1) return head.length === 8 ? head : null;
  const missing = 8 - head.length - tail.length;
  return missing < 1 ? null : [...head, ...Array<number>(missing).fill(0), ...tail];
};

const embeddedV4 = (g: ReadonlyArray<number>): number => g[6]! * 65536 + g[7]!;

const v6Reason = (g: ReadonlyArray<number>): string | null => {
  const zeroUpTo = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeroUpTo(8)) return "unspecified";
  if (zeroUpTo(7) && g[7] === 1) return "loopback";
  // a public site has no reason to publish these; they exist here only to smuggle an IPv4 past a filter
  if (zeroUpTo(5) && g[5] === 0xffff) return "IPv4-mapped IPv6";
  if (zeroUpTo(6)) return "IPv4-compatible IPv6";
  if (zeroUpTo(4) && g[4] === 0xffff && g[5] === 0) return "IPv4-translated IPv6";
  // NAT64 networks legitimately answer 64:ff9b::/96 for every site: judge the IPv4 inside
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) {
    const inner = v4Reason(embeddedV4(g));
    return inner === null ? null : `NAT64 of ${inner}`;
  }
  if (g[0] === 0x64 && g[1] === 0xff9b) return "local-use NAT64";
  if (g[0] === 0x2002) {
    const inner = v4Reason(g[1]! * 65536 + g[2]!);
    return inner === null ? null : `6to4 of ${inner}`;
  }
  if (g[0] === 0x100 && g.slice(1, 4).every((x) => x === 0)) return "discard-only";
  if (g[0] === 0x2001 && g[1] === 0x0db8) return "documentation";
  // 2001::/23 holds Teredo, ORCHID and other protocol assignments, none of them a website
  if (g[0] === 0x2001 && g[1]! < 0x200) return "IETF protocol assignments";
  if (g[0] === 0x3fff && g[1]! < 0x1000) return "documentation";
  if ((g[0]! & 0xfe00) === 0xfc00) return "unique-local";
  if ((g[0]! & 0xffc0) === 0xfe80) return "link-local";
  if ((g[0]! & 0xffc0) === 0xfec0) return "site-local";
  if ((g[0]! & 0xff00) === 0xff00) return "multicast";
  // only 2000::/3 is allocated as global unicast; everything else is reserved
  if ((g[0]! & 0xe000) !== 0x2000) return "reserved";
  return null;
};

/**
 * Why an IP address must not be connected to, or null when it is a public unicast address.
 * Accepts IPv4 dotted-quad and IPv6 text (brackets allowed); anything unparseable — including
 * zoned IPv6 like `fe80::1%eth0` — is refused.
 */
export const forbiddenAddressReason = (address: string): string | null => {
  const bare = address.startsWith("[") && address.endsWith("]") ? address.slice(1, -1) : address;
  if (bare.includes("%")) return "zoned IPv6";
  const family = isIP(bare);
  if (family === 4) {
    const n = parseIPv4(bare);
    return n === null ? "unparseable IPv4" : v4Reason(n);
  }
  if (family === 6) {
    const groups = parseIPv6(bare);
    return groups === null ? "unparseable IPv6" : v6Reason(groups);
  }
  return "not an IP address";
};

/** True when `host` (a URL hostname, brackets allowed) is an IP literal rather than a name. */
export const isIpLiteral = (host: string): boolean =>
  isIP(host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host) !== 0;
