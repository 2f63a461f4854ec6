import SIPCore
import SIPTransaction
import SIPDialog
import Testing

/// The manual clock's epoch for every test.
let t0 = Instant(nanoseconds: 1_000_000_000_000)

func ms(_ n: Int64) -> Duration { .milliseconds(n) }

/// A random source that returns the listed values in turn (then repeats), so glare delays are known.
struct ScriptedRandom: RandomNumberGenerator, Sendable {
    var values: [UInt64]
    var index = 0

    init(_ values: [UInt64]) { self.values = values.isEmpty ? [0] : values }

    mutating func next() -> UInt64 {
        let value = values[index % values.count]
        index += 1
        return value
    }
}

enum Fixture {
    static let offer = SessionBody(sdp: "v=0\r\no=alice 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n")
    static let answer = SessionBody(sdp: "v=0\r\no=bob 7 7 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 3456 RTP/AVP 0\r\n")
    static let holdOffer = SessionBody(sdp: "v=0\r\no=alice 1 2 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\na=sendonly\r\n")
    static let holdAnswer = SessionBody(sdp: "v=0\r\no=bob 7 8 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 3456 RTP/AVP 0\r\na=recvonly\r\n")

    static let callID = "3848276298220188511@192.0.2.1"

    static func uri(_ text: String) -> URI {
        // Fixtures are literals known to parse.
        (try? URI.parse(text)) ?? .other(scheme: "sip", rest: "invalid")
    }

    static func address(_ text: String) -> NameAddress {
        (try? NameAddress(parsing: text)) ?? NameAddress(uri: .other(scheme: "sip", rest: "invalid"))
    }

    static func call(routeSet: [NameAddress] = [], sequence: UInt32 = 1) -> OutgoingCall {
        OutgoingCall(target: uri("sip:bob@example.com"), from: address("Alice <sip:alice@example.com>"),
                     to: address("Bob <sip:bob@example.com>"), callID: callID, localTag: "a1",
                     contact: address("<sip:alice@192.0.2.1:5060>"), routeSet: routeSet, sequence: sequence)
    }

    /// A response from the callee side to `request`: To tag (unless nil), Contact (unless nil),
    /// Record-Route values in the order given, extra headers, body.
    static func respond(_ status: Int, to request: SIPMessage, tag: String? = "b1",
                        contact: String? = "<sip:bob@192.0.2.20:5060>", recordRoute: [String] = [],
                        extra: [(HeaderName, String)] = [], body: SessionBody? = nil) -> SIPMessage {
        var fields: [HeaderField] = []
        for route in recordRoute { fields.append(HeaderField(name: .recordRoute, value: route)) }
        if let contact, status > 100 && status < 300 { fields.append(HeaderField(name: .contact, value: contact)) }
        for (name, value) in extra { fields.append(HeaderField(name: name, value: value)) }
        var response = SIPMessage.response(to: request, status: status, toTag: tag, extraHeaders: fields)
        if let body { response.setBody(body.bytes, contentType: body.contentType) }
        return response
    }

    /// An INVITE from Bob to us (we are the UAS).
    static func incomingInvite(extra: [String] = [], contact: String? = "<sip:bob@192.0.2.20:5060>",
                               recordRoute: [String] = ["<sip:p1.example.com;lr>", "<sip:p2.example.com;lr>"],
                               body: SessionBody? = offer, contentType: String = "application/sdp") throws -> SIPMessage {
        var text = "INVITE sip:alice@192.0.2.1:5060 SIP/2.0\r\n"
        text += "Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bKinv1\r\n"
        for route in recordRoute { text += "Record-Route: " + route + "\r\n" }
        text += "Max-Forwards: 70\r\n"
        text += "From: Bob <sip:bob@example.com>;tag=b9\r\n"
        text += "To: Alice <sip:alice@example.com>\r\n"
        text += "Call-ID: in-777@192.0.2.20\r\n"
        text += "CSeq: 100 INVITE\r\n"
        if let contact { text += "Contact: " + contact + "\r\n" }
        for line in extra { text += line + "\r\n" }
        let bytes = body?.bytes ?? []
        if !bytes.isEmpty { text += "Content-Type: " + contentType + "\r\n" }
        text += "Content-Length: " + String(bytes.count) + "\r\n\r\n"
        text += String(decoding: bytes, as: UTF8.self)
        return try SIPMessage(parsing: text)
    }

    /// A request from Bob inside the dialog of `incomingInvite` (our tag "a9").
    static func inDialog(_ method: String, cseq: Int, branch: String, extra: [String] = [], body: SessionBody? = nil,
                         toTag: String = "a9", fromTag: String = "b9", callID: String = "in-777@192.0.2.20") throws -> SIPMessage {
        var text = method + " sip:alice@192.0.2.1:5060 SIP/2.0\r\n"
        text += "Via: SIP/2.0/UDP 192.0.2.20:5060;branch=" + branch + "\r\n"
        text += "Max-Forwards: 70\r\n"
        text += "From: Bob <sip:bob@example.com>;tag=" + fromTag + "\r\n"
        text += "To: Alice <sip:alice@example.com>;tag=" + toTag + "\r\n"
        text += "Call-ID: " + callID + "\r\n"
        text += "CSeq: " + String(cseq) + " " + method + "\r\n"
        for line in extra { text += line + "\r\n" }
        let bytes = body?.bytes ?? []
        if !bytes.isEmpty { text += "Content-Type: application/sdp\r\n" }
        text += "Content-Length: " + String(bytes.count) + "\r\n\r\n"
        text += String(decoding: bytes, as: UTF8.self)
        return try SIPMessage(parsing: text)
    }

