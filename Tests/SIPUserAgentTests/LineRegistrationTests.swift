#if canImport(Glibc)
import Glibc
#endif
import Testing
import Config
import SIPAuth
import SIPCore
import SIPEndpoint
import SIPTransaction
import SIPTransport
import SIPUserAgent
import DialtoneTestKit

/// A registrar scripted by the test on a raw UDP socket: it receives what the line sends and answers
/// what the test says, so every header of every REGISTER can be checked.
final class ScriptedRegistrar {
    let probe = UDPProbe()
    var port: UInt16 { probe.port }
    var uri: SIPURI { SIPURI(host: .ipv4("127.0.0.1"), port: port) }

    /// The next SIP request within `seconds` while stepping `endpoint` (keepalives are skipped and
    /// counted).
    var keepAlives = 0
    func next(_ endpoint: SIPEndpoint, seconds: Double = 5) -> (SIPMessage, source: UInt16)? {
        let deadline = MonotonicClock.milliseconds() + UInt64(seconds * 1000)
        while MonotonicClock.milliseconds() < deadline {
            endpoint.step(maxWait: 5)
            if let (bytes, source) = probe.receiveWithSource(timeout: 0.005) {
                if bytes.allSatisfy({ $0 == 13 || $0 == 10 }) { keepAlives += 1; continue }
                if let m = try? SIPMessage(parsing: String(decoding: bytes, as: UTF8.self)) { return (m, source) }
            }
        }
        return nil
    }

    /// Answers `request` with `status`, extra header lines, and Via stamped with received/rport
    /// (`received` overrides what the source was, to play a NAT).
    func answer(_ request: SIPMessage, _ status: Int, source: UInt16, headers: [String] = [], received: String? = nil, rport: UInt16? = nil) {
        var text = "SIP/2.0 \(status) Whatever\r\n"
        let vias = request.headers.values(.via)
        for (i, v) in vias.enumerated() {
            if i == 0 {
                text += "Via: " + v.split(separator: ";").filter { !$0.hasPrefix("rport") }.joined(separator: ";")
                text += ";received=\(received ?? "127.0.0.1");rport=\(rport ?? source)\r\n"
            } else {
                text += "Via: \(v)\r\n"
            }
        }
        for name in [HeaderName.from, .callID, .cseq] { text += "\(name.canonical): \(request.headers.values(name).first ?? "")\r\n" }
        text += "To: \(request.headers.values(.to).first ?? "");tag=reg1\r\n"
        for h in headers { text += h + "\r\n" }
        text += "Content-Length: 0\r\n\r\n"
        probe.send(Array(text.utf8), toPort: source)
    }
}

@Suite("Line registration against a scripted registrar (loopback UDP)", .serialized)
struct LineRegistrationTests {
    func endpoint() throws -> SIPEndpoint {
        let e = SIPEndpoint(configuration: .default)
        try e.bind([ListenAddress(transport: .udp, host: "127.0.0.1", port: 0)])
        return e
    }

    func account(_ registrar: ScriptedRegistrar, password: String? = "secret", expires: Int = 600,
                 keepAlive: LineAccount.KeepAlive = .none, interval: Int = 0, backup: ScriptedRegistrar? = nil) -> LineAccount {
        var servers = [registrar.uri]
        if let backup { servers.append(backup.uri) }
        return LineAccount(name: "line1", aor: SIPURI(user: "alice", host: .name("example.net")),
                           registrar: SIPURI(host: .name("example.net")), servers: servers,
                           authUser: "alice", password: password,
                           policy: RegistrationPolicy(expires: expires, retryInterval: 30),
                           keepAlive: keepAlive, keepAliveInterval: interval)
    }

