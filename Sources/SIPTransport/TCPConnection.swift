#if canImport(Glibc)
import Glibc
#endif
import SIPCore

/// One SIP stream connection over TCP, or over TLS when it has a TLS context (RFC 3261 §18.3 framing,
/// RFC 5626 §4.4.1 CRLF keepalives), driven by the caller's poll loop: poll `fd` for `pollEvents`,
/// then call `handle(revents:now:)` and act on the events it returns. No threads, no blocking calls.
///
/// Memory is bounded on both sides: incoming octets by the framer's limits (a message or header
/// section past `sipLimits.maxMessageSize` cannot be framed, so the connection closes), outgoing
/// octets by `maxOutgoingBytes` (a send past it closes the connection). A framing error closes the
/// connection too: the stream can no longer be cut into messages.
public final class TCPConnection {
    public enum State: Equatable, Sendable {
        /// `connect(2)` in progress.
        case connecting
        /// TLS handshake in progress.
        case handshaking
        case open
        case closed(CloseReason)
    }

    public enum CloseReason: Equatable, Sendable {
        /// The peer closed the connection (or the TLS session).
        case peerClosed
        /// `close()` was called.
        case local
        case connectFailed(String)
        case tlsFailed(String)
        /// The stream could not be framed (bad or oversize message, RFC 3261 §18.3).
        case framingError(String)
        /// More than `maxOutgoingBytes` waiting to be written.
        case outgoingBufferFull
        case idleTimeout
        /// The pong to a keepalive ping did not arrive in time (RFC 5626 §4.4.1).
        case pongTimeout
        case ioError(String)
    }

    public enum Event: Sendable {
        /// The connection (and TLS handshake, if any) completed.
        case connected
        case message(SIPMessage)
        /// A framed message that did not parse (answer it per `SIPValidator.verdict(for:)` or drop it).
        case malformed(SIPParseFailure)
        /// A CRLFCRLF ping arrived (server side); the CRLF pong is already queued.
        case ping
        /// A CRLF pong arrived (client side).
        case pong
        case closed(CloseReason)
    }

    public let fd: Int32
    public let transport: TransportKind
    public let remote: SocketAddress
    public private(set) var local: SocketAddress?
    public let role: SIPStreamFramer.Role
    public let limits: StreamLimits
    public private(set) var state: State
    /// When traffic last moved (milliseconds, the caller's clock).
    public private(set) var lastActivity: UInt64
    /// When the unanswered keepalive ping was sent, if one is outstanding (client side).
    public private(set) var pingSentAt: UInt64?
    /// The SNI server name the client asked for (TLS server side, after the handshake).
    public private(set) var requestedServerName: String?

    private var framer: SIPStreamFramer
    private var outgoing: [UInt8] = []
    private var outgoingStart = 0
    private var readBuffer: [UInt8]
    private let tls: TLSSession?
    /// The TLS session's last read or write wanted the other readiness.
    private var tlsWantsWrite = false
    private var tlsWantsReadForWrite = false
    private var fdClosed = false
    private var handshakeStarted = false
    private let slots: ConnectionSlots?

    init(fd: Int32, transport: TransportKind, remote: SocketAddress, role: SIPStreamFramer.Role, limits: StreamLimits,
         tls: TLSSession?, connecting: Bool, slots: ConnectionSlots?, now: UInt64) {
        self.fd = fd
        self.transport = transport
        self.remote = remote
        self.role = role
        self.limits = limits
        self.tls = tls
        self.slots = slots
        self.framer = SIPStreamFramer(role: role, limits: limits.sipLimits)
        self.readBuffer = [UInt8](repeating: 0, count: limits.readChunk)
        self.lastActivity = now
        self.local = SocketAddress.of(socket: fd, peer: false)
        if connecting {
            state = .connecting
        } else {
            state = tls == nil ? .open : .handshaking
        }
    }

