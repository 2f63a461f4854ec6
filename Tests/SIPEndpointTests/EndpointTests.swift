#if canImport(Glibc)
import Glibc
#endif
import Testing
import Config
import SIPCore
import SIPEndpoint
import SIPTransaction
import SIPTransport
import DialtoneTestKit

/// A request from the probe at 127.0.0.1:`port`, with its own branch and Call-ID.
func probeRequest(_ method: String, port: UInt16, branch: String, callID: String, cseqMethod: String? = nil,
                  transport: String = "UDP") -> [UInt8] {
    var text = method + " sip:router@127.0.0.1 SIP/2.0\r\n"
    text += "Via: SIP/2.0/" + transport + " 127.0.0.1:" + String(port) + ";branch=" + branch + ";rport\r\n"
    text += "Max-Forwards: 70\r\n"
    text += "From: <sip:alice@127.0.0.1>;tag=a1\r\n"
    text += "To: <sip:router@127.0.0.1>\r\n"
    text += "Call-ID: " + callID + "\r\n"
    text += "CSeq: 1 " + (cseqMethod ?? method) + "\r\n"
    text += "Content-Length: 0\r\n\r\n"
    return Array(text.utf8)
}

/// An endpoint on 127.0.0.1 (UDP and TCP, free ports), driven by the test thread through `step`.
struct Harness {
    let endpoint: SIPEndpoint
    let udpPort: UInt16
    let tcpPort: UInt16
    let probe = UDPProbe()

    init(configuration: EndpointConfiguration = .default) throws {
        endpoint = SIPEndpoint(configuration: configuration)
        try endpoint.bind([ListenAddress(transport: .udp, host: "127.0.0.1", port: 0),
                           ListenAddress(transport: .tcp, host: "127.0.0.1", port: 0)])
        let addresses = endpoint.localAddresses
        udpPort = addresses.first { $0.transport == .udp }?.address.port ?? 0
        tcpPort = addresses.first { $0.transport == .tcp }?.address.port ?? 0
    }

    /// Sends a datagram to the endpoint and lets it run until it is idle for a moment.
    func send(_ bytes: [UInt8]) {
        probe.send(bytes, toPort: udpPort)
        for _ in 0..<5 { endpoint.step(maxWait: 20) }
    }

    /// The next response the probe got, parsed.
    func response(timeout: Double = 1) -> SIPMessage? {
        guard let bytes = probe.receive(timeout: timeout) else { return nil }
        return try? SIPMessage.parse(datagram: bytes)
    }

    /// Steps the endpoint until `done` or `seconds` pass.
    func run(seconds: Double, until done: () -> Bool) {
        let deadline = MonotonicClock.milliseconds() + UInt64(seconds * 1000)
        while !done() && MonotonicClock.milliseconds() < deadline { endpoint.step(maxWait: 20) }
    }
}

@Suite("SIPEndpoint in process", .serialized)
struct EndpointTests {
    /// Stateful OPTIONS (answersOptionsStatelessly off): the transaction absorbs the retransmission.
    @Test func optionsRetransmissionGetsTheTransactionsResponse() throws {
        let h = try Harness(configuration: EndpointConfiguration(answersOptionsStatelessly: false))
        let options = probeRequest("OPTIONS", port: h.probe.port, branch: "z9hG4bK-rtx-1", callID: "rtx-1")
        h.send(options)
        let first = try #require(h.response(), "no answer to OPTIONS")
        #expect(first.statusCode == 200)
        #expect(first.headers[.allow] == "OPTIONS, ACK, CANCEL")
        h.send(options)
        let second = try #require(h.response(), "no answer to the retransmission")
        #expect(second.serialized() == first.serialized())
        let firstTag = try first.to().tag
        let secondTag = try second.to().tag
        #expect(firstTag != nil)
        #expect(secondTag == firstTag)
        #expect(h.endpoint.statistics.transactionUserDecisions == 1)
        #expect(h.endpoint.statistics.retransmissionsAbsorbed == 1)
        #expect(h.endpoint.serverTransactionCount == 1)
        // The top Via says where it really came from (RFC 3581).
        let via = try first.topVia()
        #expect(via.received == "127.0.0.1")
        #expect(via.rport == .some(.some(h.probe.port)))
    }

