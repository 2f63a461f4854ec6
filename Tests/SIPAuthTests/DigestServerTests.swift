import SIPAuth
import SIPCore
import Testing

@Suite struct DigestServerTests {
    static let secret = [UInt8](repeating: 0x5A, count: 32)
    static let t0 = Duration.seconds(1_700_000_000)

    static func users(realm: String = "example.com") -> DigestUserTable {
        var t = DigestUserTable()
        t.set(.password("s3cret"), username: "alice", realm: realm)
        t.set(.password("hunter2"), username: "bob", realm: realm)
        return t
    }

    static func server(
        algorithms: [DigestAlgorithm] = [.md5, .sha256, .sha512_256],
        qop: [DigestQop] = [.auth, .authInt],
        lifetime: Duration = .seconds(300),
        maxTracked: Int = 1024,
        userhash: Bool = false
    ) -> DigestServer {
        DigestServer(
            configuration: .init(
                realm: "example.com", algorithms: algorithms, qopOptions: qop, nonceLifetime: lifetime,
                maxTrackedNonces: maxTracked, userhash: userhash, opaque: "xyz"
            ),
            secret: secret
        )
    }

    static func client(password: String = "s3cret", algorithms: Set<DigestAlgorithm> = Set(DigestAlgorithm.allCases)) -> DigestClient {
        DigestClient(username: "alice", secret: .password(password), supportedAlgorithms: algorithms)
    }

    /// Challenges go through text and back, as on the wire.
    static func wire(_ challenges: [DigestChallenge]) throws -> [DigestChallenge] {
        try challenges.map { try DigestChallenge(parsing: $0.headerValue) }
    }

    static func wire(_ c: DigestCredentials) throws -> DigestCredentials {
        try DigestCredentials(parsing: c.headerValue)
    }

    @Test func challengesStrongestFirstWithSharedNonce() throws {
        let server = Self.server()
        let c = server.challenges(now: Self.t0)
        #expect(c.map(\.algorithm) == ["SHA-512-256", "SHA-256", "MD5"])
        #expect(Set(c.map(\.nonce)).count == 1)
        #expect(c.allSatisfy { $0.realm == "example.com" && $0.qopOptions == ["auth", "auth-int"] && !$0.stale && $0.opaque == "xyz" })
        let staleChallenges = server.challenges(now: Self.t0, stale: true)
        #expect(staleChallenges.allSatisfy { $0.stale })
        #expect(c[0].nonce.utf8.count == 64)
    }

    @Test(arguments: DigestAlgorithm.allCases, [DigestQop.auth, DigestQop.authInt])
    func clientServerRoundTrip(_ algorithm: DigestAlgorithm, _ qop: DigestQop) throws {
        var server = Self.server(algorithms: [algorithm], qop: [qop])
        var client = Self.client()
        let body = Array("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n".utf8)
        let answer = try client.respond(to: try Self.wire(server.challenges(now: Self.t0)), method: "INVITE", uri: "sip:bob@example.com", body: body)
        let creds = try Self.wire(answer[0])
        #expect(creds.algorithm == algorithm.token)
        #expect(creds.qop == qop.token)
        #expect(creds.response.utf8.count == algorithm.hashFunction.byteCount * 2)
        #expect(server.verify(creds, method: "INVITE", requestURI: "sip:bob@example.com", body: body, now: Self.t0 + .seconds(1), store: Self.users()) == .ok(username: "alice"))
        // Same nonce, next count: accepted.
        let nextOptional = client.authorize(realm: "example.com", method: "INVITE", uri: "sip:bob@example.com", body: body)
        let next = try #require(nextOptional)
        #expect(server.verify(next, method: "INVITE", body: body, now: Self.t0 + .seconds(2), store: Self.users()) == .ok(username: "alice"))
        if qop == .authInt {
            // The body is protected.
            let otherOptional = client.authorize(realm: "example.com", method: "INVITE", uri: "sip:bob@example.com", body: body)
            let other = try #require(otherOptional)
            #expect(server.verify(other, method: "INVITE", body: body + [0x20], now: Self.t0 + .seconds(2), store: Self.users()) == .wrongPassword(username: "alice"))
        }
    }

