import SDP
import SIPAuth
import SIPCore
import SIPTransport

/// What the user agent needs to know about one line's account, independent of how the
/// configuration spells it (dialtoned maps TR-104's SIP.Client/SIP.Network onto it).
public struct LineAccount: Sendable {
    public enum KeepAlive: String, Sendable, Equatable {
        /// No keepalives.
        case none
        /// CRLFCRLF (RFC 5626 §3.5.1) to the server holding the binding: a datagram on UDP, a ping
        /// on the open connection on TCP/TLS (whose missing pong closes it).
        case crlf
        /// An OPTIONS request to the server; a timeout means the path is gone: register again.
        case options
    }

    /// Which INVITEs a line takes (TR-104 `InboundAuth`).
    public enum InboundPolicy: Sendable, Equatable {
        /// Any source.
        case none
        /// Only from the address of the server holding the line's registration (stops "ghost
        /// calls" from SIP scanners that send INVITEs straight to the router's port).
        case sourceFilter
        /// Any source that answers a digest challenge with these credentials.
        case digest(user: String, password: String)
    }

    /// The line's name (TR-104 Alias), for logs and status.
    public var name: String
    /// The address-of-record: From and To of every REGISTER (RFC 3261 §10.2).
    public var aor: SIPURI
    /// The REGISTER Request-URI: the registrar's domain, no user part (§10.2).
    public var registrar: SIPURI
    /// Where REGISTERs go, one server group per entry, preferred first: the outbound proxy, the
    /// proxy, the registrar or the domain (its RFC 3263 targets are tried inside one request), then
    /// the backup proxy. Never empty.
    public var servers: [SIPURI]
    /// Digest user name (`AuthUserName`; the AOR's user when nil) and password.
    public var authUser: String?
    public var password: String?
    /// The digest algorithms the line will answer.
    public var algorithms: Set<DigestAlgorithm>
    /// The transport of the Contact (`transport=` is added for TCP and TLS).
    public var transport: TransportKind
    public var policy: RegistrationPolicy
    public var keepAlive: KeepAlive
    /// Seconds between keepalives; 0: none.
    public var keepAliveInterval: Int
    /// Seed of the back-off jitter (differs per line so lines do not retry in step).
    public var seed: UInt64
    public var inbound: InboundPolicy = .sourceFilter
    /// The local port the line's requests leave from and its Contact names (TR-104 UserAgentPort);
    /// nil: the daemon's first socket. dialtoned binds it.
    public var localPort: UInt16? = nil
    /// Whether `servers` starts with a configured OutboundProxy (all out-of-dialog requests go there).
    public var hasOutboundProxy = false
    /// The codecs offered and accepted, preferred first (the line's CodecList).
    public var codecs: [Codec] = [.pcmu, .pcma]

    public init(name: String, aor: SIPURI, registrar: SIPURI, servers: [SIPURI], authUser: String? = nil,
                password: String? = nil, algorithms: Set<DigestAlgorithm> = Set(DigestAlgorithm.allCases),
                transport: TransportKind = .udp, policy: RegistrationPolicy = RegistrationPolicy(),
                keepAlive: KeepAlive = .crlf, keepAliveInterval: Int = 25, seed: UInt64 = 0x5EED) {
        self.name = name
        self.aor = aor
        self.registrar = registrar
        self.servers = servers.isEmpty ? [registrar] : servers
        self.authUser = authUser
        self.password = password
        self.algorithms = algorithms
        self.transport = transport
        self.policy = policy
        self.policy.serverCount = self.servers.count
        self.keepAlive = keepAlive
        self.keepAliveInterval = keepAliveInterval
        self.seed = seed
    }
}
