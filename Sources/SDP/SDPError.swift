/// An error from parsing SDP (RFC 4566) or from the offer/answer engine (RFC 3264).
///
/// A struct with an extensible `Code`, so callers can switch on the kind of failure while new codes
/// can be added without breaking them. `line` is the 1-based line number in the input when the error
/// comes from the parser, `nil` otherwise.
public struct SDPError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, as a stable identifier.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        // Limits
        /// The input is larger than `SDPLimits.maxBytes`.
        public static let tooLarge = Code("tooLarge")
        /// The input has more lines than `SDPLimits.maxLines`.
        public static let tooManyLines = Code("tooManyLines")
        /// The input has more `m=` sections than `SDPLimits.maxMediaSections`.
        public static let tooManyMediaSections = Code("tooManyMediaSections")
        /// A list (formats, attributes, bandwidths…) is longer than the limits allow.
        public static let tooManyItems = Code("tooManyItems")

        // Lexical (RFC 4566 §5)
        /// The input is not valid UTF-8.
        public static let invalidUTF8 = Code("invalidUTF8")
        /// A NUL, a bare CR or another forbidden byte.
        public static let invalidCharacter = Code("invalidCharacter")
        /// A line that is not `<type>=<value>` (includes empty lines in the middle).
        public static let malformedLine = Code("malformedLine")
        /// A type letter RFC 4566 does not define.
        public static let unknownType = Code("unknownType")

        // Structure (RFC 4566 §5)
        /// The description does not start with `v=`.
        public static let missingVersion = Code("missingVersion")
        /// `v=` is not `0`.
        public static let unsupportedVersion = Code("unsupportedVersion")
        /// A mandatory field (`o=`, `s=`, `t=`) is missing.
        public static let missingField = Code("missingField")
        /// A field that may appear once appears again.
        public static let duplicateField = Code("duplicateField")
        /// A field appears where RFC 4566 does not allow it (e.g. `o=` inside a media section).
        public static let misplacedField = Code("misplacedField")

        // Field syntax
        public static let badOrigin = Code("badOrigin")
        public static let badConnection = Code("badConnection")
        public static let badBandwidth = Code("badBandwidth")
        public static let badTiming = Code("badTiming")
        public static let badRepeat = Code("badRepeat")
        public static let badTimeZone = Code("badTimeZone")
        public static let badAttribute = Code("badAttribute")
        public static let badMedia = Code("badMedia")
        public static let badPort = Code("badPort")
        public static let badFormat = Code("badFormat")

        // Offer/answer (RFC 3264)
        /// The answer does not have as many `m=` lines as the offer (§5/§6), or a new offer has fewer
        /// than the session already has (§8).
        public static let mediaCountMismatch = Code("mediaCountMismatch")
        /// An answer's `m=` line has a different media type from the offer's line at that position.
        public static let mediaKindMismatch = Code("mediaKindMismatch")
        /// An accepted stream has no `c=` line at media or session level.
        public static let missingConnection = Code("missingConnection")
        /// The engine is not in a state where this input is allowed (e.g. an answer without an offer).
        public static let invalidState = Code("invalidState")
        /// The local capabilities are not usable (e.g. no media, a port of 0).
        public static let badCapabilities = Code("badCapabilities")
    }

    public var code: Code
    /// A human-readable explanation naming the field or line.
    public var message: String
    /// 1-based line number of the offending input line, when known.
    public var line: Int?

    public init(_ code: Code, _ message: String, line: Int? = nil) {
        self.code = code
        self.message = message
        self.line = line
    }

    public var description: String {
        if let line { return "SDP \(code) at line \(line): \(message)" }
        return "SDP \(code): \(message)"
    }
}
