import SIPCore
import SIPTransport
import Config

/// The daemon's policy for requests (its transaction user until the UA and server roles arrive): what
/// to answer, telling the truth about what it serves. `SIPEndpoint` runs it behind server
/// transactions; `handle(datagram:…)` also answers wholly statelessly (RFC 3261 §8.2.7 permits
/// stateless UAS behaviour), as the daemon did before the transaction layer.
///
/// - OPTIONS (RFC 3261 §11.2): 200 with Allow, Accept, Supported, Accept-Language and Server.
/// - ACK: absorbed (no response is ever sent to an ACK).
/// - CANCEL: 481, there is no transaction it could match.
/// - Other known methods: 405 with Allow; unknown methods: 501.
/// - Malformed requests: the `SIPValidator` response (400 naming the fault, 505, 513, …).
/// - Responses: dropped (it sends no requests).
///
/// Pure: the caller passes the datagram and its source; it returns what to send and where.
public struct StatelessResponder: Sendable {
    /// Where a response goes and its octets.
    public struct Reply: Sendable, Equatable {
        public var bytes: [UInt8]
        public var host: String
        public var port: UInt16
    }

    /// What happened to one datagram, for logs and tests.
    public enum Outcome: Sendable, Equatable {
        case replied(Reply, status: Int)
        case absorbed(String)
        case dropped(String)
    }

    public static let allowed: [SIPMethod] = [.options]
    public var policy: SIPValidationPolicy
    public let serverHeader = "Dialtone/\(DialtoneVersion.string)"

    public init() {
        policy = SIPValidationPolicy(role: .uas, allowedMethods: StatelessResponder.allowed + [.ack, .cancel], supportedExtensions: [])
    }

    /// Handles one datagram received from `sourceHost`:`sourcePort` over UDP.
    public func handle(datagram: [UInt8], sourceHost: String, sourcePort: UInt16) -> Outcome {
        // Keepalives (RFC 5626 §3.5.1 allows CRLF on UDP too): nothing to do.
        if datagram.allSatisfy({ $0 == 0x0D || $0 == 0x0A || $0 == 0x20 }) { return .absorbed("keepalive") }
        switch SIPMessage.parseDetailed(datagram: datagram, limits: policy.limits) {
        case .failure(let failure):
            let verdict = SIPValidator.verdict(for: failure)
            guard case .reject(let rejection) = verdict, let headers = failure.headers, headers.contains(.via) else {
                if case .drop(let why) = verdict { return .dropped(why) }
                return .dropped("malformed request without a usable Via: \(failure.error)")
            }
            let partial = SIPMessage(status: 400, headers: headers)
            return reply(to: partial, status: rejection.status, reason: rejection.reason, extra: rejection.headers, sourceHost: sourceHost, sourcePort: sourcePort)
        case .success(let message):
            switch decide(message) {
            case .respond(let status, let reason, let extra), .respondStatelessly(let status, let reason, let extra):
                return reply(to: message, status: status, reason: reason, extra: extra, sourceHost: sourceHost, sourcePort: sourcePort)
            case .cancel:
                // No transactions here, so nothing a CANCEL could match (§9.2).
                return reply(to: message, status: 481, reason: nil, extra: [], sourceHost: sourceHost, sourcePort: sourcePort)
            case .absorb(let why): return .absorbed(why)
            case .drop(let why): return .dropped(why)
            case .pending: return .dropped("no transaction to answer later through")
            }
        }
    }

    /// What the policy does with a parsed message, before any routing.
    public enum Decision: Sendable {
        /// Answer with this status, reason phrase and extra header fields.
        case respond(status: Int, reason: String?, headers: [HeaderField])
        /// (Transaction users only) Answer so without keeping a transaction (RFC 3261 §8.2.7): for
        /// answers that are a pure function of the request, like Kamailio's `sl_send_reply`. A
        /// retransmission is decided again and gets the same octets (the To tag is derived from the
        /// request), and no state outlives the answer: how an OPTIONS keepalive flood stays cheap, where
        /// a transaction would hold each request for Timer J (32 s over UDP).
        case respondStatelessly(status: Int, reason: String?, headers: [HeaderField])
        /// A well-formed CANCEL: the transaction layer answers it (200 and 487, or 481; §9.2).
        case cancel
        /// Take it and send nothing (an ACK).
        case absorb(String)
        /// Ignore it (a response, or a request the validator says to drop).
        case drop(String)
        /// (Transaction users only) The answer comes later, through `SIPEndpoint.respond(to:…)`; the
        /// transaction waits in Trying or Proceeding. Never returned by this responder.
        case pending
    }

