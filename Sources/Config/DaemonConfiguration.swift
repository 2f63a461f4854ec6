/// The part of the configuration file the daemon reads today:
///
/// ```json
/// { "sip": { "listen": ["udp:0.0.0.0:5060", "tcp:0.0.0.0:5060", "tls:0.0.0.0:5061"],
///            "tls": { "certificate": "/etc/dialtone/sip.pem", "key": "/etc/dialtone/sip.key" },
///            "max-transactions": 20000 } }
/// ```
///
/// Unknown top-level sections are ignored (later issues add them); unknown keys inside `sip` are
/// errors, so a misspelt key is not silently dropped. The `server` section (SIP server roles) is
/// described in `ServerConfiguration`, the `VoiceService` section (line accounts) in
/// `VoiceConfiguration`.
public struct DaemonConfiguration: Sendable, Equatable {
    public var listen: [ListenAddress]
    /// PEM certificate chain for `tls:` listen addresses (`sip.tls.certificate`).
    public var tlsCertificate: String?
    /// PEM private key for `tls:` listen addresses (`sip.tls.key`).
    public var tlsKey: String?
    /// Most server transactions alive at once; past it new requests get 503 (`sip.max-transactions`).
    public var maxTransactions: Int
    /// The DNS server for RFC 3263 lookups (`sip.dns-server`, "ADDRESS[:PORT]"); nil: the system's
    /// (/etc/resolv.conf).
    public var dnsServer: String? = nil
    public var dnsPort: UInt16 = 53
    /// The SIP server roles (`server`); nil when the section is absent (roles off).
    public var server: ServerConfiguration?
    /// The line accounts of the SIP user agent (`VoiceService`); nil when the section is absent.
    public var voice: VoiceConfiguration?

    public static let defaultMaxTransactions = 20_000

    public init(listen: [ListenAddress], tlsCertificate: String? = nil, tlsKey: String? = nil,
                maxTransactions: Int = DaemonConfiguration.defaultMaxTransactions, server: ServerConfiguration? = nil,
                voice: VoiceConfiguration? = nil) {
        self.listen = listen
        self.tlsCertificate = tlsCertificate
        self.tlsKey = tlsKey
        self.maxTransactions = maxTransactions
        self.server = server
        self.voice = voice
    }

    /// Factory default: UDP 5060 on every IPv4 address.
    public static let factoryDefault = DaemonConfiguration(listen: [ListenAddress(transport: .udp, host: "0.0.0.0", port: 5060)])

    /// Whether any listen address is TLS.
    public var needsTLS: Bool { listen.contains { $0.transport == .tls } }

    /// Checks what the keys mean together (after flags were applied): a `tls:` address needs both a
    /// certificate and a key, and one without the other is a mistake.
    public func validated() -> Result<DaemonConfiguration, ConfigError> {
        if (tlsCertificate == nil) != (tlsKey == nil) {
            let missing = tlsCertificate == nil ? "sip.tls.certificate (--tls-cert)" : "sip.tls.key (--tls-key)"
            return .failure(ConfigError(.missingValue, "a TLS certificate and key go together: \(missing) is missing", field: "sip.tls"))
        }
        if let tls = listen.first(where: { $0.transport == .tls }), tlsCertificate == nil {
            return .failure(ConfigError(.missingValue,
                "\(tls) needs a certificate and key: set sip.tls.certificate and sip.tls.key, or pass --tls-cert FILE --tls-key FILE",
                field: "sip.tls"))
        }
        return .success(self)
    }

    /// "192.0.2.53", "192.0.2.53:5353", "[2001:db8::53]:53".
    static func parseDNSServer(_ text: String) -> (address: String, port: UInt16)? {
        var host = Substring(text)
        var port: UInt16 = 53
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let p = UInt16(rest.dropFirst()), p > 0 else { return nil }
                port = p
            }
            guard host.contains(":"), host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
            return (String(host), port)
        }
        let parts = host.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return nil }
        if parts.count == 2 {
            guard let p = UInt16(parts[1]), p > 0 else { return nil }
            port = p
        }
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ o in o.count <= 3 && !o.isEmpty && o.allSatisfy(\.isNumber) && (Int(o) ?? 256) <= 255 }) else { return nil }
        return (String(parts[0]), port)
    }

    /// Parses the configuration file's bytes.
    public static func parse(_ bytes: [UInt8]) -> Result<DaemonConfiguration, ConfigError> {
        guard let root = JSONValue.parse(bytes) else {
            return .failure(ConfigError(.notJSON, "configuration is not valid JSON"))
        }
        guard case .object = root else { return .failure(ConfigError(.wrongType, "must be a JSON object", field: "(root)")) }
        var config = factoryDefault
        if let server = root["server"] {
            switch ServerConfiguration.parse(server) {
            case .success(let s): config.server = s
            case .failure(let e): return .failure(e)
            }
        }
        if let voice = root[VoiceConfiguration.sectionKey] {
            switch VoiceConfiguration.parse(voice) {
            case .success(let v): config.voice = v
            case .failure(let e): return .failure(e)
            }
        }
        guard let sip = root["sip"] else { return .success(config) }
        guard case .object(let members) = sip else { return .failure(ConfigError(.wrongType, "must be an object", field: "sip")) }
        for (key, value) in members {
            switch key {
            case "listen":
                guard case .array(let items) = value, !items.isEmpty else {
                    return .failure(ConfigError(.wrongType, "must be a non-empty array of \"transport:host:port\" strings", field: "sip.listen"))
                }
                var addresses: [ListenAddress] = []
                for (i, item) in items.enumerated() {
                    guard let text = item.stringValue else {
                        return .failure(ConfigError(.wrongType, "must be a string", field: "sip.listen[\(i)]"))
                    }
                    switch ListenAddress.parse(text) {
                    case .success(let a): addresses.append(a)
                    case .failure(var e):
                        e.field = "sip.listen[\(i)]"
                        return .failure(e)
                    }
                }
                config.listen = addresses
            case "tls":
                guard case .object(let tlsMembers) = value else {
                    return .failure(ConfigError(.wrongType, "must be an object with certificate and key", field: "sip.tls"))
                }
                for (tlsKey, tlsValue) in tlsMembers {
                    guard let path = tlsValue.stringValue, !path.isEmpty else {
                        return .failure(ConfigError(.wrongType, "must be a non-empty path", field: "sip.tls.\(tlsKey)"))
                    }
                    switch tlsKey {
                    case "certificate": config.tlsCertificate = path
                    case "key": config.tlsKey = path
                    default: return .failure(ConfigError(.unknownKey, "unknown key", field: "sip.tls.\(tlsKey)"))
                    }
                }
            case "dns-server":
                // "ADDRESS" or "ADDRESS:PORT" (IPv6 as [ADDRESS]:PORT): the resolver asks only it.
                guard let text = value.stringValue, let server = Self.parseDNSServer(text) else {
                    return .failure(ConfigError(.invalidValue, "must be \"ADDRESS\" or \"ADDRESS:PORT\" with a numeric IPv4 or [IPv6] address", field: "sip.dns-server"))
                }
                config.dnsServer = server.address
                config.dnsPort = server.port
            case "max-transactions":
                guard let n = value.intValue, n >= 1 else {
                    return .failure(ConfigError(.invalidValue, "must be an integer of at least 1", field: "sip.max-transactions"))
                }
                config.maxTransactions = n
            default:
                return .failure(ConfigError(.unknownKey, "unknown key", field: "sip.\(key)"))
            }
        }
        return .success(config)
    }
}
