import SIPCore
import SIPTransaction
import SIPTransport
import SIPEndpoint

/// The stateful proxy (RFC 3261 §16) on the endpoint's transactions: each forwarded request has a
/// response context (`ProxyContext`) holding its server transaction's request and one client
/// transaction per branch (`SIPEndpoint.sendRequest`).
///
/// - Targets: `ProxyRouting` (validation 483/420/482, loose and strict routing, location lookup).
/// - Forking: the q-groups of the target set run one after the other (sequential); the targets in
///   a group run at once (parallel). The next group starts when every branch of the current one
///   ended without a 2xx or 6xx.
/// - Responses (§16.7): 1xx other than 100 and every 2xx are forwarded at once; a 2xx to an INVITE
///   cancels the other branches; a 6xx cancels them and ends the search; otherwise the best final
///   response is sent when no branch is left: 6xx, else the lowest class (401/407, 415, 420, 484
///   preferred in 4xx), 401/407 challenges of every branch merged, 503 turned into 500, 408 when
///   nothing came.
/// - CANCEL from upstream (§16.10): answered 200 by the endpoint; every pending branch is cancelled
///   and the 487 that comes back is forwarded as the best response.
/// - Timer C (§16.6 step 11, §16.8): an INVITE branch with no final response this long after its
///   last provisional is cancelled.
/// - ACK for a 2xx (§16.7, §13.2.2.4) and responses that match no client transaction are forwarded
///   statelessly (`StatelessProxy`'s rules, §16.11).
public final class StatefulProxy {
    public var routing: ProxyRouting
    unowned let endpoint: SIPEndpoint
    /// Timer C; RFC 3261 says more than 3 minutes.
    public var timerC: Duration = .seconds(181)
    /// Contexts whose INVITE can still be cancelled, by the server transaction's key.
    private var contexts: [TransactionKey: ProxyContext] = [:]
    public private(set) var statistics = Statistics()

    public struct Statistics: Sendable, Equatable {
        public var requestsForwarded = 0
        public var branchesStarted = 0
        public var responsesForwarded = 0
        public var cancelsSent = 0
        public var timerCFired = 0
        public var acksForwarded = 0
        public init() {}
    }

    public init(routing: ProxyRouting, endpoint: SIPEndpoint) {
        self.routing = routing
        self.endpoint = endpoint
    }

    /// Response contexts alive (INVITEs not yet answered finally, and non-INVITEs in progress).
    public var contextCount: Int { contexts.count }

    /// The decision for a request (not ACK, which comes through `forwardACK`): nil when it is for
    /// this element itself (the caller answers it), else a rejection or `.pending` with the branches
    /// started.
    public func decide(_ request: SIPMessage, store: LocationStore, now: Instant, arrivedOver transport: TransportKind)
        -> StatelessResponder.Decision? {
        guard let method = request.method else { return nil }
        if method == .cancel { return .cancel }
        if method == .ack { return .absorb("ACK") }
        switch routing.route(request, store: store, now: now) {
        case .drop(let why): return .drop(why)
        case .local: return nil
        case .reject(let status, let reason, let headers):
            return method == .invite
                ? .respond(status: status, reason: reason, headers: headers)
                : .respondStatelessly(status: status, reason: reason, headers: headers)
        case .forward(let message, let groups, let loopHash):
            guard let key = TransactionKey.serverKey(for: request) else { return .drop("no transaction key") }
            let context = ProxyContext(request: request, forwarded: message, groups: groups, loopHash: loopHash,
                                       transport: transport, key: key)
            contexts[key] = context
            statistics.requestsForwarded += 1
            startNextGroup(context, now: now)
            return .pending
        }
    }

    /// §16.10: the upstream CANCEL for `invite` (as received): cancel every branch. False when there is
    /// no context for it (the endpoint answers 487 itself).
    public func cancel(invite: SIPMessage) -> Bool {
        guard let key = TransactionKey.serverKey(for: invite), let context = contexts[key], !context.finalSent else { return false }
        context.cancelled = true
        context.pendingGroups.removeAll()
        cancelPending(context, except: nil)
        return true
    }

