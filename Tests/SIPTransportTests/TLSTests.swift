#if canImport(Glibc)
import Glibc
#endif
import Testing
import SIPCore
import DialtoneTestKit
@testable import SIPTransport

/// A throwaway PKI made with the openssl CLI: a CA, a server certificate for localhost, 127.0.0.1
/// and ::1 signed by it, and an unrelated second CA.
struct OpenSSLCommandFailed: Error, CustomStringConvertible {
    let description: String
}

struct TestPKI {
    let directory: TemporaryDirectory
    var caFile: String { directory.path + "/ca.pem" }
    var otherCAFile: String { directory.path + "/other-ca.pem" }
    var certificateFile: String { directory.path + "/server.pem" }
    var keyFile: String { directory.path + "/server.key" }

    static func openssl(_ arguments: [String], in dir: String) throws {
        let result = try runProcess("/usr/bin/openssl", arguments, timeout: 60)
        if result.exitStatus != 0 {
            throw OpenSSLCommandFailed(description: "openssl \(arguments.first ?? ""): \(result.stderrText)")
        }
    }

    static func make() throws -> TestPKI {
        let dir = try TemporaryDirectory(prefix: "dialtone-tls-")
        let p = dir.path
        let ec: [String] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        let caExt: [String] = ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]
        for name in ["ca", "other-ca"] {
            var args: [String] = ["req", "-x509"]
            args.append(contentsOf: ec)
            args.append(contentsOf: ["-keyout", p + "/" + name + ".key", "-out", p + "/" + name + ".pem", "-days", "2"])
            args.append(contentsOf: ["-subj", name == "ca" ? "/CN=Dialtone Test CA" : "/CN=Other CA"])
            args.append(contentsOf: caExt)
            try openssl(args, in: p)
        }
        var request: [String] = ["req"]
        request.append(contentsOf: ec)
        request.append(contentsOf: ["-keyout", p + "/server.key", "-out", p + "/server.csr", "-subj", "/CN=localhost"])
        try openssl(request, in: p)
        _ = try dir.write("server.ext", Array("subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\n".utf8))
        try openssl(["x509", "-req", "-in", p + "/server.csr", "-CA", p + "/ca.pem", "-CAkey", p + "/ca.key",
                     "-set_serial", "1001", "-days", "2", "-extfile", p + "/server.ext", "-out", p + "/server.pem"], in: p)
        return TestPKI(directory: dir)
    }
}

@Suite struct TLSTests {
    struct Setup {
        let pump: StreamPump
        let listener: TCPListener
        let client: TCPConnection
    }

    func start(_ pki: TestPKI, host: String, caFile: String, serverName: String?) throws -> Setup {
        try #require(access("/usr/bin/openssl", X_OK) == 0, "openssl CLI missing (make deps installs it)")
        let serverContext = try TLSContext(server: pki.certificateFile, keyFile: pki.keyFile)
        let clientContext = try TLSContext(clientCAFile: caFile)
        let pump = StreamPump()
        let listener = try TCPListener(host: host, port: 0, tls: serverContext)
        #expect(listener.transport == .tls)
        pump.listeners.append(listener)
        let client = try TCPConnection.connect(to: listener.local, tls: clientContext, serverName: serverName,
                                               now: MonotonicClock.milliseconds())
        #expect(client.transport == .tls)
        pump.add(client)
        return Setup(pump: pump, listener: listener, client: client)
    }

    @Test func handshakeAndByteByByteOnIPv4() throws {
        let pki = try TestPKI.make()
        defer { pki.directory.remove() }
        let s = try start(pki, host: "127.0.0.1", caFile: pki.caFile, serverName: "127.0.0.1")
        let pump = s.pump, client = s.client
        #expect(pump.run { client.isOpen && pump.accepted.first?.isOpen == true })
        let server = try #require(pump.accepted.first)
        #expect(pump.count(on: client, isConnected) == 1)
        #expect(pump.count(on: server, isConnected) == 1)
        // No SNI is sent for an address literal (RFC 6066 §3).
        #expect(server.requestedServerName == nil)
        let bytes = optionsRequest(callID: "tls-bytewise", transport: "TLS", bodyLength: 3)
        for b in bytes {
            client.send(bytes: [b], now: MonotonicClock.milliseconds())
            pump.step()
        }
        #expect(pump.run { pump.messages(on: server).count == 1 })
        #expect(pump.messages(on: server).first?.headers[.callID] == "tls-bytewise")
    }

