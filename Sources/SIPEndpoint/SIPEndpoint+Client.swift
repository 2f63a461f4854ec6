#if canImport(Glibc)
import Glibc
#endif
import SIPCore
import SIPTransaction
import SIPTransport

/// The client side of the endpoint (RFC 3261 §8.1, §9.1, §17.1, §18.1; RFC 3263 §4; RFC 3581 §3):
/// the transaction user hands a request to `sendRequest`, the endpoint finds the targets, adds its
/// Via, runs a client transaction per target and reports the outcome to the handler. Everything runs
/// on the signalling thread, like the server side; only DNS lookups run on the resolver thread.
extension SIPEndpoint {
    // MARK: API

    /// What the client side has done.
    public var clientStatistics: ClientStatistics { client.statistics }

    /// Client transactions alive now (one per target tried, CANCELs included).
    public var clientTransactionCount: Int { client.attempts.count }

    /// Requests from `sendRequest` not finished yet (resolving, or with a live client transaction).
    public var clientRequestCount: Int { client.requests.count }

    /// The client TLS context (see `EndpointConfiguration.tlsClient`); may be replaced at any time,
    /// e.g. on a configuration reload. New connections use the new one.
    public var tlsClientContext: TLSContext? {
        get { client.tlsReplaced ? client.tls : configuration.tlsClient }
        set {
            client.tls = newValue
            client.tlsReplaced = true
        }
    }

    /// The server target (transport and address after RFC 3263) of the client transaction whose event
    /// a `sendRequest` handler is being told, while it runs; nil elsewhere (and for a request that
    /// never reached a target). A registration client keeps it to send keepalives to the server
    /// that holds its binding.
    public var responseTarget: SIPServerTarget? { currentResponseTarget }

    /// Sends a keepalive (RFC 5626 §3.5.1: CRLFCRLF; also what Grandstream and Cisco ATAs send on
    /// UDP) to `target`: on UDP a datagram from the bound socket of its family, on TCP/TLS over the
    /// open connection to it (never a new one). False when there is nothing to send it through.
    @discardableResult
    public func sendKeepAlive(to target: SIPServerTarget, localPort: UInt16? = nil) -> Bool {
        let bytes: [UInt8] = [13, 10, 13, 10]
        switch target.transport {
        case .udp:
            let family = udpSockets.filter { $0.local.family == target.address.family }
            guard let socket = family.first(where: { localPort != nil && $0.local.port == localPort }) ?? family.first else { return false }
            return socket.send(bytes, to: target.address)
        case .tcp, .tls:
            guard let c = connections.values.first(where: { $0.remote == target.address && $0.transport == target.transport && !$0.isClosed }) else { return false }
            for event in c.sendPing(now: MonotonicClock.milliseconds()) { if case .closed = event { return false } }
            return true
        }
    }

    /// The host's addresses changed (the WAN link or address): the connected UDP flows were bound
    /// to a source address the kernel chose when they were made, which may be gone. They are
    /// forgotten, so the next request to each target gets a new flow with the current source; the
    /// transactions still using an old one keep it, still polled, to their end. Returns how many were dropped.
    @discardableResult
    public func forgetUDPFlows() -> Int {
        let n = client.flows.count
        for (_, flow) in client.flows where flow.users > 0 { client.retiredFlows.append(flow) }
        client.flows.removeAll()
        if n > 0 { log("client: address change: \(n) UDP flow(s) will be made anew") }
        return n
    }

