import Testing
import Config
import SIPAuth
import SIPCore
import SIPEndpoint
import SIPTransport
import SIPUserAgent

/// TR-104 InboundAuth on the user agent's decision for requests to a line's Contact.
@Suite("Inbound policy (decisions)")
struct InboundPolicyTests {
    func invite(to line: LineRegistration, authorization: String? = nil) throws -> SIPMessage {
        var text = "INVITE sip:alice@\(line.contactHost):\(line.contactPort) SIP/2.0\r\n"
        text += "Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bK-in1\r\nMax-Forwards: 70\r\n"
        text += "From: <sip:100@192.0.2.9>;tag=f1\r\nTo: <sip:alice@example.net>\r\nCall-ID: in-\(authorization == nil ? 1 : 2)\r\n"
        text += "CSeq: 1 INVITE\r\nContact: <sip:100@192.0.2.9:5060>\r\n"
        if let authorization { text += "Authorization: \(authorization)\r\n" }
        text += "Content-Length: 0\r\n\r\n"
        return try SIPMessage(parsing: text)
    }

    func userAgent(_ policy: LineAccount.InboundPolicy) throws -> (UserAgent, SIPEndpoint) {
        let e = SIPEndpoint(configuration: .default)
        try e.bind([ListenAddress(transport: .udp, host: "127.0.0.1", port: 0)])
        var account = LineAccount(name: "line1", aor: SIPURI(user: "alice", host: .name("example.net")),
                                  registrar: SIPURI(host: .name("example.net")), servers: [SIPURI(host: .ipv4("127.0.0.1"), port: 9)])
        account.inbound = policy
        return (UserAgent(accounts: [account], endpoint: e), e)
    }

    func status(_ d: StatelessResponder.Decision?) -> Int? {
        if case .respond(let code, _, _)? = d { return code }
        return nil
    }

    @Test func sourceFilterRefusesAnUnregisteredLinesInvite() throws {
        let (ua, e) = try userAgent(.sourceFilter)
        defer { withExtendedLifetime(e) {} }
        let source = RequestSource(transport: .udp, address: try #require(SocketAddress(host: "192.0.2.9", port: 5060)))
        #expect(status(ua.decide(try invite(to: ua.lines[0]), source: source)) == 403)
    }

    @Test func digestChallengesThenAcceptsTheRightCredentialsOnly() throws {
        let (ua, e) = try userAgent(.digest(user: "isp", password: "inbound-pw"))
        defer { withExtendedLifetime(e) {} }
        let line = ua.lines[0]
        let source = RequestSource(transport: .udp, address: try #require(SocketAddress(host: "192.0.2.9", port: 5060)))
        let first = ua.decide(try invite(to: line), source: source)
        #expect(status(first) == 401)
        guard case .respond(_, _, let headers)? = first else { return }
        let challenge = try DigestChallenge(parsing: try #require(headers.first { $0.name == .wwwAuthenticate }?.value))
        let uri = "sip:alice@\(line.contactHost):\(line.contactPort)"
        var wrong = DigestClient(username: "isp", secret: .password("guess"))
        let bad = try wrong.respond(to: [challenge], method: "INVITE", uri: uri)[0].headerValue
        #expect(status(ua.decide(try invite(to: line, authorization: bad), source: source)) == 403)
        var right = DigestClient(username: "isp", secret: .password("inbound-pw"))
        let good = try right.respond(to: [challenge], method: "INVITE", uri: uri)[0].headerValue
        let accepted = ua.decide(try invite(to: line, authorization: good), source: source)
        if case .pending? = accepted {} else { Issue.record("expected the call to be taken (pending), got \(String(describing: accepted))") }
        #expect(ua.calls.count == 1 && ua.calls[0].direction == .incoming)
    }

    @Test func requestsForOtherUsersOrAddressesAreNotTheLines() throws {
        let (ua, e) = try userAgent(.none)
        defer { withExtendedLifetime(e) {} }
        let line = ua.lines[0]
        let other = try SIPMessage(parsing: "INVITE sip:bob@\(line.contactHost):\(line.contactPort) SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-x\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:bob@c>\r\nCall-ID: o1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
        #expect(ua.decide(other, source: nil) == nil)
        let stray = try SIPMessage(parsing: "BYE sip:alice@\(line.contactHost):\(line.contactPort) SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-y\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:alice@c>;tag=2\r\nCall-ID: nothing\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n")
        #expect(status(ua.decide(stray, source: nil)) == 481)
    }
}
