#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import Config

/// What every call command takes: where dialtoned's control socket is, and the output form.
struct ControlOptions: ParsableArguments {
    @Option(help: ArgumentHelp("dialtoned's --run-dir (the control socket is <dir>/control.sock).", valueName: "dir"))
    var runDir: String = "/run/dialtone"

    @Flag(help: "Print dialtoned's reply (one JSON object) as it came.")
    var json = false
}

/// `dialtone call LINE URI`: places a call from a line.
struct CallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Place a call from a line.",
        discussion: ControlClient.discussion
    )

    @Argument(help: "The line's Alias (VoiceService.SIP.Client Alias).")
    var line: String

    @Argument(help: "Whom to call (a SIP URI, e.g. sip:bob@example.net).")
    var uri: String

    @OptionGroup var options: ControlOptions

    func run() throws {
        try ControlClient.run(command: "call", line: line, to: uri, options: options)
    }
}

/// `dialtone answer LINE`
struct AnswerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "answer", abstract: "Answer the call ringing on a line.", discussion: ControlClient.discussion)

    @Argument(help: "The line's Alias.")
    var line: String

    @OptionGroup var options: ControlOptions

    func run() throws { try ControlClient.run(command: "answer", line: line, options: options) }
}

/// `dialtone hangup LINE`
struct HangupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hangup", abstract: "End (or refuse, or cancel) the call on a line.", discussion: ControlClient.discussion)

    @Argument(help: "The line's Alias.")
    var line: String

    @OptionGroup var options: ControlOptions

    func run() throws { try ControlClient.run(command: "hangup", line: line, options: options) }
}

/// `dialtone hold LINE`
struct HoldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold", abstract: "Put the call on a line on hold.", discussion: ControlClient.discussion)

    @Argument(help: "The line's Alias.")
    var line: String

    @OptionGroup var options: ControlOptions

    func run() throws { try ControlClient.run(command: "hold", line: line, options: options) }
}

/// `dialtone resume LINE`
struct ResumeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume", abstract: "Take the call on a line off hold.", discussion: ControlClient.discussion)

    @Argument(help: "The line's Alias.")
    var line: String

    @OptionGroup var options: ControlOptions

    func run() throws { try ControlClient.run(command: "resume", line: line, options: options) }
}

/// `dialtone calls`
struct CallsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calls", abstract: "List the calls in progress.", discussion: ControlClient.discussion)

    @OptionGroup var options: ControlOptions

    func run() throws { try ControlClient.run(command: "calls", options: options) }
}

/// The client side of dialtoned's control socket: one request line out, one reply line back.
enum ControlClient {
    static let discussion = """
        Talks to the running dialtoned through its control socket (<run-dir>/control.sock): one \
        JSON request line, one JSON reply line. Exit status: 0 when dialtoned did it ("ok": true), \
        1 when it refused (the reason is printed), 2 when dialtoned cannot be reached or gave no \
        valid reply within 5 s.
        """
    /// Connect, send and receive together, seconds.
    static let timeout = 5.0
    /// The daemon's limit on a request line (ControlSocket.maxRequestBytes).
    static let maxRequestBytes = 4096
    /// Longest reply read.
    static let maxReplyBytes = 1 << 20

    static func run(command: String, line: String? = nil, to: String? = nil, options: ControlOptions) throws {
        var members: [(key: String, value: JSONValue)] = [(key: "command", value: .string(command))]
        if let line { members.append((key: "line", value: .string(line))) }
        if let to { members.append((key: "to", value: .string(to))) }
        let request = JSONValue.object(members).serialized()
        guard request.count <= maxRequestBytes else {
            throw ValidationError("the request is longer than \(maxRequestBytes) octets; shorten the arguments")
        }
        let path = options.runDir + "/control.sock"
        let reply: JSONValue
        switch exchange(path: path, request: request + [0x0A]) {
        case .success(let r): reply = r
        case .failure(let problem):
            printError("dialtone: cannot reach dialtoned at \(path): \(problem.text)")
            throw ExitCode(2)
        }
        let ok = reply["ok"] == .bool(true)
        if options.json {
            print(reply.text())
        } else if ok {
            printHuman(reply)
        } else {
            printError("dialtone: \(command): \(reply["error"]?.stringValue ?? "refused (\(reply.text()))")")
        }
        if !ok { throw ExitCode(1) }
    }