    /// Sends `request` in a client transaction and reports its responses to `handler`.
    ///
    /// - `destination`: where to send it; by default the URI of the top Route when it is a loose
    ///   router (`lr`), else the Request-URI (§8.1.2: with a strict router the TU has already put it
    ///   into the Request-URI). Resolved per RFC 3263 (numeric hosts and explicit ports skip lookups;
    ///   names go NAPTR → SRV → A/AAAA on the resolver thread).
    /// - The endpoint adds the top Via (`SIP/2.0/<transport>`, the local address of the socket or
    ///   connection used, a fresh `z9hG4bK` branch and `rport`), Max-Forwards 70 when absent, and a
    ///   Content-Length matching the body. The rest of the request is the TU's (§8.1.1).
    /// - A timeout, transport error or 503 on one target sends the request to the next in a new
    ///   client transaction (new branch, RFC 3263 §4.3); the handler sees provisionals and the final
    ///   outcome. See `ClientTransactionEvent`.
    /// - The ACK for a non-2xx final response is sent by the INVITE transaction itself. An ACK (for a
    ///   2xx) passed here is sent once, without a transaction, with its own branch (§17.1.1.3,
    ///   §13.2.2.4); its handler hears only of a failure to send it.
    /// - CANCEL is sent with `cancel(_:)`, not here.
    /// - `localPort`: over UDP, send from the bound socket on this port when there is one (a line's
    ///   own port, TR-104 UserAgentPort), so the Via, the Contact and the NAT binding all use it.
    /// - `branchPrefix`: written right after the `z9hG4bK-` of every branch the request's transactions
    ///   use (a proxy's loop-detection hash, RFC 3261 §16.6 step 8); the rest stays random.
    ///
    /// The handler is never called from inside this method: failures found at once are reported on the
    /// next turn of the loop (`step`).
    @discardableResult
    public func sendRequest(_ request: SIPMessage, to destination: SIPURI? = nil, branchPrefix: String? = nil,
                            localPort: UInt16? = nil,
                            handler: @escaping (ClientTransactionEvent) -> Void) -> ClientTransactionID {
        client.nextID &+= 1
        let id = ClientTransactionID(rawValue: client.nextID)
        client.statistics.requestsSent += 1
        let record = ClientRequest(id: id, original: request, destination: destination, handler: handler)
        record.branchPrefix = branchPrefix
        record.localPort = localPort
        client.deferring += 1
        defer { client.deferring -= 1 }
        guard let method = request.method, method != .cancel,
              let cseq = try? request.cseq(), cseq.method == method else {
            reportFailure(record, detail: request.method == .cancel ? "CANCEL is sent with cancel(_:)" : "not a request with a matching CSeq")
            return id
        }
        guard client.requests.count < configuration.maxClientRequests else {
            reportFailure(record, detail: "too many client requests in progress")
            return id
        }
        client.requests[id] = record
        guard let uri = destination ?? Self.nextHop(of: request) else {
            reportFailure(record, detail: "no SIP or SIPS URI to send to")
            return id
        }
        resolve(uri, for: record)
        return id
    }

    /// Cancels an INVITE sent with `sendRequest` (§9.1): a CANCEL with the INVITE's Request-URI,
    /// Call-ID, From, To, CSeq number, Route set and top Via (same branch) goes to the same target,
    /// over the same transport, once a provisional response has arrived (at once if one has; else
    /// when the first one does). The INVITE's handler then normally sees 487. If the INVITE has not
    /// been sent yet (still resolving) it never will be, and its handler gets a made-up 487 final.
    /// When no final response arrives within 64·T1 of the CANCEL, the INVITE is given up and its
    /// handler gets a timeout (§9.1).
    ///
    /// `handler`, if given, hears the CANCEL's own responses (200, 481) or its timeout.
    /// False when there is nothing to cancel (unknown ID, not an INVITE, already final or cancelled).
    @discardableResult
    public func cancel(_ id: ClientTransactionID, handler: ((ClientTransactionEvent) -> Void)? = nil) -> Bool {
        guard let owner = client.requests[id], owner.isInvite, !owner.finished, !owner.cancelRequested else { return false }
        client.deferring += 1
        defer { client.deferring -= 1 }
        owner.cancelRequested = true
        owner.cancelHandler = handler
        guard let attempt = owner.attempt else {
            if let ticket = owner.resolverTicket { client.resolving[ticket] = nil }
            let terminated = SIPMessage.response(to: owner.original, status: 487, reason: "Request Terminated")
            finish(owner, with: .final(terminated))
            return true
        }
        if attempt.gotProvisional { sendCancel(for: owner, invite: attempt, now: Self.now()) }
        return true
    }

