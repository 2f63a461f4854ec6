#if canImport(Glibc)
import Glibc
#endif
import SIPAuth
import SIPCore
import SIPEndpoint
import SIPTransaction
import SIPTransport

/// One line's registration client on the endpoint (RFC 3261 §10.2): runs `RegistrationMachine`,
/// builds and sends its REGISTERs, answers digest challenges (RFC 7616/8760 through SIPAuth), learns
/// the address the registrar sees (`received`/`rport`, RFC 3581) and corrects the Contact, sends
/// keepalives to the server holding the binding, and unregisters on `stop`.
///
/// Everything runs on the signalling thread (the endpoint's loop): timers are endpoint tasks.
public final class LineRegistration {
    /// What `dialtone status` shows of a line.
    public struct Snapshot: Sendable, Equatable {
        public var name: String
        public var aor: String
        public var status: LineStatus
        public var reason: String
        /// The Contact registered (or being registered).
        public var contact: String
        /// The server (transport:address) that answered the last REGISTER, if any.
        public var server: String?
        /// Seconds the registrar granted last (0 before the first success).
        public var expires: Int
        /// Registrations that succeeded since start (first ones and refreshes).
        public var registrations: Int
    }

    public let account: LineAccount
    private unowned let endpoint: SIPEndpoint
    private var machine: RegistrationMachine
    private let log: (String) -> Void
    /// Told of every status change.
    public var onStatus: ((LineStatus, String) -> Void)?
    /// Told when the line registered (first time or again after a change), with the granted seconds.
    public var onRegistered: ((Int) -> Void)?

    // REGISTER state (§10.2: one Call-ID per registrar for the boot cycle; CSeq goes up).
    private let callID: String
    private let fromTag: String
    private var cseq: UInt32 = 0
    /// The Contact's host and port; starts as a guess, then what the registrar saw.
    public private(set) var contactHost: String
    public private(set) var contactPort: UInt16
    /// A Contact registered before the current one (the address changed): removed (expires=0) in the
    /// next REGISTER.
    private var staleContacts: [String] = []
    /// The stale Contacts the REGISTER in flight removes.
    private var removing: [String] = []
    /// Every server address that answered a REGISTER of this line (SourceFilter accepts INVITEs
    /// from any of them: an ISP's SBCs behind one SRV name send from several), at most 16.
    public private(set) var knownServerHosts: [String] = []
    private var digest: DigestClient?
    /// Credentials computed from the last challenge, for the resend: (header, value); fresh until
    /// sent once, then recomputed per realm for a further send.
    private var pendingCredentials: [(HeaderName, String)] = []
    private var pendingRealms: [String] = []
    /// The digest realms the line's registrar challenged with (calls answer only these realms when
    /// the request did not go through the line's server).
    public private(set) var registrationRealms: [String] = []
    private var pendingHeader: HeaderName = .authorization
    private var freshCredentials = false
    private var timer: EndpointTaskID?
    private var keepAliveTask: EndpointTaskID?
    private var inFlight: ClientTransactionID?
    /// OPTIONS keepalives in a row that went unanswered.
    private var keepAliveFailures = 0
    /// Where the binding lives (from the last 2xx): keepalives go there.
    public private(set) var boundTarget: SIPServerTarget?
    private var granted = 0
    /// The local address the last successful REGISTER left from (see `isAffectedByNetworkChange`).
    private var registeredSource: String?
    private var registrations = 0
    private var stopCompletion: (() -> Void)?

    public init(account: LineAccount, endpoint: SIPEndpoint, log: @escaping (String) -> Void = { _ in }) {
        self.account = account
        self.endpoint = endpoint
        self.log = log
        self.machine = RegistrationMachine(policy: account.policy, seed: account.seed)
        var random = SystemRandom()
        self.callID = random.token(20) + "@dialtone"
        self.fromTag = random.token(12)
        let guess = Self.localContactGuess(endpoint: endpoint, transport: account.transport, port: account.localPort)
        self.contactHost = guess.host
        self.contactPort = guess.port
        if account.password != nil {
            digest = DigestClient(username: account.authUser ?? account.aor.user ?? "", secret: .password(account.password ?? ""),
                                  supportedAlgorithms: account.algorithms)
        }
    }

