import SIPCore
import SIPTransaction

/// One call leg as a pure machine (RFC 3261 §13–§15, RFC 3262, RFC 3311, RFC 4028): commands from
/// the application and messages from the peer go in, `SessionAction`s come out. The driver (the
/// user agent engine) owns the transactions and the clock: it sends what the machine asks, feeds
/// back every response to those requests (`receivedResponse`), every request of the dialog
/// (`receivedRequest`), and fires the timers the machine arms (`timerFired`).
///
/// ```
///  UAC                                           UAS
///  idle ──start──► calling ──2xx──► confirmed    idle ──INVITE──► incoming ──answer──► answering
///                   │  │ ▲                                          │                   │ ACK
///          401/407  │  │ │ authorize                       reject,  │                   ▼
///                   ▼  │ │                                 CANCEL   │               confirmed
///              challenged                                           ▼
///   3xx–6xx, cancel ──────────► ended ◄──── BYE (either way), session expiry, 481/408 in dialog
/// ```
///
/// - UAC: `start(offer:)` sends the INVITE (Supported: 100rel, timer; Session-Expires, Min-SE).
///   Provisional responses with a To tag create early dialogs, one per tag (forking); reliable ones
///   (Require: 100rel, RSeq) are PRACKed once, in order (RFC 3262 §4). The first 2xx confirms its
///   dialog and is ACKed (§13.2.2.4); a 2xx from another fork is ACKed and then BYEd. `cancel()` sends
///   CANCEL once a provisional response has arrived (deferred until then, §9.1); a 2xx that crosses
///   it is ACKed and BYEd. 401/407 reports `needsCredentials`; 422 retries with the larger Min-SE;
///   3xx ends with the Contacts sorted by q; other final responses end with a reason.
/// - UAS: the INVITE reports `incomingCall`; `ring`, `earlyMedia`, `answer`, `reject` respond. The 2xx
///   is retransmitted (T1 doubling up to T2) until the ACK; without ACK for 64·T1 the call is ended
///   with a BYE (§13.3.1.4). CANCEL gives 487 (§9.2).
/// - In the dialog, either role: `reinvite(offer:)` (`hold`, `resume`) sends a re-INVITE; a re-INVITE
///   or UPDATE from the peer reports `offerReceived`, answered with `answerOffer`/`rejectOffer`. While
///   our re-INVITE is pending the peer's gets 491; our re-INVITE that gets 491 is retried after
///   2.1–4 s when we own the Call-ID (we are the dialog's UAC), else 0–2 s (§14.1), drawn from the
///   injected random source. Session timers (RFC 4028): the refresher refreshes at half the interval
///   (UPDATE when the peer allows it, else re-INVITE with the current SDP); the other side sends BYE
///   when no refresh came by interval − min(32, interval/3).
///
/// Anything the peer sends is answered or ignored as a value (`.sendResponse`, `.ignored`); nothing it
/// sends can trap.
public struct InviteSession: Sendable {
    public enum Role: Sendable, Hashable {
        /// We sent the INVITE (and own the Call-ID).
        case uac
        /// We received the INVITE.
        case uas
    }

    /// Where the machine is, for logs and tests (the data of each state stays private).
    public enum Phase: Sendable, Hashable {
        /// UAC before `start`; UAS before the INVITE.
        case idle
        /// UAC: INVITE sent, no final response yet (early dialogs may exist).
        case calling
        /// UAC: 401/407 received; waiting for `authorize` or `resendInvite`.
        case challenged
        /// UAS: INVITE received, not answered yet.
        case incoming
        /// UAS: 2xx sent, waiting for the ACK.
        case answering
        case confirmed
        case ended
    }

