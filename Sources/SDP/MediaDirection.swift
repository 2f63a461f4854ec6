/// The direction attributes `sendrecv`, `sendonly`, `recvonly`, `inactive` (RFC 4566 §6, RFC 3264
/// §5.1, §6.1), always from the point of view of the party that wrote the description.
public enum MediaDirection: String, Hashable, Sendable, CaseIterable {
    case sendrecv
    case sendonly
    case recvonly
    case inactive

    public init(sends: Bool, receives: Bool) {
        switch (sends, receives) {
        case (true, true): self = .sendrecv
        case (true, false): self = .sendonly
        case (false, true): self = .recvonly
        case (false, false): self = .inactive
        }
    }

    public var sends: Bool { self == .sendrecv || self == .sendonly }
    public var receives: Bool { self == .sendrecv || self == .recvonly }

    /// The direction seen from the other side: `sendonly` ↔ `recvonly` (RFC 3264 §6.1).
    public var reversed: MediaDirection { MediaDirection(sends: receives, receives: sends) }

    /// Only what both allow: `sendrecv ∩ sendonly = sendonly`, `recvonly ∩ sendonly = inactive`.
    public func intersection(_ other: MediaDirection) -> MediaDirection {
        MediaDirection(sends: sends && other.sends, receives: receives && other.receives)
    }

    /// The attribute that carries this direction.
    public var attribute: Attribute { Attribute(rawValue) }
}
