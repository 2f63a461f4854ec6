#if canImport(Glibc)
import Glibc
#endif

/// A network namespace joined to the host by a veth pair, for tests where Dialtone (or a peer) must
/// sit behind an interface of its own: its "WAN" address can change, the link can vanish, and the
/// host side talks to it over a /29 of 192.0.2.0/24 (TEST-NET-1) — no other addresses, so no traffic
/// can leave the machine (the namespace's default route points at the host side, which does not
/// forward what arrives on the veth).
///
/// Layout (one /29 per namespace, so several can exist at once): network N (N = 192.0.2.64, .72, …
/// .248), host side N+1 on `hostInterface` in the host's namespace, namespace side N+2 on `interface`
/// (named "wan0" by default) inside; N+3…N+6 are `spareAddresses` for `changeAddress(to:)`. A /29 is
/// taken only when no address of the host (any interface) and no gateway of the host's routes falls in
/// it — on a machine whose own LAN is 192.0.2.0/24 (this one's eth0 is 192.0.2.2/24 with gateway
/// 192.0.2.1), the low blocks are skipped and the /29 route on the veth is more specific than the
/// LAN's /24. Choosing and configuring the block is serialised across processes by an flock on
/// /tmp/dialtone-netns.lock.
///
/// The host never forwards what arrives on the veth (`net.ipv4.conf.<host end>.forwarding` is set to
/// 0 whatever the global setting), so the namespace's default route reaches the host and nothing
/// beyond it.
///
/// Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN for `ip netns`). `delete()` runs from `deinit` too:
/// processes this object spawned are killed by pid (with their children), the veth is deleted (both
/// ends go), then the namespace.
public final class NetworkNamespace: @unchecked Sendable {
    /// The `ip` binary (iproute2), nil when it is not installed.
    public static var ipExecutable: String? { findExecutable("ip") }

    /// `dt-<pid>-<n>`.
    public let name: String
    /// The host end of the veth pair (in the host's namespace), `dt<pid>h<n>`.
    public let hostInterface: String
    /// The namespace end, renamed inside the namespace (default "wan0").
    public let interface: String
    /// The host end's address (the namespace's default gateway).
    public let hostAddress: String
    /// The namespace end's current address.
    public private(set) var address: String
    /// The /29's network address and prefix length.
    public let network: String
    public let prefixLength = 29
    public private(set) var isDeleted = false

    private let ip: String
    private var spawned: [BackgroundProcess] = []

    /// Counter for names and veth names; only touched under the flock (see `withLock`).
    nonisolated(unsafe) private static var counter = 0

    /// Creates the namespace, the veth pair, addresses and routes (see the type's description).
    /// `disableIPv6` turns IPv6 off on both ends (no link-local addresses, router solicitations or DAD
    /// on the veth). Throws, leaving nothing behind, when `ip` is missing, the caller is not root, or
    /// any step fails.
    public init(interfaceName: String = "wan0", disableIPv6: Bool = true) throws(SubprocessError) {
        guard let ip = Self.ipExecutable else { throw SubprocessError(description: "ip (iproute2) is not installed") }
        guard geteuid() == 0 else { throw SubprocessError(description: "network namespaces need root (euid \(geteuid()))") }
        guard !interfaceName.isEmpty, interfaceName.utf8.count <= 15 else {
            throw SubprocessError(description: "interface name must be 1–15 characters: \(interfaceName)")
        }
        self.ip = ip
        interface = interfaceName
        let pid = String(getpid())
        let lock = try Self.lock()
        defer { Self.unlock(lock) }
        Self.removeStale(ip)

        // A free name.
        var chosen: (name: String, host: String, peer: String)? = nil
        let existing = Set(Self.existingNames())
        for _ in 0..<64 {
            Self.counter += 1
            let n = String(Self.counter)
            let candidate = (name: "dt-" + pid + "-" + n, host: "dt" + pid + "h" + n, peer: "dt" + pid + "p" + n)
            if !existing.contains(candidate.name) && !Self.interfaceExists(candidate.host) && !Self.interfaceExists(candidate.peer) {
                chosen = candidate
                break
            }
        }
        guard let chosen else { throw SubprocessError(description: "no free namespace name for pid \(pid)") }
        name = chosen.name
        hostInterface = chosen.host

        // A free /29.
        let busy = try Self.hostAddressesAndGateways(ip)
        var block: UInt32? = nil
        let base = IPv4.parse("192.0.2.0")!
        for index in 8..<32 {
            let start = base + UInt32(index * 8)
            if !busy.contains(where: { $0 >= start && $0 < start + 8 }) { block = start; break }
        }
        guard let block else { throw SubprocessError(description: "no free /29 in 192.0.2.64/26…192.0.2.248/29: \(busy.map(IPv4.text))") }
        network = IPv4.text(block)
        hostAddress = IPv4.text(block + 1)
        address = IPv4.text(block + 2)

        let steps: [[String]] = [
            ["netns", "add", name],
            ["link", "add", chosen.host, "type", "veth", "peer", "name", chosen.peer],
            ["link", "set", chosen.peer, "netns", name],
            ["-n", name, "link", "set", chosen.peer, "name", interfaceName],
            ["addr", "add", hostAddress + "/29", "dev", chosen.host],
            ["link", "set", chosen.host, "up"],
            ["-n", name, "link", "set", "lo", "up"],
            ["-n", name, "addr", "add", address + "/29", "dev", interfaceName],
            ["-n", name, "link", "set", interfaceName, "up"],
            ["-n", name, "route", "replace", "default", "via", hostAddress, "dev", interfaceName],
        ]
        for (index, step) in steps.enumerated() {
            if index == 4 {
                // Before the links come up. Nothing the namespace sends is forwarded by the host, even
                // on a host with forwarding on (a Docker host): the flag of the receiving interface
                // decides (net.ipv4.conf.<veth>.forwarding).
                Self.writeSysctl("/proc/sys/net/ipv4/conf/" + chosen.host + "/forwarding", "0")
            }
            if index == 4 && disableIPv6 {
                // No IPv6 packet is ever sent on the veth.
                Self.writeSysctl("/proc/sys/net/ipv6/conf/" + chosen.host + "/disable_ipv6", "1")
                _ = try? runProcess(ip, ["netns", "exec", name, "/bin/sh", "-c",
                                         "echo 1 > /proc/sys/net/ipv6/conf/" + interfaceName + "/disable_ipv6"], timeout: 10)
            }
            let result: ProcessResult
            do {
                result = try runProcess(ip, step, timeout: 10)
            } catch {
                cleanUp()
                throw error
            }
            guard result.exitStatus == 0 else {
                cleanUp()
                throw SubprocessError(description: "ip \(step.joined(separator: " ")): \(result.stderrText)")
            }
        }
    }

