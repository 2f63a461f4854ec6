import Testing
import Config
import SIPCore
import SIPServer
import SIPTransaction

@Suite struct RedirectServerTests {
    static let secret = [UInt8](repeating: 0x42, count: 32)

    /// A redirect-mode core with 101 and 102 as accounts, registration without authentication.
    func core() -> SIPServerCore {
        var registrar = ServerConfiguration.Registrar()
        registrar.authenticate = false
        let config = ServerConfiguration(mode: "redirect", domains: ["voice.lan"], registrar: registrar, accounts: [
            .init(user: "101", secret: .password("a")), .init(user: "102", secret: .password("b")),
        ])
        return SIPServerCore(configuration: config, nonceSecret: Self.secret)
    }

    func register(_ core: inout SIPServerCore, _ clock: ManualClock, user: String, contacts: [String], callID: String) throws {
        let ok = try core.answer(registerText(user: user, contacts: contacts, callID: callID), clock)
        #expect(ok?.status == 200)
    }

    func invite(_ core: inout SIPServerCore, _ clock: ManualClock, _ uri: String) throws -> Answer? {
        try core.answer(requestText("INVITE", uri: uri), clock)
    }

    @Test func oneBindingGets302WithTheContact() throws {
        var core = core()
        #expect(core.mode == .redirect)
        let clock = ManualClock()
        try register(&core, clock, user: "101", contacts: ["<sip:101@192.168.1.20:5060;transport=udp>;q=0.7;+sip.instance=\"<urn:uuid:9>\""], callID: "r1")
        let moved = try #require(try invite(&core, clock, "sip:101@voice.lan"))
        #expect(moved.status == 302)
        #expect(moved.values(.contact) == ["<sip:101@192.168.1.20:5060;transport=udp>;q=0.7"])
        // An INVITE's answer runs in its transaction (its ACK is absorbed there).
        #expect(!moved.stateless)
    }

    @Test func severalBindingsGet300InQOrder() throws {
        var core = core()
        let clock = ManualClock()
        try register(&core, clock, user: "102", contacts: ["<sip:102@192.0.2.101>;q=0.2", "<sip:102@192.0.2.102>;q=0.9", "<sip:102@192.0.2.103>"], callID: "r2")
        let choices = try #require(try invite(&core, clock, "sip:102@VOICE.LAN"))
        #expect(choices.status == 300)
        #expect(choices.values(.contact) == ["<sip:102@192.0.2.103>", "<sip:102@192.0.2.102>;q=0.9", "<sip:102@192.0.2.101>;q=0.2"])
        let message = try #require(try core.answer(requestText("MESSAGE", uri: "sip:102@voice.lan"), clock))
        #expect(message.status == 300)
        #expect(message.stateless)
    }

    @Test func knownUserWithoutBindingGets480AndUnknownUser404() throws {
        var core = core()
        var clock = ManualClock()
        #expect(try invite(&core, clock, "sip:101@voice.lan")?.status == 480)
        #expect(try invite(&core, clock, "sip:555@voice.lan")?.status == 404)
        // A binding of a user without an account redirects (registration is not authenticated here)…
        try register(&core, clock, user: "101", contacts: ["<sip:101@192.0.2.101>;expires=60"], callID: "r3")
        #expect(try invite(&core, clock, "sip:101@voice.lan")?.status == 302)
        // …until it expires.
        clock.advance(.seconds(61))
        #expect(try invite(&core, clock, "sip:101@voice.lan")?.status == 480)
    }

    @Test func ackCancelAndOtherDomainsAreNotRedirected() throws {
        var core = core()
        let clock = ManualClock()
        let store = core.registrar.store
        let ack = try request(requestText("ACK", uri: "sip:101@voice.lan"))
        #expect(isAbsorbed(core.redirect.decide(ack, store: store, now: clock.now)))
        let cancel = try request(requestText("CANCEL", uri: "sip:101@voice.lan"))
        #expect(isCancel(core.redirect.decide(cancel, store: store, now: clock.now)))
        // Foreign domain and the server itself (no user): not the redirect server's requests.
        #expect(try core.passes(requestText("INVITE", uri: "sip:101@example.com"), clock))
        #expect(try core.passes(requestText("OPTIONS", uri: "sip:voice.lan"), clock))
        #expect(answer(core.redirect.decide(try request(requestText("INVITE", uri: "sip:101@example.com")), store: store, now: clock.now))?.status == 404)
    }

    @Test func maxForwardsZeroGets483() throws {
        var core = core()
        let clock = ManualClock()
        let text = requestText("INVITE", uri: "sip:101@voice.lan").replacing("Max-Forwards: 70", with: "Max-Forwards: 0")
        #expect(try core.answer(text, clock)?.status == 483)
    }
}