    /// Timer C and the removal of finished contexts; call about once a second.
    public func tick(now: Instant) {
        for context in contexts.values {
            for branch in context.branches where branch.final == nil && context.isInvite && !branch.cancelled {
                if now >= branch.timerC {
                    statistics.timerCFired += 1
                    branch.cancelled = true
                    if branch.gotProvisional {
                        statistics.cancelsSent += 1
                        endpoint.cancel(branch.id)
                    }
                }
            }
        }
    }

    // MARK: Branches

    private func startNextGroup(_ context: ProxyContext, now: Instant) {
        while !context.pendingGroups.isEmpty {
            let group = context.pendingGroups.removeFirst()
            var started = 0
            for target in group {
                let copy = routing.forwardedCopy(of: context.forwarded, to: target, arrivedOver: context.transport)
                let branch = ProxyBranch(target: target, timerC: now + timerC)
                context.branches.append(branch)
                statistics.branchesStarted += 1
                started += 1
                branch.id = endpoint.sendRequest(copy, to: target.destination, branchPrefix: context.loopHash + ".") { [weak self, weak branch] event in
                    guard let self, let branch else { return }
                    self.branchEvent(event, branch: branch, context: context)
                }
            }
            if started > 0 { return }
        }
    }

    private func branchEvent(_ event: ClientTransactionEvent, branch: ProxyBranch, context: ProxyContext) {
        let now = SIPServerClock.now()
        let code = event.statusCode
        switch event {
        case .provisional(let response):
            branch.gotProvisional = true
            branch.timerC = now + timerC
            // §16.7 step 5: 100 is not forwarded; other provisionals are, until a final one was sent.
            guard code != 100, !context.finalSent else { return }
            forward(response, context: context)
        case .final(let response):
            if code / 100 == 2 {
                // Every 2xx goes up (the caller's dialog layer ACKs each fork, §16.7 step 5).
                let first = branch.final == nil
                branch.final = code
                forward(response, context: context)
                if first && !context.finalSent {
                    context.finalSent = true
                    if context.isInvite { cancelPending(context, except: branch) }
                }
                finishIfDone(context, now: now)
                return
            }
            guard branch.final == nil else { return }
            branch.final = code
            context.responses.append(BranchResponse(code: code, message: response, synthesised: false))
            if code >= 600 {
                context.pendingGroups.removeAll()
                cancelPending(context, except: branch)
            }
            finishIfDone(context, now: now)
        case .timeout, .transportError:
            guard branch.final == nil else { return }
            let status = event.isSynthesised && code == 503 ? 503 : 408
            branch.final = status
            context.responses.append(BranchResponse(code: status, message: nil, synthesised: true))
            finishIfDone(context, now: now)
        }
    }

    /// When no branch is pending: the next sequential group, or the best response (§16.7 step 6).
    private func finishIfDone(_ context: ProxyContext, now: Instant) {
        guard !context.branches.contains(where: { $0.final == nil }) else { return }
        if !context.finalSent && !context.cancelled && !context.pendingGroups.isEmpty {
            startNextGroup(context, now: now)
            if context.branches.contains(where: { $0.final == nil }) { return }
        }
        if contexts[context.key] === context { contexts[context.key] = nil }
        guard !context.finalSent else { return }
        context.finalSent = true
        sendBest(context)
    }

    private func sendBest(_ context: ProxyContext) {
        guard let chosen = Self.best(context.responses) else {
            endpoint.respond(to: context.request, status: 408)
            return
        }
        var response: SIPMessage
        if let message = chosen.message, Self.viaCount(message) > Self.viaCount(context.request) {
            // Received from the branch: our Via comes off (§16.7 step 3). A response the endpoint
            // made up from the request (a branch cancelled while still resolving) has none of ours.
            response = message
            response.headers.removeFirstListValue(.via)
        } else {
            response = endpoint.responder.response(to: context.request, status: chosen.code, reason: nil, headers: [])
        }
        if chosen.code == 401 || chosen.code == 407 {
            // §16.7 step 7: every challenge of every 401/407 in one response.
            for (i, other) in context.responses.enumerated() where i != chosen.index && (other.code == 401 || other.code == 407) {
                guard let m = other.message else { continue }
                for name in [HeaderName.wwwAuthenticate, .proxyAuthenticate] {
                    for v in m.headers.values(name) { response.headers.append(name, v) }
                }
            }
        }
        if chosen.code == 503 {
            // §16.7 step 6: a 503 would make the caller think this proxy is overloaded.
            if case .response(var line) = response.startLine {
                line.code = 500
                line.reason = "Server Internal Error"
                response.startLine = .response(line)
            }
        }
        statistics.responsesForwarded += 1
        if !endpoint.forward(response, for: context.request) { endpoint.sendResponseStatelessly(response) }
    }

