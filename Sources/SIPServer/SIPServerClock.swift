#if canImport(Glibc)
import Glibc
#endif
import SIPTransaction

/// The clocks the server roles read: monotonic for expiry and timers, wall for nonces and `Date`.
public enum SIPServerClock {
    /// CLOCK_MONOTONIC as an `Instant` (the endpoint's timers use the same clock).
    public static func now() -> Instant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Instant(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }

    /// CLOCK_REALTIME as the time since the Unix epoch.
    public static func wallClock() -> Duration {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return .seconds(Int64(ts.tv_sec)) + .nanoseconds(Int64(ts.tv_nsec))
    }
}
