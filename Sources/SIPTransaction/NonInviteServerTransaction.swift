import SIPCore

/// The non-INVITE server transaction of RFC 3261 §17.2.2 (figure 8; RFC 6026 leaves it unchanged).
///
/// ```
///                                   |Request received
///                                   |pass to TU
///                                   V
///                             +-----------+
///                             |           |
///                             | Trying    |-------------+
///                             |           |             |
///                             +-----------+             |200-699 from TU
///                                   |                   |send response
///                                   |1xx from TU        |
///                                   |send response      |
///                                   |                   |
///                Request            V      1xx from TU  |
///                send response+-----------+send response|
///                    +--------|           |--------+    |
///                    |        | Proceeding|        |    |
///                    +------->|           |<-------+    |
///             +<--------------|           |             |
///             |Trnsprt Err    +-----------+             |
///             |Inform TU            |                   |
///             |                     |                   |
///             |                     |200-699 from TU    |
///             |                     |send response      |
///             |  Request            V                   |
///             |  send response+-----------+             |
///             |      +--------|           |             |
///             |      |        | Completed |<------------+
///             |      +------->|           |
///             +<--------------|           |
///             |Trnsprt Err    +-----------+
///             |Inform TU            |
///             |                     |Timer J fires
///             |                     |-
///             |                     |
///             |                     V
///             |               +-----------+
///             |               |           |
///             +-------------->| Terminated|
///                             |           |
///                             +-----------+
/// ```
///
/// Retransmissions of the request are absorbed in Trying, answered with the last provisional response
/// in Proceeding and with the final response in Completed. Timer J is 64*T1 on unreliable transports
/// and zero on reliable ones, where a final response leads straight to Terminated.
public struct NonInviteServerTransaction: Sendable {
    public enum Phase: Sendable, Hashable { case idle, trying, proceeding, completed, terminated }

    private enum State: Sendable {
        case idle
        case trying
        case proceeding(provisional: SIPMessage)
        case completed(response: SIPMessage)
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

    /// The request arrived: pass it to the TU; enter Trying.
    public mutating func start(now: Instant) -> [TransactionAction] {
        guard case .idle = state else { return [] }
        state = .trying
        return [.deliver(request)]
    }

    /// A retransmission of the request.
    public mutating func receivedRequest(_ incoming: SIPMessage, now: Instant) -> [TransactionAction] {
        switch state {
        case .proceeding(let provisional): return [.transmit(provisional)]
        case .completed(let response): return [.transmit(response)]
        case .idle, .trying, .terminated: return []
        }
    }

    /// A response from the TU.
    public mutating func sendResponse(_ response: SIPMessage, now: Instant) -> [TransactionAction] {
        guard let code = response.statusCode, (100...699).contains(code) else { return [] }
        switch state {
        case .trying, .proceeding:
            if code < 200 {
                state = .proceeding(provisional: response)
                return [.transmit(response)]
            }
            let j = timers.initialValue(of: .j, reliable: reliable)
            if j > .zero {
                state = .completed(response: response)
                return [.transmit(response), .arm(.j, at: now + j)]
            }
            state = .terminated
            return [.transmit(response), .terminated]
        case .idle, .completed, .terminated:
            return []
        }
    }

    public mutating func timerFired(_ timer: TimerName, now: Instant) -> [TransactionAction] {
        switch (state, timer) {
        case (.completed, .j):
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
        case .idle, .trying, .terminated:
            return []
        }
    }
}