    @Test func registersWithDigestAndCarriesTheRightHeaders() throws {
        let e = try endpoint()
        let registrar = ScriptedRegistrar()
        let line = LineRegistration(account: account(registrar), endpoint: e)
        var statuses: [LineStatus] = []
        line.onStatus = { s, _ in statuses.append(s) }
        line.start()
        let (first, source) = try #require(registrar.next(e))
        #expect(first.method == .register)
        #expect(first.headers.values(.authorization).isEmpty)
        #expect(requestURI(first) == "sip:example.net")
        #expect(first.headers.values(.from).first?.hasPrefix("<sip:alice@example.net>;tag=") == true)
        #expect(first.headers.values(.to).first == "<sip:alice@example.net>")
        #expect(first.headers.values(.expires).first == "600")
        let contact = try #require(first.headers.values(.contact).first)
        #expect(contact == "<sip:alice@127.0.0.1:\(port(of: e))>;expires=600", "Contact: the bound socket's address")
        #expect(try first.topVia().rport != nil, "rport asked for (RFC 3581)")

        var server = DigestServer(configuration: .init(realm: "example.net", algorithms: [.md5], qopOptions: [.auth]),
                                  secret: DigestServer.makeSecret())
        let challenge = server.challenges(now: .seconds(100))[0].headerValue
        registrar.answer(first, 401, source: source, headers: ["WWW-Authenticate: " + challenge])
        let (second, source2) = try #require(registrar.next(e))
        #expect(try second.callID() == first.callID(), "same Call-ID for the boot cycle (§10.2)")
        #expect(try second.cseq().sequence == first.cseq().sequence + 1)
        let authorization = try #require(second.headers.values(.authorization).first)
        var users = DigestUserTable()
        users.set(.password("secret"), username: "alice", realm: "example.net")
        let verdict = server.verify(try DigestCredentials(parsing: authorization), method: "REGISTER",
                                    requestURI: "sip:example.net", now: .seconds(101), store: users)
        #expect(verdict == .ok(username: "alice"))
        registrar.answer(second, 200, source: source2, headers: ["Contact: " + contact.replacingExpires(with: "300")])
        #expect(pump([e], seconds: 2) { line.status == .up })
        #expect(line.snapshot.expires == 300, "the Contact's expires in the 2xx wins")
        #expect(statuses == [.registering, .up])
        #expect(line.snapshot.server == "udp:127.0.0.1:\(registrar.port)")
    }

    /// RFC 8760: a registrar offering SHA-512-256, SHA-256 and MD5 (one WWW-Authenticate each) gets
    /// an answer with the strongest the line allows; each line setting is honoured.
    @Test func answersTheStrongestAllowedDigestAlgorithm() throws {
        let cases: [(allowed: Set<DigestAlgorithm>, expected: String)] = [
            ([.md5, .sha256, .sha512_256], "SHA-512-256"), ([.md5, .sha256], "SHA-256"), ([.md5], "MD5"),
        ]
        for c in cases {
            let e = try endpoint()
            let registrar = ScriptedRegistrar()
            var acc = account(registrar)
            acc.algorithms = c.allowed
            let line = LineRegistration(account: acc, endpoint: e)
            line.start()
            let (first, source) = try #require(registrar.next(e))
            var server = DigestServer(configuration: .init(realm: "example.net", algorithms: [.sha512_256, .sha256, .md5], qopOptions: [.auth]),
                                      secret: DigestServer.makeSecret())
            let headers = server.challenges(now: .seconds(100)).map { "WWW-Authenticate: " + $0.headerValue }
            #expect(headers.count == 3)
            registrar.answer(first, 401, source: source, headers: headers)
            let (second, source2) = try #require(registrar.next(e))
            let authorization = try #require(second.headers.values(.authorization).first)
            let credentials = try DigestCredentials(parsing: authorization)
            #expect(credentials.algorithm?.uppercased() == c.expected, "\(authorization)")
            var users = DigestUserTable()
            users.set(.password("secret"), username: "alice", realm: "example.net")
            let verdict = server.verify(credentials, method: "REGISTER", requestURI: "sip:example.net", now: .seconds(101), store: users)
            #expect(verdict == .ok(username: "alice"), "\(c.expected): \(verdict)")
            registrar.answer(second, 200, source: source2, headers: ["Expires: 600"])
            #expect(pump([e], seconds: 2) { line.status == .up })
        }
    }

