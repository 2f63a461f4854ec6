import SIPCore
import SIPDialog
import SIPEndpoint

/// The calls of the lines: placing, answering, hanging up, hold and resume; routing of in-dialog
/// requests, ACKs and CANCELs to their call; 3xx redirects followed with a limit and loop detection.
extension UserAgent {
    public enum CallError: Error, Equatable, CustomStringConvertible {
        case unknownLine(String)
        case notRegistered(String)
        case badTarget(String)
        case noCall(String)
        case notPossible(String)

        public var description: String {
            switch self {
            case .unknownLine(let l): return "no line named \(l)"
            case .notRegistered(let l): return "line \(l) is not registered"
            case .badTarget(let t): return "\(t) is not a SIP URI"
            case .noCall(let l): return "line \(l) has no call for that"
            case .notPossible(let why): return why
            }
        }
    }

    /// Places a call from line `alias` to `target` (a SIP URI; a bare user or number is taken in the
    /// line's domain).
    @discardableResult
    public func call(line alias: String, to target: String) -> Result<CallLeg, CallError> {
        guard let line = lines.first(where: { $0.account.name == alias }) else { return .failure(.unknownLine(alias)) }
        guard line.status == .up else { return .failure(.notRegistered(alias)) }
        let text = target.contains(":") ? target : "sip:" + target + "@" + line.account.aor.host.description
        guard case .sip(let uri)? = try? URI.parse(text) else { return .failure(.badTarget(target)) }
        let leg = startCall(line: line, to: uri, policy: RedirectPolicy(initialTarget: .sip(uri)))
        return .success(leg)
    }

    private func startCall(line: LineRegistration, to uri: SIPURI, policy: RedirectPolicy) -> CallLeg {
        let leg = CallLeg(id: nextCallNumber(), outgoingTo: uri, line: line, endpoint: endpoint, log: log)
        adopt(leg, redirects: policy)
        leg.start()
        return leg
    }

    /// The line's newest call that is not over.
    public func currentCall(line alias: String) -> CallLeg? {
        calls.last { $0.line.account.name == alias && $0.state != .ended }
    }

    public func answer(line alias: String) -> Result<CallLeg, CallError> {
        guard let leg = currentCall(line: alias), leg.direction == .incoming, leg.answer() else { return .failure(.noCall(alias)) }
        return .success(leg)
    }

    public func hangUp(line alias: String) -> Result<CallLeg, CallError> {
        guard let leg = currentCall(line: alias) else { return .failure(.noCall(alias)) }
        leg.hangUp()
        return .success(leg)
    }

    public func hold(line alias: String) -> Result<CallLeg, CallError> {
        guard let leg = currentCall(line: alias) else { return .failure(.noCall(alias)) }
        return leg.hold() ? .success(leg) : .failure(.notPossible("the call is not established (or already held)"))
    }

    public func resume(line alias: String) -> Result<CallLeg, CallError> {
        guard let leg = currentCall(line: alias) else { return .failure(.noCall(alias)) }
        return leg.resume() ? .success(leg) : .failure(.notPossible("the call is not on hold"))
    }

    // MARK: Incoming

    /// A request that belongs to a call (in a dialog, or the CANCEL/ACK of its INVITE), decided here;
    /// nil when it belongs to none.
    func decideForCalls(_ request: SIPMessage) -> StatelessResponder.Decision? {
        // A CANCEL is matched to its INVITE's server transaction by the endpoint (§9.2: branch and
        // all), which then hands the INVITE to `receivedCancel`.
        if request.method == .cancel { return nil }
        guard let leg = calls.first(where: { $0.state != .ended && $0.owns(request) }) else { return nil }
        if request.method == .invite, ((try? request.to())?.tag == nil) { return nil } // a new call with a reused Call-ID
        leg.received(request: request, insideTransactionUser: true)
        return .pending
    }

    /// An INVITE that passed the line's inbound policy: a new incoming call, ringing.
    func incomingCall(_ invite: SIPMessage, on line: LineRegistration) -> StatelessResponder.Decision {
        if calls.contains(where: { $0.line === line && $0.state != .ended }) {
            return .respond(status: 486, reason: "Busy Here", headers: [])
        }
        let leg = CallLeg(id: nextCallNumber(), incoming: invite, line: line, endpoint: endpoint, log: log)
        adopt(leg, redirects: nil)
        leg.received(invite: invite)
        return .pending
    }

    /// An ACK for a 2xx (no server transaction matched it).
    public func receivedACK(_ ack: SIPMessage) -> Bool {
        guard let leg = calls.first(where: { $0.state != .ended && $0.owns(ack) }) else { return false }
        leg.received(request: ack, insideTransactionUser: false)
        return true
    }

    /// A CANCEL matched a pending INVITE server transaction: true when it is one of our calls (the
    /// call answers 487 itself).
    public func receivedCancel(forInvite invite: SIPMessage) -> Bool {
        guard let leg = calls.first(where: { $0.state != .ended && $0.direction == .incoming && $0.owns(invite) }) else { return false }
        leg.cancelledByPeer()
        return true
    }

    // MARK: Bookkeeping

    private func nextCallNumber() -> Int {
        callCounter += 1
        return callCounter
    }

    private func adopt(_ leg: CallLeg, redirects: RedirectPolicy?) {
        calls.append(leg)
        var policy = redirects
        leg.onChange = { [weak self] leg in self?.onCallChange?(leg) }
        leg.onEnded = { [weak self] leg, reason in
            guard let self else { return }
            // Ended calls are kept for `dialtone calls` a while: the last 16.
            let ended = self.calls.filter { $0.state == .ended }
            if ended.count > 16, let oldest = ended.first { self.calls.removeAll { $0 === oldest } }
            if case .redirected(let targets) = reason, policy != nil {
                switch policy!.redirected(to: targets) {
                case .follow(.sip(let next)):
                    self.log("call \(leg.id): redirected to \(next)")
                    _ = self.startCall(line: leg.line, to: next, policy: policy!)
                case let decision:
                    self.log("call \(leg.id): redirect not followed (\(decision))")
                }
            }
            self.onCallChange?(leg)
        }
    }

    /// What `dialtone calls` shows.
    public var callsJSONValues: [(id: Int, line: String, direction: String, state: String, remote: String, reason: String?)] {
        calls.map { ($0.id, $0.line.account.name, $0.direction.rawValue, $0.state.rawValue, $0.remote, $0.endReason.map { "\($0)" }) }
    }
}
