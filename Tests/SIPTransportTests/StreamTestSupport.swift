#if canImport(Glibc)
import Glibc
#endif
import SIPCore
@testable import SIPTransport

/// A tiny poll loop for the stream tests: listeners accept into `accepted`, every connection's
/// events are recorded, and `run` stops when a condition holds or its iteration/time bound is hit.
final class StreamPump {
    var listeners: [TCPListener] = []
    var connections: [TCPConnection] = []
    /// Connections the listeners accepted, in order.
    var accepted: [TCPConnection] = []
    /// Every event, with the connection it came from.
    var events: [(TCPConnection, TCPConnection.Event)] = []

    func add(_ c: TCPConnection) { connections.append(c) }

    /// Polls until `done()` is true; false when `maxIterations` or `timeoutMs` passed first.
    @discardableResult
    func run(maxIterations: Int = 4000, timeoutMs: UInt64 = 8000, until done: () -> Bool) -> Bool {
        let start = MonotonicClock.milliseconds()
        var iterations = 0
        while !done() {
            iterations += 1
            if iterations > maxIterations || MonotonicClock.milliseconds() - start > timeoutMs { return false }
            step()
        }
        return true
    }

    /// One poll round (at most 10 ms of waiting).
    func step() {
        let live = connections.filter { !$0.isClosed }
        var fds: [pollfd] = listeners.map(\.pollDescriptor)
        for c in live { fds.append(c.pollDescriptor) }
        let pending = live.contains { $0.hasPendingInput }
        _ = poll(&fds, nfds_t(fds.count), pending ? 0 : 10)
        let now = MonotonicClock.milliseconds()
        for (i, l) in listeners.enumerated() where fds[i].revents != 0 {
            let fresh = l.accept(now: now)
            accepted.append(contentsOf: fresh)
            connections.append(contentsOf: fresh)
        }
        for (j, c) in live.enumerated() {
            let revents = fds[listeners.count + j].revents
            if revents != 0 || c.hasPendingInput || c.outgoingCount > 0 {
                for e in c.handle(revents: revents, now: now) { events.append((c, e)) }
            }
        }
    }

    func messages(on c: TCPConnection) -> [SIPMessage] {
        events.compactMap { pair in
            guard pair.0 === c, case .message(let m) = pair.1 else { return nil }
            return m
        }
    }

    func count(on c: TCPConnection, _ match: (TCPConnection.Event) -> Bool) -> Int {
        events.filter { $0.0 === c && match($0.1) }.count
    }

    func closeReason(of c: TCPConnection) -> TCPConnection.CloseReason? {
        if case .closed(let r) = c.state { return r }
        return nil
    }
}

func isConnected(_ e: TCPConnection.Event) -> Bool { if case .connected = e { return true } else { return false } }
func isPing(_ e: TCPConnection.Event) -> Bool { if case .ping = e { return true } else { return false } }
func isPong(_ e: TCPConnection.Event) -> Bool { if case .pong = e { return true } else { return false } }
func isMalformed(_ e: TCPConnection.Event) -> Bool { if case .malformed = e { return true } else { return false } }

/// An OPTIONS request with a body of `bodyLength` octets, as stream bytes.
func optionsRequest(callID: String, transport: String = "TCP", bodyLength: Int = 0, extraHeader: String = "") -> [UInt8] {
    var text = "OPTIONS sip:bob@example.com SIP/2.0\r\n"
    text += "Via: SIP/2.0/\(transport) 127.0.0.1:5070;rport;branch=z9hG4bK\(callID)\r\n"
    text += "Max-Forwards: 70\r\nTo: <sip:bob@example.com>\r\nFrom: <sip:alice@example.com>;tag=1\r\n"
    text += "Call-ID: \(callID)\r\nCSeq: 1 OPTIONS\r\n"
    text += extraHeader
    if bodyLength > 0 { text += "Content-Type: text/plain\r\n" }
    text += "Content-Length: \(bodyLength)\r\n\r\n"
    text += String(repeating: "x", count: bodyLength)
    return Array(text.utf8)
}
