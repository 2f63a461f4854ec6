#if canImport(Glibc)
import Glibc
#endif
import Testing
import DialtoneTestKit

/// Calls between real baresip phones through dialtoned's proxies (issue 5): each phone registers with
/// digest and uses dialtoned as its outbound proxy, as a LAN phone would; the stateful proxy forks to
/// every contact of an AOR; Kamailio sits in front of dialtoned for one test; a SIPp caller and
/// answerer run several calls through it.
@Suite("dialtoned proxies with real peers", .serialized)
struct ProxyInteropTests {
    /// A phone for `user` registered at `daemon` (REGISTER_OK required).
    static func registeredPhone(_ user: String, at daemon: Dialtoned, answerMode: Baresip.AnswerMode = .manual,
                                sipTrace: Bool = false) throws -> Baresip {
        let phone = try Baresip(accounts: [RegistrarRedirectInteropTests.account(user, password: "secret", on: daemon, answerMode: answerMode)],
                                sipTrace: sipTrace)
        let event = phone.waitForEvent(["REGISTER_OK", "REGISTER_FAIL"], timeout: 15)
        if event?.type != "REGISTER_OK" { phone.stop() }
        try #require(event?.type == "REGISTER_OK", "\(user): \(phone.historySummary)\n\(daemon.output)")
        return phone
    }

    static func proxySetup(_ mode: String) -> ServerSetup {
        var setup = ServerSetup()
        setup.mode = mode
        setup.accounts = [("alice", "secret"), ("bob", "secret"), ("carol", "secret")]
        return setup
    }

    /// alice calls bob through the stateful proxy: bob's phone rings (CALL_INCOMING), alice hears
    /// ringing (180 relayed), bob answers, both are established (2xx relayed, ACK end to end along
    /// the Record-Route), bob hangs up and alice's call closes (BYE routed back through dialtoned).
    @Test func callThroughTheStatefulProxy() throws {
        try requireBaresip()
        let daemon = try Dialtoned(Self.proxySetup("stateful-proxy"))
        defer { daemon.stop() }
        let alice = try Self.registeredPhone("alice", at: daemon)
        defer { alice.stop() }
        let bob = try Self.registeredPhone("bob", at: daemon)
        defer { bob.stop() }
        try runCall(from: alice, to: bob, calleeAOR: "sip:bob@127.0.0.1", daemon: daemon)
    }

    /// The same call through the stateless proxy (§16.11).
    @Test func callThroughTheStatelessProxy() throws {
        try requireBaresip()
        let daemon = try Dialtoned(Self.proxySetup("stateless-proxy"))
        defer { daemon.stop() }
        let alice = try Self.registeredPhone("alice", at: daemon)
        defer { alice.stop() }
        let bob = try Self.registeredPhone("bob", at: daemon)
        defer { bob.stop() }
        try runCall(from: alice, to: bob, calleeAOR: "sip:bob@127.0.0.1", daemon: daemon)
    }

