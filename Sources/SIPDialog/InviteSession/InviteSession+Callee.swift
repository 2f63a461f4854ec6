import SIPCore
import SIPTransaction

/// The UAS side: the INVITE received and our answers to it (RFC 3261 §13.3, §9.2; RFC 4028 §9).
extension InviteSession {
    // MARK: The INVITE

    /// The initial INVITE (§13.3.1): checks it (420 for an unsupported Require, 415 for a body that
    /// is not SDP, 400 without Contact, 422 for a too short Session-Expires) and reports it.
    mutating func initialRequest(_ invite: SIPMessage, now: Instant) -> [SessionAction] {
        guard invite.method == .invite else {
            if invite.method == .ack { return [] }
            return [.sendResponse(response(to: invite, status: 481), for: invite)]
        }
        if Self.toTag(invite) != nil {
            return rejectInitial(invite, status: 481)
        }
        guard let required = try? invite.optionTags(.require) else {
            return rejectInitial(invite, status: 400, reason: "Bad Require")
        }
        let unsupported = required.filter { !(configuration.sessionTimer != nil && lowercasedASCII($0) == "timer") }
        if !unsupported.isEmpty {
            return rejectInitial(invite, status: 420, extra: [HeaderField(name: .unsupported, value: unsupported.joined(separator: ", "))])
        }
        guard Self.hasAcceptableBody(invite) else {
            let rejection = unsupportedMediaType(invite)
            state = .ended(.rejected(status: 415))
            return [.sendResponse(rejection, for: invite), .ended(.rejected(status: 415))]
        }
        let dialog: Dialog
        do {
            dialog = try Dialog(uas: invite, localTag: localTag, localContact: localContact)
        } catch {
            return rejectInitial(invite, status: 400, reason: error.code == .missingContact ? "Missing Contact" : "Bad Request")
        }
        switch SessionTimerNegotiation.forRequest(invite, settings: configuration.sessionTimer, current: nil) {
        case .tooSmall(let minimum):
            return rejectInitial(invite, status: 422, extra: [HeaderField(name: .minSE, value: String(minimum))])
        case .malformed:
            return rejectInitial(invite, status: 400, reason: "Bad Session-Expires")
        case .accept(let timer, let headers):
            let offer = SessionBody.of(invite)
            callID = dialog.id.callID
            state = .incoming(Incoming(invite: invite, dialog: dialog, offer: offer, timer: timer, timerHeaders: headers,
                                       peerAllowsUpdate: Self.allowsUpdate(invite)))
            return [.incomingCall(offer: offer)]
        }
    }

    private mutating func rejectInitial(_ invite: SIPMessage, status: Int, reason: String? = nil, extra: [HeaderField] = []) -> [SessionAction] {
        let rejection = response(to: invite, status: status, reason: reason, extra: extra)
        return [.sendResponse(rejection, for: invite)] + end(.rejected(status: status))
    }

    // MARK: Commands

    /// 180 Ringing (§13.3.1.1), with Contact: the caller gets an early dialog.
    public mutating func ring(now: Instant) -> [SessionAction] {
        guard case .incoming(let incoming) = state else {
            return [.ignored(DialogError(.invalidState, "ring applies to an unanswered incoming call"))]
        }
        return [.sendResponse(response(to: incoming.invite, status: 180, withContact: true), for: incoming.invite)]
    }

    /// 183 Session Progress with `body` (early media; sent unreliably, RFC 3261 §13.3.1.1).
    public mutating func earlyMedia(_ body: SessionBody, now: Instant) -> [SessionAction] {
        guard case .incoming(let incoming) = state else {
            return [.ignored(DialogError(.invalidState, "early media applies to an unanswered incoming call"))]
        }
        return [.sendResponse(response(to: incoming.invite, status: 183, body: body, withContact: true), for: incoming.invite)]
    }

    /// 200 OK with `body` (the answer, or the offer for an offerless INVITE; §13.3.1.4), retransmitted
    /// on `.retransmit2xx` until the ACK arrives; `.ackTimeout` after 64·T1 ends the call with a BYE.
    /// The session timer negotiated from the INVITE (RFC 4028 §9) starts now.
    public mutating func answer(_ body: SessionBody, now: Instant) -> [SessionAction] {
        guard case .incoming(var incoming) = state else {
            return [.ignored(DialogError(.invalidState, "answer applies to an unanswered incoming call"))]
        }
        let ok = response(to: incoming.invite, status: 200, body: body, withContact: true, extra: incoming.timerHeaders)
        incoming.dialog.confirm()
        var answering = Answering(incoming: incoming, response: ok, localBody: body, interval: configuration.timers.t1)
        var actions: [SessionAction] = [
            .sendResponse(ok, for: incoming.invite),
            .arm(.retransmit2xx, at: now + configuration.timers.t1),
            .arm(.ackTimeout, at: now + configuration.timers.transactionTimeout),
        ]
        if let timer = incoming.timer {
            let name: DialogTimer = timer.localRefresher ? .sessionRefresh : .sessionExpiry
            answering.armedSessionTimer = name
            actions.append(.arm(name, at: now + (timer.localRefresher ? timer.refreshDelay : timer.expiryDelay)))
        }
        state = .answering(answering)
        return actions
    }

    /// A final 300–699 response to the INVITE (§13.3.1.3); the session ends with `.rejected`.
    public mutating func reject(status: Int, reason: String? = nil, now: Instant) -> [SessionAction] {
        guard case .incoming(let incoming) = state else {
            return [.ignored(DialogError(.invalidState, "reject applies to an unanswered incoming call"))]
        }
        guard (300...699).contains(status) else {
            return [.ignored(DialogError(.invalidState, "a rejection is a 300-699 status"))]
        }
        return rejectInitial(incoming.invite, status: status, reason: reason)
    }

