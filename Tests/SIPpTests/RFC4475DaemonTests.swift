#if canImport(Glibc)
import Glibc
#endif
import Testing
import SIPCore
import DialtoneTestKit

/// Every RFC 4475 torture message sent to a running dialtoned over UDP gets the response the RFC
/// expects from a UAS (role uas) that serves OPTIONS only, and the daemon still answers OPTIONS after.
/// Over TCP each message goes on its own connection and the answer comes back on it (§18.2.2); the
/// stream cases differ where RFC 4475 says they do (see `expectedOverTCP`).
@Suite("RFC 4475 through dialtoned", .serialized)
struct RFC4475DaemonTests {
    /// Expected status per message; 0 means no response at all (a response that must be dropped).
    /// From index.tsv's RFC text for a UAS, with RFC 3261 §8.2's order applied to an element that
    /// implements only OPTIONS: a malformed request gets 400/505 first (§8.2, RFC 4475 §3.1.2); then
    /// method inspection (§8.2.1) gives 405 for a known method not served and 501 for an unknown one,
    /// before the To/Request-URI (416), Require (420) and content (415/406) checks of §8.2.2–8.2.3.
    static let expected: [String: Int] = [
        // §3.1.1 valid messages
        "valid/wsinv": 405,       // INVITE: well-formed, method not served
        "valid/intmeth": 501,     // unknown extension method
        "valid/esc01": 405,       // INVITE, well-formed
        "valid/escnull": 405,     // REGISTER: this element is not a registrar
        "valid/esc02": 501,       // RE%47IST%45R is not REGISTER: unknown method
        "valid/lwsdisp": 200,     // OPTIONS
        "valid/longreq": 405,     // INVITE
        "valid/dblreq": 405,      // REGISTER
        "valid/semiuri": 200,     // OPTIONS
        "valid/transports": 200,  // OPTIONS
        "valid/mpart01": 405,     // MESSAGE
        "valid/unreason": 0,      // a response: nothing was sent that it answers; dropped
        "valid/noreason": 0,      // a response: dropped
        // §3.1.2 invalid messages
        "invalid/badinv01": 400,  // §3.1.2.1: 400
        "invalid/clerr": 400,     // §3.1.2.2: over UDP, 400
        "invalid/scalar02": 400,  // §3.1.2.4: 400 (CSeq)
        "invalid/scalarlg": 0,    // §3.1.2.5: a response, discarded
        "invalid/quotbal": 400,   // §3.1.2.6
        "invalid/ltgtruri": 400,  // §3.1.2.7
        "invalid/lwsruri": 400,   // §3.1.2.8
        "invalid/lwsstart": 400,  // §3.1.2.9
        "invalid/trws": 400,      // §3.1.2.10
        "invalid/escruri": 400,   // §3.1.2.11
        "invalid/baddate": 405,   // §3.1.2.12: the Date need not be rejected; the INVITE is not served
        "invalid/regbadct": 400,  // §3.1.2.13
        "invalid/badaspec": 400,  // §3.1.2.14
        "invalid/baddn": 400,     // §3.1.2.15
        "invalid/badvers": 505,   // §3.1.2.16: 505
        "invalid/mismatch01": 400, // §3.1.2.17: 400
        "invalid/mismatch02": 501, // §3.1.2.18: 501 preferred
        "invalid/bigcode": 0,     // §3.1.2.19: a response, dropped
        "invalid/ncl": 400,       // §3.1.2.3: negative Content-Length
        // §3.2–3.4 semantic messages
        "semantic/badbranch": 200, // §3.2.1? a branch of only the cookie is still well-formed: OPTIONS
        "semantic/insuf": 400,    // §3.3.1: 400 (missing required headers)
        "semantic/unkscm": 416,   // §3.3.2: 416
        "semantic/novelsc": 416,  // §3.3.3: 416 (soap.beep is not a scheme this UAS serves)
        "semantic/unksm2": 405,   // §3.3.4: REGISTER; the registrar's 400 does not apply to a UAS
        "semantic/bext01": 420,   // §3.3.5: 420 for the Require tag (OPTIONS is served)
        "semantic/invut": 405,    // §3.3.6: INVITE not served, before the 415 content check
        "semantic/regaut01": 405, // §3.3.7: REGISTER
        "semantic/multi01": 400,  // §3.3.8: 400
        "semantic/mcl01": 400,    // §3.3.9: 400
        "semantic/bcast": 0,      // §3.3.10: a response, dropped
        "semantic/zeromf": 200,   // §3.3.11: a UAS answers an OPTIONS with Max-Forwards 0
        "semantic/cparam01": 405, // §3.3.12: REGISTER
        "semantic/cparam02": 405, // §3.3.13: REGISTER
        "semantic/regescrt": 405, // §3.3.14: REGISTER
        "semantic/sdp01": 405,    // §3.3.15: INVITE not served, before the 406 Accept check
        "semantic/inv2543": 405,  // §3.4.1: accepted as RFC 2543 INVITE, which is not served
    ]

