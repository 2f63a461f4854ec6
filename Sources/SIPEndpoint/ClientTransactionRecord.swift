import SIPCore
import SIPTransaction
import SIPTransport

/// How a client transaction reaches its target.
enum ClientTransport {
    /// A datagram to `remote`: through the connected `flow` when there is one (ICMP errors are then
    /// seen), else through the bound `socket`.
    case datagram(UDPSocket, remote: SocketAddress, flow: UDPFlow?)
    /// A TCP or TLS connection (possibly still connecting; the request waits in its buffer).
    case stream(TCPConnection)

    var isReliable: Bool {
        if case .stream = self { return true }
        return false
    }
}

/// One request handed to `sendRequest`: where it is going (the cursor over the RFC 3263 targets) and
/// which client transaction (`attempt`) is carrying it now.
final class ClientRequest {
    let id: ClientTransactionID
    /// The request as the TU gave it (without our Via).
    let original: SIPMessage
    let handler: (ClientTransactionEvent) -> Void
    let destination: SIPURI?
    /// The bound UDP socket's port to send from, if the TU asked for one.
    var localPort: UInt16?
    var cursor: SIPTargetCursor?
    /// The client transaction for the current target (nil while resolving).
    var attempt: ClientAttempt?
    /// The TU asked to cancel (§9.1): CANCEL goes out once a provisional response has arrived.
    var cancelRequested = false
    var cancelHandler: ((ClientTransactionEvent) -> Void)?
    var cancelSent = false
    /// A final outcome (response, timeout, transport error) has been passed up.
    var finished = false
    /// The resolver ticket while the request waits for DNS.
    var resolverTicket: UInt64?
    /// Why the last target failed (reported when no target is left), and whether it was a timeout.
    var lastFailure: String?
    var lastFailureIsTimeout = false
    /// Put after the magic cookie of every branch this request's transactions use (a proxy's loop
    /// detection hash, RFC 3261 §16.6 step 8).
    var branchPrefix: String?

    init(id: ClientTransactionID, original: SIPMessage, destination: SIPURI?, handler: @escaping (ClientTransactionEvent) -> Void) {
        self.id = id
        self.original = original
        self.destination = destination
        self.handler = handler
    }

    var isInvite: Bool { original.method == .invite }
    var isACK: Bool { original.method == .ack }
}

/// One client transaction (RFC 3261 §17.1): its machine, key, target and transport, and its armed
/// timers' generations (as for server transactions).
final class ClientAttempt {
    enum Machine {
        case invite(InviteClientTransaction)
        case nonInvite(NonInviteClientTransaction)
    }

    var machine: Machine
    let key: TransactionKey
    let target: SIPServerTarget
    let transport: ClientTransport
    /// The top Via we put on the request (§18.1.2: a response's must match).
    let via: Via
    /// The request this transaction carries, or nil for a CANCEL (whose events go to `owner`'s
    /// `cancelHandler`).
    weak var owner: ClientRequest?
    let isCancel: Bool
    /// A later target took over (RFC 3263 §4.3): the machine runs on (ACKs, absorbing retransmitted
    /// responses) but nothing more reaches the TU.
    var superseded = false
    var gotProvisional = false
    var armed: [TimerName: UInt64] = [:]
    /// The generation of the §9.1 guard armed when a CANCEL went out (64·T1 for a final response).
    var cancelGuard: UInt64?

    init(machine: Machine, key: TransactionKey, target: SIPServerTarget, transport: ClientTransport, via: Via,
         owner: ClientRequest, isCancel: Bool) {
        self.machine = machine
        self.key = key
        self.target = target
        self.transport = transport
        self.via = via
        self.owner = owner
        self.isCancel = isCancel
    }

    /// The request as sent (with our Via).
    var request: SIPMessage {
        switch machine {
        case .invite(let t): return t.request
        case .nonInvite(let t): return t.request
        }
    }

    /// Whether no final response has arrived yet (Calling/Trying or Proceeding).
    var isAwaitingFinal: Bool {
        switch machine {
        case .invite(let t): return t.phase == .calling || t.phase == .proceeding
        case .nonInvite(let t): return t.phase == .trying || t.phase == .proceeding
        }
    }

    var isTerminated: Bool {
        switch machine {
        case .invite(let t): return t.isTerminated
        case .nonInvite(let t): return t.isTerminated
        }
    }

    func start(now: Instant) -> [TransactionAction] {
        switch machine {
        case .invite(var t):
            let actions = t.start(now: now)
            machine = .invite(t)
            return actions
        case .nonInvite(var t):
            let actions = t.start(now: now)
            machine = .nonInvite(t)
            return actions
        }
    }

    func receivedResponse(_ response: SIPMessage, now: Instant) -> [TransactionAction] {
        switch machine {
        case .invite(var t):
            let actions = t.receivedResponse(response, now: now)
            machine = .invite(t)
            return actions
        case .nonInvite(var t):
            let actions = t.receivedResponse(response, now: now)
            machine = .nonInvite(t)
            return actions
        }
    }

    func timerFired(_ name: TimerName, now: Instant) -> [TransactionAction] {
        switch machine {
        case .invite(var t):
            let actions = t.timerFired(name, now: now)
            machine = .invite(t)
            return actions
        case .nonInvite(var t):
            let actions = t.timerFired(name, now: now)
            machine = .nonInvite(t)
            return actions
        }
    }

    func transportError(now: Instant) -> [TransactionAction] {
        switch machine {
        case .invite(var t):
            let actions = t.transportError(now: now)
            machine = .invite(t)
            return actions
        case .nonInvite(var t):
            let actions = t.transportError(now: now)
            machine = .nonInvite(t)
            return actions
        }
    }
}

/// Identifies a client stream connection for reuse: transport, remote address and, for TLS, the name
/// the certificate was checked against (a connection verified for one domain is not reused for another).
struct ClientStreamKey: Hashable {
    let transport: TransportKind
    let remote: SocketAddress
    let serverName: String?
}

/// Identifies a connected UDP flow: the bound socket it shadows and the target.
struct UDPFlowKey: Hashable {
    let socket: ObjectIdentifier
    let remote: SocketAddress
}
