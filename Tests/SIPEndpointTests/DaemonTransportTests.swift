#if canImport(Glibc)
import Glibc
#endif
import Testing
import SIPCore
import SIPTransport
import DialtoneTestKit

struct OpenSSLFailed: Error, CustomStringConvertible {
    let description: String
}

/// A throwaway CA and a server certificate for 127.0.0.1 signed by it, made with the openssl CLI.
struct DaemonTestPKI {
    let directory: TemporaryDirectory
    var caFile: String { directory.path + "/ca.pem" }
    var certificateFile: String { directory.path + "/server.pem" }
    var keyFile: String { directory.path + "/server.key" }

    static func openssl(_ arguments: [String]) throws {
        let result = try runProcess("/usr/bin/openssl", arguments, timeout: 60)
        if result.exitStatus != 0 { throw OpenSSLFailed(description: "openssl: " + result.stderrText) }
    }

    static func make() throws -> DaemonTestPKI {
        let dir = try TemporaryDirectory(prefix: "dialtoned-tls-")
        let p = dir.path
        let ec: [String] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        var ca: [String] = ["req", "-x509"]
        ca.append(contentsOf: ec)
        ca.append(contentsOf: ["-keyout", p + "/ca.key", "-out", p + "/ca.pem", "-days", "2", "-subj", "/CN=Dialtoned Test CA"])
        ca.append(contentsOf: ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        try openssl(ca)
        var request: [String] = ["req"]
        request.append(contentsOf: ec)
        request.append(contentsOf: ["-keyout", p + "/server.key", "-out", p + "/server.csr", "-subj", "/CN=localhost"])
        try openssl(request)
        _ = try dir.write("server.ext", Array("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n".utf8))
        try openssl(["x509", "-req", "-in", p + "/server.csr", "-CA", p + "/ca.pem", "-CAkey", p + "/ca.key",
                     "-set_serial", "2001", "-days", "2", "-extfile", p + "/server.ext", "-out", p + "/server.pem"])
        return DaemonTestPKI(directory: dir)
    }
}

/// Sends `bytes` on a new stream connection (TCP, or TLS with `tls`) and returns the first response
/// with `callID` (skipping 1xx), or nil after `seconds`.
func streamExchange(port: UInt16, tls: TLSContext?, bytes: [UInt8], callID: String, seconds: Double = 10) throws -> SIPMessage? {
    guard let remote = SocketAddress(host: "127.0.0.1", port: port) else { return nil }
    let client = try TCPConnection.connect(to: remote, tls: tls, serverName: tls == nil ? nil : "127.0.0.1",
                                           now: MonotonicClock.milliseconds())
    _ = client.send(bytes: bytes, now: MonotonicClock.milliseconds())
    let deadline = MonotonicClock.milliseconds() + UInt64(seconds * 1000)
    while MonotonicClock.milliseconds() < deadline && !client.isClosed {
        var fd = client.pollDescriptor
        _ = poll(&fd, 1, 50)
        for event in client.handle(revents: fd.revents, now: MonotonicClock.milliseconds()) {
            if case .message(let m) = event, (m.statusCode ?? 0) >= 200, (try? m.callID()) == callID { return m }
        }
    }
    return nil
}

/// `dialtoned` as a process over UDP, TCP and TLS, with transactions behind it.
@Suite("dialtoned transports and transactions", .serialized)
struct DaemonTransportTests {
    func daemon(_ arguments: [String]) throws -> BackgroundProcess {
        let path = try #require(BuiltProducts.executable("dialtoned"))
        let d = try BackgroundProcess(path, arguments)
        try #require(d.waitForOutput("ready", timeout: 20), "daemon did not start: \(d.output)")
        return d
    }

