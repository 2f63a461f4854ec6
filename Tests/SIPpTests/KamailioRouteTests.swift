#if canImport(Glibc)
import Glibc
#endif
import Testing
import SIPCore
import DialtoneTestKit

/// dialtoned's stateful proxy next to a real Kamailio (tm + rr), in front of it and behind it: both
/// record-route, the callee sees both Record-Route entries in path order, and the in-dialog requests
/// (ACK, BYE, from either side) travel the Route set through both proxies by loose routing, each
/// proxy taking its own Route off (RFC 3261 §16.4, §16.6 step 4, §16.12). The user agents are raw UDP
/// sockets so that every header can be checked.
@Suite("dialtoned proxy with Kamailio: Record-Route and loose routing", .serialized)
struct KamailioRouteTests {
    @Test func kamailioInFrontOfDialtone() throws {
        let caller = RawUA(user: "alice")
        let callee = RawUA(user: "bob")
        let dialtonePort = UDPProbe.freePort()
        let daemon = try startProxyDaemon(port: dialtonePort)
        defer { daemon.stop() }
        let kamailioPort = UDPProbe.freePort()
        let kamailio = try startKamailio(port: kamailioPort, nextHop: "sip:127.0.0.1:" + String(dialtonePort))
        defer { _ = kamailio.stop() }

        try callee.register(at: dialtonePort)
        // Caller → Kamailio → dialtoned (location lookup) → callee.
        caller.send(caller.invite(uri: "sip:bob@127.0.0.1", callID: "front-1"), toPort: kamailioPort)
        let invite = try #require(callee.receiveRequest(.invite), "the INVITE did not reach the callee")
        #expect(invite.requestLine?.uri.description == "sip:bob@127.0.0.1:" + String(callee.port))
        let rr = try invite.recordRoutes().map(hop)
        #expect(rr == ["127.0.0.1:" + String(dialtonePort) + ";lr", "127.0.0.1:" + String(kamailioPort) + ";lr"])
        #expect(try invite.vias().count == 3)
        #expect(try invite.maxForwards() == 68)

        callee.respond(to: invite, status: 180, reason: "Ringing")
        callee.respond(to: invite, status: 200, reason: "OK")
        let ok = try #require(caller.receiveResponse(status: 200), "no 200 reached the caller")
        #expect(try ok.vias().count == 1)
        let okRoute = try ok.recordRoutes().map(\.description)
        #expect(okRoute.count == 2)
        let toTag = try #require(try ok.to().tag)

        // The caller's route set is the Record-Route reversed (§12.1.2): Kamailio first.
        let routeSet = Array(okRoute.reversed())
        caller.send(caller.inDialog("ACK", cseq: 1, target: "sip:bob@127.0.0.1:" + String(callee.port), routes: routeSet,
                                    callID: "front-1", toTag: toTag), toPort: kamailioPort)
        let ack = try #require(callee.receiveRequest(.ack), "the ACK did not reach the callee")
        #expect(try ack.routes().isEmpty, "a proxy left its Route on the ACK")

        caller.send(caller.inDialog("BYE", cseq: 2, target: "sip:bob@127.0.0.1:" + String(callee.port), routes: routeSet,
                                    callID: "front-1", toTag: toTag), toPort: kamailioPort)
        let bye = try #require(callee.receiveRequest(.bye), "the BYE did not reach the callee")
        #expect(try bye.routes().isEmpty)
        #expect(try bye.vias().count == 3, "the BYE did not pass both proxies")
        callee.respond(to: bye, status: 200, reason: "OK")
        let byeOK = try #require(caller.receiveResponse(status: 200, method: .bye), "the BYE's 200 did not come back")
        #expect(try byeOK.vias().count == 1)
    }

