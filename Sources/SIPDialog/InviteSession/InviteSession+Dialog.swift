import SIPCore
import SIPTransaction

/// In the confirmed dialog, either role: re-INVITE and UPDATE both ways, glare (RFC 3261 §14),
/// BYE (§15), session refresh (RFC 4028).
extension InviteSession {
    // MARK: Commands

    /// Sends a re-INVITE with `offer` (RFC 3261 §14.1). Refused (`.ignored(.requestPending)`) while
    /// another re-INVITE or UPDATE is in progress either way; while a glare retry is waiting, the
    /// retry will carry this offer instead. The result comes as `answerReceived` or
    /// `modificationFailed`.
    public mutating func reinvite(offer: SessionBody, now: Instant) -> [SessionAction] {
        guard case .confirmed(var established) = state else {
            return [.ignored(DialogError(.invalidState, "a re-INVITE needs a confirmed dialog"))]
        }
        if established.glare != nil {
            established.glare?.offer = offer
            state = .confirmed(established)
            return []
        }
        guard established.local == nil, established.remote == nil else {
            return [.ignored(DialogError(.requestPending, "an offer/answer exchange is in progress"))]
        }
        return sendModification(Modification(method: .invite, offer: offer, isRefresh: false), established: &established)
    }

    /// Puts the call on hold: a re-INVITE with `offer`, which the caller has made `sendonly` or
    /// `inactive` (RFC 3264 §8.4). Same as `reinvite(offer:now:)`.
    public mutating func hold(offer: SessionBody, now: Instant) -> [SessionAction] { reinvite(offer: offer, now: now) }

    /// Takes the call off hold: a re-INVITE with `offer` (`sendrecv` again). Same as
    /// `reinvite(offer:now:)`.
    public mutating func resume(offer: SessionBody, now: Instant) -> [SessionAction] { reinvite(offer: offer, now: now) }

    /// Answers the peer's re-INVITE or UPDATE (after `offerReceived`) with 200 and `body`: the answer,
    /// or our offer for an offerless re-INVITE (its answer then comes in the ACK). A 2xx to a
    /// re-INVITE is retransmitted until the ACK (§13.3.1.4). The session timer restarts (RFC 4028 §9).
    public mutating func answerOffer(_ body: SessionBody, now: Instant) -> [SessionAction] {
        guard case .confirmed(var established) = state, case .offered(let request, let timer, let headers) = established.remote else {
            return [.ignored(DialogError(.invalidState, "no offer from the peer to answer"))]
        }
        let ok = response(to: request, status: 200, body: body, withContact: true, extra: headers)
        var actions: [SessionAction] = [.sendResponse(ok, for: request)]
        if request.method == .invite {
            established.remote = .awaitingACK(request: request, response: ok, interval: configuration.timers.t1,
                                              offerInResponse: SessionBody.of(request) == nil)
            actions.append(.arm(.retransmit2xx, at: now + configuration.timers.t1))
            actions.append(.arm(.ackTimeout, at: now + configuration.timers.transactionTimeout))
        } else {
            established.remote = nil
        }
        established.localBody = body
        if configuration.sessionTimer != nil { actions += established.applySessionTimer(timer, now: now) }
        state = .confirmed(established)
        return actions
    }

    /// Refuses the peer's re-INVITE or UPDATE with `status` (300–699, default 488 Not Acceptable
    /// Here); the session keeps its previous media (RFC 3261 §14.2).
    public mutating func rejectOffer(status: Int = 488, now: Instant) -> [SessionAction] {
        guard case .confirmed(var established) = state, case .offered(let request, _, _) = established.remote else {
            return [.ignored(DialogError(.invalidState, "no offer from the peer to reject"))]
        }
        guard (300...699).contains(status) else {
            return [.ignored(DialogError(.invalidState, "a rejection is a 300-699 status"))]
        }
        established.remote = nil
        state = .confirmed(established)
        return [.sendResponse(response(to: request, status: status), for: request)]
    }

    // MARK: Our re-INVITE / UPDATE

