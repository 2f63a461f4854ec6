#if canImport(Glibc)
import Glibc
#endif
import SIPCore

/// A listening stream socket (TCP, or TLS with a server context) on a numeric IPv4 or IPv6 address,
/// non-blocking: poll `fd` for POLLIN, then call `accept(now:)`.
///
/// At most `limits.maxConnections` accepted connections are open at once; a connection arriving past
/// that is accepted and closed at once (so the peer sees a reset rather than a hanging backlog) and
/// counted in `refusedCount`.
public final class TCPListener {
    public let fd: Int32
    public let local: SocketAddress
    public let transport: TransportKind
    public let limits: StreamLimits
    public let tls: TLSContext?
    /// Connections closed at once because the listener was full.
    public private(set) var refusedCount = 0
    private let slots: ConnectionSlots

    /// Listens on a numeric `host` and `port` (0 picks a free port); `tls` (a server context) makes
    /// it a TLS listener.
    public init(host: String, port: UInt16, tls: TLSContext? = nil, limits: StreamLimits = .default,
                backlog: Int32 = 128) throws(TransportError) {
        guard let address = SocketAddress(host: SocketAddress.unbracketed(host), port: port) else {
            throw TransportError(.badAddress, "'\(host)' is not a numeric IPv4 or IPv6 address")
        }
        if let tls, tls.role != .server { throw TransportError(.tls, "a TLS listener needs a server context") }
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TransportError.errno("socket") }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if address.isIPv6 {
            _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        guard address.withSockaddr({ bind(fd, $0, $1) }) == 0 else {
            let e = TransportError.errno("bind \(address)")
            close(fd)
            throw e
        }
        guard listen(fd, backlog) == 0 else {
            let e = TransportError.errno("listen \(address)")
            close(fd)
            throw e
        }
        self.fd = fd
        self.local = SocketAddress.of(socket: fd, peer: false) ?? address
        self.transport = tls == nil ? .tcp : .tls
        self.limits = limits
        self.tls = tls
        self.slots = ConnectionSlots(max: max(0, limits.maxConnections))
    }

    deinit { close(fd) }

    /// Connections accepted by this listener that are still open.
    public var openConnections: Int { slots.used }

    /// A `pollfd` for the listening socket.
    public var pollDescriptor: pollfd { pollfd(fd: fd, events: Int16(POLLIN), revents: 0) }

    /// Accepts up to `budget` waiting connections. Connections past the limit are closed at once and
    /// not returned. TLS connections start in `.handshaking`; poll them like any other.
    public func accept(now: UInt64, budget: Int = 64) -> [TCPConnection] {
        var accepted: [TCPConnection] = []
        for _ in 0..<max(1, budget) {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let cfd = withUnsafeMutablePointer(to: &storage) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    // accept4 needs _GNU_SOURCE, which Glibc's module map does not define.
                    Glibc.accept(fd, $0, &length)
                }
            }
            if cfd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                break
            }
            _ = fcntl(cfd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(cfd, F_SETFL, fcntl(cfd, F_GETFL) | O_NONBLOCK)
            let remote = SocketAddress(storage: storage, length: length)
            guard slots.take() else {
                refusedCount += 1
                // An RST rather than a FIN, so the peer knows it was refused.
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                _ = setsockopt(cfd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                close(cfd)
                continue
            }
            var one: Int32 = 1
            _ = setsockopt(cfd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            var session: TLSSession? = nil
            if let tls {
                guard let s = try? TLSSession(context: tls, fd: cfd, serverName: nil) else {
                    close(cfd)
                    slots.release()
                    continue
                }
                session = s
            }
            accepted.append(TCPConnection(fd: cfd, transport: transport, remote: remote, role: .server, limits: limits,
                                          tls: session, connecting: false, slots: slots, now: now))
        }
        return accepted
    }
}
