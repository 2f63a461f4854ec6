// bench-ua-call-setup: call set-up processing of dialtoned's SIP user agent against baresip 1.0.0,
// side by side in one run (scripts/bench-ua-call-setup.sh builds it in release and runs it).
//
//   bench-ua-call-setup [--calls N] [--warmup W] [--dialtoned PATH] [--dialtone PATH]
//                       [--only ours|peer] [--callgrind FILE] [--linger S]
//
// The set-up, everything on 127.0.0.1, every process started here by pid and stopped by that pid:
//   - Kamailio as the ISP (DialtoneTestKit `KamailioISP`, Tests/Fixtures/kamailio/isp.cfg, domain
//     isp.test, subscribers alice and carol);
//   - one SIPp answerer (Tests/Fixtures/sipp/answer-uas.xml: INVITE -> 180 -> 200 with SDP, ACK;
//     BYE -> 200), `-m` = every call of both sides, so both call the very same answerer;
//   - dialtoned with a VoiceService line `line1` = alice, registered with Kamailio (status.json "Up");
//   - baresip (DialtoneTestKit `Baresip`, driven through ctrl_tcp) with the account carol, registered
//     with the same Kamailio (REGISTER_OK). Its AOR names the ISP by address
//     (sip:carol@127.0.0.1:<ISP port>) rather than through `outbound`: baresip sends every request
//     of an account with an outbound proxy through it, and the ISP does not relay to a foreign
//     host, so this is how a registered baresip account calls the answerer directly, as dialtoned's
//     line does for a target outside its domain.
//
// One call, made one after another, W warm-up calls then N measured calls per side:
//   ours: the `call` request on dialtoned's control socket (<run-dir>/control.sock, the protocol of
//     `dialtone call line1 sip:uas@127.0.0.1:PORT --json`: one JSON line, one JSON reply), then
//     dialtoned's log line "call ID: established"; `hangup`, then "call ID: ended".
//   peer: baresip's ctrl_tcp `dial sip:uas@127.0.0.1:PORT`, then its CALL_ESTABLISHED event;
//     `hangup`, then CALL_CLOSED (on a ctrl_tcp connection of the harness's own that acknowledges at
//     once: see `BaresipControl` for the 40 ms a delayed ACK otherwise adds).
// Set-up wall time: from just before the command is sent to the moment the harness sees the
// established line/event (the log is followed with inotify, the ctrl_tcp connection with poll: no
// polling of the measured process). CPU: utime+stime of the process (/proc/PID/stat, clock ticks,
// threads that exited included) over the N measured calls, in µs per call; the schedstat run time
// of its live threads is shown as a finer cross-check, and the idle CPU (2 s, registered, before
// the warm-up calls) as what the window carries regardless of the calls. RSS: VmRSS before and
// after the calls.
//
// Output: a table, then as its LAST line
//   bench-ua-call-setup: ours=<dialtoned CPU µs/call> peer=<baresip CPU µs/call> ratio=<ours/peer>
// Exit status 0 when every call of both sides was set up and torn down, 1 otherwise, 2 on bad usage.
//
// --callgrind FILE runs dialtoned under `valgrind --tool=callgrind` (its counters zeroed with
// callgrind_control just before the measured calls and dumped just after; the dump goes to
// FILE.<n>); meant with --only ours and a small --calls. --linger S samples both processes' RSS
// S seconds after the calls (past the 32 s a transaction may be kept), then makes N more calls per
// side (not measured) and samples it again S seconds later: retained memory or a leak.

#if canImport(Glibc)
import Glibc
#endif
import Config
import DialtoneTestKit

// MARK: - Options

struct Options {
    var calls = 200
    var warmup = 5
    var dialtoned: String? = nil
    var dialtone: String? = nil
    var only: String? = nil
    var callgrind: String? = nil
    /// Seconds to wait after the calls before sampling RSS once more (0: not done).
    var linger = 0
    /// Seconds each step of a call (reply, established, ended) may take.
    var stepTimeout = 10.0

    static func parse(_ arguments: [String]) -> Options {
        var o = Options()
        var args = arguments[...]
        func value(_ name: String) -> String {
            guard let v = args.popFirst() else { usage("\(name) needs a value") }
            return v
        }
        while let arg = args.popFirst() {
            switch arg {
            case "--calls": o.calls = Int(value(arg)) ?? -1
            case "--warmup": o.warmup = Int(value(arg)) ?? -1
            case "--dialtoned": o.dialtoned = value(arg)
            case "--dialtone": o.dialtone = value(arg)
            case "--only":
                let side = value(arg)
                guard side == "ours" || side == "peer" else { usage("--only takes ours or peer") }
                o.only = side
            case "--callgrind": o.callgrind = value(arg)
            case "--linger": o.linger = Int(value(arg)) ?? -1
            case "-h", "--help":
                print("usage: bench-ua-call-setup [--calls N] [--warmup W] [--dialtoned PATH] [--dialtone PATH] [--only ours|peer] [--callgrind FILE] [--linger S]")
                exit(0)
            default: usage("unknown argument \(arg)")
            }
        }
        guard o.calls >= 1, o.calls <= 100_000 else { usage("--calls must be 1...100000") }
        guard o.warmup >= 0, o.warmup <= 1000 else { usage("--warmup must be 0...1000") }
        guard o.linger >= 0, o.linger <= 600 else { usage("--linger must be 0...600") }
        if o.callgrind != nil { o.stepTimeout = 60 }
        return o
    }
}