    static func viaCount(_ m: SIPMessage) -> Int { m.headers.listValues(.via).count }

    /// §16.7 step 6: 6xx first; else the lowest class; in 4xx the ones that help a retry.
    static func best(_ responses: [BranchResponse]) -> (index: Int, code: Int, message: SIPMessage?)? {
        func pick(_ i: Int) -> (index: Int, code: Int, message: SIPMessage?) { (i, responses[i].code, responses[i].message) }
        if let six = responses.firstIndex(where: { $0.code >= 600 }) { return pick(six) }
        guard let lowestClass = responses.map({ $0.code / 100 }).min() else { return nil }
        let candidates = responses.indices.filter { responses[$0].code / 100 == lowestClass }
        if lowestClass == 4 {
            for preferred in [401, 407, 415, 420, 484] {
                if let r = candidates.first(where: { responses[$0].code == preferred && !responses[$0].synthesised }) { return pick(r) }
            }
        }
        return pick(candidates.first(where: { !responses[$0].synthesised }) ?? candidates[0])
    }

    private func cancelPending(_ context: ProxyContext, except keep: ProxyBranch?) {
        guard context.isInvite else { return }
        for b in context.branches where b !== keep && b.final == nil && !b.cancelled {
            b.cancelled = true
            statistics.cancelsSent += 1
            endpoint.cancel(b.id)
        }
    }

    /// Takes our Via off a response and sends it up through the server transaction (or statelessly
    /// when the transaction is gone: a late 2xx, §16.7 step 10).
    private func forward(_ response: SIPMessage, context: ProxyContext) {
        var up = response
        up.headers.removeFirstListValue(.via)
        statistics.responsesForwarded += 1
        if !endpoint.forward(up, for: context.request) { endpoint.sendResponseStatelessly(up) }
    }

    // MARK: ACK for 2xx

    /// An ACK that matched no server transaction (for a 2xx): forwarded to its next hop once, after
    /// our Route comes off (§16.4, §16.6); dropped when it is for this element.
    public func forwardACK(_ ack: SIPMessage) {
        var message = ack
        routing.preprocessRoutes(&message)
        guard let line = message.requestLine else { return }
        if !message.headers.contains(.route), case .sip(let uri) = line.uri, routing.isLocal(uri) { return }
        let mf = (try? message.maxForwards()) ?? nil
        if mf == 0 { return }
        message.headers.set(.maxForwards, String(max(0, (mf ?? 71) - 1)))
        statistics.acksForwarded += 1
        endpoint.sendRequest(message) { _ in }
    }
}

/// One forwarded request (§16: the response context).
final class ProxyContext {
    let request: SIPMessage
    /// The request after Route preprocessing, before the per-target changes.
    let forwarded: SIPMessage
    var pendingGroups: [[ProxyRouting.Target]]
    let loopHash: String
    let transport: TransportKind
    let key: TransactionKey
    let isInvite: Bool
    var branches: [ProxyBranch] = []
    var responses: [BranchResponse] = []
    var finalSent = false
    var cancelled = false

    init(request: SIPMessage, forwarded: SIPMessage, groups: [[ProxyRouting.Target]], loopHash: String,
         transport: TransportKind, key: TransactionKey) {
        self.request = request
        self.forwarded = forwarded
        self.pendingGroups = groups
        self.loopHash = loopHash
        self.transport = transport
        self.key = key
        isInvite = request.method == .invite
    }
}

/// One branch: its client transaction(s), Timer C deadline and final status.
final class ProxyBranch {
    let target: ProxyRouting.Target
    var id = ClientTransactionID(rawValue: 0)
    var timerC: Instant
    var gotProvisional = false
    var cancelled = false
    var final: Int?

    init(target: ProxyRouting.Target, timerC: Instant) {
        self.target = target
        self.timerC = timerC
    }
}

/// A branch's final response (nil message: a timeout or transport error made up here).
struct BranchResponse {
    var code: Int
    var message: SIPMessage?
    var synthesised: Bool
}
