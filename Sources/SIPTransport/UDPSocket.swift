#if canImport(Glibc)
import Glibc
#endif

/// A bound, non-blocking UDP socket (IPv4 or IPv6). The receive buffer is owned by the socket and
/// reused, so receiving allocates only the datagram's own copy.
public final class UDPSocket {
    public let fd: Int32
    public let local: SocketAddress
    private var buffer = [UInt8](repeating: 0, count: 65_536)

    /// Error from a socket call: the call and `errno`'s text.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// The receive buffer asked for (SO_RCVBUF): 4 MiB.
    public static let receiveBufferBytes: Int32 = 4 << 20

    /// Binds to a numeric `host` and `port` (0 picks a free port).
    public init(host: String, port: UInt16) throws {
        guard let address = SocketAddress(host: host, port: port) else {
            throw Failure(description: "'\(host)' is not a numeric IPv4 or IPv6 address")
        }
        let fd = socket(address.family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if address.family == AF_INET6 {
            _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        // A deep receive queue, as Kamailio's maxbuffer: the signalling thread can pause (a sweep, a
        // save, a burst) without the kernel dropping datagrams that then come back as
        // retransmissions. The kernel caps it at net.core.rmem_max; the memory is used only while
        // datagrams wait.
        var buffer = UDPSocket.receiveBufferBytes
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, socklen_t(MemoryLayout<Int32>.size))
        var storage = address.storage
        if port != 0 {
            // SO_REUSEADDR (needed so the endpoint's connected flows can share the port) would also
            // let this socket share the port with another process's socket there, which then
            // silently loses its traffic to us. A plain bind first tells "in use" apart.
            let probe = socket(address.family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if probe >= 0 {
                if address.family == AF_INET6 {
                    _ = setsockopt(probe, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
                }
                let probed = withUnsafePointer(to: &storage) { p in
                    p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(probe, $0, address.length) }
                }
                let err = errno
                close(probe)
                if probed != 0 && err == EADDRINUSE {
                    close(fd)
                    throw Failure(description: "bind \(address): Address already in use")
                }
            }
        }
        let rc = withUnsafePointer(to: &storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, address.length) }
        }
        guard rc == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "bind \(address): \(why)")
        }
        var bound = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &bound) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        self.local = SocketAddress(storage: bound, length: length)
    }

    deinit { close(fd) }

    /// The next datagram and its sender, or nil when none is waiting.
    public func receive() -> (bytes: [UInt8], from: SocketAddress)? {
        var from = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let n = buffer.withUnsafeMutableBytes { raw in
            withUnsafeMutablePointer(to: &from) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, raw.baseAddress, raw.count, 0, $0, &length) }
            }
        }
        guard n >= 0 else { return nil }
        return (Array(buffer[0..<n]), SocketAddress(storage: from, length: length))
    }

    /// Sends a datagram; returns false when the kernel refused it.
    @discardableResult
    public func send(_ bytes: [UInt8], to address: SocketAddress) -> Bool {
        var storage = address.storage
        let n = bytes.withUnsafeBytes { raw in
            withUnsafePointer(to: &storage) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, raw.baseAddress, raw.count, 0, $0, address.length) }
            }
        }
        return n == bytes.count
    }
}