    deinit {
        if !fdClosed {
            Glibc.close(fd)
            slots?.release()
        }
    }

    /// Starts a non-blocking connection to `remote`. With `tls`, a TLS client handshake follows,
    /// sending `serverName` as SNI (unless it is an address) and checking the certificate against it
    /// (host name, or IP address SAN) when the context verifies; pass the target's host as the URI
    /// gave it. Completion is reported by `handle` as `.connected` (or `.closed`). Messages sent before
    /// then are buffered.
    public static func connect(to remote: SocketAddress, tls: TLSContext? = nil, serverName: String? = nil,
                               limits: StreamLimits = .default, now: UInt64) throws(TransportError) -> TCPConnection {
        if let tls, tls.role != .client { throw TransportError(.tls, "a server TLS context cannot connect") }
        let fd = socket(remote.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TransportError.errno("socket") }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc = remote.withSockaddr { Glibc.connect(fd, $0, $1) }
        let err = errno
        if rc != 0 && err != EINPROGRESS {
            Glibc.close(fd)
            throw TransportError.errno("connect \(remote)", err)
        }
        var session: TLSSession? = nil
        if let tls {
            do {
                session = try TLSSession(context: tls, fd: fd, serverName: serverName ?? remote.host)
            } catch {
                Glibc.close(fd)
                throw error
            }
        }
        let connection = TCPConnection(fd: fd, transport: tls == nil ? .tcp : .tls, remote: remote, role: .client,
                                       limits: limits, tls: session, connecting: rc != 0, slots: nil, now: now)
        if rc == 0, session != nil { connection.state = .handshaking }
        return connection
    }

    public var isOpen: Bool { state == .open }
    public var isClosed: Bool { if case .closed = state { return true } else { return false } }

    /// Octets queued and not yet written.
    public var outgoingCount: Int { outgoing.count - outgoingStart }

    /// Octets received and not yet framed into a message.
    public var incomingBufferedCount: Int { framer.bufferedCount }

    /// Whether TLS holds decrypted input that poll cannot report: call `handle(revents: 0, now:)` (or
    /// poll with a zero timeout) before sleeping.
    /// Also true while a deferred close (see `pendingClose`) waits for its turn.
    public var hasPendingInput: Bool {
        guard isOpen else { return false }
        if pendingClose != nil { return outgoingCount == 0 }
        return (tls?.pendingCount ?? 0) > 0
    }

    /// Input has ended (the peer's FIN, or a framing error that makes the rest of the stream
    /// unreadable) but the messages framed before it may still be answered: the connection stops
    /// reading and closes with this reason on the next `handle` once the queued octets are written
    /// (RFC 4475 §3.1.2.3: the connection MUST be closed; the requests before the bad one still get
    /// their responses). The idle timeout bounds a peer that never reads them.
    private var pendingClose: CloseReason?

    /// The events to poll `fd` for.
    public var pollEvents: Int16 {
        switch state {
        case .closed: return 0
        case .connecting: return Int16(POLLOUT)
        case .handshaking:
            if !handshakeStarted { return Int16(POLLIN | POLLOUT) }
            return tlsWantsWrite ? Int16(POLLOUT) : Int16(POLLIN)
        case .open:
            var events = pendingClose == nil ? Int16(POLLIN) : 0
            if outgoingCount > 0 && !tlsWantsReadForWrite { events |= Int16(POLLOUT) }
            if tlsWantsWrite { events |= Int16(POLLOUT) }
            return events
        }
    }

    /// A `pollfd` for this connection.
    public var pollDescriptor: pollfd { pollfd(fd: fd, events: pollEvents, revents: 0) }

