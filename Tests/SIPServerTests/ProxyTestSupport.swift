#if canImport(Glibc)
import Glibc
#endif
import Testing
import Config
import SIPCore
import SIPEndpoint
import SIPServer
import SIPTransaction
import SIPTransport
import DialtoneTestKit

// Helpers for the proxy tests that run over loopback UDP (ProxyTests.swift): a SIPServerHost on a
// SIPEndpoint bound to 127.0.0.1, stepped by the test thread, and raw UDP peers (UAs, downstream
// hops) that send hand-written SIP and keep what they receive.

/// A raw SIP element on a loopback UDP socket (a UA or a downstream hop), with an inbox of what it
/// received and has not yet been taken.
final class Peer {
    let name: String
    let probe = UDPProbe()
    /// Received and not yet taken, in arrival order.
    private(set) var inbox: [SIPMessage] = []
    /// Everything received, in arrival order.
    private(set) var history: [SIPMessage] = []

    init(_ name: String) { self.name = name }

    var port: UInt16 { probe.port }
    /// `sip:USER@127.0.0.1:PORT`, the contact this peer registers.
    func contact(_ user: String) -> String { "sip:" + user + "@127.0.0.1:" + String(port) }

    func send(_ text: String, to port: UInt16) { probe.send(Array(text.utf8), toPort: port) }
    func send(_ message: SIPMessage, to port: UInt16) { probe.send(message.serialized(), toPort: port) }

    /// Moves what the socket holds into the inbox (without waiting).
    func drain() {
        var budget = 256
        while budget > 0, let bytes = probe.receive(timeout: 0) {
            budget -= 1
            guard let m = try? SIPMessage.parse(datagram: bytes) else { continue }
            inbox.append(m)
            history.append(m)
        }
    }

    /// Removes and returns the first inbox message that matches.
    func take(where match: (SIPMessage) -> Bool) -> SIPMessage? {
        drain()
        guard let i = inbox.firstIndex(where: match) else { return nil }
        return inbox.remove(at: i)
    }

    /// Every message received so far that matches (taken or not).
    func received(where match: (SIPMessage) -> Bool) -> [SIPMessage] {
        drain()
        return history.filter(match)
    }
}

/// Matchers for `Peer.take` and `ProxyLab.wait`.
enum Is {
    static func request(_ method: SIPMethod) -> (SIPMessage) -> Bool { { $0.method == method } }
    static func status(_ code: Int) -> (SIPMessage) -> Bool { { $0.statusCode == code } }
    static func final() -> (SIPMessage) -> Bool { { ($0.statusCode ?? 0) >= 200 } }
    /// A response of `code` to a request of `method` (CSeq).
    static func response(_ code: Int, to method: SIPMethod) -> (SIPMessage) -> Bool {
        { $0.statusCode == code && (try? $0.cseq())?.method == method }
    }
    /// A final response to a request of `method`.
    static func final(to method: SIPMethod) -> (SIPMessage) -> Bool {
        { ($0.statusCode ?? 0) >= 200 && (try? $0.cseq())?.method == method }
    }
    /// Any response to a request of `method`.
    static func response(to method: SIPMethod) -> (SIPMessage) -> Bool {
        { $0.statusCode != nil && (try? $0.cseq())?.method == method }
    }
}

/// A SIPServerHost on an endpoint bound to udp:127.0.0.1:0, domain 127.0.0.1, no authentication.
final class ProxyLab {
    let endpoint: SIPEndpoint
    let host: SIPServerHost
    let port: UInt16
    private let logBox: LogBox
    var logLines: [String] { logBox.lines }

    final class LogBox {
        var lines: [String] = []
    }

