import Testing
import Config
import SIPAuth
import SIPCore
import SIPServer
import SIPTransaction

@Suite struct RegistrarTests {
    static let secret = [UInt8](repeating: 0x42, count: 32)
    static let random = DigestRandomSource.repeating([1, 2, 3, 4, 5, 6, 7, 8, 9])

    func registrar(authenticate: Bool = true, algorithms: [DigestAlgorithm] = [.sha256, .md5],
                   limits: LocationStore.Limits = .init()) -> Registrar {
        var users = DigestUserTable()
        users.set(.password("secret101"), username: "101", realm: "voice.lan")
        users.set(.password("secret102"), username: "102", realm: "voice.lan")
        let configuration = Registrar.Configuration(
            domains: ServedDomains(["voice.lan", "192.168.1.1"]),
            users: ["101", "102"],
            digest: authenticate ? DigestServer.Configuration(realm: "voice.lan", algorithms: algorithms, nonceLifetime: .seconds(300)) : nil,
            credentials: users,
            limits: limits)
        return Registrar(configuration: configuration, nonceSecret: Self.secret, random: Self.random)
    }

    func challenges(_ a: Answer) throws -> [DigestChallenge] {
        try a.values(.wwwAuthenticate).map { try DigestChallenge(parsing: $0) }
    }

    /// Sends `text` unauthenticated, answers the 401 with `client`, returns the answer to the retry.
    func authorized(_ registrar: inout Registrar, client: inout DigestClient, clock: ManualClock,
                    first: String, retry: (String) -> String) throws -> Answer? {
        let challenge = try registrar.answer(first, clock)
        #expect(challenge.status == 401)
        let credentials = try client.respond(to: challenges(challenge), method: "REGISTER", uri: "sip:voice.lan")
        let header = try #require(credentials.first).headerValue
        return try registrar.answer(retry(header), clock)
    }

    @Test func challengeThenAuthorizedRegisterGets200() throws {
        var registrar = registrar()
        var client = DigestClient(username: "101", secret: .password("secret101"), random: Self.random)
        let clock = ManualClock()
        let first = try registrar.answer(registerText(cseq: 1), clock)
        #expect(first.status == 401)
        #expect(first.stateless)
        let offered = try challenges(first)
        #expect(offered.map(\.algorithm) == ["SHA-256", "MD5"])
        #expect(Set(offered.map(\.nonce)).count == 1)
        #expect(offered.allSatisfy { $0.realm == "voice.lan" && !$0.stale && $0.qopOptions == ["auth"] })
        #expect(registrar.store.count == 0)

        let credentials = try client.respond(to: offered, method: "REGISTER", uri: "sip:voice.lan")
        let retry = registerText(contacts: ["<sip:101@192.168.1.20:5060>;q=0.9"], expires: 1800, cseq: 2,
                                 extra: ["Authorization: " + credentials[0].headerValue])
        let source = RegistrationSource(transport: "UDP", host: "192.168.1.20", port: 5060)
        let ok = try registrar.answer(retry, clock, source: source)
        #expect(ok.status == 200)
        #expect(ok.stateless, "a registrar answers statelessly; retransmissions are recognised by the store")
        #expect(ok.values(.contact) == ["<sip:101@192.168.1.20:5060>;q=0.9;expires=1800"])
        #expect(ok.values(.date) == ["Tue, 14 Nov 2023 22:13:20 GMT"])
        #expect(ok.values(.supported) == ["path"])
        let stored = registrar.store.lookup(AddressOfRecord(text: "sip:101@voice.lan")!, now: clock.now)
        #expect(stored.first?.source == source)
        // The same authorized REGISTER again (its 200 was lost): the nonce count is used, but the
        // bindings show it is a retransmission, so the same 200 rather than a new challenge.
        let again = try registrar.answer(retry, clock, source: source)
        #expect(again.status == 200)
        #expect(again.values(.contact) == ["<sip:101@192.168.1.20:5060>;q=0.9;expires=1800"])
        // A different request with the used nonce count is still a replay: challenged, stale.
        let replayed = registerText(contacts: ["<sip:101@192.168.1.20:5060>;q=0.9"], expires: 1800, cseq: 3,
                                    extra: ["Authorization: " + credentials[0].headerValue])
        #expect(try registrar.answer(replayed, clock, source: source).status == 401)
    }

