/// How an attempt on one target failed (RFC 3263 §4.3: each of these moves on to the next target).
public enum SIPTargetFailure: Sendable, Equatable {
    /// The client transaction timed out (Timer B or F).
    case timeout
    /// The transport reported an error (ICMP unreachable, connection refused or reset, TLS failure).
    case transportError
    /// The server answered 503 Service Unavailable.
    case serviceUnavailable
}

/// Walks the targets of one resolution in order, moving on after each failure (RFC 3263 §4.3).
///
/// Start with `current`; after a failure call `next(after:)`, which returns the following target or
/// nil when all have failed. A new request (for example a registration refresh or the next INVITE)
/// should go to the most preferred server again: call `reset()` to start over at the first target
/// (forgetting the failures), or better, resolve again once the answers' TTL (`validUntil`) has
/// passed, since the preferred server may have changed.
public struct SIPTargetCursor: Sendable {
    public let targets: [SIPServerTarget]
    /// When the DNS answers the targets came from expire (monotonic seconds; infinity for numeric URIs).
    public let validUntil: Double
    public private(set) var index: Int = 0
    /// The failures seen since the last reset, in order (at most one per target).
    public private(set) var failures: [(target: SIPServerTarget, reason: SIPTargetFailure)] = []

    public init(targets: [SIPServerTarget], validUntil: Double) {
        self.targets = targets
        self.validUntil = validUntil
    }

    /// The target to use now; nil when every target has failed.
    public var current: SIPServerTarget? { index < targets.count ? targets[index] : nil }

    public var isExhausted: Bool { index >= targets.count }

    /// Records that `current` failed with `reason` and moves to the next target (nil when none is left).
    @discardableResult
    public mutating func next(after reason: SIPTargetFailure) -> SIPServerTarget? {
        guard let failed = current else { return nil }
        failures.append((target: failed, reason: reason))
        index += 1
        return current
    }

    /// Returns to the first (most preferred) target and forgets the failures.
    public mutating func reset() {
        index = 0
        failures.removeAll()
    }

    /// Whether the resolution is stale at `now` and should be redone rather than reset.
    public func isExpired(now: Double) -> Bool { now >= validUntil }
}
