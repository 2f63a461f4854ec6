import SIPCore

/// The client side of SIP Digest authentication (RFC 3261 §22.2–§22.4, RFC 7616 §3.4, RFC 8760 §2).
///
/// A value type holding the user's credentials and, per realm, the challenge being answered with
/// its nonce count. The caller feeds it the challenges of a 401/407 and gets the header values to
/// put in the retried request:
///
///     var client = DigestClient(username: "alice", secret: .password("secret"))
///     let answers = try client.respond(to: challenges, method: "REGISTER", uri: "sip:example.com")
///     // … Authorization: answers[0].headerValue; after a 2xx: client.accepted()
///
/// Rules applied:
/// - Several challenges for the same realm (RFC 8760 §2): the strongest supported algorithm
///   wins (ties go to the topmost); unsupported algorithms are ignored.
/// - Challenges for several realms (proxies and UAS, forking: RFC 3261 §22.3) are all answered,
///   one credentials value per realm, in order of first appearance.
/// - qop: `auth` when offered, `auth-int` when it is the only one offered, none when the challenge
///   has no qop (RFC 2069 form).
/// - nc starts at 1 for each new nonce and increments with each request using the same nonce.
/// - A new challenge for a realm already answered is accepted only with `stale=true`; otherwise
///   the credentials were wrong and `credentialsRejected` is thrown (call `accepted()` after a
///   request that was not challenged, so that a later re-challenge is answered again).
public struct DigestClient: Sendable {
    /// The user name (sent as is, or hashed when a challenge says `userhash=true`).
    public var username: String
    /// The password or precomputed HA1s.
    public var secret: DigestSecret
    /// When set, only challenges for this realm are answered.
    public var realm: String?
    /// The algorithms this client is willing to use.
    public var supportedAlgorithms: Set<DigestAlgorithm>
    /// Source of cnonce bytes.
    public var random: DigestRandomSource
    /// Random bytes per cnonce (sent as twice as many hex digits).
    public var cnonceByteCount: Int = 16

    /// One realm's current protection-space state.
    private struct Session: Sendable {
        var challenge: DigestChallenge
        var algorithm: DigestAlgorithm
        var qop: DigestQop?
        var cnonce: String
        var lastCount: UInt32
        /// Credentials were sent and no outcome was reported yet.
        var awaitingOutcome: Bool
    }
    private var sessions: [String: Session] = [:]

    public init(
        username: String,
        secret: DigestSecret,
        realm: String? = nil,
        supportedAlgorithms: Set<DigestAlgorithm> = Set(DigestAlgorithm.allCases),
        random: DigestRandomSource = .system
    ) {
        self.username = username
        self.secret = secret
        self.realm = realm
        self.supportedAlgorithms = supportedAlgorithms
        self.random = random
    }

    /// The qop this client would use for a challenge, or `.some(nil)` for the qop-less form; nil
    /// when the challenge only offers unknown qop values.
    static func chooseQop(_ options: [String]) -> DigestQop?? {
        if options.isEmpty { return .some(nil) }
        let known = options.compactMap(DigestQop.init(token:))
        if known.contains(.auth) { return .some(.auth) }
        if known.contains(.authInt) { return .some(.authInt) }
        return nil
    }

    /// The challenge this client would answer among `challenges` for one realm, with its algorithm.
    func select(_ challenges: [DigestChallenge]) -> (DigestChallenge, DigestAlgorithm, DigestQop?)? {
        var best: (DigestChallenge, DigestAlgorithm, DigestQop?)?
        for c in challenges {
            guard let algorithm = DigestAlgorithm(parameter: c.algorithm),
                  supportedAlgorithms.contains(algorithm),
                  secret.supports(algorithm),
                  let qop = DigestClient.chooseQop(c.qopOptions)
            else { continue }
            if best == nil || algorithm > best!.1 {
                best = (c, algorithm, qop)
            }
        }
        return best
    }

