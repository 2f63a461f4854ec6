/// Limits applied while parsing authentication header values, so that a hostile peer cannot make
/// the parser do unbounded work.
public struct AuthHeaderLimits: Hashable, Sendable {
    /// Maximum length of the header value in bytes (UTF-8).
    public var maxLength: Int
    /// Maximum number of auth-params.
    public var maxParameters: Int

    public init(maxLength: Int = 8192, maxParameters: Int = 64) {
        self.maxLength = maxLength
        self.maxParameters = maxParameters
    }

    /// 8 KiB and 64 parameters: far above any real challenge or credentials.
    public static let `default` = AuthHeaderLimits()
}