    @Test func wrongPasswordEndsInErrorRegistrationWithoutALoop() throws {
        let e = try endpoint()
        let registrar = ScriptedRegistrar()
        let line = LineRegistration(account: account(registrar), endpoint: e)
        line.start()
        var server = DigestServer(configuration: .init(realm: "example.net", algorithms: [.md5], qopOptions: [.auth]),
                                  secret: DigestServer.makeSecret())
        var sent = 0
        for _ in 0..<2 {
            let (r, s) = try #require(registrar.next(e))
            sent += 1
            registrar.answer(r, 401, source: s, headers: ["WWW-Authenticate: " + server.challenges(now: .seconds(5))[0].headerValue])
        }
        #expect(pump([e], seconds: 2) { line.status == .errorRegistration })
        #expect(registrar.next(e, seconds: 0.5) == nil, "no third REGISTER: back-off, not a loop")
        #expect(line.snapshot.reason.contains("credentials refused"))
        _ = sent
    }

    /// Review finding: a credentialed REGISTER that got a 500 must not leave the digest client
    /// waiting for an outcome forever (every later challenge was refused as wrong credentials).
    @Test func aFailureAfterCredentialsDoesNotLockTheLineOut() throws {
        let e = try endpoint()
        let registrar = ScriptedRegistrar()
        var acc = account(registrar)
        acc.policy.retryInterval = 1
        let line = LineRegistration(account: acc, endpoint: e)
        line.start()
        var server = DigestServer(configuration: .init(realm: "example.net", algorithms: [.md5], qopOptions: [.auth]),
                                  secret: DigestServer.makeSecret())
        for round in 0..<2 {
            let (plain, s1) = try #require(registrar.next(e, seconds: 3), "round \(round)")
            #expect(plain.headers.values(.authorization).isEmpty)
            registrar.answer(plain, 401, source: s1, headers: ["WWW-Authenticate: " + server.challenges(now: .seconds(10))[0].headerValue])
            let (withCredentials, s2) = try #require(registrar.next(e, seconds: 3))
            #expect(!withCredentials.headers.values(.authorization).isEmpty, "round \(round): credentials sent again after the 500")
            registrar.answer(withCredentials, round == 0 ? 500 : 200, source: s2, headers: ["Expires: 600"])
        }
        #expect(pump([e], seconds: 2) { line.status == .up })
    }

    /// Review finding: an unregistration challenged again and again must end, not loop.
    @Test func unregistrationChallengedTwiceEnds() throws {
        let e = try endpoint()
        let registrar = ScriptedRegistrar()
        let line = LineRegistration(account: account(registrar), endpoint: e)
        line.start()
        let (first, s0) = try #require(registrar.next(e))
        registrar.answer(first, 200, source: s0, headers: ["Expires: 600"])
        #expect(pump([e], seconds: 2) { line.status == .up })
        var stopped = false
        line.stop { stopped = true }
        var server = DigestServer(configuration: .init(realm: "example.net", algorithms: [.md5], qopOptions: [.auth]),
                                  secret: DigestServer.makeSecret())
        var sent = 0
        while let (r, s) = registrar.next(e, seconds: 1) {
            sent += 1
            if sent > 5 { break }
            registrar.answer(r, 401, source: s, headers: ["WWW-Authenticate: " + server.challenges(now: .seconds(10))[0].headerValue])
        }
        #expect(sent == 2, "REGISTERs sent while unregistering: \(sent)")
        #expect(pump([e], seconds: 1) { stopped })
    }

    /// Review finding: a late answer to a REGISTER that a network change overtook changes nothing.
    @Test func aLateAnswerToAnOvertakenRegisterIsIgnored() throws {
        let e = try endpoint()
        let registrar = ScriptedRegistrar()
        let line = LineRegistration(account: account(registrar, password: nil), endpoint: e)
        line.start()
        let (first, s0) = try #require(registrar.next(e))
        registrar.answer(first, 200, source: s0, headers: ["Expires: 600"])
        #expect(pump([e], seconds: 2) { line.status == .up })
        let before = line.contactURI
        line.networkChanged(reason: "test")
        let (second, s1) = try #require(registrar.next(e))
        line.networkChanged(reason: "test again")
        let (third, s2) = try #require(registrar.next(e))
        // The overtaken second REGISTER's answer says we are behind a NAT: ignored.
        registrar.answer(second, 200, source: s1, headers: ["Expires: 600"], received: "192.0.2.99", rport: 1234)
        pumpFor([e], seconds: 0.2)
        #expect(line.contactURI == before)
        registrar.answer(third, 200, source: s2, headers: ["Expires: 600"])
        #expect(pump([e], seconds: 2) { line.snapshot.registrations == 2 })
        #expect(registrar.next(e, seconds: 0.5) == nil, "no REGISTER for the ignored NAT address")
    }

