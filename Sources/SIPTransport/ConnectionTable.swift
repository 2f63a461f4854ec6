#if canImport(Glibc)
import Glibc
#endif

/// Identifies a stream connection for reuse: the transport and the peer's address and port.
public struct ConnectionKey: Hashable, Sendable, CustomStringConvertible {
    public let transport: TransportKind
    public let remote: SocketAddress

    public init(transport: TransportKind, remote: SocketAddress) {
        self.transport = transport
        self.remote = remote
    }

    public var description: String { "\(transport.rawValue):\(remote)" }
}

/// The open stream connections, keyed by transport and remote address, so that a response goes back
/// on the connection its request came in on (RFC 3261 §18.2.2) and requests to a target that already
/// has a connection reuse it (§18.1.1, RFC 5923's idea without the alias negotiation).
///
/// The table does not do I/O itself: the caller polls `connections`, and calls `sweep(now:)` now and
/// then to close idle connections and forget closed ones.
public final class ConnectionTable {
    private var byKey: [ConnectionKey: TCPConnection] = [:]

    public init() {}

    public var count: Int { byKey.count }

    /// Every connection in the table (open, connecting or handshaking; closed ones until the next sweep).
    public var connections: [TCPConnection] { Array(byKey.values) }

    /// Adds a connection; returns the connection it displaced under the same key, if any (still open,
    /// the caller decides whether to close it).
    @discardableResult
    public func add(_ connection: TCPConnection) -> TCPConnection? {
        let key = ConnectionKey(transport: connection.transport, remote: connection.remote)
        let previous = byKey[key]
        byKey[key] = connection
        return previous === connection ? nil : previous
    }

    /// The usable connection for `transport` to `remote`: open, or still connecting/handshaking (so
    /// it can take queued messages). A closed one is forgotten and nil returned.
    public func connection(transport: TransportKind, remote: SocketAddress) -> TCPConnection? {
        let key = ConnectionKey(transport: transport, remote: remote)
        guard let c = byKey[key] else { return nil }
        if c.isClosed {
            byKey[key] = nil
            return nil
        }
        return c
    }

    /// The connection for the target, connecting a new one when there is none (client-side reuse).
    public func connection(transport: TransportKind, remote: SocketAddress, tls: TLSContext?, serverName: String?,
                           limits: StreamLimits, now: UInt64) throws(TransportError) -> TCPConnection {
        if let c = connection(transport: transport, remote: remote) { return c }
        let c = try TCPConnection.connect(to: remote, tls: transport == .tls ? tls : nil, serverName: serverName,
                                          limits: limits, now: now)
        add(c)
        return c
    }

    /// Removes a connection (it is not closed).
    public func remove(_ connection: TCPConnection) {
        let key = ConnectionKey(transport: connection.transport, remote: connection.remote)
        if byKey[key] === connection { byKey[key] = nil }
    }

    /// Closes connections past their idle or pong timeout and forgets every closed one; returns the
    /// connections it closed with why.
    @discardableResult
    public func sweep(now: UInt64) -> [(ConnectionKey, TCPConnection.CloseReason)] {
        var closed: [(ConnectionKey, TCPConnection.CloseReason)] = []
        for (key, c) in byKey {
            if let reason = c.checkTimeouts(now: now) { closed.append((key, reason)) }
            if c.isClosed { byKey[key] = nil }
        }
        return closed
    }
}
