/// One `VoiceService.SIP.Network.{i}` entry (TR-104 issue 2): the ISP side of one or more lines —
/// where to register and send requests, SIP timers, which requests to accept, which codecs to offer.
///
/// ```text
/// { "Alias": "isp",                       // required, unique among networks; Clients name it
///   "Enable": true,                       // default false (TR-104)
///   "ProxyServer": "sip.example.net",     // host name or IP address ("" = none), max 256
///   "ProxyServerPort": 5060, "ProxyServerTransport": "UDP",     // 1-65535; UDP | TCP | TLS
///   "RegistrarServer": "", "RegistrarServerPort": 5060, "RegistrarServerTransport": "UDP",
///   "ServerDomain": "example.net",        // the SIP domain; with no registrar or proxy host set it is
///                                         //   resolved by RFC 3263 (NAPTR/SRV/A)
///   "UserAgentDomain": "",                // the domain of our own URIs ("" = our address)
///   "UserAgentPort": 0,                   // local port, 0 = any
///   "UserAgentTransport": "UDP",
///   "OutboundProxy": "", "OutboundProxyPort": 5060,   // every request goes there when set
///   "X_DIALTONE_BackupProxy": "", "X_DIALTONE_BackupProxyPort": 5060,
///                                         // used while the primary fails, with return to the primary
///   "RegisterExpires": 3600,              // seconds asked for, 60-86400
///   "RegisterRetryInterval": 30,          // seconds before retrying a failed registration, 1-86400
///   "TimerLoginRejected": 600,            // the longer wait after a 403, 1-86400
///   "NoLoginRetry": false,                // after a 403, wait for a configuration change
///   "TimerT1": 500, "TimerT2": 4000, "TimerT4": 5000,   // milliseconds (RFC 3261 §17), T2 ≥ T1
///   "InboundAuth": "SourceFilter",        // None | Digest | SourceFilter (default SourceFilter)
///   "InboundAuthUsername": "", "InboundAuthPassword": "",   // required for Digest, max 256
///   "CodecList": ["G.711MuLaw", "G.711ALaw", "G.722"],      // preference order, not empty
///   "X_DIALTONE_KeepAliveInterval": 25,   // seconds, 0 = off, else 5-3600
///   "X_DIALTONE_KeepAliveMethod": "CRLF", // CRLF | OPTIONS | None
///   "X_DIALTONE_DigestAlgorithms": ["SHA-512-256", "SHA-256", "MD5"] }
///                                         // challenges the client answers, preferred first
/// ```
///
/// `X_DIALTONE_` keys are vendor extensions, named as TR-106 §3.3 asks (`X_<VENDOR>_`).
///
/// Defaults are TR-104's where TR-104 gives one, with one deliberate exception: `InboundAuth`
/// defaults to `SourceFilter`, not TR-104's `None`, because an INVITE must by default be accepted
/// only from the proxy the line is registered with (issue 6), never from any host that can reach
/// the router's SIP port. TR-104 gives no default for the timers, registration intervals, codecs and
/// the extensions; those defaults are RFC 3261's (timers) and Dialtone's.
///
/// Host values are held lower-cased, IPv6 addresses without brackets; an empty host is nil.
/// `description` never shows `inboundAuthPassword`.
public struct SIPNetworkConfiguration: Sendable, Equatable {
    /// A SIP transport (TR-104 `…Transport`; its `SCTP` is not supported). The raw value is TR-104's
    /// spelling, which is also the Via `transport` token.
    public enum Transport: String, CaseIterable, Sendable, Hashable {
        case udp = "UDP"
        case tcp = "TCP"
        case tls = "TLS"
    }

    /// Which incoming requests are accepted (TR-104 `InboundAuth`).
    public enum InboundAuth: String, CaseIterable, Sendable, Hashable {
        /// Every request is accepted.
        case none = "None"
        /// Requests are challenged with `InboundAuthUsername`/`InboundAuthPassword`.
        case digest = "Digest"
        /// Requests are accepted only from the addresses of the line's proxy and registrar (the
        /// ones the registration went to), others are refused. Dialtone's default.
        case sourceFilter = "SourceFilter"
    }

