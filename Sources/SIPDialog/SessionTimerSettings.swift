/// RFC 4028 session timer settings for `SessionConfiguration.sessionTimer`.
public struct SessionTimerSettings: Sendable, Hashable {
    /// The Session-Expires we ask for, in seconds (default 1800; at least `minimum`).
    public let interval: UInt32
    /// Our Min-SE in seconds (default 90; RFC 4028 §4 forbids less than 90).
    public let minimum: UInt32
    /// Refresh with UPDATE (no body, RFC 4028 §7.4) when the peer allows it, else re-INVITE with the
    /// current local SDP (default true).
    public let preferUpdate: Bool

    public init(interval: UInt32 = 1800, minimum: UInt32 = 90, preferUpdate: Bool = true) {
        let minimum = max(minimum, 90)
        self.minimum = minimum
        self.interval = max(interval, minimum)
        self.preferUpdate = preferUpdate
    }
}
