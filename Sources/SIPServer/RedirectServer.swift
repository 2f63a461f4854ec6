import SIPCore
import SIPTransaction
import SIPEndpoint

/// The redirect server (RFC 3261 §8.3, issue 5 item 4): for a request to a user of a served domain
/// it answers where to go instead of forwarding.
///
/// - bindings: 302 Moved Temporarily with the one contact, 300 Multiple Choices with several, each
///   Contact carrying its `q` (in the location store's order: highest q first), so the caller
///   tries them in preference order (§8.1.3.4);
/// - no binding, known user (an account): 480 Temporarily Unavailable;
/// - no binding, unknown user: 404 Not Found;
/// - ACK: absorbed (the ACK to a 3xx–6xx belongs to the INVITE server transaction, §17.2.1, which
///   has absorbed it already when the transaction layer runs); CANCEL: to the transaction layer.
///
/// Pure: it reads the location store with the caller's `now`. Answers are pure functions of the
/// request and the store, so they run statelessly for non-INVITE requests; an INVITE's answer runs
/// in its transaction (§17.2.1: the ACK to it must be absorbed).
public struct RedirectServer: Sendable {
    public var domains: ServedDomains
    /// User names of the accounts (the 480/404 distinction).
    public var users: Set<String>
    /// Any method may be redirected (§8.3); the checks are those a proxy makes (§16.3: 483, 420 on
    /// Proxy-Require), since the request would otherwise have been forwarded.
    public let policy = SIPValidationPolicy(role: .proxy)

    public init(domains: ServedDomains, users: Set<String>) {
        self.domains = domains
        self.users = users
    }

    /// Whether the request is one for the redirect server: a SIP/SIPS Request-URI with a user part
    /// in a served domain. Others (requests to the server itself, foreign domains) are not its own.
    public func handles(_ request: SIPMessage) -> Bool {
        guard let uri = request.requestLine?.uri, case .sip(let sip) = uri else { return false }
        return sip.user != nil && domains.contains(sip.host)
    }

    /// The decision for a request (`handles(_:)` should be true; otherwise 404).
    public func decide(_ request: SIPMessage, store: LocationStore, now: Instant) -> StatelessResponder.Decision {
        guard let line = request.requestLine else { return .drop("response to nothing this element sent") }
        switch SIPValidator.validate(request, policy: policy) {
        case .drop(let why): return .drop(why)
        case .reject(let r):
            if line.method == .ack { return .absorb("malformed ACK") }
            return reply(line.method, r.status, r.reason, r.headers)
        case .accept: break
        }
        if line.method == .ack { return .absorb("ACK") }
        if line.method == .cancel { return .cancel }
        guard handles(request), let aor = AddressOfRecord(line.uri) else {
            return reply(line.method, 404, "Not Found (not a user of a served domain)", [])
        }
        let bindings = store.lookup(aor, now: now)
        if bindings.isEmpty {
            if users.contains(aor.user ?? "") {
                return reply(line.method, 480, "Temporarily Unavailable", [])
            }
            return reply(line.method, 404, "Not Found", [])
        }
        let contacts = bindings.map { HeaderField(name: .contact, value: RedirectServer.contactValue($0)) }
        return bindings.count == 1
            ? reply(line.method, 302, "Moved Temporarily", contacts)
            : reply(line.method, 300, "Multiple Choices", contacts)
    }

    /// The contact URI with its q (other Contact parameters, like `+sip.instance`, describe the
    /// registration, not the target, and are left out).
    static func contactValue(_ b: Binding) -> String {
        var params: [Parameter] = []
        if let q = b.contact.parameters.parameter("q").flatMap({ $0 }) { params.append(Parameter("q", q)) }
        return NameAddress(uri: b.contact.uri, parameters: params, bracketed: true).description
    }

    private func reply(_ method: SIPMethod, _ status: Int, _ reason: String?, _ headers: [HeaderField]) -> StatelessResponder.Decision {
        method == .invite
            ? .respond(status: status, reason: reason, headers: headers)
            : .respondStatelessly(status: status, reason: reason, headers: headers)
    }
}
