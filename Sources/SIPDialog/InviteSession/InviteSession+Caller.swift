import SIPCore
import SIPTransaction

/// The UAC side: the initial INVITE and its responses (RFC 3261 §13.2, §9.1; RFC 3262; RFC 4028 §7).
extension InviteSession {
    // MARK: Commands

    /// Sends the INVITE with `offer` (RFC 3261 §13.2.1).
    public mutating func start(offer: SessionBody, now: Instant) -> [SessionAction] {
        guard let call, case .idle = state else {
            return [.ignored(DialogError(.invalidState, "start applies to an outgoing call not started yet"))]
        }
        let timerRequest = configuration.sessionTimer.map(TimerRequest.init)
        let invite = makeInitialInvite(call, sequence: call.sequence, offer: offer, timerRequest: timerRequest, authHeaders: [])
        initialInvite = invite
        state = .calling(Outgoing(invite: invite, sequence: call.sequence, offer: offer, timerRequest: timerRequest))
        return [.sendRequest(invite)]
    }

    /// Cancels the pending INVITE (RFC 3261 §9.1): CANCEL at once when a provisional response has
    /// arrived, else when the first one does. The session ends with `.cancelled` when the final
    /// response comes (normally 487); a 2xx that crosses the CANCEL is ACKed and BYEd. Before `start`
    /// or while challenged it ends at once.
    public mutating func cancel(now: Instant) -> [SessionAction] {
        switch state {
        case .idle where role == .uac:
            return end(.cancelled)
        case .challenged:
            return end(.cancelled)
        case .calling(var outgoing):
            guard !outgoing.cancelRequested else { return [] }
            outgoing.cancelRequested = true
            var actions: [SessionAction] = []
            if outgoing.provisionalSeen {
                outgoing.cancelSent = true
                actions.append(.sendCancel(Self.makeCancel(for: outgoing.invite)))
            }
            state = .calling(outgoing)
            return actions
        default:
            return [.ignored(DialogError(.invalidState, "no INVITE of ours to cancel"))]
        }
    }

    /// After `needsCredentials`: re-sends the challenged request with `headers` (Authorization or
    /// Proxy-Authorization computed by the driver, RFC 3261 §22.2) replacing earlier credentials,
    /// with the next CSeq number and otherwise unchanged (same Call-ID, From tag, offer).
    public mutating func authorize(adding headers: [HeaderField], now: Instant) -> [SessionAction] {
        switch state {
        case .challenged(var outgoing):
            guard let call else { break }
            outgoing.authHeaders = headers
            let sequence = Dialog.next(after: outgoing.sequence)
            let invite = makeInitialInvite(call, sequence: sequence, offer: outgoing.offer,
                                           timerRequest: outgoing.timerRequest, authHeaders: headers)
            return restart(&outgoing, with: invite, sequence: sequence)
        case .confirmed(var established):
            guard var local = established.local, local.awaitingCredentials else { break }
            local.modification.authHeaders = headers
            established.local = nil
            return sendModification(local.modification, established: &established)
        default:
            break
        }
        return [.ignored(DialogError(.invalidState, "no challenged request to authorize"))]
    }

    /// After `needsCredentials` for the initial INVITE: sends `invite`, built by the driver (with its
    /// credentials). It must be an INVITE with this session's Call-ID and From tag and a higher CSeq
    /// number (RFC 3261 §8.1.3.5, §22.2); anything else is ignored.
    public mutating func resendInvite(_ invite: SIPMessage, now: Instant) -> [SessionAction] {
        guard case .challenged(var outgoing) = state else {
            return [.ignored(DialogError(.invalidState, "no challenged INVITE to resend"))]
        }
        guard invite.method == .invite, let cseq = try? invite.cseq(), cseq.method == .invite, cseq.sequence > outgoing.sequence,
              (try? invite.callID()) == call?.callID, (try? invite.from())?.tag == localTag else {
            return [.ignored(DialogError(.malformedMessage, "a resent INVITE needs the same Call-ID and From tag and a higher CSeq"))]
        }
        return restart(&outgoing, with: invite, sequence: cseq.sequence)
    }

    /// Sends a new INVITE for the same call (after a challenge or a 422): a new transaction, so the
    /// early dialogs of the previous one are gone.
    private mutating func restart(_ outgoing: inout Outgoing, with invite: SIPMessage, sequence: UInt32) -> [SessionAction] {
        outgoing.invite = invite
        outgoing.sequence = sequence
        outgoing.early = []
        outgoing.provisionalSeen = false
        outgoing.cancelRequested = false
        outgoing.cancelSent = false
        initialInvite = invite
        state = .calling(outgoing)
        return [.sendRequest(invite)]
    }

    // MARK: Responses to the INVITE

