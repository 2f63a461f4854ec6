/// A SIP method: one of RFC 3261's and its extensions', or any other `token` (RFC 3261 §25
/// `extension-method`). Methods are case-sensitive (§7.1).
public struct SIPMethod: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String

    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    public static let invite = SIPMethod("INVITE")
    public static let ack = SIPMethod("ACK")
    public static let bye = SIPMethod("BYE")
    public static let cancel = SIPMethod("CANCEL")
    public static let options = SIPMethod("OPTIONS")
    public static let register = SIPMethod("REGISTER")
    public static let prack = SIPMethod("PRACK")
    public static let subscribe = SIPMethod("SUBSCRIBE")
    public static let notify = SIPMethod("NOTIFY")
    public static let publish = SIPMethod("PUBLISH")
    public static let info = SIPMethod("INFO")
    public static let refer = SIPMethod("REFER")
    public static let message = SIPMethod("MESSAGE")
    public static let update = SIPMethod("UPDATE")

    /// The methods defined by RFC 3261 and the extensions SIPCore knows (RFC 3262, 3265/6665, 3311,
    /// 3428, 3515, 3903, 6086).
    public static let standard: Set<SIPMethod> = [
        .invite, .ack, .bye, .cancel, .options, .register, .prack, .subscribe, .notify, .publish,
        .info, .refer, .message, .update,
    ]

    /// Whether `rawValue` is a syntactically valid method (a `token`).
    public var isValidToken: Bool { !rawValue.isEmpty && rawValue.utf8.allSatisfy { ByteClass.token.contains($0) } }
}
