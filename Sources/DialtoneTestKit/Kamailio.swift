#if canImport(Glibc)
import Glibc
#endif

/// Kamailio (Debian) as a reference peer, run the way ../shared/docs/peers.md says it runs best:
/// TLSF allocator (`-x tlsf`), enough shared memory, two UDP workers, in the foreground (`-DD`) so
/// the pid this process started is the one that is stopped; only 127.0.0.1.
public final class Kamailio: @unchecked Sendable {
    /// The `kamailio` binary, nil when it is not installed.
    public static var executable: String? { findExecutable("kamailio") }

    public let process: BackgroundProcess
    public let port: UInt16
    private let runDirectory: TemporaryDirectory

    /// Starts `kamailio -f configuration` listening on udp:127.0.0.1:`port`; returns once it answers
    /// an OPTIONS (or throws after `timeout` seconds).
    public init(configuration: String, port: UInt16, workers: Int = 2, sharedMemoryMB: Int = 256,
                timeout: Double = 15) throws(SubprocessError) {
        guard let kamailio = Self.executable else { throw SubprocessError(description: "kamailio is not installed") }
        runDirectory = try TemporaryDirectory(prefix: "dialtone-kamailio-")
        self.port = port
        process = try BackgroundProcess(kamailio, [
            "-f", configuration, "-DD", "-E",
            "-x", "tlsf", "-m", String(sharedMemoryMB), "-M", "16",
            "-n", String(workers),
            "-l", "udp:127.0.0.1:" + String(port),
            "-Y", runDirectory.path, "-P", runDirectory.path + "/kamailio.pid",
        ])
        guard Self.answersOptions(port: port, timeout: timeout, process: process) else {
            let output = process.output
            // Its workers too (by parent pid), or a Kamailio that started but did not answer would
            // leave them running.
            let workers = Self.children(of: process.pid)
            process.stop()
            for pid in workers { kill(pid, SIGKILL) }
            runDirectory.remove()
            throw SubprocessError(description: "kamailio did not answer OPTIONS on 127.0.0.1:\(port): \(output)")
        }
    }

    deinit { stop() }

    /// SIGTERM to the main process (it stops its children), SIGKILL after `timeout` seconds; then
    /// SIGKILL to any of its worker processes (found by parent pid before stopping) still running, so a
    /// killed main process cannot leave orphaned workers behind.
    @discardableResult
    public func stop(timeout: Double = 5) -> Int32? {
        let workers = Self.children(of: process.pid)
        let status = process.terminate(signal: SIGTERM, timeout: timeout)
        for pid in workers where Self.parent(of: pid) == process.pid || Self.parent(of: pid) == 1 {
            kill(pid, SIGKILL)
        }
        runDirectory.remove()
        return status
    }

    /// Pids whose parent is `parent` (from /proc/<pid>/stat).
    static func children(of parentPID: pid_t) -> [pid_t] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var result: [pid_t] = []
        var scanned = 0
        while let entry = readdir(dir), scanned < 100_000 {
            scanned += 1
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let pid = pid_t(name), pid != parentPID else { continue }
            if parent(of: pid) == parentPID { result.append(pid) }
        }
        return result
    }

    /// The parent pid of `pid`, nil when it no longer exists.
    static func parent(of pid: pid_t) -> pid_t? {
        guard let bytes = readFile("/proc/" + String(pid) + "/stat") else { return nil }
        // "pid (comm) state ppid …": comm may hold spaces and parentheses, so parse after the last ')'.
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " "))
        guard fields.count > 1 else { return nil }
        return pid_t(String(decoding: fields[1], as: UTF8.self))
    }

    /// Sends OPTIONS every 100 ms until a 200 comes back, the timeout passes or the process exits.
    static func answersOptions(port: UInt16, timeout: Double, process: BackgroundProcess) -> Bool {
        let probe = UDPProbe()
        let deadline = monotonicSeconds() + timeout
        var attempt = 0
        while monotonicSeconds() < deadline && !process.hasExited {
            attempt += 1
            let request = "OPTIONS sip:ping@127.0.0.1:\(port) SIP/2.0\r\n"
                + "Via: SIP/2.0/UDP 127.0.0.1:\(probe.port);branch=z9hG4bK-kam-ready-\(attempt);rport\r\n"
                + "Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=ready\r\nTo: <sip:ping@127.0.0.1>\r\n"
                + "Call-ID: kamailio-ready-\(attempt)\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
            probe.send(Array(request.utf8), toPort: port)
            if let answer = probe.receive(timeout: 0.1), answer.starts(with: Array("SIP/2.0 200".utf8)) { return true }
        }
        return false
    }
}
