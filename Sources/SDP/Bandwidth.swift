/// The `b=` field (RFC 4566 §5.8): `b=<bwtype>:<bandwidth>`, e.g. `b=AS:64` (kilobits per second).
public struct Bandwidth: Hashable, Sendable {
    /// `CT`, `AS`, or an extension such as `TIAS` (RFC 3890).
    public var type: String
    public var value: UInt64

    public init(type: String, value: UInt64) {
        self.type = type
        self.value = value
    }
}