    mutating func callingResponse(_ response: SIPMessage, status: Int, outgoing: Outgoing, now: Instant) -> [SessionAction] {
        var outgoing = outgoing
        switch status {
        case 100...199:
            return provisional(response, status: status, outgoing: &outgoing)
        case 200...299:
            return accept2xx(response, outgoing: outgoing, now: now)
        default:
            return finalFailure(response, status: status, outgoing: &outgoing)
        }
    }

    /// 1xx (§13.2.2.1): sends a deferred CANCEL; with a To tag, creates or finds the fork's early
    /// dialog, PRACKs a reliable one (RFC 3262 §4) and reports ringing or progress.
    private mutating func provisional(_ response: SIPMessage, status: Int, outgoing: inout Outgoing) -> [SessionAction] {
        var actions: [SessionAction] = []
        outgoing.provisionalSeen = true
        defer { state = .calling(outgoing) }
        if outgoing.cancelRequested {
            if !outgoing.cancelSent {
                outgoing.cancelSent = true
                actions.append(.sendCancel(Self.makeCancel(for: outgoing.invite)))
            }
            return actions
        }
        if status == 100 { return actions }
        let body = SessionBody.of(response)
        if let tag = Self.toTag(response) {
            let index: Int
            if let found = outgoing.early.firstIndex(where: { $0.dialog.id.remoteTag == tag }) {
                index = found
            } else {
                guard outgoing.early.count < Self.maxForks else {
                    return [.ignored(DialogError(.invalidState, "too many early dialogs"))]
                }
                do {
                    outgoing.early.append(EarlyDialog(dialog: try Dialog(uac: outgoing.invite, response: response)))
                } catch {
                    return [.ignored(error)]
                }
                index = outgoing.early.count - 1
            }
            var early = outgoing.early[index]
            if Self.isReliable(response) {
                guard let rseq = try? response.rseq() else {
                    return [.ignored(DialogError(.badReliableProvisional, "reliable provisional without a usable RSeq"))]
                }
                if let last = early.lastRSeq {
                    // §4: a seen RSeq is a retransmission (discarded); a gap means one is missing.
                    if rseq <= last { return [] }
                    guard rseq == last + 1 else {
                        return [.ignored(DialogError(.badReliableProvisional, "RSeq " + String(rseq) + " after " + String(last)))]
                    }
                }
                early.lastRSeq = rseq
                var prack = early.dialog.makeRequest(.prack)
                let rack = RAck(responseNumber: rseq, cseq: CSeq(outgoing.sequence, .invite))
                Self.insert([HeaderField(name: .rack, value: rack.description)], into: &prack)
                actions.append(.sendRequest(prack))
            }
            if let body, early.answer == nil { early.answer = body }
            outgoing.early[index] = early
        }
        actions.append(status == 180 ? .ringing(earlyMedia: body) : .progress(status: status, earlyMedia: body))
        return actions
    }

    /// The first 2xx (§13.2.2.4): confirms its dialog (early or new), ACKs it, reports the call
    /// established and starts the session timer. After `cancel()`, or when the 2xx has no Contact,
    /// the dialog is ACKed and at once BYEd.
    private mutating func accept2xx(_ response: SIPMessage, outgoing: Outgoing, now: Instant) -> [SessionAction] {
        guard let tag = Self.toTag(response) else {
            return end(.protocolError(DialogError(.missingTag, "2xx without To tag")))
        }
        let early = outgoing.early.first { $0.dialog.id.remoteTag == tag }
        var dialog: Dialog
        var problem: DialogError? = nil
        if var found = early?.dialog {
            do { try found.confirm(with: response) } catch { problem = error }
            dialog = found
        } else {
            do {
                dialog = try Dialog(uac: outgoing.invite, response: response)
            } catch {
                problem = error
                guard let fallback = try? Dialog(uac: outgoing.invite, response: response, contactFallback: true) else {
                    return end(.protocolError(error))
                }
                dialog = fallback
            }
        }
        let ack = Self.makeACK(in: dialog, for: outgoing.invite, sequence: outgoing.sequence)
        sentACKs[tag] = ack
        var actions: [SessionAction] = [.sendRequest(ack)]
        if let problem {
            actions.append(.sendRequest(dialog.makeRequest(.bye)))
            return actions + end(.protocolError(problem))
        }
        if outgoing.cancelRequested {
            actions.append(.sendRequest(dialog.makeRequest(.bye)))
            return actions + end(.cancelled)
        }
        var established = Established(dialog: dialog, localBody: outgoing.offer, peerAllowsUpdate: Self.allowsUpdate(response),
                                      timerRequest: outgoing.timerRequest)
        let (timer, timerError) = SessionTimerNegotiation.afterResponse(response, settings: configuration.sessionTimer)
        if let timerError { actions.append(.ignored(timerError)) }
        actions.append(.established(remote: SessionBody.of(response) ?? early?.answer))
        actions += established.applySessionTimer(timer, now: now)
        state = .confirmed(established)
        return actions
    }

