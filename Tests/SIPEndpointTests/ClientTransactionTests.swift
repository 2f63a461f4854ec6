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

/// Client transactions through `SIPEndpoint.sendRequest`: a UAC endpoint and a UAS endpoint (or a raw
/// UDP probe playing the peer) on 127.0.0.1, stepped by the test thread.
@Suite("SIPEndpoint client transactions", .serialized)
struct ClientTransactionTests {
    // MARK: OPTIONS over each transport

    @Test func optionsOverUDP() throws {
        let uas = try makeEndpoint([.udp])
        let uac = try makeEndpoint([.udp], configuration: configuration(dns: nil, t1: .milliseconds(50)))
        let uri = "sip:uas@127.0.0.1:" + String(port(of: uas, .udp))
        let events = EventRecorder()
        let request = try clientRequest(.options, to: uri, callID: "c-udp")
        _ = uac.sendRequest(request, handler: events.handler)
        #expect(events.events.isEmpty)
        #expect(pump([uac, uas], seconds: 5) { !events.finals.isEmpty }, "no final response")
        let final = try #require(events.finals.first)
        #expect(final.statusCode == 200)
        #expect(!final.isSynthesised)
        let via = try final.response.topVia()
        #expect(via.transport == "UDP")
        #expect(via.hasRFC3261Branch)
        #expect(via.port == port(of: uac, .udp))
        // rport was asked for and filled in by the UAS (RFC 3581).
        #expect(via.rport == .some(.some(port(of: uac, .udp))))
        #expect(uas.statistics.requestsReceived == 1)
        // Timer K (T4, small here) ends the transaction; the flow closes with it.
        #expect(pump([uac, uas], seconds: 5) { uac.clientTransactionCount == 0 && uac.clientRequestCount == 0 })
        #expect(events.events.count == 1)
        #expect(uac.clientStatistics.responsesMatched == 1)
    }

    @Test func optionsOverTCPReusesTheConnection() throws {
        let uas = try makeEndpoint([.tcp])
        let uac = try makeEndpoint([.udp, .tcp])
        let uri = "sip:uas@127.0.0.1:" + String(port(of: uas, .tcp)) + ";transport=tcp"
        let first = EventRecorder()
        _ = uac.sendRequest(try clientRequest(.options, to: uri, callID: "c-tcp-1"), handler: first.handler)
        #expect(pump([uac, uas], seconds: 5) { !first.finals.isEmpty }, "no final response over TCP")
        #expect(first.finals.first?.statusCode == 200)
        #expect(try first.finals.first?.response.topVia().transport == "TCP")
        #expect(uac.connectionCount == 1)
        let second = EventRecorder()
        _ = uac.sendRequest(try clientRequest(.options, to: uri, callID: "c-tcp-2"), handler: second.handler)
        #expect(pump([uac, uas], seconds: 5) { !second.finals.isEmpty }, "no final response to the second request")
        #expect(second.finals.first?.statusCode == 200)
        // The same connection carried both (RFC 3261 §18.1.1 reuse).
        #expect(uac.connectionCount == 1)
        #expect(uas.connectionCount == 1)
        #expect(uas.statistics.requestsReceived == 2)
    }

