#if canImport(Glibc)
import Glibc
#endif
import Testing
import DialtoneTestKit

/// SIPp user-agent-client scenarios (Tests/Fixtures/sipp) against a running dialtoned, over UDP
/// (`-t u1`, with `-lost` for retransmissions) and over one TCP connection (`-t t1`).
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

    /// OPTIONS → 200 over one TCP connection (SIPp -t t1): 200 calls at 100/s.
    @Test func optionsOverTCP() throws {
        _ = try runOptions(.tcp, calls: 200, rate: 100, loss: nil)
    }

    /// INVITE → 405 → ACK over TCP: no retransmissions on a reliable transport (Timer G is not used),
    /// the ACK still matches the INVITE server transaction.
    @Test func inviteIsRejectedOverTCP() throws {
        let result = try runInviteRejected(.tcp, calls: 20, rate: 10)
        #expect(result.retransmissions == 0, "retransmissions over TCP: \(result.summary)")
    }

    /// A client that sends its request and then closes its sending side (shutdown SHUT_WR, as
    /// `nc -N` does) still gets the response before dialtoned closes the connection.
    @Test func requestThenHalfCloseIsStillAnswered() throws {
        let (daemon, port) = try startDaemon(.tcp)
        defer { daemon.terminate() }
        let stream = try #require(LoopbackStream(port: port))
        let request = "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK-half\r\n"
            + "Max-Forwards: 70\r\nFrom: <sip:t@127.0.0.1>;tag=h\r\nTo: <sip:127.0.0.1>\r\nCall-ID: half-close\r\n"
            + "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        #expect(stream.send(Array(request.utf8)))
        #expect(shutdown(stream.fd, Int32(SHUT_WR)) == 0)
        stream.read(timeout: 10) { _ in false }
        #expect(stream.received.starts(with: Array("SIP/2.0 200 ".utf8)), "no answer after half-close: \(daemon.output)")
        #expect(stream.peerClosed, "dialtoned should close once it has answered")
        #expect(!daemon.hasExited)
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