func usage(_ message: String) -> Never {
    say("bench-ua-call-setup: \(message)", fd: 2)
    exit(2)
}

func say(_ text: String, fd: Int32 = 1) {
    let bytes = Array((text + "\n").utf8)
    var offset = 0
    var rounds = 0
    while offset < bytes.count && rounds < 1000 {
        rounds += 1
        let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 { if errno == EINTR { continue }; return }
        offset += n
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func sleepSeconds(_ seconds: Double) {
    let end = monotonic() + seconds
    var rounds = 0
    while rounds < 100_000 {
        rounds += 1
        let left = end - monotonic()
        if left <= 0 { return }
        var request = timespec(tv_sec: Int(left), tv_nsec: Int((left - Double(Int(left))) * 1e9))
        var remaining = timespec()
        _ = nanosleep(&request, &remaining)
    }
}

func monotonic() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// `path` when it is an executable file, else the one next to this benchmark, else nil.
func executable(_ explicit: String?, _ name: String) -> String? {
    if let explicit { return access(explicit, X_OK) == 0 ? explicit : nil }
    return BuiltProducts.executable(name)
}

/// The first `name` in /usr/bin, /usr/sbin, /usr/local/bin or $PATH.
func which(_ name: String) -> String? {
    var folders = ["/usr/bin", "/usr/sbin", "/usr/local/bin"]
    if let path = getenv("PATH") { folders += String(cString: path).split(separator: ":").map(String.init) }
    for folder in folders where !folder.isEmpty {
        let candidate = folder + "/" + name
        if access(candidate, X_OK) == 0 { return candidate }
    }
    return nil
}

// MARK: - /proc

/// CPU time and memory of one process.
struct ProcessSample {
    /// utime + stime, clock ticks (/proc/PID/stat fields 14 and 15; threads that ended included).
    var ticks: Int
    /// stime alone, clock ticks.
    var systemTicks: Int
    /// Sum of the run time of its live threads, ns (/proc/PID/task/*/schedstat, first field).
    var liveThreadsNs: Int
    var rssKB: Int

    static let ticksPerSecond = max(1, sysconf(Int32(_SC_CLK_TCK)))

    static func take(_ pid: pid_t) -> ProcessSample? {
        guard let stat = readFile("/proc/\(pid)/stat"), let close = stat.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = stat[(close + 1)...].split(separator: UInt8(ascii: " "))
        // fields[0] is field 3 (state): utime (14) and stime (15) are fields[11] and fields[12].
        guard fields.count > 12, let user = Int(String(decoding: fields[11], as: UTF8.self)),
              let system = Int(String(decoding: fields[12], as: UTF8.self)) else { return nil }
        return ProcessSample(ticks: user + system, systemTicks: system, liveThreadsNs: liveThreads(pid), rssKB: rss(pid))
    }

    static func rss(_ pid: pid_t) -> Int {
        guard let status = readFile("/proc/\(pid)/status") else { return 0 }
        for line in String(decoding: status, as: UTF8.self).split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? 0
        }
        return 0
    }

    static func liveThreads(_ pid: pid_t) -> Int {
        guard let dir = opendir("/proc/\(pid)/task") else { return 0 }
        defer { closedir(dir) }
        var total = 0
        var seen = 0
        while let entry = readdir(dir), seen < 10_000 {
            seen += 1
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
            guard let first = name.utf8.first, first >= 48, first <= 57,
                  let text = readFile("/proc/\(pid)/task/\(name)/schedstat") else { continue }
            total += Int(String(decoding: text, as: UTF8.self).split(separator: " ").first ?? "") ?? 0
        }
        return total
    }
}

// MARK: - Following dialtoned's log

/// Reads the lines a process appends to its output file as they come (inotify IN_MODIFY wakes the
/// wait; no polling of the file), keeping the lines not yet consumed.
final class LogFollower {
    let path: String
    private let fd: Int32
    private let notify: Int32
    private var partial: [UInt8] = []
    private var lines: [String] = []

    init(path: String) throws(BenchError) {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BenchError("cannot open \(path)") }
        notify = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard notify >= 0, inotify_add_watch(notify, path, UInt32(IN_MODIFY)) >= 0 else {
            Glibc.close(fd)
            throw BenchError("inotify on \(path): \(String(cString: strerror(errno)))")
        }
        _ = lseek(fd, 0, SEEK_END)  // what was printed before is not looked at
    }

    deinit {
        Glibc.close(fd)
        Glibc.close(notify)
    }

    /// Everything new in the file, split into complete lines.
    private func readNew() {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        var rounds = 0
        while rounds < 1000 {
            rounds += 1
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            partial += chunk[0..<n]
        }
        if let last = partial.lastIndex(of: 0x0A) {
            for line in partial[...last].split(separator: 0x0A) { lines.append(String(decoding: line, as: UTF8.self)) }
            partial.removeSubrange(...last)
        }
        if lines.count > 10_000 { lines.removeFirst(lines.count - 10_000) }
    }

    /// Waits up to `timeout` seconds for a line containing one of `needles`; returns the index of
    /// the needle found and the time it was seen, consuming the lines up to it; nil on timeout.
    func waitFor(_ needles: [String], timeout: Double) -> (index: Int, at: Double)? {
        let deadline = monotonic() + timeout
        var rounds = 0
        while rounds < 1_000_000 {
            rounds += 1
            readNew()
            for (i, line) in lines.enumerated() {
                if let found = needles.firstIndex(where: { line.contains($0) }) {
                    let at = monotonic()
                    lines.removeFirst(i + 1)
                    return (found, at)
                }
            }
            let left = deadline - monotonic()
            if left <= 0 { return nil }
            var p = pollfd(fd: notify, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, Int32(max(1, min(left, 1) * 1000))) > 0 {
                var events = [UInt8](repeating: 0, count: 4096)
                _ = events.withUnsafeMutableBytes { read(notify, $0.baseAddress, $0.count) }
            }
        }
        return nil
    }

    /// The last `count` lines seen (for error messages).
    func tail(_ count: Int) -> String {
        readNew()
        return lines.suffix(count).joined(separator: "\n")
    }
}

