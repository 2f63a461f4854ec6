import SIPCore

/// Bounds on one stream listener and its connections (TCP and TLS), so that a peer cannot make the
/// element hold unbounded memory or descriptors.
public struct StreamLimits: Sendable, Equatable {
    /// Most connections a listener keeps open at once; connections accepted past it are closed at once.
    public var maxConnections: Int
    /// Most octets waiting to be written on one connection; a send past it closes the connection
    /// (a peer that does not read cannot make us buffer without end).
    public var maxOutgoingBytes: Int
    /// Milliseconds without any traffic after which a connection is closed (also bounds a connect or
    /// TLS handshake that never completes).
    public var idleTimeout: UInt64
    /// Milliseconds a client waits for the pong to its CRLFCRLF ping (RFC 5626 §4.4.1: 10 s).
    public var pongTimeout: UInt64
    /// Parser limits, which also bound the octets buffered while a message is incomplete.
    public var sipLimits: SIPLimits
    /// Octets read per `read(2)` / `SSL_read` call.
    public var readChunk: Int
    /// Reads per readiness event before yielding to other connections.
    public var readsPerEvent: Int

    public init(maxConnections: Int = 1024, maxOutgoingBytes: Int = 1 << 20, idleTimeout: UInt64 = 300_000,
                pongTimeout: UInt64 = 10_000, sipLimits: SIPLimits = .default, readChunk: Int = 16_384,
                readsPerEvent: Int = 16) {
        self.maxConnections = maxConnections
        self.maxOutgoingBytes = maxOutgoingBytes
        self.idleTimeout = idleTimeout
        self.pongTimeout = pongTimeout
        self.sipLimits = sipLimits
        self.readChunk = max(1, readChunk)
        self.readsPerEvent = max(1, readsPerEvent)
    }

    public static let `default` = StreamLimits()
}
