#if canImport(Glibc)
import Glibc
#endif

/// A UDP socket for tests that talk to peers on addresses other than 127.0.0.1 (a Kamailio listening
/// on a veth address, a namespace's address): bound to `bindAddress` (0.0.0.0 lets the kernel pick
/// the source address by route, which for a namespace's 192.0.2.x address is the host side of its
/// veth), sending to any IPv4 address and receiving with the sender's address. `UDPProbe` stays the
/// loopback-only probe.
public final class AddressedUDPProbe: @unchecked Sendable {
    public let fd: Int32
    /// The bound address (as given) and port (the kernel's choice when 0 was asked for).
    public let bindAddress: String
    public let port: UInt16

    /// Binds `bindAddress`:`port` (0: a free port).
    public init(bindAddress: String = "0.0.0.0", port: UInt16 = 0) throws(SubprocessError) {
        guard let address = IPv4.parse(bindAddress) else { throw SubprocessError(description: "not an IPv4 address: \(bindAddress)") }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw SubprocessError(description: "socket: \(String(cString: strerror(errno)))") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var a = IPv4.socketAddress(address, port: port)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard rc == 0 else {
            let text = String(cString: strerror(errno))
            close(fd)
            throw SubprocessError(description: "bind \(bindAddress):\(port): \(text)")
        }
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.fd = fd
        self.bindAddress = bindAddress
        self.port = UInt16(bigEndian: a.sin_port)
    }

    deinit { close(fd) }

    /// Sends one datagram; false when `host` is not an IPv4 address or sendto fails.
    @discardableResult
    public func send(_ bytes: [UInt8], to host: String, port: UInt16) -> Bool {
        guard let address = IPv4.parse(host) else { return false }
        var a = IPv4.socketAddress(address, port: port)
        let n = bytes.withUnsafeBytes { raw in
            withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            } }
        }
        return n == bytes.count
    }

    /// The next datagram within `timeout` seconds with its sender, or nil.
    public func receive(timeout: Double = 2) -> (bytes: [UInt8], host: String, port: UInt16)? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, Int32(max(0, min(timeout, 600)) * 1000)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var from = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let n = buffer.withUnsafeMutableBytes { raw in
            withUnsafeMutablePointer(to: &from) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                recvfrom(fd, raw.baseAddress, raw.count, 0, $0, &length)
            } }
        }
        guard n >= 0 else { return nil }
        return (Array(buffer[0..<n]), IPv4.text(UInt32(bigEndian: from.sin_addr.s_addr)), UInt16(bigEndian: from.sin_port))
    }

    /// The source address the kernel would use toward `host` (a connected throw-away socket), for
    /// the Via of a request; nil when there is no route.
    public static func sourceAddress(toward host: String) -> String? {
        guard let address = IPv4.parse(host) else { return nil }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var a = IPv4.socketAddress(address, port: 9)
        let connected = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return named == 0 ? IPv4.text(UInt32(bigEndian: local.sin_addr.s_addr)) : nil
    }

    /// Sends `OPTIONS sip:<host>:<port>` (retransmitted every 200 ms) from this socket and returns
    /// the first final response (≥ 200) from that address within `timeout` seconds, or nil.
    public func options(host: String, port: UInt16, timeout: Double = 2, tag: String = "probe") -> [UInt8]? {
        let via = Self.sourceAddress(toward: host) ?? "127.0.0.1"
        let deadline = monotonicSeconds() + max(0, min(timeout, 600))
        var attempt = 0
        var nextSend = 0.0
        while monotonicSeconds() < deadline && attempt < 3000 {
            if monotonicSeconds() >= nextSend {
                attempt += 1
                let request = "OPTIONS sip:\(host):\(port) SIP/2.0\r\n"
                    + "Via: SIP/2.0/UDP \(via):\(self.port);branch=z9hG4bK-\(tag)-\(getpid())-\(attempt);rport\r\n"
                    + "Max-Forwards: 70\r\nFrom: <sip:probe@\(via)>;tag=\(tag)\r\nTo: <sip:\(host):\(port)>\r\n"
                    + "Call-ID: \(tag)-\(getpid())-\(attempt)@\(via)\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
                send(Array(request.utf8), to: host, port: port)
                nextSend = monotonicSeconds() + 0.2
            }
            let left = min(nextSend, deadline) - monotonicSeconds()
            guard let answer = receive(timeout: max(0.01, left)) else { continue }
            guard answer.host == host, answer.port == port, answer.bytes.starts(with: Array("SIP/2.0 ".utf8)),
                  answer.bytes.count > 9, answer.bytes[8] != UInt8(ascii: "1") else { continue }
            return answer.bytes
        }
        return nil
    }

    /// Whether `host`:`port` answers an OPTIONS with 200 within `timeout` seconds (a fresh socket
    /// on 0.0.0.0).
    public static func answersOptions(host: String, port: UInt16, timeout: Double = 2) -> Bool {
        guard let probe = try? AddressedUDPProbe() else { return false }
        return probe.options(host: host, port: port, timeout: timeout)?.starts(with: Array("SIP/2.0 200".utf8)) == true
    }
}

/// Dotted-quad IPv4 helpers (host byte order values).
public enum IPv4 {
    /// `a.b.c.d` to a host-order value; nil for anything else.
    public static func parse(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0 >= "0" && $0 <= "9" }), let octet = UInt32(part), octet <= 255 else { return nil }
            value = value << 8 | octet
        }
        return value
    }

    /// A host-order value as `a.b.c.d`.
    public static func text(_ value: UInt32) -> String {
        String(value >> 24) + "." + String(value >> 16 & 0xFF) + "." + String(value >> 8 & 0xFF) + "." + String(value & 0xFF)
    }

    static func socketAddress(_ address: UInt32, port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = address.bigEndian
        return a
    }
}