    // MARK: Routing (§8.1.2, RFC 3263)

    /// The URI a request goes to when the TU names none: the top Route if it is a loose router, else
    /// the Request-URI; nil when that is not a SIP or SIPS URI.
    static func nextHop(of request: SIPMessage) -> SIPURI? {
        if let routes = try? request.routes(), let top = routes.first, case .sip(let uri) = top.uri, uri.isLooseRouter {
            return uri
        }
        guard case .sip(let uri) = request.requestLine?.uri else { return nil }
        return uri
    }

    /// The locator settings: TLS only with a client context, UDP only with a bound UDP socket.
    private var locatorConfiguration: SIPServerLocator.Configuration {
        var c = configuration.locator
        if tlsClientContext == nil { c.transports.removeAll { $0 == .tls } }
        if udpSockets.isEmpty { c.transports.removeAll { $0 == .udp } }
        return c
    }

    private func resolve(_ uri: SIPURI, for record: ClientRequest) {
        let numeric: Bool
        if let maddr = uri.maddr { numeric = SocketAddress.isNumeric(maddr) } else { numeric = uri.host.isNumeric }
        if numeric {
            // RFC 3263 §4: no lookups at all, so no need for the resolver thread.
            var locator = SIPServerLocator(lookup: RefusingDNSLookup(), configuration: locatorConfiguration)
            do throws(SIPResolutionError) {
                record.cursor = try locator.resolve(uri, now: 0)
            } catch {
                reportFailure(record, detail: error.description)
                return
            }
            startAttempt(record, now: Self.now())
            return
        }
        if client.resolver == nil {
            do {
                let lookup = try ResolverDNSLookup(configuration: configuration.dns)
                client.resolver = try ResolverThread(locator: SIPServerLocator(lookup: lookup, configuration: locatorConfiguration),
                                                     maximumPending: configuration.maxClientRequests)
            } catch {
                reportFailure(record, detail: "resolver: \(error)")
                return
            }
        }
        client.nextTicket &+= 1
        let ticket = client.nextTicket
        guard let resolver = client.resolver, resolver.submit(ResolverThread.Job(ticket: ticket, uri: uri)) else {
            reportFailure(record, detail: "resolver queue full")
            return
        }
        client.statistics.resolutionsQueued += 1
        record.resolverTicket = ticket
        client.resolving[ticket] = record.id
    }

    /// Results from the resolver thread.
    private func takeResolutions() {
        guard let resolver = client.resolver else { return }
        for completion in resolver.takeCompletions() {
            guard let id = client.resolving.removeValue(forKey: completion.ticket), let record = client.requests[id] else { continue }
            record.resolverTicket = nil
            switch completion.result {
            case .success(let cursor):
                record.cursor = cursor
                startAttempt(record, now: Self.now())
            case .failure(let error):
                client.statistics.resolutionFailures += 1
                reportFailure(record, detail: error.description)
            }
        }
    }

    // MARK: Attempts