    /// Handles poll readiness `revents` on `fd` (0 to just flush or drain TLS buffers).
    public func handle(revents: Int16, now: UInt64) -> [Event] {
        var events: [Event] = []
        if state == .connecting {
            guard revents & Int16(POLLOUT | POLLERR | POLLHUP) != 0 else { return events }
            var err: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &length)
            if err != 0 {
                shut(.connectFailed(String(cString: strerror(err))), into: &events)
                return events
            }
            local = SocketAddress.of(socket: fd, peer: false)
            lastActivity = now
            if tls == nil {
                state = .open
                events.append(.connected)
            } else {
                state = .handshaking
            }
        }
        if state == .handshaking {
            advanceHandshake(now: now, into: &events)
            if state != .open { return events }
        }
        guard state == .open else { return events }
        if let reason = pendingClose {
            if outgoingCount > 0 { flush(now: now, into: &events) }
            if state == .open && outgoingCount == 0 { shut(reason, into: &events) }
            return events
        }
        if revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 || hasPendingInput || tlsWantsWrite {
            readAvailable(now: now, into: &events)
        }
        if state == .open && outgoingCount > 0 { flush(now: now, into: &events) }
        return events
    }

    /// Queues a message; false (and the connection closed or already closed) when it cannot be.
    @discardableResult
    public func send(_ message: SIPMessage, now: UInt64) -> Bool {
        send(bytes: message.serialized(), now: now).isEmpty && !isClosed
    }

    /// Queues raw octets and tries to write them at once. Returns the events this caused (a `.closed`
    /// when the outgoing buffer would pass `maxOutgoingBytes` or the write failed).
    @discardableResult
    public func send(bytes: [UInt8], now: UInt64) -> [Event] {
        var events: [Event] = []
        guard !isClosed else { return events }
        if outgoingCount + bytes.count > limits.maxOutgoingBytes {
            shut(.outgoingBufferFull, into: &events)
            return events
        }
        if outgoingStart > 0 && outgoingStart >= outgoing.count / 2 {
            outgoing.removeSubrange(0..<outgoingStart)
            outgoingStart = 0
        }
        outgoing.append(contentsOf: bytes)
        if state == .open { flush(now: now, into: &events) }
        return events
    }

    /// Sends a CRLFCRLF keepalive ping (RFC 5626 §4.4.1; client side) and starts waiting for the pong.
    @discardableResult
    public func sendPing(now: UInt64) -> [Event] {
        if pingSentAt == nil { pingSentAt = now }
        return send(bytes: [0x0D, 0x0A, 0x0D, 0x0A], now: now)
    }

    /// Closes the connection if it has been idle past `idleTimeout`, or a ping went unanswered past
    /// `pongTimeout`; returns the reason when it did.
    @discardableResult
    public func checkTimeouts(now: UInt64) -> CloseReason? {
        guard !isClosed else { return nil }
        var events: [Event] = []
        if let sent = pingSentAt, now >= sent, now - sent >= limits.pongTimeout {
            shut(.pongTimeout, into: &events)
            return .pongTimeout
        }
        if now >= lastActivity, now - lastActivity >= limits.idleTimeout {
            shut(.idleTimeout, into: &events)
            return .idleTimeout
        }
        return nil
    }

    /// Closes the connection (TLS close_notify first, best effort).
    public func close() {
        var events: [Event] = []
        shut(.local, into: &events)
    }

    // MARK: Internals

    private func shut(_ reason: CloseReason, into events: inout [Event]) {
        guard !isClosed else { return }
        if let tls, state == .open, reason != .peerClosed { tls.shutdown() }
        state = .closed(reason)
        if !fdClosed {
            fdClosed = true
            Glibc.close(fd)
            slots?.release()
        }
        outgoing = []
        outgoingStart = 0
        pingSentAt = nil
        pendingClose = nil
        framer = SIPStreamFramer(role: role, limits: limits.sipLimits)
        events.append(.closed(reason))
    }

    private func advanceHandshake(now: UInt64, into events: inout [Event]) {
        guard let tls else { return }
        handshakeStarted = true
        switch tls.handshake() {
        case .done:
            tlsWantsWrite = false
            state = .open
            lastActivity = now
            requestedServerName = tls.requestedServerName
            events.append(.connected)
        case .wantRead: tlsWantsWrite = false
        case .wantWrite: tlsWantsWrite = true
        case .closed: shut(.tlsFailed("peer closed during the handshake"), into: &events)
        case .failed(let why): shut(.tlsFailed(why), into: &events)
        }
    }

    private func readAvailable(now: UInt64, into events: inout [Event]) {
        tlsWantsWrite = false
        var reads = 0
        while reads < limits.readsPerEvent, state == .open, pendingClose == nil {
            reads += 1
            let result: TLSSession.IOResult
            if let tls {
                result = readBuffer.withUnsafeMutableBytes { tls.read(into: $0) }
            } else {
                let n = readBuffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 {
                    result = .done(n)
                } else if n == 0 {
                    result = .closed
                } else if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                    result = .wantRead
                } else if errno == ECONNRESET {
                    result = .closed
                } else {
                    result = .failed(String(cString: strerror(errno)))
                }
            }
            switch result {
            case .done(let n):
                lastActivity = now
                framer.append(readBuffer[0..<n])
                drainFramer(now: now, into: &events)
            case .wantRead:
                return
            case .wantWrite:
                tlsWantsWrite = true
                return
            case .closed:
                // Deliver what was framed (and let it be answered: the peer may have closed only its
                // sending side); whatever is half-received is lost with the connection.
                pendingClose = .peerClosed
                return
            case .failed(let why):
                shut(tls == nil ? .ioError(why) : .tlsFailed(why), into: &events)
                return
            }
        }
    }

    private func drainFramer(now: UInt64, into events: inout [Event]) {
        while state == .open && pendingClose == nil {
            let event: SIPStreamFramer.Event?
            do {
                event = try framer.next()
            } catch {
                pendingClose = .framingError(error.description)
                return
            }
            guard let event else { return }
            switch event {
            case .message(let m): events.append(.message(m))
            case .malformed(let f): events.append(.malformed(f))
            case .ping:
                events.append(.ping)
                // RFC 5626 §4.4.1: the server answers a CRLFCRLF ping with one CRLF.
                send(bytes: [0x0D, 0x0A], now: now).forEach { events.append($0) }
            case .pong:
                pingSentAt = nil
                events.append(.pong)
            }
        }
    }

    private func flush(now: UInt64, into events: inout [Event]) {
        tlsWantsReadForWrite = false
        while outgoingCount > 0, state == .open {
            let result: TLSSession.IOResult = outgoing.withUnsafeBytes { raw in
                let pending = UnsafeRawBufferPointer(rebasing: raw[outgoingStart...])
                if let tls { return tls.write(pending) }
                let n = Glibc.send(fd, pending.baseAddress, pending.count, Int32(MSG_NOSIGNAL))
                if n > 0 { return .done(n) }
                if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { return .wantWrite }
                if n < 0 && (errno == EPIPE || errno == ECONNRESET) { return .closed }
                return .failed(String(cString: strerror(errno)))
            }
            switch result {
            case .done(let n):
                outgoingStart += n
                lastActivity = now
            case .wantWrite:
                return
            case .wantRead:
                tlsWantsReadForWrite = true
                return
            case .closed:
                shut(.peerClosed, into: &events)
                return
            case .failed(let why):
                shut(tls == nil ? .ioError(why) : .tlsFailed(why), into: &events)
                return
            }
        }
        if outgoingCount == 0 {
            outgoing.removeAll(keepingCapacity: outgoing.capacity <= 65_536)
            outgoingStart = 0
        }
    }
}

/// The count of open connections a listener shares with the connections it accepted.
final class ConnectionSlots {
    let max: Int
    private(set) var used = 0

    init(max: Int) { self.max = max }

    func take() -> Bool {
        guard used < max else { return false }
        used += 1
        return true
    }

    func release() { if used > 0 { used -= 1 } }
}
