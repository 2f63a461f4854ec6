import SDP
import SIPAuth
import SIPCore
import SIPDialog
import SIPEndpoint
import SIPTransaction
import SIPTransport

/// One call of a line (UAC or UAS) on the endpoint: runs an `InviteSession` (SIPDialog), carries out
/// its actions (client and server transactions, CANCEL, ACK, timers), answers digest challenges with
/// the line's credentials, and does the RFC 3264 offer/answer with `OfferAnswerEngine` (SDP). Media
/// comes with the media issue: the SDP is correct, no RTP flows yet.
public final class CallLeg {
    public enum Direction: String, Sendable { case outgoing, incoming }

    /// What `dialtone calls` shows.
    public enum State: String, Sendable {
        case calling, ringing, early, incoming, established, held, ended
    }

    public let id: Int
    public let direction: Direction
    public let line: LineRegistration
    public private(set) var state: State
    public private(set) var endReason: EndReason?
    /// The remote party (To for outgoing, From for incoming).
    public let remote: String
    /// When the 2xx/ACK made the call established (monotonic), and when the INVITE went or came.
    public private(set) var startedAt: Instant
    public private(set) var establishedAt: Instant?

    private var session: InviteSession
    private var media: OfferAnswerEngine
    private unowned let endpoint: SIPEndpoint
    private let log: (String) -> Void
    private var timers: [DialogTimer: EndpointTaskID] = [:]
    private var inviteTransaction: ClientTransactionID?
    private var digest: DigestClient?
    /// Set while the session is fed a request inside the endpoint's transaction-user callback: the
    /// server transaction does not exist yet, so responses wait for the next turn of the loop.
    private var deferResponses = false
    /// Told when the call ended (the manager forgets it; redirects start a new leg).
    var onEnded: ((CallLeg, EndReason) -> Void)?
    /// Told of every state change.
    var onChange: ((CallLeg) -> Void)?

    init(id: Int, outgoingTo target: SIPURI, line: LineRegistration, endpoint: SIPEndpoint, log: @escaping (String) -> Void) {
        self.id = id
        self.direction = .outgoing
        self.line = line
        self.endpoint = endpoint
        self.log = log
        self.remote = target.description
        self.state = .calling
        self.startedAt = endpoint.currentTime
        var random = SystemRandom()
        let contact = NameAddress(uri: .sip(Self.contactURI(line)))
        let tag = random.token(12)
        let id = random.token(20) + "@dialtone"
        self.localTag = tag
        self.ownCallID = id
        let call = OutgoingCall(target: .sip(target), from: NameAddress(uri: .sip(line.account.aor)),
                                to: NameAddress(uri: .sip(target)), callID: id,
                                localTag: tag, contact: contact)
        self.session = InviteSession(outgoing: call, configuration: Self.sessionConfiguration(endpoint))
        self.media = OfferAnswerEngine(capabilities: Self.capabilities(line), sessionID: String(UInt32.random(in: 1...UInt32.max)), sessionVersion: 1)
        if let password = line.account.password {
            digest = DigestClient(username: line.account.authUser ?? line.account.aor.user ?? "", secret: .password(password),
                                  supportedAlgorithms: line.account.algorithms)
        }
    }

    init(id: Int, incoming invite: SIPMessage, line: LineRegistration, endpoint: SIPEndpoint, log: @escaping (String) -> Void) {
        self.id = id
        self.direction = .incoming
        self.line = line
        self.endpoint = endpoint
        self.log = log
        self.remote = (try? invite.from())?.uri.description ?? "?"
        self.state = .incoming
        self.startedAt = endpoint.currentTime
        var random = SystemRandom()
        let tag = random.token(12)
        self.localTag = tag
        self.ownCallID = (try? invite.callID()) ?? ""
        self.remoteInviteTag = (try? invite.from())?.tag
        self.session = InviteSession(incomingWithLocalTag: tag, contact: NameAddress(uri: .sip(Self.contactURI(line))),
                                     configuration: Self.sessionConfiguration(endpoint))
        self.media = OfferAnswerEngine(capabilities: Self.capabilities(line), sessionID: String(UInt32.random(in: 1...UInt32.max)), sessionVersion: 1)
    }

    /// The session's timers are the endpoint's (TR-104 TimerT1/T2 reach the 2xx retransmission).
    static func sessionConfiguration(_ endpoint: SIPEndpoint) -> SessionConfiguration {
        SessionConfiguration(timers: endpoint.configuration.timers)
    }

    static func contactURI(_ line: LineRegistration) -> SIPURI {
        var uri = SIPURI(user: line.account.aor.user, host: line.contactHostValue, port: line.contactPort)
        if line.account.transport != .udp { uri.parameters.append(Parameter("transport", line.account.transport.rawValue)) }
        return uri
    }