    /// Review finding: a 503's Retry-After is honoured before trying again.
    @Test func retryAfterOf503IsHonoured() throws {
        let e = try endpoint()
        let registrar = ScriptedRegistrar()
        var acc = account(registrar, password: nil)
        acc.policy.retryInterval = 1
        let line = LineRegistration(account: acc, endpoint: e)
        line.start()
        let (first, s0) = try #require(registrar.next(e))
        registrar.answer(first, 503, source: s0, headers: ["Retry-After: 30;duration=60"])
        #expect(pump([e], seconds: 1) { line.status == .errorNetwork })
        #expect(registrar.next(e, seconds: 2.5) == nil, "retried before Retry-After")
        #expect(line.snapshot.reason.contains("retry in 30 s"), "\(line.snapshot.reason)")
    }

    @Test func natSeenByTheRegistrarMovesTheContactAndRemovesTheOldBinding() throws {
        let e = try endpoint()
        let registrar = ScriptedRegistrar()
        let line = LineRegistration(account: account(registrar, password: nil), endpoint: e)
        line.start()
        let (first, source) = try #require(registrar.next(e))
        let oldContact = try #require(first.headers.values(.contact).first)
        // The registrar sees us at 192.0.2.44:40000 (a NAT): 200 for the old Contact.
        registrar.answer(first, 200, source: source, headers: ["Contact: " + oldContact], received: "192.0.2.44", rport: 40000)
        let (second, _) = try #require(registrar.next(e))
        let contacts = second.headers.values(.contact)
        #expect(contacts.count == 2)
        #expect(contacts.contains("<sip:alice@127.0.0.1:\(port(of: e))>;expires=0"), "\(contacts)")
        #expect(contacts.contains("<sip:alice@192.0.2.44:40000>;expires=600"), "\(contacts)")
        #expect(line.contactHost == "192.0.2.44" && line.contactPort == 40000)
    }

    @Test func intervalTooBriefIsRetriedWithMinExpires() throws {
        let e = try endpoint()
        let registrar = ScriptedRegistrar()
        let line = LineRegistration(account: account(registrar, password: nil, expires: 60), endpoint: e)
        line.start()
        let (first, source) = try #require(registrar.next(e))
        registrar.answer(first, 423, source: source, headers: ["Min-Expires: 1800"])
        let (second, source2) = try #require(registrar.next(e))
        #expect(second.headers.values(.expires).first == "1800")
        registrar.answer(second, 200, source: source2, headers: ["Expires: 1800"])
        #expect(pump([e], seconds: 2) { line.status == .up })
        #expect(line.snapshot.expires == 1800)
    }

    @Test func forbiddenWaitsAndUnreachableFailsOverToTheBackup() throws {
        let e = try endpoint()
        let primary = ScriptedRegistrar()
        let backup = ScriptedRegistrar()
        // The primary's port is closed: an ICMP port unreachable is a transport error at once.
        let closedPort = UDPProbe.freePort()
        var acc = account(backup, password: nil, backup: backup)
        acc.servers = [SIPURI(host: .ipv4("127.0.0.1"), port: closedPort), backup.uri]
        acc.policy.serverCount = 2
        let line = LineRegistration(account: acc, endpoint: e)
        line.start()
        let (r, s) = try #require(backup.next(e), "failed over to the backup after the primary's transport error")
        backup.answer(r, 200, source: s, headers: ["Expires: 600"])
        #expect(pump([e], seconds: 2) { line.status == .up })
        #expect(line.snapshot.reason.contains("backup"))
        _ = primary

        // 403 from a registrar: Error_Registration and no retry soon.
        let e2 = try endpoint()
        let refusing = ScriptedRegistrar()
        let line2 = LineRegistration(account: account(refusing, password: nil), endpoint: e2)
        line2.start()
        let (r2, s2) = try #require(refusing.next(e2))
        refusing.answer(r2, 403, source: s2)
        #expect(pump([e2], seconds: 2) { line2.status == .errorRegistration })
        #expect(line2.snapshot.reason.contains("403"))
        #expect(refusing.next(e2, seconds: 0.5) == nil)
    }

