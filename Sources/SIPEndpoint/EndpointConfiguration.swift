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

    public init(maxServerTransactions: Int = 20_000, retryAfterSeconds: Int = 5, timers: TransactionTimers = .rfc3261,
                streamLimits: StreamLimits = .default) {
        self.maxServerTransactions = max(1, maxServerTransactions)
        self.retryAfterSeconds = max(0, retryAfterSeconds)
        self.timers = timers
        self.streamLimits = streamLimits
    }

    public static let `default` = EndpointConfiguration()
}