    /// The default: OPTIONS is answered statelessly (like Kamailio's sl_send_reply). No transaction is
    /// kept, a retransmission is decided again and gets the same octets, and a flood far past the
    /// transaction cap is still answered 200 because it holds no state. Other methods still run in
    /// transactions.
    @Test func optionsAreAnsweredStatelesslyByDefault() throws {
        let h = try Harness(configuration: EndpointConfiguration(maxServerTransactions: 2))
        let options = probeRequest("OPTIONS", port: h.probe.port, branch: "z9hG4bK-sl-1", callID: "sl-1")
        h.send(options)
        let first = try #require(h.response(), "no answer to OPTIONS")
        #expect(first.statusCode == 200)
        #expect(h.endpoint.serverTransactionCount == 0)
        h.send(options)
        let second = try #require(h.response(), "no answer to the retransmission")
        #expect(second.serialized() == first.serialized())
        #expect(h.endpoint.statistics.transactionUserDecisions == 2)
        #expect(h.endpoint.statistics.statelessAnswers == 2)
        #expect(h.endpoint.statistics.transactionsCreated == 0)
        for i in 0..<10 {
            h.probe.send(probeRequest("OPTIONS", port: h.probe.port, branch: "z9hG4bK-sl-f" + String(i), callID: "sl-f" + String(i)),
                         toPort: h.udpPort)
        }
        for _ in 0..<10 { h.endpoint.step(maxWait: 20) }
        var ok = 0
        while let r = h.response(timeout: 0.5) { if r.statusCode == 200 { ok += 1 } }
        #expect(ok == 10)
        #expect(h.endpoint.statistics.overloadRejections == 0)
        // A MESSAGE (405) still runs in a transaction.
        h.send(probeRequest("MESSAGE", port: h.probe.port, branch: "z9hG4bK-sl-m", callID: "sl-m"))
        #expect(h.response()?.statusCode == 405)
        #expect(h.endpoint.serverTransactionCount == 1)
        #expect(h.endpoint.statistics.transactionsCreated == 1)
    }

    @Test func timerJExpiresTheTransaction() throws {
        let h = try Harness(configuration: EndpointConfiguration(timers: TransactionTimers(t1: .milliseconds(5)),
                                                                 answersOptionsStatelessly: false))
        let options = probeRequest("OPTIONS", port: h.probe.port, branch: "z9hG4bK-j-1", callID: "j-1")
        h.send(options)
        #expect(h.response()?.statusCode == 200)
        #expect(h.endpoint.serverTransactionCount == 1)
        let endpoint = h.endpoint
        h.run(seconds: 5) { endpoint.serverTransactionCount == 0 }
        #expect(h.endpoint.serverTransactionCount == 0)
        #expect(h.endpoint.statistics.transactionsExpiredByTimer == 1)
        #expect(h.endpoint.statistics.transactionsTerminated == 1)
        // After Timer J the same request is new again: a second decision.
        h.send(options)
        #expect(h.response()?.statusCode == 200)
        #expect(h.endpoint.statistics.transactionUserDecisions == 2)
    }

    @Test func inviteGets405AndTheACKIsAbsorbed() throws {
        // T1 stays 500 ms so Timer G does not resend the 405 before the ACK arrives; T4 (Timer I) is short.
        let h = try Harness(configuration: EndpointConfiguration(timers: TransactionTimers(t4: .milliseconds(50))))
        h.send(probeRequest("INVITE", port: h.probe.port, branch: "z9hG4bK-inv-1", callID: "inv-1"))
        let rejected = try #require(h.response(), "no answer to INVITE")
        #expect(rejected.statusCode == 405)
        #expect(rejected.headers[.allow] == "OPTIONS, ACK, CANCEL")
        let toTag = try rejected.to().tag
        // The ACK for a non-2xx response: same branch, the response's To tag.
        var ack = "ACK sip:router@127.0.0.1 SIP/2.0\r\n"
        ack += "Via: SIP/2.0/UDP 127.0.0.1:" + String(h.probe.port) + ";branch=z9hG4bK-inv-1;rport\r\n"
        ack += "Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=a1\r\n"
        ack += "To: <sip:router@127.0.0.1>;tag=" + (toTag ?? "") + "\r\n"
        ack += "Call-ID: inv-1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
        h.send(Array(ack.utf8))
        #expect(h.response(timeout: 0.3) == nil, "an ACK must get no response")
        #expect(h.endpoint.statistics.retransmissionsAbsorbed == 1)
        #expect(h.endpoint.statistics.strayACKs == 0)
        #expect(h.endpoint.statistics.transactionUserDecisions == 1)
        // Timer I ends it (Confirmed → Terminated); Timer G did not resend the 405 after the ACK.
        let endpoint = h.endpoint
        h.run(seconds: 5) { endpoint.serverTransactionCount == 0 }
        #expect(h.endpoint.serverTransactionCount == 0)
        #expect(h.endpoint.statistics.transactionsExpiredByTimer == 1)
    }

    @Test func cancelOfAnUnknownTransactionGets481() throws {
        let h = try Harness()
        h.send(probeRequest("CANCEL", port: h.probe.port, branch: "z9hG4bK-nothing", callID: "cancel-1"))
        let r = try #require(h.response(), "no answer to CANCEL")
        #expect(r.statusCode == 481)
        #expect(try r.cseq() == CSeq(1, .cancel))
    }

