import SIPCore

/// Locating SIP servers (RFC 3263 §4): turns a SIP or SIPS URI into an ordered list of
/// (transport, address, port) targets, through a `DNSLookup` and a TTL cache.
///
/// The steps, for the URI's `maddr` if present, else its host:
/// - numeric host: no lookups; transport from the `transport` parameter, else UDP (`sip`) or TLS
///   (`sips`); the URI's port or the transport's default (5060, 5061 for TLS).
/// - explicit port: A/AAAA only, transport chosen as above.
/// - `transport` parameter (no port): SRV for that transport (`_sip._udp`, `_sip._tcp`,
///   `_sips._tcp`); without SRV records, A/AAAA at the default port.
/// - otherwise NAPTR: records with flag "S", an empty regexp and a service among `SIP+D2U`,
///   `SIP+D2T`, `SIPS+D2T` whose transport is configured (only `SIPS+D2T` for a `sips` URI), in
///   order then preference; each replacement is looked up as SRV. All usable records are kept, in
///   that order, so failover can reach the later ones (RFC 3403 would stop at the first order; the
///   list simply continues past it). Without usable NAPTR records, SRV for each configured transport
///   in `Configuration.transports` order (`_sips._tcp` only, for `sips`).
///   Without any SRV record, A/AAAA for the host at the default port of UDP (`sip`) or TLS (`sips`).
/// - SRV records are ordered by priority and weighted random choice (RFC 2782, `SRVOrdering`, with
///   the caller's random number generator); a target of "." means "not offered here" and is skipped;
///   each target is looked up as A and AAAA (order per `Configuration.preferIPv6`).
///
/// Answers are cached for their TTL (see `DNSCache`); the caller passes `now` (monotonic seconds), so
/// the locator never reads a clock. The locator itself does no I/O except through `lookup`; with
/// `ResolverDNSLookup` resolution blocks (see there).
///
/// A temporary DNS failure (timeout, SERVFAIL) at one step does not stop the others; it only turns
/// an empty result into `.temporaryFailure` rather than `.hostNotFound` or `.noTargets`.
public struct SIPServerLocator {
    public struct Configuration: Sendable {
        /// Supported transports, in the order SRV records are tried when there is no NAPTR record.
        public var transports: [TransportKind]
        /// Look up AAAA before A.
        public var preferIPv6: Bool
        /// Look up AAAA at all.
        public var useIPv6: Bool
        /// At most this many targets are returned.
        public var maximumTargets: Int
        /// At most this many NAPTR or SRV records are followed per answer.
        public var maximumRecords: Int
        /// At most this many queries reach `lookup` in one resolution (cache hits are free): with a
        /// blocking lookup this bounds how long one resolution can take (about
        /// maximumQueries × timeout × attempts when every server is silent).
        public var maximumQueries: Int
        public var cacheCapacity: Int
        /// Lifetime of cached NXDOMAIN/NODATA answers, seconds.
        public var negativeTTL: UInt32
        /// Cap on any cached answer's lifetime, seconds.
        public var maximumTTL: UInt32

        public init(
            transports: [TransportKind] = [.udp, .tcp, .tls],
            preferIPv6: Bool = false,
            useIPv6: Bool = true,
            maximumTargets: Int = 32,
            maximumRecords: Int = 16,
            maximumQueries: Int = 24,
            cacheCapacity: Int = 256,
            negativeTTL: UInt32 = 30,
            maximumTTL: UInt32 = 86_400
        ) {
            self.transports = transports
            self.preferIPv6 = preferIPv6
            self.useIPv6 = useIPv6
            self.maximumTargets = maximumTargets
            self.maximumRecords = maximumRecords
            self.maximumQueries = maximumQueries
            self.cacheCapacity = cacheCapacity
            self.negativeTTL = negativeTTL
            self.maximumTTL = maximumTTL
        }
    }

    public let configuration: Configuration
    public var lookup: any DNSLookup
    public private(set) var cache: DNSCache

    public init(lookup: any DNSLookup, configuration: Configuration = Configuration()) {
        self.lookup = lookup
        self.configuration = configuration
        cache = DNSCache(capacity: configuration.cacheCapacity, negativeTTL: configuration.negativeTTL, maximumTTL: configuration.maximumTTL)
    }

    /// Resolves `uri` with the system random number generator.
    public mutating func resolve(_ uri: SIPURI, now: Double) throws(SIPResolutionError) -> SIPTargetCursor {
        var rng = SystemRandomNumberGenerator()
        return try resolve(uri, now: now, using: &rng)
    }