    public var status: LineStatus { machine.status }

    /// The server group holding the binding (index into `account.servers`), if any.
    public var boundServerIndex: Int? { machine.boundServer }

    public var snapshot: Snapshot {
        Snapshot(name: account.name, aor: account.aor.description, status: machine.status, reason: machine.statusReason,
                 contact: contactURI, server: boundTarget.map { "\($0.transport.rawValue):\($0.address)" },
                 expires: granted, registrations: registrations)
    }

    /// `contactHost` as a URI host: a bare IPv6 address (from a Via or `received`) in brackets.
    public var contactHostValue: Host {
        if contactHost.contains(":") { return .ipv6(contactHost.hasPrefix("[") ? String(contactHost.dropFirst().dropLast()) : contactHost) }
        return Host.parse(contactHost) ?? .name(contactHost)
    }

    /// The Contact URI registered: the AOR's user at the address the registrar sees us at.
    public var contactURI: String {
        var uri = SIPURI(user: account.aor.user, host: contactHostValue, port: contactPort)
        if account.transport != .udp { uri.parameters.append(Parameter("transport", account.transport.rawValue)) }
        return uri.description
    }

    // MARK: Control

    public func start() { apply(machine.start(now: endpoint.currentTime)) }

    /// Whether the network change concerns this line: the source address the kernel now picks for
    /// the server holding the binding differs from the one its registration used (or that server is
    /// now unreachable, or nothing is registered). A change elsewhere (a LAN port, a tunnel coming
    /// up) leaves the line alone.
    public func isAffectedByNetworkChange() -> Bool {
        guard machine.isRegistered(now: endpoint.currentTime), let target = boundTarget, let used = registeredSource else {
            // Not registered: worth an immediate attempt only when the network was the trouble (a
            // refused account keeps its TimerLoginRejected / back-off wait).
            return machine.status == .errorNetwork || machine.status == .registering
        }
        guard let now = SIPEndpoint.routeSource(to: target.address) else { return true }
        return now != used
    }

    /// Registers again at once (the WAN link or address changed): the Contact is guessed anew from
    /// the local addresses, the registrar's view corrects it.
    public func networkChanged(reason: String) {
        let guess = Self.localContactGuess(endpoint: endpoint, transport: account.transport, port: account.localPort)
        if guess.host != contactHost || guess.port != contactPort {
            if machine.isRegistered(now: endpoint.currentTime) { noteStale(contactURI) }
            contactHost = guess.host
            contactPort = guess.port
        }
        apply(machine.registerAgain(now: endpoint.currentTime, reason: reason))
    }

    /// Unregisters (when registered) and calls `completion` once the registrar answered or the
    /// request failed (the endpoint's transaction timers bound it).
    public func stop(completion: @escaping () -> Void = {}) {
        stopCompletion = completion
        apply(machine.stop(now: endpoint.currentTime))
        if machine.isStopped { finishStop() }
    }

    private func finishStop() {
        cancelTimers()
        let done = stopCompletion
        stopCompletion = nil
        done?()
    }

    private func cancelTimers() {
        if let timer { endpoint.cancelScheduled(timer) }
        if let keepAliveTask { endpoint.cancelScheduled(keepAliveTask) }
        timer = nil
        keepAliveTask = nil
    }

    // MARK: Machine actions

    private func apply(_ actions: [RegistrationMachine.Action]) {
        for action in actions {
            switch action {
            case .send(let attempt, let server, let expires, let withCredentials):
                send(attempt: attempt, server: server, expires: expires, withCredentials: withCredentials)
            case .arm(let at):
                if let timer { endpoint.cancelScheduled(timer) }
                timer = endpoint.schedule(at: at) { [weak self] in
                    guard let self else { return }
                    self.timer = nil
                    self.apply(self.machine.timerFired(now: self.endpoint.currentTime))
                }
            case .disarm:
                if let timer { endpoint.cancelScheduled(timer) }
                timer = nil
            case .status(let status, let reason):
                log("line \(account.name): \(status.rawValue) (\(reason))")
                if status != .up, let keepAliveTask {
                    endpoint.cancelScheduled(keepAliveTask)
                    self.keepAliveTask = nil
                }
                onStatus?(status, reason)
            }
        }
    }