    static let folders = ["valid", "invalid", "semantic"]

    /// Over a stream the framing decides three messages differently (RFC 4475 and RFC 3261 §18.3).
    /// `closed` means the daemon closes the connection without a response; `waits` means no response
    /// and the connection stays open, waiting for the rest of the message.
    static let closed = -1
    static let waits = 0
    static let expectedOverTCP: [String: Int] = [
        // §3.1.2.2: "If this message were received over TCP, the element would wait for more data":
        // the Content-Length promises more octets than were sent.
        "invalid/clerr": waits,
        // §3.1.2.3: a negative Content-Length cannot frame a stream; "the framing error is not
        // recoverable, and the connection opened for this message MUST be closed".
        "invalid/ncl": closed,
        // §3.3.9: two different Content-Lengths: on a stream the message cannot be framed either.
        "semantic/mcl01": closed,
        // The fixture ends after "l: 0" with no blank line (a datagram ends there anyway); on a
        // stream the header section is unfinished, so the element waits for the rest.
        "invalid/baddn": waits,
    ]

    /// §3.1.1.7 dblreq: over UDP the octets after the first message are ignored; a stream frames
    /// them: the REGISTER (405), the INVITE (405), then the 3 octets its Content-Length (150) leaves
    /// of the 153-octet body start a "message" that is not one: a framing error, so the connection is
    /// closed, after both responses went out.
    static let expectedCodesOverTCP: [String: [Int]] = ["valid/dblreq": [405, 405]]

    /// (class/name, fixture path) for the 49 messages.
    static func messages() -> [(name: String, relative: String)] {
        var list: [(name: String, relative: String)] = []
        for folder in folders {
            for file in Fixtures.list("rfc4475/" + folder) where file.hasSuffix(".sip") {
                list.append((folder + "/" + String(file.dropLast(4)), "rfc4475/" + folder + "/" + file))
            }
        }
        return list
    }

    @Test func everyMessageGetsTheExpectedResponseOverUDP() throws {
        try checkEveryMessage(.udp)
    }