    @Test func optionsOverTLSAndVerificationFailures() throws {
        let pki = try ClientTestPKI.make()
        let server = try TLSContext(server: pki.certificateFile, keyFile: pki.keyFile)
        let uas = try makeEndpoint([.tls], tls: server)
        // The same certificate served at 127.0.0.2, which it does not name.
        let other = try makeEndpoint([.tls], host: "127.0.0.2", tls: server)
        let dns = try startDNS(["--host-record=sip.example.test,127.0.0.1", "--host-record=wrong.example.test,127.0.0.1"])
        defer { dns.stop() }
        let client = try TLSContext(clientCAFile: pki.caFile)
        let uac = try makeEndpoint([.udp], configuration: configuration(dns: dns, tlsClient: client))
        let tlsPort = String(port(of: uas, .tls))

        let ok = EventRecorder()
        _ = uac.sendRequest(try clientRequest(.options, to: "sips:uas@127.0.0.1:" + tlsPort, callID: "c-tls-ip"), handler: ok.handler)
        #expect(pump([uac, uas], seconds: 10) { !ok.finals.isEmpty }, "no final response over TLS")
        #expect(ok.finals.first?.statusCode == 200)
        #expect(try ok.finals.first?.response.topVia().transport == "TLS")

        // A name the certificate carries: SNI and verification against sip.example.test (RFC 5922).
        let named = EventRecorder()
        _ = uac.sendRequest(try clientRequest(.options, to: "sips:uas@sip.example.test:" + tlsPort, callID: "c-tls-name"),
                            handler: named.handler)
        #expect(pump([uac, uas], seconds: 10) { !named.finals.isEmpty }, "no final response to the named TLS target")
        #expect(named.finals.first?.statusCode == 200)

        // Same address, a name the certificate does not carry: the handshake fails verification.
        let wrongName = EventRecorder()
        _ = uac.sendRequest(try clientRequest(.options, to: "sips:uas@wrong.example.test:" + tlsPort, callID: "c-tls-wrong"),
                            handler: wrongName.handler)
        #expect(pump([uac, uas], seconds: 10) { !wrongName.finals.isEmpty }, "no outcome for the wrong name")
        #expect(wrongName.events.count == 1)
        if case .transportError(let response, let detail) = wrongName.finals.first {
            #expect(response.statusCode == 503)
            #expect(detail.contains("certificate"), "detail: \(detail)")
        } else {
            Issue.record("expected a transport error, got \(wrongName.events)")
        }

        // An address the certificate does not carry.
        let wrongAddress = EventRecorder()
        _ = uac.sendRequest(try clientRequest(.options, to: "sips:uas@127.0.0.2:" + String(port(of: other, .tls)), callID: "c-tls-addr"),
                            handler: wrongAddress.handler)
        #expect(pump([uac, other], seconds: 10) { !wrongAddress.finals.isEmpty }, "no outcome for the wrong address")
        if case .transportError(_, let detail) = wrongAddress.finals.first {
            #expect(detail.contains("certificate"), "detail: \(detail)")
        } else {
            Issue.record("expected a transport error, got \(wrongAddress.events)")
        }
        #expect(other.statistics.requestsReceived == 0)
        #expect(uas.statistics.requestsReceived == 2)
    }

    @Test func tlsTargetWithoutClientContextIsATransportError() throws {
        let uac = try makeEndpoint([.udp])
        let events = EventRecorder()
        _ = uac.sendRequest(try clientRequest(.options, to: "sips:uas@127.0.0.1:5061", callID: "c-notls"), handler: events.handler)
        // Reported on the next turn of the loop, never inside sendRequest.
        #expect(events.events.isEmpty)
        uac.step(maxWait: 0)
        #expect(events.events.count == 1)
        #expect(events.finals.first?.statusCode == 503)
        #expect(uac.clientRequestCount == 0)
    }

    // MARK: Retransmissions and Timer F

