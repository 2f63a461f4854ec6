import SIPCore
import SIPTransaction

/// What an `InviteSession` asks its driver to do, or tells the application, in the order listed.
///
/// To the network (the driver owns the transactions; RFC 3261 §17):
/// - `sendRequest`: send the request. ACK for a 2xx goes without a transaction (§13.2.2.4; SIPEndpoint
///   does this for an ACK passed to `sendRequest`); INVITE, re-INVITE, UPDATE, PRACK and BYE each in
///   a new client transaction, whose responses come back through `receivedResponse`. Requests carry
///   no Via: the transport layer adds it.
/// - `sendCancel`: cancel our pending INVITE (§9.1). The CANCEL is built from the INVITE (same
///   Request-URI, Call-ID, From, To, CSeq number, Route) but has no Via: it must go with the INVITE's
///   top Via (same branch), which `SIPEndpoint.cancel(_:)` does for the INVITE's transaction.
/// - `sendResponse(response, for: request)`: send the response through the server transaction of
///   `request` (as it was passed to `receivedRequest`). A 2xx to an INVITE is resent on
///   `.retransmit2xx` the same way (§13.3.1.4; the transaction is in RFC 6026's Accepted state).
///
/// Timers (`DialogTimer`):
/// - `arm(timer, at:)`: start (or move) the timer; call `timerFired` at that instant.
/// - `disarm(timer)`: stop it.
///
/// Reports to the application:
/// - `incomingCall(offer:)`: UAS: a new INVITE, with its offer (nil: offerless INVITE, our 2xx will
///   carry the offer). Answer with `ring`, `earlyMedia`, `answer` or `reject`.
/// - `ringing(earlyMedia:)`: UAC: a 180; the body is the answer when the 180 carries SDP.
/// - `progress(status:earlyMedia:)`: UAC: another 101–199 (183 Session Progress, 181, 182), with SDP
///   when it carries one (early media).
/// - `established(remote:)`: the call is up. UAC: the 2xx arrived (and was ACKed): `remote` is its
///   body, or the answer of an earlier reliable provisional when the 2xx has none. UAS: the ACK
///   arrived: `remote` is its body (the answer to an offer we put in our 2xx), normally nil.
/// - `offerReceived(body)`: the peer sent a re-INVITE or UPDATE (RFC 3311) with this offer (nil:
///   offerless re-INVITE: answer with an offer, the answer comes back in the ACK as
///   `answerReceived`). Reply with `answerOffer` or `rejectOffer`.
/// - `answerReceived(body)`: our re-INVITE/UPDATE got its 2xx with this answer, or the ACK of an
///   offerless re-INVITE carried it.
/// - `modificationFailed(status:)`: our re-INVITE/UPDATE was refused (or gave up after repeated 491);
///   the session goes on with the previous media.
/// - `needsCredentials(challenge:request:)`: a 401/407 to `request`. The driver computes the
///   Authorization/Proxy-Authorization (SIPAuth) and calls `authorize(adding:now:)` or
///   `resendInvite(_:now:)`, or `hangUp` to give up.
/// - `requestReceived(request)`: a request in the dialog this machine does not handle (INFO,
///   OPTIONS, REFER, NOTIFY, MESSAGE, …); it passed the §12.2.2 checks. The driver answers it.
/// - `ended(reason)`: the session is over; nothing more will be sent except what this same list
///   holds. The driver forgets the session's timers.
/// - `ignored(error)`: the input changed nothing (a response matching nothing, a command that does
///   not apply, a malformed header); for logs.
public enum SessionAction: Sendable, Equatable, CustomStringConvertible {
    case sendRequest(SIPMessage)
    case sendCancel(SIPMessage)
    case sendResponse(SIPMessage, for: SIPMessage)
    case arm(DialogTimer, at: Instant)
    case disarm(DialogTimer)
    case incomingCall(offer: SessionBody?)
    case ringing(earlyMedia: SessionBody?)
    case progress(status: Int, earlyMedia: SessionBody?)
    case established(remote: SessionBody?)
    case offerReceived(SessionBody?)
    case answerReceived(SessionBody?)
    case modificationFailed(status: Int)
    case needsCredentials(challenge: SIPMessage, request: SIPMessage)
    case requestReceived(SIPMessage)
    case ended(EndReason)
    case ignored(DialogError)

    /// Messages compare by their serialized octets (`SIPMessage` itself is not `Equatable`).
    public static func == (a: SessionAction, b: SessionAction) -> Bool {
        switch (a, b) {
        case (.sendRequest(let x), .sendRequest(let y)), (.sendCancel(let x), .sendCancel(let y)),
             (.requestReceived(let x), .requestReceived(let y)):
            return x.serialized() == y.serialized()
        case (.sendResponse(let x, let r1), .sendResponse(let y, let r2)):
            return x.serialized() == y.serialized() && r1.serialized() == r2.serialized()
        case (.needsCredentials(let x, let r1), .needsCredentials(let y, let r2)):
            return x.serialized() == y.serialized() && r1.serialized() == r2.serialized()
        case (.arm(let n1, let t1), .arm(let n2, let t2)):
            return n1 == n2 && t1 == t2
        case (.disarm(let n1), .disarm(let n2)):
            return n1 == n2
        case (.incomingCall(let x), .incomingCall(let y)), (.ringing(let x), .ringing(let y)),
             (.established(let x), .established(let y)), (.offerReceived(let x), .offerReceived(let y)),
             (.answerReceived(let x), .answerReceived(let y)):
            return x == y
        case (.progress(let s1, let x), .progress(let s2, let y)):
            return s1 == s2 && x == y
        case (.modificationFailed(let s1), .modificationFailed(let s2)):
            return s1 == s2
        case (.ended(let x), .ended(let y)):
            return x == y
        case (.ignored(let x), .ignored(let y)):
            return x == y
        default:
            return false
        }
    }

    public var description: String {
        switch self {
        case .sendRequest(let m): return "sendRequest(" + Self.summary(m) + ")"
        case .sendCancel(let m): return "sendCancel(" + Self.summary(m) + ")"
        case .sendResponse(let m, _): return "sendResponse(" + Self.summary(m) + ")"
        case .arm(let t, let at): return "arm(" + t.description + ", at: " + at.description + ")"
        case .disarm(let t): return "disarm(" + t.description + ")"
        case .incomingCall(let b): return "incomingCall(" + Self.summary(b) + ")"
        case .ringing(let b): return "ringing(" + Self.summary(b) + ")"
        case .progress(let s, let b): return "progress(" + String(s) + ", " + Self.summary(b) + ")"
        case .established(let b): return "established(" + Self.summary(b) + ")"
        case .offerReceived(let b): return "offerReceived(" + Self.summary(b) + ")"
        case .answerReceived(let b): return "answerReceived(" + Self.summary(b) + ")"
        case .modificationFailed(let s): return "modificationFailed(" + String(s) + ")"
        case .needsCredentials(let c, _): return "needsCredentials(" + Self.summary(c) + ")"
        case .requestReceived(let m): return "requestReceived(" + Self.summary(m) + ")"
        case .ended(let r): return "ended(" + r.description + ")"
        case .ignored(let e): return "ignored(" + e.description + ")"
        }
    }

    private static func summary(_ m: SIPMessage) -> String {
        switch m.startLine {
        case .request(let r): return r.method.rawValue + " " + (m.headers[.cseq] ?? "")
        case .response(let s): return String(s.code) + " " + (m.headers[.cseq] ?? "")
        }
    }

    private static func summary(_ b: SessionBody?) -> String { b?.description ?? "no body" }
}
