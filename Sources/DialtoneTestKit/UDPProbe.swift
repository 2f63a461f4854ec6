#if canImport(Glibc)
import Glibc
#endif

/// A UDP socket on loopback for tests: send a datagram, wait for one with a timeout.
public final class UDPProbe {
    public let fd: Int32
    public let port: UInt16

    /// Binds 127.0.0.1 on a free port.
    public init() {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        precondition(fd >= 0, "socket failed")

        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        precondition(rc == 0, "bind failed")
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.fd = fd
        port = UInt16(bigEndian: a.sin_port)
    }

    deinit { close(fd) }

    /// A free UDP port on 127.0.0.1 (bound and released; a tiny race is accepted in tests).
    public static func freePort() -> UInt16 { UDPProbe().port }

    public func send(_ bytes: [UInt8], toPort port: UInt16, host: String = "127.0.0.1") {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = inet_addr(host)
        _ = bytes.withUnsafeBytes { raw in
            withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            } }
        }
    }

    /// The next datagram within `timeout` seconds, or nil.
    public func receive(timeout: Double = 2) -> [UInt8]? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(timeout * 1000)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n >= 0 ? Array(buffer[0..<n]) : nil
    }

    /// The next datagram within `timeout` seconds and the port it came from, or nil.
    public func receiveWithSource(timeout: Double = 2) -> ([UInt8], UInt16)? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(timeout * 1000)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var from = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let n = buffer.withUnsafeMutableBytes { raw in
            withUnsafeMutablePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                recvfrom(fd, raw.baseAddress, raw.count, 0, $0, &length)
            } }
        }
        return n >= 0 ? (Array(buffer[0..<n]), UInt16(bigEndian: from.sin_port)) : nil
    }
}
