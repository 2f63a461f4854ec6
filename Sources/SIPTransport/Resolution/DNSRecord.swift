/// DNS record types the SIP server locator asks for (RFC 3263 §4: NAPTR, SRV, A, AAAA).
public enum DNSRecordType: UInt16, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case a = 1
    case srv = 33
    case aaaa = 28
    case naptr = 35

    public var description: String {
        switch self {
        case .a: return "A"
        case .srv: return "SRV"
        case .aaaa: return "AAAA"
        case .naptr: return "NAPTR"
        }
    }
}

/// A NAPTR record's data (RFC 3403 §4.1). Character-strings are kept as text (UTF-8, invalid octets
/// replaced); `replacement` is a domain name in presentation form, "." for none.
public struct DNSNAPTRData: Sendable, Hashable {
    public var order: UInt16
    public var preference: UInt16
    public var flags: String
    public var services: String
    public var regexp: String
    public var replacement: String

    public init(order: UInt16, preference: UInt16, flags: String, services: String, regexp: String, replacement: String) {
        self.order = order
        self.preference = preference
        self.flags = flags
        self.services = services
        self.regexp = regexp
        self.replacement = replacement
    }
}

/// An SRV record's data (RFC 2782). `target` "." means the service is not available at this domain.
public struct DNSSRVData: Sendable, Hashable {
    public var priority: UInt16
    public var weight: UInt16
    public var port: UInt16
    public var target: String

    public init(priority: UInt16, weight: UInt16, port: UInt16, target: String) {
        self.priority = priority
        self.weight = weight
        self.port = port
        self.target = target
    }
}

/// The data of one answer record of a type the locator understands.
public enum DNSRecordData: Sendable, Hashable {
    case naptr(DNSNAPTRData)
    case srv(DNSSRVData)
    /// An IPv4 address in dotted-quad form.
    case a(String)
    /// An IPv6 address in RFC 5952 text form.
    case aaaa(String)

    public var type: DNSRecordType {
        switch self {
        case .naptr: return .naptr
        case .srv: return .srv
        case .a: return .a
        case .aaaa: return .aaaa
        }
    }
}

/// One answer record: owner name (presentation form, no trailing dot), TTL in seconds, data.
public struct DNSResourceRecord: Sendable, Hashable {
    public var name: String
    public var ttl: UInt32
    public var data: DNSRecordData

    public init(name: String, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.ttl = ttl
        self.data = data
    }
}

/// Why a DNS query produced no answer. A struct with a `Code` so codes can be added later.
public struct DNSLookupError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// NXDOMAIN: the name does not exist (permanent, cacheable).
        case nameNotFound
        /// Timeout or SERVFAIL (res_nquery's TRY_AGAIN): worth retrying later, never cached.
        case temporaryFailure
        /// REFUSED, FORMERR, NOTIMP (NO_RECOVERY) or a resolver that could not be set up.
        case serverFailure
        /// The answer packet did not parse (truncated, bad compression pointer, bad record data).
        case malformedAnswer
        /// The name cannot be queried (empty, too long, contains NUL).
        case invalidName
    }

    public var code: Code
    public var name: String
    public var type: DNSRecordType?
    public var detail: String

    public init(_ code: Code, name: String, type: DNSRecordType? = nil, detail: String = "") {
        self.code = code
        self.name = name
        self.type = type
        self.detail = detail
    }

    public var description: String {
        let what = type.map { "\($0) \(name)" } ?? name
        let suffix = detail.isEmpty ? "" : ": " + detail
        switch code {
        case .nameNotFound: return "DNS: \(what): no such domain (NXDOMAIN)" + suffix
        case .temporaryFailure: return "DNS: \(what): temporary failure (timeout or SERVFAIL)" + suffix
        case .serverFailure: return "DNS: \(what): server failure" + suffix
        case .malformedAnswer: return "DNS: \(what): malformed answer" + suffix
        case .invalidName: return "DNS: \(what): invalid name" + suffix
        }
    }
}

/// Something that answers DNS queries: `ResolverDNSLookup` (glibc's libresolv) in production, a table
/// in tests.
///
/// `query` may block (the libresolv implementation does, up to timeout × attempts per server): call
/// it off any latency-sensitive thread. An empty array means the name exists but has no records of
/// that type (NODATA).
public protocol DNSLookup {
    func query(_ name: String, type: DNSRecordType) throws(DNSLookupError) -> [DNSResourceRecord]
}

extension DNSLookupError.Code {
    /// Whether the result may be cached as a negative answer.
    var isCacheable: Bool { self == .nameNotFound }
}

/// Normalises a domain name for comparison and cache keys: ASCII lowercase, no trailing dot.
func normalizedDomainName(_ name: String) -> String {
    var bytes = Array(name.utf8)
    if bytes.last == 0x2E, bytes.count > 1 { bytes.removeLast() }
    for i in bytes.indices where bytes[i] >= 0x41 && bytes[i] <= 0x5A { bytes[i] += 0x20 }
    return String(decoding: bytes, as: UTF8.self)
}
