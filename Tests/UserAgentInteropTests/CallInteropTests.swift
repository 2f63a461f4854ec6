#if canImport(Glibc)
import Glibc
#endif
import Testing
import Config
import DialtoneTestKit

/// Calls between a dialtoned line (alice) and baresip (bob), both registered with Kamailio as the
/// ISP (digest, record-routing proxy). dialtoned is driven through `dialtone call/answer/hangup/
/// hold/resume/calls` (its control socket). Media is not part of this issue: the SDP is negotiated,
/// no RTP flows yet.
@Suite("Calls with baresip through Kamailio")
struct CallInteropTests {
    struct Setup {
        let kamailio: KamailioISP
        let daemon: LineDaemon
        let bob: Baresip

        func stop() {
            bob.stop()
            daemon.stop()
            _ = kamailio.stop()
        }
    }

    func setUp(bobAnswers: Baresip.AnswerMode) throws -> Setup {
        try #require(Baresip.executable != nil, "baresip is not installed (make deps)")
        try #require(KamailioISP.executable != nil, "kamailio is not installed (make deps)")
        var options = KamailioISP.Options(role: .proxy, subscribers: [.init("alice", "alice-pw"), .init("bob", "bob-pw")])
        options.domain = "isp.test"
        let kamailio = try KamailioISP(options)
        let daemon = try LineDaemon(voice: voiceService(proxy: "127.0.0.1", port: kamailio.port, domain: "isp.test",
                                                        clients: [("line1", "alice", "alice-pw")]))
        let bob = try Baresip(accounts: [Baresip.Account(aor: "sip:bob@isp.test", password: "bob-pw", outbound: kamailio.uri,
                                                        answerMode: bobAnswers, registrationInterval: 600)])
        let setup = Setup(kamailio: kamailio, daemon: daemon, bob: bob)
        let registered = bob.waitForEvent(["REGISTER_OK", "REGISTER_FAIL"], timeout: 15)
        #expect(registered?.type == "REGISTER_OK", "\(bob.historySummary)")
        #expect(daemon.waitForStatus("line1", "Up", timeout: 10), "\(daemon.output)")
        return setup
    }

    /// `dialtone call line1 bob` and the call's id.
    func call(_ s: Setup, _ target: String = "sip:bob@isp.test") throws -> Int {
        let placed = s.daemon.dialtone(["call", "line1", target])
        #expect(placed.status == 0, "\(placed.text)")
        return try #require(placed.reply?["call"]?["id"]?.intValue, "\(placed.text)")
    }

    @Test func callOutAndHangUpFromDialtone() throws {
        let s = try setUp(bobAnswers: .auto)
        defer { s.stop() }
        let id = try call(s)
        #expect(s.daemon.waitForCall(id, "established", timeout: 10), "\(s.daemon.calls()) \(s.daemon.output.suffix(3000))")
        #expect(s.bob.waitForEvent("CALL_ESTABLISHED", timeout: 10) != nil, "\(s.bob.historySummary)")
        #expect(s.daemon.dialtone(["hangup", "line1"]).status == 0)
        #expect(s.bob.waitForEvent("CALL_CLOSED", timeout: 10) != nil, "\(s.bob.historySummary)")
        #expect(s.daemon.waitForCall(id, "ended", timeout: 5))
    }

    @Test func callOutAndHangUpFromBaresip() throws {
        let s = try setUp(bobAnswers: .auto)
        defer { s.stop() }
        let id = try call(s)
        #expect(s.daemon.waitForCall(id, "established", timeout: 10), "\(s.daemon.output.suffix(3000))")
        #expect(s.bob.waitForEvent("CALL_ESTABLISHED", timeout: 10) != nil)
        _ = try s.bob.hangup()
        #expect(s.daemon.waitForCall(id, "ended", timeout: 10), "\(s.daemon.calls())")
        let reason = s.daemon.calls().first { $0["id"]?.intValue == id }?["reason"]?.stringValue ?? ""
        #expect(reason.contains("remote"), "\(reason)")
    }

