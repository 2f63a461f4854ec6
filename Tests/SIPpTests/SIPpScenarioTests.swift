#if canImport(Glibc)
import Glibc
#endif
import Testing
import DialtoneTestKit

/// SIPp user-agent-client scenarios (Tests/Fixtures/sipp) against a running dialtoned. Each scenario
/// takes the transport as a parameter; the TCP variants wait for `--listen tcp:` (issue 4).
@Suite("SIPp against dialtoned", .serialized)
struct SIPpScenarioTests {
    /// OPTIONS → 200, 50 calls at 10/s with SIPp dropping 10% of the packets it sends and receives:
    /// every call must still succeed because SIPp retransmits over UDP and the stateless responder
    /// answers each retransmission.
    @Test func optionsOverUDPWithPacketLoss() throws {
        let result = try runOptions(.udp, calls: 50, rate: 10, loss: 10)
        // With 10% loss over about 100 packets, some retransmission is all but certain (0.9^100 ≈ 3e-5
        // chance of none): it shows the loss was really exercised.
        #expect((result.retransmissions ?? 0) > 0, "no retransmission under -lost 10: \(result.summary)")
    }

    /// OPTIONS → 200 without loss, a bit faster: 200 calls at 100/s.
    @Test func optionsOverUDP() throws {
        _ = try runOptions(.udp, calls: 200, rate: 100, loss: nil)
    }

    /// INVITE → 405 (with an Allow naming OPTIONS, checked inside the scenario), then the ACK.
    @Test func inviteIsRejectedOverUDP() throws {
        _ = try runInviteRejected(.udp, calls: 20, rate: 10)
    }

    /// The benchmark's peer (Bench/bench-transactions/kamailio.cfg) answers the same OPTIONS scenario,
    /// so `make bench-transactions` compares like with like.
    @Test func benchmarkKamailioAnswersTheSameScenario() throws {
        _ = try requireSIPp()
        try #require(Kamailio.executable != nil, "kamailio is not installed (Debian kamailio; make deps)")
        let configuration = Fixtures.root.replacingSuffix("Tests/Fixtures", with: "Bench/bench-transactions/kamailio.cfg")
        let kamailio = try Kamailio(configuration: configuration, port: UDPProbe.freePort())
        defer { kamailio.stop() }
        var run = SIPp.Run(scenario: Fixtures.path("sipp/options.xml"), port: kamailio.port, calls: 50, rate: 50)
        run.timeout = 60
        let result = try SIPp.run(run)
        #expect(result.exitStatus == 0, "\(result.summary)\n\(result.errors)")
        #expect(result.successfulCalls == 50)
        #expect(result.failedCalls == 0)
    }

    // MARK: scenarios, transport-neutral

    @discardableResult
    func runOptions(_ transport: SIPp.Transport, calls: Int, rate: Int, loss: Int?) throws -> SIPpResult {
        _ = try requireSIPp()
        let (daemon, port) = try startDaemon(transport)
        defer { daemon.terminate() }
        var run = SIPp.Run(scenario: Fixtures.path("sipp/options.xml"), port: port, calls: calls, rate: rate)
        run.transport = transport
        run.lossPercent = loss
        run.timeout = 120
        let result = try SIPp.run(run)
        #expect(!result.timedOut, "sipp outlived its timeout: \(result.summary)")
        #expect(result.exitStatus == 0, "\(result.summary)\n\(result.errors)\n\(result.output.suffix(2000))")
        #expect(result.successfulCalls == calls, "\(result.summary)")
        #expect(result.failedCalls == 0, "\(result.summary)")
        #expect(!daemon.hasExited, "dialtoned exited: \(daemon.output)")
        return result
    }

    @discardableResult
    func runInviteRejected(_ transport: SIPp.Transport, calls: Int, rate: Int) throws -> SIPpResult {
        _ = try requireSIPp()
        let (daemon, port) = try startDaemon(transport)
        defer { daemon.terminate() }
        var run = SIPp.Run(scenario: Fixtures.path("sipp/invite-rejected.xml"), port: port, calls: calls, rate: rate)
        run.transport = transport
        run.timeout = 120
        let result = try SIPp.run(run)
        #expect(!result.timedOut, "sipp outlived its timeout: \(result.summary)")
        #expect(result.exitStatus == 0, "\(result.summary)\n\(result.errors)\n\(result.output.suffix(2000))")
        #expect(result.successfulCalls == calls, "\(result.summary)")
        #expect(result.failedCalls == 0, "\(result.summary)")
        #expect(!daemon.hasExited, "dialtoned exited: \(daemon.output)")
        return result
    }
}

extension String {
    /// `self` with `suffix` replaced by `replacement` (unchanged when it does not end so).
    func replacingSuffix(_ suffix: String, with replacement: String) -> String {
        guard hasSuffix(suffix) else { return self }
        return String(dropLast(suffix.count)) + replacement
    }
}