    /// Starts a client transaction for the cursor's current target, moving past targets whose
    /// transport cannot even be set up; reports the last failure when none is left.
    private func startAttempt(_ record: ClientRequest, now: Instant) {
        while let target = record.cursor?.current {
            let transport: ClientTransport
            let sentBy: SocketAddress
            switch openTransport(to: target, localPort: record.localPort) {
            case .failure(let failure):
                record.lastFailure = failure.description
                record.lastFailureIsTimeout = false
                log("client: \(target): \(failure.description)")
                if record.cursor?.next(after: .transportError) != nil { client.statistics.failovers += 1 }
                continue
            case .success(let opened):
                (transport, sentBy) = opened
            }
            var message = record.original
            var branch = Self.newBranch(prefix: record.branchPrefix)
            var via = ViaHandling.clientVia(transport: target.transport, local: sentBy, branch: branch)
            message.headers.prepend(.via, via.description)
            var key = TransactionKey.clientKey(for: message)
            var tries = 0
            while let k = key, client.attempts[k] != nil, tries < 8 {
                tries += 1
                branch = Self.newBranch(prefix: record.branchPrefix)
                via = ViaHandling.clientVia(transport: target.transport, local: sentBy, branch: branch)
                message = record.original
                message.headers.prepend(.via, via.description)
                key = TransactionKey.clientKey(for: message)
            }
            guard let key, client.attempts[key] == nil else {
                reportFailure(record, detail: "no transaction key for the request")
                return
            }
            if !message.headers.contains(.maxForwards) { message.headers.append(.maxForwards, "70") }
            message.headers.set(.contentLength, String(message.body.count))

            if record.isACK {
                // §17.1.1.3: the ACK for a 2xx is the TU's, sent once, no transaction.
                if let failure = send(message.serialized(), on: transport) {
                    record.lastFailure = failure
                    if record.cursor?.next(after: .transportError) != nil { continue }
                    break
                }
                record.finished = true
                client.requests[record.id] = nil
                return
            }

            let machine: ClientAttempt.Machine = record.isInvite
                ? .invite(InviteClientTransaction(request: message, reliable: transport.isReliable, timers: configuration.timers))
                : .nonInvite(NonInviteClientTransaction(request: message, reliable: transport.isReliable, timers: configuration.timers))
            let attempt = ClientAttempt(machine: machine, key: key, target: target, transport: transport, via: via,
                                        owner: record, isCancel: false)
            register(attempt)
            record.attempt = attempt
            applyClient(attempt.start(now: now), to: attempt, now: now)
            return
        }
        reportFailure(record, detail: record.lastFailure ?? "no target left", timeout: record.lastFailureIsTimeout)
    }

    private func register(_ attempt: ClientAttempt) {
        client.attempts[attempt.key] = attempt
        client.statistics.transactionsCreated += 1
        if case .datagram(_, _, let flow?) = attempt.transport { flow.users += 1 }
    }

    /// The transport for a target: the bound UDP socket of its family (through a connected flow), or
    /// an open connection to it (reused, else a new one); with the local address for the Via.
    func openTransport(to target: SIPServerTarget, localPort: UInt16? = nil) -> Result<(ClientTransport, SocketAddress), ClientSetupFailure> {
        switch target.transport {
        case .udp:
            // The bound socket on `localPort` when there is one (a line's UserAgentPort), else the
            // first of the family.
            let family = udpSockets.filter { $0.local.family == target.address.family }
            guard let socket = family.first(where: { localPort != nil && $0.local.port == localPort }) ?? family.first else {
                return .failure(ClientSetupFailure(description: "no UDP socket bound for \(target.address.isIPv6 ? "IPv6" : "IPv4")"))
            }
            let flowKey = UDPFlowKey(socket: ObjectIdentifier(socket), remote: target.address)
            var flow = client.flows[flowKey]
            if flow == nil, let fresh = UDPFlow(socket: socket, remote: target.address) {
                client.flows[flowKey] = fresh
                flow = fresh
            }
            var local = flow?.local ?? socket.local
            if let flow, local.port != socket.local.port { local = flow.local.withPort(socket.local.port) }
            return .success((.datagram(socket, remote: target.address, flow: flow), local))
        case .tcp, .tls:
            let tls: TLSContext?
            if target.transport == .tls {
                guard let context = tlsClientContext else {
                    return .failure(ClientSetupFailure(description: "TLS target but no client TLS context"))
                }
                tls = context
            } else {
                tls = nil
            }
            let serverName = target.transport == .tls ? target.serverName : nil
            let streamKey = ClientStreamKey(transport: target.transport, remote: target.address, serverName: serverName)
            let connection: TCPConnection
            if let open = client.streams[streamKey], !open.isClosed {
                connection = open
            } else {
                do throws(TransportError) {
                    connection = try TCPConnection.connect(to: target.address, tls: tls, serverName: serverName,
                                                           limits: configuration.streamLimits, now: MonotonicClock.milliseconds())
                } catch {
                    return .failure(ClientSetupFailure(description: error.description))
                }
                client.streams[streamKey] = connection
                connections[ObjectIdentifier(connection)] = connection
            }
            return .success((.stream(connection), streamSentBy(connection, transport: target.transport)))
        }
    }

