#if canImport(Glibc)
import Glibc
#endif
import Config
import SIPCore
import SIPTransaction
import SIPTransport

/// The signalling endpoint: one thread runs `poll(2)` over the UDP sockets, the TCP and TLS
/// listeners and their connections, and (in the daemon) the signal self-pipe; a `TimerHeap` of
/// transaction timers gives the poll timeout. A request runs in a server transaction (RFC 3261
/// §17.2, RFC 6026) found by `TransactionKey.serverKey` unless the transaction user answers it
/// statelessly (`.respondStatelessly`, the default for OPTIONS); the machines absorb retransmissions
/// and the ACK to a non-2xx response; CANCEL is matched per §9.2. Client transactions
/// (`sendRequest`, SIPEndpoint+Client.swift) share the loop and the timer heap.
///
/// Why poll and not epoll or DispatchSource: the descriptor count is small (a few listening sockets
/// plus at most `StreamLimits.maxConnections` connections), poll needs no registration bookkeeping as
/// connections come and go, and it keeps every piece of SIP state on this one thread without
/// Dispatch's thread pool (architecture.md: no locks in protocol code). Rebuilding the pollfd array
/// each turn is O(descriptors), which is noise next to parsing one message. Should connection counts
/// grow to many thousands, epoll is a local change to `step`.
///
/// The endpoint is single-threaded by contract: create it, bind it, and call `step` or `run` from one
/// thread.
public final class SIPEndpoint {
    /// What the endpoint has done, for logs and tests.
    public struct Statistics: Sendable, Equatable {
        public var requestsReceived = 0
        /// Requests handed to the transaction user (retransmissions are not).
        public var transactionUserDecisions = 0
        public var transactionsCreated = 0
        public var transactionsTerminated = 0
        /// Transactions that ended because a timer fired (J, K, H, I, L).
        public var transactionsExpiredByTimer = 0
        /// Retransmitted requests (and ACKs) a live transaction took.
        public var retransmissionsAbsorbed = 0
        /// ACKs that matched no transaction (ACKs to 2xx; there are no dialogs yet).
        public var strayACKs = 0
        /// 503s sent because `maxServerTransactions` transactions were alive.
        public var overloadRejections = 0
        /// Responses sent without a transaction (malformed requests, the 503s).
        public var statelessResponses = 0
        /// Requests the transaction user answered statelessly (`.respondStatelessly`), no transaction.
        public var statelessAnswers = 0
        public var responsesDropped = 0
        public var timersFired = 0
        public var transportErrors = 0

        public init() {}
    }

    /// The transaction user: the decision for a request delivered by a new transaction.
    public typealias TransactionUser = (SIPMessage) -> StatelessResponder.Decision

    public let configuration: EndpointConfiguration
    public private(set) var statistics = Statistics()
    /// The stateless policy: builds every response (To tag, Server) and decides by default.
    public let responder = StatelessResponder()
    /// Decides requests; defaults to the stateless policy (OPTIONS 200, 405, 501, the validator's
    /// answers). `.respond` goes through the transaction at once; any other decision for a request
    /// other than ACK ends the transaction silently.
    public var transactionUser: TransactionUser
    /// Called on SIGHUP by `run`.
    public var reload: () -> Void = {}
    /// Called on SIGUSR1 by `run` (the daemon logs its statistics).
    public var report: () -> Void = {}

    // Hooks for the server roles (a proxy, RFC 3261 §16); all run on the signalling thread.

