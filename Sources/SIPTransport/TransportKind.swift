/// The SIP transports this module carries (RFC 3261 §18; TLS per §26.2.1).
public enum TransportKind: String, Sendable, Hashable, CaseIterable {
    case udp
    case tcp
    case tls

    /// The Via transport token (`UDP`, `TCP`, `TLS`).
    public var viaToken: String { rawValue.uppercased() }

    /// Whether the transport is reliable (§18.2.2 routes responses differently).
    public var isReliable: Bool { self != .udp }

    /// The default port when none is given (§19.1.2: 5060, 5061 for TLS).
    public var defaultPort: UInt16 { self == .tls ? 5061 : 5060 }

    /// The transport a Via token names, nil for one this module does not carry.
    public init?(viaToken: String) {
        switch viaToken.uppercased() {
        case "UDP": self = .udp
        case "TCP": self = .tcp
        case "TLS": self = .tls
        default: return nil
        }
    }
}
