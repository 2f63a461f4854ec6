extension SessionDescription {
    /// Parses a session description (RFC 4566 §5) from bytes.
    ///
    /// - Parameters:
    ///   - bytes: the body, UTF-8, lines ended by CRLF or LF.
    ///   - limits: bounds on size, lines and media sections.
    /// - Throws: `SDPError` with the line number of the first problem.
    public init(parsing bytes: some Collection<UInt8>, limits: SDPLimits = .default) throws(SDPError) {
        self = try SDPParser(limits: limits).parse(bytes)
    }

    /// Parses a session description from text. See `init(parsing:limits:)`.
    public init(parsing text: String, limits: SDPLimits = .default) throws(SDPError) {
        self = try SDPParser(limits: limits).parse(Array(text.utf8))
    }
}