    /// Where the request being decided came from (set while `transactionUser`, `ackHandler` or
    /// `cancelHandler` runs, nil otherwise): the transport and the packet's source address.
    public private(set) var currentRequestSource: RequestSource?
    /// ACKs that match no server transaction: ACKs for 2xx (§13.2.2.4, §16.7: a proxy forwards them
    /// end to end), or strays. Nil: counted in `strayACKs` and dropped.
    public var ackHandler: ((SIPMessage) -> Void)?
    /// Responses that match no client transaction (§18.1.2): a stateless proxy forwards them (§16.11);
    /// return false to have them counted as dropped. Nil: dropped.
    public var strayResponseHandler: ((SIPMessage) -> Bool)?
    /// A CANCEL matched an INVITE server transaction still proceeding (the INVITE as received): return
    /// true when the TU takes care of the INVITE's final response (a proxy cancels its branches and
    /// forwards the 487 they bring, §16.10); the endpoint then only answers 200 to the CANCEL. Nil or
    /// false: the endpoint answers 487 to the INVITE itself.
    public var cancelHandler: ((SIPMessage) -> Bool)?
    /// Called about every `tickInterval` by the loop (housekeeping: registrar sweeps, Timer C, saves).
    public var onTick: (() -> Void)?
    /// How often `onTick` runs.
    public var tickInterval: Duration = .seconds(1)

    // Internal (not private) where the client side (SIPEndpoint+Client.swift) uses them.
    let log: (String) -> Void
    private(set) var udpSockets: [UDPSocket] = []
    private(set) var listeners: [TCPListener] = []
    var connections: [ObjectIdentifier: TCPConnection] = [:]
    private var transactions: [TransactionKey: ServerTransactionRecord] = [:]
    /// Server and client transaction timers (an entry's `key.role` says which).
    var timers = TimerHeap<TransactionTimerEntry>()
    var generation: UInt64 = 0
    /// Client transactions, their requests, UDP flows, client connections, the resolver thread.
    let client = ClientTransactionTable()
    /// The transaction user's decision for the request a new transaction is about to deliver (asked
    /// before the transaction exists, so a stateless answer needs none).
    private var decisionForNewTransaction: StatelessResponder.Decision?
    private var lastSweep: UInt64 = 0
    private var nextTick: Int64 = 0
    /// Transaction-user timers (`schedule(at:_:)`) and watched descriptors (`watch(_:_:)`):
    /// SIPEndpoint+Scheduling.swift. Few (a handful per line), so a dictionary scan finds the next.
    var scheduledTasks: [UInt64: (deadline: Instant, task: () -> Void)] = [:]
    var watchedDescriptors: [(id: UInt64, fd: Int32, handler: () -> Void)] = []
    var nextScheduleID: UInt64 = 1
    /// The target of the client transaction whose event a handler is being told (`responseTarget`).
    var currentResponseTarget: SIPServerTarget?

    public init(configuration: EndpointConfiguration = .default, log: @escaping (String) -> Void = { _ in }) {
        self.configuration = configuration
        self.log = log
        let responder = self.responder
        let optionsStateless = configuration.answersOptionsStatelessly
        self.transactionUser = { request in
            let decision = responder.decide(request)
            if optionsStateless, request.method == .options, case .respond(let status, let reason, let headers) = decision {
                return .respondStatelessly(status: status, reason: reason, headers: headers)
            }
            return decision
        }
    }

    // MARK: Sockets

    /// Binds every address (TLS ones need `tls`, a server context) and replaces the current sockets
    /// and listeners; on failure nothing changes and the error names the address. Open connections
    /// stay.
    public func bind(_ addresses: [ListenAddress], tls: TLSContext? = nil) throws(EndpointError) {
        var freshUDP: [UDPSocket] = []
        var freshListeners: [TCPListener] = []
        for a in addresses {
            switch a.transport {
            case .udp:
                // A socket already bound to this very address is kept (a reload that rebinds the
                // same addresses must not find its own port "in use").
                if a.port != 0, let kept = udpSockets.first(where: { $0.local.port == a.port && SocketAddress(host: a.host, port: a.port) == $0.local }) {
                    freshUDP.append(kept)
                    continue
                }
                do { freshUDP.append(try UDPSocket(host: a.host, port: a.port)) } catch {
                    throw EndpointError("\(a): \(error)")
                }
            case .tcp, .tls:
                if a.transport == .tls && tls == nil { throw EndpointError("\(a): TLS needs a certificate and key") }
                do {
                    freshListeners.append(try TCPListener(host: a.host, port: a.port, tls: a.transport == .tls ? tls : nil,
                                                          limits: configuration.streamLimits))
                } catch {
                    throw EndpointError("\(a): \(error)")
                }
            }
        }
        udpSockets = freshUDP
        listeners = freshListeners
        for s in udpSockets { log("listening on udp:\(s.local)") }
        for l in listeners { log("listening on \(l.transport.rawValue):\(l.local)") }
    }