    /// The policy's decision for `message`: the validator's verdict first, then the method.
    public func decide(_ message: SIPMessage) -> Decision {
        guard let line = message.requestLine else { return .drop("response to nothing this element sent") }
        switch SIPValidator.validate(message, policy: policy) {
        case .drop(let why): return .drop(why)
        case .reject(let r):
            if line.method == .ack { return .absorb("malformed ACK") }
            var extra = r.headers
            if r.status == 405 || r.status == 501 {
                extra = [HeaderField(name: .allow, value: Self.allowHeader)]
            }
            return .respond(status: r.status, reason: r.reason, headers: extra)
        case .accept:
            switch line.method {
            case .ack:
                return .absorb("ACK")
            case .cancel:
                return .cancel
            default:
                return .respond(status: 200, reason: nil, headers: [
                    HeaderField(name: .allow, value: Self.allowHeader),
                    HeaderField(name: .accept, value: "application/sdp"),
                    HeaderField(name: .acceptLanguage, value: "en"),
                    HeaderField(name: .supported, value: ""),
                ])
            }
        }
    }

    /// The response to `request` this responder sends: a To tag derived from the request (so every
    /// retransmission and every stateless answer carries the same one; none on 100) and Server.
    public func response(to request: SIPMessage, status: Int, reason: String?, headers: [HeaderField]) -> SIPMessage {
        SIPMessage.response(to: request, status: status, reason: reason,
                            toTag: status == 100 ? nil : Self.toTag(for: request),
                            extraHeaders: headers + [HeaderField(name: .server, value: serverHeader)])
    }

    /// `response(to:…)` for a request whose top Via is known to parse to `topVia` (the endpoint's
    /// stamped Via): the same message, without parsing that Via again for the To tag.
    func response(to request: SIPMessage, topVia: Via, status: Int, reason: String?, headers: [HeaderField]) -> SIPMessage {
        SIPMessage.response(to: request, status: status, reason: reason,
                            toTag: status == 100 ? nil : Self.toTag(for: request, branch: topVia.branch),
                            extraHeaders: headers + [HeaderField(name: .server, value: serverHeader)])
    }

    /// The stateless answer to a message that did not parse (the validator's response), built from
    /// the header fields that did parse; nil when there is nothing to answer (no Via, or a drop).
    public func response(toMalformed failure: SIPParseFailure) -> SIPMessage? {
        let verdict = SIPValidator.verdict(for: failure)
        guard case .reject(let rejection) = verdict, let headers = failure.headers, headers.contains(.via) else { return nil }
        let partial = SIPMessage(status: 400, headers: headers)
        return response(to: partial, status: rejection.status, reason: rejection.reason, headers: rejection.headers)
    }

    /// What Allow says: the methods actually served (ACK and CANCEL are always understood).
    public static let allowHeader = "OPTIONS, ACK, CANCEL"

    private func reply(to request: SIPMessage, status: Int, reason: String?, extra: [HeaderField],
                       sourceHost: String, sourcePort: UInt16) -> Outcome {
        // §18.2.1 / RFC 3581: note where the request really came from in the top Via, the same
        // stamping the endpoint does (ViaHandling), then route per §18.2.2.
        var stamped = request
        guard (try? ViaHandling.stampTopVia(of: &stamped, sourceHost: sourceHost, sourcePort: sourcePort)) != nil,
              let top = try? stamped.topVia() else {
            // The Via itself is what is malformed (RFC 4475 badinv01): answer the source address and
            // port, the only route there is, with the Via copied as received.
            guard request.headers.contains(.via) else { return .dropped("no Via to answer to") }
            let response = self.response(to: request, status: status, reason: reason, headers: extra)
            return .replied(Reply(bytes: response.serialized(), host: sourceHost, port: sourcePort), status: status)
        }
        let response = self.response(to: stamped, status: status, reason: reason, headers: extra)
        // UDP unicast: always the source address (received), at rport or the sent-by port.
        var port = sourcePort
        if case .datagram(_, let routePort, _) = ViaHandling.responseRoute(topVia: top, connectionOpen: false) { port = routePort }
        return .replied(Reply(bytes: response.serialized(), host: sourceHost, port: port), status: status)
    }

    /// A To tag derived from the request, so retransmissions get the same tag (as Kamailio's sl does).
    public static func toTag(for request: SIPMessage) -> String {
        toTag(for: request, branch: (try? request.topVia())?.branch)
    }

    /// `toTag(for:)` with the top Via's branch already known (the endpoint parsed that Via to stamp it).
    static func toTag(for request: SIPMessage, branch: String?) -> String {
        // FNV-1a over the Call-ID, From and CSeq values (as `headers[name]` gives them) and the branch.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for field in [HeaderName.callID, .from, .cseq] {
            guard let i = request.headers.firstIndex(of: field) else { continue }
            let raw = request.headers.valueBytes(at: i)
            if raw.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 >= 0x80 }) {
                // A folded (or non-ASCII, maybe invalid UTF-8) value: its text, folds read as one space
                // and bad UTF-8 repaired, is what is hashed.
                for b in request.headers.value(at: i).utf8 { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
            } else {
                for b in raw { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
            }
        }
        if let branch { for b in branch.utf8 { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 } }
        return "dt" + String(hash, radix: 36)
    }
}
