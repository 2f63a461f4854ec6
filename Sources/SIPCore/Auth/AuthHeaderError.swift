/// An error found while parsing an authentication header value (WWW-Authenticate,
/// Proxy-Authenticate, Authorization, Proxy-Authorization — RFC 3261 §20.7, §20.27, §20.28, §20.44).
///
/// `offset` is the byte offset into the UTF-8 form of the header value where the problem was found.
public struct AuthHeaderError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong. A struct rather than an enum so that new codes do not break callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case empty, tooLong, tooManyParameters, expectedScheme, expectedParameterName, expectedEquals
            case expectedValue, expectedComma, unterminatedQuotedString, invalidCharacter
            case duplicateParameter, missingParameter, invalidParameterValue
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The value is empty or only whitespace.
        public static let empty = Code(.empty)
        /// The value is longer than `AuthHeaderLimits.maxLength`.
        public static let tooLong = Code(.tooLong)
        /// More parameters than `AuthHeaderLimits.maxParameters`.
        public static let tooManyParameters = Code(.tooManyParameters)
        /// No auth-scheme token at the start.
        public static let expectedScheme = Code(.expectedScheme)
        /// A parameter name (token) was expected.
        public static let expectedParameterName = Code(.expectedParameterName)
        /// `=` was expected after a parameter name.
        public static let expectedEquals = Code(.expectedEquals)
        /// A token or quoted-string value was expected after `=`.
        public static let expectedValue = Code(.expectedValue)
        /// `,` or the end of the value was expected after a parameter.
        public static let expectedComma = Code(.expectedComma)
        /// A quoted-string has no closing quote.
        public static let unterminatedQuotedString = Code(.unterminatedQuotedString)
        /// A character not allowed at this place (control character, bare CR/LF, non-ASCII outside quotes).
        public static let invalidCharacter = Code(.invalidCharacter)
        /// The same parameter appears twice (names compare case-insensitively).
        public static let duplicateParameter = Code(.duplicateParameter)
        /// A parameter required by RFC 7616 / RFC 3261 is absent.
        public static let missingParameter = Code(.missingParameter)
        /// A known parameter has a value outside its grammar (e.g. `nc` not 8 hex digits).
        public static let invalidParameterValue = Code(.invalidParameterValue)

        public var description: String { "\(base)" }
    }

    public var code: Code
    public var message: String
    public var offset: Int

    public init(code: Code, message: String, offset: Int) {
        self.code = code
        self.message = message
        self.offset = offset
    }

    public var description: String { "\(code) at offset \(offset): \(message)" }
}