    /// Answers the challenges of a 401 (WWW-Authenticate) or 407 (Proxy-Authenticate) response.
    ///
    /// - Parameters:
    ///   - challenges: every Digest challenge of the response, in header order.
    ///   - method: the method of the request to retry (RFC 3261 §22.4: for ACK and CANCEL, the
    ///     INVITE's credentials are reused by the caller instead).
    ///   - uri: the Request-URI of the retried request, used as the digest-uri.
    ///   - body: the message body, used for qop=auth-int.
    /// - Returns: one credentials value per realm answered.
    /// - Throws: `noUsableChallenge`, or `credentialsRejected` when a realm already answered is
    ///   challenged again without `stale=true`.
    public mutating func respond(
        to challenges: [DigestChallenge], method: String, uri: String, body: [UInt8] = []
    ) throws(DigestClientError) -> [DigestCredentials] {
        var realms: [String] = []
        var byRealm: [String: [DigestChallenge]] = [:]
        for c in challenges {
            if let realm, realm != c.realm { continue }
            if byRealm[c.realm] == nil { realms.append(c.realm) }
            byRealm[c.realm, default: []].append(c)
        }
        var answers: [DigestCredentials] = []
        for r in realms {
            guard let (challenge, algorithm, qop) = select(byRealm[r]!) else { continue }
            if let previous = sessions[r], previous.awaitingOutcome, !challenge.stale {
                throw DigestClientError(
                    code: .credentialsRejected,
                    message: "realm \"\(r)\" challenged again without stale=true: wrong user name or password"
                )
            }
            sessions[r] = Session(
                challenge: challenge, algorithm: algorithm, qop: qop,
                cnonce: DigestHex.encode(random.bytes(cnonceByteCount)), lastCount: 0, awaitingOutcome: false
            )
            answers.append(next(realm: r, method: method, uri: uri, body: body))
        }
        guard !answers.isEmpty else {
            let algorithms = challenges.map { $0.algorithm ?? "MD5" }.joined(separator: ", ")
            throw DigestClientError(
                code: .noUsableChallenge,
                message: "no usable Digest challenge among \(challenges.count) (algorithms: \(algorithms))"
            )
        }
        return answers
    }

    /// Credentials for a further request in a realm already answered, reusing its nonce with the
    /// next nonce count (RFC 7616 §3.4, RFC 3261 §22.3: a UAC may pre-emptively authorize). Nil when
    /// this realm has not been challenged.
    public mutating func authorize(realm: String, method: String, uri: String, body: [UInt8] = []) -> DigestCredentials? {
        guard sessions[realm] != nil else { return nil }
        return next(realm: realm, method: method, uri: uri, body: body)
    }

    /// Reports that the request carrying the last credentials was not challenged again, so that a
    /// later challenge (for example after the server forgot its nonces) is answered again.
    public mutating func accepted() {
        for key in sessions.keys { sessions[key]!.awaitingOutcome = false }
    }

    /// Forgets all realms (new credentials, re-registration from scratch).
    public mutating func reset() {
        sessions = [:]
    }

    /// The nonce count that the next request in `realm` will carry (nil if unknown realm).
    public func nextNonceCount(realm: String) -> UInt32? {
        sessions[realm].map { $0.lastCount &+ 1 }
    }

    private mutating func next(realm: String, method: String, uri: String, body: [UInt8]) -> DigestCredentials {
        var s = sessions[realm]!
        s.lastCount &+= 1
        s.awaitingOutcome = true
        sessions[realm] = s
        let c = s.challenge
        let nc = DigestComputation.ncText(s.lastCount)
        // `select` checked that the secret supports the algorithm.
        let base = secret.baseHA1(username: username, realm: c.realm, hash: s.algorithm.hashFunction)!
        let ha1 = DigestComputation.ha1(algorithm: s.algorithm, baseHA1: base, nonce: c.nonce, cnonce: s.cnonce)
        let ha2 = DigestComputation.ha2(algorithm: s.algorithm, qop: s.qop, method: method, uri: uri, body: body)
        let response = DigestComputation.response(
            algorithm: s.algorithm, ha1: ha1, nonce: c.nonce, nc: nc, cnonce: s.cnonce, qop: s.qop, ha2: ha2
        )
        let sendsCnonce = s.qop != nil || s.algorithm.isSession
        return DigestCredentials(
            username: c.userhash
                ? DigestComputation.userhash(algorithm: s.algorithm, username: username, realm: c.realm)
                : username,
            realm: c.realm,
            nonce: c.nonce,
            uri: uri,
            response: response,
            algorithm: c.algorithm,
            cnonce: sendsCnonce ? s.cnonce : nil,
            opaque: c.opaque,
            qop: s.qop?.token,
            nc: s.qop != nil ? nc : nil,
            userhash: c.userhash
        )
    }
}