    @Test func kamailioBehindDialtone() throws {
        let caller = RawUA(user: "alice")
        let callee = RawUA(user: "bob")
        let dialtonePort = UDPProbe.freePort()
        let daemon = try startProxyDaemon(port: dialtonePort)
        defer { daemon.stop() }
        let kamailioPort = UDPProbe.freePort()
        let kamailio = try startKamailio(port: kamailioPort, nextHop: "sip:127.0.0.1:" + String(callee.port))
        defer { _ = kamailio.stop() }

        // dialtoned as the caller's outbound proxy (preloaded Route); the Request-URI names Kamailio,
        // which is not dialtoned, so dialtoned forwards it there; Kamailio relays to the callee.
        let outbound = "<sip:127.0.0.1:" + String(dialtonePort) + ";lr>"
        caller.send(caller.invite(uri: "sip:bob@127.0.0.1:" + String(kamailioPort), callID: "behind-1", routes: [outbound]),
                    toPort: dialtonePort)
        let invite = try #require(callee.receiveRequest(.invite), "the INVITE did not reach the callee")
        let rr = try invite.recordRoutes().map(hop)
        #expect(rr == ["127.0.0.1:" + String(kamailioPort) + ";lr", "127.0.0.1:" + String(dialtonePort) + ";lr"])
        #expect(try invite.routes().isEmpty, "dialtoned did not take its own Route off")
        #expect(try invite.vias().count == 3)

        callee.respond(to: invite, status: 200, reason: "OK")
        let ok = try #require(caller.receiveResponse(status: 200), "no 200 reached the caller")
        let okRoute = try ok.recordRoutes().map(\.description)
        let toTag = try #require(try ok.to().tag)
        // ACK from the caller: route set reversed, dialtoned first (forwarded by its ACK path).
        caller.send(caller.inDialog("ACK", cseq: 1, target: "sip:bob@127.0.0.1:" + String(callee.port),
                                    routes: Array(okRoute.reversed()), callID: "behind-1", toTag: toTag), toPort: dialtonePort)
        let ack = try #require(callee.receiveRequest(.ack), "the ACK did not reach the callee through both proxies")
        #expect(try ack.routes().isEmpty)
        #expect(try ack.vias().count == 3)

        // BYE from the callee: its route set is the Record-Route in order (§12.1.1): Kamailio first.
        let calleeBye = callee.inDialog("BYE", cseq: 1, target: "sip:alice@127.0.0.1:" + String(caller.port), routes: okRoute,
                                        callID: "behind-1", toTag: "a-behind-1", fromTag: toTag, fromUser: "bob", toUser: "alice")
        callee.send(calleeBye, toPort: kamailioPort)
        let bye = try #require(caller.receiveRequest(.bye), "the callee's BYE did not reach the caller")
        #expect(try bye.routes().isEmpty)
        #expect(try bye.vias().count == 3)
        #expect(bye.requestLine?.uri.description == "sip:alice@127.0.0.1:" + String(caller.port))
        caller.respond(to: bye, status: 200, reason: "OK")
        #expect(callee.receiveResponse(status: 200, method: .bye) != nil, "the 200 for the BYE did not come back")
    }

    // MARK: Peers

    func startProxyDaemon(port: UInt16) throws -> BackgroundProcess {
        let path = try #require(BuiltProducts.executable("dialtoned"), "dialtoned is not built")
        let dir = try TemporaryDirectory()
        let json = """
            {"sip": {"listen": ["udp:127.0.0.1:\(port)"]},
             "server": {"mode": "stateful-proxy", "domains": ["127.0.0.1"],
                        "registrar": {"authenticate": false}, "accounts": [{"user": "bob", "password": "b"}]}}
            """
        let config = try dir.write("dialtone.json", Array(json.utf8))
        let daemon = try BackgroundProcess(path, ["--config", config])
        try #require(daemon.waitForOutput("ready", timeout: 30), "dialtoned did not start: \(daemon.output)")
        return daemon
    }

    func startKamailio(port: UInt16, nextHop: String) throws -> Kamailio {
        _ = try #require(Kamailio.executable, "kamailio is not installed (make deps)")
        let dir = try TemporaryDirectory()
        let text = Fixtures.text("kamailio/record-route.cfg").split(separator: "@NEXT_HOP@", omittingEmptySubsequences: false)
            .joined(separator: nextHop)
        let path = try dir.write("kamailio.cfg", Array(text.utf8))
        return try Kamailio(configuration: path, port: port)
    }
}

/// A Record-Route entry as `host:port` plus `;lr` when it is a loose router (Kamailio adds `ftag`).
func hop(_ entry: NameAddress) -> String {
    guard let uri = entry.uri.sipURI else { return entry.description }
    return uri.host.description + ":" + String(uri.port ?? 5060) + (uri.isLooseRouter ? ";lr" : "")
}

/// A user agent written by hand on a UDP socket: it sends what the test writes and answers with
/// responses built per RFC 3261 §8.2.6, so every header a proxy touched can be checked.
final class RawUA {
    let probe = UDPProbe()
    let user: String
    var port: UInt16 { probe.port }
    private var branchCounter = 0

    init(user: String) { self.user = user }

    func send(_ text: String, toPort port: UInt16) {
        probe.send(Array(text.utf8), toPort: port)
    }

    private func branch() -> String {
        branchCounter += 1
        return "z9hG4bK-" + user + "-" + String(port) + "-" + String(branchCounter)
    }

