import SIPCore

/// What a transaction machine asks its driver to do, in the order listed.
///
/// - `transmit`: pass the message to the transport (a request, a retransmission, an ACK, a response).
/// - `deliver`: pass the message up to the transaction user (TU).
/// - `arm(name, at:)`: start timer `name` to fire at the instant; arming a name that is already armed
///   replaces its deadline. When it fires, call `timerFired(name, now:)`.
/// - `disarm(name)`: stop timer `name`.
/// - `timeout`: inform the TU that the transaction timed out (Timer B, F or H).
/// - `transportError`: inform the TU of a transport failure (RFC 3261 §17.1.4, §17.2.4).
/// - `terminated`: the transaction is over; the driver forgets it and every timer it still has armed
///   (terminating transitions do not list `disarm`s).
public enum TransactionAction: Sendable, Equatable, CustomStringConvertible {
    case transmit(SIPMessage)
    case deliver(SIPMessage)
    case arm(TimerName, at: Instant)
    case disarm(TimerName)
    case timeout
    case transportError
    case terminated

    /// Messages compare by their serialized octets (`SIPMessage` itself is not `Equatable`).
    public static func == (a: TransactionAction, b: TransactionAction) -> Bool {
        switch (a, b) {
        case (.transmit(let x), .transmit(let y)), (.deliver(let x), .deliver(let y)):
            return x.serialized() == y.serialized()
        case (.arm(let n1, let t1), .arm(let n2, let t2)):
            return n1 == n2 && t1 == t2
        case (.disarm(let n1), .disarm(let n2)):
            return n1 == n2
        case (.timeout, .timeout), (.transportError, .transportError), (.terminated, .terminated):
            return true
        default:
            return false
        }
    }

    public var description: String {
        switch self {
        case .transmit(let m): return "transmit(\(Self.summary(m)))"
        case .deliver(let m): return "deliver(\(Self.summary(m)))"
        case .arm(let n, let t): return "arm(\(n), at: \(t))"
        case .disarm(let n): return "disarm(\(n))"
        case .timeout: return "timeout"
        case .transportError: return "transportError"
        case .terminated: return "terminated"
        }
    }

    private static func summary(_ m: SIPMessage) -> String {
        switch m.startLine {
        case .request(let r): return r.method.rawValue
        case .response(let s): return String(s.code) + " " + (m.headers[.cseq] ?? "")
        }
    }
}
