import SIPCore
import SIPTransaction
import SIPTransport

/// Where a request came from: the route a response takes back (RFC 3261 §18.2.2).
enum RequestOrigin {
    /// A datagram on this socket from this address.
    case datagram(UDPSocket, from: SocketAddress)
    /// A stream connection (TCP or TLS).
    case stream(TCPConnection)

    var source: SocketAddress {
        switch self {
        case .datagram(_, let from): return from
        case .stream(let c): return c.remote
        }
    }

    var isReliable: Bool {
        if case .stream = self { return true }
        return false
    }
}

/// One live server transaction: its machine, where its request came from, and the generation of
/// each armed timer (a heap entry whose generation no longer matches was cancelled or replaced).
final class ServerTransactionRecord {
    enum Machine {
        case invite(InviteServerTransaction)
        case nonInvite(NonInviteServerTransaction)
    }

    var machine: Machine
    let origin: RequestOrigin
    var armed: [TimerName: UInt64] = [:]

    init(machine: Machine, origin: RequestOrigin) {
        self.machine = machine
        self.origin = origin
    }

    var request: SIPMessage {
        switch machine {
        case .invite(let t): return t.request
        case .nonInvite(let t): return t.request
        }
    }

    /// Whether this is an INVITE transaction still waiting for a final response (CANCEL has an effect).
    var isProceedingInvite: Bool {
        if case .invite(let t) = machine { return t.phase == .proceeding }
        return false
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

    func receivedRequest(_ request: SIPMessage, now: Instant) -> [TransactionAction] {
        switch machine {
        case .invite(var t):
            let actions = t.receivedRequest(request, now: now)
            machine = .invite(t)
            return actions
        case .nonInvite(var t):
            let actions = t.receivedRequest(request, now: now)
            machine = .nonInvite(t)
            return actions
        }
    }

    func sendResponse(_ response: SIPMessage, now: Instant) -> [TransactionAction] {
        switch machine {
        case .invite(var t):
            let actions = t.sendResponse(response, now: now)
            machine = .invite(t)
            return actions
        case .nonInvite(var t):
            let actions = t.sendResponse(response, now: now)
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

/// A timer in the endpoint's heap: which transaction, which timer, which arming of it.
struct TransactionTimerEntry {
    let key: TransactionKey
    let name: TimerName
    let generation: UInt64
}