    /// Forking: two phones registered for bob; alice's call rings both; the second one answers; alice
    /// is connected to it, and the first one's ringing ends (dialtoned CANCELs its branch) without
    /// ever being established. Then alice hangs up and the answering phone's call closes.
    @Test func forkingRingsBothAndCancelsTheOther() throws {
        try requireBaresip()
        let daemon = try Dialtoned(Self.proxySetup("stateful-proxy"))
        defer { daemon.stop() }
        let alice = try Self.registeredPhone("alice", at: daemon)
        defer { alice.stop() }
        let desk = try Self.registeredPhone("bob", at: daemon, sipTrace: true)
        defer { desk.stop() }
        let mobile = try Self.registeredPhone("bob", at: daemon)
        defer { mobile.stop() }

        let started = now()
        let dial = try alice.dial("sip:bob@127.0.0.1")
        #expect(dial.ok, "dial: \(dial.data)")
        let deskRings = desk.waitForEvent("CALL_INCOMING", timeout: 10)
        #expect(deskRings != nil, "desk phone: \(desk.historySummary)\n\(daemon.output)")
        let mobileRings = mobile.waitForEvent("CALL_INCOMING", timeout: 10)
        #expect(mobileRings != nil, "mobile phone: \(mobile.historySummary)\n\(daemon.output)")
        #expect(alice.waitForEvent("CALL_RINGING", timeout: 10) != nil, "alice: \(alice.historySummary)")
        print("forking: both phones ringing after \(Int((now() - started) * 1000)) ms")

        try mobile.accept()
        #expect(mobile.waitForEvent("CALL_ESTABLISHED", timeout: 10) != nil, "mobile: \(mobile.historySummary)")
        #expect(alice.waitForEvent("CALL_ESTABLISHED", timeout: 10) != nil, "alice: \(alice.historySummary)\n\(daemon.output)")
        let deskClosed = desk.waitForEvent("CALL_CLOSED", timeout: 10)
        #expect(deskClosed != nil, "desk phone was not cancelled: \(desk.historySummary)")
        print("forking: the other phone's call closed with \"\(deskClosed?.param ?? "-")\"")
        #expect(!desk.history.contains(where: { $0.type == "CALL_ESTABLISHED" }), "desk: \(desk.historySummary)")
        // The desk phone's branch ended with a CANCEL from dialtoned (its trace shows it arriving).
        #expect(desk.process.output.contains("\nCANCEL sip:bob-"), "no CANCEL reached the desk phone: \(desk.process.output.suffix(4000))")

        try alice.hangup()
        #expect(mobile.waitForEvent("CALL_CLOSED", timeout: 10) != nil, "mobile: \(mobile.historySummary)")
        #expect(alice.waitForEvent("CALL_CLOSED", timeout: 10) != nil, "alice: \(alice.historySummary)")
        #expect(!daemon.process.hasExited, "\(daemon.output)")
    }

    /// Forking where nobody answers and the caller gives up: both phones ring, alice hangs up (CANCEL),
    /// dialtoned cancels both branches: both phones stop ringing, nobody is established.
    @Test func callerCancelStopsEveryBranch() throws {
        try requireBaresip()
        let daemon = try Dialtoned(Self.proxySetup("stateful-proxy"))
        defer { daemon.stop() }
        let alice = try Self.registeredPhone("alice", at: daemon)
        defer { alice.stop() }
        let desk = try Self.registeredPhone("bob", at: daemon)
        defer { desk.stop() }
        let mobile = try Self.registeredPhone("bob", at: daemon)
        defer { mobile.stop() }

        try alice.dial("sip:bob@127.0.0.1")
        #expect(desk.waitForEvent("CALL_INCOMING", timeout: 10) != nil, "desk: \(desk.historySummary)")
        #expect(mobile.waitForEvent("CALL_INCOMING", timeout: 10) != nil, "mobile: \(mobile.historySummary)")
        #expect(alice.waitForEvent("CALL_RINGING", timeout: 10) != nil, "alice: \(alice.historySummary)")
        try alice.hangup()
        #expect(desk.waitForEvent("CALL_CLOSED", timeout: 10) != nil, "desk: \(desk.historySummary)")
        #expect(mobile.waitForEvent("CALL_CLOSED", timeout: 10) != nil, "mobile: \(mobile.historySummary)")
        let aliceClosed = alice.waitForEvent("CALL_CLOSED", timeout: 10)
        #expect(aliceClosed != nil, "alice: \(alice.historySummary)")
        for phone in [alice, desk, mobile] {
            #expect(!phone.history.contains(where: { $0.type == "CALL_ESTABLISHED" }), "\(phone.historySummary)")
        }
    }

    /// Kamailio (tm + rr, Tests/Fixtures/kamailio/record-route.cfg) in front of dialtoned: alice's
    /// outbound proxy is Kamailio, which record-routes and relays to dialtoned, which looks bob up.
    /// The call is established, and bob's BYE travels back along both Record-Route entries.
    @Test func callThroughKamailioInFrontOfDialtone() throws {
        try requireBaresip()
        try #require(Kamailio.executable != nil, "kamailio is not installed (Debian kamailio; make deps)")
        let daemon = try Dialtoned(Self.proxySetup("stateful-proxy"))
        defer { daemon.stop() }
        let folder = try TemporaryDirectory(prefix: "dialtone-kamailio-cfg-")
        defer { folder.remove() }
        let configuration = Fixtures.text("kamailio/record-route.cfg")
            .split(separator: "@NEXT_HOP@", omittingEmptySubsequences: false)
            .joined(separator: "sip:127.0.0.1:" + String(daemon.port))
        let path = try folder.write("kamailio.cfg", Array(configuration.utf8))
        let kamailio = try Kamailio(configuration: path, port: UDPProbe.freePort())
        defer { kamailio.stop() }

        let bob = try Self.registeredPhone("bob", at: daemon)
        defer { bob.stop() }
        // alice does not register; she only calls, through Kamailio.
        let alice = try Baresip(accounts: [Baresip.Account(aor: "sip:alice@127.0.0.1",
                                                           outbound: "sip:127.0.0.1:" + String(kamailio.port))])
        defer { alice.stop() }
        try runCall(from: alice, to: bob, calleeAOR: "sip:bob@127.0.0.1", daemon: daemon)
    }

