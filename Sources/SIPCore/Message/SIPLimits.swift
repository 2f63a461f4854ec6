/// Bounds on what the parser accepts, so that hostile input costs bounded memory and time.
///
/// Exceeding any of them is a `SIPParseError` (`.messageTooLarge`, `.tooManyHeaders`,
/// `.headerTooLong`, `.uriTooLong`), never a partial parse.
public struct SIPLimits: Sendable, Equatable {
    /// Largest whole message (start line, headers and body), in octets.
    public var maxMessageSize: Int
    /// Most header fields (lines, after unfolding) in one message.
    public var maxHeaderCount: Int
    /// Longest single header field (name, colon and value, folds included), in octets.
    public var maxHeaderLength: Int
    /// Longest URI (Request-URI or any URI in a header), in octets.
    public var maxURILength: Int
    /// Most comma-separated values in one header field (Via, Contact, Route, …).
    public var maxValuesPerHeader: Int
    /// Most parameters on one URI or header value.
    public var maxParameters: Int

    public init(
        maxMessageSize: Int = 65_536,
        maxHeaderCount: Int = 256,
        maxHeaderLength: Int = 8_192,
        maxURILength: Int = 2_048,
        maxValuesPerHeader: Int = 64,
        maxParameters: Int = 64
    ) {
        self.maxMessageSize = maxMessageSize
        self.maxHeaderCount = maxHeaderCount
        self.maxHeaderLength = maxHeaderLength
        self.maxURILength = maxURILength
        self.maxValuesPerHeader = maxValuesPerHeader
        self.maxParameters = maxParameters
    }

    /// 64 KiB messages, 256 header fields, 8 KiB per header, 2 KiB per URI.
    public static let `default` = SIPLimits()
}