    public let role: Role
    public let configuration: SessionConfiguration
    var random: any RandomNumberGenerator & Sendable
    var state: State = .idle
    /// UAC: what the INVITE is built from.
    let call: OutgoingCall?
    /// Our tag (From tag as UAC, To tag as UAS).
    let localTag: String
    /// Our Contact.
    let localContact: NameAddress
    /// The Call-ID (UAC: from the start; UAS: once the INVITE is accepted for processing).
    var callID: String?
    /// UAC: the INVITE last sent outside the dialog (for the ACK/BYE of a 2xx from another fork).
    var initialInvite: SIPMessage?
    /// UAC: the ACK sent for each 2xx to the initial INVITE, by To tag: resent when that 2xx is
    /// retransmitted (§13.2.2.4). At most `maxForks` entries.
    var sentACKs: [String: SIPMessage] = [:]

    /// Early dialogs (forks) kept at most, and ACKed 2xx remembered at most.
    static let maxForks = 16
    /// 491 retries of one re-INVITE before it is reported as failed.
    static let maxGlareRetries = 5
    /// 422 retries of one request.
    static let maxTimerRetries = 2

    /// An outgoing call (UAC). `random` decides the glare retry delays (§14.1) and the Retry-After of
    /// a 500 to an overlapping re-INVITE (§14.2).
    public init(outgoing call: OutgoingCall, configuration: SessionConfiguration = SessionConfiguration(),
                random: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()) {
        self.role = .uac
        self.configuration = configuration
        self.random = random
        self.call = call
        self.localTag = call.localTag
        self.localContact = call.contact
        self.callID = call.callID
    }

    /// An incoming call (UAS): pass its INVITE to `receivedRequest`. `localTag` becomes our To tag,
    /// `contact` our Contact in responses and requests.
    public init(incomingWithLocalTag localTag: String, contact: NameAddress,
                configuration: SessionConfiguration = SessionConfiguration(),
                random: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()) {
        self.role = .uas
        self.configuration = configuration
        self.random = random
        self.call = nil
        self.localTag = localTag
        self.localContact = contact
    }

    // MARK: Observation

    public var phase: Phase {
        switch state {
        case .idle: return .idle
        case .calling: return .calling
        case .challenged: return .challenged
        case .incoming: return .incoming
        case .answering: return .answering
        case .confirmed: return .confirmed
        case .ended: return .ended
        }
    }

    /// The dialog: UAS from the INVITE on, UAC once confirmed (nil before and after the end).
    public var dialog: Dialog? {
        switch state {
        case .incoming(let incoming): return incoming.dialog
        case .answering(let answering): return answering.incoming.dialog
        case .confirmed(let established): return established.dialog
        case .idle, .calling, .challenged, .ended: return nil
        }
    }

    /// UAC: the early dialogs of the pending INVITE, in the order their first provisional arrived.
    public var earlyDialogs: [Dialog] {
        if case .calling(let outgoing) = state { return outgoing.early.map(\.dialog) }
        return []
    }

    /// The session timer in force (RFC 4028), nil when none.
    public var sessionTimer: NegotiatedSessionTimer? {
        switch state {
        case .answering(let answering): return answering.incoming.timer
        case .confirmed(let established): return established.timer
        default: return nil
        }
    }

    /// Why the session ended, once it has.
    public var endReason: EndReason? {
        if case .ended(let reason) = state { return reason }
        return nil
    }

    // MARK: Inputs