// MARK: - dialtoned's control socket

/// One request on <run-dir>/control.sock, as `dialtone` sends it: a JSON line out, a JSON line back.
func controlRequest(_ socketPath: String, _ members: [(key: String, value: JSONValue)], timeout: Double) throws(BenchError) -> JSONValue {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw BenchError("socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let capacity = MemoryLayout.size(ofValue: address.sun_path)
    guard socketPath.utf8.count < capacity else { throw BenchError("control socket path too long: \(socketPath)") }
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        for (i, b) in socketPath.utf8.enumerated() { raw[i] = b }
    }
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
    }
    guard connected == 0 else { throw BenchError("connect \(socketPath): \(String(cString: strerror(errno)))") }
    let request = JSONValue.object(members).serialized() + [0x0A]
    var offset = 0
    var rounds = 0
    while offset < request.count && rounds < 1000 {
        rounds += 1
        let n = request[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { throw BenchError("send to the control socket: \(String(cString: strerror(errno)))") }
        offset += n
    }
    var reply: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    let deadline = monotonic() + timeout
    while reply.count < (1 << 20) {
        if reply.last == 0x0A { break }
        let left = deadline - monotonic()
        guard left > 0 else { throw BenchError("no reply from dialtoned within \(timeout) s") }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&p, 1, Int32(max(1, left * 1000)))
        if ready < 0 && errno == EINTR { continue }
        guard ready > 0 else { continue }
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { break }
        reply += chunk[0..<n]
    }
    while reply.last == 0x0A || reply.last == 0x0D { reply.removeLast() }
    guard let json = JSONValue.parse(reply) else { throw BenchError("dialtoned's reply is not JSON: \(String(decoding: reply, as: UTF8.self))") }
    return json
}

// MARK: - Figures

struct SideResult {
    var name: String
    var calls: Int
    var before: ProcessSample
    var after: ProcessSample
    var setupMs: [Double]
    var windowSeconds: Double
    var idleMicrosPerSecond: Double

    var cpuMicrosPerCall: Double {
        Double(after.ticks - before.ticks) * 1e6 / Double(ProcessSample.ticksPerSecond) / Double(calls)
    }
    /// Share of the CPU time spent in the kernel, percent.
    var systemPercent: Double {
        let total = after.ticks - before.ticks
        return total > 0 ? Double(after.systemTicks - before.systemTicks) * 100 / Double(total) : 0
    }
    var liveThreadsMicrosPerCall: Double { Double(after.liveThreadsNs - before.liveThreadsNs) / 1e3 / Double(calls) }
    var median: Double { percentile(setupMs, 0.5) }
    var p90: Double { percentile(setupMs, 0.9) }
}

/// Nearest-rank percentile (the median of an even count is the mean of the two middle values).
func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    if p == 0.5 {
        let n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
    let rank = Int((p * Double(sorted.count)).rounded(.up))
    return sorted[min(max(rank, 1), sorted.count) - 1]
}

func fixed(_ value: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = String(Int(rounded.rounded(.towardZero)))
    if rounded < 0 && Int(rounded.rounded(.towardZero)) == 0 { text = "-0" }
    guard digits > 0 else { return String(Int(rounded)) }
    let fraction = Int((abs(rounded) * scale).rounded()) % Int(scale)
    var digitsText = String(fraction)
    while digitsText.count < digits { digitsText = "0" + digitsText }
    return text + "." + digitsText
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}