    @Test func optionsOverUDPTCPAndTLS() throws {
        try #require(access("/usr/bin/openssl", X_OK) == 0, "openssl CLI missing (make deps installs it)")
        let pki = try DaemonTestPKI.make()
        let udp = UDPProbe.freePort()
        let tcp = UDPProbe.freePort()
        let tlsPort = UDPProbe.freePort()
        let d = try daemon(["--listen", "udp:127.0.0.1:" + String(udp), "--listen", "tcp:127.0.0.1:" + String(tcp),
                            "--listen", "tls:127.0.0.1:" + String(tlsPort),
                            "--tls-cert", pki.certificateFile, "--tls-key", pki.keyFile])
        defer { _ = d.terminate() }
        #expect(d.output.contains("listening on tcp:127.0.0.1:" + String(tcp)))
        #expect(d.output.contains("listening on tls:127.0.0.1:" + String(tlsPort)))

        let probe = UDPProbe()
        probe.send(probeRequest("OPTIONS", port: probe.port, branch: "z9hG4bK-d-udp", callID: "d-udp"), toPort: udp)
        let overUDP = try #require(probe.receive(timeout: 5).flatMap { try? SIPMessage.parse(datagram: $0) }, "no UDP answer: \(d.output)")
        #expect(overUDP.statusCode == 200)

        let overTCP = try streamExchange(port: tcp, tls: nil,
                                         bytes: probeRequest("OPTIONS", port: 5060, branch: "z9hG4bK-d-tcp", callID: "d-tcp", transport: "TCP"),
                                         callID: "d-tcp")
        #expect(overTCP?.statusCode == 200, "no TCP answer: \(d.output)")
        #expect(overTCP?.headers[.allow] == "OPTIONS, ACK, CANCEL")

        let client = try TLSContext(clientCAFile: pki.caFile)
        let overTLS = try streamExchange(port: tlsPort, tls: client,
                                         bytes: probeRequest("OPTIONS", port: 5061, branch: "z9hG4bK-d-tls", callID: "d-tls", transport: "TLS"),
                                         callID: "d-tls")
        #expect(overTLS?.statusCode == 200, "no TLS answer: \(d.output)")

        // INVITE over TCP is rejected (405) by a transaction too.
        let invite = try streamExchange(port: tcp, tls: nil,
                                        bytes: probeRequest("INVITE", port: 5060, branch: "z9hG4bK-d-inv", callID: "d-inv", transport: "TCP"),
                                        callID: "d-inv")
        #expect(invite?.statusCode == 405)
        #expect(!d.hasExited)
    }

    @Test func udpRetransmissionAndCancelThroughTheDaemon() throws {
        let port = UDPProbe.freePort()
        let d = try daemon(["--listen", "udp:127.0.0.1:" + String(port)])
        defer { _ = d.terminate() }
        let probe = UDPProbe()
        let options = probeRequest("OPTIONS", port: probe.port, branch: "z9hG4bK-d-rtx", callID: "d-rtx")
        probe.send(options, toPort: port)
        let first = try #require(probe.receive(timeout: 5), "no answer: \(d.output)")
        probe.send(options, toPort: port)
        let second = try #require(probe.receive(timeout: 5), "no answer to the retransmission")
        // The same octets again (same To tag): OPTIONS is answered statelessly, the To tag derived from the request.
        #expect(second == first)
        probe.send(probeRequest("CANCEL", port: probe.port, branch: "z9hG4bK-d-none", callID: "d-cancel"), toPort: port)
        let cancel = try #require(probe.receive(timeout: 5).flatMap { try? SIPMessage.parse(datagram: $0) })
        #expect(cancel.statusCode == 481)
    }

    @Test func floodPastTheCapGetsBounded503s() throws {
        let port = UDPProbe.freePort()
        let d = try daemon(["--listen", "udp:127.0.0.1:" + String(port), "--max-transactions", "5"])
        defer { _ = d.terminate() }
        let probe = UDPProbe()
        for i in 0..<40 {
            // MESSAGE (405) runs in a transaction; OPTIONS would be answered statelessly.
            probe.send(probeRequest("MESSAGE", port: probe.port, branch: "z9hG4bK-flood-" + String(i), callID: "flood-" + String(i)), toPort: port)
        }
        var ok = 0
        var busy = 0
        var answers = 0
        while answers < 40, let bytes = probe.receive(timeout: 3) {
            answers += 1
            guard let m = try? SIPMessage.parse(datagram: bytes) else { continue }
            if m.statusCode == 405 { ok += 1 }
            if m.statusCode == 503, m.headers[.retryAfter] != nil { busy += 1 }
        }
        // Timer J (32 s) keeps the first five alive for the whole flood.
        #expect(ok == 5)
        #expect(busy == 35)
    }

    @Test func tlsWithoutCertificateIsAClearError() throws {
        let path = try #require(BuiltProducts.executable("dialtoned"))
        let r = try runProcess(path, ["--listen", "tls:127.0.0.1:" + String(UDPProbe.freePort())], timeout: 10)
        #expect(r.exitStatus == 78)
        #expect(r.stderrText.contains("sip.tls.certificate"))
        #expect(r.stderrText.contains("--tls-cert"))
        let r2 = try runProcess(path, ["--listen", "tls:127.0.0.1:" + String(UDPProbe.freePort()), "--tls-cert", "/nonexistent.pem",
                                       "--tls-key", "/nonexistent.key"], timeout: 10)
        #expect(r2.exitStatus == 78)
        #expect(r2.stderrText.contains("/nonexistent.pem"))
        let r3 = try runProcess(path, ["--tls-cert", "/x.pem"], timeout: 10)
        #expect(r3.exitStatus == 78)
        #expect(r3.stderrText.contains("sip.tls.key"))
    }
}