    @Test func everyBindingIsListedWithItsOwnExpires() throws {
        var registrar = registrar(authenticate: false)
        var clock = ManualClock()
        _ = try registrar.answer(registerText(contacts: ["<sip:101@192.0.2.101>"], expires: 600, callID: "a", cseq: 1), clock)
        clock.advance(.seconds(100))
        let ok = try registrar.answer(registerText(contacts: ["<sip:101@192.0.2.102>;q=0.5"], expires: 300, callID: "b", cseq: 1), clock)
        #expect(ok.status == 200)
        #expect(ok.values(.contact) == ["<sip:101@192.0.2.101>;expires=500", "<sip:101@192.0.2.102>;q=0.5;expires=300"])
        #expect(ok.values(.date) == [SIPDate.string(sinceEpoch: clock.wall)])
        // A query (no Contact) lists them too and changes nothing.
        clock.advance(.seconds(50))
        let query = try registrar.answer(registerText(contacts: [], callID: "q", cseq: 1), clock)
        #expect(query.status == 200)
        #expect(query.values(.contact) == ["<sip:101@192.0.2.101>;expires=450", "<sip:101@192.0.2.102>;q=0.5;expires=250"])
    }

    @Test func wrongPasswordIsChallengedAgain() throws {
        var registrar = registrar()
        var client = DigestClient(username: "101", secret: .password("wrong"), random: Self.random)
        let clock = ManualClock()
        let again = try authorized(&registrar, client: &client, clock: clock, first: registerText(cseq: 1)) { header in
            registerText(cseq: 2, extra: ["Authorization: " + header])
        }
        #expect(again?.status == 401)
        #expect(try again.map(challenges)?.allSatisfy { !$0.stale } == true)
        #expect(registrar.store.count == 0)
    }

    @Test func anotherUsersAORIsForbidden() throws {
        var registrar = registrar()
        // 102 authenticates correctly but tries to bind 101's address-of-record (§10.3 step 3).
        var client = DigestClient(username: "102", secret: .password("secret102"), random: Self.random)
        let clock = ManualClock()
        let forbidden = try authorized(&registrar, client: &client, clock: clock, first: registerText(user: "101", cseq: 1)) { header in
            registerText(user: "101", cseq: 2, extra: ["Authorization: " + header])
        }
        #expect(forbidden?.status == 403)
        #expect(registrar.store.count == 0)
    }

    @Test func expiredNonceGetsStaleChallenge() throws {
        var registrar = registrar()
        var client = DigestClient(username: "101", secret: .password("secret101"), random: Self.random)
        var clock = ManualClock()
        let ok = try authorized(&registrar, client: &client, clock: clock, first: registerText(cseq: 1)) { header in
            registerText(cseq: 2, extra: ["Authorization: " + header])
        }
        #expect(ok?.status == 200)
        client.accepted()
        // Refresh with the same nonce after its lifetime: stale=true, the client retries silently.
        clock.advance(.seconds(301))
        let reused = client.authorize(realm: "voice.lan", method: "REGISTER", uri: "sip:voice.lan")
        let credentials = try #require(reused)
        let stale = try registrar.answer(registerText(cseq: 3, extra: ["Authorization: " + credentials.headerValue]), clock)
        #expect(stale.status == 401)
        #expect(try challenges(stale).allSatisfy(\.stale))
        let fresh = try client.respond(to: challenges(stale), method: "REGISTER", uri: "sip:voice.lan")
        let retried = try registrar.answer(registerText(cseq: 4, extra: ["Authorization: " + fresh[0].headerValue]), clock)
        #expect(retried.status == 200)
    }

    @Test func md5OnlyClientIsAccepted() throws {
        var registrar = registrar()
        var client = DigestClient(username: "101", secret: .password("secret101"), supportedAlgorithms: [.md5], random: Self.random)
        let clock = ManualClock()
        let ok = try authorized(&registrar, client: &client, clock: clock, first: registerText(cseq: 1)) { header in
            registerText(cseq: 2, extra: ["Authorization: " + header])
        }
        #expect(ok?.status == 200)
    }

    @Test func foreignDomainsAndUnknownUsersGet404() throws {
        var registrar = registrar(authenticate: false)
        let clock = ManualClock()
        let foreign = try registrar.answer(registerText(domain: "example.com"), clock)
        #expect(foreign.status == 404)
        #expect(!registrar.serves(try URI.parse("sip:example.com")))
        #expect(registrar.serves(try URI.parse("sip:192.168.1.1:5060")))
        let aorElsewhere = try registrar.answer(registerText(domain: "example.com", requestURI: "sip:voice.lan"), clock)
        #expect(aorElsewhere.status == 404)
        let unknown = try registrar.answer(registerText(user: "999"), clock)
        #expect(unknown.status == 404)
        // The other domain name of the same server works for a known user.
        let ok = try registrar.answer(registerText(domain: "192.168.1.1"), clock)
        #expect(ok.status == 200)
    }