    deinit { delete() }

    /// The namespace end's other free addresses in the /29 (for `changeAddress(to:)`).
    public var spareAddresses: [String] {
        guard let start = IPv4.parse(network) else { return [] }
        return (3...6).map { IPv4.text(start + UInt32($0)) }.filter { $0 != address }
    }

    /// `ip netns exec NAME argv…` as an argument vector for `BackgroundProcess`/`runProcess` (the
    /// first element is the `ip` binary's path); a bare program name is resolved here, because a
    /// `BackgroundProcess` child starts with an empty environment (no PATH for `ip`'s execvp).
    public func command(_ argv: [String]) -> [String] {
        guard let first = argv.first else { return [ip, "netns", "exec", name] }
        let program = first.contains("/") ? first : (findExecutable(first) ?? first)
        return [ip, "netns", "exec", name, program] + argv.dropFirst()
    }

    /// Runs `argv` inside the namespace to the end (killed after `timeout` seconds).
    public func run(_ argv: [String], timeout: Double = 30) throws(SubprocessError) -> ProcessResult {
        guard !isDeleted else { throw SubprocessError(description: "namespace \(name) was deleted") }
        let full = command(argv)
        return try runProcess(full[0], Array(full.dropFirst()), timeout: timeout)
    }

    /// Starts `argv` inside the namespace in the background (`ip netns exec` execs it, so the pid is
    /// the program's own). The caller stops it by that pid; `delete()` kills it too if still running.
    public func spawn(_ argv: [String]) throws(SubprocessError) -> BackgroundProcess {
        guard !isDeleted else { throw SubprocessError(description: "namespace \(name) was deleted") }
        let full = command(argv)
        let process = try BackgroundProcess(full[0], Array(full.dropFirst()))
        spawned.removeAll { $0.hasExited }
        spawned.append(process)
        return process
    }

    /// The "WAN address changed" step: the namespace end loses its address and gets `newAddress`
    /// (one of `spareAddresses`, or any address of the /29 but the network, host side and broadcast
    /// ones), and the default route via the host side is put back (removing the last address of the
    /// subnet removes it).
    public func changeAddress(to newAddress: String) throws(SubprocessError) {
        guard !isDeleted else { throw SubprocessError(description: "namespace \(name) was deleted") }
        guard let new = IPv4.parse(newAddress), let start = IPv4.parse(network),
              new > start + 1, new < start + 7 else {
            throw SubprocessError(description: "\(newAddress) is not a usable address of \(network)/29 (host side \(hostAddress))")
        }
        guard newAddress != address else { return }
        let steps: [[String]] = [
            ["-n", name, "addr", "del", address + "/29", "dev", interface],
            ["-n", name, "addr", "add", newAddress + "/29", "dev", interface],
            ["-n", name, "route", "replace", "default", "via", hostAddress, "dev", interface],
        ]
        for step in steps {
            let result = try runProcess(ip, step, timeout: 10)
            guard result.exitStatus == 0 else {
                throw SubprocessError(description: "ip \(step.joined(separator: " ")): \(result.stderrText)")
            }
            if step[3] == "del" { address = "" }
        }
        address = newAddress
    }

