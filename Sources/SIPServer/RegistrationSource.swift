import SIPCore

/// Where a REGISTER came from: the transport and the packet's source address and port, kept with
/// the bindings so that a proxy can reach a phone behind NAT through the flow it registered on
/// (RFC 3261 §18.2.1 `received`, RFC 3581 `rport`, RFC 5626 §5.3 flows) even when its Contact
/// holds a private address.
public struct RegistrationSource: Sendable, Hashable, CustomStringConvertible {
    /// Upper-case transport as in Via: `UDP`, `TCP`, `TLS`, …
    public var transport: String
    /// The numeric source address (IPv6 without brackets).
    public var host: String
    public var port: UInt16

    public init(transport: String, host: String, port: UInt16) {
        self.transport = transport.uppercased()
        self.host = host
        self.port = port
    }

    /// The source as the endpoint recorded it in the top Via (§18.2.1, RFC 3581): `received` (or the
    /// sent-by host), `rport` (or the sent-by port, or 5060/5061). Only exact when the client asked
    /// for rport; prefer `init(transport:host:port:)` with the real packet source when available.
    public init?(stampedVia via: Via) {
        let host = via.received ?? via.host.bare
        var port = via.port ?? (via.transport.uppercased() == "TLS" ? 5061 : 5060)
        if case .some(.some(let rport)) = via.rport { port = rport }
        guard !host.isEmpty else { return nil }
        self.init(transport: via.transport, host: host, port: port)
    }

    public var description: String {
        "\(transport.lowercased()):\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }
}