    private func send(attempt: UInt64, server: Int, expires: Int, withCredentials: Bool) {
        let request = makeRegister(expires: expires, withCredentials: withCredentials)
        let destination = account.servers[min(server, account.servers.count - 1)]
        let id = endpoint.sendRequest(request, to: destination, localPort: account.localPort) { [weak self] event in
            self?.handle(event, attempt: attempt, expires: expires)
        }
        inFlight = id
    }

    func makeRegister(expires: Int, withCredentials: Bool) -> SIPMessage {
        cseq &+= 1
        if !withCredentials {
            // A REGISTER without credentials: whatever came of the last credentialed one (a 500, a
            // timeout, an overtaken attempt), the next challenge is a fresh one to answer.
            digest?.accepted()
        } else if !freshCredentials {
            // Sent again with the same challenge (after a 423): a new nonce count (RFC 7616 §3.4).
            pendingCredentials = pendingRealms.compactMap { realm in
                digest?.authorize(realm: realm, method: "REGISTER", uri: account.registrar.description).map { (pendingHeader, $0.headerValue) }
            }
        }
        freshCredentials = false
        var h = SIPHeaders()
        h.append(.from, "<\(account.aor)>;tag=\(fromTag)")
        h.append(.to, "<\(account.aor)>")
        h.append(.callID, callID)
        h.append(.cseq, "\(cseq) REGISTER")
        h.append(.maxForwards, "70")
        removing = staleContacts.filter { $0 != contactURI }
        for stale in removing { h.append(.contact, "<\(stale)>;expires=0") }
        h.append(.contact, "<\(contactURI)>;expires=\(expires)")
        h.append(.expires, String(expires))
        h.append(.allow, "INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK")
        h.append(.userAgent, "Dialtone")
        if withCredentials {
            for (name, value) in pendingCredentials { h.append(name, value) }
        }
        return SIPMessage(method: .register, uri: .sip(account.registrar), headers: h)
    }

    // MARK: Responses

    private func handle(_ event: ClientTransactionEvent, attempt: UInt64, expires: Int) {
        guard event.isFinal else { return }
        let now = endpoint.currentTime
        let response = event.response
        let code = event.statusCode
        // Only the attempt the machine waits for counts: a late answer to an overtaken REGISTER
        // (network change, failover) must not move the Contact, touch the digest state or count.
        guard attempt == machine.pendingAttempt else {
            if code / 100 == 2 { digest?.accepted() }
            return
        }
        let unregistering = machine.status == .deregistering
        if !event.isSynthesised {
            learnAddress(from: response, final: code / 100 == 2)
            if let host = endpoint.responseTarget?.address.host, !knownServerHosts.contains(host) {
                knownServerHosts.append(host)
                if knownServerHosts.count > 16 { knownServerHosts.removeFirst() }
            }
        }
        let outcome: RegistrationMachine.Outcome
        switch event {
        case .timeout, .transportError:
            let detail = (event.isSynthesised ? (code == 408 ? "timeout" : "transport error") : String(code))
            outcome = .unreachable(detail: detail)
        default:
            switch code {
            case 200..<300:
                digest?.accepted()
                if expires == 0 {
                    outcome = .registered(granted: 0)
                } else {
                    outcome = .registered(granted: grantedExpires(in: response, asked: expires))
                    boundTarget = endpoint.responseTarget ?? boundTarget
                    if let target = boundTarget { registeredSource = SIPEndpoint.routeSource(to: target.address) }
                }
            case 401, 407:
                let (answerable, stale) = prepareCredentials(from: response, status: code)
                if unregistering {
                    apply(machine.unregisterChallenged(attempt: attempt, answerable: answerable, now: now))
                    if machine.isStopped { finishStop() }
                    return
                }
                outcome = .challenged(answerable: answerable, stale: stale)
            case 423:
                outcome = .intervalTooBrief(minExpires: (try? response.minExpires()).flatMap { $0 }.map { Int($0) })
            case 403:
                outcome = .forbidden
            case 408, 503:
                outcome = .unreachable(detail: String(code), retryAfter: Self.retryAfter(response))
            default:
                outcome = .failed(status: code, retryAfter: Self.retryAfter(response))
            }
        }
        let wasStopping = unregistering
        // What the status shows must be current when the machine announces Up (a reader of the
        // status file may look at once): the grant and the count first.
        if case .registered(let g) = outcome, g > 0, expires > 0 {
            granted = min(g, expires)
            registrations += 1
        }
        apply(machine.received(outcome, attempt: attempt, now: now))
        if wasStopping && machine.isStopped {
            finishStop()
            return
        }
        if case .registered(let g) = outcome, g > 0, machine.status == .up {
            // The old Contact went with this REGISTER (unless the registrar just told us of a new address).
            staleContacts.removeAll { removing.contains($0) }
            onRegistered?(g)
            scheduleKeepAlive()
            if addressChangedSinceSend {
                addressChangedSinceSend = false
                apply(machine.registerAgain(now: now, reason: "the registrar sees us at \(contactHost):\(contactPort)"))
            }
        }
    }

