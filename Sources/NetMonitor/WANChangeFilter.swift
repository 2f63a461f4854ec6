/// Turns a burst of `NetworkChange`s into one "register again now" decision.
///
/// An address change usually arrives as a burst within milliseconds (address removed, address
/// added, routes re-added; a PPP reconnect adds link down/up), and the user agent should re-register
/// once per burst, quickly. A burst is due `settleDelay` after its last relevant change, or
/// `maximumDelay` after its first one if changes keep coming. Pure: the caller passes the time (any
/// monotonic seconds), so it is tested with a manual clock.
///
/// Relevant changes: all of them, except IPv6 link-local address changes (every link that comes up
/// gets one, and a registration never uses them) and, when `interfaces` is set, changes of other
/// interfaces. `.defaultRouteChanged` and `.resynchronised` always count.
public struct WANChangeFilter: Sendable, Equatable {
    /// Quiet time after the last relevant change before the burst is due (seconds).
    public let settleDelay: Double
    /// Longest wait after the first relevant change of a burst (seconds).
    public let maximumDelay: Double
    /// When set, only changes of these interface names (and route/resynchronisation changes) count.
    public var interfaces: Set<String>?

    private var firstAt: Double?
    private var lastAt: Double?
    /// Relevant changes noted in the pending burst.
    public private(set) var pendingCount = 0

    public init(settleDelay: Double = 0.2, maximumDelay: Double = 1.0, interfaces: Set<String>? = nil) {
        let settle = settleDelay.isFinite ? max(0, settleDelay) : 0.2
        self.settleDelay = settle
        self.maximumDelay = maximumDelay.isFinite ? max(settle, maximumDelay) : max(settle, 1.0)
        self.interfaces = interfaces
    }

    /// True when `change` would start or extend a burst.
    public func isRelevant(_ change: NetworkChange) -> Bool {
        switch change {
        case .defaultRouteChanged, .resynchronised:
            return true
        case .addressAdded(_, _, let address, _), .addressRemoved(_, _, let address, _):
            if address.isIPv6LinkLocal { return false }
        case .linkUp, .linkDown:
            break
        }
        guard let interfaces, let name = change.interfaceName else { return true }
        return interfaces.contains(name)
    }

    /// Notes a change seen at `now`.
    public mutating func note(_ change: NetworkChange, now: Double) {
        guard isRelevant(change) else { return }
        if firstAt == nil { firstAt = now }
        lastAt = max(lastAt ?? now, now)
        pendingCount += 1
    }

    /// Notes every change of a `readEvents()` result, all seen at `now`.
    public mutating func note(_ changes: [NetworkChange], now: Double) {
        for change in changes { note(change, now: now) }
    }

    /// True when a burst is pending.
    public var isPending: Bool { firstAt != nil }

    /// When the pending burst becomes due (for the poll timeout); nil when none is pending.
    public var nextDeadline: Double? {
        guard let firstAt, let lastAt else { return nil }
        return min(lastAt + settleDelay, firstAt + maximumDelay)
    }

    /// True when a burst is pending and due at `now`.
    public func due(now: Double) -> Bool {
        guard let deadline = nextDeadline else { return false }
        return now >= deadline
    }

    /// When due at `now`, ends the burst and returns true (re-register now); otherwise false.
    public mutating func take(now: Double) -> Bool {
        guard due(now: now) else { return false }
        firstAt = nil
        lastAt = nil
        pendingCount = 0
        return true
    }
}
