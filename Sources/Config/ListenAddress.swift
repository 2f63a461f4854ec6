/// A SIP listening address, written `transport:host:port` (`udp:0.0.0.0:5060`,
/// `tcp:[::1]:5060`, `tls:0.0.0.0:5061`). A `tls:` address needs a certificate and key
/// (`DaemonConfiguration.tlsCertificate`, `tlsKey`).
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public enum Transport: String, Sendable {
        case udp
        case tcp
        case tls
    }

    public var transport: Transport
    /// Numeric IPv4 or IPv6 address (no brackets).
    public var host: String
    public var port: UInt16

    public init(transport: Transport, host: String, port: UInt16) {
        self.transport = transport
        self.host = host
        self.port = port
    }

    public var isIPv6: Bool { host.contains(":") }

    public var description: String {
        "\(transport.rawValue):\(isIPv6 ? "[\(host)]" : host):\(port)"
    }

    /// Parses `transport:host:port`; the error says what is wrong.
    public static func parse(_ text: String) -> Result<ListenAddress, ConfigError> {
        func bad(_ why: String) -> Result<ListenAddress, ConfigError> {
            .failure(ConfigError(.invalidValue, "listen address '\(text)': \(why)"))
        }
        guard let colon = text.firstIndex(of: ":") else { return bad("expected transport:host:port") }
        guard let transport = Transport(rawValue: String(text[..<colon]).lowercased()) else {
            return bad("transport must be udp, tcp or tls")
        }
        let rest = text[text.index(after: colon)...]
        let host: Substring
        let portText: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return bad("unterminated IPv6 address") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            guard after.hasPrefix(":") else { return bad("expected :port after the address") }
            portText = after.dropFirst()
        } else {
            guard let last = rest.lastIndex(of: ":") else { return bad("expected host:port") }
            host = rest[..<last]
            portText = rest[rest.index(after: last)...]
            if host.contains(":") { return bad("IPv6 addresses go in brackets") }
        }
        guard !host.isEmpty else { return bad("empty host") }
        guard let port = UInt16(portText), port > 0 else { return bad("port must be 1-65535") }
        return .success(ListenAddress(transport: transport, host: String(host), port: port))
    }
}