    /// Retry-After's delta-seconds (RFC 3261 §20.33: `120`, `120 (comment)`, `120;duration=60`).
    static func retryAfter(_ response: SIPMessage) -> Int? {
        guard let value = response.headers.values(.retryAfter).first else { return nil }
        let digits = value.drop(while: { $0 == " " }).prefix(while: { $0.isASCII && $0.isNumber })
        guard !digits.isEmpty, digits.count <= 9 else { return nil }
        return Int(digits)
    }

    /// A Contact that may still be bound: removed (expires=0) with the next REGISTERs until one of
    /// them succeeds (several address changes in a row keep every one; at most 4).
    private func noteStale(_ uri: String) {
        guard !staleContacts.contains(uri) else { return }
        staleContacts.append(uri)
        if staleContacts.count > 4 { staleContacts.removeFirst() }
    }

    /// Set when a response showed that the registrar sees another address than the Contact sent.
    private var addressChangedSinceSend = false

    /// RFC 3581 §4: the `received` and `rport` of our Via in the response are where the registrar
    /// saw the request come from. When that differs from the Contact, the Contact moves there (the
    /// old one, if it may be bound, is removed in the next REGISTER).
    private func learnAddress(from response: SIPMessage, final: Bool) {
        guard let via = try? response.topVia() else { return }
        let sentHost: String
        switch via.host {
        case .ipv4(let a), .ipv6(let a), .name(let a): sentHost = a
        }
        let host = via.received ?? sentHost
        var port = via.port ?? (account.transport == .tls ? 5061 : 5060)
        if case .some(.some(let rport)) = via.rport { port = rport }
        guard host != contactHost || port != contactPort else { return }
        // A 401 is answered with the corrected Contact anyway; a 2xx bound the old one: remove it.
        if final || machine.isRegistered(now: endpoint.currentTime) { noteStale(contactURI) }
        log("line \(account.name): the registrar sees us at \(host):\(port), Contact was \(contactHost):\(contactPort)")
        contactHost = host
        contactPort = port
        if final { addressChangedSinceSend = true }
    }

    /// §10.2.4: the expires of our Contact in the 2xx, else its Expires header, else what we asked.
    private func grantedExpires(in response: SIPMessage, asked: Int) -> Int {
        if case .addresses(let list)? = try? response.contact() {
            for address in list {
                guard case .sip(let uri) = address.uri, uri.user == account.aor.user,
                      uri.host.description.lowercased() == (contactHostValue).description.lowercased(),
                      (uri.port ?? 5060) == contactPort else { continue }
                if let e = (try? address.expires()).flatMap({ $0 }) { return Int(e) }
            }
        }
        if let e = (try? response.expires()).flatMap({ $0 }) { return Int(e) }
        return asked
    }

