import SIPCore
import SIPTransaction
import SIPTransport
import SIPEndpoint

/// The stateless proxy (RFC 3261 §16.11): every request is routed like the stateful proxy's
/// (`ProxyRouting`) but forwarded once to one target (the highest-q binding) with a branch derived
/// from the request, so a retransmission, its CANCEL and the ACK for a non-2xx take the same branch
/// and reach the same downstream transaction; responses lose our Via and go where the next one says.
/// Nothing is kept between messages.
public struct StatelessProxy {
    public var routing: ProxyRouting
    public private(set) var statistics = Statistics()

    public struct Statistics: Sendable, Equatable {
        public var requestsForwarded = 0
        public var responsesForwarded = 0
        public var forwardingFailures = 0
        public init() {}
    }

    public init(routing: ProxyRouting) {
        self.routing = routing
    }

    /// The decision for a request (ACK and CANCEL included: they are forwarded like the rest): nil when
    /// it is for this element; `.absorb` once forwarded.
    public mutating func decide(_ request: SIPMessage, store: LocationStore, now: Instant, endpoint: SIPEndpoint,
                                arrivedOver transport: TransportKind) -> StatelessResponder.Decision? {
        guard let method = request.method else { return nil }
        // ACK and CANCEL are routed like their INVITE and forwarded the same way (§16.11).
        let outcome = routing.route(request, store: store, now: now)
        switch outcome {
        case .drop(let why): return .drop(why)
        case .local: return method == .ack ? .absorb("ACK for this element") : nil
        case .reject(let status, let reason, let headers):
            if method == .ack { return .absorb("ACK not forwarded: \(status)") }
            return .respondStatelessly(status: status, reason: reason, headers: headers)
        case .forward(let message, let groups, _):
            guard let target = groups.first?.first else { return .drop("no target") }
            let copy = routing.forwardedCopy(of: message, to: target, arrivedOver: transport)
            let branch = Self.branch(for: request, target: target)
            if let failure = endpoint.sendStatelessly(copy, to: target.destination, branch: branch) {
                statistics.forwardingFailures += 1
                if method == .ack || method == .cancel { return .absorb("not forwarded: \(failure)") }
                return .respondStatelessly(status: 500, reason: "Server Internal Error (cannot forward)", headers: [])
            }
            statistics.requestsForwarded += 1
            return .absorb("forwarded statelessly")
        }
    }

    /// §16.11: the branch from the received top Via's branch and sent-by and the target, so the
    /// INVITE, its retransmissions, its CANCEL and the ACK for its non-2xx all get the same one (they
    /// share the top Via). Marked `s` so that our responses are recognised.
    public static func branch(for request: SIPMessage, target: ProxyRouting.Target) -> String {
        var h = FNV1a()
        if let via = try? request.topVia() {
            h.add(via.branch ?? "")
            h.add(via.sentBy)
        }
        if (try? request.topVia())?.branch?.hasPrefix(Via.magicCookie) != true {
            // RFC 2543 peers: no usable branch, so the transaction's own identity.
            h.add((try? request.callID()) ?? "")
            h.add(String((try? request.cseq())?.sequence ?? 0))
            h.add((try? request.from())?.tag ?? "")
        }
        h.add(target.requestURI.description)
        return Via.magicCookie + "-s" + h.hex
    }

    /// A response that matched no client transaction: when its top Via is ours, that Via comes off and
    /// the response goes to the next one (§16.11, §16.7 steps 3 and 10). False when it is not ours.
    public mutating func forwardResponse(_ response: SIPMessage, endpoint: SIPEndpoint) -> Bool {
        guard let via = try? response.topVia(),
              routing.isLocal(host: via.host, port: via.port, transport: TransportKind(viaToken: via.transport)) else { return false }
        var up = response
        up.headers.removeFirstListValue(.via)
        guard up.headers.contains(.via) else { return false }
        guard endpoint.sendResponseStatelessly(up) else {
            statistics.forwardingFailures += 1
            return false
        }
        statistics.responsesForwarded += 1
        return true
    }
}