    /// - Parameters:
    ///   - mode: `server.mode`.
    ///   - users: `server.accounts` (registrar and proxy: 404 for others, 480 for these unregistered).
    ///   - store: `server.registrar.store`.
    ///   - t1: the endpoint's T1 (retransmissions, Timer B/F = 64·T1).
    init(mode: String = "stateful-proxy", users: [String] = ["alice", "bob", "carol"], recordRoute: Bool = true,
         store: String? = nil, t1: Duration = .milliseconds(500)) throws {
        var json = "{\"server\": {\"mode\": \"" + mode + "\", \"domains\": [\"127.0.0.1\"], \"record-route\": "
        json += recordRoute ? "true" : "false"
        json += ", \"registrar\": {\"authenticate\": false"
        if let store { json += ", \"store\": \"" + store + "\"" }
        json += "}, \"accounts\": ["
        json += users.map { "{\"user\": \"" + $0 + "\", \"password\": \"pw-" + $0 + "\"}" }.joined(separator: ", ")
        json += "]}}"
        let server = try #require(try DaemonConfiguration.parse(Array(json.utf8)).get().server)
        let timers = TransactionTimers(t1: t1, t2: max(t1 * 8, .milliseconds(100)), t4: max(t1 * 10, .milliseconds(100)),
                                       timerD: max(t1 * 8, .milliseconds(100)))
        var configuration = EndpointConfiguration(timers: timers)
        configuration.locator = SIPServerLocator.Configuration(useIPv6: false)
        endpoint = SIPEndpoint(configuration: configuration)
        try endpoint.bind([ListenAddress(transport: .udp, host: "127.0.0.1", port: 0)])
        // Housekeeping (Timer C) often, so a short Timer C is seen in time. Set before the first step.
        endpoint.tickInterval = .milliseconds(20)
        port = endpoint.localAddresses.first { $0.transport == .udp }?.address.port ?? 0
        let box = LogBox()
        logBox = box
        host = SIPServerHost(configuration: server, endpoint: endpoint, nonceSecret: Array(repeating: 7, count: 32),
                             log: { box.lines.append($0) })
    }

    /// `<sip:127.0.0.1:PORT;lr>`: what the proxy puts in Record-Route.
    var recordRoute: String { "<sip:127.0.0.1:" + String(port) + ";lr>" }

    /// Steps the endpoint for `seconds`, whatever happens.
    func run(seconds: Double) {
        let deadline = MonotonicClock.milliseconds() + UInt64(seconds * 1000)
        var turns = 0
        while MonotonicClock.milliseconds() < deadline && turns < 100_000 {
            turns += 1
            endpoint.step(maxWait: 2)
        }
    }

    /// Steps the endpoint until `peer` has received a message that matches (removed from its inbox
    /// and returned), or `seconds` pass (nil).
    func wait(_ peer: Peer, seconds: Double = 2, for match: (SIPMessage) -> Bool) -> SIPMessage? {
        let deadline = MonotonicClock.milliseconds() + UInt64(seconds * 1000)
        var turns = 0
        while turns < 100_000 {
            turns += 1
            if let m = peer.take(where: match) { return m }
            if MonotonicClock.milliseconds() >= deadline { return nil }
            endpoint.step(maxWait: 2)
        }
        return nil
    }