    @Test func strongestAlgorithmIsUsedEndToEnd() throws {
        var server = Self.server()
        var client = Self.client()
        let answer = try client.respond(to: server.challenges(now: Self.t0), method: "REGISTER", uri: "sip:example.com")
        #expect(answer[0].algorithm == "SHA-512-256")
        #expect(server.verify(answer[0], method: "REGISTER", now: Self.t0, store: Self.users()).isOK)
        var legacy = Self.client(algorithms: [.md5])
        let old = try legacy.respond(to: server.challenges(now: Self.t0), method: "REGISTER", uri: "sip:example.com")
        #expect(old[0].algorithm == "MD5")
        #expect(server.verify(old[0], method: "REGISTER", now: Self.t0, store: Self.users()).isOK)
    }

    @Test func wrongPasswordAndUnknownUser() throws {
        var server = Self.server()
        var client = Self.client(password: "wrong")
        let a = try client.respond(to: server.challenges(now: Self.t0), method: "REGISTER", uri: "sip:example.com")
        #expect(server.verify(a[0], method: "REGISTER", now: Self.t0, store: Self.users()) == .wrongPassword(username: "alice"))
        var stranger = DigestClient(username: "mallory", secret: .password("x"))
        let b = try stranger.respond(to: server.challenges(now: Self.t0), method: "REGISTER", uri: "sip:example.com")
        #expect(server.verify(b[0], method: "REGISTER", now: Self.t0, store: Self.users()) == .unknownUser("mallory"))
        // Wrong method: the digest covers it.
        var good = Self.client()
        let c = try good.respond(to: server.challenges(now: Self.t0), method: "REGISTER", uri: "sip:example.com")
        #expect(server.verify(c[0], method: "INVITE", now: Self.t0, store: Self.users()) == .wrongPassword(username: "alice"))
    }

    @Test func replayIsRejected() throws {
        var server = Self.server()
        var client = Self.client()
        let a = try client.respond(to: server.challenges(now: Self.t0), method: "REGISTER", uri: "sip:example.com")
        #expect(server.verify(a[0], method: "REGISTER", now: Self.t0, store: Self.users()).isOK)
        let replayed = server.verify(a[0], method: "REGISTER", now: Self.t0 + .seconds(1), store: Self.users())
        #expect(replayed == .replay)
        #expect(replayed.challengeIsStale)
        // Out-of-order counts within the window are accepted once each.
        let n2Optional = client.authorize(realm: "example.com", method: "REGISTER", uri: "sip:example.com")
        let n2 = try #require(n2Optional)
        let n3Optional = client.authorize(realm: "example.com", method: "REGISTER", uri: "sip:example.com")
        let n3 = try #require(n3Optional)
        #expect(server.verify(n3, method: "REGISTER", now: Self.t0, store: Self.users()).isOK)
        #expect(server.verify(n2, method: "REGISTER", now: Self.t0, store: Self.users()).isOK)
        #expect(server.verify(n2, method: "REGISTER", now: Self.t0, store: Self.users()) == .replay)
    }

    @Test func wrongGuessesDoNotBurnCounts() throws {
        var server = Self.server()
        var client = Self.client()
        let a = try client.respond(to: server.challenges(now: Self.t0), method: "REGISTER", uri: "sip:example.com")
        var forged = a[0]
        forged.response = String(repeating: "0", count: forged.response.utf8.count)
        #expect(server.verify(forged, method: "REGISTER", now: Self.t0, store: Self.users()) == .wrongPassword(username: "alice"))
        #expect(server.verify(a[0], method: "REGISTER", now: Self.t0, store: Self.users()).isOK)
    }

