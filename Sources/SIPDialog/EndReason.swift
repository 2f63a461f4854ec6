import SIPCore

/// Why a session ended (`SessionAction.ended`).
public enum EndReason: Sendable, Hashable, CustomStringConvertible {
    /// We sent BYE (`hangUp`).
    case localHangUp
    /// The peer sent BYE (RFC 3261 §15.1.2).
    case remoteHangUp
    /// UAC: our `cancel()` took effect (or the INVITE got 487); UAS: the caller sent CANCEL (§9).
    case cancelled
    /// 486 Busy Here or 600 Busy Everywhere.
    case busy
    /// 480 Temporarily Unavailable.
    case unavailable
    /// 404 Not Found or 604 Does Not Exist Anywhere.
    case notFound
    /// 503 Service Unavailable (also what SIPEndpoint reports when no target could be reached).
    case serviceUnavailable
    /// Any other final response 400–699 to our INVITE (408 for a timeout, 401/407 when the
    /// credentials ran out, 422 when the session interval could not be agreed, …).
    case failed(status: Int)
    /// A 3xx: the Contact URIs in decreasing `q` order (equal `q`: as listed). See `RedirectPolicy`.
    case redirected([URI])
    /// UAS: we answered the INVITE with this final status (`reject`, or a check such as 420 or 422).
    case rejected(status: Int)
    /// UAS: our 2xx got no ACK within 64·T1 (RFC 3261 §13.3.1.4); a BYE was sent.
    case ackTimeout
    /// RFC 4028 §10: no session refresh in time; a BYE was sent.
    case sessionExpired
    /// A request in the dialog got 481 or 408 (RFC 3261 §12.2.1.2, §14.1); a BYE was sent.
    case dialogFailed(status: Int)
    /// The peer sent something the dialog cannot continue with (e.g. a 2xx without Contact: it was
    /// acknowledged and a BYE sent).
    case protocolError(DialogError)

    /// The reason for a final response `status` (300–699) to our INVITE.
    static func forFinalResponse(_ status: Int) -> EndReason {
        switch status {
        case 486, 600: return .busy
        case 480: return .unavailable
        case 404, 604: return .notFound
        case 503: return .serviceUnavailable
        case 487: return .cancelled
        default: return .failed(status: status)
        }
    }

    public var description: String {
        switch self {
        case .localHangUp: return "local hang-up"
        case .remoteHangUp: return "remote hang-up"
        case .cancelled: return "cancelled"
        case .busy: return "busy"
        case .unavailable: return "unavailable"
        case .notFound: return "not found"
        case .serviceUnavailable: return "service unavailable"
        case .failed(let s): return "failed (" + String(s) + ")"
        case .redirected(let targets): return "redirected to " + targets.map(\.description).joined(separator: ", ")
        case .rejected(let s): return "rejected (" + String(s) + ")"
        case .ackTimeout: return "no ACK"
        case .sessionExpired: return "session expired"
        case .dialogFailed(let s): return "dialog failed (" + String(s) + ")"
        case .protocolError(let e): return "protocol error: " + e.description
        }
    }
}
