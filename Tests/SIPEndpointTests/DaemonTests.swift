#if canImport(Glibc)
import Glibc
#endif
import Testing
import SIPCore
import DialtoneTestKit

/// `dialtoned` as a process: it listens where it is told, answers SIP over UDP, reloads on SIGHUP and
/// stops cleanly on SIGTERM.
@Suite("dialtoned over UDP", .serialized)
struct DaemonTests {
    func daemon(_ arguments: [String]) throws -> BackgroundProcess {
        let path = try #require(BuiltProducts.executable("dialtoned"))
        return try BackgroundProcess(path, arguments)
    }

    @Test func answersOptionsAndStopsOnSIGTERM() throws {
        let port = UDPProbe.freePort()
        let d = try daemon(["--listen", "udp:127.0.0.1:\(port)"])
        #expect(d.waitForOutput("ready"), "daemon did not start: \(d.output)")
        let probe = UDPProbe()
        let options = Array("""
            OPTIONS sip:127.0.0.1:\(port) SIP/2.0\r
            Via: SIP/2.0/UDP 127.0.0.1:\(probe.port);branch=z9hG4bK-daemon1;rport\r
            Max-Forwards: 70\r
            From: <sip:test@127.0.0.1>;tag=t1\r
            To: <sip:127.0.0.1>\r
            Call-ID: daemon-test-1\r
            CSeq: 1 OPTIONS\r
            Content-Length: 0\r
            \r

            """.utf8)
        probe.send(options, toPort: port)
        let answer = try #require(probe.receive(timeout: 5), "no answer; daemon said: \(d.output)")
        let response = try SIPMessage.parse(datagram: answer)
        #expect(response.statusCode == 200)
        #expect(try response.callID() == "daemon-test-1")
        // Every RFC 4475 request still leaves it answering.
        for dir in ["valid", "invalid", "semantic"] {
            for name in Fixtures.list("rfc4475/\(dir)") where name.hasSuffix(".sip") {
                probe.send(Fixtures.bytes("rfc4475/\(dir)/\(name)"), toPort: port)
            }
        }
        probe.send(options, toPort: port)
        var sawOptions200 = false
        while let more = probe.receive(timeout: 3) {
            if let m = try? SIPMessage.parse(datagram: more), m.statusCode == 200, (try? m.callID()) == "daemon-test-1" { sawOptions200 = true; break }
        }
        #expect(sawOptions200, "daemon stopped answering after the torture messages: \(d.output)")
        // SIGUSR1 logs the statistics line (what `make bench-transactions` reads), and it keeps running.
        #expect(kill(d.pid, SIGUSR1) == 0)
        #expect(d.waitForOutput("statistics: serverTransactions=", timeout: 5), "no statistics line: \(d.output)")
        #expect(d.output.contains("statelessAnswers="))
        #expect(!d.hasExited)
        let status = try #require(d.terminate(signal: SIGTERM, timeout: 5), "did not stop on SIGTERM")
        #expect(BackgroundProcess.exitCode(status) == 0)
        #expect(d.output.contains("stopped"))
    }

    @Test func configurationFileAndReload() throws {
        let dir = try TemporaryDirectory()
        let port1 = UDPProbe.freePort()
        let config = dir.path + "/dialtone.json"
        try writeText(config, "{\"sip\": {\"listen\": [\"udp:127.0.0.1:\(port1)\"]}}")
        let d = try daemon(["--config", config])
        #expect(d.waitForOutput("ready"), "daemon did not start: \(d.output)")
        #expect(d.output.contains("listening on udp:127.0.0.1:\(port1)"))
        let port2 = UDPProbe.freePort()
        try writeText(config, "{\"sip\": {\"listen\": [\"udp:127.0.0.1:\(port2)\"]}}")
        kill(d.pid, SIGHUP)
        #expect(d.waitForOutput("listening on udp:127.0.0.1:\(port2)"), "no rebind after SIGHUP: \(d.output)")
        // A broken file on reload keeps the running configuration.
        try writeText(config, "{not json")
        kill(d.pid, SIGHUP)
        #expect(d.waitForOutput("keeping the running configuration"))
        #expect(d.terminate() != nil)
    }

    @Test func badConfigurationAndArgumentsAreClearErrors() throws {
        let dir = try TemporaryDirectory()
        let config = dir.path + "/bad.json"
        try writeText(config, "{\"sip\": {\"listen\": [\"udp:127.0.0.1:99999\"]}}")
        let path = try #require(BuiltProducts.executable("dialtoned"))
        let r1 = try runProcess(path, ["--config", config], timeout: 10)
        #expect(r1.exitStatus == 78)
        #expect(r1.stderrText.contains("sip.listen[0]"))
        let r2 = try runProcess(path, ["--listen", "sctp:192.0.2.4:5"], timeout: 10)
        #expect(r2.exitStatus == 64)
        #expect(r2.stderrText.contains("transport"))
        let r3 = try runProcess(path, ["--config", dir.path + "/missing.json"], timeout: 10)
        #expect(r3.exitStatus == 78)
        #expect(r3.stderrText.contains("cannot read"))
    }
}

func writeText(_ path: String, _ text: String) throws {
    let tmp = path + ".tmp"
    let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    try #require(fd >= 0, "cannot open \(tmp)")
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    rename(tmp, path)
}
