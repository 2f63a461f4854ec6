/// The session timer in force for a dialog (RFC 4028): the interval and who refreshes.
public struct NegotiatedSessionTimer: Sendable, Hashable {
    /// The session interval in seconds.
    public var interval: UInt32
    /// Whether this side is the refresher (it sends the refreshes; else it expects them).
    public var localRefresher: Bool

    public init(interval: UInt32, localRefresher: Bool) {
        self.interval = interval
        self.localRefresher = localRefresher
    }

    /// When the refresher sends its refresh: half the interval (RFC 4028 §10).
    var refreshDelay: Duration { .seconds(Int64(interval) / 2) + .milliseconds(Int64(interval % 2) * 500) }

    /// When the other side gives up: interval − min(32, interval/3) (RFC 4028 §10).
    var expiryDelay: Duration {
        let interval = Int64(interval)
        return .seconds(interval - min(32, interval / 3))
    }
}