/// CPU of `pid` while nothing happens for `seconds`, in µs per second (schedstat of its live
/// threads: an idle process rarely crosses a clock tick in a few seconds).
func idleCPU(_ pid: pid_t, seconds: Double) -> Double {
    guard let a = ProcessSample.take(pid) else { return 0 }
    let start = monotonic()
    sleepSeconds(seconds)
    guard let b = ProcessSample.take(pid) else { return 0 }
    let elapsed = monotonic() - start
    return Double(b.liveThreadsNs - a.liveThreadsNs) / 1e3 / elapsed
}

// MARK: - The sides

final class Ours {
    let process: BackgroundProcess
    let pid: pid_t
    let runDirectory: String
    let log: LogFollower
    let options: Options
    let target: String
    private let directory: TemporaryDirectory

    init(dialtoned: String, ispPort: UInt16, target: String, options: Options) throws {
        self.options = options
        self.target = target
        directory = try TemporaryDirectory(prefix: "bench-ua-call-setup-d-")
        runDirectory = directory.path + "/run"
        let port = UDPProbe.freePort()
        let voice = "{\"SIP\": {\"Network\": [{\"Alias\": \"isp\", \"Enable\": true, \"ProxyServer\": \"127.0.0.1\", "
            + "\"ProxyServerPort\": \(ispPort), \"ServerDomain\": \"isp.test\", \"RegisterExpires\": 3600, \"RegisterRetryInterval\": 5}],\n"
            + "\"Client\": [{\"Alias\": \"line1\", \"Enable\": true, \"Network\": \"isp\", \"AuthUserName\": \"alice\", "
            + "\"AuthPassword\": \"alice-pw\", \"RegisterURI\": \"sip:alice@isp.test\"}]}}"
        let config = "{\"sip\": {\"listen\": [\"udp:127.0.0.1:\(port)\"]},\n\"VoiceService\": \(voice)}\n"
        let configPath = try directory.write("dialtoned.json", Array(config.utf8))
        var argv = [dialtoned, "--config", configPath, "--run-dir", runDirectory]
        if let out = options.callgrind {
            guard let valgrind = which("valgrind") else { throw BenchError("valgrind is not installed") }
            argv = [valgrind, "--tool=callgrind", "--callgrind-out-file=" + out] + argv
        }
        process = try BackgroundProcess(argv[0], Array(argv.dropFirst()))
        pid = process.pid
        guard process.waitForOutput("ready", timeout: options.callgrind == nil ? 30 : 120) else {
            let output = process.output
            process.stop()
            directory.remove()
            throw BenchError("dialtoned did not start: \(output.suffix(3000))")
        }
        log = try LogFollower(path: process.outputPath)
    }

    deinit { stop() }

    func stop() {
        // SIGTERM (dialtoned unregisters; callgrind writes its file), killed after the bound.
        process.terminate(signal: SIGTERM, timeout: options.callgrind == nil ? 10 : 60)
        directory.remove()
    }

    func lineStatus() -> String? {
        guard let bytes = try? AtomicFile.read(runDirectory + "/status.json", maxBytes: 1 << 20),
              let document = JSONValue.parse(bytes), case .array(let lines)? = document["lines"] else { return nil }
        return lines.first { $0["Alias"]?.stringValue == "line1" }?["Status"]?.stringValue
    }

    func waitUntilRegistered(timeout: Double) -> Bool {
        let deadline = monotonic() + timeout
        while monotonic() < deadline {
            if lineStatus() == "Up" { return true }
            if process.hasExited { return false }
            usleep(20_000)
        }
        return false
    }

    /// One call: placed, established, hung up, ended. Returns the set-up wall time in ms.
    func call() throws(BenchError) -> Double {
        let socketPath = runDirectory + "/control.sock"
        let t0 = monotonic()
        let reply = try controlRequest(socketPath, [(key: "command", value: .string("call")), (key: "line", value: .string("line1")),
                                                    (key: "to", value: .string(target))], timeout: options.stepTimeout)
        guard reply["ok"] == .bool(true), let id = reply["call"]?["id"]?.intValue else {
            throw BenchError("dialtoned refused the call: \(reply.text())")
        }
        guard let established = log.waitFor(["call \(id): established", "call \(id): ended"], timeout: options.stepTimeout) else {
            throw BenchError("call \(id) not established within \(options.stepTimeout) s:\n\(log.tail(20))")
        }
        guard established.index == 0 else { throw BenchError("call \(id) ended before it was established:\n\(log.tail(20))") }
        let setup = (established.at - t0) * 1000
        let hangup = try controlRequest(socketPath, [(key: "command", value: .string("hangup")), (key: "line", value: .string("line1"))],
                                        timeout: options.stepTimeout)
        guard hangup["ok"] == .bool(true) else { throw BenchError("dialtoned refused the hangup of call \(id): \(hangup.text())") }
        guard log.waitFor(["call \(id): ended"], timeout: options.stepTimeout) != nil else {
            throw BenchError("call \(id) not ended within \(options.stepTimeout) s of the hangup:\n\(log.tail(20))")
        }
        return setup
    }
}