    /// 3xx–6xx (§13.2.2.2, §13.2.2.3).
    private mutating func finalFailure(_ response: SIPMessage, status: Int, outgoing: inout Outgoing) -> [SessionAction] {
        if outgoing.cancelRequested { return end(.cancelled) }
        switch status {
        case 401, 407:
            guard outgoing.authAttempts < configuration.maxAuthenticationAttempts else { return end(.failed(status: status)) }
            outgoing.authAttempts += 1
            outgoing.early = []
            state = .challenged(outgoing)
            return [.needsCredentials(challenge: response, request: outgoing.invite)]
        case 422:
            // RFC 4028 §7.3: retry with the Min-SE the 422 names.
            if let call, let request = outgoing.timerRequest, outgoing.timerRetries < Self.maxTimerRetries,
               let raised = request.raised(by: response) {
                outgoing.timerRetries += 1
                outgoing.timerRequest = raised
                let sequence = Dialog.next(after: outgoing.sequence)
                let invite = makeInitialInvite(call, sequence: sequence, offer: outgoing.offer, timerRequest: raised,
                                               authHeaders: outgoing.authHeaders)
                return restart(&outgoing, with: invite, sequence: sequence)
            }
            return [.ignored(DialogError(.badSessionTimer, "422 without a usable larger Min-SE"))] + end(.failed(status: 422))
        case 300...399:
            let targets = Self.redirectTargets(response)
            return end(targets.isEmpty ? .failed(status: status) : .redirected(targets))
        default:
            return end(EndReason.forFinalResponse(status))
        }
    }

    /// A 2xx to the initial INVITE after the session moved on (RFC 3261 §13.2.2.4): a retransmission
    /// gets the same ACK again; a 2xx from another fork gets an ACK and then a BYE.
    mutating func acknowledgeFork(_ response: SIPMessage) -> [SessionAction] {
        guard let tag = Self.toTag(response) else {
            return [.ignored(DialogError(.missingTag, "2xx without To tag"))]
        }
        if let ack = sentACKs[tag] { return [.sendRequest(ack)] }
        guard let invite = initialInvite, let sequence = (try? invite.cseq())?.sequence,
              var dialog = try? Dialog(uac: invite, response: response, contactFallback: true) else {
            return [.ignored(DialogError(.malformedMessage, "2xx from another fork that cannot be acknowledged"))]
        }
        let ack = Self.makeACK(in: dialog, for: invite, sequence: sequence)
        if sentACKs.count < Self.maxForks { sentACKs[tag] = ack }
        return [.sendRequest(ack), .sendRequest(dialog.makeRequest(.bye))]
    }

    // MARK: Requests in early dialogs

    /// A request from a fork while our INVITE is pending (only early dialogs exist).
    mutating func requestWhileCalling(_ request: SIPMessage, method: SIPMethod, outgoing: Outgoing) -> [SessionAction] {
        var outgoing = outgoing
        if method == .ack { return [] }
        guard let id = DialogID(receivedRequest: request),
              let index = outgoing.early.firstIndex(where: { $0.dialog.id == id }) else {
            return [.sendResponse(response(to: request, status: 481), for: request)]
        }
        switch outgoing.early[index].dialog.accepts(request) {
        case .rejected(let status, let reason):
            state = .calling(outgoing)
            return [.sendResponse(response(to: request, status: status, reason: reason), for: request)]
        case .accepted:
            break
        }
        switch method {
        case .bye:
            // §15: a BYE ends that early dialog only; the INVITE goes on.
            outgoing.early.remove(at: index)
            state = .calling(outgoing)
            return [.sendResponse(response(to: request, status: 200), for: request)]
        case .update:
            let hasOffer = SessionBody.of(request) != nil
            state = .calling(outgoing)
            if !hasOffer { return [.sendResponse(response(to: request, status: 200, withContact: true), for: request)] }
            // RFC 3311 §5.2: our offer (in the INVITE) unanswered: 491; else not handled early: 500.
            if outgoing.early[index].answer == nil {
                return [.sendResponse(response(to: request, status: 491), for: request)]
            }
            return [.sendResponse(retryLater(request), for: request)]
        case .invite:
            state = .calling(outgoing)
            return [.sendResponse(response(to: request, status: 491), for: request)]
        case .prack:
            state = .calling(outgoing)
            return [.sendResponse(response(to: request, status: 481), for: request)]
        default:
            state = .calling(outgoing)
            return [.requestReceived(request)]
        }
    }
}