    /// The Via sent-by for a stream: our listener for that transport and family when there is one
    /// (so a server that loses the connection can open a new one to it, §18.2.2), else the
    /// connection's own local address.
    private func streamSentBy(_ connection: TCPConnection, transport: TransportKind) -> SocketAddress {
        let local = connection.local
        if let listener = listeners.first(where: { $0.transport == transport && $0.local.family == connection.remote.family }) {
            let address = listener.local
            if let local, address.host == "0.0.0.0" || address.host == "::" { return local.withPort(address.port) }
            return address
        }
        return local ?? connection.remote
    }

    /// Writes octets to a client transport; nil when done, else why not.
    func send(_ bytes: [UInt8], on transport: ClientTransport) -> String? {
        switch transport {
        case .datagram(let socket, let remote, let flow):
            if let flow {
                guard let err = flow.send(bytes) else { return nil }
                return "send to \(remote): \(String(cString: strerror(err)))"
            }
            return socket.send(bytes, to: remote) ? nil : "send to \(remote) failed"
        case .stream(let connection):
            if connection.isClosed { return "connection to \(connection.remote) is closed" }
            _ = connection.send(bytes: bytes, now: MonotonicClock.milliseconds())
            if case .closed(let reason) = connection.state { return "connection to \(connection.remote): \(reason)" }
            return nil
        }
    }

    private static func newBranch(prefix: String? = nil) -> String {
        var rng = SystemRandomNumberGenerator()
        let a = UInt64.random(in: .min ... .max, using: &rng)
        let b = UInt64.random(in: .min ... .max, using: &rng)
        return Via.magicCookie + "-" + (prefix ?? "") + String(a, radix: 36) + String(b, radix: 36)
    }

    // MARK: Driving the machines

    private func applyClient(_ actions: [TransactionAction], to attempt: ClientAttempt, now: Instant) {
        for action in actions {
            switch action {
            case .transmit(let message):
                if let failure = send(message.serialized(), on: attempt.transport) {
                    client.statistics.transportErrors += 1
                    attempt.owner?.lastFailure = failure
                    applyClient(attempt.transportError(now: now), to: attempt, now: now)
                    return
                }
            case .deliver(let response):
                deliverClient(response, from: attempt, now: now)
            case .arm(let name, let at):
                generation &+= 1
                attempt.armed[name] = generation
                timers.schedule(at: at.nanoseconds, TransactionTimerEntry(key: attempt.key, name: name, generation: generation))
            case .disarm(let name):
                attempt.armed[name] = nil
            case .timeout:
                attemptFailed(attempt, reason: .timeout, now: now)
            case .transportError:
                attemptFailed(attempt, reason: .transportError, now: now)
            case .terminated:
                terminate(attempt)
            }
        }
    }

    /// A response the machine passes up.
    private func deliverClient(_ response: SIPMessage, from attempt: ClientAttempt, now: Instant) {
        guard let owner = attempt.owner else { return }
        let code = response.statusCode ?? 0
        if attempt.isCancel {
            notifyCancel(owner, code < 200 ? .provisional(response) : .final(response))
            return
        }
        guard !attempt.superseded, owner.attempt === attempt else { return }
        if code < 200 {
            attempt.gotProvisional = true
            if owner.cancelRequested && !owner.cancelSent && !owner.finished { sendCancel(for: owner, invite: attempt, now: now) }
            if !owner.finished { notify(owner, .provisional(response)) }
            return
        }
        if code == 503, !owner.finished, !owner.cancelRequested, owner.cursor?.next(after: .serviceUnavailable) != nil {
            owner.lastFailure = "503 from \(attempt.target)"
            failOver(owner, from: attempt, now: now)
            return
        }
        // For an INVITE, later 2xx (Accepted state, RFC 6026) come here too and go up as well.
        if owner.finished && !(owner.isInvite && code / 100 == 2) { return }
        owner.finished = true
        notify(owner, .final(response))
    }