    @Test func briefIntervalGets423WithMinExpires() throws {
        var registrar = registrar(authenticate: false, limits: .init(minExpires: 120, defaultExpires: 600, maxExpires: 3600))
        let clock = ManualClock()
        let brief = try registrar.answer(registerText(expires: 30), clock)
        #expect(brief.status == 423)
        #expect(brief.values(.minExpires) == ["120"])
        let clamped = try registrar.answer(registerText(expires: 99_999, cseq: 2), clock)
        #expect(clamped.values(.contact) == ["<sip:101@192.168.1.20:5060>;expires=3600"])
    }

    @Test func wildcardAndOrderingErrorsHaveTheirCodes() throws {
        var registrar = registrar(authenticate: false)
        let clock = ManualClock()
        _ = try registrar.answer(registerText(cseq: 5), clock)
        let noZero = try registrar.answer(registerText(contacts: ["*"], expires: 60, cseq: 6), clock)
        #expect(noZero.status == 400)
        let old = try registrar.answer(registerText(contacts: ["*"], expires: 0, cseq: 4), clock)
        #expect(old.status == 500)
        #expect(registrar.store.count == 1)
        // The CSeq of the REGISTER that wrote the binding: its retransmission, answered 200, nothing removed.
        let same = try registrar.answer(registerText(contacts: ["*"], expires: 0, cseq: 5), clock)
        #expect(same.status == 200)
        #expect(registrar.store.count == 1)
        let removed = try registrar.answer(registerText(contacts: ["*"], expires: 0, cseq: 6), clock)
        #expect(removed.status == 200)
        #expect(removed.values(.contact).isEmpty)
        #expect(registrar.store.count == 0)
    }

    @Test func tooManyContactsGets503() throws {
        var registrar = registrar(authenticate: false, limits: .init(maxContactsPerAOR: 1, maxBindings: 10))
        let clock = ManualClock()
        let two = registerText(contacts: ["<sip:101@192.0.2.101>", "<sip:101@192.0.2.102>"])
        let refused = try registrar.answer(two, clock)
        #expect(refused.status == 503)
        #expect(registrar.store.count == 0)
    }

    @Test func pathIsEchoedOnlyToAUAThatSupportsIt() throws {
        var registrar = registrar(authenticate: false)
        let clock = ManualClock()
        let withSupport = registerText(cseq: 1, extra: ["Supported: path, outbound", "Path: <sip:edge.lan;lr>"])
        let ok = try registrar.answer(withSupport, clock)
        #expect(ok.status == 200)
        #expect(ok.values(.path) == ["<sip:edge.lan;lr>"])
        let without = registerText(cseq: 2, extra: ["Path: <sip:edge.lan;lr>"])
        let ok2 = try registrar.answer(without, clock)
        #expect(ok2.status == 200)
        #expect(ok2.values(.path).isEmpty)
        // Stored in both cases, for the proxy.
        #expect(registrar.store.lookup(AddressOfRecord(text: "sip:101@voice.lan")!, now: clock.now).first?.path.map(\.description) == ["<sip:edge.lan;lr>"])
    }

    @Test func unsupportedRequireGets420() throws {
        var registrar = registrar(authenticate: false)
        let clock = ManualClock()
        let a = try registrar.answer(registerText(extra: ["Require: gruu"]), clock)
        #expect(a.status == 420)
        #expect(a.values(.unsupported) == ["gruu"])
        let pathRequired = try registrar.answer(registerText(extra: ["Require: path"]), clock)
        #expect(pathRequired.status == 200)
    }

    @Test func configurationFromTheServerSection() throws {
        let config = ServerConfiguration(domains: ["voice.lan"], accounts: [
            .init(user: "101", secret: .password("secret101")),
        ])
        var core = SIPServerCore(configuration: config, nonceSecret: Self.secret, random: Self.random)
        #expect(core.mode == .statefulProxy)
        var client = DigestClient(username: "101", secret: .password("secret101"), random: Self.random)
        let clock = ManualClock()
        let challenge = try #require(try core.answer(registerText(cseq: 1), clock))
        #expect(challenge.status == 401)
        let credentials = try client.respond(to: challenges(challenge), method: "REGISTER", uri: "sip:voice.lan")
        let ok = try #require(try core.answer(registerText(cseq: 2, extra: ["Authorization: " + credentials[0].headerValue]), clock))
        #expect(ok.status == 200)
        // Not the server roles' business in proxy mode: REGISTER elsewhere, INVITEs, OPTIONS to the server.
        #expect(try core.passes(registerText(domain: "example.com"), clock))
        #expect(try core.passes(requestText("INVITE", uri: "sip:101@voice.lan"), clock))
    }
}