    /// The SDP side: one audio stream with the line's codecs and RFC 4733 telephone-event. The port
    /// is where RTP will be received once the media engine exists (the issue after this one).
    static func capabilities(_ line: LineRegistration) -> LocalCapabilities {
        let audio = MediaCapability(kind: "audio", port: 40000, codecs: line.account.codecs,
                                    telephoneEvent: TelephoneEventCapability(preferredPayloadType: 101, clockRate: 8000, events: "0-16"), ptime: 20)
        let address = line.contactHost
        return LocalCapabilities(username: "dialtone", address: address, addressType: address.contains(":") ? "IP6" : "IP4", media: [audio])
    }

    var callID: String? { session.dialog?.id.callID ?? ((session.earlyDialogs.first?.id.callID)) }

    // MARK: Commands

    /// The longest a call may ring before it is given up: an incoming one gets 480, an outgoing
    /// one is cancelled (no peer, lost CANCEL or a forgotten handset must not hold the line).
    public static let maxRingSeconds: Int64 = 180
    private var ringTimer: EndpointTaskID?

    private func armRingTimer() {
        ringTimer = endpoint.schedule(at: endpoint.currentTime + .seconds(Self.maxRingSeconds)) { [weak self] in
            guard let self else { return }
            self.ringTimer = nil
            let now = self.endpoint.currentTime
            switch self.session.phase {
            case .incoming:
                self.log("call \(self.id): not answered in \(Self.maxRingSeconds) s")
                self.apply(self.session.reject(status: 480, reason: "Temporarily Unavailable (no answer)", now: now))
            case .calling:
                self.log("call \(self.id): no answer in \(Self.maxRingSeconds) s; cancelling")
                self.apply(self.session.cancel(now: now))
            default:
                break
            }
        }
    }

    func start() {
        armRingTimer()
        do {
            let offer = try media.createOffer()
            apply(session.start(offer: SessionBody(sdp: offer.serialized()), now: endpoint.currentTime))
        } catch {
            log("call \(id): cannot build the SDP offer: \(error)")
            finish(.failed(status: 500))
        }
    }

    /// Incoming INVITE (inside the transaction-user callback).
    func received(invite: SIPMessage) {
        armRingTimer()
        deferResponses = true
        apply(session.receivedRequest(invite, now: endpoint.currentTime))
        deferResponses = false
    }

    /// An in-dialog request, an ACK for our 2xx, or a CANCEL's INVITE.
    func received(request: SIPMessage, insideTransactionUser: Bool) {
        deferResponses = insideTransactionUser
        apply(session.receivedRequest(request, now: endpoint.currentTime))
        deferResponses = false
    }

    func cancelledByPeer() {
        apply(session.inviteCancelled(now: endpoint.currentTime))
    }

    public func answer() -> Bool {
        guard direction == .incoming, session.phase == .incoming else { return false }
        let now = endpoint.currentTime
        do {
            let body: SessionBody
            if let offer = pendingOffer {
                let answer = try media.createAnswer(to: try SessionDescription(parsing: offer.bytes))
                body = SessionBody(sdp: answer.answer.serialized())
            } else {
                body = SessionBody(sdp: try media.createOffer().serialized())
            }
            apply(session.answer(body, now: now))
            return true
        } catch {
            log("call \(id): the offer cannot be answered: \(error)")
            apply(session.reject(status: 488, now: now))
            return true
        }
    }

    /// Hangs up in whatever phase: CANCEL before an answer, 603 for an incoming call not answered,
    /// BYE after (a BYE that waits for the ACK of our 2xx goes when it arrives).
    public func hangUp() {
        guard state != .ended else { return }
        apply(session.hangUp(now: endpoint.currentTime))
    }

    public func hold() -> Bool {
        guard state == .established, let offer = try? media.hold() else { return false }
        return modify(session.hold(offer: SessionBody(sdp: offer.serialized()), now: endpoint.currentTime), holding: true)
    }

    public func resume() -> Bool {
        guard state == .held, let offer = try? media.resume() else { return false }
        return modify(session.resume(offer: SessionBody(sdp: offer.serialized()), now: endpoint.currentTime), holding: false)
    }

    /// A re-INVITE the session may refuse (one of ours or the peer's still pending): then the SDP
    /// engine's offer is rolled back and the command reports failure.
    private func modify(_ actions: [SessionAction], holding: Bool) -> Bool {
        guard actions.contains(where: { if case .sendRequest = $0 { return true } else { return false } }) else {
            media.rollback()
            apply(actions)
            return false
        }
        holdRequested = holding
        apply(actions)
        return true
    }

    private var holdRequested = false
    /// Whether our INVITE went to the line's own server (outbound proxy, proxy or registrar).
    private var sentViaLineServer = false
    private var pendingOffer: SessionBody?