    /// Builds and sends our re-INVITE or UPDATE in the dialog: Contact, Allow and Supported,
    /// Session-Expires/Min-SE (naming the refresher in force), credentials, the offer.
    mutating func sendModification(_ modification: Modification, established: inout Established) -> [SessionAction] {
        var request = established.dialog.makeRequest(modification.method)
        var fields = capabilityHeaders(initialInvite: false)
        if configuration.sessionTimer != nil, let timerRequest = established.timerRequest {
            var asked = timerRequest
            if let timer = established.timer { asked.interval = max(timer.interval, timerRequest.minimum) }
            fields += SessionTimerNegotiation.requestHeaders(asked, localRefresher: established.timer?.localRefresher)
        }
        fields += modification.authHeaders
        Self.insert(fields, into: &request)
        if let offer = modification.offer { request.setBody(offer.bytes, contentType: offer.contentType) }
        let sequence = (try? request.cseq())?.sequence ?? 0
        established.local = LocalRequest(request: request, sequence: sequence, modification: modification)
        if let offer = modification.offer { established.localBody = offer }
        state = .confirmed(established)
        return [.sendRequest(request)]
    }

    /// A response in the confirmed dialog: to our re-INVITE/UPDATE, a retransmitted 2xx of an
    /// earlier re-INVITE, or to BYE/PRACK (nothing to do).
    mutating func confirmedResponse(_ response: SIPMessage, status: Int, cseq: CSeq, established: Established,
                                    now: Instant) -> [SessionAction] {
        var established = established
        guard let local = established.local, cseq.sequence == local.sequence, cseq.method == local.modification.method else {
            if let last = established.lastACK, cseq.method == .invite, cseq.sequence == last.sequence {
                return status >= 200 && status < 300 ? [.sendRequest(last.ack)] : []
            }
            if cseq.method == .bye || cseq.method == .prack || cseq.method == .cancel { return [] }
            return [.ignored(DialogError(.unexpectedResponse, "no request in progress for CSeq " + cseq.description))]
        }
        var modification = local.modification
        switch status {
        case 100...199:
            return []
        case 200...299:
            var actions: [SessionAction] = []
            // §12.2.1.2: the 2xx refreshes the target first; its ACK already goes there.
            established.dialog.refreshTarget(from: response)
            if modification.method == .invite {
                let ack = Self.makeACK(in: established.dialog, for: local.request, sequence: local.sequence)
                established.lastACK = SentACK(sequence: local.sequence, ack: ack)
                actions.append(.sendRequest(ack))
            }
            established.local = nil
            if response.headers.contains(.allow) { established.peerAllowsUpdate = Self.allowsUpdate(response) }
            if !modification.isRefresh { actions.append(.answerReceived(SessionBody.of(response))) }
            let (timer, timerError) = SessionTimerNegotiation.afterResponse(response, settings: configuration.sessionTimer)
            if let timerError { actions.append(.ignored(timerError)) }
            if configuration.sessionTimer != nil { actions += established.applySessionTimer(timer, now: now) }
            state = .confirmed(established)
            return actions
        case 491:
            established.local = nil
            guard modification.glareAttempts < Self.maxGlareRetries else {
                state = .confirmed(established)
                return [.modificationFailed(status: 491)]
            }
            modification.glareAttempts += 1
            established.glare = modification
            state = .confirmed(established)
            return [.arm(.glareRetry, at: now + glareDelay())]
        case 401, 407:
            guard modification.authAttempts < configuration.maxAuthenticationAttempts else {
                established.local = nil
                state = .confirmed(established)
                return [.modificationFailed(status: status)]
            }
            modification.authAttempts += 1
            established.local = LocalRequest(request: local.request, sequence: local.sequence, modification: modification,
                                              awaitingCredentials: true)
            state = .confirmed(established)
            return [.needsCredentials(challenge: response, request: local.request)]
        case 422:
            established.local = nil
            if let request = established.timerRequest, modification.timerRetries < Self.maxTimerRetries,
               let raised = request.raised(by: response) {
                modification.timerRetries += 1
                established.timerRequest = raised
                if var timer = established.timer { timer.interval = max(timer.interval, raised.interval); established.timer = timer }
                return sendModification(modification, established: &established)
            }
            state = .confirmed(established)
            return [.modificationFailed(status: 422)]
        case 408, 481:
            // §12.2.1.2, §14.1: the dialog is gone (or unreachable): end it.
            return [.sendRequest(established.dialog.makeRequest(.bye))] + end(.dialogFailed(status: status))
        default:
            established.local = nil
            state = .confirmed(established)
            return [.modificationFailed(status: status)]
        }
    }

