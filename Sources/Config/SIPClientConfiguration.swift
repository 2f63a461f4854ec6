/// One `VoiceService.SIP.Client.{i}` entry (TR-104 issue 2): one SIP account, i.e. one line that
/// registers with its network.
///
/// ```text
/// { "Alias": "line1",                     // required, unique among clients
///   "Enable": true,                       // default false (TR-104)
///   "Network": "isp",                     // Alias of a Network entry; required when enabled
///   "AuthUserName": "alice",              // Digest user name, "" = no credentials, max 128
///   "AuthPassword": "secret",             // max 128; never shown in messages or descriptions
///   "RegisterURI": "sip:alice@example.net",
///                                         // the address-of-record (sip:/sips:, user part required,
///                                         //   max 389); "" = DirectoryNumber@ServerDomain
///   "DirectoryNumber": "101",             // the line's number (TR-104 CallControl.Line.{i}.
///                                         //   DirectoryNumber), max 32
///   "MaxSessions": 2,                     // simultaneous calls, 0 = no limit (TR-104 default 0)
///   "CodecList": [] }                     // empty = the Network's list
/// ```
///
/// An enabled client needs an address-of-record: a `RegisterURI`, or a `DirectoryNumber` and its
/// network's `ServerDomain`. Credentials are optional (a line without authentication is allowed).
/// `description` never shows `authPassword`.
public struct SIPClientConfiguration: Sendable, Equatable {
    /// `Alias`: the line's name (required, 1–64 characters, a letter first, then letters, digits,
    /// `-` or `_`; unique among clients).
    public var alias: String
    /// `Enable` (TR-104 default false).
    public var enable: Bool
    /// `Network`: the `alias` of a `SIPNetworkConfiguration`; nil when not set.
    public var network: String?
    /// `AuthUserName`: the Digest user name (max 128); empty when the line has no credentials.
    public var authUserName: String
    /// `AuthPassword` (max 128). Never shown by `description`.
    public var authPassword: String
    /// `RegisterURI`: the address-of-record as written (`sip:`/`sips:` with a user part); nil means
    /// `DirectoryNumber@ServerDomain`.
    public var registerURI: String?
    /// `DirectoryNumber`: the line's number; nil when not set.
    public var directoryNumber: String?
    /// `MaxSessions`: most simultaneous calls on the line, 0 = no limit (TR-104 default 0).
    public var maxSessions: Int
    /// `CodecList`: the line's codecs, preferred first; empty means the network's.
    public var codecList: [LineCodec]

    public init(alias: String, enable: Bool = false, network: String? = nil,
                authUserName: String = "", authPassword: String = "",
                registerURI: String? = nil, directoryNumber: String? = nil,
                maxSessions: Int = 0, codecList: [LineCodec] = []) {
        self.alias = alias
        self.enable = enable
        self.network = network
        self.authUserName = authUserName
        self.authPassword = authPassword
        self.registerURI = registerURI
        self.directoryNumber = directoryNumber
        self.maxSessions = maxSessions
        self.codecList = codecList
    }

    /// The address-of-record on `network`: `registerURI` when set, else
    /// `sip:<directoryNumber>@<serverDomain>` (IPv6 in brackets); nil when neither can be formed.
    public func addressOfRecord(on network: SIPNetworkConfiguration) -> String? {
        if let registerURI { return registerURI }
        guard let directoryNumber, let domain = network.serverDomain else { return nil }
        return "sip:\(directoryNumber)@\(SIPSyntax.uriHost(domain))"
    }

    /// The codecs the line uses on `network`: its own list, or the network's when its own is empty.
    public func codecs(on network: SIPNetworkConfiguration) -> [LineCodec] {
        codecList.isEmpty ? network.codecList : codecList
    }
}

extension SIPClientConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The values as text, the password only as whether it is set.
    var redactedFields: [(String, String)] {
        [("alias", alias), ("enable", "\(enable)"), ("network", Redacted.text(network)),
         ("authUserName", authUserName), ("authPassword", Redacted(authPassword).description),
         ("registerURI", Redacted.uri(registerURI)), ("directoryNumber", Redacted.text(directoryNumber)),
         ("maxSessions", "\(maxSessions)"), ("codecList", codecList.isEmpty ? "-" : codecList.map(\.rawValue).joined(separator: ","))]
    }

    /// Every value except the password, which shows only whether it is set.
    public var description: String { Redacted.describe("SIPClientConfiguration", redactedFields) }

    public var debugDescription: String { description }

    /// The values as text with the password redacted (what `dump` and debuggers show).
    public var customMirror: Mirror { Redacted.mirror(self, redactedFields) }
}
