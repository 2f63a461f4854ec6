import SIPCore

/// The non-INVITE client transaction of RFC 3261 §17.1.2 (figure 6; RFC 6026 leaves it unchanged).
///
/// ```
///                                    |Request from TU
///                                    |send request
///                Timer E             V
///                send request  +-----------+
///                    +---------|           |-------------------+
///                    |         |  Trying   |  Timer F          |
///                    +-------->|           |  or Transport Err.|
///                              +-----------+  inform TU        |
///                 200-699         |  |                         |
///                 resp. to TU     |  |1xx                      |
///                 +---------------+  |resp. to TU              |
///                 |                  |                         |
///                 |   Timer E        V       Timer F           |
///                 |   send req +-----------+ or Transport Err. |
///                 |  +---------|           | inform TU         |
///                 |  |         |Proceeding |------------------>|
///                 |  +-------->|           |-----+             |
///                 |            +-----------+     |1xx          |
///                 |              |      ^        |resp to TU   |
///                 | 200-699      |      +--------+             |
///                 | resp. to TU  |                             |
///                 |              |                             |
///                 |              V                             |
///                 |            +-----------+                   |
///                 |            |           |                   |
///                 |            | Completed |                   |
///                 |            |           |                   |
///                 |            +-----------+                   |
///                 |              ^   |                         |
///                 |              |   | Timer K                 |
///                 +--------------+   | -                       |
///                                    |                         |
///                                    V                         |
///              NOTE:           +-----------+                   |
///                              |           |                   |
///          transitions         | Terminated|<------------------+
///          labeled with        |           |
///          the event           +-----------+
///          over the action
///          to take
/// ```
///
/// Timer E (unreliable transports only) starts at T1 and doubles up to T2 while Trying; once a
/// provisional response has arrived, every firing re-arms it at T2 (§17.1.2.2). Timer K is T4 on
/// unreliable transports and zero on reliable ones, where a final response leads straight to
/// Terminated. Responses with a status outside 100–699 are ignored.
public struct NonInviteClientTransaction: Sendable {
    public enum Phase: Sendable, Hashable { case idle, trying, proceeding, completed, terminated }

    private enum State: Sendable {
        case idle
        /// `interval`: the value Timer E was last armed with (zero on reliable transports).
        case trying(interval: Duration)
        case proceeding
        case completed
        case terminated
    }

    public let request: SIPMessage
    public let reliable: Bool
    public let timers: TransactionTimers
    private var state: State = .idle

    public init(request: SIPMessage, reliable: Bool, timers: TransactionTimers = .rfc3261) {
        self.request = request
        self.reliable = reliable
        self.timers = timers
    }

    public var phase: Phase {
        switch state {
        case .idle: return .idle
        case .trying: return .trying
        case .proceeding: return .proceeding
        case .completed: return .completed
        case .terminated: return .terminated
        }
    }

    public var isTerminated: Bool { phase == .terminated }

    /// Request from TU: send it, arm E (unreliable) and F; enter Trying.
    public mutating func start(now: Instant) -> [TransactionAction] {
        guard case .idle = state else { return [] }
        var actions: [TransactionAction] = [.transmit(request)]
        let e = timers.initialValue(of: .e, reliable: reliable)
        if e > .zero { actions.append(.arm(.e, at: now + e)) }
        actions.append(.arm(.f, at: now + timers.initialValue(of: .f, reliable: reliable)))
        state = .trying(interval: e)
        return actions
    }

    public mutating func receivedResponse(_ response: SIPMessage, now: Instant) -> [TransactionAction] {
        guard let code = response.statusCode, (100...699).contains(code) else { return [] }
        switch state {
        case .idle, .completed, .terminated:
            // Completed: retransmissions of the final response are absorbed.
            return []
        case .trying, .proceeding:
            if code < 200 {
                state = .proceeding
                return [.deliver(response)]
            }
            var actions: [TransactionAction] = []
            if !reliable { actions.append(.disarm(.e)) }
            actions.append(.disarm(.f))
            actions.append(.deliver(response))
            let k = timers.initialValue(of: .k, reliable: reliable)
            if k > .zero {
                state = .completed
                actions.append(.arm(.k, at: now + k))
            } else {
                state = .terminated
                actions.append(.terminated)
            }
            return actions
        }
    }

    public mutating func timerFired(_ timer: TimerName, now: Instant) -> [TransactionAction] {
        switch (state, timer) {
        case (.trying(let interval), .e) where interval > .zero:
            let next = min(interval * 2, timers.t2)
            state = .trying(interval: next)
            return [.transmit(request), .arm(.e, at: now + next)]
        case (.proceeding, .e) where !reliable:
            return [.transmit(request), .arm(.e, at: now + timers.t2)]
        case (.trying, .f), (.proceeding, .f):
            state = .terminated
            return [.timeout, .terminated]
        case (.completed, .k):
            state = .terminated
            return [.terminated]
        default:
            return []
        }
    }

    /// The transport could not send the request or a retransmission.
    public mutating func transportError(now: Instant) -> [TransactionAction] {
        switch state {
        case .trying, .proceeding:
            state = .terminated
            return [.transportError, .terminated]
        case .idle, .completed, .terminated:
            return []
        }
    }
}
