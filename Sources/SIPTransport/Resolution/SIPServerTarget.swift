/// One place to send a request: transport, numeric address and port.
public struct SIPServerTarget: Sendable, Equatable, CustomStringConvertible {
    public var transport: TransportKind
    public var address: SocketAddress
    /// The name the address was found under (an SRV target or the URI host; the address itself when
    /// the URI was numeric).
    public var hostName: String
    /// The domain of the URI (or its maddr): the name a TLS server certificate must match
    /// (RFC 5922 §4) and the SNI to send.
    public var serverName: String

    public init(transport: TransportKind, address: SocketAddress, hostName: String, serverName: String) {
        self.transport = transport
        self.address = address
        self.hostName = hostName
        self.serverName = serverName
    }

    public var port: UInt16 { address.port }
    public var description: String { "\(transport.viaToken) \(address) (\(hostName))" }
}

/// Why resolution of a SIP URI failed.
public struct SIPResolutionError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// The name does not exist (NXDOMAIN for its addresses and no SRV/NAPTR records).
        case hostNotFound
        /// Records exist but lead to no usable address (SRV target ".", targets without A/AAAA,
        /// or only unsupported transports).
        case noTargets
        /// A name server timed out or failed and nothing usable was found: try again later.
        case temporaryFailure
        /// The URI's transport parameter names a transport not supported (or `sips` with UDP).
        case unsupportedTransport
        /// The URI has no host the locator can use (e.g. a malformed maddr).
        case invalidURI
    }

    public var code: Code
    public var name: String
    public var detail: String

    public init(_ code: Code, name: String, detail: String = "") {
        self.code = code
        self.name = name
        self.detail = detail
    }

    public var description: String {
        let suffix = detail.isEmpty ? "" : " (\(detail))"
        switch code {
        case .hostNotFound: return "cannot resolve \(name): no such domain" + suffix
        case .noTargets: return "cannot resolve \(name): no usable server" + suffix
        case .temporaryFailure: return "cannot resolve \(name): DNS temporarily failing" + suffix
        case .unsupportedTransport: return "cannot reach \(name): unsupported transport" + suffix
        case .invalidURI: return "cannot resolve \(name): invalid URI" + suffix
        }
    }
}