    /// Timer B/F or a transport error ended the attempt: the next target, or the last failure.
    private func attemptFailed(_ attempt: ClientAttempt, reason: SIPTargetFailure, now: Instant) {
        guard let owner = attempt.owner else { return }
        if attempt.isCancel {
            let status = reason == .timeout ? 408 : 503
            let made = SIPMessage.response(to: attempt.request, status: status, reason: reason == .timeout ? "Request Timeout" : "Service Unavailable")
            notifyCancel(owner, reason == .timeout ? .timeout(made) : .transportError(made, detail: owner.lastFailure ?? "transport error"))
            return
        }
        guard !attempt.superseded, owner.attempt === attempt, !owner.finished else { return }
        if reason == .timeout { owner.lastFailure = "no response from \(attempt.target)" }
        owner.lastFailureIsTimeout = reason == .timeout
        if !owner.cancelRequested, owner.cursor?.next(after: reason) != nil {
            failOver(owner, from: attempt, now: now)
            return
        }
        reportFailure(owner, detail: owner.lastFailure ?? "transport error", timeout: reason == .timeout, request: attempt.request)
    }

    private func failOver(_ owner: ClientRequest, from attempt: ClientAttempt, now: Instant) {
        attempt.superseded = true
        client.statistics.failovers += 1
        log("client: \(owner.original.method?.rawValue ?? "?") failed at \(attempt.target) (\(owner.lastFailure ?? "?")), trying the next target")
        startAttempt(owner, now: now)
    }

    private func terminate(_ attempt: ClientAttempt) {
        guard client.attempts[attempt.key] === attempt else { return }
        client.attempts[attempt.key] = nil
        client.statistics.transactionsTerminated += 1
        if case .datagram(let socket, let remote, let flow?) = attempt.transport {
            flow.users -= 1
            let key = UDPFlowKey(socket: ObjectIdentifier(socket), remote: remote)
            if flow.users <= 0, client.flows[key] === flow {
                // Whatever the flow still holds belongs to the bound socket's traffic.
                drain(flow, budget: 64)
                client.flows[key] = nil
            }
        }
        if let owner = attempt.owner, !attempt.isCancel, owner.attempt === attempt {
            if !owner.finished {
                // Cannot happen with the RFC machines (they report before terminating); be safe.
                reportFailure(owner, detail: owner.lastFailure ?? "transaction ended", timeout: false, request: attempt.request)
            }
            if client.requests[owner.id] === owner { client.requests[owner.id] = nil }
        }
    }

    /// §9.1: the CANCEL in its own non-INVITE transaction, same target and transport as the INVITE.
    private func sendCancel(for owner: ClientRequest, invite: ClientAttempt, now: Instant) {
        owner.cancelSent = true
        let cancel = InviteClientTransaction.cancel(for: invite.request)
        guard let key = TransactionKey.clientKey(for: cancel), client.attempts[key] == nil else { return }
        let machine = NonInviteClientTransaction(request: cancel, reliable: invite.transport.isReliable, timers: configuration.timers)
        let attempt = ClientAttempt(machine: .nonInvite(machine), key: key, target: invite.target, transport: invite.transport,
                                    via: invite.via, owner: owner, isCancel: true)
        register(attempt)
        client.statistics.cancelsSent += 1
        generation &+= 1
        invite.cancelGuard = generation
        timers.schedule(at: (now + configuration.timers.transactionTimeout).nanoseconds,
                        TransactionTimerEntry(key: invite.key, name: .b, generation: generation))
        applyClient(attempt.start(now: now), to: attempt, now: now)
    }