/// A ctrl_tcp connection of this harness's own to baresip (netstring-framed JSON, as the test kit's
/// `Baresip` speaks it). baresip writes each event and reply as its own small segment without
/// TCP_NODELAY, so a reader that delays its ACKs (Linux does, 40 ms, once a connection looks
/// interactive) holds back every segment that follows an unacknowledged one: CALL_ESTABLISHED then
/// reaches the reader about 40 ms late. This connection re-arms TCP_QUICKACK after every read, so
/// events arrive when baresip sends them; each message is stamped with the time it was read.
/// ctrl_tcp serves one connection: opening this one closes the `Baresip` object's own, which is
/// used only up to the registration.
final class BaresipControl {
    struct Message {
        var isEvent: Bool
        var type: String
        var token: String?
        var ok: Bool
        var data: String
        var at: Double
    }

    private var fd: Int32
    private var inbox: [UInt8] = []
    private var pending: [Message] = []
    private var nextToken = 0

    init(port: UInt16, timeout: Double) throws(BenchError) {
        let deadline = monotonic() + timeout
        var attempts = 0
        while true {
            attempts += 1
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw BenchError("socket: \(String(cString: strerror(errno)))") }
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = port.bigEndian
            a.sin_addr.s_addr = inet_addr("127.0.0.1")
            let rc = withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if rc == 0 {
                self.fd = fd
                var one: Int32 = 1
                _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                quickAck()
                return
            }
            close(fd)
            if monotonic() >= deadline || attempts >= 100 { throw BenchError("cannot connect to baresip's ctrl_tcp on port \(port)") }
            usleep(20_000)
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    private func quickAck() {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), 12 /* TCP_QUICKACK */, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Sends a command; its token (the reply is matched by it).
    func send(_ command: String, _ parameters: String = "") throws(BenchError) -> String {
        nextToken += 1
        let token = "bench-" + String(nextToken)
        let body = JSONValue.object([(key: "command", value: .string(command)), (key: "params", value: .string(parameters)),
                                     (key: "token", value: .string(token))]).serialized()
        let frame = Array(String(body.count).utf8) + [UInt8(ascii: ":")] + body + [UInt8(ascii: ",")]
        var offset = 0
        var rounds = 0
        while offset < frame.count && rounds < 1000 {
            rounds += 1
            let n = frame[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw BenchError("ctrl_tcp send: \(String(cString: strerror(errno)))") }
            offset += n
        }
        return token
    }

    /// The first message (read or waiting) satisfying `match`, taken; nil after `timeout` seconds.
    func wait(timeout: Double, _ match: (Message) -> Bool) throws(BenchError) -> Message? {
        let deadline = monotonic() + timeout
        var rounds = 0
        while rounds < 1_000_000 {
            rounds += 1
            if let i = pending.firstIndex(where: match) { return pending.remove(at: i) }
            let left = deadline - monotonic()
            if left <= 0 { return nil }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, Int32(max(1, min(left, 1) * 1000)))
            if ready < 0 && errno != EINTR { throw BenchError("ctrl_tcp poll: \(String(cString: strerror(errno)))") }
            guard ready > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            let at = monotonic()
            quickAck()
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw BenchError("baresip closed its ctrl_tcp connection") }
            inbox += chunk[0..<n]
            try parse(at: at)
        }
        return nil
    }

    /// Forgets the messages nobody waited for (the events every call brings).
    func clear() { pending.removeAll() }

    private func parse(at: Double) throws(BenchError) {
        var start = 0
        var rounds = 0
        while start < inbox.count && rounds < 100_000 {
            rounds += 1
            guard let colon = inbox[start...].prefix(8).firstIndex(of: UInt8(ascii: ":")) else {
                if inbox.count - start >= 8 { throw BenchError("ctrl_tcp: bad netstring") }
                break
            }
            guard colon > start, let length = Int(String(decoding: inbox[start..<colon], as: UTF8.self)),
                  length >= 0, length <= 1 << 20 else { throw BenchError("ctrl_tcp: bad netstring length") }
            let end = colon + 1 + length
            guard end < inbox.count else { break }
            guard inbox[end] == UInt8(ascii: ",") else { throw BenchError("ctrl_tcp: netstring without its comma") }
            if let json = JSONValue.parse(Array(inbox[(colon + 1)..<end])) {
                let isEvent = json["event"] == .bool(true)
                if !(isEvent && json["type"]?.stringValue == "CALL_RTCP") {
                    pending.append(Message(isEvent: isEvent, type: json["type"]?.stringValue ?? "", token: json["token"]?.stringValue,
                                           ok: json["ok"] == .bool(true), data: json["data"]?.stringValue ?? json["param"]?.stringValue ?? "",
                                           at: at))
                    if pending.count > 4096 { pending.removeFirst(pending.count - 4096) }
                }
            }
            start = end + 1
        }
        if start > 0 { inbox.removeFirst(min(start, inbox.count)) }
    }
}

final class Peer {
    let baresip: Baresip
    let target: String
    let options: Options
    private var control: BaresipControl? = nil