    /// Every message on its own TCP connection (its Via still says UDP: the response must follow the
    /// connection, RFC 3261 §18.2.2, not the Via), then OPTIONS over TCP still answered.
    @Test func everyMessageGetsTheExpectedResponseOverTCP() throws {
        let messages = Self.messages()
        #expect(messages.count == 49, "RFC 4475 fixtures: \(messages.count)")
        let (daemon, port) = try startDaemon(.tcp)
        defer { daemon.terminate() }
        for message in messages {
            let bytes = Self.uniqueBranch(Fixtures.bytes(message.relative), suffix: message.name)
            let want = try #require(Self.expectedOverTCP[message.name] ?? Self.expected[message.name])
            let wantCodes = Self.expectedCodesOverTCP[message.name] ?? (want > 0 ? [want] : [])
            let stream = try #require(LoopbackStream(port: port), "cannot connect to dialtoned over TCP")
            #expect(stream.send(bytes), "\(message.name): send failed")
            // A message that gets no answer is given a second to draw one (or to close).
            stream.read(timeout: want > 0 ? 10 : 1) { Self.statusCodes(inStream: $0).count >= max(1, wantCodes.count) }
            let codes = Self.statusCodes(inStream: stream.received)
            switch want {
            case Self.closed:
                #expect(codes.isEmpty, "\(message.name): expected no response, got \(codes)")
                #expect(stream.peerClosed, "\(message.name): the connection should have been closed")
            case Self.waits:
                #expect(codes.isEmpty, "\(message.name): expected no response, got \(codes)")
                if message.name == "invalid/clerr" {
                    #expect(!stream.peerClosed, "\(message.name): the daemon should still wait for the body")
                }
            default:
                #expect(codes == wantCodes, "\(message.name): got \(codes), expected \(wantCodes)")
            }
            if Self.expectedCodesOverTCP[message.name] != nil {
                stream.read(timeout: 5) { _ in false }
                #expect(stream.peerClosed, "\(message.name): the connection should be closed after the responses")
            }
        }
        let options = "OPTIONS sip:127.0.0.1:" + String(port) + ";transport=tcp SIP/2.0\r\n"
            + "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bK-after-torture-tcp\r\n"
            + "Max-Forwards: 70\r\nFrom: <sip:test@127.0.0.1>;tag=after\r\nTo: <sip:127.0.0.1>\r\n"
            + "Call-ID: after-rfc4475-tcp\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        let stream = try #require(LoopbackStream(port: port))
        #expect(stream.send(Array(options.utf8)))
        stream.read(timeout: 10) { received in
            received.count > 12 && received.starts(with: Array("SIP/2.0 200 ".utf8)) && received.suffix(4) == [13, 10, 13, 10]
        }
        #expect(stream.received.starts(with: Array("SIP/2.0 200 ".utf8)), "dialtoned stopped answering OPTIONS over TCP: \(daemon.output)")
        #expect(!daemon.hasExited)
        let status = daemon.terminate(signal: SIGTERM, timeout: 10)
        #expect(status.flatMap { BackgroundProcess.exitCode($0) } == 0, "dialtoned did not stop cleanly: \(daemon.output)")
    }

