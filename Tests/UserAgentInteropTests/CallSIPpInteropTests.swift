#if canImport(Glibc)
import Glibc
#endif
import Testing
import Config
import DialtoneTestKit

/// What real user agents and proxies do that baresip does not: early media (183 with SDP), a 180
/// arriving after the 200, a 183 that requires PRACK (RFC 3262), a session timer the caller must
/// refresh (RFC 4028), and failure responses reported as the call's reason. The line registers
/// with Kamailio; the calls go straight to a SIPp answerer (a target outside the line's domain).
@Suite("Calls to SIPp answerers")
struct CallSIPpInteropTests {
    func line() throws -> (KamailioISP, LineDaemon) {
        try #require(KamailioISP.executable != nil, "kamailio is not installed (make deps)")
        try #require(SIPp.executable != nil, "sipp is not installed (make deps)")
        var options = KamailioISP.Options(role: .proxy, subscribers: [.init("alice", "alice-pw")])
        options.domain = "isp.test"
        let kamailio = try KamailioISP(options)
        let daemon = try LineDaemon(voice: voiceService(proxy: "127.0.0.1", port: kamailio.port, domain: "isp.test",
                                                        clients: [("line1", "alice", "alice-pw")]))
        #expect(daemon.waitForStatus("line1", "Up", timeout: 10), "\(daemon.output)")
        return (kamailio, daemon)
    }

    /// Starts the SIPp answerer `scenario` for one call and has line1 call it.
    func call(_ daemon: LineDaemon, scenario: String, timeout: Int = 30) throws -> (BackgroundSIPp, Int) {
        var run = SIPp.Run(scenario: Fixtures.path("sipp/" + scenario), port: daemon.port, calls: 1, rate: 1)
        run.timeout = timeout
        let (sipp, port) = try startListeningSIPp(run)
        let placed = daemon.dialtone(["call", "line1", "sip:uas@127.0.0.1:\(port)"])
        #expect(placed.status == 0, "\(placed.text)")
        let id = try #require(placed.reply?["call"]?["id"]?.intValue, "\(placed.text)")
        return (sipp, id)
    }

    func finished(_ sipp: BackgroundSIPp, timeout: Double = 40) -> String? {
        guard let outcome = sipp.wait(timeout: timeout) else { return "SIPp did not end" }
        switch outcome {
        case .failure(let e): return "\(e)"
        case .success(let r): return r.exitStatus == 0 && r.successfulCalls == 1 ? nil : "\(r.summary)\n\(r.errors)"
        }
    }

    @Test func earlyMediaAndA180AfterThe200() throws {
        let (kamailio, daemon) = try line()
        defer { daemon.stop(); _ = kamailio.stop() }
        let (sipp, id) = try call(daemon, scenario: "early-media-late-180-uas.xml")
        #expect(daemon.waitForCall(id, "established", timeout: 10), "\(daemon.calls()) \(daemon.output.suffix(2000))")
        // The 183's SDP was taken as early media (the state may be past "early" by the time the
        // CLI looks under qemu: the log says it).
        #expect(daemon.output.contains("call \(id): early media (183)"), "\(daemon.output.suffix(2000))")
        usleep(500_000)
        #expect(daemon.callState(id) == "established", "the late 180 must not change the call")
        #expect(daemon.dialtone(["hangup", "line1"]).status == 0)
        #expect(finished(sipp) == nil, "\(daemon.output.suffix(2000))")
    }

    @Test func reliableProvisionalIsPRACKed() throws {
        let (kamailio, daemon) = try line()
        defer { daemon.stop(); _ = kamailio.stop() }
        let (sipp, id) = try call(daemon, scenario: "100rel-uas.xml")
        #expect(daemon.waitForCall(id, "established", timeout: 10), "\(daemon.calls()) \(daemon.output.suffix(2000))")
        #expect(daemon.dialtone(["hangup", "line1"]).status == 0)
        #expect(finished(sipp) == nil, "\(daemon.output.suffix(2000))")
    }

    /// 90 s session timer, dialtoned the refresher: its refresh must come within the interval (at
    /// half of it), or SIPp fails the call.
    @Test func sessionTimerIsRefreshed() throws {
        let (kamailio, daemon) = try line()
        defer { daemon.stop(); _ = kamailio.stop() }
        let (sipp, id) = try call(daemon, scenario: "session-timer-uas.xml", timeout: 120)
        #expect(daemon.waitForCall(id, "established", timeout: 10), "\(daemon.calls()) \(daemon.output.suffix(2000))")
        // Refreshed at 45 s; wait up to 60 s for SIPp to have seen the refresh (it then waits for BYE).
        var refreshed = false
        for _ in 0..<1200 where !refreshed {
            refreshed = daemon.output.contains("call \(id): sending UPDATE") || daemon.output.contains("call \(id): sending INVITE")
                || daemon.callState(id) == "ended"
            if !refreshed { usleep(50_000) }
        }
        #expect(refreshed, "no refresh within 60 s: \(daemon.output.suffix(2000))")
        #expect(daemon.callState(id) == "established", "\(daemon.calls()) \(daemon.output.suffix(2000))")
        #expect(daemon.dialtone(["hangup", "line1"]).status == 0)
        #expect(finished(sipp, timeout: 60) == nil, "\(daemon.output.suffix(2000))")
    }

    /// The line's password answers only its own provider: a host the user (or a 3xx) pointed at
    /// that challenges the INVITE gets no digest response, and the call fails.
    @Test func aForeignChallengeIsNotAnsweredWithTheLinesPassword() throws {
        let (kamailio, daemon) = try line()
        defer { daemon.stop(); _ = kamailio.stop() }
        let (sipp, id) = try call(daemon, scenario: "challenge-uas.xml")
        #expect(daemon.waitForCall(id, "ended", timeout: 10), "\(daemon.calls())")
        #expect(finished(sipp) == nil, "a second (credentialed) INVITE reached the foreign host: \(daemon.output.suffix(2000))")
        #expect(daemon.output.contains("not the line's provider; not answered"), "\(daemon.output.suffix(2000))")
    }

    @Test func failuresAreReportedAsTheReason() throws {
        let (kamailio, daemon) = try line()
        defer { daemon.stop(); _ = kamailio.stop() }
        // Nobody registered as carol at the ISP: Kamailio answers 404.
        let placed = daemon.dialtone(["call", "line1", "sip:carol@isp.test"])
        let id = try #require(placed.reply?["call"]?["id"]?.intValue, "\(placed.text)")
        #expect(daemon.waitForCall(id, "ended", timeout: 10))
        let reason = daemon.calls().first { $0["id"]?.intValue == id }?["reason"]?.stringValue ?? ""
        #expect(reason.contains("not found"), "\(reason)")
    }
}