    // MARK: Actions

    private func apply(_ actions: [SessionAction]) {
        for action in actions { perform(action) }
    }

    private func perform(_ action: SessionAction) {
        switch action {
        case .sendRequest(let request):
            send(request)
        case .sendCancel:
            if let inviteTransaction { _ = endpoint.cancel(inviteTransaction) }
        case .sendResponse(let response, let request):
            if deferResponses {
                // The endpoint, not the leg: a leg forgotten before the next turn still answers.
                let endpoint = self.endpoint
                endpoint.schedule(at: endpoint.currentTime) { [unowned endpoint] in
                    if !endpoint.forward(response, for: request) { _ = endpoint.sendResponseStatelessly(response) }
                }
            } else {
                sendResponse(response, for: request)
            }
        case .arm(let timer, let at):
            if let old = timers[timer] { endpoint.cancelScheduled(old) }
            timers[timer] = endpoint.schedule(at: at) { [weak self] in
                guard let self else { return }
                self.timers[timer] = nil
                self.apply(self.session.timerFired(timer, now: self.endpoint.currentTime))
            }
        case .disarm(let timer):
            if let old = timers.removeValue(forKey: timer) { endpoint.cancelScheduled(old) }
        case .incomingCall(let offer):
            pendingOffer = offer
            log("call \(id): incoming from \(remote) on \(line.account.name)")
            apply(session.ring(now: endpoint.currentTime))
            setState(.ringing)
        case .ringing(let early):
            if let early { receiveAnswer(early) }
            setState(.ringing)
        case .progress(let status, let early):
            if let early {
                receiveAnswer(early)
                log("call \(id): early media (\(status))")
            }
            setState(early == nil ? .ringing : .early)
        case .established(let remoteBody):
            if let remoteBody, direction == .outgoing || pendingOffer == nil { receiveAnswer(remoteBody) }
            establishedAt = endpoint.currentTime
            log("call \(id): established with \(remote)")
            setState(.established)
        case .offerReceived(let body):
            answerOffer(body)
        case .answerReceived(let body):
            if let body { receiveAnswer(body) }
            setState(holdRequested ? .held : .established)
        case .modificationFailed(let status):
            log("call \(id): re-INVITE refused (\(status)); the media stays as it was")
            media.rollback()
            holdRequested = state == .held
        case .needsCredentials(let challenge, let request):
            authorize(challenge: challenge, request: request)
        case .requestReceived(let request):
            // OPTIONS and INFO are fine; another method we know but do not take in a call is 405
            // with what we allow (§8.2.1); one we do not know at all, 501.
            let status: Int
            switch request.method {
            case .options?, .info?: status = 200
            case .refer?, .notify?, .message?, .subscribe?, .publish?, .register?: status = 405
            default: status = 501
            }
            let allow = status == 405 ? [HeaderField(name: .allow, value: "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK, INFO")] : []
            if deferResponses {
                let endpoint = self.endpoint
                endpoint.schedule(at: endpoint.currentTime) { [unowned endpoint] in _ = endpoint.respond(to: request, status: status, headers: allow) }
            } else {
                _ = endpoint.respond(to: request, status: status, headers: allow)
            }
        case .ended(let reason):
            finish(reason)
        case .ignored(let error):
            log("call \(id): ignored: \(error)")
        }
    }

    private func send(_ request: SIPMessage) {
        let initial = request.method == .invite && ((try? request.to())?.tag == nil)
        if !initial, request.method == .invite || request.method == .update {
            log("call \(id): sending \(request.method?.rawValue ?? "?") in the dialog")
        }
        // Out of dialog the request goes to the line's proxy (the server holding its registration);
        // in a dialog along the route set or to the remote target.
        // A target in the line's own domain (or a bare number) goes through the line's proxy; a
        // target elsewhere (a contact a 3xx pointed to) is reached directly, per RFC 3263.
        var destination: SIPURI? = nil
        // With an OutboundProxy configured, every out-of-dialog request goes there (§8.1.2).
        if initial, !line.account.servers.isEmpty, case .sip(let target)? = request.requestLine?.uri,
           line.account.hasOutboundProxy
            || target.host.description.lowercased() == line.account.aor.host.description.lowercased()
            || target.host.description.lowercased() == line.account.registrar.host.description.lowercased() {
            destination = line.account.servers[min(line.boundServerIndex ?? 0, line.account.servers.count - 1)]
        }
        let id = endpoint.sendRequest(request, to: destination, localPort: line.account.localPort) { [weak self] event in
            guard let self else { return }
            if request.method == .ack {
                if event.isSynthesised { self.log("call \(self.id): ACK not sent: \(event)") }
                return
            }
            if event.isSynthesised { self.log("call \(self.id): \(request.method?.rawValue ?? "?") failed: \(event)") }
            if case .provisional(let m) = event { self.apply(self.session.receivedResponse(m, now: self.endpoint.currentTime)); return }
            self.apply(self.session.receivedResponse(event.response, now: self.endpoint.currentTime))
        }
        if initial {
            inviteTransaction = id
            sentViaLineServer = destination != nil
        }
    }