    /// Sets the namespace end down or up (link loss without an address change).
    public func setLink(up: Bool) throws(SubprocessError) {
        let result = try runProcess(ip, ["-n", name, "link", "set", interface, up ? "up" : "down"], timeout: 10)
        guard result.exitStatus == 0 else { throw SubprocessError(description: "ip link set \(interface): \(result.stderrText)") }
        if up {
            _ = try? runProcess(ip, ["-n", name, "route", "replace", "default", "via", hostAddress, "dev", interface], timeout: 10)
        }
    }

    /// Kills (SIGKILL, by pid) what `spawn` started and is still running, deletes the veth pair (from
    /// the host end: both ends go at once, even if some process still holds the namespace) and the
    /// namespace. Safe to call more than once.
    public func delete() {
        guard !isDeleted else { return }
        isDeleted = true
        for process in spawned where !process.hasExited {
            // Its children too (a Kamailio's workers), found before the parent goes.
            let children = Kamailio.children(of: process.pid)
            process.stop()
            for pid in children where Kamailio.parent(of: pid) == process.pid || Kamailio.parent(of: pid) == 1 {
                kill(pid, SIGKILL)
            }
        }
        spawned = []
        cleanUp()
    }

    private func cleanUp() {
        if Self.interfaceExists(hostInterface) {
            _ = try? runProcess(ip, ["link", "del", hostInterface], timeout: 10)
        }
        _ = try? runProcess(ip, ["netns", "del", name], timeout: 10)
    }

    // MARK: host state

    /// The names `ip netns list` shows (first word of each line).
    public static func existingNames() -> [String] {
        guard let ip = ipExecutable, let result = try? runProcess(ip, ["netns", "list"], timeout: 10) else { return [] }
        return result.stdoutText.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    /// Whether an interface of that name exists in the host's namespace.
    public static func interfaceExists(_ name: String) -> Bool {
        access("/sys/class/net/" + name, F_OK) == 0
    }

    /// Every IPv4 address of the host (`ip -4 -o addr show`) and every gateway (`via X`) of its routes.
    static func hostAddressesAndGateways(_ ip: String) throws(SubprocessError) -> [UInt32] {
        var result: [UInt32] = []
        let addresses = try runProcess(ip, ["-4", "-o", "addr", "show"], timeout: 10)
        for line in addresses.stdoutText.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            if let i = words.firstIndex(of: "inet"), i + 1 < words.count,
               let value = IPv4.parse(String(words[i + 1].split(separator: "/").first ?? "")) {
                result.append(value)
            }
        }
        let routes = try runProcess(ip, ["-4", "route", "show", "table", "all"], timeout: 10)
        for line in routes.stdoutText.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            if let i = words.firstIndex(of: "via"), i + 1 < words.count, let value = IPv4.parse(String(words[i + 1])) {
                result.append(value)
            }
        }
        return result
    }

    /// Namespaces `dt-<pid>-<n>` and host veth ends `dt<pid>h<n>` left by a test process that no
    /// longer exists (it crashed before `delete()`); once per process, under the lock.
    private static func removeStale(_ ip: String) {
        guard !sweptStale else { return }
        sweptStale = true
        for name in existingNames() {
            let parts = name.split(separator: "-")
            guard parts.count == 3, parts[0] == "dt", let pid = Int32(parts[1]), pid != getpid(), Int(parts[2]) != nil else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { _ = try? runProcess(ip, ["netns", "del", name], timeout: 10) }
        }
        guard let dir = opendir("/sys/class/net") else { return }
        var stale: [String] = []
        var scanned = 0
        while let entry = readdir(dir), scanned < 10_000 {
            scanned += 1
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            guard name.hasPrefix("dt"), let h = name.firstIndex(of: "h"),
                  let pid = Int32(name[name.index(name.startIndex, offsetBy: 2)..<h]), pid != getpid(),
                  Int(name[name.index(after: h)...]) != nil else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { stale.append(name) }
        }
        closedir(dir)
        for name in stale { _ = try? runProcess(ip, ["link", "del", name], timeout: 10) }
    }

    nonisolated(unsafe) private static var sweptStale = false

    private static func writeSysctl(_ path: String, _ value: String) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = Array(value.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    // MARK: cross-process lock

    static let lockPath = "/tmp/dialtone-netns.lock"

    /// An fd holding an exclusive flock on `lockPath` (waits up to 30 s).
    private static func lock() throws(SubprocessError) -> Int32 {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw SubprocessError(description: "open \(lockPath): \(String(cString: strerror(errno)))") }
        let deadline = monotonicSeconds() + 30
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, monotonicSeconds() < deadline else {
                close(fd)
                throw SubprocessError(description: "flock \(lockPath) not obtained")
            }
            usleep(10_000)
        }
        return fd
    }

    private static func unlock(_ fd: Int32) {
        flock(fd, LOCK_UN)
        close(fd)
    }
}