    /// The glare back-off of RFC 3261 §14.1: 2.1–4 s when we own the Call-ID (UAC of the dialog),
    /// else 0–2 s, in steps of 10 ms.
    mutating func glareDelay() -> Duration {
        role == .uac ? randomDelay(milliseconds: 2100...4000) : randomDelay(milliseconds: 0...2000)
    }

    // MARK: The peer's requests

    mutating func requestInDialog(_ request: SIPMessage, method: SIPMethod, established: Established, now: Instant) -> [SessionAction] {
        var established = established
        switch established.dialog.accepts(request) {
        case .rejected(let status, let reason):
            if method == .ack { return [] }
            return [.sendResponse(response(to: request, status: status, reason: reason), for: request)]
        case .accepted:
            state = .confirmed(established)
        }
        let sequence = (try? request.cseq())?.sequence
        switch method {
        case .ack:
            guard case .awaitingACK(let invite, _, _, let offerInResponse) = established.remote,
                  (try? invite.cseq())?.sequence == sequence else { return [] }
            established.remote = nil
            state = .confirmed(established)
            var actions: [SessionAction] = [.disarm(.retransmit2xx), .disarm(.ackTimeout)]
            if offerInResponse { actions.append(.answerReceived(SessionBody.of(request))) }
            return actions
        case .cancel:
            guard case .offered(let pending, _, _) = established.remote, pending.method == .invite,
                  (try? pending.cseq())?.sequence == sequence else {
                return [.sendResponse(response(to: request, status: 481), for: request)]
            }
            established.remote = nil
            state = .confirmed(established)
            return [.sendResponse(response(to: request, status: 200), for: request),
                    .sendResponse(response(to: pending, status: 487), for: pending)]
        case .bye:
            var actions = abandonRemoteRequest(&established)
            actions.append(.sendResponse(response(to: request, status: 200), for: request))
            return actions + end(.remoteHangUp)
        case .invite, .update:
            return remoteOffer(request, method: method, established: &established, now: now)
        case .prack:
            return [.sendResponse(response(to: request, status: 481), for: request)]
        default:
            return [.requestReceived(request)]
        }
    }

    /// A re-INVITE or UPDATE from the peer (§14.2, RFC 3311 §5.2): 491 while ours is pending, 500
    /// while the peer's previous one is; else a target refresh and `offerReceived` (an UPDATE without
    /// body is a bare session refresh, answered at once).
    private mutating func remoteOffer(_ request: SIPMessage, method: SIPMethod, established: inout Established,
                                      now: Instant) -> [SessionAction] {
        if established.local != nil {
            return [.sendResponse(response(to: request, status: 491), for: request)]
        }
        if established.remote != nil {
            return [.sendResponse(retryLater(request), for: request)]
        }
        guard Self.hasAcceptableBody(request) else {
            return [.sendResponse(unsupportedMediaType(request), for: request)]
        }
        switch SessionTimerNegotiation.forRequest(request, settings: configuration.sessionTimer, current: established.timer) {
        case .tooSmall(let minimum):
            return [.sendResponse(response(to: request, status: 422, extra: [HeaderField(name: .minSE, value: String(minimum))]), for: request)]
        case .malformed:
            return [.sendResponse(response(to: request, status: 400, reason: "Bad Session-Expires"), for: request)]
        case .accept(let timer, let headers):
            established.dialog.refreshTarget(from: request)
            if request.headers.contains(.allow) { established.peerAllowsUpdate = Self.allowsUpdate(request) }
            let offer = SessionBody.of(request)
            if method == .update && offer == nil {
                var actions: [SessionAction] = [.sendResponse(response(to: request, status: 200, withContact: true, extra: headers), for: request)]
                if configuration.sessionTimer != nil { actions += established.applySessionTimer(timer, now: now) }
                state = .confirmed(established)
                return actions
            }
            established.remote = .offered(request: request, timer: timer, timerHeaders: headers)
            state = .confirmed(established)
            return [.offerReceived(offer)]
        }
    }