    /// How a registered line keeps its NAT binding and flow alive (`X_DIALTONE_KeepAliveMethod`).
    public enum KeepAliveMethod: String, CaseIterable, Sendable, Hashable {
        /// RFC 5626 §3.5.1 double CRLF (on UDP a CRLF CRLF datagram).
        case crlf = "CRLF"
        /// An OPTIONS request to the proxy.
        case options = "OPTIONS"
        /// No keepalive.
        case none = "None"
    }

    /// A Digest algorithm the client answers (`X_DIALTONE_DigestAlgorithms`; RFC 7616 §6.1,
    /// RFC 8760 §2). The raw value is the registry token.
    public enum DigestAlgorithm: String, CaseIterable, Sendable, Hashable {
        case md5 = "MD5"
        case sha256 = "SHA-256"
        case sha512_256 = "SHA-512-256"
    }

    /// `Alias`: the name Clients use to refer to this network (required, 1–64 characters, a letter
    /// first, then letters, digits, `-` or `_`; unique among networks).
    public var alias: String
    /// `Enable` (TR-104 default false).
    public var enable: Bool
    /// `ProxyServer`: host name or IP address; nil when not set.
    public var proxyServer: String?
    /// `ProxyServerPort`, 1–65535 (default 5060).
    public var proxyServerPort: UInt16
    /// `ProxyServerTransport` (default UDP).
    public var proxyServerTransport: Transport
    /// `RegistrarServer`: host name or IP address; nil when not set.
    public var registrarServer: String?
    /// `RegistrarServerPort`, 1–65535 (default 5060).
    public var registrarServerPort: UInt16
    /// `RegistrarServerTransport` (default UDP).
    public var registrarServerTransport: Transport
    /// `ServerDomain`: the SIP domain (host part of derived addresses-of-record). With no registrar
    /// or proxy host it is resolved by RFC 3263 (NAPTR/SRV/A). Nil when not set.
    public var serverDomain: String?
    /// `UserAgentDomain`: the host of the line's own URIs; nil means the router's address.
    public var userAgentDomain: String?
    /// `UserAgentPort`: the local port, 0 = any (default 0).
    public var userAgentPort: UInt16
    /// `UserAgentTransport` (default UDP).
    public var userAgentTransport: Transport
    /// `OutboundProxy`: when set, every request is sent there (RFC 3261 §8.1.2); nil when not set.
    public var outboundProxy: String?
    /// `OutboundProxyPort`, 1–65535 (default 5060).
    public var outboundProxyPort: UInt16
    /// `X_DIALTONE_BackupProxy`: used while the primary (outbound proxy, proxy, registrar or domain)
    /// fails, returning to the primary; nil when not set.
    public var backupProxy: String?
    /// `X_DIALTONE_BackupProxyPort`, 1–65535 (default 5060).
    public var backupProxyPort: UInt16
    /// `RegisterExpires`: seconds asked for in REGISTER, 60–86400 (default 3600).
    public var registerExpires: Int
    /// `RegisterRetryInterval`: seconds before a failed registration is retried, 1–86400 (default 30).
    public var registerRetryInterval: Int
    /// `TimerLoginRejected`: seconds to wait after a 403, 1–86400 (default 600).
    public var timerLoginRejected: Int
    /// `NoLoginRetry`: after a 403, do not retry until the configuration changes (default false).
    public var noLoginRetry: Bool
    /// `TimerT1`, milliseconds, ≥ 1 (default 500, RFC 3261).
    public var timerT1: Int
    /// `TimerT2`, milliseconds, ≥ T1 (default 4000, RFC 3261).
    public var timerT2: Int
    /// `TimerT4`, milliseconds, ≥ 1 (default 5000, RFC 3261).
    public var timerT4: Int
    /// `InboundAuth` (default `.sourceFilter`, not TR-104's None; see the type's comment).
    public var inboundAuth: InboundAuth
    /// `InboundAuthUsername` (max 256; required for `.digest`).
    public var inboundAuthUsername: String
    /// `InboundAuthPassword` (max 256; required for `.digest`). Never shown by `description`.
    public var inboundAuthPassword: String
    /// `CodecList`: codecs offered and accepted, preferred first; not empty (default PCMU, PCMA).
    public var codecList: [LineCodec]
    /// `X_DIALTONE_KeepAliveInterval`: seconds, 0 = off, else 5–3600 (default 25).
    public var keepAliveInterval: Int
    /// `X_DIALTONE_KeepAliveMethod` (default `.crlf`).
    public var keepAliveMethod: KeepAliveMethod
    /// `X_DIALTONE_DigestAlgorithms`: which challenge algorithms the client answers, preferred
    /// first; not empty, no repeats (default SHA-512-256, SHA-256, MD5).
    public var digestAlgorithms: [DigestAlgorithm]