    init(ispPort: UInt16, target: String, options: Options) throws {
        self.target = target
        self.options = options
        // aufile reads the whole WAV at every call: 2 s (32 kB) outlasts each call by far.
        let account = Baresip.Account(aor: "sip:carol@127.0.0.1:\(ispPort)", password: "carol-pw", answerMode: .manual,
                                      registrationInterval: 3600)
        baresip = try Baresip(accounts: [account], audioSeconds: 2)
    }

    /// REGISTER_OK or REGISTER_FAIL (through the test kit's connection), then this harness's own.
    func waitUntilRegistered(timeout: Double) throws(BenchError) -> String? {
        let outcome = baresip.waitForEvent(["REGISTER_OK", "REGISTER_FAIL"], timeout: timeout)?.type
        if outcome == "REGISTER_OK" { control = try BaresipControl(port: baresip.controlPort, timeout: 5) }
        return outcome
    }

    func call() throws(BenchError) -> Double {
        guard let control else { throw BenchError("baresip is not registered") }
        let step = options.stepTimeout
        let t0 = monotonic()
        let token = try control.send("dial", target)
        guard let reply = try control.wait(timeout: step, { !$0.isEvent && $0.token == token }) else {
            throw BenchError("baresip did not answer dial within \(step) s")
        }
        guard reply.ok else { throw BenchError("baresip refused to dial: \(reply.data)") }
        guard let event = try control.wait(timeout: step, { $0.isEvent && ($0.type == "CALL_ESTABLISHED" || $0.type == "CALL_CLOSED") }) else {
            throw BenchError("baresip's call not established within \(step) s")
        }
        guard event.type == "CALL_ESTABLISHED" else { throw BenchError("baresip's call closed before it was established: \(event.data)") }
        let hangup = try control.send("hangup")
        guard let hungUp = try control.wait(timeout: step, { !$0.isEvent && $0.token == hangup }) else {
            throw BenchError("baresip did not answer hangup within \(step) s")
        }
        guard hungUp.ok else { throw BenchError("baresip refused to hang up: \(hungUp.data)") }
        guard try control.wait(timeout: step, { $0.isEvent && $0.type == "CALL_CLOSED" }) != nil else {
            throw BenchError("baresip's call not closed within \(step) s of the hangup")
        }
        control.clear()
        return (event.at - t0) * 1000
    }
}

/// Runs `warmup` unmeasured calls, then `calls` measured ones; samples the process around them.
func measure(_ name: String, pid: pid_t, calls: Int, warmup: Int, idle: Double,
             around: (Bool) -> Void = { _ in }, call: () throws(BenchError) -> Double) throws(BenchError) -> SideResult {
    let idleRate = idleCPU(pid, seconds: idle)
    for _ in 0..<warmup { _ = try call() }
    around(true)
    guard let before = ProcessSample.take(pid) else { throw BenchError("\(name) is gone") }
    let start = monotonic()
    var setups: [Double] = []
    setups.reserveCapacity(calls)
    for _ in 0..<calls { setups.append(try call()) }
    let window = monotonic() - start
    guard let after = ProcessSample.take(pid) else { throw BenchError("\(name) is gone") }
    around(false)
    return SideResult(name: name, calls: calls, before: before, after: after, setupMs: setups, windowSeconds: window,
                      idleMicrosPerSecond: idleRate)
}

// MARK: - SIPp answerer

/// SIPp answering `calls` calls on a free port, started by pid (three attempts, as the test kit's
/// `startListeningSIPp`, but holding the pid here so it is stopped by it on every way out).
final class Answerer {
    let process: BackgroundProcess
    let port: UInt16
    let statistics: String
    private let directory: TemporaryDirectory

    init(calls: Int, timeout: Int) throws {
        guard let sipp = SIPp.executable else { throw BenchError("sipp is not installed (make deps)") }
        directory = try TemporaryDirectory(prefix: "bench-ua-call-setup-s-")
        statistics = directory.path + "/stat.csv"
        var failures: [String] = []
        for _ in 0..<3 {
            let port = UDPProbe.freePort()
            let p = try BackgroundProcess(sipp, [
                "-sf", Fixtures.path("sipp/answer-uas.xml"), "-t", "u1", "-i", "127.0.0.1", "-p", String(port),
                "-m", String(calls), "-nostdin", "-buff_size", "4194304",
                "-timeout", String(timeout), "-timeout_error",
                "-trace_stat", "-stf", statistics, "-fd", "1",
            ])
            if waitUntilBound(udpPort: port, owner: "sipp", timeout: 10) {
                process = p
                self.port = port
                return
            }
            failures.append("port \(port): \(p.output.suffix(500))")
            p.stop()
        }
        directory.remove()
        throw BenchError("SIPp did not listen: \(failures)")
    }

    deinit {
        process.stop()
        directory.remove()
    }

    /// Waits up to `timeout` seconds for SIPp to finish its calls; its final counters.
    func finish(timeout: Double) -> (exited: Bool, stats: [String: String]) {
        let deadline = monotonic() + timeout
        var exited = false
        while monotonic() < deadline {
            if process.hasExited { exited = true; break }
            usleep(20_000)
        }
        process.stop()
        let csv = String(decoding: readFile(statistics) ?? [], as: UTF8.self)
        return (exited, SIPp.parseStatistics(csv))
    }
}