    // MARK: Requests before the ACK

    /// The peer's CANCEL for our pending INVITE (§9.2), when the driver consumed the CANCEL itself
    /// (SIPEndpoint answers it with 200 and hands over only the INVITE): 487 for the INVITE and the
    /// end. A CANCEL passed to `receivedRequest` does the same and also answers it.
    public mutating func inviteCancelled(now: Instant) -> [SessionAction] {
        guard case .incoming(let incoming) = state else { return [] }
        let terminated = response(to: incoming.invite, status: 487)
        return [.sendResponse(terminated, for: incoming.invite)] + end(.cancelled)
    }

    mutating func requestWhileIncoming(_ request: SIPMessage, method: SIPMethod, incoming: Incoming, now: Instant) -> [SessionAction] {
        var incoming = incoming
        let inviteSequence = (try? incoming.invite.cseq())?.sequence
        switch method {
        case .ack:
            return []
        case .cancel:
            guard (try? request.callID()) == incoming.dialog.id.callID, (try? request.cseq())?.sequence == inviteSequence else {
                return [.sendResponse(response(to: request, status: 481), for: request)]
            }
            let ok = response(to: request, status: 200)
            return [.sendResponse(ok, for: request)] + inviteCancelled(now: now)
        case .invite where (try? request.cseq())?.sequence == inviteSequence && Self.toTag(request) == nil:
            return []
        default:
            break
        }
        switch incoming.dialog.accepts(request) {
        case .rejected(let status, let reason):
            return [.sendResponse(response(to: request, status: status, reason: reason), for: request)]
        case .accepted:
            state = .incoming(incoming)
        }
        switch method {
        case .bye:
            // §15.1.2: BYE in the early dialog ends it; the INVITE gets 487.
            let terminated = response(to: incoming.invite, status: 487)
            return [.sendResponse(response(to: request, status: 200), for: request), .sendResponse(terminated, for: incoming.invite)]
                + end(.remoteHangUp)
        case .update where SessionBody.of(request) == nil:
            return [.sendResponse(response(to: request, status: 200, withContact: true), for: request)]
        case .invite, .update:
            // §14.2, RFC 3311 §5.2: an offer while the INVITE's is unanswered.
            return [.sendResponse(retryLater(request), for: request)]
        case .prack:
            return [.sendResponse(response(to: request, status: 481), for: request)]
        default:
            return [.requestReceived(request)]
        }
    }

    mutating func requestWhileAnswering(_ request: SIPMessage, method: SIPMethod, answering: Answering, now: Instant) -> [SessionAction] {
        var answering = answering
        let inviteSequence = (try? answering.incoming.invite.cseq())?.sequence
        switch method {
        case .ack:
            guard (try? request.cseq())?.sequence == inviteSequence, DialogID(receivedRequest: request) == answering.incoming.dialog.id else {
                return []
            }
            return confirmAfterACK(request, answering: answering)
        case .cancel:
            // The final response is sent: the CANCEL has no effect (§9.2).
            return [.sendResponse(response(to: request, status: 200), for: request)]
        case .invite where (try? request.cseq())?.sequence == inviteSequence && Self.toTag(request) == nil:
            return []
        default:
            break
        }
        switch answering.incoming.dialog.accepts(request) {
        case .rejected(let status, let reason):
            return [.sendResponse(response(to: request, status: status, reason: reason), for: request)]
        case .accepted:
            state = .answering(answering)
        }
        switch method {
        case .bye:
            return [.sendResponse(response(to: request, status: 200), for: request)] + end(.remoteHangUp)
        case .invite, .update:
            return [.sendResponse(retryLater(request), for: request)]
        case .prack:
            return [.sendResponse(response(to: request, status: 481), for: request)]
        default:
            return [.requestReceived(request)]
        }
    }

    /// The ACK for our 2xx (§13.3.1.4): the call is established (or, after `hangUp`, ended with BYE).
    private mutating func confirmAfterACK(_ ack: SIPMessage, answering: Answering) -> [SessionAction] {
        var established = Established(dialog: answering.incoming.dialog, localBody: answering.localBody,
                                      peerAllowsUpdate: answering.incoming.peerAllowsUpdate, timer: answering.incoming.timer,
                                      timerRequest: configuration.sessionTimer.map(TimerRequest.init),
                                      armedSessionTimer: answering.armedSessionTimer)
        let actions: [SessionAction] = [.disarm(.retransmit2xx), .disarm(.ackTimeout)]
        if answering.hangUpPending {
            return actions + [.sendRequest(established.dialog.makeRequest(.bye))] + end(.localHangUp)
        }
        state = .confirmed(established)
        return actions + [.established(remote: SessionBody.of(ack))]
    }

    mutating func answeringTimer(_ timer: DialogTimer, answering: Answering, now: Instant) -> [SessionAction] {
        var answering = answering
        switch timer {
        case .retransmit2xx:
            let next = min(answering.interval * 2, configuration.timers.t2)
            answering.interval = next
            state = .answering(answering)
            return [.sendResponse(answering.response, for: answering.incoming.invite), .arm(.retransmit2xx, at: now + next)]
        case .ackTimeout:
            var dialog = answering.incoming.dialog
            return [.sendRequest(dialog.makeRequest(.bye))] + end(.ackTimeout)
        case .sessionExpiry where answering.armedSessionTimer == .sessionExpiry:
            var dialog = answering.incoming.dialog
            return [.sendRequest(dialog.makeRequest(.bye))] + end(.sessionExpired)
        default:
            return []
        }
    }
}
