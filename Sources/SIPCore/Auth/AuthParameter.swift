/// One `auth-param` (RFC 3261 §25.1: `auth-param-name EQUAL ( token / quoted-string )`).
///
/// `value` is unescaped (quoted-pairs resolved, surrounding quotes removed). `isQuoted` records the
/// form it was received in so that unknown parameters are forwarded the way they came.
public struct AuthParameter: Hashable, Sendable {
    /// The name as written (compare case-insensitively).
    public var name: String
    /// The unescaped value.
    public var value: String
    /// Whether the value was (or is to be) written as a quoted-string.
    public var isQuoted: Bool

    public init(name: String, value: String, isQuoted: Bool) {
        self.name = name
        self.value = value
        self.isQuoted = isQuoted
    }

    /// `name=value` or `name="value"`. A value that is not a valid token is always quoted, so the
    /// output always parses back to the same parameter.
    public var serialized: String {
        if isQuoted || !AuthSyntax.isToken(value) {
            return name + "=" + AuthSyntax.quoted(value)
        }
        return name + "=" + value
    }
}
