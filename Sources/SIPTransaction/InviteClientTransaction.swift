import SIPCore

/// The INVITE client transaction of RFC 3261 §17.1.1 as amended by RFC 6026 §8.4 (the Accepted state).
///
/// ```
///                                |INVITE from TU
///              Timer A fires     |INVITE sent      Timer B fires
///              Reset A,          V                 or Transport Err.
///              INVITE sent +-----------+           inform TU
///                +---------|           |--------------------------+
///                |         |  Calling  |                          |
///                +-------->|           |-----------+              |
///   300-699                +-----------+ 2xx       |              |
///   ACK sent                  |  |       2xx to TU |              |
///   resp. to TU               |  |1xx              |              |
///   +-------------------------+  |1xx to TU        |              |
///   |                            |                 |              |
///   |                1xx         V                 |              |
///   |                1xx to TU  -----------+       |              |
///   |                +---------|           |       |              |
///   |                |         |Proceeding |       |              |
///   |                +-------->|           |       |              |
///   |                          +-----------+ 2xx   |              |
///   |         300-699             |    |     2xx to TU            |
///   |         ACK sent,  +--------+    +---------------+          |
///   |         resp. to TU|                             |          |
///   |                    |                             |          |
///   |                    V                             V          |
///   |              +-----------+                   +----------+   |
///   +------------->|           |Transport Err.     |          |   |
///                  | Completed |Inform TU          | Accepted |   |
///                  |           |--------------+    |          |-+ |
///                  +-----------+              |    +----------+ | |
///                    ^   |                    |        ^   |    | |
///                    |   | Timer D fires      |        +---+    | |
///                    +---+ -                  |        2xx      | |
///                  300-699 |                  |        2xx to TU| |
///                  ACK sent|                  |                 | |
///                          V                  |  Timer M fires  | |
///                    +-----------+            |  -              | |
///                    |           |            |                 | |
///                    | Terminated|<-----------+-----------------+ |
///                    |           |<-------------------------------+
///                    +-----------+
/// ```
///
/// Notes on this implementation:
/// - Timer A is armed only on unreliable transports; its interval doubles with no cap (Timer B ends the
///   sequence at 64*T1).
/// - Timer B runs in Calling only: Proceeding waits for the TU (or a proxy's Timer C) to give up.
/// - On a reliable transport Timer D is zero, so a non-2xx final response leads straight to Terminated
///   after the ACK is sent.
/// - A transport error while Proceeding also terminates (§17.1.4); in Accepted the transaction sends
///   nothing (the TU sends the ACK for a 2xx), so an error reported there changes nothing.
/// - Responses with a status outside 100–699 are ignored.
public struct InviteClientTransaction: Sendable {
    /// Where the machine is, for logs and tests (the data each state holds stays private).
    public enum Phase: Sendable, Hashable { case idle, calling, proceeding, accepted, completed, terminated }

    private enum State: Sendable {
        case idle
        /// `interval`: the value Timer A was last armed with.
        case calling(interval: Duration)
        case proceeding
        case accepted
        /// `ack`: the ACK sent for the final response, resent for every retransmission of it.
        case completed(ack: SIPMessage)
        case terminated
    }

    /// The INVITE as passed to the transport.
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
        case .calling: return .calling
        case .proceeding: return .proceeding
        case .accepted: return .accepted
        case .completed: return .completed
        case .terminated: return .terminated
        }
    }

    public var isTerminated: Bool { phase == .terminated }

    /// INVITE from TU: send it, arm A (unreliable) and B; enter Calling.
    public mutating func start(now: Instant) -> [TransactionAction] {
        guard case .idle = state else { return [] }
        var actions: [TransactionAction] = [.transmit(request)]
        let a = timers.initialValue(of: .a, reliable: reliable)
        if a > .zero { actions.append(.arm(.a, at: now + a)) }
        actions.append(.arm(.b, at: now + timers.initialValue(of: .b, reliable: reliable)))
        state = .calling(interval: a)
        return actions
    }

    /// A response matched to this transaction (§17.1.3).
    public mutating func receivedResponse(_ response: SIPMessage, now: Instant) -> [TransactionAction] {
        guard let code = response.statusCode, (100...699).contains(code) else { return [] }
        switch state {
        case .idle, .terminated:
            return []
        case .calling:
            var actions: [TransactionAction] = []
            if !reliable { actions.append(.disarm(.a)) }
            actions.append(.disarm(.b))
            return actions + afterCallingOrProceeding(response, code: code, now: now)
        case .proceeding:
            return afterCallingOrProceeding(response, code: code, now: now)
        case .accepted:
            // RFC 6026 §8.4: further 2xx (retransmissions, other forks) go to the TU.
            return code / 100 == 2 ? [.deliver(response)] : []
        case .completed(let ack):
            // Retransmissions of the final response: ACK again, do not bother the TU.
            return code >= 300 ? [.transmit(ack)] : []
        }
    }

    private mutating func afterCallingOrProceeding(_ response: SIPMessage, code: Int, now: Instant) -> [TransactionAction] {
        switch code {
        case 100...199:
            state = .proceeding
            return [.deliver(response)]
        case 200...299:
            state = .accepted
            return [.deliver(response), .arm(.m, at: now + timers.initialValue(of: .m, reliable: reliable))]
        default:
            let ack = InviteClientTransaction.ack(for: request, response: response)
            let d = timers.initialValue(of: .d, reliable: reliable)
            if d > .zero {
                state = .completed(ack: ack)
                return [.transmit(ack), .deliver(response), .arm(.d, at: now + d)]
            }
            state = .terminated
            return [.transmit(ack), .deliver(response), .terminated]
        }
    }

    public mutating func timerFired(_ timer: TimerName, now: Instant) -> [TransactionAction] {
        switch (state, timer) {
        case (.calling(let interval), .a) where interval > .zero:
            let next = interval * 2
            state = .calling(interval: next)
            return [.transmit(request), .arm(.a, at: now + next)]
        case (.calling, .b):
            state = .terminated
            return [.timeout, .terminated]
        case (.completed, .d), (.accepted, .m):
            state = .terminated
            return [.terminated]
        default:
            return []
        }
    }

    /// The transport could not send (the INVITE, a retransmission, or the ACK).
    public mutating func transportError(now: Instant) -> [TransactionAction] {
        switch state {
        case .calling, .proceeding, .completed:
            state = .terminated
            return [.transportError, .terminated]
        case .idle, .accepted, .terminated:
            return []
        }
    }
}