    @Test func cancelOfAProceedingInviteGets200And487() throws {
        let h = try Harness()
        let responder = h.endpoint.responder
        h.endpoint.transactionUser = { request in
            request.method == .invite ? .pending : responder.decide(request)
        }
        h.send(probeRequest("INVITE", port: h.probe.port, branch: "z9hG4bK-inv-2", callID: "inv-2"))
        // §17.2.1: the transaction user has not answered yet, so the endpoint says 100 Trying (no To tag).
        let trying = try #require(h.response(timeout: 1), "no 100 Trying for a pending INVITE")
        #expect(trying.statusCode == 100)
        #expect(try trying.to().tag == nil)
        #expect(h.response(timeout: 0.3) == nil, "nothing but the 100 before the transaction user answers")
        #expect(h.endpoint.serverTransactionCount == 1)
        h.send(probeRequest("CANCEL", port: h.probe.port, branch: "z9hG4bK-inv-2", callID: "inv-2"))
        var codes: [Int: String] = [:]
        while let r = h.response(timeout: 1) {
            codes[r.statusCode ?? 0] = (try? r.cseq())?.method.rawValue
        }
        #expect(codes[200] == "CANCEL")
        #expect(codes[487] == "INVITE")
    }

    @Test func transactionsPastTheCapGet503() throws {
        let h = try Harness(configuration: EndpointConfiguration(maxServerTransactions: 3, retryAfterSeconds: 7,
                                                                 answersOptionsStatelessly: false))
        for i in 0..<10 {
            h.probe.send(probeRequest("OPTIONS", port: h.probe.port, branch: "z9hG4bK-cap-" + String(i), callID: "cap-" + String(i)), toPort: h.udpPort)
        }
        for _ in 0..<10 { h.endpoint.step(maxWait: 20) }
        var ok = 0
        var busy = 0
        var retryAfter: [String] = []
        while let r = h.response(timeout: 0.5) {
            if r.statusCode == 200 { ok += 1 }
            if r.statusCode == 503 {
                busy += 1
                retryAfter.append(r.headers[.retryAfter] ?? "")
            }
        }
        #expect(ok == 3)
        #expect(busy == 7)
        #expect(retryAfter.allSatisfy { $0 == "7" })
        #expect(h.endpoint.serverTransactionCount == 3)
        #expect(h.endpoint.statistics.overloadRejections == 7)
    }

    @Test func malformedRequestsAndResponses() throws {
        let h = try Harness()
        // No CSeq: the validator's 400, sent without a transaction.
        var text = "OPTIONS sip:router@127.0.0.1 SIP/2.0\r\n"
        text += "Via: SIP/2.0/UDP 127.0.0.1:" + String(h.probe.port) + ";branch=z9hG4bK-bad-1;rport\r\n"
        text += "From: <sip:alice@127.0.0.1>;tag=a1\r\nTo: <sip:router@127.0.0.1>\r\nCall-ID: bad-1\r\nMax-Forwards: 70\r\n"
        text += "Content-Length: 0\r\n\r\n"
        h.send(Array(text.utf8))
        let r = try #require(h.response(), "no answer to a request without CSeq")
        #expect(r.statusCode == 400)
        // A stray response is dropped.
        var response = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:" + String(h.probe.port) + ";branch=z9hG4bK-x\r\n"
        response += "From: <sip:a@127.0.0.1>;tag=1\r\nTo: <sip:b@127.0.0.1>;tag=2\r\nCall-ID: stray\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        h.send(Array(response.utf8))
        #expect(h.response(timeout: 0.3) == nil)
        #expect(h.endpoint.statistics.responsesDropped == 1)
    }

    /// Stateful OPTIONS over TCP: the transaction ends at once (Timer J is zero on a reliable transport).
    @Test func optionsOverTCPInProcess() throws {
        let h = try Harness(configuration: EndpointConfiguration(answersOptionsStatelessly: false))
        let remote = try #require(SocketAddress(host: "127.0.0.1", port: h.tcpPort))
        let client = try TCPConnection.connect(to: remote, now: MonotonicClock.milliseconds())
        let sent = client.send(bytes: probeRequest("OPTIONS", port: 5060, branch: "z9hG4bK-tcp-1", callID: "tcp-1", transport: "TCP"),
                               now: MonotonicClock.milliseconds())
        #expect(sent.isEmpty)
        var answer: SIPMessage? = nil
        let deadline = MonotonicClock.milliseconds() + 5000
        while answer == nil && MonotonicClock.milliseconds() < deadline {
            h.endpoint.step(maxWait: 10)
            var fd = client.pollDescriptor
            _ = poll(&fd, 1, 10)
            for event in client.handle(revents: fd.revents, now: MonotonicClock.milliseconds()) {
                if case .message(let m) = event { answer = m }
            }
        }
        let r = try #require(answer, "no answer over TCP")
        #expect(r.statusCode == 200)
        #expect(try r.callID() == "tcp-1")
        // Reliable transport: Timer J is zero, the transaction is already gone.
        #expect(h.endpoint.serverTransactionCount == 0)
        #expect(h.endpoint.statistics.transactionsTerminated == 1)
        #expect(h.endpoint.connectionCount == 1)
    }
}