    private func via() -> String { "Via: SIP/2.0/UDP 127.0.0.1:" + String(port) + ";branch=" + branch() + ";rport\r\n" }

    func register(at registrarPort: UInt16) throws {
        send("REGISTER sip:127.0.0.1 SIP/2.0\r\n" + via() + "Max-Forwards: 70\r\n"
             + "From: <sip:" + user + "@127.0.0.1>;tag=r" + String(port) + "\r\nTo: <sip:" + user + "@127.0.0.1>\r\n"
             + "Call-ID: reg-" + user + String(port) + "\r\nCSeq: 1 REGISTER\r\n"
             + "Contact: <sip:" + user + "@127.0.0.1:" + String(port) + ">\r\nExpires: 600\r\nContent-Length: 0\r\n\r\n",
             toPort: registrarPort)
        let ok = receiveResponse(status: 200, method: .register)
        try #require(ok != nil, "REGISTER got no 200")
    }

    func invite(uri: String, callID: String, routes: [String] = []) -> String {
        var text = "INVITE " + uri + " SIP/2.0\r\n" + via() + "Max-Forwards: 70\r\n"
        for r in routes { text += "Route: " + r + "\r\n" }
        text += "From: <sip:" + user + "@127.0.0.1>;tag=a-" + callID + "\r\nTo: <" + uri + ">\r\nCall-ID: " + callID + "\r\n"
        text += "CSeq: 1 INVITE\r\nContact: <sip:" + user + "@127.0.0.1:" + String(port) + ">\r\nContent-Length: 0\r\n\r\n"
        return text
    }

    func inDialog(_ method: String, cseq: Int, target: String, routes: [String], callID: String, toTag: String,
                  fromTag: String? = nil, fromUser: String = "alice", toUser: String = "bob") -> String {
        var text = method + " " + target + " SIP/2.0\r\n" + via() + "Max-Forwards: 70\r\n"
        for r in routes { text += "Route: " + r + "\r\n" }
        text += "From: <sip:" + fromUser + "@127.0.0.1>;tag=" + (fromTag ?? "a-" + callID) + "\r\n"
        text += "To: <sip:" + toUser + "@127.0.0.1>;tag=" + toTag + "\r\nCall-ID: " + callID + "\r\n"
        text += "CSeq: " + String(cseq) + " " + method + "\r\nContent-Length: 0\r\n\r\n"
        return text
    }

    /// The next request of `method` within the time (other messages are skipped).
    func receiveRequest(_ method: SIPMethod, seconds: Double = 5) -> SIPMessage? {
        receive(seconds: seconds) { $0.method == method }
    }

    /// The next response with `status` (to `method`, default INVITE) within the time.
    func receiveResponse(status: Int, method: SIPMethod = .invite, seconds: Double = 5) -> SIPMessage? {
        receive(seconds: seconds) { $0.statusCode == status && (try? $0.cseq())?.method == method }
    }

    private func receive(seconds: Double, _ wanted: (SIPMessage) -> Bool) -> SIPMessage? {
        let deadline = Double(monotonicMilliseconds()) + seconds * 1000
        var budget = 200
        while budget > 0 {
            budget -= 1
            let left = deadline - Double(monotonicMilliseconds())
            guard left > 0, let bytes = probe.receive(timeout: left / 1000) else { return nil }
            if case .success(let m) = SIPMessage.parseDetailed(datagram: bytes, limits: .default), wanted(m) { return m }
        }
        return nil
    }

    /// A response to `request` (§8.2.6.2): Via, From, To (with our tag), Call-ID, CSeq, Record-Route
    /// copied; sent to the top Via (received/rport).
    func respond(to request: SIPMessage, status: Int, reason: String) {
        var text = "SIP/2.0 " + String(status) + " " + reason + "\r\n"
        for field in request.headers where [HeaderName.via, .recordRoute, .from, .callID, .cseq].contains(field.name) {
            text += field.name.description + ": " + field.value + "\r\n"
        }
        var to = request.headers[.to] ?? ""
        if (try? request.to())?.tag == nil { to += ";tag=" + user + "-tag" }
        text += "To: " + to + "\r\nContact: <sip:" + user + "@127.0.0.1:" + String(port) + ">\r\nContent-Length: 0\r\n\r\n"
        guard let via = try? request.topVia() else { return }
        var target = via.port ?? 5060
        if case .some(.some(let rport)) = via.rport { target = rport }
        send(text, toPort: target)
    }
}

func monotonicMilliseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}