    /// Resolves `uri` into targets, most preferred first (see the type's documentation).
    public mutating func resolve(_ uri: SIPURI, now: Double, using rng: inout some RandomNumberGenerator) throws(SIPResolutionError) -> SIPTargetCursor {
        var pass = Pass(now: now)
        let host: String
        let numeric: Bool
        if let maddr = uri.maddr {
            var text = maddr
            if text.hasPrefix("["), text.hasSuffix("]"), text.count > 2 { text = String(text.dropFirst().dropLast()) }
            host = text
            numeric = SocketAddress(host: text, port: 0) != nil
            if !numeric, Host.parse(text) == nil { throw SIPResolutionError(.invalidURI, name: maddr, detail: "maddr is not a host") }
        } else {
            host = uri.host.bare
            numeric = uri.host.isNumeric
        }
        guard !host.isEmpty else { throw SIPResolutionError(.invalidURI, name: uri.description, detail: "empty host") }

        let explicit = try explicitTransport(uri, host: host)
        let defaultTransport = explicit ?? fallbackTransport(secure: uri.isSecure)
        guard let chosen = defaultTransport else {
            throw SIPResolutionError(.unsupportedTransport, name: host, detail: "no configured transport for \(uri.scheme)")
        }
        let serverName = normalizedDomainName(host)

        if numeric {
            let port = uri.port ?? chosen.defaultPort
            guard let address = SocketAddress(host: host, port: port) else {
                throw SIPResolutionError(.invalidURI, name: host, detail: "not a numeric address")
            }
            return SIPTargetCursor(targets: [SIPServerTarget(transport: chosen, address: address, hostName: host, serverName: host)], validUntil: .infinity)
        }

        var targets: [SIPServerTarget] = []
        if let port = uri.port {
            targets = addresses(of: host, port: port, transport: chosen, serverName: serverName, isURIHost: true, pass: &pass)
        } else if let explicit {
            targets = srvTargets(explicit.srvPrefix + host, transport: explicit, serverName: serverName, pass: &pass, rng: &rng)
            if !pass.srvFound {
                targets = addresses(of: host, port: explicit.defaultPort, transport: explicit, serverName: serverName, isURIHost: true, pass: &pass)
            }
        } else {
            let naptr = usableNAPTR(query(host, .naptr, pass: &pass), secure: uri.isSecure)
            if !naptr.isEmpty {
                for (replacement, transport) in naptr {
                    targets += srvTargets(replacement, transport: transport, serverName: serverName, pass: &pass, rng: &rng)
                }
            } else {
                for transport in configuration.transports where !uri.isSecure || transport == .tls {
                    targets += srvTargets(transport.srvPrefix + host, transport: transport, serverName: serverName, pass: &pass, rng: &rng)
                }
            }
            if !pass.srvFound {
                targets = addresses(of: host, port: chosen.defaultPort, transport: chosen, serverName: serverName, isURIHost: true, pass: &pass)
            }
        }

        var unique: [SIPServerTarget] = []
        for target in targets where !unique.contains(where: { $0.transport == target.transport && $0.address == target.address }) {
            unique.append(target)
            if unique.count >= configuration.maximumTargets { break }
        }
        guard unique.isEmpty else { return SIPTargetCursor(targets: unique, validUntil: pass.validUntil) }
        if let failure = pass.failures.first {
            throw SIPResolutionError(.temporaryFailure, name: host, detail: failure.description)
        }
        if pass.hostNotFound { throw SIPResolutionError(.hostNotFound, name: host) }
        throw SIPResolutionError(.noTargets, name: host)
    }

    // MARK: - Steps

    private struct Pass {
        let now: Double
        var validUntil: Double = .infinity
        var srvFound = false
        var hostNotFound = false
        var queries = 0
        var failures: [DNSLookupError] = []
    }

    /// The transport the URI's `transport` parameter demands, nil when it has none.
    private func explicitTransport(_ uri: SIPURI, host: String) throws(SIPResolutionError) -> TransportKind? {
        guard let parameter = uri.transport else { return nil }
        let transport: TransportKind
        switch parameter {
        case "udp":
            guard !uri.isSecure else { throw SIPResolutionError(.unsupportedTransport, name: host, detail: "sips over UDP") }
            transport = .udp
        case "tcp": transport = uri.isSecure ? .tls : .tcp
        case "tls": transport = .tls
        default: throw SIPResolutionError(.unsupportedTransport, name: host, detail: "transport=\(parameter)")
        }
        guard configuration.transports.contains(transport) else {
            throw SIPResolutionError(.unsupportedTransport, name: host, detail: "\(transport) is not enabled")
        }
        return transport
    }