    /// SIPp caller → dialtoned (stateful proxy, record-routing) → SIPp answerer registered for bob:
    /// INVITE, 180, 200, ACK, BYE, 200, for 20 calls at 10/s, none failed.
    @Test func sippCallsThroughTheStatefulProxy() throws {
        try requireSIPp()
        var setup = Self.proxySetup("stateful-proxy")
        setup.authenticate = false
        let daemon = try Dialtoned(setup)
        defer { daemon.stop() }
        let calls = 20
        var answerRun = SIPp.Run(scenario: Fixtures.path("sipp/answer-uas.xml"), port: daemon.port, calls: calls, rate: 10)
        answerRun.timeout = 40
        let (answerer, uasPort) = try startListeningSIPp(answerRun)
        let registered = registerWithoutAuth(user: "bob", contactPort: uasPort, port: daemon.port, tag: "proxy-uas", fromContactPort: false)
        try #require(registered?.status == 200, "\(registered?.text ?? "no answer: " + daemon.output)")

        var callRun = SIPp.Run(scenario: Fixtures.path("sipp/call-uac.xml"), port: daemon.port, calls: calls, rate: 10)
        callRun.timeout = 40
        callRun.extraArguments = ["-s", "bob"]
        let caller = try SIPp.run(callRun)
        #expect(caller.exitStatus == 0, "\(caller.summary)\n\(caller.errors)\n\(caller.output.suffix(3000))\ndialtoned: \(daemon.output.suffix(3000))")
        #expect(caller.successfulCalls == calls, "\(caller.summary)")
        #expect(caller.failedCalls == 0, "\(caller.summary)")
        let answered = try #require(answerer.wait(timeout: 70), "SIPp answerer did not end").get()
        #expect(answered.exitStatus == 0, "\(answered.summary)\n\(answered.errors)")
        #expect(answered.successfulCalls == calls, "\(answered.summary)")
        #expect(!daemon.process.hasExited, "\(daemon.output)")
    }

    // MARK: one call, phone to phone

    /// `caller` dials `calleeAOR`; `callee` (answermode=manual) rings and answers; the callee hangs up.
    func runCall(from caller: Baresip, to callee: Baresip, calleeAOR: String, daemon: Dialtoned) throws {
        let started = now()
        let dial = try caller.dial(calleeAOR)
        #expect(dial.ok, "dial: \(dial.data)")
        let incoming = callee.waitForEvent("CALL_INCOMING", timeout: 10)
        try #require(incoming != nil, "callee never rang: \(callee.historySummary)\ncaller: \(caller.historySummary)\n\(daemon.output)")
        #expect(caller.waitForEvent("CALL_RINGING", timeout: 10) != nil, "caller: \(caller.historySummary)")
        try callee.accept()
        #expect(callee.waitForEvent("CALL_ESTABLISHED", timeout: 10) != nil, "callee: \(callee.historySummary)")
        #expect(caller.waitForEvent("CALL_ESTABLISHED", timeout: 10) != nil, "caller: \(caller.historySummary)\n\(daemon.output)")
        print("call set up through the proxy in \(Int((now() - started) * 1000)) ms")
        try callee.hangup()
        let closed = caller.waitForEvent("CALL_CLOSED", timeout: 10)
        #expect(closed != nil, "the BYE did not reach the caller: \(caller.historySummary)")
        #expect(callee.waitForEvent("CALL_CLOSED", timeout: 10) != nil, "callee: \(callee.historySummary)")
        #expect(!daemon.process.hasExited, "\(daemon.output)")
    }
}