    /// A request from Bob into the dialog he has with us as UAC (our From tag "a1", his To tag).
    static func toCaller(_ method: String, cseq: Int, branch: String, peerTag: String = "b1", extra: [String] = [],
                         body: SessionBody? = nil) throws -> SIPMessage {
        var text = method + " sip:alice@192.0.2.1:5060 SIP/2.0\r\n"
        text += "Via: SIP/2.0/UDP 192.0.2.20:5060;branch=" + branch + "\r\n"
        text += "Max-Forwards: 70\r\n"
        text += "From: Bob <sip:bob@example.com>;tag=" + peerTag + "\r\n"
        text += "To: Alice <sip:alice@example.com>;tag=a1\r\n"
        text += "Call-ID: " + callID + "\r\n"
        text += "CSeq: " + String(cseq) + " " + method + "\r\n"
        text += "Contact: <sip:bob@192.0.2.20:5060>\r\n"
        for line in extra { text += line + "\r\n" }
        let bytes = body?.bytes ?? []
        if !bytes.isEmpty { text += "Content-Type: application/sdp\r\n" }
        text += "Content-Length: " + String(bytes.count) + "\r\n\r\n"
        text += String(decoding: bytes, as: UTF8.self)
        return try SIPMessage(parsing: text)
    }
}

// MARK: Reading actions

/// The requests of `.sendRequest` actions, in order.
func sentRequests(_ actions: [SessionAction]) -> [SIPMessage] {
    actions.compactMap { if case .sendRequest(let m) = $0 { return m } else { return nil } }
}

/// The responses of `.sendResponse` actions, in order.
func sentResponses(_ actions: [SessionAction]) -> [SIPMessage] {
    actions.compactMap { if case .sendResponse(let m, _) = $0 { return m } else { return nil } }
}

/// The actions that are neither messages nor timers (the reports), for compact comparisons.
func reports(_ actions: [SessionAction]) -> [SessionAction] {
    actions.filter {
        switch $0 {
        case .sendRequest, .sendCancel, .sendResponse, .arm, .disarm: return false
        default: return true
        }
    }
}

/// The error codes of `.ignored` actions.
func ignoredCodes(_ actions: [SessionAction]) -> [DialogError.Code] {
    actions.compactMap { if case .ignored(let e) = $0 { return e.code } else { return nil } }
}

extension SIPMessage {
    var requestURIText: String { requestLine?.uri.description ?? "" }
    var cseqText: String { headers[.cseq] ?? "" }
    var toTagValue: String? { (try? to())?.tag }
    var fromTagValue: String? { (try? from())?.tag }
    var routeValues: [String] { headers.listValues(.route) }
    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// A UAC session started and answered by a 200 from tag b1 with the given extras; returns the
/// session, the INVITE and the 200.
func confirmedCaller(recordRoute: [String] = ["<sip:p2.example.com;lr>", "<sip:p1.example.com;lr>"],
                     okExtra: [(HeaderName, String)] = [("Allow", "INVITE, ACK, CANCEL, BYE, UPDATE")],
                     configuration: SessionConfiguration = SessionConfiguration(),
                     random: ScriptedRandom = ScriptedRandom([0])) throws -> (InviteSession, SIPMessage, SIPMessage) {
    var session = InviteSession(outgoing: Fixture.call(), configuration: configuration, random: random)
    let invite = try #require(sentRequests(session.start(offer: Fixture.offer, now: t0)).first)
    let ok = Fixture.respond(200, to: invite, recordRoute: recordRoute, extra: okExtra, body: Fixture.answer)
    _ = session.receivedResponse(ok, now: t0 + ms(100))
    try #require(session.phase == .confirmed)
    return (session, invite, ok)
}

/// A UAS session that answered the INVITE and got its ACK.
func confirmedCallee(inviteExtra: [String] = [], configuration: SessionConfiguration = SessionConfiguration(),
                     random: ScriptedRandom = ScriptedRandom([0])) throws -> (InviteSession, SIPMessage) {
    var session = InviteSession(incomingWithLocalTag: "a9", contact: Fixture.address("<sip:alice@192.0.2.1:5060>"),
                                configuration: configuration, random: random)
    let invite = try Fixture.incomingInvite(extra: inviteExtra)
    _ = session.receivedRequest(invite, now: t0)
    _ = session.answer(Fixture.answer, now: t0 + ms(10))
    let ack = try Fixture.inDialog("ACK", cseq: 100, branch: "z9hG4bKack1")
    _ = session.receivedRequest(ack, now: t0 + ms(20))
    try #require(session.phase == .confirmed)
    return (session, invite)
}
