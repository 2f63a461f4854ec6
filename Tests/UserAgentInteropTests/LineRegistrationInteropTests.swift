#if canImport(Glibc)
import Glibc
#endif
import Testing
import Config
import DialtoneTestKit

/// dialtoned's line accounts against Kamailio as the ISP's registrar (Tests/Fixtures/kamailio/isp.cfg,
/// digest authentication from a db_text subscriber table), over loopback UDP.
@Suite("Line registration with Kamailio as the ISP")
struct LineRegistrationInteropTests {
    static let domain = "isp.test"

    func isp(_ subscribers: [KamailioISP.Subscriber], minExpires: Int = 60) throws -> KamailioISP {
        try #require(KamailioISP.executable != nil, "kamailio is not installed (make deps)")
        var options = KamailioISP.Options(role: .proxy, subscribers: subscribers)
        options.domain = Self.domain
        options.minExpires = minExpires
        return try KamailioISP(options)
    }

    @Test func linesRegisterWithDigestAndUnregisterOnSIGTERM() throws {
        let kamailio = try isp([.init("alice", "alice-pw"), .init("bob", "bob-pw")])
        defer { _ = kamailio.stop() }
        let daemon = try LineDaemon(voice: voiceService(proxy: "127.0.0.1", port: kamailio.port, domain: Self.domain,
                                                        clients: [("line1", "alice", "alice-pw"), ("line2", "bob", "bob-pw")]))
        defer { daemon.stop() }
        #expect(daemon.waitForStatus("line1", "Up", timeout: 10), "\(daemon.status() ?? []) \(daemon.output)")
        #expect(daemon.waitForStatus("line2", "Up", timeout: 10), "\(daemon.status() ?? [])")
        // Kamailio holds both bindings, at dialtoned's address.
        let alice = try #require(kamailio.waitForRegistration(of: "alice", timeout: 5), "\(kamailio.output.suffix(2000))")
        #expect(alice.contact.contains("127.0.0.1:\(daemon.port)"), "\(alice)")
        #expect(kamailio.waitForRegistration(of: "bob", timeout: 5) != nil)
        // `dialtone status` shows them Up (exit 0).
        let dialtone = try #require(BuiltProducts.executable("dialtone"))
        let shown = try runProcess(dialtone, rawArguments: ["status", "--run-dir", daemon.directory.path + "/run"].map { Array($0.utf8) }, timeout: 20)
        #expect(shown.exitStatus == 0, "\(shown.stdoutText)")
        #expect(shown.stdoutText.contains("line1  Up  sip:alice@isp.test"), "\(shown.stdoutText)")
        // SIGTERM unregisters both before exiting.
        #expect(daemon.terminate() == 0, "\(daemon.output)")
        #expect(kamailio.waitUntilUnregistered("alice", timeout: 5), "\((try? kamailio.registrations()) ?? [])")
        #expect(kamailio.waitUntilUnregistered("bob", timeout: 5))
        // The status file outlives the daemon: `dialtone status` must not call its lines Up.
        let after = try runProcess(dialtone, ["status", "--run-dir", daemon.directory.path + "/run"], timeout: 20)
        #expect(after.exitStatus == 1, "\(after.stdoutText) \(after.stderrText)")
        #expect(after.stderrText.contains("not running"), "\(after.stderrText)")
    }

    /// TR-104 UserAgentPort: the line gets a socket of its own; its REGISTERs leave from it, its
    /// Contact names it, and a call from the ISP arrives on it and rings the line.
    @Test func lineWithItsOwnUserAgentPort() throws {
        let kamailio = try isp([.init("alice", "alice-pw"), .init("carol", "carol-pw")])
        defer { _ = kamailio.stop() }
        let linePort = UDPProbe.freePort()
        let daemon = try LineDaemon(voice: voiceService(proxy: "127.0.0.1", port: kamailio.port, domain: Self.domain,
                                                        clients: [("line1", "alice", "alice-pw")],
                                                        extraNetwork: ", \"UserAgentPort\": \(linePort)"))
        defer { daemon.stop() }
        #expect(linePort != daemon.port)
        #expect(daemon.waitForStatus("line1", "Up", timeout: 10), "\(daemon.output)")
        let alice = try #require(kamailio.waitForRegistration(of: "alice", timeout: 5))
        #expect(alice.contact.contains("127.0.0.1:\(linePort)"), "\(alice)")
        #expect(daemon.output.contains("udp:127.0.0.1:\(linePort)"), "the line's socket is bound: \(daemon.output)")
        try #require(Baresip.executable != nil, "baresip is not installed (make deps)")
        let carol = try Baresip(accounts: [Baresip.Account(aor: "sip:carol@isp.test", password: "carol-pw",
                                                          outbound: kamailio.uri, registrationInterval: 600)])
        defer { carol.stop() }
        #expect(carol.waitForEvent(["REGISTER_OK", "REGISTER_FAIL"], timeout: 15)?.type == "REGISTER_OK")
        _ = try carol.dial("sip:alice@isp.test")
        let incoming = daemon.waitForNewestCall(line: "line1", timeout: 10)
        #expect(incoming?.direction == "incoming", "\(daemon.output.suffix(2000))")
        #expect(daemon.dialtone(["hangup", "line1"]).status == 0)
        #expect(carol.waitForEvent("CALL_CLOSED", timeout: 10) != nil)
    }

