import SIPTransaction
import SIPTransport

/// The knobs of a `SIPEndpoint`.
public struct EndpointConfiguration: Sendable {
    /// Most server transactions alive at once; a new request past it gets 503 with Retry-After,
    /// sent statelessly (RFC 3261 §21.5.4), so a flood cannot grow memory without bound.
    public var maxServerTransactions: Int
    /// The Retry-After value (seconds) of that 503.
    public var retryAfterSeconds: Int
    /// T1, T2, T4 and Timer D.
    public var timers: TransactionTimers
    /// Bounds on TCP and TLS listeners and their connections.
    public var streamLimits: StreamLimits
    /// Whether the default transaction user answers OPTIONS statelessly (`.respondStatelessly`): an
    /// OPTIONS keepalive then costs no transaction state, as with Kamailio's `sl_send_reply`. Off, each
    /// OPTIONS runs in a non-INVITE server transaction that lives Timer J (64·T1 over UDP).
    public var answersOptionsStatelessly: Bool
    /// Most requests sent with `sendRequest` alive at once (resolving, or with a live client
    /// transaction); past it `sendRequest` reports a transport error (503) at once.
    public var maxClientRequests: Int
    /// The client TLS context for requests over TLS and for responses that must open a new TLS
    /// connection (RFC 3261 §18.2.2): trusted CAs and whether the server certificate is verified
    /// (against the target's domain, RFC 5922 §4). Nil: TLS targets fail with a transport error.
    public var tlsClient: TLSContext?
    /// The name server (tests point it at a dnsmasq on loopback), timeout and attempts of the
    /// resolver thread's `ResolverDNSLookup`.
    public var dns: ResolverDNSLookup.Configuration
    /// RFC 3263 locator settings (transports, IPv6, bounds, cache). TLS is left out when `tlsClient`
    /// is nil.
    public var locator: SIPServerLocator.Configuration
    /// Whether an INVITE the transaction user leaves `.pending` gets 100 Trying at once (RFC 3261
    /// §17.2.1: unless the TU is known to answer within 200 ms; a proxy's branches are not). On by
    /// default; tests of a UAS that stays silent turn it off.
    public var sendsTryingForPendingInvites = true

    public init(maxServerTransactions: Int = 20_000, retryAfterSeconds: Int = 5, timers: TransactionTimers = .rfc3261,
                streamLimits: StreamLimits = .default, answersOptionsStatelessly: Bool = true,
                maxClientRequests: Int = 4_096, tlsClient: TLSContext? = nil,
                dns: ResolverDNSLookup.Configuration = ResolverDNSLookup.Configuration(),
                locator: SIPServerLocator.Configuration = SIPServerLocator.Configuration()) {
        self.maxServerTransactions = max(1, maxServerTransactions)
        self.retryAfterSeconds = max(0, retryAfterSeconds)
        self.timers = timers
        self.streamLimits = streamLimits
        self.answersOptionsStatelessly = answersOptionsStatelessly
        self.maxClientRequests = max(1, maxClientRequests)
        self.tlsClient = tlsClient
        self.dns = dns
        self.locator = locator
    }

    public static let `default` = EndpointConfiguration()
}
