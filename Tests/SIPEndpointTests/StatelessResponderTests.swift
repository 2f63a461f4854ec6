import Testing
import SIPCore
import SIPEndpoint
import DialtoneTestKit

func request(_ method: String, cseqMethod: String? = nil, via: String = "SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bK-t1;rport", extra: String = "") -> [UInt8] {
    Array("""
    \(method) sip:router@192.0.2.1 SIP/2.0\r
    Via: \(via)\r
    Max-Forwards: 70\r
    From: <sip:alice@192.0.2.9>;tag=a1\r
    To: <sip:router@192.0.2.1>\r
    Call-ID: resp-test-1@192.0.2.9\r
    CSeq: 7 \(cseqMethod ?? method)\r
    \(extra)Content-Length: 0\r
    \r

    """.utf8)
}

@Suite("Stateless responder (the daemon's answers before the transaction layer)")
struct StatelessResponderTests {
    let responder = StatelessResponder()

    func replied(_ outcome: StatelessResponder.Outcome) throws -> (SIPMessage, StatelessResponder.Reply) {
        guard case .replied(let reply, _) = outcome else {
            Issue.record("expected a reply, got \(outcome)")
            throw SIPParseError(.empty, "no reply")
        }
        return (try SIPMessage.parse(datagram: reply.bytes), reply)
    }

    @Test func optionsGets200WithTheTruthAboutCapabilities() throws {
        let (r, reply) = try replied(responder.handle(datagram: request("OPTIONS"), sourceHost: "192.0.2.9", sourcePort: 40000))
        #expect(r.statusCode == 200)
        #expect(try r.callID() == "resp-test-1@192.0.2.9")
        #expect(try r.cseq() == CSeq(7, .options))
        #expect(try r.from().tag == "a1")
        #expect(try r.to().tag != nil)
        #expect(r.headers[.allow] == "OPTIONS, ACK, CANCEL")
        #expect(r.headers[.accept] == "application/sdp")
        #expect(r.headers[.server]?.hasPrefix("Dialtone/") == true)
        // rport requested: reply to the source port, and record it (RFC 3581 §4).
        #expect(reply.host == "192.0.2.9" && reply.port == 40000)
        let via = try r.topVia()
        #expect(via.rport == .some(40000))
        #expect(via.received == "192.0.2.9")  // RFC 3581 §4: added whenever rport is present
    }

    @Test func receivedAndSentByPortWithoutRport() throws {
        let bytes = request("OPTIONS", via: "SIP/2.0/UDP phone.example.com:5070;branch=z9hG4bK-t2")
        let (r, reply) = try replied(responder.handle(datagram: bytes, sourceHost: "192.0.2.9", sourcePort: 40001))
        #expect(try r.topVia().received == "192.0.2.9")
        #expect(reply.host == "192.0.2.9" && reply.port == 5070)
        let noPort = request("OPTIONS", via: "SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK-t3")
        let (_, reply2) = try replied(responder.handle(datagram: noPort, sourceHost: "192.0.2.9", sourcePort: 40002))
        #expect(reply2.port == 5060)
    }

    @Test func retransmissionGetsTheSameToTag() throws {
        let (a, _) = try replied(responder.handle(datagram: request("OPTIONS"), sourceHost: "192.0.2.9", sourcePort: 40000))
        let (b, _) = try replied(responder.handle(datagram: request("OPTIONS"), sourceHost: "192.0.2.9", sourcePort: 40000))
        #expect(try a.to().tag == b.to().tag)
    }

    @Test func methodsItDoesNotServe() throws {
        let (invite, _) = try replied(responder.handle(datagram: request("INVITE"), sourceHost: "192.0.2.9", sourcePort: 40000))
        #expect(invite.statusCode == 405)
        #expect(invite.headers[.allow] == "OPTIONS, ACK, CANCEL")
        let (unknown, _) = try replied(responder.handle(datagram: request("FROBNICATE"), sourceHost: "192.0.2.9", sourcePort: 40000))
        #expect(unknown.statusCode == 501)
        let (cancel, _) = try replied(responder.handle(datagram: request("CANCEL"), sourceHost: "192.0.2.9", sourcePort: 40000))
        #expect(cancel.statusCode == 481)
        #expect(responder.handle(datagram: request("ACK"), sourceHost: "192.0.2.9", sourcePort: 40000) == .absorbed("ACK"))
    }

    @Test func malformedRequestsGetTheValidatorsResponse() throws {
        let (bad, _) = try replied(responder.handle(datagram: Fixtures.bytes("rfc4475/invalid/badinv01.sip"), sourceHost: "192.0.2.15", sourcePort: 5060))
        #expect(bad.statusCode == 400)
        #expect(bad.statusLine?.reason.contains("Via") == true)
        let (vers, _) = try replied(responder.handle(datagram: Fixtures.bytes("rfc4475/invalid/badvers.sip"), sourceHost: "192.0.2.1", sourcePort: 5060))
        #expect(vers.statusCode == 505)
        let (mismatch, _) = try replied(responder.handle(datagram: request("OPTIONS", cseqMethod: "INVITE"), sourceHost: "192.0.2.9", sourcePort: 40000))
        #expect(mismatch.statusCode == 400)
    }

    @Test func responsesKeepalivesAndGarbageAreNotAnswered() {
        let response = Array("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n".utf8)
        guard case .dropped = responder.handle(datagram: response, sourceHost: "192.0.2.1", sourcePort: 5060) else {
            Issue.record("a response must be dropped")
            return
        }
        #expect(responder.handle(datagram: Array("\r\n\r\n".utf8), sourceHost: "192.0.2.1", sourcePort: 5060) == .absorbed("keepalive"))
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<200 {
            let junk = (0..<Int(generator.next() % 300)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            if case .replied = responder.handle(datagram: junk, sourceHost: "192.0.2.1", sourcePort: 5060) {
                Issue.record("random bytes must not be answered")
            }
        }
    }
}
