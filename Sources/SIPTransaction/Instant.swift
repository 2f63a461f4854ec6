/// A point in time, in nanoseconds since an arbitrary epoch chosen by the driver (RFC 3261 §17 timers
/// are relative, so only differences matter).
///
/// The transaction machines never read a clock: the caller passes `now` with every input, and every
/// `.arm` action names the instant at which the driver must call `timerFired`. Arithmetic saturates
/// instead of trapping, so absurd timer configurations cannot crash the process.
public struct Instant: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// The epoch.
    public static let zero = Instant(nanoseconds: 0)

    public static func < (a: Instant, b: Instant) -> Bool { a.nanoseconds < b.nanoseconds }

    /// `duration` as whole nanoseconds, saturated to the range of `Int64`.
    static func nanoseconds(of duration: Duration) -> Int64 {
        let c = duration.components
        let (whole, overflow) = c.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return c.seconds < 0 ? Int64.min : Int64.max }
        let (sum, overflow2) = whole.addingReportingOverflow(c.attoseconds / 1_000_000_000)
        if overflow2 { return whole < 0 ? Int64.min : Int64.max }
        return sum
    }

    public static func + (lhs: Instant, rhs: Duration) -> Instant {
        let (sum, overflow) = lhs.nanoseconds.addingReportingOverflow(nanoseconds(of: rhs))
        if overflow { return Instant(nanoseconds: lhs.nanoseconds < 0 ? Int64.min : Int64.max) }
        return Instant(nanoseconds: sum)
    }

    public static func += (lhs: inout Instant, rhs: Duration) { lhs = lhs + rhs }

    /// The time from `earlier` to `self`.
    public func duration(since earlier: Instant) -> Duration {
        .nanoseconds(Int64(truncatingIfNeeded: nanoseconds &- earlier.nanoseconds))
    }

    public var description: String { "\(nanoseconds)ns" }
}
