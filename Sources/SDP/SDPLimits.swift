/// Bounds applied while parsing, so hostile input is rejected with an error instead of consuming
/// unbounded memory or time.
public struct SDPLimits: Hashable, Sendable {
    /// Maximum size of the whole description in bytes (default 16 KiB).
    public var maxBytes: Int
    /// Maximum number of lines.
    public var maxLines: Int
    /// Maximum number of `m=` sections.
    public var maxMediaSections: Int
    /// Maximum number of formats on one `m=` line.
    public var maxFormatsPerMedia: Int

    public init(maxBytes: Int = 16 * 1024, maxLines: Int = 512, maxMediaSections: Int = 16,
                maxFormatsPerMedia: Int = 64) {
        self.maxBytes = maxBytes
        self.maxLines = maxLines
        self.maxMediaSections = maxMediaSections
        self.maxFormatsPerMedia = maxFormatsPerMedia
    }

    public static let `default` = SDPLimits()
}
