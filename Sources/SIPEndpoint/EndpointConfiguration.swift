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

    public init(maxServerTransactions: Int = 20_000, retryAfterSeconds: Int = 5, timers: TransactionTimers = .rfc3261,
                streamLimits: StreamLimits = .default, answersOptionsStatelessly: Bool = true) {
        self.maxServerTransactions = max(1, maxServerTransactions)
        self.retryAfterSeconds = max(0, retryAfterSeconds)
        self.timers = timers
        self.streamLimits = streamLimits
        self.answersOptionsStatelessly = answersOptionsStatelessly
    }

    public static let `default` = EndpointConfiguration()
}
