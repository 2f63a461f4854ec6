#if canImport(Glibc)
import Glibc
#endif
import SIPTransport

/// A connected UDP socket that shares the local address and port of one of the endpoint's bound UDP
/// sockets (both have SO_REUSEADDR), used to send client requests to one target.
///
/// Why: an unconnected socket never learns that its datagram hit a closed port, but a connected one
/// does (the kernel turns the ICMP port or host unreachable into ECONNREFUSED/EHOSTUNREACH on the next
/// receive or send, and POLLERR), which RFC 3261 §18.4 and RFC 3263 §4.3 want reported as a transport
/// error so the request moves to the next target at once instead of after Timer B or F. The request
/// still leaves from the bound port (symmetric signalling, the Via sent-by and `rport` stay right),
/// and `local` is the real source address even when the bound socket is on a wildcard address.
///
/// While the flow is open the kernel delivers every datagram from `remote` to it (a connected socket
/// is the better match), so the endpoint polls it and treats what arrives exactly as if the bound
/// socket had received it. Flows are shared by every client transaction to the same target and closed
/// when the last one ends.
final class UDPFlow {
    let fd: Int32
    /// The bound socket whose address the flow shares (responses to requests that arrive on the flow
    /// go out through it).
    let socket: UDPSocket
    let remote: SocketAddress
    /// The source address the kernel picked for `remote`.
    let local: SocketAddress
    /// Live client transactions using the flow.
    var users = 0
    private var buffer = [UInt8](repeating: 0, count: 65_536)

    enum Input {
        case datagram([UInt8])
        /// The kernel reported an error for this target (errno: ECONNREFUSED, EHOSTUNREACH, …).
        case error(Int32)
        case none
    }

    /// Nil when the socket cannot be set up (the caller then sends through `socket`, unconnected).
    init?(socket: UDPSocket, remote: SocketAddress) {
        guard remote.family == socket.local.family,
              var bindAddress = RawSockaddr(socket.local), var peer = RawSockaddr(remote) else { return nil }
        let fd = Glibc.socket(remote.family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if remote.family == AF_INET6 {
            _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        guard bindAddress.withSockaddr({ Glibc.bind(fd, $0, $1) }) == 0,
              peer.withSockaddr({ Glibc.connect(fd, $0, $1) }) == 0,
              let local = RawSockaddr.local(of: fd) else {
            close(fd)
            return nil
        }
        self.fd = fd
        self.socket = socket
        self.remote = remote
        self.local = local
    }

    deinit { close(fd) }

    /// Sends a datagram to `remote`; nil on success, else errno.
    func send(_ bytes: [UInt8]) -> Int32? {
        let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if n == bytes.count { return nil }
        return n < 0 ? errno : EMSGSIZE
    }

    /// The next datagram, the pending error, or `.none`.
    func receive() -> Input {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n >= 0 { return .datagram(Array(buffer[0..<n])) }
        let err = errno
        if err == EAGAIN || err == EWOULDBLOCK || err == EINTR { return .none }
        return .error(err)
    }
}

/// A `sockaddr_storage` built from a `SocketAddress`'s public host and port (its storage is internal
/// to SIPTransport).
struct RawSockaddr {
    var storage = sockaddr_storage()
    var length: socklen_t

    init?(_ address: SocketAddress) {
        var storage = sockaddr_storage()
        if address.family == AF_INET6 {
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = address.port.bigEndian
            guard inet_pton(AF_INET6, address.host, &a.sin6_addr) == 1 else { return nil }
            withUnsafeBytes(of: a) { src in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: src) } }
            self.storage = storage
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        } else {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = address.port.bigEndian
            guard inet_pton(AF_INET, address.host, &a.sin_addr) == 1 else { return nil }
            withUnsafeBytes(of: a) { src in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: src) } }
            self.storage = storage
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        }
    }

    mutating func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        let length = self.length
        return withUnsafePointer(to: &storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    /// The local address of a socket (`getsockname`), as a `SocketAddress`.
    static func local(of fd: Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        let port: UInt16
        if Int32(storage.ss_family) == AF_INET6 {
            var a = sockaddr_in6()
            withUnsafeMutableBytes(of: &a) { dst in withUnsafeBytes(of: storage) { dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<dst.count])) } }
            guard inet_ntop(AF_INET6, &a.sin6_addr, &text, socklen_t(text.count)) != nil else { return nil }
            port = UInt16(bigEndian: a.sin6_port)
        } else {
            var a = sockaddr_in()
            withUnsafeMutableBytes(of: &a) { dst in withUnsafeBytes(of: storage) { dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<dst.count])) } }
            guard inet_ntop(AF_INET, &a.sin_addr, &text, socklen_t(text.count)) != nil else { return nil }
            port = UInt16(bigEndian: a.sin_port)
        }
        let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return SocketAddress(host: host, port: port)
    }
}