    public static let defaultPort: UInt16 = 5060
    public static let defaultRegisterExpires = 3600
    public static let defaultRegisterRetryInterval = 30
    public static let defaultTimerLoginRejected = 600
    public static let defaultTimerT1 = 500
    public static let defaultTimerT2 = 4000
    public static let defaultTimerT4 = 5000
    public static let defaultInboundAuth = InboundAuth.sourceFilter
    public static let defaultCodecList: [LineCodec] = [.g711MuLaw, .g711ALaw]
    public static let defaultKeepAliveInterval = 25
    public static let defaultKeepAliveMethod = KeepAliveMethod.crlf
    public static let defaultDigestAlgorithms: [DigestAlgorithm] = [.sha512_256, .sha256, .md5]

    /// A network with every other value at its default.
    public init(alias: String, enable: Bool = false,
                proxyServer: String? = nil, proxyServerPort: UInt16 = SIPNetworkConfiguration.defaultPort,
                proxyServerTransport: Transport = .udp,
                registrarServer: String? = nil, registrarServerPort: UInt16 = SIPNetworkConfiguration.defaultPort,
                registrarServerTransport: Transport = .udp,
                serverDomain: String? = nil,
                userAgentDomain: String? = nil, userAgentPort: UInt16 = 0, userAgentTransport: Transport = .udp,
                outboundProxy: String? = nil, outboundProxyPort: UInt16 = SIPNetworkConfiguration.defaultPort,
                backupProxy: String? = nil, backupProxyPort: UInt16 = SIPNetworkConfiguration.defaultPort,
                registerExpires: Int = SIPNetworkConfiguration.defaultRegisterExpires,
                registerRetryInterval: Int = SIPNetworkConfiguration.defaultRegisterRetryInterval,
                timerLoginRejected: Int = SIPNetworkConfiguration.defaultTimerLoginRejected,
                noLoginRetry: Bool = false,
                timerT1: Int = SIPNetworkConfiguration.defaultTimerT1,
                timerT2: Int = SIPNetworkConfiguration.defaultTimerT2,
                timerT4: Int = SIPNetworkConfiguration.defaultTimerT4,
                inboundAuth: InboundAuth = SIPNetworkConfiguration.defaultInboundAuth,
                inboundAuthUsername: String = "", inboundAuthPassword: String = "",
                codecList: [LineCodec] = SIPNetworkConfiguration.defaultCodecList,
                keepAliveInterval: Int = SIPNetworkConfiguration.defaultKeepAliveInterval,
                keepAliveMethod: KeepAliveMethod = SIPNetworkConfiguration.defaultKeepAliveMethod,
                digestAlgorithms: [DigestAlgorithm] = SIPNetworkConfiguration.defaultDigestAlgorithms) {
        self.alias = alias
        self.enable = enable
        self.proxyServer = proxyServer
        self.proxyServerPort = proxyServerPort
        self.proxyServerTransport = proxyServerTransport
        self.registrarServer = registrarServer
        self.registrarServerPort = registrarServerPort
        self.registrarServerTransport = registrarServerTransport
        self.serverDomain = serverDomain
        self.userAgentDomain = userAgentDomain
        self.userAgentPort = userAgentPort
        self.userAgentTransport = userAgentTransport
        self.outboundProxy = outboundProxy
        self.outboundProxyPort = outboundProxyPort
        self.backupProxy = backupProxy
        self.backupProxyPort = backupProxyPort
        self.registerExpires = registerExpires
        self.registerRetryInterval = registerRetryInterval
        self.timerLoginRejected = timerLoginRejected
        self.noLoginRetry = noLoginRetry
        self.timerT1 = timerT1
        self.timerT2 = timerT2
        self.timerT4 = timerT4
        self.inboundAuth = inboundAuth
        self.inboundAuthUsername = inboundAuthUsername
        self.inboundAuthPassword = inboundAuthPassword
        self.codecList = codecList
        self.keepAliveInterval = keepAliveInterval
        self.keepAliveMethod = keepAliveMethod
        self.digestAlgorithms = digestAlgorithms
    }