    private func sendResponse(_ response: SIPMessage, for request: SIPMessage) {
        if !endpoint.forward(response, for: request) { _ = endpoint.sendResponseStatelessly(response) }
    }

    private func receiveAnswer(_ body: SessionBody) {
        guard let description = try? SessionDescription(parsing: body.bytes) else {
            log("call \(id): the answer's SDP does not parse")
            return
        }
        do {
            _ = try media.receiveAnswer(description)
        } catch {
            // A repeated answer (180 then 200 with the same SDP) is not an error worth a log line.
            if state == .calling { log("call \(id): SDP answer: \(error)") }
        }
    }

    private func answerOffer(_ body: SessionBody?) {
        let now = endpoint.currentTime
        do {
            if let body {
                let answer = try media.createAnswer(to: try SessionDescription(parsing: body.bytes))
                apply(session.answerOffer(SessionBody(sdp: answer.answer.serialized()), now: now))
                let held = answer.answer.media.first.map { $0.direction == .recvonly || $0.direction == .inactive } ?? false
                setState(held ? .held : .established)
            } else {
                apply(session.answerOffer(SessionBody(sdp: try media.createOffer().serialized()), now: now))
            }
        } catch {
            log("call \(id): offer refused: \(error)")
            apply(session.rejectOffer(status: 488, now: now))
        }
    }

    private func authorize(challenge: SIPMessage, request: SIPMessage) {
        let now = endpoint.currentTime
        let proxy = challenge.statusCode == 407
        var challenges: [DigestChallenge] = []
        for value in challenge.headers.values(proxy ? .proxyAuthenticate : .wwwAuthenticate) {
            if let c = try? DigestChallenge(parsing: value) { challenges.append(c) }
        }
        // The line's password answers only its own provider: the request went through the line's
        // server, or the realm is one its registrar used. A host a 3xx or a typed URI pointed at
        // gets no digest response to attack offline.
        let realms = Set(challenges.map(\.realm))
        guard sentViaLineServer || (!realms.isEmpty && realms.isSubset(of: Set(line.registrationRealms))) else {
            log("call \(id): challenged by \(realms.sorted().joined(separator: ", ")), not the line's provider; not answered")
            finish(.failed(status: challenge.statusCode ?? 401))
            return
        }
        guard var client = digest, let method = request.method, let uri = request.requestLine?.uri.description else {
            log("call \(id): challenged (\(challenge.statusCode ?? 0)) and the line has no credentials")
            apply(session.hangUp(now: now))
            return
        }
        digest = nil
        defer { digest = client }
        do {
            let answers = try client.respond(to: challenges, method: method.rawValue, uri: uri, body: Array(request.body))
            let name: HeaderName = proxy ? .proxyAuthorization : .authorization
            apply(session.authorize(adding: answers.map { HeaderField(name: name, value: $0.headerValue) }, now: now))
        } catch {
            log("call \(id): challenge not answerable: \(error)")
            apply(session.hangUp(now: now))
        }
    }

    private func finish(_ reason: EndReason) {
        guard state != .ended else { return }
        for (_, task) in timers { endpoint.cancelScheduled(task) }
        timers = [:]
        if let ringTimer { endpoint.cancelScheduled(ringTimer) }
        ringTimer = nil
        endReason = reason
        log("call \(id): ended (\(reason))")
        setState(.ended)
        onEnded?(self, reason)
    }

    private func setState(_ s: State) {
        guard s != state, state != .ended else { return }
        state = s
        onChange?(self)
    }

    /// Our tag in this call's dialogs (From of our INVITE, or the To tag we gave).
    let localTag: String
    /// The Call-ID of the call (ours, or the caller's).
    let ownCallID: String
    /// The caller's From tag (incoming calls).
    private var remoteInviteTag: String?

    /// Whether `request` from the peer belongs to this call: same Call-ID and our tag as its To tag
    /// (§12.2.2; two of our own lines calling each other share the Call-ID, not the tags). Without a
    /// To tag (the caller's CANCEL or a retransmitted INVITE): an incoming call with the caller's
    /// From tag.
    func owns(_ request: SIPMessage) -> Bool {
        guard let callID = try? request.callID(), callID == ownCallID else { return false }
        if let toTag = (try? request.to())?.tag { return toTag == localTag }
        return direction == .incoming && (try? request.from())?.tag == remoteInviteTag
    }
}
