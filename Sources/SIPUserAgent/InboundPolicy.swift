import SIPAuth
import SIPCore
import SIPEndpoint
import SIPTransport

/// Which requests reach a line, and the INVITE policy (TR-104 `InboundAuth`; features.md: "by
/// default accept INVITEs only from the registered proxy").
extension UserAgent {
    /// The line a request is addressed to: its Request-URI is the line's registered Contact (the
    /// registrar put it there: user, host and port), nil otherwise — a request for the same user at
    /// another address (a LAN phone of the embedded registrar) is not the line's.
    public func line(for request: SIPMessage) -> LineRegistration? {
        guard case .sip(let uri)? = request.requestLine?.uri, let user = uri.user else { return nil }
        let host: String
        switch uri.host {
        case .ipv4(let a), .ipv6(let a), .name(let a): host = a.lowercased()
        }
        let port = uri.port ?? (uri.isSecure ? 5061 : 5060)
        return lines.first { $0.account.aor.user == user && $0.contactHost.lowercased() == host && $0.contactPort == port }
    }

    /// The decision for a request from outside addressed to a line, or nil when it is not for a line
    /// (the caller then applies its own: the server roles or the stateless policy).
    ///
    /// - An initial INVITE passes the line's inbound policy first: `sourceFilter` wants a registered
    ///   line and the packet's source address to be one of the servers that answered its REGISTERs
    ///   (an ISP's SBCs behind one name may send from several); `digest` challenges (401) and checks the credentials; anything refused
    ///   gets 403 and a log line naming the source.
    /// - An accepted INVITE goes to `onIncomingCall` when set, else it becomes a ringing call (486
    ///   when the line has a call already).
    /// - Requests of a call (in its dialog) go to that call.
    public func decide(_ request: SIPMessage, source: RequestSource?) -> StatelessResponder.Decision? {
        if let decision = decideForCalls(request) { return decision }
        guard let line = line(for: request) else { return nil }
        guard request.method == .invite, (try? request.to())?.tag == nil else {
            // In-dialog requests for no call we know (§12.2.2).
            if (try? request.to())?.tag != nil, request.method != .ack {
                return .respond(status: 481, reason: "Call/Transaction Does Not Exist", headers: [])
            }
            return nil
        }
        let from = source.map { $0.address.description } ?? "?"
        switch line.account.inbound {
        case .none:
            break
        case .sourceFilter:
            guard let source, line.boundTarget != nil, line.status == .up,
                  line.knownServerHosts.contains(source.address.host) else {
                log("line \(line.account.name): INVITE from \(from) refused: not the registrar \(line.boundTarget.map { $0.address.description } ?? "(not registered)") (InboundAuth SourceFilter)")
                return .respond(status: 403, reason: "Forbidden (not from the registrar)", headers: [])
            }
        case .digest(let user, let password):
            switch line.checkInboundDigest(request, user: user, password: password) {
            case .accepted: break
            case .challenge(let header):
                return .respond(status: 401, reason: nil, headers: [HeaderField(name: .wwwAuthenticate, value: header)])
            case .refused(let why):
                log("line \(line.account.name): INVITE from \(from) refused: \(why) (InboundAuth Digest)")
                return .respond(status: 403, reason: "Forbidden", headers: [])
            }
        }
        if let onIncomingCall { return onIncomingCall(line, request) }
        return incomingCall(request, on: line)
    }
}
