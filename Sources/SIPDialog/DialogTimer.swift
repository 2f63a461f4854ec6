/// The timers an `InviteSession` asks its driver to run (`SessionAction.arm`); when one fires the
/// driver calls `timerFired(_:now:)`. Arming a timer that is armed replaces its deadline. When the
/// session reports `.ended`, the driver drops every timer it still holds for it.
public enum DialogTimer: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Resend our 2xx to an INVITE (RFC 3261 §13.3.1.4): T1, doubling up to T2, until the ACK.
    case retransmit2xx
    /// 64·T1 after our 2xx without ACK: give up, send BYE (§13.3.1.4).
    case ackTimeout
    /// Resend our re-INVITE or UPDATE after a 491 (§14.1: 2.1–4 s when we own the Call-ID, else 0–2 s).
    case glareRetry
    /// RFC 4028 §10: we are the refresher; send a refresh at half the session interval.
    case sessionRefresh
    /// RFC 4028 §10: the peer is the refresher; without a refresh by interval − min(32, interval/3),
    /// send BYE.
    case sessionExpiry

    public var description: String {
        switch self {
        case .retransmit2xx: return "retransmit2xx"
        case .ackTimeout: return "ackTimeout"
        case .glareRetry: return "glareRetry"
        case .sessionRefresh: return "sessionRefresh"
        case .sessionExpiry: return "sessionExpiry"
        }
    }
}