    /// A response to a request this session sent (INVITE, re-INVITE, UPDATE, PRACK, BYE, CANCEL),
    /// including the 408/503 a driver synthesises for a timeout or transport failure.
    public mutating func receivedResponse(_ response: SIPMessage, now: Instant) -> [SessionAction] {
        guard let status = response.statusCode, (100...699).contains(status), let cseq = try? response.cseq() else {
            return [.ignored(DialogError(.malformedMessage, "response without a usable status or CSeq"))]
        }
        guard isOurs(response) else {
            return [.ignored(DialogError(.notInDialog, "response Call-ID or From tag is not this session's"))]
        }
        switch state {
        case .calling(let outgoing):
            if cseq.method == .invite && cseq.sequence == outgoing.sequence {
                return callingResponse(response, status: status, outgoing: outgoing, now: now)
            }
            if cseq.method == .prack || cseq.method == .cancel || cseq.method == .bye { return [] }
        case .confirmed(let established):
            if let initial = initialInvite, cseq.method == .invite, cseq.sequence == (try? initial.cseq())?.sequence {
                // Late responses to the initial INVITE: a retransmitted or forked 2xx is ACKed (and a
                // fork BYEd); a late 1xx changes nothing (Kamailio relays them after the 200).
                return status >= 200 && status < 300 ? acknowledgeFork(response) : []
            }
            return confirmedResponse(response, status: status, cseq: cseq, established: established, now: now)
        case .challenged, .ended:
            if let initial = initialInvite, cseq.method == .invite, cseq.sequence == (try? initial.cseq())?.sequence,
               status >= 200 && status < 300 {
                return acknowledgeFork(response)
            }
            return []
        case .idle, .incoming, .answering:
            break
        }
        return [.ignored(DialogError(.unexpectedResponse, "no request in progress for CSeq " + cseq.description))]
    }

    /// A request for this session: as UAS the initial INVITE first, then any request of the dialog
    /// (ACK, BYE, CANCEL, re-INVITE, UPDATE, …). Requests with a To tag are checked per §12.2.2.
    public mutating func receivedRequest(_ request: SIPMessage, now: Instant) -> [SessionAction] {
        guard let method = request.method else {
            return [.ignored(DialogError(.malformedMessage, "not a request"))]
        }
        switch state {
        case .idle:
            if role == .uas { return initialRequest(request, now: now) }
        case .calling(let outgoing):
            return requestWhileCalling(request, method: method, outgoing: outgoing)
        case .incoming(let incoming):
            return requestWhileIncoming(request, method: method, incoming: incoming, now: now)
        case .answering(let answering):
            return requestWhileAnswering(request, method: method, answering: answering, now: now)
        case .confirmed(let established):
            return requestInDialog(request, method: method, established: established, now: now)
        case .challenged, .ended:
            break
        }
        if method == .ack { return [] }
        return [.sendResponse(response(to: request, status: 481), for: request)]
    }

    /// A timer armed by this session fired. Stale timers (the state moved on) do nothing.
    public mutating func timerFired(_ timer: DialogTimer, now: Instant) -> [SessionAction] {
        switch state {
        case .answering(let answering):
            return answeringTimer(timer, answering: answering, now: now)
        case .confirmed(let established):
            return confirmedTimer(timer, established: established, now: now)
        case .idle, .calling, .challenged, .incoming, .ended:
            return []
        }
    }

    // MARK: Commands for either role

    /// Ends the call: CANCEL before a final response (UAC, see `cancel`), 603 Decline before
    /// answering (UAS), BYE in the dialog (§15.1.1; a UAS waiting for the ACK of its 2xx sends the BYE
    /// when the ACK arrives or the wait times out, §15).
    public mutating func hangUp(now: Instant) -> [SessionAction] {
        switch state {
        case .idle:
            return end(.localHangUp)
        case .calling:
            return cancel(now: now)
        case .challenged:
            return end(.cancelled)
        case .incoming:
            return reject(status: 603, now: now)
        case .answering(var answering):
            answering.hangUpPending = true
            state = .answering(answering)
            return []
        case .confirmed(let established):
            var established = established
            var actions = abandonRemoteRequest(&established)
            actions.append(.sendRequest(established.dialog.makeRequest(.bye)))
            return actions + end(.localHangUp)
        case .ended:
            return []
        }
    }

    // MARK: Helpers

    /// Moves to `ended` and reports it.
    mutating func end(_ reason: EndReason) -> [SessionAction] {
        state = .ended(reason)
        return [.ended(reason)]
    }

    /// Whether a response carries our Call-ID and our From tag.
    func isOurs(_ response: SIPMessage) -> Bool {
        guard let callID, (try? response.callID()) == callID, let from = try? response.from() else { return false }
        return from.tag == localTag
    }

