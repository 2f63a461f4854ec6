#if canImport(Glibc)
import Glibc
#endif
import Testing
import DialtoneTestKit

/// `dialtoned --listen <transport>:127.0.0.1:<free port>`, started by pid and waited for ("ready").
/// TCP variants pass `.tcp` once the daemon serves `--listen tcp:` (issue 4, item 2/5).
func startDaemon(_ transport: SIPp.Transport) throws -> (daemon: BackgroundProcess, port: UInt16) {
    let path = try #require(BuiltProducts.executable("dialtoned"), "dialtoned is not built")
    let port = UDPProbe.freePort()
    let daemon = try BackgroundProcess(path, ["--listen", transport.rawValue + ":127.0.0.1:" + String(port)])
    let ready = daemon.waitForOutput("ready", timeout: 30)
    try #require(ready, "dialtoned did not start: \(daemon.output)")
    return (daemon, port)
}

/// The sipp binary; a test that needs it fails (not skips) when it is missing.
func requireSIPp() throws -> String {
    try #require(SIPp.executable, "sipp is not installed (Debian sip-tester; make deps)")
}

/// UDP sockets on one loopback address (127.83.x.y, unlikely to be used by anyone else) bound to
/// several ports: RFC 4475 messages carry Via sent-by ports (5060 by default, 5050, …) and a stateless
/// element answers there (RFC 3261 §18.2.2), so the test listens where the answers will go.
final class LoopbackListener {
    let address: String
    private(set) var sockets: [(fd: Int32, port: UInt16)] = []

    /// Binds `ports` on the first free 127.83.x.y address (a few attempts), nil when none was free.
    init?(ports: [UInt16]) {
        let base = Int(getpid() % 200)
        var chosen: String? = nil
        for attempt in 0..<8 {
            let candidate = "127.83." + String(20 + (base + attempt * 7) % 230) + "." + String(10 + attempt)
            var bound: [(fd: Int32, port: UInt16)] = []
            for port in ports {
                guard let fd = Self.bind(candidate, port) else { break }
                bound.append((fd, port))
            }
            if bound.count == ports.count { sockets = bound; chosen = candidate; break }
            for entry in bound { close(entry.fd) }
        }
        guard let chosen else { return nil }
        address = chosen
    }

    deinit { for entry in sockets { close(entry.fd) } }

    private static func bind(_ host: String, _ port: UInt16) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = inet_addr(host)
        let rc = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { close(fd); return nil }
        return fd
    }

    /// Sends from the socket bound to `fromPort` to 127.0.0.1:`port`.
    func send(_ bytes: [UInt8], fromPort: UInt16, toPort port: UInt16) {
        guard let fd = sockets.first(where: { $0.port == fromPort })?.fd else { return }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = bytes.withUnsafeBytes { raw in
            withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            } }
        }
    }

    /// The next datagram on any of the sockets within `timeout` seconds, with the port it arrived at.
    func receive(timeout: Double) -> (bytes: [UInt8], port: UInt16)? {
        var fds = sockets.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        guard poll(&fds, nfds_t(fds.count), Int32(timeout * 1000)) > 0 else { return nil }
        guard let index = fds.firstIndex(where: { $0.revents & Int16(POLLIN) != 0 }) else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = buffer.withUnsafeMutableBytes { recv(fds[index].fd, $0.baseAddress, $0.count, 0) }
        guard n >= 0 else { return nil }
        return (Array(buffer[0..<n]), sockets[index].port)
    }
}

/// A plain TCP client connection to 127.0.0.1 for tests: send octets, collect what comes back until
/// a deadline or until the peer closes.
final class LoopbackStream {
    let fd: Int32
    private(set) var received: [UInt8] = []
    private(set) var peerClosed = false

    /// Connects to 127.0.0.1:`port` (blocking, loopback), nil on failure.
    init?(port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { close(fd); return nil }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Writes all of `bytes` (bounded retries); false when the connection refused them.
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        var rounds = 0
        while offset < bytes.count && rounds < 1000 {
            rounds += 1
            let n = bytes.withUnsafeBytes { raw in Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return offset == bytes.count
    }

    /// Reads for up to `timeout` seconds; returns early when `done(received)` holds or the peer closes.
    func read(timeout: Double, until done: ([UInt8]) -> Bool) {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let deadline = Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9 + timeout
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var rounds = 0
        while !peerClosed && !done(received) && rounds < 10_000 {
            rounds += 1
            clock_gettime(CLOCK_MONOTONIC, &ts)
            let left = deadline - (Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9)
            if left <= 0 { break }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(max(1, left * 1000))) > 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { peerClosed = true } else { received += buffer[0..<n] }
        }
    }
}
