/// A configuration error: what is wrong and, where it applies, the field (`sip.listen[1]`).
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public static let unreadable = Code("unreadable")
        public static let notJSON = Code("not-json")
        public static let wrongType = Code("wrong-type")
        public static let invalidValue = Code("invalid-value")
        public static let unknownKey = Code("unknown-key")
        public static let missingValue = Code("missing-value")
    }

    public var code: Code
    public var message: String
    public var field: String?

    public init(_ code: Code, _ message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { field.map { "\($0): \(message)" } ?? message }
}