    /// A delay drawn uniformly in steps of 10 ms from `range` (milliseconds).
    mutating func randomDelay(milliseconds range: ClosedRange<Int64>) -> Duration {
        let steps = UInt64((range.upperBound - range.lowerBound) / 10) + 1
        let pick = Int64(random.next() % steps)
        return .milliseconds(range.lowerBound + pick * 10)
    }
}

// MARK: - State

extension InviteSession {
    enum State: Sendable {
        case idle
        case calling(Outgoing)
        case challenged(Outgoing)
        case incoming(Incoming)
        case answering(Answering)
        case confirmed(Established)
        case ended(EndReason)
    }

    /// UAC: the INVITE in progress.
    struct Outgoing: Sendable {
        var invite: SIPMessage
        var sequence: UInt32
        var offer: SessionBody
        var timerRequest: TimerRequest?
        var authHeaders: [HeaderField] = []
        var authAttempts = 0
        var timerRetries = 0
        var early: [EarlyDialog] = []
        var provisionalSeen = false
        var cancelRequested = false
        var cancelSent = false
    }

    /// UAC: one fork's early dialog, the last RSeq PRACKed (RFC 3262) and the first SDP it sent.
    struct EarlyDialog: Sendable {
        var dialog: Dialog
        var lastRSeq: UInt32? = nil
        var answer: SessionBody? = nil
    }

    /// UAS: the INVITE received, not answered yet.
    struct Incoming: Sendable {
        var invite: SIPMessage
        var dialog: Dialog
        var offer: SessionBody?
        var timer: NegotiatedSessionTimer?
        var timerHeaders: [HeaderField]
        var peerAllowsUpdate: Bool
    }

    /// UAS: 2xx sent, retransmitting it until the ACK.
    struct Answering: Sendable {
        var incoming: Incoming
        var response: SIPMessage
        var localBody: SessionBody
        var interval: Duration
        var hangUpPending = false
        var armedSessionTimer: DialogTimer?
    }

    /// Both roles, once the dialog is confirmed.
    struct Established: Sendable {
        var dialog: Dialog
        /// The last SDP we sent (offer or answer): the body of a refresh re-INVITE.
        var localBody: SessionBody?
        var peerAllowsUpdate: Bool
        var timer: NegotiatedSessionTimer?
        var timerRequest: TimerRequest?
        var armedSessionTimer: DialogTimer?
        /// Our re-INVITE or UPDATE in progress.
        var local: LocalRequest?
        /// Our re-INVITE or UPDATE waiting for `.glareRetry` after a 491.
        var glare: Modification?
        /// The peer's re-INVITE or UPDATE in progress.
        var remote: RemoteRequest?
        /// The ACK of our last re-INVITE's 2xx, resent when that 2xx is retransmitted.
        var lastACK: SentACK?
    }

    struct SentACK: Sendable {
        var sequence: UInt32
        var ack: SIPMessage
    }

    /// What our re-INVITE or UPDATE is for.
    struct Modification: Sendable {
        var method: SIPMethod
        var offer: SessionBody?
        /// A session refresh (RFC 4028) rather than an application request: no report on success.
        var isRefresh: Bool
        var glareAttempts = 0
        var timerRetries = 0
        var authAttempts = 0
        var authHeaders: [HeaderField] = []
    }

    struct LocalRequest: Sendable {
        var request: SIPMessage
        var sequence: UInt32
        var modification: Modification
        var awaitingCredentials = false
    }

    enum RemoteRequest: Sendable {
        /// Reported as `offerReceived`; waiting for `answerOffer` or `rejectOffer`.
        case offered(request: SIPMessage, timer: NegotiatedSessionTimer?, timerHeaders: [HeaderField])
        /// Our 2xx to the peer's re-INVITE, retransmitted until the ACK.
        case awaitingACK(request: SIPMessage, response: SIPMessage, interval: Duration, offerInResponse: Bool)
    }
}
