import SIPCore
import SIPAuth
import SIPTransaction
import SIPEndpoint
import Config

/// The registrar (RFC 3261 §10.3): the transaction user logic for REGISTER, over a `LocationStore`.
///
/// Pure: the caller passes the request, its source and both clocks; it returns the decision for the
/// endpoint (`StatelessResponder.Decision`). The steps, in the RFC's order:
///
/// 1. the Request-URI must name a served domain (else 404; a proxy would rather forward it — see
///    `serves(_:)`);
/// 2. Require must only name supported extensions (`path`): 420 with Unsupported (§8.2.2.3);
/// 3. Digest authentication (§22, RFC 7616, RFC 8760) when configured: 401 with one
///    WWW-Authenticate per algorithm, `stale=true` when only the nonce was stale or replayed;
/// 4. the authenticated user must be the AOR's user: 403 (§10.3 step 4's authorization);
/// 5. the AOR (To) must be in a served domain and, when accounts are configured, one of them: 404;
/// 6–7. binding updates by `LocationStore.register` (400, 423 + Min-Expires, 500, 503);
/// 8. 200 with every current binding as a Contact with its `expires`, a `Date` (§10.3 step 8),
///    `Path` echoed when the UA supports it (RFC 3327 §5.3) and `Supported: path`.
///
/// Refusals change nothing (401, 400, 403, 404, 420, 423, 500, 503: nothing of the request is
/// applied), so they are sent statelessly (`.respondStatelessly`, as Kamailio's `sl` answers auth
/// challenges): a retransmission is decided again with the same outcome, and no transaction is held
/// for a flood of unauthenticated REGISTERs. The 200 follows a change of the store, so it runs in
/// the transaction: a retransmission gets the same response and is not applied again (where its
/// unchanged CSeq would now be refused as out of order).
public struct Registrar: Sendable {
    /// What the registrar needs from the configuration.
    public struct Configuration: Sendable {
        public var domains: ServedDomains
        /// Accounts' user names (an AOR whose user is not one of them gets 404, when there are any).
        public var users: Set<String>
        /// Digest settings; nil when REGISTER is not authenticated.
        public var digest: DigestServer.Configuration?
        public var credentials: DigestUserTable
        public var limits: LocationStore.Limits

        public init(domains: ServedDomains, users: Set<String> = [], digest: DigestServer.Configuration? = nil,
                    credentials: DigestUserTable = DigestUserTable(), limits: LocationStore.Limits = .init()) {
            self.domains = domains
            self.users = users
            self.digest = digest
            self.credentials = credentials
            self.limits = limits
        }

        /// From the validated `server` section.
        public init(_ server: ServerConfiguration) {
            let realm = server.realm
            var table = DigestUserTable()
            for account in server.accounts {
                switch account.secret {
                case .password(let p):
                    table.set(.password(p), username: account.user, realm: realm)
                case .ha1(let byHash):
                    var ha1: [DigestHashFunction: String] = [:]
                    for (name, hex) in byHash {
                        // Hash names come validated from Config: MD5, SHA-256, SHA-512-256.
                        if let algorithm = DigestAlgorithm(token: name) { ha1[algorithm.hashFunction] = hex }
                    }
                    table.set(.ha1(ha1), username: account.user, realm: realm)
                }
            }
            let algorithms = server.registrar.algorithms.compactMap(DigestAlgorithm.init(token:))
            self.init(domains: ServedDomains(server.domains),
                      users: Set(server.accounts.map(\.user)),
                      digest: server.registrar.authenticate && !algorithms.isEmpty
                          ? DigestServer.Configuration(realm: realm, algorithms: algorithms,
                                                       maxTrackedNonces: Registrar.trackedNonces) : nil,
                      credentials: table,
                      limits: LocationStore.Limits(server.registrar))
        }
    }

    /// Nonces whose counts are remembered against replay (RFC 7616 §3.4): enough for every
    /// challenge answered within seconds at thousands of REGISTERs per second (a nonce is tracked
    /// only once used), about 80 bytes each.
    public static let trackedNonces = 16_384

    public let configuration: Configuration
    public var store: LocationStore
    private var digest: DigestServer?
    /// The §8.2 / §10.3 checks (405, 420, 415, 400): only `path` is a supported extension.
    public let policy = SIPValidationPolicy(role: .registrar, supportedExtensions: ["path"])
    private let responder = StatelessResponder()

