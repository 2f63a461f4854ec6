import SIPCore

/// The server side of SIP Digest authentication (RFC 3261 §22.1, §22.3, §22.4; RFC 7616 §3.3,
/// §3.4, §5.4; RFC 8760 §2), for a registrar or proxy.
///
/// Pure: the caller passes `now` as the time elapsed since an epoch of its choosing (use the wall
/// clock's Unix epoch so that nonces stay valid across a restart, given the same `secret`).
///
///     var server = DigestServer(configuration: .init(realm: "example.com"), secret: key)
///     // no credentials: 401 with one WWW-Authenticate per challenge
///     server.challenges(now: now).map(\.headerValue)
///     // with credentials:
///     switch server.verify(creds, method: "REGISTER", requestURI: uri, now: now, store: users) {
///     case .ok(let user): …
///     case let failure: 401 with server.challenges(now: now, stale: failure.challengeIsStale)
///     }
///
/// Nonces are stateless (`DigestNonce`: issue time + random + HMAC). Only nonce counts are kept,
/// for replay detection, with bounded memory (`DigestNonceTracker`).
public struct DigestServer: Sendable {
    public var configuration: Configuration
    private let secret: [UInt8]
    private let random: DigestRandomSource
    private var tracker: DigestNonceTracker

    /// - Parameters:
    ///   - secret: key authenticating nonces; at least 16 random bytes (see `makeSecret()`).
    ///   - random: source of the random part of nonces.
    public init(configuration: Configuration, secret: [UInt8], random: DigestRandomSource = .system) {
        precondition(secret.count >= 16, "the nonce secret must be at least 16 bytes")
        self.configuration = configuration
        self.secret = secret
        self.random = random
        self.tracker = DigestNonceTracker(capacity: configuration.maxTrackedNonces)
    }

    /// 32 bytes from OpenSSL's CSPRNG, for `init(configuration:secret:)`.
    public static func makeSecret(random: DigestRandomSource = .system) -> [UInt8] {
        random.bytes(32)
    }

    /// Number of nonces whose counts are tracked (for tests and metrics).
    public var trackedNonceCount: Int { tracker.count }

    static func milliseconds(_ d: Duration) -> Int64 {
        let (seconds, attoseconds) = d.components
        return seconds &* 1000 &+ attoseconds / 1_000_000_000_000_000
    }

    /// A fresh nonce issued at `now`.
    public func makeNonce(now: Duration) -> String {
        DigestNonce(issuedMilliseconds: DigestServer.milliseconds(now), random: random.bytes(8))
            .text(secret: secret, realm: configuration.realm)
    }

    /// The challenges for a 401/407: one per configured algorithm, strongest first (RFC 8760 §2),
    /// all carrying the same fresh nonce.
    ///
    /// - Parameter stale: set when the previous attempt failed only because of its nonce
    ///   (`DigestVerification.challengeIsStale`).
    public func challenges(now: Duration, stale: Bool = false) -> [DigestChallenge] {
        let nonce = makeNonce(now: now)
        var seen = Set<DigestAlgorithm>()
        let algorithms = configuration.algorithms.filter { seen.insert($0).inserted }.sorted(by: >)
        return algorithms.map { algorithm in
            DigestChallenge(
                realm: configuration.realm,
                domain: configuration.domain,
                nonce: nonce,
                opaque: configuration.opaque,
                stale: stale,
                algorithm: algorithm.token,
                qopOptions: configuration.qopOptions.map(\.token),
                userhash: configuration.userhash,
                charset: configuration.userhash ? "UTF-8" : nil
            )
        }
    }

    /// Checks credentials received in an Authorization or Proxy-Authorization header.
    ///
    /// The nonce count is recorded only when the digest is correct, so guesses cannot burn counts.
    ///
    /// - Parameters:
    ///   - method: the request's method.
    ///   - requestURI: the request's Request-URI as text; when given, `uri` must equal it.
    ///   - body: the message body (for qop=auth-int).
    ///   - store: where user secrets come from.
    public mutating func verify(
        _ credentials: DigestCredentials,
        method: String,
        requestURI: String? = nil,
        body: [UInt8] = [],
        now: Duration,
        store: some DigestCredentialStore
    ) -> DigestVerification {
        let c = credentials
        guard c.realm == configuration.realm else { return .realmMismatch(c.realm) }
        guard let algorithm = DigestAlgorithm(parameter: c.algorithm), configuration.algorithms.contains(algorithm) else {
            return .unsupportedAlgorithm(c.algorithm ?? "MD5")
        }
        let qop: DigestQop?
        if let token = c.qop {
            guard let q = DigestQop(token: token), configuration.qopOptions.contains(q) else {
                return .malformed("qop '\(token)' was not offered")
            }
            guard c.nc != nil, c.cnonce != nil else { return .malformed("qop without nc or cnonce") }
            qop = q
        } else {
            guard configuration.qopOptions.isEmpty else { return .malformed("qop missing (RFC 8760 §2 requires it)") }
            qop = nil
        }
        let count: UInt32
        if qop != nil {
            guard let n = c.nonceCount, n > 0 else { return .malformed("nc must be a non-zero 8-hex-digit count") }
            count = n
        } else {
            count = 1
        }
        if algorithm.isSession, c.cnonce == nil { return .malformed("\(algorithm.token) requires cnonce") }
        if let opaque = configuration.opaque, c.opaque != opaque { return .malformed("opaque does not match") }
        guard let uri = c.uri else { return .malformed("uri missing") }
        if let requestURI, requestURI != uri { return .uriMismatch }
        guard let nonce = DigestNonce(text: c.nonce, secret: secret, realm: configuration.realm) else {
            return .invalidNonce
        }

        let username: String
        if c.userhash {
            guard let resolved = store.username(userhash: c.username, realm: c.realm, algorithm: algorithm) else {
                return .unknownUser(c.username)
            }
            username = resolved
        } else {
            username = c.username
        }
        guard let userSecret = store.secret(username: username, realm: c.realm),
              let base = userSecret.baseHA1(username: username, realm: c.realm, hash: algorithm.hashFunction)
        else {
            return .unknownUser(username)
        }
        let cnonce = c.cnonce ?? ""
        let ha1 = DigestComputation.ha1(algorithm: algorithm, baseHA1: base, nonce: c.nonce, cnonce: cnonce)
        let ha2 = DigestComputation.ha2(algorithm: algorithm, qop: qop, method: method, uri: uri, body: body)
        let expected = DigestComputation.response(
            algorithm: algorithm, ha1: ha1, nonce: c.nonce, nc: c.nc ?? "", cnonce: cnonce, qop: qop, ha2: ha2
        )
        guard DigestHex.constantTimeEqual(expected, c.response) else { return .wrongPassword(username: username) }

        let nowMs = DigestServer.milliseconds(now)
        let lifetime = DigestServer.milliseconds(configuration.nonceLifetime)
        // A nonce from the future means the clock stepped back: treat it as stale too.
        if nowMs - nonce.issuedMilliseconds > lifetime || nonce.issuedMilliseconds > nowMs + 1000 {
            return .stale
        }
        switch tracker.check(nonce: c.nonce, issued: nonce.issuedMilliseconds, count: count) {
        case .replay: return .replay
        case .historyLost: return .stale
        case .fresh: break
        }
        tracker.record(nonce: c.nonce, issued: nonce.issuedMilliseconds, count: count, now: nowMs, lifetime: lifetime)
        return .ok(username: username)
    }
}