    // MARK: Input (called from SIPEndpoint.swift)

    /// A response from any transport: matched to its client transaction by top Via branch and CSeq
    /// method (§17.1.3), the sent-by checked against ours (§18.1.2). False when it matches nothing
    /// (the caller counts it as dropped).
    func receiveResponse(_ response: SIPMessage) -> Bool {
        guard let key = TransactionKey.clientKey(for: response), let attempt = client.attempts[key] else { return false }
        guard let via = try? response.topVia(), Self.sameSentBy(via, attempt.via) else {
            client.statistics.responsesWithForeignSentBy += 1
            return false
        }
        client.statistics.responsesMatched += 1
        let now = Self.now()
        applyClient(attempt.receivedResponse(response, now: now), to: attempt, now: now)
        return true
    }

    private static func sameSentBy(_ a: Via, _ b: Via) -> Bool {
        a.host.description.lowercased() == b.host.description.lowercased() && a.port == b.port
    }

    /// A client timer from the heap (`entry.key.role == .client`).
    func clientTimerFired(_ entry: TransactionTimerEntry, now: Instant) {
        guard let attempt = client.attempts[entry.key] else { return }
        if let guardGeneration = attempt.cancelGuard, guardGeneration == entry.generation {
            // §9.1: no final response 64·T1 after the CANCEL: the INVITE is given up.
            attempt.cancelGuard = nil
            guard attempt.isAwaitingFinal else { return }
            if let owner = attempt.owner, owner.attempt === attempt, !owner.finished {
                owner.lastFailure = "no final response after CANCEL"
                reportFailure(owner, detail: "no final response after CANCEL", timeout: true, request: attempt.request)
            }
            terminate(attempt)
            return
        }
        guard attempt.armed[entry.name] == entry.generation else { return }
        attempt.armed[entry.name] = nil
        applyClient(attempt.timerFired(entry.name, now: now), to: attempt, now: now)
    }

    /// A stream connection closed (connect refused, TLS handshake or verification failure, reset):
    /// a transport error for every client transaction on it (the machines ignore it once they have
    /// their final response).
    func clientConnectionClosed(_ connection: TCPConnection, reason: TCPConnection.CloseReason) {
        for (key, c) in client.streams where c === connection { client.streams[key] = nil }
        let affected = client.attempts.values.filter {
            if case .stream(let c) = $0.transport { return c === connection }
            return false
        }
        guard !affected.isEmpty else { return }
        let now = Self.now()
        for attempt in affected where client.attempts[attempt.key] === attempt {
            if let owner = attempt.owner, !attempt.isCancel, owner.attempt === attempt {
                owner.lastFailure = "connection to \(connection.remote): \(reason)"
            }
            client.statistics.transportErrors += 1
            applyClient(attempt.transportError(now: now), to: attempt, now: now)
        }
    }

    // MARK: The loop (called from `step`)

    /// The descriptors the client side needs polled: the resolver's wake pipe and the UDP flows.
    func clientPollDescriptors() -> [pollfd] {
        client.polledResolver = client.resolver
        client.retiredFlows.removeAll { $0.users <= 0 }
        client.polledFlows = Array(client.flows.values) + client.retiredFlows
        var fds: [pollfd] = []
        if let resolver = client.polledResolver { fds.append(pollfd(fd: resolver.wakeFD, events: Int16(POLLIN), revents: 0)) }
        for flow in client.polledFlows { fds.append(pollfd(fd: flow.fd, events: Int16(POLLIN), revents: 0)) }
        return fds
    }

    /// Whether the loop must not sleep: events are waiting to be handed to handlers.
    var clientHasWork: Bool { !client.deferred.isEmpty }