    @Test func incomingCallAnsweredThenHungUpFromEachSide() throws {
        let s = try setUp(bobAnswers: .manual)
        defer { s.stop() }
        for round in 0..<2 {
            _ = try s.bob.dial("sip:alice@isp.test")
            let incoming = try #require(s.daemon.waitForNewestCall(line: "line1", timeout: 10), "\(s.daemon.output.suffix(3000))")
            #expect(incoming.direction == "incoming")
            #expect(s.daemon.waitForCall(incoming.id, "ringing", timeout: 5))
            #expect(s.bob.waitForEvent("CALL_RINGING", timeout: 5) != nil, "round \(round): \(s.bob.historySummary)")
            #expect(s.daemon.dialtone(["answer", "line1"]).status == 0)
            #expect(s.daemon.waitForCall(incoming.id, "established", timeout: 10), "\(s.daemon.calls())")
            #expect(s.bob.waitForEvent("CALL_ESTABLISHED", timeout: 10) { _ in true } != nil)
            if round == 0 {
                _ = try s.bob.hangup()
            } else {
                #expect(s.daemon.dialtone(["hangup", "line1"]).status == 0)
            }
            #expect(s.daemon.waitForCall(incoming.id, "ended", timeout: 10), "round \(round): \(s.daemon.calls())")
            #expect(s.bob.waitForEvent("CALL_CLOSED", timeout: 10) != nil)
        }
    }

    @Test func cancelBeforeAnswerEitherWay() throws {
        let s = try setUp(bobAnswers: .manual)
        defer { s.stop() }
        // dialtoned calls, bob rings, dialtoned hangs up: CANCEL.
        let id = try call(s)
        #expect(s.bob.waitForEvent("CALL_INCOMING", timeout: 10) != nil, "\(s.bob.historySummary) \(s.daemon.output.suffix(2000))")
        #expect(s.daemon.waitForCall(id, "ringing", timeout: 5), "\(s.daemon.calls())")
        #expect(s.daemon.dialtone(["hangup", "line1"]).status == 0)
        #expect(s.bob.waitForEvent("CALL_CLOSED", timeout: 10) != nil)
        #expect(s.daemon.waitForCall(id, "ended", timeout: 10))
        let reason = s.daemon.calls().first { $0["id"]?.intValue == id }?["reason"]?.stringValue ?? ""
        #expect(reason.contains("cancel"), "\(reason)")
        // bob calls, alice rings, bob gives up: the CANCEL ends the incoming call.
        _ = try s.bob.dial("sip:alice@isp.test")
        let incoming = try #require(s.daemon.waitForNewestCall(line: "line1", timeout: 10))
        #expect(incoming.id != id)
        #expect(s.daemon.waitForCall(incoming.id, "ringing", timeout: 5))
        _ = try s.bob.hangup()
        #expect(s.daemon.waitForCall(incoming.id, "ended", timeout: 10), "\(s.daemon.calls())")
    }

    @Test func holdAndResume() throws {
        let s = try setUp(bobAnswers: .auto)
        defer { s.stop() }
        let id = try call(s)
        #expect(s.daemon.waitForCall(id, "established", timeout: 10))
        #expect(s.bob.waitForEvent("CALL_ESTABLISHED", timeout: 10) != nil)
        #expect(s.daemon.dialtone(["hold", "line1"]).status == 0)
        #expect(s.daemon.waitForCall(id, "held", timeout: 10), "\(s.daemon.calls()) \(s.daemon.output.suffix(2000))")
        #expect(s.daemon.dialtone(["resume", "line1"]).status == 0)
        #expect(s.daemon.waitForCall(id, "established", timeout: 10), "\(s.daemon.calls())")
        #expect(s.daemon.dialtone(["hangup", "line1"]).status == 0)
        #expect(s.bob.waitForEvent("CALL_CLOSED", timeout: 10) != nil)
    }