    @Test func keepalivesGoToTheRegistrarAndStopUnregisters() throws {
        let e = try endpoint()
        let registrar = ScriptedRegistrar()
        let line = LineRegistration(account: account(registrar, password: nil, keepAlive: .crlf, interval: 1), endpoint: e)
        line.start()
        let (first, source) = try #require(registrar.next(e))
        registrar.answer(first, 200, source: source, headers: ["Expires: 600"])
        #expect(pump([e], seconds: 2) { line.status == .up })
        pumpFor([e], seconds: 0.1)
        // About 3.5 s of keepalives at 1 s.
        let deadline = MonotonicClock.milliseconds() + 3500
        while MonotonicClock.milliseconds() < deadline {
            e.step(maxWait: 5)
            if let (bytes, _) = registrar.probe.receiveWithSource(timeout: 0.005), bytes == [13, 10, 13, 10] { registrar.keepAlives += 1 }
        }
        #expect(registrar.keepAlives >= 2, "keepalives received: \(registrar.keepAlives)")

        var stopped = false
        line.stop { stopped = true }
        let (bye, s2) = try #require(registrar.next(e))
        #expect(bye.headers.values(.expires).first == "0")
        #expect(bye.headers.values(.contact).first?.hasSuffix(";expires=0") == true)
        registrar.answer(bye, 200, source: s2)
        #expect(pump([e], seconds: 2) { stopped })
        #expect(line.status == .disabled)
    }

    @Test func networkChangeRegistersAgainAtOnce() throws {
        let e = try endpoint()
        let registrar = ScriptedRegistrar()
        let line = LineRegistration(account: account(registrar, password: nil), endpoint: e)
        line.start()
        let (first, source) = try #require(registrar.next(e))
        registrar.answer(first, 200, source: source, headers: ["Expires: 600"])
        #expect(pump([e], seconds: 2) { line.status == .up })
        let t0 = MonotonicClock.milliseconds()
        line.networkChanged(reason: "WAN address changed")
        let (again, _) = try #require(registrar.next(e, seconds: 2))
        // At once, not at the refresh (300 s away); bound loose enough for qemu.
        #expect(MonotonicClock.milliseconds() - t0 < 5000)
        #expect(try again.cseq().sequence == first.cseq().sequence + 1)
    }
}

extension String {
    /// `<uri>;expires=N` with another N.
    func replacingExpires(with value: String) -> String {
        let parts = split(separator: ";").filter { !$0.hasPrefix("expires=") }
        return parts.joined(separator: ";") + ";expires=" + value
    }
}

/// Steps every endpoint until `done` or `seconds` pass.
func pump(_ endpoints: [SIPEndpoint], seconds: Double, until done: () -> Bool) -> Bool {
    let deadline = MonotonicClock.milliseconds() + UInt64(seconds * 1000)
    while !done() {
        if MonotonicClock.milliseconds() >= deadline { return false }
        for e in endpoints { e.step(maxWait: 5) }
    }
    return true
}

func pumpFor(_ endpoints: [SIPEndpoint], seconds: Double) { _ = pump(endpoints, seconds: seconds) { false } }

func port(of endpoint: SIPEndpoint) -> UInt16 {
    endpoint.localAddresses.first { $0.transport == .udp }?.address.port ?? 0
}

func requestURI(_ m: SIPMessage) -> String? {
    if case .request(let line) = m.startLine { return line.uri.description }
    return nil
}