    func checkEveryMessage(_ transport: SIPp.Transport) throws {
        let messages = Self.messages()
        #expect(messages.count == 49, "RFC 4475 fixtures: \(messages.count)")
        #expect(Set(messages.map(\.name)) == Set(Self.expected.keys), "table and fixtures differ")

        // Listen where the answers go: the Via sent-by ports (5060 when absent).
        var ports: Set<UInt16> = [5060]
        for message in messages {
            if let via = try? SIPMessage.parse(datagram: Fixtures.bytes(message.relative)).topVia(), let port = via.port {
                ports.insert(port)
            }
        }
        let listener = try #require(LoopbackListener(ports: ports.sorted()), "no free 127.83.x.y address for ports \(ports.sorted())")
        let (daemon, port) = try startDaemon(transport)
        defer { daemon.terminate() }

        var strays: [String] = []
        // Call-IDs already answered: their INVITE server transactions resend the final response
        // (Timer G) until an ACK that this test does not send; those datagrams are not strays.
        var answeredCallIDs: Set<String> = []
        for message in messages {
            // Many RFC 4475 messages share the branch z9hG4bKkdjuw with the same sent-by and method:
            // by RFC 3261 §17.2.3 they would be one transaction, and the daemon rightly answers the
            // later ones as retransmissions. Each message gets its own branch here.
            let bytes = Self.uniqueBranch(Fixtures.bytes(message.relative), suffix: message.name)
            let want = try #require(Self.expected[message.name])
            let callID = Self.callID(of: bytes)
            listener.send(bytes, fromPort: 5060, toPort: port)
            // Wait for the answer to this message (matched by Call-ID); anything else is a stray.
            var got: Int? = nil
            let deadline = now() + (want == 0 ? 1.0 : 10.0)
            var rounds = 0
            while got == nil && now() < deadline && rounds < 2000 {
                rounds += 1
                guard let datagram = listener.receive(timeout: max(0.01, deadline - now())) else { break }
                guard let response = try? SIPMessage.parse(datagram: datagram.bytes), let code = response.statusCode else {
                    strays.append(message.name + ": unparsable datagram")
                    continue
                }
                let responseCallID = response.headers[.callID]
                // A message without a Call-ID (insuf) is answered without one; a late Timer G
                // retransmission of an earlier answer (its Call-ID already answered) is not its answer
                // (qemu runs slowly enough for one to arrive in between).
                if responseCallID == callID || (callID == nil && !answeredCallIDs.contains(responseCallID ?? "-")) {
                    got = code
                } else if answeredCallIDs.contains(responseCallID ?? "-") {
                    continue
                } else {
                    strays.append(message.name + ": " + String(code) + " for Call-ID " + (response.headers[.callID] ?? "-"))
                }
            }
            if got != nil, let callID { answeredCallIDs.insert(callID) }
            #expect((got ?? 0) == want, "\(message.name): got \(got.map(String.init) ?? "no response"), expected \(want == 0 ? "no response" : String(want))")
        }
        #expect(strays.isEmpty, "unexpected datagrams: \(strays)")

        // Still answering OPTIONS, and still running.
        let options = "OPTIONS sip:127.0.0.1:" + String(port) + " SIP/2.0\r\n"
            + "Via: SIP/2.0/UDP " + listener.address + ":5060;branch=z9hG4bK-after-torture;rport\r\n"
            + "Max-Forwards: 70\r\nFrom: <sip:test@127.0.0.1>;tag=after\r\nTo: <sip:127.0.0.1>\r\n"
            + "Call-ID: after-rfc4475\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        listener.send(Array(options.utf8), fromPort: 5060, toPort: port)
        var answered = false
        for _ in 0..<20 {
            guard let datagram = listener.receive(timeout: 5) else { break }
            if let response = try? SIPMessage.parse(datagram: datagram.bytes), response.statusCode == 200,
               response.headers[.callID] == "after-rfc4475" { answered = true; break }
        }
        #expect(answered, "dialtoned stopped answering OPTIONS: \(daemon.output)")
        #expect(!daemon.hasExited)
        let status = daemon.terminate(signal: SIGTERM, timeout: 10)
        #expect(status.flatMap { BackgroundProcess.exitCode($0) } == 0, "dialtoned did not stop cleanly: \(daemon.output)")
    }

    /// The status codes of the responses framed in `bytes` (a stream as received so far).
    static func statusCodes(inStream bytes: [UInt8]) -> [Int] {
        var framer = SIPStreamFramer(role: .client)
        framer.append(bytes)
        var codes: [Int] = []
        var rounds = 0
        while rounds < 16, let event = try? framer.next() {
            rounds += 1
            if case .message(let m) = event, let code = m.statusCode { codes.append(code) }
        }
        return codes
    }

    /// The Call-ID the message carries, from the parse or from the headers of a failed parse.
    static func callID(of bytes: [UInt8]) -> String? {
        switch SIPMessage.parseDetailed(datagram: bytes, limits: .default) {
        case .success(let message): return message.headers[.callID]
        case .failure(let failure): return failure.headers?[.callID]
        }
    }

    func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

extension RFC4475DaemonTests {
    /// `bytes` with every `z9hG4bKkdjuw` branch made unique by `suffix` (token characters only).
    static func uniqueBranch(_ bytes: [UInt8], suffix: String) -> [UInt8] {
        let needle = Array("z9hG4bKkdjuw".utf8)
        let tag = Array(("-" + suffix.filter { $0.isLetter || $0.isNumber }).utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 32)
        var i = 0
        while i < bytes.count {
            if i + needle.count <= bytes.count && Array(bytes[i..<(i + needle.count)]) == needle {
                out += needle
                out += tag
                i += needle.count
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }
}