    /// Computes the answer to a 401/407 for the resend. Returns whether it could and whether the
    /// server said the nonce was stale.
    private func prepareCredentials(from response: SIPMessage, status: Int) -> (answerable: Bool, stale: Bool) {
        let challengeHeader: HeaderName = status == 407 ? .proxyAuthenticate : .wwwAuthenticate
        let answerHeader: HeaderName = status == 407 ? .proxyAuthorization : .authorization
        var challenges: [DigestChallenge] = []
        for value in response.headers.values(challengeHeader) {
            if let c = try? DigestChallenge(parsing: value) { challenges.append(c) }
        }
        let stale = challenges.contains { $0.stale }
        guard var client = digest, !challenges.isEmpty else { return (false, stale) }
        digest = nil
        defer { digest = client }
        do {
            let answers = try client.respond(to: challenges, method: "REGISTER", uri: account.registrar.description)
            pendingCredentials = answers.map { (answerHeader, $0.headerValue) }
            pendingRealms = answers.map(\.realm)
            for realm in pendingRealms where !registrationRealms.contains(realm) && registrationRealms.count < 8 {
                registrationRealms.append(realm)
            }
            pendingHeader = answerHeader
            freshCredentials = true
            return (!answers.isEmpty, stale)
        } catch {
            pendingCredentials = []
            // Challenged again for a realm already answered, not stale: the credentials are wrong
            // (answerable, so the machine reports them refused rather than unanswerable).
            return (error.code == .credentialsRejected, stale)
        }
    }

    // MARK: Inbound digest (InboundAuth Digest)

    public enum InboundDigestResult: Sendable, Equatable {
        case accepted
        /// Answer 401 with this WWW-Authenticate value.
        case challenge(String)
        case refused(String)
    }

    private var inboundDigest: DigestServer?

    /// Checks an INVITE's Authorization against the line's inbound credentials (MD5, what every
    /// proxy and phone answers); a missing or stale one gets a challenge.
    public func checkInboundDigest(_ request: SIPMessage, user: String, password: String) -> InboundDigestResult {
        let realm = account.aor.host.description
        var server = inboundDigest ?? DigestServer(configuration: .init(realm: realm, algorithms: [.md5]), secret: DigestServer.makeSecret())
        inboundDigest = nil
        defer { inboundDigest = server }
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let now = Duration.seconds(Int64(ts.tv_sec))
        guard let value = request.headers.values(.authorization).first,
              let credentials = try? DigestCredentials(parsing: value) else {
            return .challenge(server.challenges(now: now)[0].headerValue)
        }
        var users = DigestUserTable()
        users.set(.password(password), username: user, realm: realm)
        let uri = request.requestLine.map { $0.uri.description }
        switch server.verify(credentials, method: "INVITE", requestURI: uri, now: now, store: users) {
        case .ok: return .accepted
        case .stale: return .challenge(server.challenges(now: now, stale: true)[0].headerValue)
        case let other: return .refused("\(other)")
        }
    }

    // MARK: Keepalives

    private func scheduleKeepAlive() {
        guard account.keepAlive != .none, account.keepAliveInterval > 0 else { return }
        if let keepAliveTask { endpoint.cancelScheduled(keepAliveTask) }
        keepAliveTask = endpoint.schedule(at: endpoint.currentTime + .seconds(account.keepAliveInterval)) { [weak self] in
            self?.keepAliveTask = nil
            self?.sendKeepAlive()
        }
    }