    /// Handles what `poll` reported on `clientPollDescriptors()` (same order), then the deferred events.
    func serviceClient(_ polled: ArraySlice<pollfd>) {
        var index = polled.startIndex
        if client.polledResolver != nil {
            if index < polled.endIndex, polled[index].revents != 0 { takeResolutions() }
            index += 1
        }
        for flow in client.polledFlows {
            defer { index += 1 }
            guard index < polled.endIndex, polled[index].revents != 0 else { continue }
            drain(flow, budget: 64)
        }
        client.polledResolver = nil
        client.polledFlows = []
        var rounds = 0
        while !client.deferred.isEmpty, rounds < 4 {
            rounds += 1
            let due = client.deferred
            client.deferred = []
            for call in due { call() }
        }
    }

    /// Reads what a flow holds: datagrams go through the ordinary message path as if the bound socket
    /// had received them; an error is a transport error for the transactions on the flow.
    private func drain(_ flow: UDPFlow, budget: Int) {
        var left = budget
        while left > 0 {
            left -= 1
            switch flow.receive() {
            case .none:
                return
            case .datagram(let bytes):
                client.statistics.flowDatagrams += 1
                if bytes.allSatisfy({ $0 == 0x0D || $0 == 0x0A || $0 == 0x20 }) { continue }
                // A malformed datagram from the target is dropped: it cannot be a usable response, and
                // a request that bad gets its answer when the target retransmits after the flow closes.
                guard case .success(let message) = SIPMessage.parseDetailed(datagram: bytes, limits: responder.policy.limits) else { continue }
                receive(message, origin: .datagram(flow.socket, from: flow.remote))
            case .error(let err):
                flowFailed(flow, detail: "\(flow.remote): \(String(cString: strerror(err)))")
            }
        }
    }

    private func flowFailed(_ flow: UDPFlow, detail: String) {
        let affected = client.attempts.values.filter {
            if case .datagram(_, _, let f?) = $0.transport { return f === flow }
            return false
        }
        let now = Self.now()
        for attempt in affected where client.attempts[attempt.key] === attempt {
            if let owner = attempt.owner, !attempt.isCancel, owner.attempt === attempt { owner.lastFailure = detail }
            client.statistics.transportErrors += 1
            applyClient(attempt.transportError(now: now), to: attempt, now: now)
        }
    }

    // MARK: Reporting

    /// Ends a request with a synthesised 408 (timeout) or 503 (anything else), §8.1.3.1.
    private func reportFailure(_ record: ClientRequest, detail: String, timeout: Bool = false, request: SIPMessage? = nil) {
        let base = request ?? record.attempt?.request ?? record.original
        let made: SIPMessage
        if base.isRequest {
            made = SIPMessage.response(to: base, status: timeout ? 408 : 503, reason: timeout ? "Request Timeout" : "Service Unavailable")
        } else {
            made = SIPMessage(status: 503, reason: "Service Unavailable")
        }
        finish(record, with: timeout ? .timeout(made) : .transportError(made, detail: detail))
    }

    private func finish(_ record: ClientRequest, with event: ClientTransactionEvent) {
        guard !record.finished else { return }
        record.finished = true
        if record.attempt == nil || record.attempt?.isTerminated == true || record.attempt.map({ client.attempts[$0.key] !== $0 }) == true {
            if client.requests[record.id] === record { client.requests[record.id] = nil }
        }
        notify(record, event)
    }

    private func notify(_ record: ClientRequest, _ event: ClientTransactionEvent) {
        let handler = record.handler
        let target = record.attempt?.target
        let run = { [unowned self] in
            self.currentResponseTarget = target
            handler(event)
            self.currentResponseTarget = nil
        }
        if client.deferring > 0 {
            client.deferred.append(run)
        } else {
            run()
        }
    }

    private func notifyCancel(_ record: ClientRequest, _ event: ClientTransactionEvent) {
        guard let handler = record.cancelHandler else { return }
        if client.deferring > 0 {
            client.deferred.append { handler(event) }
        } else {
            handler(event)
        }
    }
}

/// Why a target's transport could not be set up.
struct ClientSetupFailure: Error {
    let description: String
}
