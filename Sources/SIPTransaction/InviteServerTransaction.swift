import SIPCore

/// The INVITE server transaction of RFC 3261 §17.2.1 as amended by RFC 6026 §7.1 and §8.5–8.7 (the
/// Accepted state: the TU retransmits its 2xx through the transaction, which absorbs retransmitted
/// INVITEs until Timer L fires).
///
/// ```
///                                |INVITE
///                                |pass INV to TU
///             INVITE             V send 100 if TU won't in 200 ms
///             send response+------------+
///                 +--------|            |--------+ 101-199 from TU
///                 |        |            |        | send response
///                 +------->|            |<-------+
///                          | Proceeding |
///                          |            |--------+ Transport Err.
///                          |            |        | Inform TU
///                          |            |<-------+
///                          +------------+
///             300-699 from TU |    |2xx from TU
///             send response   |    |send response
///              +--------------+    +------------+
///              |                                |
/// INVITE       V          Timer G fires         |
/// send response+-----------+ send response      |
///     +--------|           |--------+           |
///     |        |           |        |           |
///     +------->| Completed |<-------+      INVITE  |  Transport Err.
///              |           |               -       |  Inform TU
///     +--------|           |----+          +-----+ |  +---+
///     |        +-----------+    | ACK      |     v v  |   v
///   Timer H fires  ^   |        | -        |  +------------+
///   -              |   |        V          +--|            |
///   Transport Err. |   |  +----------+        |  Accepted  |
///   Inform TU      |   |  |          |        |            |
///                  +---+  | Confirmed|        +------------+
///                         |          |         |  ^    |
///                         +----------+         |  |    |
///                            |                 +--+    |
///                            |          2xx from TU    |
///                            |          send response  |
///                  Timer I fires                       |
///                         -                            |
///                            |         Timer L fires   |
///                            |         -               |
///                            V                         |
///                       +------------+                 |
///                       |            |                 |
///                       | Terminated |<----------------+
///                       |            |
///                       +------------+
/// ```
///
/// Notes on this implementation:
/// - `start(now:)` passes the INVITE to the TU and, when `sendTrying` (the default), sends a 100
///   (Trying) at once: this machine cannot know whether the TU answers within 200 ms.
/// - Proceeding answers a retransmitted INVITE with the most recent provisional response.
/// - Timer G (unreliable only) starts at T1 and doubles up to T2. Timer H ends Completed with a
///   timeout. Timer I is T4 unreliable and zero reliable (an ACK then goes straight to Terminated).
/// - Accepted absorbs retransmitted INVITEs, sends each 2xx the TU hands it, passes an ACK that
///   matched it (an RFC 2543 ACK, or a UAC that reused the branch) to the TU, and ignores non-2xx
///   responses. A transport error there is reported to the TU but the state stays, so that INVITE
///   retransmissions are still absorbed until Timer L.
/// - RFC 2543 requests (no magic cookie, RFC 4475 inv2543): the transaction key leaves the To tag out,
///   so an ACK is accepted only when its To tag equals the one in the final response, and an INVITE
///   retransmission only when its To tag equals the original's (§17.2.3).
public struct InviteServerTransaction: Sendable {
    public enum Phase: Sendable, Hashable { case idle, proceeding, accepted, completed, confirmed, terminated }

    private enum State: Sendable {
        case idle
        /// `provisional`: the most recent provisional response sent, resent for INVITE retransmissions.
        case proceeding(provisional: SIPMessage?)
        case accepted
        /// `response`: the final response (resent by Timer G and for INVITE retransmissions);
        /// `interval`: the value Timer G was last armed with; `toTag`: the response's To tag.
        case completed(response: SIPMessage, interval: Duration, toTag: String?)
        case confirmed
        case terminated
    }

    /// The INVITE that created the transaction.
    public let request: SIPMessage
    public let reliable: Bool
    public let timers: TransactionTimers
    /// Whether `start` sends a 100 (Trying).
    public let sendTrying: Bool
    /// Whether the INVITE came without an RFC 3261 branch (RFC 2543 matching).
    public let isRFC2543: Bool
    private let requestToTag: String?
    private var state: State = .idle

