#if canImport(Glibc)
import Glibc
#endif
import Testing
import Config
import DialtoneTestKit

/// TR-104 InboundAuth, default SourceFilter: an INVITE straight to the line's Contact from anywhere
/// but the registrar (a SIP scanner's "ghost call") gets 403 and a log line; one relayed by the
/// registrar (Kamailio, from a baresip caller) passes the filter and rings the line.
@Suite("Inbound policy of a line")
struct InboundPolicyInteropTests {
    func invite(to user: String, host: String, port: UInt16, from probe: AddressedUDPProbe, tag: String) -> [UInt8] {
        var text = "INVITE sip:\(user)@\(host):\(port) SIP/2.0\r\n"
        text += "Via: SIP/2.0/UDP \(probe.bindAddress):\(probe.port);branch=z9hG4bK-scan-\(tag);rport\r\n"
        text += "Max-Forwards: 70\r\nFrom: <sip:100@\(probe.bindAddress)>;tag=scan\(tag)\r\nTo: <sip:\(user)@\(host)>\r\n"
        text += "Call-ID: scan-\(tag)-\(getpid())\r\nCSeq: 1 INVITE\r\nContact: <sip:100@\(probe.bindAddress):\(probe.port)>\r\n"
        text += "Content-Length: 0\r\n\r\n"
        return Array(text.utf8)
    }

    func finalStatus(_ probe: AddressedUDPProbe, timeout: Double = 3) -> Int? {
        let deadline = lineClock() + timeout
        while lineClock() < deadline {
            guard let (bytes, _, _) = probe.receive(timeout: 0.5) else { continue }
            let text = String(decoding: bytes, as: UTF8.self)
            guard text.hasPrefix("SIP/2.0 "), let code = Int(text.dropFirst(8).prefix(3)) else { continue }
            if code >= 200 { return code }
        }
        return nil
    }

    @Test func ghostCallIsRefusedAndTheRegistrarsCallRings() throws {
        var options = KamailioISP.Options(role: .proxy, subscribers: [.init("alice", "alice-pw"), .init("carol", "carol-pw")])
        options.domain = "isp.test"
        let kamailio = try KamailioISP(options)
        defer { _ = kamailio.stop() }
        let daemon = try LineDaemon(voice: voiceService(proxy: "127.0.0.1", port: kamailio.port, domain: "isp.test",
                                                        clients: [("line1", "alice", "alice-pw")]))
        defer { daemon.stop() }
        #expect(daemon.waitForStatus("line1", "Up", timeout: 10), "\(daemon.output)")

        // A scanner on another loopback address sends an INVITE straight to the Contact.
        let scanner = try AddressedUDPProbe(bindAddress: "127.0.0.2")
        _ = scanner.send(invite(to: "alice", host: "127.0.0.1", port: daemon.port, from: scanner, tag: "1"), to: "127.0.0.1", port: daemon.port)
        #expect(finalStatus(scanner) == 403)
        #expect(daemon.output.contains("INVITE from 127.0.0.2"), "\(daemon.output.suffix(1500))")
        #expect(daemon.output.contains("refused: not the registrar"))

        // The same relayed by the registrar passes the filter: alice's line rings; dialtoned declines.
        try #require(Baresip.executable != nil, "baresip is not installed (make deps)")
        let carol = try Baresip(accounts: [Baresip.Account(aor: "sip:carol@isp.test", password: "carol-pw",
                                                          outbound: kamailio.uri, registrationInterval: 600)])
        defer { carol.stop() }
        let registered = carol.waitForEvent(["REGISTER_OK", "REGISTER_FAIL"], timeout: 15)
        #expect(registered?.type == "REGISTER_OK", "\(carol.historySummary) \(kamailio.output.suffix(1500))")
        _ = try carol.dial("sip:alice@isp.test")
        #expect(carol.waitForEvent("CALL_RINGING", timeout: 10) != nil, "\(carol.historySummary) \(daemon.output.suffix(2000))")
        let incoming = daemon.waitForNewestCall(line: "line1", timeout: 5)
        #expect(incoming?.direction == "incoming")
        #expect(daemon.dialtone(["hangup", "line1"]).status == 0)
        #expect(carol.waitForEvent("CALL_CLOSED", timeout: 10) != nil, "\(carol.historySummary)")
        #expect(daemon.output.split(separator: "\n").filter { $0.contains("refused") }.count == 1, "only the scanner was refused: \(daemon.output.suffix(1500))")
    }
}