    /// Registers `contact` (default: the peer's own address) for `user` from `peer` and waits for the
    /// 200. `sentBy`: the Via sent-by the REGISTER claims (default: the peer's real address; another
    /// one is what a phone behind NAT writes).
    @discardableResult
    func register(_ peer: Peer, user: String, q: String? = nil, contact: String? = nil, sentBy: String? = nil,
                  callID: String? = nil, cseq: Int = 1) throws -> SIPMessage {
        var c = "<" + (contact ?? peer.contact(user)) + ">"
        if let q { c += ";q=" + q }
        let id = callID ?? "reg-" + user + "-" + String(peer.port)
        var text = "REGISTER sip:127.0.0.1 SIP/2.0\r\n"
        text += "Via: SIP/2.0/UDP " + (sentBy ?? "127.0.0.1:" + String(peer.port)) + ";branch=z9hG4bK-reg-" + id + "-" + String(cseq) + ";rport\r\n"
        text += "Max-Forwards: 70\r\n"
        text += "From: <sip:" + user + "@127.0.0.1>;tag=r" + String(peer.port) + "\r\n"
        text += "To: <sip:" + user + "@127.0.0.1>\r\n"
        text += "Call-ID: " + id + "\r\n"
        text += "CSeq: " + String(cseq) + " REGISTER\r\n"
        text += "Contact: " + c + "\r\n"
        text += "Expires: 300\r\n"
        text += "Content-Length: 0\r\n\r\n"
        peer.send(text, to: port)
        let ok = try #require(wait(peer, for: Is.response(to: .register)), "no answer to REGISTER from \(peer.name)")
        try #require(ok.statusCode == 200, "REGISTER of \(user) from \(peer.name): \(ok.statusCode ?? 0)")
        return ok
    }
}

/// A request as a caller writes it (the top Via names `from`, with `rport`).
struct OutgoingRequest {
    var method: String
    var uri: String
    var from: Peer
    var callID: String
    var branch: String
    var cseq = 1
    var cseqMethod: String? = nil
    var to: String? = nil
    var toTag: String? = nil
    var fromTag = "caller-tag"
    /// nil: no Max-Forwards header at all.
    var maxForwards: Int? = 70
    var extra: [String] = []

    init(_ method: String, _ uri: String, from: Peer, callID: String, branch: String? = nil) {
        self.method = method
        self.uri = uri
        self.from = from
        self.callID = callID
        self.branch = branch ?? "z9hG4bK-" + callID
    }

    var text: String {
        var lines = [method + " " + uri + " SIP/2.0"]
        lines.append("Via: SIP/2.0/UDP 127.0.0.1:" + String(from.port) + ";branch=" + branch + ";rport")
        if let maxForwards { lines.append("Max-Forwards: " + String(maxForwards)) }
        lines.append("From: <sip:alice@127.0.0.1>;tag=" + fromTag)
        lines.append("To: <" + (to ?? uri) + ">" + (toTag.map { ";tag=" + $0 } ?? ""))
        lines.append("Call-ID: " + callID)
        lines.append("CSeq: " + String(cseq) + " " + (cseqMethod ?? method))
        lines.append("Contact: <" + from.contact("alice") + ">")
        lines.append(contentsOf: extra)
        lines.append("Content-Length: 0")
        return lines.joined(separator: "\r\n") + "\r\n\r\n"
    }

    /// The same request with another method (CANCEL, or ACK for a non-2xx: same branch, §9.1, §17.1.1.3).
    func with(method: String) -> OutgoingRequest {
        var r = self
        r.method = method
        r.cseqMethod = nil
        return r
    }

    func send(to port: UInt16) { from.send(text, to: port) }

    var parsed: SIPMessage? { try? SIPMessage(parsing: text) }
}

/// A UA's response to `request` (as it arrived: every Via copied), with `tag` added to To when it has
/// none, and its Contact.
func reply(_ request: SIPMessage, _ status: Int, tag: String = "callee", contact: String? = nil,
           extra: [HeaderField] = []) -> SIPMessage {
    var headers = extra
    if let contact { headers.append(HeaderField(name: .contact, value: "<" + contact + ">")) }
    return SIPMessage.response(to: request, status: status, toTag: status == 100 ? nil : tag, extraHeaders: headers)
}

/// The Via values of a message (empty when they do not parse).
func vias(_ m: SIPMessage) -> [Via] { (try? m.vias()) ?? [] }

/// The Route values of a message as text.
func routeTexts(_ m: SIPMessage) -> [String] { ((try? m.routes()) ?? []).map(\.uri.description) }

/// The Request-URI as text.
func requestURI(_ m: SIPMessage) -> String { m.requestLine?.uri.description ?? "" }