    @Test func expiredNonceIsStaleAndClientRetries() throws {
        var server = Self.server(lifetime: .seconds(30))
        var client = Self.client()
        let a = try client.respond(to: server.challenges(now: Self.t0), method: "REGISTER", uri: "sip:example.com")
        let late = Self.t0 + .seconds(31)
        let result = server.verify(a[0], method: "REGISTER", now: late, store: Self.users())
        #expect(result == .stale)
        // 401 with stale=true: the client answers without asking its user.
        let retry = try client.respond(to: try Self.wire(server.challenges(now: late, stale: result.challengeIsStale)), method: "REGISTER", uri: "sip:example.com")
        #expect(retry[0].nonce != a[0].nonce)
        #expect(retry[0].nc == "00000001")
        #expect(server.verify(retry[0], method: "REGISTER", now: late, store: Self.users()) == .ok(username: "alice"))
        // An expired nonce with a wrong password is a wrong password, not stale.
        var wrong = Self.client(password: "nope")
        let w = try wrong.respond(to: server.challenges(now: Self.t0), method: "REGISTER", uri: "sip:example.com")
        #expect(server.verify(w[0], method: "REGISTER", now: late, store: Self.users()) == .wrongPassword(username: "alice"))
        // Within the lifetime: fine.
        var fresh = Self.client()
        let f = try fresh.respond(to: server.challenges(now: Self.t0), method: "REGISTER", uri: "sip:example.com")
        #expect(server.verify(f[0], method: "REGISTER", now: Self.t0 + .seconds(30), store: Self.users()).isOK)
    }

    @Test func foreignOrTamperedNonce() throws {
        var server = Self.server()
        let other = DigestServer(configuration: .init(realm: "example.com"), secret: [UInt8](repeating: 1, count: 32))
        var client = Self.client()
        let a = try client.respond(to: other.challenges(now: Self.t0), method: "REGISTER", uri: "sip:example.com")
        #expect(server.verify(a[0], method: "REGISTER", now: Self.t0, store: Self.users()) != .ok(username: "alice"))
        var c2 = Self.client()
        let b = try c2.respond(to: server.challenges(now: Self.t0), method: "REGISTER", uri: "sip:example.com")
        var tampered = b[0]
        // Move the issue time forward: the HMAC no longer matches.
        tampered.nonce = "1" + String(tampered.nonce.dropFirst())
        #expect(server.verify(tampered, method: "REGISTER", now: Self.t0, store: Self.users()) == .invalidNonce)
        tampered.nonce = "short"
        #expect(server.verify(tampered, method: "REGISTER", now: Self.t0, store: Self.users()) == .invalidNonce)
    }

    @Test func realmAlgorithmQopOpaqueUriChecks() throws {
        var server = Self.server(algorithms: [.sha256], qop: [.auth])
        var client = Self.client()
        let good = try client.respond(to: server.challenges(now: Self.t0), method: "REGISTER", uri: "sip:example.com")[0]

        var c = good
        c.realm = "evil.com"
        #expect(server.verify(c, method: "REGISTER", now: Self.t0, store: Self.users()) == .realmMismatch("evil.com"))
        c = good
        c.algorithm = "MD5"
        #expect(server.verify(c, method: "REGISTER", now: Self.t0, store: Self.users()) == .unsupportedAlgorithm("MD5"))
        c = good
        c.qop = nil
        #expect(server.verify(c, method: "REGISTER", now: Self.t0, store: Self.users()) == .malformed("qop missing (RFC 8760 §2 requires it)"))
        c = good
        c.qop = "auth-int"
        #expect(server.verify(c, method: "REGISTER", now: Self.t0, store: Self.users()) == .malformed("qop 'auth-int' was not offered"))
        c = good
        c.nc = nil
        #expect(server.verify(c, method: "REGISTER", now: Self.t0, store: Self.users()) == .malformed("qop without nc or cnonce"))
        c = good
        c.opaque = "other"
        #expect(server.verify(c, method: "REGISTER", now: Self.t0, store: Self.users()) == .malformed("opaque does not match"))
        c = good
        #expect(server.verify(c, method: "REGISTER", requestURI: "sip:other.com", now: Self.t0, store: Self.users()) == .uriMismatch)
        c.uri = nil
        #expect(server.verify(c, method: "REGISTER", now: Self.t0, store: Self.users()) == .malformed("uri missing"))
        #expect(server.verify(good, method: "REGISTER", requestURI: "sip:example.com", now: Self.t0, store: Self.users()).isOK)
    }

