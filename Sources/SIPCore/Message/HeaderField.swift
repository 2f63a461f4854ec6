/// One header field as text: its name (as written, e.g. `v` or `VIA`) and its value with folds
/// replaced by a single space and surrounding whitespace removed.
public struct HeaderField: Sendable, Equatable, CustomStringConvertible {
    public var name: HeaderName
    /// The name exactly as it appeared (compact form, letter case); for added fields, the canonical name.
    public var rawName: String
    public var value: String

    public init(name: HeaderName, value: String) {
        self.name = name
        self.rawName = name.canonical
        self.value = value
    }

    public init(name: HeaderName, rawName: String, value: String) {
        self.name = name
        self.rawName = rawName
        self.value = value
    }

    public var description: String { "\(rawName): \(value)" }
}
