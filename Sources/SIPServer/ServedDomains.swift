import SIPCore
import Config

/// The domains a server is responsible for (RFC 3261 §10.3 step 1, §16.4): requests for them are
/// served from the location service, the others are forwarded (or refused).
public struct ServedDomains: Sendable, Equatable {
    /// Lower-cased, IPv6 without brackets, no trailing dot.
    public let hosts: [String]

    public init(_ domains: [String]) {
        hosts = domains.compactMap { ServerConfiguration.canonicalHost($0) }.map(ServedDomains.dropTrailingDot)
    }

    /// Whether `host` is one of the domains (case-insensitive; a trailing dot ignored).
    public func contains(_ host: Host) -> Bool {
        hosts.contains(ServedDomains.dropTrailingDot(host.bare.lowercased()))
    }

    /// Whether `uri` is a SIP or SIPS URI whose host is one of the domains (the port is not compared:
    /// a domain is served on every listening port).
    public func contains(_ uri: URI) -> Bool {
        guard case .sip(let sip) = uri else { return false }
        return contains(sip.host)
    }

    static func dropTrailingDot(_ s: String) -> String {
        s.count > 1 && s.hasSuffix(".") ? String(s.dropLast()) : s
    }
}