// MARK: - Main

func run(_ options: Options) throws -> Int32 {
    let doOurs = options.only != "peer"
    let doPeer = options.only != "ours"
    guard KamailioISP.executable != nil else { throw BenchError("kamailio is not installed (make deps)") }
    let dialtoned = executable(options.dialtoned, "dialtoned")
    if doOurs && dialtoned == nil { throw BenchError("dialtoned not found (--dialtoned PATH)") }
    let dialtone = executable(options.dialtone, "dialtone")
    if doPeer && Baresip.executable == nil { throw BenchError("baresip is not installed (make deps)") }

    var ispOptions = KamailioISP.Options(role: .proxy, subscribers: [.init("alice", "alice-pw"), .init("carol", "carol-pw")])
    ispOptions.domain = "isp.test"
    let isp = try KamailioISP(ispOptions)
    defer { isp.stop() }
    say("== ISP: Kamailio on udp:127.0.0.1:\(isp.port) (pid \(isp.process.pid)), domain isp.test, subscribers alice, carol")

    let sides = (doOurs ? 1 : 0) + (doPeer ? 1 : 0)
    let perSide = options.calls * (options.linger > 0 ? 2 : 1) + options.warmup
    let sippTimeout = 120 + 3 * options.linger + perSide * sides * (options.callgrind == nil ? 1 : 10)
    let answerer = try Answerer(calls: perSide * sides, timeout: sippTimeout)
    let target = "sip:uas@127.0.0.1:\(answerer.port)"
    say("== answerer: SIPp answer-uas.xml on udp:127.0.0.1:\(answerer.port) (pid \(answerer.process.pid)), -m \(perSide * sides)")

    var ours: Ours? = nil
    var peer: Peer? = nil
    defer {
        ours?.stop()
        peer?.baresip.stop()
    }
    if doOurs, let dialtoned {
        let o = try Ours(dialtoned: dialtoned, ispPort: isp.port, target: target, options: options)
        ours = o
        say("== dialtoned \(options.callgrind == nil ? "" : "(under callgrind) ")pid \(o.pid), line1 = alice@isp.test")
    }
    if doPeer {
        let p = try Peer(ispPort: isp.port, target: target, options: options)
        peer = p
        say("== baresip pid \(p.baresip.process.pid), SIP udp:127.0.0.1:\(p.baresip.sipPort), account carol (AOR sip:carol@127.0.0.1:\(isp.port))")
    }
    if let o = ours, !o.waitUntilRegistered(timeout: options.callgrind == nil ? 15 : 90) {
        throw BenchError("dialtoned's line1 not Up: \(o.lineStatus() ?? "no status") \(o.process.output.suffix(2000))")
    }
    if let p = peer {
        let registered = try p.waitUntilRegistered(timeout: 15)
        guard registered == "REGISTER_OK" else { throw BenchError("baresip not registered: \(registered ?? "timeout") \(p.baresip.historySummary)") }
    }
    let contacts = (try? isp.registrations()) ?? []
    for (user, wanted) in [("alice", doOurs), ("carol", doPeer)] where wanted {
        guard let c = contacts.first(where: { $0.aor.lowercased() == user }) else { throw BenchError("usrloc holds no contact for \(user)") }
        say("   registered at the ISP: \(c.aor) -> \(c.contact)")
    }
    say("== \(options.warmup) warm-up + \(options.calls) measured calls per side, one after another, to \(target)")

    var results: [SideResult] = []
    if let o = ours {
        let started = monotonic()
        let callgrindControl = options.callgrind == nil ? nil : which("callgrind_control")
        let r = try measure("dialtoned", pid: o.pid, calls: options.calls, warmup: options.warmup, idle: 2, around: { starting in
            guard let tool = callgrindControl else { return }
            let result = try? runProcess(tool, [starting ? "-z" : "-d", String(o.pid)], timeout: 60)
            say("   callgrind_control \(starting ? "-z" : "-d"): \(result.map { $0.stdoutText + $0.stderrText } ?? "failed")".split(separator: "\n").joined(separator: " | "))
        }, call: { () throws(BenchError) -> Double in try o.call() })
        results.append(r)
        say("   dialtoned: done in \(fixed(monotonic() - started, 1)) s")
        if let dialtone {
            let listed = try? runProcess(dialtone, ["calls", "--run-dir", o.runDirectory, "--json"], timeout: 20)
            let reply = listed.flatMap { JSONValue.parse($0.stdoutText.split(separator: "\n").first.map(String.init) ?? "") }
            if case .array(let calls)? = reply?["calls"] {
                let open = calls.filter { $0["state"]?.stringValue != "ended" }
                say("   dialtone calls: \(calls.count) listed, \(open.count) not ended")
                if !open.isEmpty { throw BenchError("calls left open: \(reply?.text() ?? "")") }
            } else {
                say("   dialtone calls: no answer (\(listed.map { $0.stdoutText + $0.stderrText } ?? "not run"))")
            }
        }
    }
    if let p = peer {
        let started = monotonic()
        let r = try measure("baresip", pid: p.baresip.process.pid, calls: options.calls, warmup: options.warmup, idle: 2,
                            call: { () throws(BenchError) -> Double in try p.call() })
        results.append(r)
        say("   baresip: done in \(fixed(monotonic() - started, 1)) s")
    }

    if options.linger > 0 {
        // Retained state or a leak? RSS after S idle seconds, then after N more calls and S more seconds.
        func rssLine() -> String {
            var parts: [String] = []
            if let o = ours { parts.append("dialtoned \(ProcessSample.rss(o.pid)) kB") }
            if let p = peer { parts.append("baresip \(ProcessSample.rss(p.baresip.process.pid)) kB") }
            return parts.joined(separator: ", ")
        }
        sleepSeconds(Double(options.linger))
        say("   VmRSS \(options.linger) s after the calls: " + rssLine())
        for _ in 0..<options.calls {
            if let o = ours { _ = try o.call() }
            if let p = peer { _ = try p.call() }
        }
        sleepSeconds(Double(options.linger))
        say("   VmRSS after \(options.calls) more calls per side and \(options.linger) s: " + rssLine())
    }
    let (exited, stats) = answerer.finish(timeout: 15)
    let ok = Int(stats["SuccessfulCall(C)"] ?? "") ?? -1
    let failed = Int(stats["FailedCall(C)"] ?? "") ?? -1
    let retrans = stats["Retransmissions(C)"] ?? "?"
    say("   SIPp answerer: \(exited ? "exited" : "stopped") with \(ok) successful, \(failed) failed calls, \(retrans) retransmissions")
    var status: Int32 = 0
    if ok != perSide * sides || failed != 0 {
        say("bench-ua-call-setup: the answerer did not complete every call", fd: 2)
        status = 1
    }

    say("")
    say("per side: \(options.calls) calls (after \(options.warmup) warm-up), INVITE -> 180 -> 200 -> ACK, then BYE -> 200, straight to the SIPp answerer")
    say(pad("", 10) + pad("CPU µs/call", 13) + pad("ticks", 7) + pad("sys %", 7) + pad("live thr. µs/call", 19) + pad("set-up ms med", 15) + pad("p90", 8)
        + pad("max", 8) + pad("RSS kB before", 15) + pad("after", 8) + pad("idle µs/s", 11) + pad("wall s", 8))
    for r in results {
        say(pad(r.name, 10) + pad(fixed(r.cpuMicrosPerCall, 0), 13) + pad(String(r.after.ticks - r.before.ticks), 7) + pad(fixed(r.systemPercent, 0), 7)
            + pad(fixed(r.liveThreadsMicrosPerCall, 0), 19) + pad(fixed(r.median, 2), 15) + pad(fixed(r.p90, 2), 8)
            + pad(fixed(r.setupMs.max() ?? 0, 2), 8) + pad(String(r.before.rssKB), 15) + pad(String(r.after.rssKB), 8)
            + pad(fixed(r.idleMicrosPerSecond, 0), 11) + pad(fixed(r.windowSeconds, 1), 8))
    }
    say("CPU: utime+stime from /proc/PID/stat over the measured calls (1 tick = \(1_000_000 / ProcessSample.ticksPerSecond) µs: "
        + "±\(fixed(1e6 / Double(ProcessSample.ticksPerSecond) / Double(options.calls), 0)) µs/call over \(options.calls) calls);")
    say("sys %: the stime share of those ticks (as coarse as they are);")
    say("live thr.: schedstat of the threads alive at both samples (misses threads that ended, e.g. baresip's per-call audio threads).")
    say("Set-up: command sent -> established seen by this harness (dialtoned: its log line via inotify; baresip: CALL_ESTABLISHED on ctrl_tcp).")
    let oursFigure = results.first { $0.name == "dialtoned" }
    let peerFigure = results.first { $0.name == "baresip" }
    if let o = oursFigure, let p = peerFigure {
        let ratio = p.cpuMicrosPerCall > 0 ? fixed(o.cpuMicrosPerCall / p.cpuMicrosPerCall, 2) : "inf"
        say("bench-ua-call-setup: set-up ms median ours=\(fixed(o.median, 2)) peer=\(fixed(p.median, 2)) ratio=\(p.median > 0 ? fixed(o.median / p.median, 2) : "inf")")
        say("bench-ua-call-setup: ours=\(fixed(o.cpuMicrosPerCall, 0)) peer=\(fixed(p.cpuMicrosPerCall, 0)) ratio=\(ratio)")
    } else {
        let o = oursFigure.map { fixed($0.cpuMicrosPerCall, 0) } ?? "n/a"
        let p = peerFigure.map { fixed($0.cpuMicrosPerCall, 0) } ?? "n/a"
        say("bench-ua-call-setup: ours=\(o) peer=\(p) ratio=n/a")
    }
    return status
}

let options = Options.parse(Array(CommandLine.arguments.dropFirst()))
let status: Int32
do {
    status = try run(options)
} catch {
    say("bench-ua-call-setup: \(error)", fd: 2)
    status = 1
}
exit(status)
