import SIPCore

/// The Session-Expires and Min-SE this side asks for; a 422 raises both (RFC 4028 §7.3).
struct TimerRequest: Sendable, Hashable {
    var interval: UInt32
    var minimum: UInt32

    init(_ settings: SessionTimerSettings) {
        interval = settings.interval
        minimum = settings.minimum
    }

    /// After a 422 with `response`'s Min-SE: the raised request, or nil when the 422 is unusable
    /// (no Min-SE, garbage, not above what we asked, or above a day).
    func raised(by response: SIPMessage) -> TimerRequest? {
        guard let minimum = try? response.minSE(),
              minimum > self.minimum || minimum > interval, minimum <= 86_400 else { return nil }
        var next = self
        next.minimum = max(self.minimum, minimum)
        next.interval = max(interval, minimum)
        return next
    }
}