    /// - Parameters:
    ///   - store: the location store (loaded from its file, or empty); its limits are replaced by
    ///     the configuration's.
    ///   - nonceSecret: key authenticating nonces (`DigestServer.makeSecret()`; keep it across
    ///     restarts to keep outstanding nonces valid).
    public init(configuration: Configuration, store: LocationStore = LocationStore(), nonceSecret: [UInt8],
                random: DigestRandomSource = .system) {
        self.configuration = configuration
        var s = store
        s.limits = configuration.limits
        self.store = s
        self.digest = configuration.digest.map { DigestServer(configuration: $0, secret: nonceSecret, random: random) }
    }

    /// Whether a REGISTER with this Request-URI is for this registrar (§10.3 step 1); when not, a
    /// proxy forwards it to the addressed domain.
    public func serves(_ requestURI: URI) -> Bool { configuration.domains.contains(requestURI) }

    /// The decision for a REGISTER.
    ///
    /// - Parameters:
    ///   - source: where the request came from (kept with the bindings for NAT traversal).
    ///   - now: the monotonic clock (binding expiry).
    ///   - wallClock: the wall clock as time since the Unix epoch (nonces, `Date`).
    public mutating func decide(_ request: SIPMessage, source: RegistrationSource?, now: Instant, wallClock: Duration)
        -> StatelessResponder.Decision {
        guard let line = request.requestLine else { return .drop("response to nothing this element sent") }
        switch SIPValidator.validate(request, policy: policy) {
        case .drop(let why): return .drop(why)
        case .reject(let r):
            if line.method == .ack { return .absorb("malformed ACK") }
            return .respondStatelessly(status: r.status, reason: r.reason, headers: r.headers)
        case .accept: break
        }
        switch line.method {
        case .ack: return .absorb("ACK")
        case .cancel: return .cancel
        case .register: break
        default:
            return .respondStatelessly(status: 405, reason: nil,
                                       headers: [HeaderField(name: .allow, value: policy.allowedMethods.map(\.rawValue).joined(separator: ", "))])
        }
        // Step 1.
        guard serves(line.uri) else {
            return .respondStatelessly(status: 404, reason: "Not Found (domain not served here)", headers: [])
        }
        let binding: BindingRequest
        do throws(LocationStoreError) {
            binding = try BindingRequest(register: request, source: source)
        } catch {
            return .respondStatelessly(status: 400, reason: "Bad Request (\(Registrar.phrase(error.message)))", headers: [])
        }
        // Step 3: authentication; step 4: may this user change this AOR's bindings?
        if digest != nil {
            switch authenticate(request, requestURI: line.uri.description, wallClock: wallClock) {
            case .failure(let failure):
                // A retransmission of a REGISTER already accepted carries the nonce count already
                // used (a replay to the tracker): the bindings it wrote say so, and it gets the same
                // 200 again instead of a new challenge (the 200 is sent statelessly).
                if failure.replay, let bindings = store.retransmission(of: binding, now: now) {
                    return .respondStatelessly(status: 200, reason: nil,
                                               headers: okHeaders(request, bindings: bindings, now: now, wallClock: wallClock))
                }
                return failure.decision
            case .success(let username):
                guard binding.aor.user == username else {
                    return .respondStatelessly(status: 403,
                        reason: "Forbidden (\(Registrar.phrase(username)) may not register \(Registrar.phrase(binding.aor.text)))", headers: [])
                }
            }
        }
        // Step 5: the AOR must be valid for the domain.
        guard configuration.domains.hosts.contains(binding.aor.host) else {
            return .respondStatelessly(status: 404, reason: "Not Found (address-of-record not in a served domain)", headers: [])
        }
        if !configuration.users.isEmpty, !configuration.users.contains(binding.aor.user ?? "") {
            return .respondStatelessly(status: 404, reason: "Not Found", headers: [])
        }
        // Steps 6–7.
        switch store.register(binding, now: now) {
        case .failure(let error):
            var headers: [HeaderField] = []
            if let min = error.minExpires { headers.append(HeaderField(name: .minExpires, value: String(min))) }
            let reason: String
            switch error.code {
            case .intervalTooBrief: reason = "Interval Too Brief"
            case .outOfOrder: reason = "Server Internal Error (out-of-order CSeq)"
            case .tooManyContacts: reason = "Service Unavailable (too many registered contacts)"
            case .storeFull:
                reason = "Service Unavailable (location store full)"
                headers.append(HeaderField(name: .retryAfter, value: "60"))
            default: reason = "Bad Request (\(Registrar.phrase(error.message)))"
            }
            return .respondStatelessly(status: error.status, reason: reason, headers: headers)
        case .success(let bindings):
            // Statelessly, as Kamailio's registrar does (sl_send_reply): a transaction would hold every
            // REGISTER for Timer J (32 s over UDP); a retransmission is recognised by the store (same
            // Call-ID and CSeq) and answered again from the bindings.
            return .respondStatelessly(status: 200, reason: nil,
                                       headers: okHeaders(request, bindings: bindings, now: now, wallClock: wallClock))
        }
    }

