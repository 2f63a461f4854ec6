import DialtoneTestKit
import NetMonitor
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A failure of the test's own set-up (an `ip` command, a namespace).
struct SetupError: Error, CustomStringConvertible {
    var description: String
}

/// The `ip` binary (iproute2), or nil.
let ipExecutable: String? = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { access($0, X_OK) == 0 }

private let namespaceCounter = Atomic<Int>(0)
private let staleSweep = Mutex<Bool>(false)

/// A network namespace the test creates (`ip netns add dtnm-<pid>-<n>`) and deletes (`delete()`,
/// always in a `defer`). Only 192.0.2.0/24 and 2001:db8::/32 are configured in it, and nothing in it
/// is connected to the host's network.
final class TestNamespace: Sendable {
    let name: String
    let ip: String

    init() throws {
        guard let ip = ipExecutable else { throw SetupError(description: "iproute2 'ip' is missing (Debian package iproute2)") }
        self.ip = ip
        Self.removeStaleNamespaces(ip: ip)
        let n = namespaceCounter.wrappingAdd(1, ordering: .relaxed).newValue
        name = "dtnm-\(getpid())-\(n)"
        let result = try runProcess(ip, ["netns", "add", name], timeout: 10)
        guard result.exitStatus == 0 else {
            throw SetupError(description: "ip netns add \(name): \(result.stderrText)")
        }
    }

    /// Deletes the namespace (its sockets keep it alive until they are closed).
    func delete() {
        _ = try? runProcess(ip, ["netns", "delete", name], timeout: 10)
    }

    /// Runs `ip -n NAME ARGS…` and throws unless it exits 0.
    @discardableResult
    func run(_ arguments: [String]) throws -> ProcessResult {
        let result = try runProcess(ip, ["-n", name] + arguments, timeout: 30)
        guard result.exitStatus == 0 else {
            throw SetupError(description: "ip -n \(name) \(arguments.joined(separator: " ")): \(result.stderrText)")
        }
        return result
    }

    /// Runs `ip -n NAME ARGS…` and returns the time (monotonic seconds) it returned.
    func runTimed(_ arguments: [String]) throws -> Double {
        try run(arguments)
        return nowSeconds()
    }

    /// Creates `wan0`, down: a dummy interface, or (kernels without CONFIG_DUMMY) one end of a
    /// veth pair whose other end, `wan0peer`, is set up first so that wan0 gets carrier when it goes
    /// up. Returns the link type used and wan0's index.
    func addWAN() throws -> (type: String, index: Int32) {
        var type = "dummy"
        let dummy = try runProcess(ip, ["-n", name, "link", "add", "wan0", "type", "dummy"], timeout: 10)
        if dummy.exitStatus != 0 {
            type = "veth"
            try run(["link", "add", "wan0", "type", "veth", "peer", "name", "wan0peer"])
            try run(["link", "set", "wan0peer", "up"])
        }
        return (type, try index(of: "wan0"))
    }

    /// The interface index `ip -o link show dev NAME` prints ("7: wan0@…: <…>").
    func index(of interface: String) throws -> Int32 {
        let text = try run(["-o", "link", "show", "dev", interface]).stdoutText
        guard let value = Int32(String(text.prefix { $0 != ":" })) else {
            throw SetupError(description: "no index for \(interface) in '\(text)'")
        }
        return value
    }

    /// Deletes `dtnm-<pid>-<n>` namespaces left by test processes that no longer exist (a run that
    /// was killed before its `defer`), once per process.
    private static func removeStaleNamespaces(ip: String) {
        let first = staleSweep.withLock { done in
            defer { done = true }
            return !done
        }
        guard first, let dir = opendir("/var/run/netns") else { return }
        var stale: [String] = []
        for _ in 0..<10_000 {
            guard let entry = readdir(dir) else { break }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            let parts = name.split(separator: "-")
            guard parts.count == 3, parts[0] == "dtnm", let pid = Int32(parts[1]), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { stale.append(name) }
        }
        closedir(dir)
        for name in stale { _ = try? runProcess(ip, ["netns", "delete", name], timeout: 10) }
    }
}

func nowSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Reads changes until `done` holds for everything read so far, or `timeout` seconds pass.
func collect(_ monitor: NetMonitor, timeout: Double, until done: ([NetworkChange]) -> Bool) -> [NetworkChange] {
    var all: [NetworkChange] = []
    let deadline = nowSeconds() + timeout
    for _ in 0..<100_000 {
        let remaining = deadline - nowSeconds()
        if remaining <= 0 { break }
        all += monitor.waitForEvents(timeout: remaining)
        if done(all) { break }
    }
    return all
}

/// Everything read within `window` seconds.
func collectAll(_ monitor: NetMonitor, window: Double) -> [NetworkChange] {
    collect(monitor, timeout: window) { _ in false }
}

func v4(_ text: String) -> NetworkAddress { NetworkAddress(family: .ipv4, text: text) }
func v6(_ text: String) -> NetworkAddress { NetworkAddress(family: .ipv6, text: text) }