    /// baresip puts the call on hold and back (its re-INVITEs: sendonly, then sendrecv): dialtoned
    /// answers each offer and shows the call held, then established.
    @Test func holdAndResumeFromTheOtherSide() throws {
        let s = try setUp(bobAnswers: .auto)
        defer { s.stop() }
        let id = try call(s)
        #expect(s.daemon.waitForCall(id, "established", timeout: 10))
        #expect(s.bob.waitForEvent("CALL_ESTABLISHED", timeout: 10) != nil)
        _ = try s.bob.command("hold")
        #expect(s.daemon.waitForCall(id, "held", timeout: 10), "\(s.daemon.calls()) \(s.daemon.output.suffix(2000))")
        _ = try s.bob.command("resume")
        #expect(s.daemon.waitForCall(id, "established", timeout: 10), "\(s.daemon.calls()) \(s.daemon.output.suffix(2000))")
        _ = try s.bob.hangup()
        #expect(s.daemon.waitForCall(id, "ended", timeout: 10))
    }

    /// Two lines of the same dialtoned call each other through the ISP: both legs share the
    /// Call-ID, so requests must be told apart by their tags (§12.2.2).
    @Test func twoLinesOfOneDaemonCallEachOther() throws {
        try #require(KamailioISP.executable != nil, "kamailio is not installed (make deps)")
        var options = KamailioISP.Options(role: .proxy, subscribers: [.init("alice", "alice-pw"), .init("dave", "dave-pw")])
        options.domain = "isp.test"
        let kamailio = try KamailioISP(options)
        defer { _ = kamailio.stop() }
        let daemon = try LineDaemon(voice: voiceService(proxy: "127.0.0.1", port: kamailio.port, domain: "isp.test",
                                                        clients: [("line1", "alice", "alice-pw"), ("line2", "dave", "dave-pw")]))
        defer { daemon.stop() }
        #expect(daemon.waitForStatus("line1", "Up", timeout: 10) && daemon.waitForStatus("line2", "Up", timeout: 10), "\(daemon.output)")
        let placed = daemon.dialtone(["call", "line1", "sip:dave@isp.test"])
        let outgoing = try #require(placed.reply?["call"]?["id"]?.intValue, "\(placed.text)")
        let incoming = try #require(daemon.waitForNewestCall(line: "line2", timeout: 10), "\(daemon.output.suffix(2000))")
        #expect(daemon.waitForCall(incoming.id, "ringing", timeout: 5))
        #expect(daemon.dialtone(["answer", "line2"]).status == 0)
        #expect(daemon.waitForCall(outgoing, "established", timeout: 10), "\(daemon.calls())")
        #expect(daemon.waitForCall(incoming.id, "established", timeout: 10), "\(daemon.calls())")
        // Still up after the ACK's wait (an ACK delivered to the wrong leg ends the call at 64·T1;
        // a few seconds show the ACK was taken).
        usleep(1_500_000)
        #expect(daemon.callState(incoming.id) == "established")
        #expect(daemon.dialtone(["hangup", "line1"]).status == 0)
        #expect(daemon.waitForCall(outgoing, "ended", timeout: 10))
        #expect(daemon.waitForCall(incoming.id, "ended", timeout: 10), "the BYE reached line2's leg: \(daemon.calls())")
        let reason = daemon.calls().first { $0["id"]?.intValue == incoming.id }?["reason"]?.stringValue ?? ""
        #expect(reason.contains("remote"), "\(reason)")
    }

    /// SIGTERM with a call up: the call is hung up (BYE) before the lines unregister.
    @Test func shutdownHangsUpTheCall() throws {
        let s = try setUp(bobAnswers: .auto)
        defer { s.stop() }
        let id = try call(s)
        #expect(s.daemon.waitForCall(id, "established", timeout: 10))
        #expect(s.bob.waitForEvent("CALL_ESTABLISHED", timeout: 10) != nil)
        #expect(s.daemon.terminate() == 0, "\(s.daemon.output.suffix(1500))")
        #expect(s.bob.waitForEvent("CALL_CLOSED", timeout: 10) != nil, "\(s.bob.historySummary)")
    }