    /// The reply for people: "ok" when there is nothing else, the calls one per line, other members
    /// as `name: value`.
    static func printHuman(_ reply: JSONValue) {
        let rest = reply.keys.filter { $0 != "ok" }
        if rest.isEmpty { print("ok"); return }
        for key in rest {
            guard let value = reply[key] else { continue }
            if key == "calls", case .array(let calls) = value {
                if calls.isEmpty { print("no calls") }
                for call in calls { print(flat(call)) }
            } else {
                print("\(key): \(flat(value))")
            }
        }
    }

    /// An object as `name=value` pairs in order, a string as itself, anything else as JSON.
    static func flat(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): return s
        case .object(let members):
            return members.map { "\($0.key)=\(flat($0.value))" }.joined(separator: "  ")
        default: return value.text()
        }
    }

    private static func printError(_ text: String) {
        let bytes = Array((text + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            if n < 0 { if errno == EINTR { continue }; return }
            if n == 0 { return }
            offset += n
        }
    }

    struct Problem: Error { let text: String }

    /// Connects (retrying while the daemon's backlog is full), sends `request`, reads one reply line;
    /// all within `timeout`.
    static func exchange(path: String, request: [UInt8]) -> Result<JSONValue, Problem> {
        let deadline = now() + timeout
        var address = sockaddr_un()
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else { return .failure(Problem(text: "the path is longer than \(capacity - 1) octets")) }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(Problem(text: "socket: \(errnoText())")) }
        defer { close(fd) }
        // A Unix stream connect either succeeds at once or fails; EAGAIN means the backlog is full.
        var attempts = 0
        while true {
            attempts += 1
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            if rc == 0 { break }
            if errno == EINTR { continue }
            if errno == EINPROGRESS {
                guard wait(fd, for: Int16(POLLOUT), until: deadline) else { return .failure(Problem(text: "connect: timed out")) }
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                if error != 0 { return .failure(Problem(text: "connect: \(String(cString: strerror(error)))")) }
                break
            }
            if errno == EAGAIN && now() < deadline && attempts < 1000 {
                usleep(5_000)
                continue
            }
            return .failure(Problem(text: errno == ENOENT ? "no control socket (is dialtoned running with this --run-dir?)"
                                                          : "connect: \(errnoText())"))
        }
        var offset = 0
        while offset < request.count {
            let n = request[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 { offset += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                guard wait(fd, for: Int16(POLLOUT), until: deadline) else { return .failure(Problem(text: "send: timed out")) }
                continue
            }
            // The daemon may have answered and closed already (a refusal): read what it said.
            break
        }
        var reply: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while reply.count <= maxReplyBytes {
            if let newline = reply.firstIndex(of: 0x0A) { reply = Array(reply[..<newline]); break }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { reply.append(contentsOf: chunk[0..<n]); continue }
            if n == 0 { break }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK {
                guard wait(fd, for: Int16(POLLIN), until: deadline) else { return .failure(Problem(text: "no reply within \(Int(timeout)) s")) }
                continue
            }
            if reply.isEmpty { return .failure(Problem(text: "recv: \(errnoText())")) }
            break  // a reset after the reply: the reply is what counts
        }
        guard !reply.isEmpty else { return .failure(Problem(text: "dialtoned closed the connection without a reply")) }
        guard reply.count <= maxReplyBytes, let value = JSONValue.parse(reply), case .object = value else {
            return .failure(Problem(text: "the reply is not a JSON object"))
        }
        return .success(value)
    }

    private static func wait(_ fd: Int32, for events: Int16, until deadline: Double) -> Bool {
        while true {
            let left = deadline - now()
            guard left > 0 else { return false }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let r = poll(&p, 1, Int32(min(left * 1000, 1000)) + 1)
            if r > 0 { return true }
            if r < 0 && errno != EINTR { return false }
        }
    }

    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