    /// RFC 3263 §4.1: UDP for `sip` (TCP if UDP is disabled), TLS for `sips`.
    private func fallbackTransport(secure: Bool) -> TransportKind? {
        if secure { return configuration.transports.contains(.tls) ? .tls : nil }
        return configuration.transports.first { $0 == .udp } ?? configuration.transports.first { $0 == .tcp }
    }

    /// NAPTR records RFC 3263 lets us follow, sorted, as (SRV name, transport).
    private func usableNAPTR(_ records: [DNSResourceRecord], secure: Bool) -> [(String, TransportKind)] {
        var usable: [(DNSNAPTRData, TransportKind)] = []
        for record in records {
            guard case .naptr(let naptr) = record.data,
                  naptr.flags.lowercased() == "s", naptr.regexp.isEmpty, naptr.replacement != "." else { continue }
            let service = naptr.services.uppercased()
            guard let transport = configuration.transports.first(where: { $0.naptrService == service }),
                  !secure || transport == .tls else { continue }
            usable.append((naptr, transport))
        }
        usable.sort { ($0.0.order, $0.0.preference) < ($1.0.order, $1.0.preference) }
        return usable.prefix(configuration.maximumRecords).map { ($0.0.replacement, $0.1) }
    }

    private mutating func srvTargets(
        _ name: String, transport: TransportKind, serverName: String, pass: inout Pass,
        rng: inout some RandomNumberGenerator
    ) -> [SIPServerTarget] {
        let records: [DNSSRVData] = query(name, .srv, pass: &pass).compactMap {
            if case .srv(let srv) = $0.data { return srv }
            return nil
        }
        if !records.isEmpty { pass.srvFound = true }
        let ordered = SRVOrdering.order(Array(records.filter { $0.target != "." }.prefix(configuration.maximumRecords)), using: &rng)
        var targets: [SIPServerTarget] = []
        for srv in ordered {
            targets += addresses(of: srv.target, port: srv.port, transport: transport, serverName: serverName, isURIHost: false, pass: &pass)
        }
        return targets
    }

    private mutating func addresses(
        of name: String, port: UInt16, transport: TransportKind, serverName: String, isURIHost: Bool, pass: inout Pass
    ) -> [SIPServerTarget] {
        var types: [DNSRecordType] = configuration.useIPv6 ? [.a, .aaaa] : [.a]
        if configuration.preferIPv6 && configuration.useIPv6 { types = [.aaaa, .a] }
        var targets: [SIPServerTarget] = []
        for type in types {
            var notFound = false
            let records = query(name, type, pass: &pass, notFound: &notFound)
            if notFound {
                // NXDOMAIN: the name has no records of any type (RFC 8020); the other family is moot.
                if isURIHost && targets.isEmpty { pass.hostNotFound = true }
                break
            }
            for record in records {
                let text: String
                switch record.data {
                case .a(let a): text = a
                case .aaaa(let aaaa): text = aaaa
                default: continue
                }
                guard let address = SocketAddress(host: text, port: port) else { continue }
                targets.append(SIPServerTarget(transport: transport, address: address, hostName: normalizedDomainName(name), serverName: serverName))
            }
        }
        return targets
    }

    private mutating func query(_ name: String, _ type: DNSRecordType, pass: inout Pass) -> [DNSResourceRecord] {
        var notFound = false
        return query(name, type, pass: &pass, notFound: &notFound)
    }

    /// One cached query. Failures other than NXDOMAIN are noted in `pass` and read as "no records".
    private mutating func query(_ name: String, _ type: DNSRecordType, pass: inout Pass, notFound: inout Bool) -> [DNSResourceRecord] {
        let key = DNSCache.Key(name: name, type: type)
        if let entry = cache.entry(for: key, now: pass.now) {
            pass.validUntil = min(pass.validUntil, entry.expires)
            switch entry.answer {
            case .records(let records): return records
            case .nameNotFound:
                notFound = true
                return []
            }
        }
        guard pass.queries < configuration.maximumQueries else {
            if pass.queries == configuration.maximumQueries {
                pass.failures.append(DNSLookupError(.temporaryFailure, name: name, type: type, detail: "query budget spent"))
                pass.queries += 1
            }
            return []
        }
        pass.queries += 1
        let answer: DNSCache.Answer
        do throws(DNSLookupError) {
            answer = .records(try lookup.query(key.name, type: type).filter { $0.data.type == type })
        } catch {
            guard error.code == .nameNotFound else {
                pass.failures.append(error)
                return []
            }
            answer = .nameNotFound
        }
        let expires = cache.store(answer, for: key, now: pass.now)
        pass.validUntil = min(pass.validUntil, expires)
        switch answer {
        case .records(let records): return records
        case .nameNotFound:
            notFound = true
            return []
        }
    }
}
