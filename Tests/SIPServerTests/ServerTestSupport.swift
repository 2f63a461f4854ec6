import SIPCore
import SIPEndpoint
import SIPServer
import SIPTransaction

/// Both clocks a server role is given, moved together by hand.
struct ManualClock {
    var now = Instant(nanoseconds: 7_000_000_000)
    /// 2023-11-14T22:13:20Z.
    var wall: Duration = .seconds(1_700_000_000)

    mutating func advance(_ d: Duration) {
        now += d
        wall += d
    }
}

/// A decision taken apart for comparisons.
struct Answer {
    var status: Int
    var reason: String?
    var headers: [HeaderField]
    var stateless: Bool

    func values(_ name: HeaderName) -> [String] { headers.filter { $0.name == name }.map(\.value) }
}

func answer(_ decision: StatelessResponder.Decision) -> Answer? {
    switch decision {
    case .respond(let status, let reason, let headers): return Answer(status: status, reason: reason, headers: headers, stateless: false)
    case .respondStatelessly(let status, let reason, let headers): return Answer(status: status, reason: reason, headers: headers, stateless: true)
    default: return nil
    }
}

func isAbsorbed(_ decision: StatelessResponder.Decision) -> Bool {
    if case .absorb = decision { return true }
    return false
}

func isCancel(_ decision: StatelessResponder.Decision) -> Bool {
    if case .cancel = decision { return true }
    return false
}

/// A REGISTER as a phone sends it.
func registerText(user: String = "101", domain: String = "voice.lan", requestURI: String? = nil,
                  contacts: [String] = ["<sip:101@192.168.1.20:5060>"], expires: Int? = nil,
                  callID: String = "call-1@192.168.1.20", cseq: Int = 1, extra: [String] = []) -> String {
    var lines = [
        "REGISTER \(requestURI ?? "sip:" + domain) SIP/2.0",
        "Via: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK-\(callID.utf8.count)-\(cseq)",
        "Max-Forwards: 70",
        "From: <sip:\(user)@\(domain)>;tag=f\(cseq)",
        "To: <sip:\(user)@\(domain)>",
        "Call-ID: \(callID)",
        "CSeq: \(cseq) REGISTER",
    ]
    for c in contacts { lines.append("Contact: \(c)") }
    if let expires { lines.append("Expires: \(expires)") }
    lines += extra
    lines.append("Content-Length: 0")
    return lines.joined(separator: "\r\n") + "\r\n\r\n"
}

func request(_ text: String) throws -> SIPMessage {
    try SIPMessage(parsing: text)
}

/// A request of another method to `uri`.
func requestText(_ method: String, uri: String, callID: String = "inv-1@caller", cseq: Int = 1, extra: [String] = []) -> String {
    var lines = [
        "\(method) \(uri) SIP/2.0",
        "Via: SIP/2.0/UDP 192.168.1.30:5060;branch=z9hG4bK-\(method)-\(cseq)",
        "Max-Forwards: 70",
        "From: <sip:200@voice.lan>;tag=caller",
        "To: <\(uri)>",
        "Call-ID: \(callID)",
        "CSeq: \(cseq) \(method)",
    ]
    lines += extra
    lines.append("Content-Length: 0")
    return lines.joined(separator: "\r\n") + "\r\n\r\n"
}

struct NoAnswer: Error {}

extension Registrar {
    /// Decides on the REGISTER `text` and takes the answer apart (throws when there is none).
    mutating func answer(_ text: String, _ clock: ManualClock, source: RegistrationSource? = nil) throws -> Answer {
        let decision = decide(try request(text), source: source, now: clock.now, wallClock: clock.wall)
        guard let a = SIPServerTests.answer(decision) else { throw NoAnswer() }
        return a
    }
}

extension SIPServerCore {
    /// The answer of the server roles to `text`; nil when they leave it to others (or do not answer).
    mutating func answer(_ text: String, _ clock: ManualClock) throws -> Answer? {
        let decision = decide(try request(text), source: nil, now: clock.now, wallClock: clock.wall)
        return decision.flatMap(SIPServerTests.answer)
    }

    /// Whether the server roles leave `text` to others.
    mutating func passes(_ text: String, _ clock: ManualClock) throws -> Bool {
        decide(try request(text), source: nil, now: clock.now, wallClock: clock.wall) == nil
    }
}