    /// TR-104 TimerT1 reaches the transactions: a registrar that never answers sees the REGISTER
    /// retransmitted at T1, 2·T1, 4·T1 … (T1 = 100 ms: 6 sends in 2.5 s, where the default 500 ms
    /// gives 3).
    @Test func timerT1FromTheNetworkDrivesRetransmissions() throws {
        let silent = UDPProbe()
        let daemon = try LineDaemon(voice: voiceService(proxy: "127.0.0.1", port: silent.port, domain: Self.domain,
                                                        clients: [("line1", "alice", "alice-pw")],
                                                        extraNetwork: ", \"TimerT1\": 100, \"TimerT2\": 4000"))
        defer { daemon.stop() }
        var sends = 0
        let deadline = lineClock() + 2.5
        while lineClock() < deadline {
            if let bytes = silent.receive(timeout: 0.1), String(decoding: bytes, as: UTF8.self).hasPrefix("REGISTER ") { sends += 1 }
        }
        #expect(sends >= 5, "REGISTERs in 2.5 s with T1 = 100 ms: \(sends)")
    }

    @Test func wrongPasswordShowsErrorRegistration() throws {
        let kamailio = try isp([.init("alice", "alice-pw")])
        defer { _ = kamailio.stop() }
        let daemon = try LineDaemon(voice: voiceService(proxy: "127.0.0.1", port: kamailio.port, domain: Self.domain,
                                                        clients: [("line1", "alice", "not-the-password")]))
        defer { daemon.stop() }
        #expect(daemon.waitForStatus("line1", "Error_Registration", timeout: 10), "\(daemon.status() ?? []) \(daemon.output)")
        #expect((try? kamailio.contacts(of: "alice"))?.isEmpty == true)
        let dialtone = try #require(BuiltProducts.executable("dialtone"))
        let shown = try runProcess(dialtone, rawArguments: ["status", "--run-dir", daemon.directory.path + "/run"].map { Array($0.utf8) }, timeout: 20)
        #expect(shown.exitStatus == 3, "a line not Up: exit 3; \(shown.stdoutText)")
        #expect(shown.stdoutText.contains("Error_Registration"))
    }

    @Test func intervalTooBriefIsSatisfied() throws {
        // Kamailio wants at least 120 s; the line asks for 60.
        let kamailio = try isp([.init("alice", "alice-pw")], minExpires: 120)
        defer { _ = kamailio.stop() }
        let daemon = try LineDaemon(voice: voiceService(proxy: "127.0.0.1", port: kamailio.port, domain: Self.domain,
                                                        clients: [("line1", "alice", "alice-pw")], expires: 60))
        defer { daemon.stop() }
        #expect(daemon.waitForStatus("line1", "Up", timeout: 10), "\(daemon.status() ?? []) \(daemon.output)")
        let expires = daemon.status()?.first?["RegisterExpires"]?.intValue ?? 0
        #expect(expires >= 110 && expires <= 120, "granted \(expires): \(daemon.status() ?? []) \(daemon.output.suffix(2000))")
    }

    @Test func kamailioRestartedTheLineRegistersAgain() throws {
        let kamailio = try isp([.init("alice", "alice-pw")])
        defer { _ = kamailio.stop() }
        // 60 s registrations: refreshed half-way, so a restarted Kamailio (which forgot everything:
        // usrloc db_mode 0) has the binding back within 30 s.
        let daemon = try LineDaemon(voice: voiceService(proxy: "127.0.0.1", port: kamailio.port, domain: Self.domain,
                                                        clients: [("line1", "alice", "alice-pw")], expires: 60))
        defer { daemon.stop() }
        #expect(daemon.waitForStatus("line1", "Up", timeout: 10), "\(daemon.output)")
        #expect(kamailio.waitForRegistration(of: "alice", timeout: 5) != nil)
        try kamailio.restart()
        #expect((try? kamailio.contacts(of: "alice"))?.isEmpty == true, "the restarted Kamailio starts empty")
        let back = kamailio.waitForRegistration(of: "alice", timeout: 40)
        #expect(back != nil, "\(daemon.status() ?? []) \(daemon.output.suffix(2000))")
        #expect(daemon.registrations(of: "line1") >= 2)
    }
}