    @Test func commandsForNothingAreRefused() throws {
        let s = try setUp(bobAnswers: .auto)
        defer { s.stop() }
        #expect(s.daemon.dialtone(["hangup", "line1"]).status == 1)
        #expect(s.daemon.dialtone(["answer", "line1"]).status == 1)
        #expect(s.daemon.dialtone(["call", "nosuchline", "sip:bob@isp.test"]).status == 1)
        #expect(s.daemon.dialtone(["call", "line1", "not a uri"]).status == 1)
    }
}

/// 3xx handling against Kamailio as a redirect server (Tests/Fixtures/kamailio/isp-redirect.cfg): the
/// line's calls go to it, it answers 302; the user agent follows (up to 5 hops), and stops at a
/// loop (loop-a → loop-b → loop-a).
@Suite("Redirects from a Kamailio redirect server")
struct RedirectInteropTests {
    @Test func redirectsAreFollowedAndLoopsStopped() throws {
        try #require(Baresip.executable != nil, "baresip is not installed (make deps)")
        try #require(KamailioISP.executable != nil, "kamailio is not installed (make deps)")
        var options = KamailioISP.Options(role: .redirect, subscribers: [.init("alice", "alice-pw"), .init("bob", "bob-pw")])
        options.domain = "isp.test"
        options.redirectTarget = "bob"
        let kamailio = try KamailioISP(options)
        defer { _ = kamailio.stop() }
        let daemon = try LineDaemon(voice: voiceService(proxy: "127.0.0.1", port: kamailio.port, domain: "isp.test",
                                                        clients: [("line1", "alice", "alice-pw")]))
        defer { daemon.stop() }
        let bob = try Baresip(accounts: [Baresip.Account(aor: "sip:bob@isp.test", password: "bob-pw", outbound: kamailio.uri,
                                                        answerMode: .auto, registrationInterval: 600)])
        defer { bob.stop() }
        #expect(bob.waitForEvent(["REGISTER_OK", "REGISTER_FAIL"], timeout: 15)?.type == "REGISTER_OK", "\(bob.historySummary)")
        #expect(daemon.waitForStatus("line1", "Up", timeout: 10), "\(daemon.output) \(kamailio.output.suffix(1500))")

        // redirect-me → 302 bob at the redirect server → 302 bob's contact → bob answers.
        let placed = daemon.dialtone(["call", "line1", "sip:redirect-me@isp.test"])
        #expect(placed.status == 0, "\(placed.text)")
        #expect(bob.waitForEvent("CALL_ESTABLISHED", timeout: 10) != nil, "\(bob.historySummary) \(daemon.output.suffix(3000))")
        let calls = daemon.calls()
        let established = calls.last { $0["state"]?.stringValue == "established" }
        #expect(established != nil, "\(calls)")
        // Two hops: redirect-me → bob at the redirect server → bob's registered contact (baresip).
        let hops = daemon.output.split(separator: "\n").filter { $0.contains(": redirected to sip:bob") }
        #expect(hops.count == 2, "\(daemon.output.suffix(2000))")
        #expect(daemon.dialtone(["hangup", "line1"]).status == 0)
        #expect(bob.waitForEvent("CALL_CLOSED", timeout: 10) != nil)

        // loop-a ↔ loop-b: followed once, then stopped as a loop; no call is left.
        #expect(daemon.dialtone(["call", "line1", "sip:loop-a@isp.test"]).status == 0)
        var stopped = false
        for _ in 0..<100 where !stopped {
            stopped = daemon.output.contains("redirect not followed (loop)")
            if !stopped { usleep(50_000) }
        }
        #expect(stopped, "\(daemon.output.suffix(2000))")
        #expect(daemon.calls().allSatisfy { $0["state"]?.stringValue == "ended" }, "\(daemon.calls())")
    }
}