    @Test func legacyQoplessNonceIsSingleUse() throws {
        var server = Self.server(algorithms: [.md5], qop: [])
        var client = Self.client()
        let challenges = server.challenges(now: Self.t0)
        #expect(challenges[0].qopOptions.isEmpty)
        let a = try client.respond(to: challenges, method: "REGISTER", uri: "sip:example.com")
        #expect(a[0].qop == nil && a[0].nc == nil && a[0].cnonce == nil)
        #expect(server.verify(a[0], method: "REGISTER", now: Self.t0, store: Self.users()).isOK)
        #expect(server.verify(a[0], method: "REGISTER", now: Self.t0, store: Self.users()) == .replay)
    }

    @Test func userhashVerification() throws {
        var server = Self.server(userhash: true)
        var client = Self.client()
        let challenges = server.challenges(now: Self.t0)
        #expect(challenges.allSatisfy { $0.userhash && $0.charset == "UTF-8" })
        let a = try client.respond(to: try Self.wire(challenges), method: "REGISTER", uri: "sip:example.com")
        #expect(a[0].userhash)
        #expect(a[0].username != "alice")
        #expect(server.verify(try Self.wire(a[0]), method: "REGISTER", now: Self.t0, store: Self.users()) == .ok(username: "alice"))
        var c = a[0]
        c.username = String(repeating: "f", count: 64)
        #expect(server.verify(c, method: "REGISTER", now: Self.t0, store: Self.users()) == .unknownUser(c.username))
    }

    @Test func storedHA1() throws {
        var users = DigestUserTable()
        let ha1 = DigestComputation.baseHA1(hash: .sha256, username: "alice", realm: "example.com", password: "s3cret")
        users.set(.ha1([.sha256: ha1]), username: "alice", realm: "example.com")
        var server = Self.server(algorithms: [.sha256, .md5])
        var client = Self.client()
        let a = try client.respond(to: server.challenges(now: Self.t0), method: "REGISTER", uri: "sip:example.com")
        #expect(server.verify(a[0], method: "REGISTER", now: Self.t0, store: users).isOK)
        var md5 = Self.client(algorithms: [.md5])
        let b = try md5.respond(to: server.challenges(now: Self.t0), method: "REGISTER", uri: "sip:example.com")
        #expect(server.verify(b[0], method: "REGISTER", now: Self.t0, store: users) == .unknownUser("alice"))
    }

    /// Bounded memory: the tracked set never exceeds the cap; an evicted nonce cannot be replayed.
    @Test func trackedNoncesAreBounded() throws {
        var server = Self.server(maxTracked: 4)
        var first: DigestCredentials?
        for i in 0..<10 {
            var client = Self.client()
            let now = Self.t0 + .milliseconds(i)
            let a = try client.respond(to: server.challenges(now: now), method: "REGISTER", uri: "sip:example.com")
            #expect(server.verify(a[0], method: "REGISTER", now: now, store: Self.users()).isOK)
            #expect(server.trackedNonceCount <= 4)
            if i == 0 { first = a[0] }
        }
        // The first nonce was evicted; replaying its credentials must not succeed.
        let replay = server.verify(try #require(first), method: "REGISTER", now: Self.t0 + .seconds(1), store: Self.users())
        #expect(replay == .stale)
    }
}
