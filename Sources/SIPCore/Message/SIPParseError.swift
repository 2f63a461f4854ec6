/// What went wrong while parsing a SIP message or one of its parts, and where.
///
/// `offset` is the octet offset in the input where the fault was found: for the message parser and for
/// the header views of a parsed message, an offset in the message's octets (inside the header's value);
/// for `init(parsing:)` of a part, an offset in that text. `header` names the header field whose value
/// was malformed, when the fault is inside one.
public struct SIPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The input ended before the message (or the header section) was complete.
        public static let incomplete = Code("incomplete")
        /// Nothing but whitespace.
        public static let empty = Code("empty")
        public static let badStartLine = Code("bad-start-line")
        public static let badVersion = Code("bad-version")
        public static let badStatusCode = Code("bad-status-code")
        public static let badMethod = Code("bad-method")
        public static let badRequestURI = Code("bad-request-uri")
        public static let badHeaderLine = Code("bad-header-line")
        public static let badHeaderValue = Code("bad-header-value")
        public static let badContentLength = Code("bad-content-length")
        public static let bodyTooShort = Code("body-too-short")
        public static let messageTooLarge = Code("message-too-large")
        public static let tooManyHeaders = Code("too-many-headers")
        public static let headerTooLong = Code("header-too-long")
        public static let uriTooLong = Code("uri-too-long")
        public static let badURI = Code("bad-uri")
    }

    public var code: Code
    public var message: String
    public var offset: Int
    /// The header field (canonical name) whose value is at fault, if any.
    public var header: String?

    public init(_ code: Code, _ message: String, offset: Int = 0, header: String? = nil) {
        self.code = code
        self.message = message
        self.offset = offset
        self.header = header
    }

    public var description: String {
        if let header { return "\(code): \(header): \(message) (at octet \(offset))" }
        return "\(code): \(message) (at octet \(offset))"
    }
}