    @Test func pipelinedOnIPv6WithResponse() throws {
        let pki = try TestPKI.make()
        defer { pki.directory.remove() }
        let s = try start(pki, host: "::1", caFile: pki.caFile, serverName: "::1")
        let pump = s.pump, client = s.client
        // Queued before the handshake completes.
        var batch: [UInt8] = []
        for i in 0..<4 { batch += optionsRequest(callID: "tls-pipe-\(i)", transport: "TLS", bodyLength: i * 100) }
        client.send(bytes: batch, now: MonotonicClock.milliseconds())
        #expect(pump.run { pump.accepted.count == 1 && pump.messages(on: pump.accepted[0]).count == 4 })
        let server = try #require(pump.accepted.first)
        #expect(pump.messages(on: server).map { $0.headers[.callID] ?? "" } == ["tls-pipe-0", "tls-pipe-1", "tls-pipe-2", "tls-pipe-3"])
        let response = SIPMessage.response(to: pump.messages(on: server)[3], status: 200, reason: "OK", toTag: "x", extraHeaders: [])
        #expect(server.send(response, now: MonotonicClock.milliseconds()))
        #expect(pump.run { pump.messages(on: client).count == 1 })
        #expect(pump.messages(on: client).first?.headers[.callID] == "tls-pipe-3")
    }

    @Test func sniIsSeenByTheServer() throws {
        let pki = try TestPKI.make()
        defer { pki.directory.remove() }
        let s = try start(pki, host: "127.0.0.1", caFile: pki.caFile, serverName: "localhost")
        let pump = s.pump, client = s.client
        #expect(pump.run { client.isOpen && pump.accepted.first?.isOpen == true })
        #expect(pump.accepted.first?.requestedServerName == "localhost")
    }

    @Test func keepaliveOverTLS() throws {
        let pki = try TestPKI.make()
        defer { pki.directory.remove() }
        let s = try start(pki, host: "127.0.0.1", caFile: pki.caFile, serverName: "localhost")
        let pump = s.pump, client = s.client
        #expect(pump.run { client.isOpen && pump.accepted.first?.isOpen == true })
        client.sendPing(now: MonotonicClock.milliseconds())
        #expect(pump.run { pump.count(on: client, isPong) == 1 })
        #expect(pump.count(on: pump.accepted[0], isPing) == 1)
    }

    @Test func wrongCAFailsVerification() throws {
        let pki = try TestPKI.make()
        defer { pki.directory.remove() }
        let s = try start(pki, host: "127.0.0.1", caFile: pki.otherCAFile, serverName: "localhost")
        let pump = s.pump, client = s.client
        #expect(pump.run { client.isClosed })
        guard case .closed(.tlsFailed(let why)) = client.state else {
            Issue.record("expected a TLS failure, got \(client.state)")
            return
        }
        #expect(why.contains("certificate"))
        #expect(pump.count(on: client, isConnected) == 0)
        #expect(pump.run { pump.accepted.first?.isClosed == true })
    }

    @Test func wrongHostnameFailsVerification() throws {
        let pki = try TestPKI.make()
        defer { pki.directory.remove() }
        let s = try start(pki, host: "127.0.0.1", caFile: pki.caFile, serverName: "sip.example.net")
        let pump = s.pump, client = s.client
        #expect(pump.run { client.isClosed })
        guard case .closed(.tlsFailed(let why)) = client.state else {
            Issue.record("expected a TLS failure, got \(client.state)")
            return
        }
        #expect(why.contains("hostname") || why.contains("certificate"))
    }

    @Test func wrongIPAddressFailsVerification() throws {
        let pki = try TestPKI.make()
        defer { pki.directory.remove() }
        // The certificate names 127.0.0.1, not 127.0.0.2.
        let s = try start(pki, host: "127.0.0.1", caFile: pki.caFile, serverName: "127.0.0.2")
        let client = s.client
        #expect(s.pump.run { client.isClosed })
        #expect(s.pump.count(on: client, isConnected) == 0)
    }

    @Test func badFilesAreReported() throws {
        let pki = try TestPKI.make()
        defer { pki.directory.remove() }
        #expect(throws: TransportError.self) { try TLSContext(server: pki.directory.path + "/missing.pem", keyFile: pki.keyFile) }
        // A key that does not match the certificate.
        #expect(throws: TransportError.self) { try TLSContext(server: pki.certificateFile, keyFile: pki.directory.path + "/ca.key") }
        #expect(throws: TransportError.self) { try TLSContext(clientCAFile: pki.directory.path + "/missing-ca.pem") }
    }
}