    /// Step 8's 200: every current binding, Date, Path (RFC 3327 §5.3), Supported.
    private func okHeaders(_ request: SIPMessage, bindings: [Binding], now: Instant, wallClock: Duration) -> [HeaderField] {
        var headers = bindings.map { HeaderField(name: .contact, value: $0.contactHeaderValue(at: now)) }
        headers.append(HeaderField(name: .date, value: SIPDate.string(sinceEpoch: wallClock)))
        // RFC 3327 §5.3: Path goes back only to a UA that said it supports path (Kamailio's "lazy"
        // mode: stored in any case, echoed when supported).
        let supported = (try? request.optionTags(.supported)) ?? []
        if supported.contains("path") {
            for value in request.headers.values(.path) { headers.append(HeaderField(name: .path, value: value)) }
        }
        headers.append(HeaderField(name: .supported, value: "path"))
        return headers
    }

    /// The authenticated user name, or the answer to send.
    private mutating func authenticate(_ request: SIPMessage, requestURI: String, wallClock: Duration)
        -> Result<String, AuthenticationFailure> {
        guard var server = digest else { preconditionFailure("authenticate without a Digest configuration") }
        // Moved out, not copied: with `digest` still holding it, the first mutation (the nonce
        // tracker's record) would copy its whole table on every REGISTER.
        digest = nil
        defer { digest = server }
        let realm = server.configuration.realm
        var credentials: DigestCredentials?
        for value in request.headers.values(.authorization) {
            guard let c = try? DigestCredentials(parsing: value) else {
                // Another scheme, or a malformed header: look for a usable one among the others.
                continue
            }
            if c.realm == realm { credentials = c; break }
        }
        guard let credentials else { return .failure(challenge(server, wallClock: wallClock, stale: false)) }
        let result = server.verify(credentials, method: "REGISTER", requestURI: requestURI, body: Array(request.body),
                                   now: wallClock, store: configuration.credentials)
        switch result {
        case .ok(let username):
            return .success(username)
        case .uriMismatch:
            // RFC 7616 §3.4.6: the digest-uri must be the Request-URI.
            return .failure(AuthenticationFailure(decision: .respondStatelessly(status: 400,
                reason: "Bad Request (Authorization uri does not match the Request-URI)", headers: [])))
        case .malformed(let why):
            return .failure(AuthenticationFailure(decision: .respondStatelessly(status: 400,
                reason: "Bad Request (Authorization: \(Registrar.phrase(why)))", headers: [])))
        default:
            // Wrong password, unknown user, foreign nonce, algorithm not offered: challenge again
            // (stale=true when the digest was right but the nonce too old or replayed).
            var failure = challenge(server, wallClock: wallClock, stale: result.challengeIsStale)
            if case .replay = result { failure.replay = true }
            return .failure(failure)
        }
    }

    struct AuthenticationFailure: Error {
        var decision: StatelessResponder.Decision
        /// The credentials were a nonce count already used (a retransmission, or a replay).
        var replay = false
    }

    private func challenge(_ server: DigestServer, wallClock: Duration, stale: Bool) -> AuthenticationFailure {
        let headers = server.challenges(now: wallClock, stale: stale).map { HeaderField(name: .wwwAuthenticate, value: $0.headerValue) }
        return AuthenticationFailure(decision: .respondStatelessly(status: 401, reason: nil, headers: headers))
    }

    /// Reason-phrase text: printable, bounded.
    static func phrase(_ text: String) -> String {
        var out = String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
        if out.count > 100 { out = String(out.prefix(97)) + "..." }
        return out
    }
}