    @Test func udpRetransmissionsToASilentPeerEndInATimeout() throws {
        let t1 = 20
        let uac = try makeEndpoint([.udp], configuration: configuration(dns: nil, t1: .milliseconds(t1)))
        let silent = UDPProbe()
        let events = EventRecorder()
        let start = MonotonicClock.milliseconds()
        _ = uac.sendRequest(try clientRequest(.options, to: "sip:nobody@127.0.0.1:" + String(silent.port), callID: "c-silent"),
                            handler: events.handler)
        // Timer E: T1, 2·T1, 4·T1 (= T2), then T2 each until Timer F at 64·T1 = 1280 ms: 18 sends.
        let sends = collect(silent, count: 40, seconds: 3, stepping: [uac])
        #expect(pump([uac], seconds: 3) { !events.finals.isEmpty })
        let elapsed = (events.times.first ?? start) - start
        #expect(sends.count >= 10 && sends.count <= 19, "sends: \(sends.count)")
        // Every one is the same request (same branch): retransmissions, not new transactions.
        #expect(Set(sends.map(\.bytes)).count == 1)
        if sends.count >= 4 {
            // Stamped when the test reads them, so one gap may shrink when the reader was late for
            // the datagram before it (a loaded machine, qemu); the three together span T1+2·T1+4·T1.
            let gaps = (1..<4).map { Int(sends[$0].at) - Int(sends[$0 - 1].at) }
            // (A late read of the first send shortens the sum by as much: one T1 of slack; qemu
            // measured 129 ms for the 140.)
            #expect(gaps[0] + gaps[1] + gaps[2] >= 6 * t1, "gaps \(gaps)")
            #expect(gaps[2] >= 2 * t1, "the interval doubles: \(gaps)")
        }
        #expect(events.events.count == 1)
        if case .timeout(let response) = events.finals.first {
            #expect(response.statusCode == 408)
            #expect(try response.callID() == "c-silent")
        } else {
            Issue.record("expected a timeout, got \(events.events)")
        }
        // Timer F: 64·T1 after the first send (generous upper bound for slow emulated runs).
        #expect(elapsed >= UInt64(64 * t1) - 5 && elapsed < UInt64(64 * t1) + 1500, "timeout after \(elapsed) ms")
        // Nothing was sent after Timer F.
        if let last = sends.last { #expect(last.at <= (events.times.first ?? 0) + 5) }
        #expect(uac.clientTransactionCount == 0)
    }

    // MARK: INVITE

    @Test func inviteNonSuccessFinalIsAcknowledgedAutomatically() throws {
        // Timer D long enough for the retransmitted 486 below to find the transaction in Completed.
        var c = configuration(dns: nil, t1: .milliseconds(50))
        c.timers = TransactionTimers(t1: .milliseconds(50), t2: .milliseconds(200), t4: .milliseconds(250), timerD: .seconds(10))
        let uac = try makeEndpoint([.udp], configuration: c)
        let peer = UDPProbe()
        let events = EventRecorder()
        _ = uac.sendRequest(try clientRequest(.invite, to: "sip:bob@127.0.0.1:" + String(peer.port), callID: "c-busy", sequence: 7),
                            handler: events.handler)
        let invite = try #require(parsed(collect(peer, count: 1, seconds: 3, stepping: [uac]).first?.bytes), "no INVITE")
        #expect(invite.method == .invite)
        #expect(try invite.maxForwards() == 70)
        #expect(invite.headers[.contentLength] == "0")
        let busy = SIPMessage.response(to: invite, status: 486, reason: "Busy Here", toTag: "busy-1")
        peer.send(busy.serialized(), toPort: port(of: uac, .udp))
        #expect(pump([uac], seconds: 3) { !events.finals.isEmpty })
        #expect(events.finals.first?.statusCode == 486)
        // The ACK: same branch, the response's To tag, CSeq 7 ACK, the INVITE's Request-URI.
        let acks = collect(peer, count: 5, seconds: 0.5, stepping: [uac]).compactMap { parsed($0.bytes) }.filter { $0.method == .ack }
        let ack = try #require(acks.first, "no ACK")
        let ackBranch = try ack.topVia().branch
        let inviteBranch = try invite.topVia().branch
        #expect(ackBranch == inviteBranch)
        #expect(try ack.to().tag == "busy-1")
        #expect(try ack.cseq().sequence == 7)
        #expect(try ack.cseq().method == .ack)
        #expect(ack.requestLine?.uri == invite.requestLine?.uri)
        // A retransmitted 486 is ACKed again and not passed up again.
        peer.send(busy.serialized(), toPort: port(of: uac, .udp))
        let again = collect(peer, count: 3, seconds: 0.5, stepping: [uac]).compactMap { parsed($0.bytes) }
        #expect(again.filter { $0.method == .ack }.count == 1)
        #expect(events.events.count == 1)
    }

    @Test func inviteSuccessAndItsRetransmissionsArePassedUp() throws {
        let uac = try makeEndpoint([.udp], configuration: configuration(dns: nil, t1: .milliseconds(50)))
        let peer = UDPProbe()
        let events = EventRecorder()
        _ = uac.sendRequest(try clientRequest(.invite, to: "sip:bob@127.0.0.1:" + String(peer.port), callID: "c-ok"),
                            handler: events.handler)
        let invite = try #require(parsed(collect(peer, count: 1, seconds: 3, stepping: [uac]).first?.bytes), "no INVITE")
        let ringing = SIPMessage.response(to: invite, status: 180, reason: "Ringing", toTag: "fork-1")
        peer.send(ringing.serialized(), toPort: port(of: uac, .udp))
        #expect(pump([uac], seconds: 3) { events.provisionals.count == 1 })
        let ok = SIPMessage.response(to: invite, status: 200, reason: "OK", toTag: "fork-1")
        peer.send(ok.serialized(), toPort: port(of: uac, .udp))
        #expect(pump([uac], seconds: 3) { events.finals.count == 1 })
        // RFC 6026: the retransmitted 2xx and a 2xx from another fork go up as well.
        peer.send(ok.serialized(), toPort: port(of: uac, .udp))
        let fork = SIPMessage.response(to: invite, status: 200, reason: "OK", toTag: "fork-2")
        peer.send(fork.serialized(), toPort: port(of: uac, .udp))
        #expect(pump([uac], seconds: 3) { events.finals.count == 3 })
        #expect(events.finals.allSatisfy { $0.statusCode == 200 })
        #expect(try events.finals.last?.response.to().tag == "fork-2")
        // The transaction does not ACK a 2xx (that is the TU's, §17.1.1.3): nothing more reaches the
        // peer once the INVITE retransmissions sent before the 180 are read.
        var stale = 0
        while stale < 100, peer.receive(timeout: 0) != nil { stale += 1 }
        let extra = collect(peer, count: 1, seconds: 0.3, stepping: [uac])
        #expect(extra.isEmpty)
        #expect(uac.clientTransactionCount == 1)

        // The TU's ACK for the 2xx: sent once, no transaction, a branch of its own (§17.1.1.3).
        var ackHeaders = SIPHeaders()
        ackHeaders.append(.from, invite.headers[.from] ?? "")
        ackHeaders.append(.to, ok.headers[.to] ?? "")
        ackHeaders.append(.callID, "c-ok")
        ackHeaders.append(.cseq, "1 ACK")
        let ackEvents = EventRecorder()
        _ = uac.sendRequest(SIPMessage(method: .ack, uri: try URI.parse("sip:bob@127.0.0.1:" + String(peer.port)), headers: ackHeaders),
                            handler: ackEvents.handler)
        let sentACK = try #require(parsed(collect(peer, count: 1, seconds: 2, stepping: [uac]).first?.bytes), "no ACK")
        #expect(sentACK.method == .ack)
        let ackBranch = try sentACK.topVia().branch
        let inviteBranch = try invite.topVia().branch
        #expect(ackBranch != nil && ackBranch != inviteBranch)
        #expect(uac.clientTransactionCount == 1)
        #expect(collect(peer, count: 1, seconds: 0.3, stepping: [uac]).isEmpty)
        #expect(ackEvents.events.isEmpty)
    }

    @Test func cancelAfterRingingGets487() throws {
        // T1 = 1 s: no INVITE retransmission within the test, so the UAS's request count is exact.
        var silent = configuration(dns: nil, t1: .seconds(1))
        silent.sendsTryingForPendingInvites = false
        let uas = try makeEndpoint([.udp], configuration: silent)
        var pendingInvite: SIPMessage? = nil
        let defaultUser = uas.transactionUser
        uas.transactionUser = { request in
            if request.method == .invite {
                pendingInvite = request
                return .pending
            }
            return defaultUser(request)
        }
        let uac = try makeEndpoint([.udp], configuration: configuration(dns: nil, t1: .seconds(1)))
        let events = EventRecorder()
        let cancelEvents = EventRecorder()
        let id = uac.sendRequest(try clientRequest(.invite, to: "sip:bob@127.0.0.1:" + String(port(of: uas, .udp)), callID: "c-cancel"),
                                 handler: events.handler)
        #expect(pump([uac, uas], seconds: 3) { pendingInvite != nil }, "the UAS never got the INVITE")
        // No provisional yet: the CANCEL waits (§9.1).
        #expect(uac.cancel(id, handler: cancelEvents.handler))
        #expect(!uac.cancel(id))
        pumpFor([uac, uas], seconds: 0.2)
        #expect(uac.clientStatistics.cancelsSent == 0)
        #expect(uas.statistics.requestsReceived == 1)
        let invite = try #require(pendingInvite)
        #expect(uas.respond(to: invite, status: 180, reason: "Ringing"))
        #expect(pump([uac, uas], seconds: 3) { !events.finals.isEmpty && !cancelEvents.finals.isEmpty })
        #expect(events.provisionals.first?.statusCode == 180)
        #expect(events.finals.first?.statusCode == 487)
        #expect(cancelEvents.finals.first?.statusCode == 200)
        #expect(uac.clientStatistics.cancelsSent == 1)
        // INVITE, CANCEL and the ACK for the 487 reached the UAS.
        #expect(pump([uac, uas], seconds: 2) { uas.statistics.requestsReceived == 3 })
        #expect(events.events.count == 2)
    }

    // MARK: Matching (§17.1.3)

    @Test func responsesThatMatchNothingAreDropped() throws {
        let uac = try makeEndpoint([.udp], configuration: configuration(dns: nil, t1: .milliseconds(200)))
        let peer = UDPProbe()
        let events = EventRecorder()
        _ = uac.sendRequest(try clientRequest(.options, to: "sip:bob@127.0.0.1:" + String(peer.port), callID: "c-match"),
                            handler: events.handler)
        let request = try #require(parsed(collect(peer, count: 1, seconds: 3, stepping: [uac]).first?.bytes), "no request")
        let via = try request.topVia()
        let uacPort = port(of: uac, .udp)

        // Another branch.
        var otherBranch = SIPMessage.response(to: request, status: 200, toTag: "x")
        var v = via
        v.parameters.set("branch", "z9hG4bK-not-ours")
        ViaHandling.replaceTopVia(in: &otherBranch, with: v)
        peer.send(otherBranch.serialized(), toPort: uacPort)
        // The right branch, another CSeq method.
        var otherMethod = SIPMessage.response(to: request, status: 200, toTag: "x")
        otherMethod.headers.set(.cseq, "1 INVITE")
        peer.send(otherMethod.serialized(), toPort: uacPort)
        // The right branch, a sent-by that is not ours (§18.1.2).
        var otherSentBy = SIPMessage.response(to: request, status: 200, toTag: "x")
        var w = via
        w.port = 1
        ViaHandling.replaceTopVia(in: &otherSentBy, with: w)
        peer.send(otherSentBy.serialized(), toPort: uacPort)
        // And one that is not even for this peer's flow: from another socket.
        let stranger = UDPProbe()
        stranger.send(SIPMessage.response(to: request, status: 404, toTag: "y").serialized(), toPort: uacPort)
        // The stranger's 404 does match (branch, method, sent-by): responses may come from anywhere.
        #expect(pump([uac], seconds: 3) { uac.statistics.responsesDropped == 3 && !events.finals.isEmpty })
        #expect(events.events.count == 1)
        #expect(events.finals.first?.statusCode == 404)
        #expect(uac.clientStatistics.responsesWithForeignSentBy == 1)
        // A late 200 after the final is absorbed by the transaction (Completed), not passed up.
        peer.send(SIPMessage.response(to: request, status: 200, toTag: "x").serialized(), toPort: uacPort)
        pumpFor([uac], seconds: 0.2)
        #expect(events.events.count == 1)
    }

    // MARK: Failover (RFC 3263 §4.3)

    /// SRV for `name` with two targets on 127.0.0.1: `first` (priority 10) then `second` (20).
    static func srvZone(_ name: String, transport: TransportKind, first: UInt16, second: UInt16) -> [String] {
        [
            "--srv-host=" + transport.srvPrefix + name + ",first.example.test," + String(first) + ",10,0",
            "--srv-host=" + transport.srvPrefix + name + ",second.example.test," + String(second) + ",20,0",
            "--host-record=first.example.test,127.0.0.1",
            "--host-record=second.example.test,127.0.0.1",
        ]
    }

    @Test func failoverFromASilentTarget() throws {
        let silent = UDPProbe()
        let uas = try makeEndpoint([.udp])
        let dns = try startDNS(Self.srvZone("silent.example.test", transport: .udp, first: silent.port, second: port(of: uas, .udp)))
        defer { dns.stop() }
        let uac = try makeEndpoint([.udp], configuration: configuration(dns: dns, t1: .milliseconds(20)))
        let events = EventRecorder()
        _ = uac.sendRequest(try clientRequest(.options, to: "sip:x@silent.example.test;transport=udp", callID: "c-fo-silent"),
                            handler: events.handler)
        // The lookup runs on the resolver thread: nothing has been sent yet.
        #expect(uac.clientTransactionCount == 0)
        #expect(pump([uac, uas], seconds: 10) { !events.finals.isEmpty }, "no outcome")
        #expect(events.events.count == 1)
        #expect(events.finals.first?.statusCode == 200)
        // The first target really got the request (and its retransmissions) before Timer F.
        let tried = silent.receive(timeout: 0.5).flatMap { try? SIPMessage.parse(datagram: $0) }
        #expect(try tried?.callID() == "c-fo-silent")
        #expect(uac.clientStatistics.failovers == 1)
        #expect(uac.clientStatistics.resolutionsQueued == 1)
        #expect(uas.statistics.requestsReceived == 1)
    }

    @Test func failoverFromARefusingUDPTargetIsQuick() throws {
        let closed = closedUDPPort()
        let uas = try makeEndpoint([.udp])
        let dns = try startDNS(Self.srvZone("refuse.example.test", transport: .udp, first: closed, second: port(of: uas, .udp)))
        defer { dns.stop() }
        // Default T1: Timer F would take 32 s, so an answer within seconds means the ICMP error was seen.
        let uac = try makeEndpoint([.udp], configuration: configuration(dns: dns))
        let events = EventRecorder()
        _ = uac.sendRequest(try clientRequest(.options, to: "sip:x@refuse.example.test;transport=udp", callID: "c-fo-refuse"),
                            handler: events.handler)
        #expect(pump([uac, uas], seconds: 8) { !events.finals.isEmpty }, "no outcome")
        #expect(events.events.count == 1)
        #expect(events.finals.first?.statusCode == 200)
        #expect(uac.clientStatistics.failovers == 1)
        #expect(uac.clientStatistics.transportErrors >= 1)
    }

    @Test func failoverFromARefusedTCPConnection() throws {
        let closed = closedTCPPort()
        let uas = try makeEndpoint([.tcp])
        let dns = try startDNS(Self.srvZone("tcp.example.test", transport: .tcp, first: closed, second: port(of: uas, .tcp)))
        defer { dns.stop() }
        let uac = try makeEndpoint([.udp], configuration: configuration(dns: dns))
        let events = EventRecorder()
        _ = uac.sendRequest(try clientRequest(.options, to: "sip:x@tcp.example.test;transport=tcp", callID: "c-fo-tcp"),
                            handler: events.handler)
        #expect(pump([uac, uas], seconds: 8) { !events.finals.isEmpty }, "no outcome")
        #expect(events.events.count == 1)
        #expect(events.finals.first?.statusCode == 200)
        #expect(uac.clientStatistics.failovers == 1)
        #expect(uas.statistics.requestsReceived == 1)
    }

    @Test func failoverFrom503AndTheCacheServesTheNextRequest() throws {
        let busy = try makeEndpoint([.udp])
        busy.transactionUser = { _ in .respondStatelessly(status: 503, reason: "Service Unavailable", headers: []) }
        let uas = try makeEndpoint([.udp])
        let dns = try startDNS(Self.srvZone("busy.example.test", transport: .udp, first: port(of: busy, .udp), second: port(of: uas, .udp)))
        defer { dns.stop() }
        let uac = try makeEndpoint([.udp], configuration: configuration(dns: dns, t1: .milliseconds(50)))
        let events = EventRecorder()
        _ = uac.sendRequest(try clientRequest(.options, to: "sip:x@busy.example.test;transport=udp", callID: "c-fo-503"),
                            handler: events.handler)
        #expect(pump([uac, uas, busy], seconds: 10) { !events.finals.isEmpty }, "no outcome")
        #expect(events.events.count == 1)
        #expect(events.finals.first?.statusCode == 200)
        #expect(busy.statistics.requestsReceived == 1)
        #expect(uas.statistics.requestsReceived == 1)
        #expect(uac.clientStatistics.failovers == 1)

        // Again: the answers are cached (TTL 60 s), so dnsmasq is not asked a second time.
        let queries = dns.queryCount(for: "_sip._udp.busy.example.test")
        #expect(queries == 1)
        let again = EventRecorder()
        _ = uac.sendRequest(try clientRequest(.options, to: "sip:x@busy.example.test;transport=udp", callID: "c-fo-503-2"),
                            handler: again.handler)
        #expect(pump([uac, uas, busy], seconds: 10) { !again.finals.isEmpty }, "no outcome for the second request")
        #expect(again.finals.first?.statusCode == 200)
        #expect(dns.queryCount(for: "_sip._udp.busy.example.test") == queries)
        #expect(busy.statistics.requestsReceived == 2)

        // Every target answering 503: the last 503 is the outcome.
        let allBusy = try makeEndpoint([.udp])
        allBusy.transactionUser = busy.transactionUser
        let alsoBusy = EventRecorder()
        _ = uac.sendRequest(try clientRequest(.options, to: "sip:x@127.0.0.1:" + String(port(of: allBusy, .udp)), callID: "c-503-only"),
                            handler: alsoBusy.handler)
        #expect(pump([uac, allBusy], seconds: 5) { !alsoBusy.finals.isEmpty })
        #expect(alsoBusy.finals.first?.statusCode == 503)
        #expect(alsoBusy.finals.first?.isSynthesised == false)
    }

    @Test func unknownNameIsATransportError() throws {
        let dns = try startDNS(["--host-record=known.example.test,127.0.0.1"])
        defer { dns.stop() }
        let uac = try makeEndpoint([.udp], configuration: configuration(dns: dns))
        let events = EventRecorder()
        _ = uac.sendRequest(try clientRequest(.options, to: "sip:x@missing.example.test", callID: "c-nx"), handler: events.handler)
        #expect(pump([uac], seconds: 10) { !events.finals.isEmpty }, "no outcome")
        if case .transportError(let response, let detail) = events.finals.first {
            #expect(response.statusCode == 503)
            #expect(detail.contains("missing.example.test"), "detail: \(detail)")
        } else {
            Issue.record("expected a transport error, got \(events.events)")
        }
        #expect(uac.clientStatistics.resolutionFailures == 1)
        #expect(uac.clientRequestCount == 0)
    }
}
