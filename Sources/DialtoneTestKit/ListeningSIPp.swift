#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// A SIPp run on a dispatch thread (for an answering SIPp while another runs in front), waited for
/// with a bound.
public final class BackgroundSIPp: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var outcome: Result<SIPpResult, SubprocessError>? = nil

    public init(_ run: SIPp.Run) {
        DispatchQueue.global().async {
            do throws(SubprocessError) {
                self.outcome = .success(try SIPp.run(run))
            } catch {
                self.outcome = .failure(error)
            }
            self.done.signal()
        }
    }

    /// The result once SIPp ended (SIPp.run itself kills it past its timeout), nil when `timeout`
    /// seconds passed first.
    public func wait(timeout: Double) -> Result<SIPpResult, SubprocessError>? {
        guard done.wait(timeout: .now() + timeout) == .success else { return nil }
        return outcome
    }
}

/// Starts `run` (a SIPp that listens: `run.extraArguments` gets `-p PORT`) in the background on a
/// free port and waits until that SIPp holds the port. A port picked as free can be taken by another
/// process of a test running in parallel before SIPp binds it; SIPp then fails to start, and this
/// tries again on another port (three attempts). Returns the SIPp and its port.
public func startListeningSIPp(_ run: SIPp.Run) throws(ListeningSIPpError) -> (BackgroundSIPp, UInt16) {
    var failures: [String] = []
    for _ in 0..<3 {
        let port = UDPProbe.freePort()
        var attempt = run
        attempt.extraArguments += ["-p", String(port)]
        let sipp = BackgroundSIPp(attempt)
        if waitUntilBound(udpPort: port) { return (sipp, port) }
        let ended = sipp.wait(timeout: 0.1)
        failures.append("port \(port): " + (ended.map { r in (try? r.get()).map { $0.errors + $0.output.suffix(500) } ?? "did not run" } ?? "not bound after 10 s"))
    }
    throw ListeningSIPpError(failures: failures)
}

/// SIPp could not be started listening: `failures` says why, per attempt.
public struct ListeningSIPpError: Error, CustomStringConvertible {
    public let failures: [String]
    public var description: String { "SIPp did not bind a port in three attempts: \(failures)" }
}

/// Waits until a process named `owner` (its /proc/PID/comm) has bound UDP `port`: a peer started
/// in the background is listening, up to `timeout` seconds. It reads /proc/net/udp rather than
/// trying to bind the port itself (a probe bind could win the race and make the peer's own bind fail
/// with EADDRINUSE), and it checks who holds the socket: a port picked as free can be taken by some
/// other process of a test running in parallel, and then the peer never started listening at all.
public func waitUntilBound(udpPort port: UInt16, owner: String = "sipp", timeout: Double = 10) -> Bool {
    let deadline = monotonicNow() + timeout
    while monotonicNow() < deadline {
        if udpSocketOwners(port: port).contains(owner) { return true }
        usleep(20_000)
    }
    return false
}

/// The command names (/proc/PID/comm) of the processes holding a UDP socket bound to local `port`.
public func udpSocketOwners(port: UInt16) -> Set<String> {
    let hex = String(port, radix: 16, uppercase: true)
    let suffix = ":" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    var inodes = Set<String>()
    for table in ["/proc/net/udp", "/proc/net/udp6"] {
        guard let bytes = readFile(table) else { continue }
        // "sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …"
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n").dropFirst() {
            let columns = line.split(separator: " ", omittingEmptySubsequences: true)
            if columns.count > 9, columns[1].hasSuffix(suffix), columns[9] != "0" { inodes.insert("socket:[" + columns[9] + "]") }
        }
    }
    guard !inodes.isEmpty, let proc = opendir("/proc") else { return [] }
    defer { closedir(proc) }
    var owners = Set<String>()
    var scanned = 0
    while let entry = readdir(proc), scanned < 100_000 {
        scanned += 1
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        guard let first = name.utf8.first, first >= 48, first <= 57 else { continue }
        guard let fds = opendir("/proc/" + name + "/fd") else { continue }
        var holds = false
        var count = 0
        while let fd = readdir(fds), count < 10_000, !holds {
            count += 1
            let fdName = withUnsafeBytes(of: fd.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            var target = [CChar](repeating: 0, count: 64)
            let n = readlink("/proc/" + name + "/fd/" + fdName, &target, 63)
            if n > 0 {
                let link = String(decoding: target[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                holds = inodes.contains(link)
            }
        }
        closedir(fds)
        if holds, let comm = readFile("/proc/" + name + "/comm") {
            owners.insert(String(decoding: comm, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? "")
        }
    }
    return owners
}

/// Monotonic seconds (CLOCK_MONOTONIC).
func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