    /// Before the dialog ends: a re-INVITE of the peer still waiting for our answer gets 487
    /// (RFC 3261 §15.1.2).
    func abandonRemoteRequest(_ established: inout Established) -> [SessionAction] {
        guard case .offered(let pending, _, _) = established.remote else { return [] }
        established.remote = nil
        return [.sendResponse(response(to: pending, status: 487), for: pending)]
    }

    // MARK: Timers

    mutating func confirmedTimer(_ timer: DialogTimer, established: Established, now: Instant) -> [SessionAction] {
        var established = established
        switch timer {
        case .retransmit2xx:
            guard case .awaitingACK(let request, let ok, let interval, let offerInResponse) = established.remote else { return [] }
            let next = min(interval * 2, configuration.timers.t2)
            established.remote = .awaitingACK(request: request, response: ok, interval: next, offerInResponse: offerInResponse)
            state = .confirmed(established)
            return [.sendResponse(ok, for: request), .arm(.retransmit2xx, at: now + next)]
        case .ackTimeout:
            guard case .awaitingACK = established.remote else { return [] }
            return [.sendRequest(established.dialog.makeRequest(.bye))] + end(.ackTimeout)
        case .glareRetry:
            guard var modification = established.glare else { return [] }
            if established.local != nil || established.remote != nil {
                // The peer's request is still in progress: back off again (bounded).
                guard modification.glareAttempts < Self.maxGlareRetries else {
                    established.glare = nil
                    state = .confirmed(established)
                    return [.modificationFailed(status: 491)]
                }
                modification.glareAttempts += 1
                established.glare = modification
                state = .confirmed(established)
                return [.arm(.glareRetry, at: now + glareDelay())]
            }
            established.glare = nil
            return sendModification(modification, established: &established)
        case .sessionRefresh:
            guard established.armedSessionTimer == .sessionRefresh, let current = established.timer, current.localRefresher else { return [] }
            if established.local != nil || established.remote != nil || established.glare != nil {
                // A transaction in progress refreshes the session when it succeeds; look again soon.
                state = .confirmed(established)
                return [.arm(.sessionRefresh, at: now + configuration.timers.t2)]
            }
            let useUpdate = (configuration.sessionTimer?.preferUpdate == true && established.peerAllowsUpdate) || established.localBody == nil
            let modification = Modification(method: useUpdate ? .update : .invite, offer: useUpdate ? nil : established.localBody,
                                            isRefresh: true)
            established.armedSessionTimer = nil
            return sendModification(modification, established: &established)
        case .sessionExpiry:
            guard established.armedSessionTimer == .sessionExpiry, let current = established.timer, !current.localRefresher else { return [] }
            var actions = abandonRemoteRequest(&established)
            actions.append(.sendRequest(established.dialog.makeRequest(.bye)))
            return actions + end(.sessionExpired)
        }
    }
}

extension InviteSession.Established {
    /// Puts `timer` in force (RFC 4028 §7.2, §9) and (re)arms the matching session timer: the refresh
    /// at half the interval, or the expiry at interval − min(32, interval/3). Nil disarms.
    mutating func applySessionTimer(_ timer: NegotiatedSessionTimer?, now: Instant) -> [SessionAction] {
        self.timer = timer
        var actions: [SessionAction] = []
        let wanted: DialogTimer? = timer.map { $0.localRefresher ? .sessionRefresh : .sessionExpiry }
        if let armed = armedSessionTimer, armed != wanted { actions.append(.disarm(armed)) }
        if let timer, let wanted {
            actions.append(.arm(wanted, at: now + (timer.localRefresher ? timer.refreshDelay : timer.expiryDelay)))
        }
        armedSessionTimer = wanted
        return actions
    }
}