    /// The bound addresses (ports resolved when 0 was asked for).
    public var localAddresses: [(transport: TransportKind, address: SocketAddress)] {
        udpSockets.map { (TransportKind.udp, $0.local) } + listeners.map { ($0.transport, $0.local) }
    }

    /// Server transactions alive now.
    public var serverTransactionCount: Int { transactions.count }

    /// Stream connections open now (accepted, or opened to deliver a response).
    public var connectionCount: Int { connections.count }

    // MARK: The loop

    /// Runs until SIGTERM or SIGINT arrives on `signals`; SIGHUP calls `reload`, SIGUSR1 `report`. Returns the signal.
    public func run(signals: SignalPipe) -> Int32 {
        while true {
            if let sig = step(maxWait: -1, signals: signals) {
                if sig == SIGHUP {
                    log("SIGHUP: reloading configuration")
                    reload()
                } else if sig == SIGUSR1 {
                    report()
                } else {
                    return sig
                }
            }
        }
    }

    /// One turn of the loop: waits up to `maxWait` milliseconds (-1: until something happens) for
    /// traffic or the next timer, handles what is ready and the timers that are due. Returns a signal
    /// read from `signals`, if one arrived.
    @discardableResult
    public func step(maxWait: Int32, signals: SignalPipe? = nil) -> Int32? {
        var fds: [pollfd] = []
        fds.reserveCapacity(1 + udpSockets.count + listeners.count + connections.count)
        if let signals { fds.append(pollfd(fd: signals.fd, events: Int16(POLLIN), revents: 0)) }
        let udpBase = fds.count
        for s in udpSockets { fds.append(pollfd(fd: s.fd, events: Int16(POLLIN), revents: 0)) }
        let listenerBase = fds.count
        for l in listeners { fds.append(l.pollDescriptor) }
        let connectionBase = fds.count
        let polled = Array(connections.values)
        var pendingInput = false
        for c in polled {
            fds.append(c.pollDescriptor)
            if c.hasPendingInput { pendingInput = true }
        }
        let clientBase = fds.count
        fds.append(contentsOf: clientPollDescriptors())
        let watchBase = fds.count
        let watched = watchedDescriptors
        for w in watched { fds.append(pollfd(fd: w.fd, events: Int16(POLLIN), revents: 0)) }
        let timeout = pendingInput || clientHasWork ? 0 : pollTimeout(maxWait: maxWait)
        let n = poll(&fds, nfds_t(fds.count), timeout)
        if n < 0 && errno != EINTR {
            log("poll: \(String(cString: strerror(errno)))")
        }
        var signal: Int32? = nil
        if n > 0 {
            if let signals, fds[0].revents != 0 { signal = signals.next() }
            for (k, s) in udpSockets.enumerated() where fds[udpBase + k].revents != 0 {
                // Drain what is waiting, bounded so one busy socket cannot starve the others.
                var budget = 64
                while budget > 0, let (bytes, from) = s.receive() {
                    budget -= 1
                    receive(datagram: bytes, on: s, from: from)
                }
            }
            let ms = MonotonicClock.milliseconds()
            for (k, l) in listeners.enumerated() where fds[listenerBase + k].revents != 0 {
                for c in l.accept(now: ms) { connections[ObjectIdentifier(c)] = c }
            }
        }
        let ms = MonotonicClock.milliseconds()
        for (k, c) in polled.enumerated() {
            let revents = n > 0 ? fds[connectionBase + k].revents : 0
            guard revents != 0 || c.hasPendingInput else { continue }
            for event in c.handle(revents: revents, now: ms) { handle(event, on: c) }
            if c.isClosed { connections[ObjectIdentifier(c)] = nil }
        }
        serviceClient(fds[clientBase..<watchBase])
        if n > 0 {
            for (k, w) in watched.enumerated() where fds[watchBase + k].revents != 0 {
                // Still watched (an earlier handler in this turn may have removed it)?
                if watchedDescriptors.contains(where: { $0.id == w.id }) { w.handler() }
            }
        }
        fireDueTimers()
        runDueScheduledTasks()
        if let onTick {
            let nowNs = Self.now().nanoseconds
            if nowNs >= nextTick {
                let (seconds, attoseconds) = tickInterval.components
                nextTick = nowNs &+ max(1_000_000, seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
                onTick()
            }
        }
        if ms &- lastSweep >= 1000 {
            lastSweep = ms
            for (id, c) in connections {
                _ = c.checkTimeouts(now: ms)
                if c.isClosed { connections[id] = nil }
            }
        }
        return signal
    }

    private func pollTimeout(maxWait: Int32) -> Int32 {
        var next = timers.nextDeadline
        if onTick != nil { next = min(next ?? nextTick, nextTick) }
        if let task = nextScheduledDeadline { next = min(next ?? task, task) }
        guard let deadline = next else { return maxWait }
        let remaining = deadline &- Self.now().nanoseconds
        if remaining <= 0 { return 0 }
        // Round up so the timer is due when poll returns.
        let ms = Int32(clamping: (remaining + 999_999) / 1_000_000)
        return maxWait < 0 ? ms : min(ms, maxWait)
    }

    static func now() -> Instant {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Instant(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }

    // MARK: Input

    private func receive(datagram: [UInt8], on socket: UDPSocket, from: SocketAddress) {
        // Keepalives (RFC 5626 §3.5.1 allows CRLF on UDP too): nothing to do.
        if datagram.allSatisfy({ $0 == 0x0D || $0 == 0x0A || $0 == 0x20 }) { return }
        let origin = RequestOrigin.datagram(socket, from: from)
        switch SIPMessage.parseDetailed(datagram: datagram, limits: responder.policy.limits) {
        case .failure(let failure): answerMalformed(failure, origin: origin)
        case .success(let message): receive(message, origin: origin)
        }
    }

    private func handle(_ event: TCPConnection.Event, on connection: TCPConnection) {
        switch event {
        case .message(let m): receive(m, origin: .stream(connection))
        case .malformed(let f): answerMalformed(f, origin: .stream(connection))
        case .closed(let reason): clientConnectionClosed(connection, reason: reason)
        case .connected, .ping, .pong: break
        }
    }

    /// A message that did not parse: the validator's response, statelessly, to the source.
    private func answerMalformed(_ failure: SIPParseFailure, origin: RequestOrigin) {
        if case .response = failure.kind {
            statistics.responsesDropped += 1
            return
        }
        guard var response = responder.response(toMalformed: failure) else { return }
        // §18.2.1 as for any request: note the real source in the top Via, so the response goes back
        // to where the request came from, never to an address merely written in the Via.
        let source = origin.source
        _ = try? ViaHandling.stampTopVia(of: &response, sourceHost: source.host, sourcePort: source.port)
        statistics.statelessResponses += 1
        _ = transmit(response, origin: origin)
    }

    func receive(_ message: SIPMessage, origin: RequestOrigin) {
        guard message.isRequest, let method = message.method else {
            // §18.1.2: a response goes to its client transaction; strays are dropped.
            if !receiveResponse(message) && !(strayResponseHandler?(message) ?? false) { statistics.responsesDropped += 1 }
            return
        }
        statistics.requestsReceived += 1
        var request = message
        let source = origin.source
        currentRequestSource = RequestSource(origin)
        defer { currentRequestSource = nil }
        // The stamped Via is what `request.topVia()` now parses to (the key below parses it again, so
        // once there is a key it is known to parse): the stateless answer reuses it.
        let sourceHost = source.host
        let stampedVia = try? ViaHandling.stampTopVia(of: &request, sourceHost: sourceHost, sourcePort: source.port)
        guard let stampedVia, let key = TransactionKey.serverKey(for: request) else {
            // Too broken to match a transaction (no usable Via, CSeq, …): answer statelessly.
            answerStatelessly(request, origin: origin)
            return
        }
        let now = Self.now()
        if let record = transactions[key] {
            statistics.retransmissionsAbsorbed += 1
            apply(record.receivedRequest(request, now: now), to: record, key: key, now: now)
            return
        }
        if method == .ack {
            // The ACK to a 2xx (a dialog's or a proxy's business) or to nothing we know.
            if let ackHandler {
                ackHandler(request)
            } else {
                statistics.strayACKs += 1
            }
            return
        }
        if transactions.count >= configuration.maxServerTransactions {
            statistics.overloadRejections += 1
            statistics.statelessResponses += 1
            let response = responder.response(to: request, status: 503, reason: nil, headers: [
                HeaderField(name: .retryAfter, value: String(configuration.retryAfterSeconds))
            ])
            _ = transmit(response, origin: origin)
            return
        }
        let decision = transactionUser(request)
        statistics.transactionUserDecisions += 1
        if case .absorb = decision { return }  // taken with no answer (a stateless proxy forwarded it)
        if case .drop = decision { return }
        if case .respondStatelessly(let status, let reason, let headers) = decision {
            statistics.statelessAnswers += 1
            statistics.statelessResponses += 1
            let response = responder.response(to: request, topVia: stampedVia, status: status, reason: reason, headers: headers)
            _ = transmit(response, origin: origin, topVia: stampedVia, sourceHost: sourceHost)
            return
        }
        let reliable = origin.isReliable
        let machine: ServerTransactionRecord.Machine = method == .invite
            ? .invite(InviteServerTransaction(request: request, reliable: reliable, timers: configuration.timers, sendTrying: false))
            : .nonInvite(NonInviteServerTransaction(request: request, reliable: reliable, timers: configuration.timers))
        let record = ServerTransactionRecord(machine: machine, origin: origin)
        transactions[key] = record
        statistics.transactionsCreated += 1
        decisionForNewTransaction = decision
        apply(record.start(now: now), to: record, key: key, now: now)
        decisionForNewTransaction = nil
    }

    private func answerStatelessly(_ request: SIPMessage, origin: RequestOrigin) {
        let response: SIPMessage
        switch transactionUser(request) {
        case .respond(let status, let reason, let headers), .respondStatelessly(let status, let reason, let headers):
            response = responder.response(to: request, status: status, reason: reason, headers: headers)
        case .cancel:
            response = responder.response(to: request, status: 481, reason: nil, headers: [])
        case .absorb, .drop, .pending:
            return
        }
        statistics.statelessResponses += 1
        _ = transmit(response, origin: origin)
    }

    // MARK: Transactions

    private func apply(_ actions: [TransactionAction], to record: ServerTransactionRecord, key: TransactionKey, now: Instant) {
        for action in actions {
            switch action {
            case .transmit(let message):
                if !transmit(message, origin: record.origin) {
                    statistics.transportErrors += 1
                    apply(record.transportError(now: now), to: record, key: key, now: now)
                    return
                }
            case .deliver(let request):
                deliver(request, to: record, key: key, now: now)
            case .arm(let name, let at):
                generation &+= 1
                record.armed[name] = generation
                timers.schedule(at: at.nanoseconds, TransactionTimerEntry(key: key, name: name, generation: generation))
            case .disarm(let name):
                record.armed[name] = nil
            case .timeout, .transportError:
                break
            case .terminated:
                if transactions[key] === record {
                    transactions[key] = nil
                    statistics.transactionsTerminated += 1
                }
            }
        }
    }

    /// A request the transaction passes up: ask the transaction user, send its answer through the
    /// transaction.
    private func deliver(_ request: SIPMessage, to record: ServerTransactionRecord, key: TransactionKey, now: Instant) {
        if request.method == .ack {
            // An ACK the INVITE transaction passes up in Accepted (RFC 6026 §7.1: a 2xx's ACK that
            // reused the branch, or an RFC 2543 ACK): the same hook as ACKs matching nothing.
            ackHandler?(request)
            return
        }
        let decision: StatelessResponder.Decision
        if let made = decisionForNewTransaction {
            decision = made
            decisionForNewTransaction = nil
        } else {
            statistics.transactionUserDecisions += 1
            decision = transactionUser(request)
        }
        switch decision {
        case .respond(let status, let reason, let headers), .respondStatelessly(let status, let reason, let headers):
            let response = responder.response(to: request, status: status, reason: reason, headers: headers)
            apply(record.sendResponse(response, now: now), to: record, key: key, now: now)
        case .cancel:
            answerCancel(request, record: record, key: key, now: now)
        case .pending:
            // §17.2.1: the TU will answer later (a proxy forwarding it, §16.2): 100 Trying now, so the
            // client stops retransmitting the INVITE.
            if request.method == .invite && configuration.sendsTryingForPendingInvites {
                let trying = responder.response(to: request, status: 100, reason: nil, headers: [])
                apply(record.sendResponse(trying, now: now), to: record, key: key, now: now)
            }
        case .absorb, .drop:
            if transactions[key] === record {
                transactions[key] = nil
                statistics.transactionsTerminated += 1
            }
        }
    }

    /// Answers a request the transaction user left `.pending` (the request as it was delivered), through
    /// its transaction. False when that transaction is gone or no longer takes responses.
    @discardableResult
    public func respond(to request: SIPMessage, status: Int, reason: String? = nil, headers: [HeaderField] = []) -> Bool {
        guard let key = TransactionKey.serverKey(for: request), let record = transactions[key] else { return false }
        let now = Self.now()
        let actions = record.sendResponse(responder.response(to: request, status: status, reason: reason, headers: headers), now: now)
        apply(actions, to: record, key: key, now: now)
        return !actions.isEmpty
    }

    /// Sends `response` (built by the TU, e.g. a proxy forwarding what a branch answered, §16.7 step 9)
    /// through the server transaction of `request` (as delivered). False when that transaction is gone
    /// or no longer takes responses.
    @discardableResult
    public func forward(_ response: SIPMessage, for request: SIPMessage) -> Bool {
        guard let key = TransactionKey.serverKey(for: request), let record = transactions[key] else { return false }
        let now = Self.now()
        let actions = record.sendResponse(response, now: now)
        apply(actions, to: record, key: key, now: now)
        return !actions.isEmpty
    }

    /// CANCEL (§9.2): when it matches an INVITE transaction still proceeding, 200 to the CANCEL and
    /// 487 to the INVITE; otherwise 481.
    private func answerCancel(_ cancel: SIPMessage, record: ServerTransactionRecord, key: TransactionKey, now: Instant) {
        if let inviteKey = TransactionKey.cancelledKey(for: cancel), let invite = transactions[inviteKey], invite.isProceedingInvite {
            let ok = responder.response(to: cancel, status: 200, reason: nil, headers: [])
            apply(record.sendResponse(ok, now: now), to: record, key: key, now: now)
            if let cancelHandler, cancelHandler(invite.request) { return }
            let terminated = responder.response(to: invite.request, status: 487, reason: nil, headers: [])
            apply(invite.sendResponse(terminated, now: now), to: invite, key: inviteKey, now: now)
        } else {
            let unknown = responder.response(to: cancel, status: 481, reason: nil, headers: [])
            apply(record.sendResponse(unknown, now: now), to: record, key: key, now: now)
        }
    }

    private func fireDueTimers() {
        guard let first = timers.nextDeadline else { return }
        let now = Self.now()
        guard first <= now.nanoseconds else { return }
        for entry in timers.popDue(now: now.nanoseconds) {
            if entry.key.role == .client {
                statistics.timersFired += 1
                clientTimerFired(entry, now: now)
                continue
            }
            guard let record = transactions[entry.key], record.armed[entry.name] == entry.generation else { continue }
            record.armed[entry.name] = nil
            statistics.timersFired += 1
            let actions = record.timerFired(entry.name, now: now)
            if actions.contains(.terminated) { statistics.transactionsExpiredByTimer += 1 }
            apply(actions, to: record, key: entry.key, now: now)
        }
    }

    // MARK: Output

    /// Sends a response where §18.2.2 says (the top Via, as stamped on arrival); false when the
    /// transport could not take it. `topVia`/`sourceHost`: the response's top Via and the source host,
    /// when the caller already has them parsed (the stateless fast path), so they are not parsed again.
    private func transmit(_ response: SIPMessage, origin: RequestOrigin, topVia: Via? = nil, sourceHost: String? = nil) -> Bool {
        let bytes = response.serialized()
        switch origin {
        case .stream(let connection):
            if !connection.isClosed {
                return connection.send(bytes: bytes, now: MonotonicClock.milliseconds()).isEmpty && !connection.isClosed
            }
            guard let via = try? response.topVia(),
                  case .connect(let transport, let host, let port) = ViaHandling.responseRoute(topVia: via, connectionOpen: false),
                  let kind = TransportKind(viaToken: transport), kind == .tcp || (kind == .tls && tlsClientContext != nil),
                  host.isNumeric, let remote = SocketAddress(host: host.bare, port: port) else {
                // The connection is gone and no new one can be opened (TLS needs the client context,
                // names need RFC 3263 resolution): a transport error.
                return false
            }
            let ms = MonotonicClock.milliseconds()
            if let existing = connections.values.first(where: { $0.transport == kind && $0.remote == remote && !$0.isClosed }) {
                return existing.send(bytes: bytes, now: ms).isEmpty && !existing.isClosed
            }
            // §18.2.2 over TLS: the client context, the certificate checked against the address.
            let tls = kind == .tls ? tlsClientContext : nil
            guard let fresh = try? TCPConnection.connect(to: remote, tls: tls, serverName: tls == nil ? nil : host.bare,
                                                         limits: configuration.streamLimits, now: ms) else { return false }
            connections[ObjectIdentifier(fresh)] = fresh
            return fresh.send(bytes: bytes, now: ms).isEmpty && !fresh.isClosed
        case .datagram(let socket, let from):
            return sendDatagram(bytes, on: socket, from: from, topVia: topVia ?? (try? response.topVia()), sourceHost: sourceHost)
        }
    }

    /// Sends a response's octets over UDP where its top Via (`topVia`, nil when it does not parse)
    /// routes them (§18.2.2, RFC 3581).
    /// `sourceHost`: `from.host`, when the caller has it (spares converting the route's address back).
    private func sendDatagram(_ bytes: [UInt8], on socket: UDPSocket, from: SocketAddress, topVia: Via?,
                              sourceHost: String? = nil) -> Bool {
        var target = from
        if let via = topVia, case .datagram(let host, let port, _) = ViaHandling.responseRoute(topVia: via, connectionOpen: false) {
            if let sourceHost, from.family == AF_INET, case .ipv4(let h) = host, h == sourceHost, port == from.port {
                // The usual case (received and rport, RFC 3581): back to the source, which `from` is.
            } else if host.isNumeric, let address = SocketAddress(host: host.bare, port: port), address.family == from.family {
                target = address
            }
        }
        // Otherwise (a Via that does not parse, a host name, a reliable Via over UDP): the
        // source address, the only route known to work.
        return socket.send(bytes, to: target)
    }
}