    public init(request: SIPMessage, reliable: Bool, timers: TransactionTimers = .rfc3261, sendTrying: Bool = true) {
        self.request = request
        self.reliable = reliable
        self.timers = timers
        self.sendTrying = sendTrying
        self.isRFC2543 = !((try? request.topVia())?.hasRFC3261Branch ?? false)
        self.requestToTag = (try? request.to())?.tag
    }

    public var phase: Phase {
        switch state {
        case .idle: return .idle
        case .proceeding: return .proceeding
        case .accepted: return .accepted
        case .completed: return .completed
        case .confirmed: return .confirmed
        case .terminated: return .terminated
        }
    }

    public var isTerminated: Bool { phase == .terminated }

    /// The INVITE arrived: pass it to the TU (and send 100 Trying); enter Proceeding.
    public mutating func start(now: Instant) -> [TransactionAction] {
        guard case .idle = state else { return [] }
        var actions: [TransactionAction] = [.deliver(request)]
        if sendTrying {
            let trying = SIPMessage.response(to: request, status: 100)
            actions.append(.transmit(trying))
            state = .proceeding(provisional: trying)
        } else {
            state = .proceeding(provisional: nil)
        }
        return actions
    }

    /// A request matched to this transaction: a retransmitted INVITE or an ACK.
    public mutating func receivedRequest(_ incoming: SIPMessage, now: Instant) -> [TransactionAction] {
        guard let method = incoming.method else { return [] }
        if method == .ack {
            switch state {
            case .completed(_, _, let toTag):
                if isRFC2543, (try? incoming.to())?.tag != toTag { return [] }
                var actions: [TransactionAction] = []
                if !reliable { actions.append(.disarm(.g)) }
                actions.append(.disarm(.h))
                let i = timers.initialValue(of: .i, reliable: reliable)
                if i > .zero {
                    state = .confirmed
                    actions.append(.arm(.i, at: now + i))
                } else {
                    state = .terminated
                    actions.append(.terminated)
                }
                return actions
            case .accepted:
                return [.deliver(incoming)]
            case .idle, .proceeding, .confirmed, .terminated:
                return []
            }
        }
        if isRFC2543, (try? incoming.to())?.tag != requestToTag { return [] }
        switch state {
        case .proceeding(let provisional):
            return provisional.map { [.transmit($0)] } ?? []
        case .completed(let response, _, _):
            return [.transmit(response)]
        case .idle, .accepted, .confirmed, .terminated:
            return []
        }
    }

    /// A response from the TU.
    public mutating func sendResponse(_ response: SIPMessage, now: Instant) -> [TransactionAction] {
        guard let code = response.statusCode, (100...699).contains(code) else { return [] }
        switch state {
        case .proceeding:
            switch code {
            case 100...199:
                state = .proceeding(provisional: response)
                return [.transmit(response)]
            case 200...299:
                state = .accepted
                return [.transmit(response), .arm(.l, at: now + timers.initialValue(of: .l, reliable: reliable))]
            default:
                let g = timers.initialValue(of: .g, reliable: reliable)
                state = .completed(response: response, interval: g, toTag: (try? response.to())?.tag)
                var actions: [TransactionAction] = [.transmit(response)]
                if g > .zero { actions.append(.arm(.g, at: now + g)) }
                actions.append(.arm(.h, at: now + timers.initialValue(of: .h, reliable: reliable)))
                return actions
            }
        case .accepted:
            return code / 100 == 2 ? [.transmit(response)] : []
        case .idle, .completed, .confirmed, .terminated:
            return []
        }
    }

    public mutating func timerFired(_ timer: TimerName, now: Instant) -> [TransactionAction] {
        switch (state, timer) {
        case (.completed(let response, let interval, let toTag), .g) where interval > .zero:
            let next = min(interval * 2, timers.t2)
            state = .completed(response: response, interval: next, toTag: toTag)
            return [.transmit(response), .arm(.g, at: now + next)]
        case (.completed, .h):
            state = .terminated
            return [.timeout, .terminated]
        case (.confirmed, .i), (.accepted, .l):
            state = .terminated
            return [.terminated]
        default:
            return []
        }
    }

    /// The transport could not send a response.
    public mutating func transportError(now: Instant) -> [TransactionAction] {
        switch state {
        case .proceeding, .completed:
            state = .terminated
            return [.transportError, .terminated]
        case .accepted:
            return [.transportError]
        case .idle, .confirmed, .terminated:
            return []
        }
    }
}
