/// An `a=` field (RFC 4566 §5.13): a property attribute `a=<name>` or a value attribute
/// `a=<name>:<value>`. Attributes are kept in their original order and unknown ones are preserved.
public struct Attribute: Hashable, Sendable {
    public var name: String
    /// `nil` for a property attribute such as `a=sendonly`; may be empty (`a=name:`).
    public var value: String?

    public init(_ name: String, _ value: String? = nil) {
        self.name = name
        self.value = value
    }

    /// The text after `a=`.
    public var text: String {
        if let value { return name + ":" + value }
        return name
    }
}