    private func sendKeepAlive() {
        guard machine.status == .up else { return }
        switch account.keepAlive {
        case .none:
            return
        case .crlf:
            guard let target = boundTarget, endpoint.sendKeepAlive(to: target, localPort: account.localPort) else {
                // The connection to the registrar is gone (TCP/TLS): the binding's flow with it.
                apply(machine.registerAgain(now: endpoint.currentTime, reason: "connection to the registrar lost"))
                return
            }
        case .options:
            var h = SIPHeaders()
            var random = SystemRandom()
            h.append(.from, "<\(account.aor)>;tag=\(random.token(10))")
            h.append(.to, "<\(account.registrar)>")
            h.append(.callID, random.token(20) + "@dialtone")
            h.append(.cseq, "1 OPTIONS")
            h.append(.maxForwards, "70")
            // To the very server holding the binding (not the domain again: RFC 3263 would fail
            // over to another server and hide that this one is gone).
            var target = account.servers[min(machine.boundServer ?? 0, account.servers.count - 1)]
            if let bound = boundTarget {
                let host: Host = bound.address.family == AF_INET6 ? .ipv6(bound.address.host) : .ipv4(bound.address.host)
                target = SIPURI(host: host, port: bound.address.port)
                if bound.transport != .udp { target.parameters.append(Parameter("transport", bound.transport.rawValue)) }
            }
            _ = endpoint.sendRequest(SIPMessage(method: .options, uri: .sip(account.registrar), headers: h), to: target,
                                     localPort: account.localPort) { [weak self] event in
                // No answer, or the port is closed (ICMP): the server may be gone; three such in a
                // row (like an ATA's "max lost") and the line registers again. Any response, even
                // 404 or 405, shows it is there.
                guard let self, event.isFinal else { return }
                guard event.isSynthesised || event.statusCode == 503 else { self.keepAliveFailures = 0; return }
                self.keepAliveFailures += 1
                guard self.keepAliveFailures >= 3 || event.statusCode == 503 && event.isSynthesised else { return }
                self.keepAliveFailures = 0
                self.apply(self.machine.registerAgain(now: self.endpoint.currentTime, reason: "keepalive OPTIONS unanswered"))
            }
        }
        scheduleKeepAlive()
    }

    // MARK: Local address

    /// The Contact before the registrar has told us anything: the address of the bound socket for
    /// the transport, or, on a wildcard socket, the first non-loopback IPv4 address of the host
    /// (else 127.0.0.1).
    static func localContactGuess(endpoint: SIPEndpoint, transport: TransportKind, port: UInt16? = nil) -> (host: String, port: UInt16) {
        let bound = endpoint.localAddresses.first { $0.transport == transport && (port == nil || $0.address.port == port) }
            ?? endpoint.localAddresses.first { $0.transport == transport } ?? endpoint.localAddresses.first
        guard let address = bound?.address else { return ("127.0.0.1", 5060) }
        let host = address.host
        if host != "0.0.0.0" && host != "::" { return (host, address.port) }
        return (firstInterfaceAddress() ?? "127.0.0.1", address.port)
    }

    static func firstInterfaceAddress() -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return nil }
        defer { freeifaddrs(list) }
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        var loopback: String?
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let sa = entry.pointee.ifa_addr, sa.pointee.sa_family == sa_family_t(AF_INET),
                  entry.pointee.ifa_flags & UInt32(IFF_UP) != 0 else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            let ok = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin -> Bool in
                var addr = sin.pointee.sin_addr
                return inet_ntop(AF_INET, &addr, &text, socklen_t(INET_ADDRSTRLEN)) != nil
            }
            guard ok else { continue }
            let s = String(decoding: text.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if entry.pointee.ifa_flags & UInt32(IFF_LOOPBACK) != 0 { loopback = loopback ?? s } else { return s }
        }
        return loopback
    }
}

/// Random tokens for Call-IDs and tags (RFC 3261 §19.3: at least 32 bits of randomness): 12
/// characters of [a-z0-9] per 64 random bits (36¹² < 2⁶⁴), so a 20-character Call-ID costs two
/// getrandom calls, not twenty.
struct SystemRandom {
    private var generator = SystemRandomNumberGenerator()

    mutating func token(_ count: Int) -> String {
        let alphabet: StaticString = "abcdefghijklmnopqrstuvwxyz0123456789"
        var out = [UInt8]()
        out.reserveCapacity(count)
        var bits: UInt64 = 0
        var left = 0
        while out.count < count {
            if left == 0 {
                bits = generator.next()
                left = 12
            }
            out.append(alphabet.utf8Start[Int(bits % 36)])
            bits /= 36
            left -= 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
