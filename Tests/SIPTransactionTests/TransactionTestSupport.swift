import SIPCore
import SIPTransaction

/// Messages and a manual clock for the transaction tests.
enum TestMessages {
    static func request(_ method: String, branch: String = "z9hG4bK776asdhds", transport: String = "UDP",
                        sentBy: String = "192.0.2.1:5060", toTag: String? = nil, cseq: Int = 314159,
                        extraVia: Bool = false) throws -> SIPMessage {
        var text = method + " sip:bob@example.com SIP/2.0\r\n"
        text += "Via: SIP/2.0/" + transport + " " + sentBy + ";branch=" + branch
        if extraVia { text += ", SIP/2.0/UDP 198.51.100.7;branch=z9hG4bKdownstream" }
        text += "\r\n"
        text += "Route: <sip:proxy.example.com;lr>\r\n"
        text += "Max-Forwards: 70\r\n"
        text += "To: Bob <sip:bob@example.com>" + (toTag.map { ";tag=" + $0 } ?? "") + "\r\n"
        text += "From: Alice <sip:alice@example.com>;tag=1928301774\r\n"
        text += "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
        text += "CSeq: " + String(cseq) + " " + method + "\r\n"
        text += "Contact: <sip:alice@192.0.2.1>\r\n"
        text += "Content-Length: 0\r\n\r\n"
        return try SIPMessage(parsing: text)
    }

    static func invite(branch: String = "z9hG4bK776asdhds", transport: String = "UDP", extraVia: Bool = false) throws -> SIPMessage {
        try request("INVITE", branch: branch, transport: transport, extraVia: extraVia)
    }

    static func options(transport: String = "UDP") throws -> SIPMessage {
        try request("OPTIONS", branch: "z9hG4bKnashds8", transport: transport)
    }

    /// A response to `request` as a UAS would build it (To tag added except for 100).
    static func response(_ code: Int, to request: SIPMessage, toTag: String = "a6c85cf") -> SIPMessage {
        SIPMessage.response(to: request, status: code, toTag: toTag)
    }

    /// An ACK for a non-2xx response as the peer's client transaction sends it.
    static func ack(for invite: SIPMessage, response: SIPMessage) -> SIPMessage {
        InviteClientTransaction.ack(for: invite, response: response)
    }
}

let t0 = Instant(nanoseconds: 1_000_000_000_000)

func ms(_ n: Int64) -> Duration { .milliseconds(n) }

/// A minimal driver: keeps the armed timers, fires the earliest one, records when each message was
/// transmitted (as milliseconds after `t0`) and what ended the transaction.
struct ManualClockDriver {
    var armed: [TimerName: Instant] = [:]
    var transmitTimes: [Int64] = []
    var delivered: Int = 0
    var timedOut = false
    var terminated = false
    var terminatedAt: Int64? = nil

    mutating func apply(_ actions: [TransactionAction], at now: Instant) {
        for action in actions {
            switch action {
            case .transmit: transmitTimes.append(Self.millis(now))
            case .deliver: delivered += 1
            case .arm(let name, let at): armed[name] = at
            case .disarm(let name): armed[name] = nil
            case .timeout: timedOut = true
            case .transportError: break
            case .terminated:
                terminated = true
                terminatedAt = Self.millis(now)
                armed = [:]
            }
        }
    }

    static func millis(_ now: Instant) -> Int64 { (now.nanoseconds - t0.nanoseconds) / 1_000_000 }

    /// The earliest armed timer (ties broken by name), removed from the armed set.
    mutating func popEarliest() -> (TimerName, Instant)? {
        var best: (TimerName, Instant)? = nil
        for name in TimerName.allCases {
            guard let at = armed[name] else { continue }
            if best == nil || at < best!.1 { best = (name, at) }
        }
        if let best { armed[best.0] = nil }
        return best
    }

    /// Fires timers in order until the transaction ends or `limit` timers have fired.
    mutating func run(limit: Int = 100, fire: (TimerName, Instant) -> [TransactionAction]) {
        var count = 0
        while !terminated, count < limit, let (name, at) = popEarliest() {
            apply(fire(name, at), at: at)
            count += 1
        }
    }
}
