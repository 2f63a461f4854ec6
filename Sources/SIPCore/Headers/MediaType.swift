/// `m-type "/" m-subtype *( SEMI m-parameter )` (RFC 3261 §20.15 Content-Type, §20.1 Accept).
public struct MediaType: Sendable, Hashable, CustomStringConvertible {
    public var type: String
    public var subtype: String
    public var parameters: [Parameter]

    public init(type: String, subtype: String, parameters: [Parameter] = []) {
        self.type = type
        self.subtype = subtype
        self.parameters = parameters
    }

    public static let sdp = MediaType(type: "application", subtype: "sdp")

    /// Same type and subtype, ignoring case and parameters (`*` matches anything, as in Accept).
    public func matches(_ other: MediaType) -> Bool {
        (type == "*" || other.type == "*" || type.asciiCaseInsensitiveEquals(other.type)) &&
            (subtype == "*" || other.subtype == "*" || subtype.asciiCaseInsensitiveEquals(other.subtype))
    }

    public var description: String { "\(type)/\(subtype)\(parameters.serialized)" }

    public init(parsing text: String, limits: SIPLimits = .default) throws(SIPParseError) {
        let bytes = Array(text.utf8)
        self = try MediaType.parse(bytes[...], header: "Content-Type", limits: limits)
    }

    static func parse(_ bytes: ArraySlice<UInt8>, header: String, limits: SIPLimits) throws(SIPParseError) -> MediaType {
        var sc = ValueScanner(bytes, header: header)
        let t = try sc.token("media type")
        try sc.expect(ASCII.slash, "'/' in media type")
        let s = try sc.token("media subtype")
        let parameters = try sc.parameters(limit: limits.maxParameters)
        try sc.expectEnd()
        return MediaType(type: t, subtype: s, parameters: parameters)
    }
}
