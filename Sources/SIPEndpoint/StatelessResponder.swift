import SIPCore
import Config

/// The transaction user the daemon runs until the transaction layer arrives (issue 4): it answers
/// statelessly (RFC 3261 §8.2.7 permits stateless UAS behaviour) and tells the truth about what it
/// serves.
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
            guard let line = message.requestLine else { return .dropped("response to nothing this element sent") }
            switch SIPValidator.validate(message, policy: policy) {
            case .drop(let why): return .dropped(why)
            case .reject(let r):
                if line.method == .ack { return .absorbed("malformed ACK") }
                var extra = r.headers
                if r.status == 405 || r.status == 501 {
                    extra = [HeaderField(name: .allow, value: Self.allowHeader)]
                }
                return reply(to: message, status: r.status, reason: r.reason, extra: extra, sourceHost: sourceHost, sourcePort: sourcePort)
            case .accept:
                switch line.method {
                case .ack:
                    return .absorbed("ACK")
                case .cancel:
                    return reply(to: message, status: 481, reason: nil, extra: [], sourceHost: sourceHost, sourcePort: sourcePort)
                default:
                    return reply(to: message, status: 200, reason: nil, extra: [
                        HeaderField(name: .allow, value: Self.allowHeader),
                        HeaderField(name: .accept, value: "application/sdp"),
                        HeaderField(name: .acceptLanguage, value: "en"),
                        HeaderField(name: .supported, value: ""),
                    ], sourceHost: sourceHost, sourcePort: sourcePort)
                }
            }
        }
    }

    /// What Allow says: the methods actually served (ACK and CANCEL are always understood).
    static let allowHeader = "OPTIONS, ACK, CANCEL"

    private func reply(to request: SIPMessage, status: Int, reason: String?, extra: [HeaderField],
                       sourceHost: String, sourcePort: UInt16) -> Outcome {
        var response = SIPMessage.response(to: request, status: status, reason: reason,
                                           toTag: status == 100 ? nil : Self.toTag(for: request),
                                           extraHeaders: extra + [HeaderField(name: .server, value: serverHeader)])
        // §18.2.1: note where the request really came from in the top Via (received, RFC 3581 rport).
        guard let top = try? request.topVia() else {
            // The Via itself is what is malformed (RFC 4475 badinv01): answer the source address and
            // port, the only route there is, with the Via copied as received.
            guard request.headers.contains(.via) else { return .dropped("no Via to answer to") }
            return .replied(Reply(bytes: response.serialized(), host: sourceHost, port: sourcePort), status: status)
        }
        var via = top
        if via.host.bare != sourceHost { via.received = sourceHost }
        let rportRequested = top.rport != nil
        if rportRequested { via.parameters.set("rport", String(sourcePort)) }
        if let first = response.headers.firstIndex(of: .via) {
            let values = response.headers.listValues(.via)
            response.headers.replaceValue(at: first, with: ([via.description] + values.dropFirst()).joined(separator: ", "))
            // Drop the other Via fields that listValues already folded into the first one.
            while let i = response.headers.indices(of: .via).dropFirst().first { response.headers.remove(at: i) }
        }
        // §18.2.2 (UDP, unicast): to the source address, at the rport or the sent-by port.
        let port = rportRequested ? sourcePort : (top.port ?? 5060)
        return .replied(Reply(bytes: response.serialized(), host: sourceHost, port: port), status: status)
    }

    /// A To tag derived from the request, so retransmissions get the same tag (as Kamailio's sl does).
    static func toTag(for request: SIPMessage) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for field in [HeaderName.callID, .from, .cseq] {
            for b in (request.headers[field] ?? "").utf8 { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
        }
        if let branch = (try? request.topVia())?.branch { for b in branch.utf8 { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 } }
        return "dt" + String(hash, radix: 36)
    }
}
