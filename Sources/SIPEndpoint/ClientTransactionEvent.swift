import SIPCore

/// Names one request sent with `SIPEndpoint.sendRequest`: every client transaction it runs (one per
/// target tried, RFC 3263 §4.3) and its CANCEL.
public struct ClientTransactionID: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public var description: String { "client#" + String(rawValue) }
}

/// What a client transaction tells its transaction user (RFC 3261 §17.1), on the signalling thread.
///
/// - `provisional`: a 1xx (not 100 only: every 1xx the server sent that matched).
/// - `final`: a final response. For an INVITE, every further 2xx that reaches the Accepted state
///   (retransmissions, other forks; RFC 6026 §8.4) is passed up as another `final`: the TU (dialog
///   layer) tells them apart by To tag and sends an ACK for each.
/// - `timeout`: Timer B or F fired on the last target (§8.1.3.1): `response` is a synthesised 408.
/// - `transportError`: the request could not be sent to any target (ICMP unreachable, connection
///   refused, TLS failure, no route, DNS failure; §8.1.3.1): `response` is a synthesised 503, and
///   `detail` says why.
///
/// The handler sees only the outcome of the last target tried: a timeout, transport error or 503 on an
/// earlier target starts the next one silently. Provisional responses from an earlier target that
/// later failed have been passed up already.
public enum ClientTransactionEvent: Sendable, CustomStringConvertible {
    case provisional(SIPMessage)
    case final(SIPMessage)
    case timeout(SIPMessage)
    case transportError(SIPMessage, detail: String)

    /// The response, received or synthesised.
    public var response: SIPMessage {
        switch self {
        case .provisional(let m), .final(let m), .timeout(let m), .transportError(let m, _): return m
        }
    }

    /// The status code of `response`.
    public var statusCode: Int { response.statusCode ?? 0 }

    /// Whether this ends the request (everything but `provisional`; an INVITE may still see more 2xx).
    public var isFinal: Bool {
        if case .provisional = self { return false }
        return true
    }

    /// Whether the endpoint made the response up (timeout, transport error) rather than received it.
    public var isSynthesised: Bool {
        switch self {
        case .provisional, .final: return false
        case .timeout, .transportError: return true
        }
    }

    public var description: String {
        switch self {
        case .provisional(let m): return "provisional(\(m.statusCode ?? 0))"
        case .final(let m): return "final(\(m.statusCode ?? 0))"
        case .timeout: return "timeout(408)"
        case .transportError(_, let detail): return "transportError(503: \(detail))"
        }
    }
}

/// What the client side has done, for logs and tests.
public struct ClientStatistics: Sendable, Equatable {
    /// Requests passed to `sendRequest` (ACKs included).
    public var requestsSent = 0
    /// Client transactions started (one per target tried, CANCELs included).
    public var transactionsCreated = 0
    public var transactionsTerminated = 0
    /// Responses matched to a client transaction (§17.1.3).
    public var responsesMatched = 0
    /// Responses whose top Via sent-by was not ours though the branch matched (§18.1.2: dropped).
    public var responsesWithForeignSentBy = 0
    /// Moves to the next target after a timeout, transport error or 503 (RFC 3263 §4.3).
    public var failovers = 0
    /// Resolutions handed to the resolver thread, and how many of them failed.
    public var resolutionsQueued = 0
    public var resolutionFailures = 0
    /// CANCELs sent (§9.1).
    public var cancelsSent = 0
    /// Sends the transport refused (each one is a transport error for its transaction).
    public var transportErrors = 0
    /// Datagrams received on connected client UDP flows (responses and requests from that target).
    public var flowDatagrams = 0

    public init() {}
}