    /// Whether keepalives are sent: a method other than `.none` and an interval above 0.
    public var keepAliveEnabled: Bool { keepAliveMethod != .none && keepAliveInterval > 0 }

    /// Whether any server is set that a line can register with or send requests to: a registrar,
    /// proxy, outbound proxy or SIP domain.
    public var hasServer: Bool {
        registrarServer != nil || proxyServer != nil || outboundProxy != nil || serverDomain != nil
    }
}

extension SIPNetworkConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The values as text, the inbound password only as whether it is set.
    var redactedFields: [(String, String)] {
        [("alias", alias), ("enable", "\(enable)"),
         ("proxyServer", Redacted.text(proxyServer)), ("proxyServerPort", "\(proxyServerPort)"),
         ("proxyServerTransport", proxyServerTransport.rawValue),
         ("registrarServer", Redacted.text(registrarServer)), ("registrarServerPort", "\(registrarServerPort)"),
         ("registrarServerTransport", registrarServerTransport.rawValue),
         ("serverDomain", Redacted.text(serverDomain)),
         ("userAgentDomain", Redacted.text(userAgentDomain)), ("userAgentPort", "\(userAgentPort)"),
         ("userAgentTransport", userAgentTransport.rawValue),
         ("outboundProxy", Redacted.text(outboundProxy)), ("outboundProxyPort", "\(outboundProxyPort)"),
         ("backupProxy", Redacted.text(backupProxy)), ("backupProxyPort", "\(backupProxyPort)"),
         ("registerExpires", "\(registerExpires)"), ("registerRetryInterval", "\(registerRetryInterval)"),
         ("timerLoginRejected", "\(timerLoginRejected)"), ("noLoginRetry", "\(noLoginRetry)"),
         ("timerT1", "\(timerT1)"), ("timerT2", "\(timerT2)"), ("timerT4", "\(timerT4)"),
         ("inboundAuth", inboundAuth.rawValue), ("inboundAuthUsername", inboundAuthUsername),
         ("inboundAuthPassword", Redacted(inboundAuthPassword).description),
         ("codecList", codecList.map(\.rawValue).joined(separator: ",")),
         ("keepAliveInterval", "\(keepAliveInterval)"), ("keepAliveMethod", keepAliveMethod.rawValue),
         ("digestAlgorithms", digestAlgorithms.map(\.rawValue).joined(separator: ","))]
    }

    /// Every value except the inbound password, which shows only whether it is set.
    public var description: String { Redacted.describe("SIPNetworkConfiguration", redactedFields) }

    public var debugDescription: String { description }

    /// The values as text with the password redacted (what `dump` and debuggers show).
    public var customMirror: Mirror { Redacted.mirror(self, redactedFields) }
}

/// Stands in for a secret in descriptions and mirrors: says whether it is set, never what it is.
struct Redacted: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let isSet: Bool
    init(_ secret: String) { isSet = !secret.isEmpty }
    var description: String { isSet ? "<redacted>" : "<empty>" }
    var debugDescription: String { description }
    var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    /// Optional text for descriptions: the value, or `-` when not set.
    static func text(_ value: String?) -> String { value ?? "-" }

    /// A URI for descriptions, a password in its user part (`sip:user:pw@host`, which validation
    /// rejects) replaced.
    static func uri(_ value: String?) -> String {
        guard let value else { return "-" }
        guard let colon = value.firstIndex(of: ":") else { return value }
        let rest = value[value.index(after: colon)...]
        guard let at = rest.firstIndex(of: "@"), let secret = rest[..<at].firstIndex(of: ":") else { return value }
        return String(value[...secret]) + "<redacted>" + String(rest[at...])
    }

    /// `Name(label: value, …)`.
    static func describe(_ name: String, _ fields: [(String, String)]) -> String {
        name + "(" + fields.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + ")"
    }

    /// A mirror whose children are the given texts.
    static func mirror<T>(_ subject: T, _ fields: [(String, String)]) -> Mirror {
        Mirror(subject, children: fields.map { (label: Optional($0.0), value: $0.1 as Any) }, displayStyle: .struct)
    }
}
