#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 socket address (numeric), as the kernel gives and takes it.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    var storage: sockaddr_storage
    var length: socklen_t

    init(storage: sockaddr_storage, length: socklen_t) {
        self.storage = storage
        self.length = length
    }

    /// A numeric address and port; nil when `host` is not a numeric IPv4 or IPv6 address.
    public init?(host: String, port: UInt16) {
        var storage = sockaddr_storage()
        if host.contains(":") {
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, host, &a.sin6_addr) == 1 else { return nil }
            withUnsafeBytes(of: a) { src in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: src) } }
            self.init(storage: storage, length: socklen_t(MemoryLayout<sockaddr_in6>.size))
        } else {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = port.bigEndian
            guard inet_pton(AF_INET, host, &a.sin_addr) == 1 else { return nil }
            withUnsafeBytes(of: a) { src in withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: src) } }
            self.init(storage: storage, length: socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }

    public var family: Int32 { Int32(storage.ss_family) }

    /// The numeric host (no brackets).
    public var host: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        var copy = storage
        let ok: Bool = withUnsafePointer(to: &copy) { p in
            if family == AF_INET6 {
                return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { s in
                    var addr = s.pointee.sin6_addr
                    return inet_ntop(AF_INET6, &addr, &buffer, socklen_t(buffer.count)) != nil
                }
            }
            return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { s in
                var addr = s.pointee.sin_addr
                return inet_ntop(AF_INET, &addr, &buffer, socklen_t(buffer.count)) != nil
            }
        }
        guard ok else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var port: UInt16 {
        var copy = storage
        return withUnsafePointer(to: &copy) { p in
            if family == AF_INET6 {
                return p.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin6_port) }
            }
            return p.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

    /// The same address with another port.
    public func withPort(_ port: UInt16) -> SocketAddress { SocketAddress(host: host, port: port) ?? self }

    public var description: String { family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public static func == (a: SocketAddress, b: SocketAddress) -> Bool { a.host == b.host && a.port == b.port }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(host)
        hasher.combine(port)
    }

    /// Whether this is an IPv6 address.
    public var isIPv6: Bool { family == AF_INET6 }

    /// Whether `text` is a numeric IPv4 or IPv6 address (brackets allowed around IPv6).
    public static func isNumeric(_ text: String) -> Bool { SocketAddress(host: unbracketed(text), port: 0) != nil }

    /// `text` without the brackets of an IPv6 reference.
    static func unbracketed(_ text: String) -> String {
        if text.hasPrefix("["), text.hasSuffix("]"), text.count >= 2 { return String(text.dropFirst().dropLast()) }
        return text
    }

    /// Calls `body` with the address as a `sockaddr` pointer and its length.
    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var copy = storage
        return withUnsafePointer(to: &copy) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    /// The local (`getsockname`) or remote (`getpeername`) address of a socket.
    static func of(socket fd: Int32, peer: Bool) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { peer ? getpeername(fd, $0, &length) : getsockname(fd, $0, &length) }
        }
        return rc == 0 ? SocketAddress(storage: storage, length: length) : nil
    }
}
