#if canImport(Glibc)
import Glibc
#endif
import Config
import SIPEndpoint
import SIPTransaction

/// One command of the control channel, checked: `command` is one of `ControlRequest.commands`,
/// `line` is a line's Alias (required except for "calls", where it is an optional filter), `to` is
/// the target of "call" (required there, refused elsewhere).
struct ControlRequest: Equatable {
    let command: String
    let line: String?
    let to: String?

    /// The commands the control channel knows.
    static let commands = ["call", "answer", "hangup", "hold", "resume", "calls"]
    /// Longest `to` accepted, octets.
    static let maxTargetLength = 1024

    /// Reads one request object. The error is the text of the `error` member of the reply.
    static func parse(_ line: [UInt8]) -> Result<ControlRequest, ControlRequestError> {
        guard let json = JSONValue.parse(line) else { return .failure(ControlRequestError("the request is not a JSON text")) }
        guard case .object(let members) = json else { return .failure(ControlRequestError("the request is not a JSON object")) }
        for member in members where !["command", "line", "to"].contains(member.key) {
            return .failure(ControlRequestError("unknown member \(quoted(member.key))"))
        }
        if Set(members.map(\.key)).count != members.count {
            return .failure(ControlRequestError("a member appears twice"))
        }
        guard let commandValue = json["command"] else { return .failure(ControlRequestError("\"command\" is missing")) }
        guard let command = commandValue.stringValue else { return .failure(ControlRequestError("\"command\" is not a string")) }
        guard commands.contains(command) else {
            return .failure(ControlRequestError("unknown command \(quoted(command)) (known: \(commands.joined(separator: ", ")))"))
        }
        var line: String? = nil
        if let value = json["line"] {
            guard let text = value.stringValue else { return .failure(ControlRequestError("\"line\" is not a string")) }
            guard isAlias(text) else {
                return .failure(ControlRequestError("\"line\" \(quoted(text)) is not a line Alias (1-64 letters, digits, '-' or '_', starting with a letter)"))
            }
            line = text
        } else if command != "calls" {
            return .failure(ControlRequestError("\"line\" is missing (the Alias of the line)"))
        }
        var to: String? = nil
        if let value = json["to"] {
            guard command == "call" else { return .failure(ControlRequestError("\"to\" is only for \"call\"")) }
            guard let text = value.stringValue else { return .failure(ControlRequestError("\"to\" is not a string")) }
            let octets = Array(text.utf8)
            guard !octets.isEmpty else { return .failure(ControlRequestError("\"to\" is empty")) }
            guard octets.count <= maxTargetLength else {
                return .failure(ControlRequestError("\"to\" is longer than \(maxTargetLength) octets"))
            }
            guard octets.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else {
                return .failure(ControlRequestError("\"to\" holds white space or control characters"))
            }
            to = text
        } else if command == "call" {
            return .failure(ControlRequestError("\"to\" is missing (the SIP URI to call)"))
        }
        return .success(ControlRequest(command: command, line: line, to: to))
    }

    /// The config's Alias rule (TR-106 string(64) starting with a letter; letters, digits, `-`, `_`).
    static func isAlias(_ text: String) -> Bool {
        let b = Array(text.utf8)
        func alpha(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
        func digit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        guard let first = b.first, alpha(first), b.count <= 64 else { return false }
        return b.allSatisfy { alpha($0) || digit($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    /// `"text"` for an error message, cut to 64 characters (the reply escapes it as JSON).
    static func quoted(_ text: String) -> String {
        let cut = text.unicodeScalars.count > 64 ? String(String.UnicodeScalarView(text.unicodeScalars.prefix(64))) + "…" : text
        return "\"" + cut + "\""
    }
}

struct ControlRequestError: Error, Equatable {
    let message: String
    init(_ message: String) { self.message = message }
}

/// The replies of the control channel: one JSON object with `ok` first.
enum ControlReply {
    /// `{"ok": false, "error": message}`
    static func failure(_ message: String) -> JSONValue {
        .object([(key: "ok", value: .bool(false)), (key: "error", value: .string(message))])
    }

    /// `{"ok": true, …members}`
    static func success(_ members: [(key: String, value: JSONValue)] = []) -> JSONValue {
        .object([(key: "ok", value: .bool(true))] + members)
    }
}

/// The local control channel of dialtoned (`dialtone call`, `answer`, `hangup`, `hold`, `resume`,
/// `calls`): a Unix stream socket `<run-dir>/control.sock`, mode 0660, served on the endpoint's
/// signalling thread (`SIPEndpoint.watch`/`schedule`, no thread of its own).
///
/// Protocol: the client sends one request line (a JSON object, at most `maxRequestBytes` octets
/// before the `\n`; end of stream also ends it), the daemon answers one line of JSON and closes.
/// A request that does not parse or check (`ControlRequest.parse`) is answered
/// `{"ok": false, "error": "…"}` without asking `handler`.
///
/// Bounds: at most `maxClients` connections at once (more are accepted, told so in one error line
/// and closed); the request line must be complete within `requestTimeout` of the connection (a
/// slow or silent client is told so and closed); a longer line gets an error and is closed; the
/// reply is written without blocking (retried every 20 ms while the socket is full, abandoned after
/// `requestTimeout`). SIGPIPE is ignored by the daemon (`SignalPipe`) and writes use MSG_NOSIGNAL.
final class ControlSocket {
    static let fileName = "control.sock"
    static let maxRequestBytes = 4096
    static let maxClients = 16
    static let requestTimeout: Duration = .seconds(2)
    /// Connections accepted per wake-up (the rest wait in the backlog for the next turn).
    static let acceptBudget = 64
    /// Octets read and thrown away after the reply, so that the kernel does not turn unread input
    /// into a reset the client sees instead of the end of the reply.
    static let drainLimit = 65_536

    let path: String
    /// Answers a checked request; dialtoned sets it (`LineService.control`).
    var handler: (ControlRequest) -> JSONValue
    private let fd: Int32
    private unowned let endpoint: SIPEndpoint
    private let log: (String) -> Void
    private var listenWatch: EndpointTaskID?
    private var rewatchTask: EndpointTaskID?
    private var clients: [UInt64: Client] = [:]
    private var nextClientID: UInt64 = 1
    /// The file bind made (device, inode), so `stop` removes only our own socket.
    private var boundFile: (dev: UInt, ino: UInt)?
    private var stopped = false

    private final class Client {
        let fd: Int32
        var buffer: [UInt8] = []
        var watch: EndpointTaskID?
        var timer: EndpointTaskID?
        var output: [UInt8] = []
        var written = 0
        var writeDeadline = Instant.zero
        init(fd: Int32) { self.fd = fd }
    }

    /// Listens on `<directory>/control.sock`, replacing what is there (a stale socket of an earlier
    /// run) atomically: the socket is bound under a temporary name, given mode 0660, listening, and
    /// then renamed over the path.
    init(directory: String, endpoint: SIPEndpoint, log: @escaping (String) -> Void,
         handler: @escaping (ControlRequest) -> JSONValue) throws(EndpointError) {
        path = directory + "/" + Self.fileName
        let temporary = directory + "/." + Self.fileName + "." + String(getpid())
        self.endpoint = endpoint
        self.log = log
        self.handler = handler
        var address = sockaddr_un()
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard temporary.utf8.count < capacity else {
            throw EndpointError("control socket \(path): the path is longer than \(capacity - 16) octets")
        }
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw EndpointError("control socket: socket: \(Self.errnoText())") }
        var failure: String? = nil
        defer { if failure != nil { close(fd); _ = unlink(temporary) } }
        _ = unlink(temporary)
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in temporary.utf8.enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if bound != 0 { failure = "bind \(temporary): \(Self.errnoText())" }
        // Before listen(2) nobody can connect, so the mode is right before anyone can.
        else if chmod(temporary, 0o660) != 0 { failure = "chmod \(temporary): \(Self.errnoText())" }
        else if listen(fd, 64) != 0 { failure = "listen: \(Self.errnoText())" }
        else {
            var existing = stat()
            if lstat(path, &existing) == 0 {
                if (existing.st_mode & S_IFMT) == S_IFDIR {
                    failure = "\(path) is a directory"
                } else {
                    log("control socket: replacing the stale \(path)")
                }
            }
            if failure == nil, rename(temporary, path) != 0 { failure = "rename to \(path): \(Self.errnoText())" }
        }
        if let failure { throw EndpointError("control socket: \(failure)") }
        var made = stat()
        if lstat(path, &made) == 0 { boundFile = (UInt(made.st_dev), UInt(made.st_ino)) }
        listenWatch = endpoint.watch(fd) { [weak self] in self?.acceptClients() }
        log("control socket: listening on \(path)")
    }

    /// Without `stop` (which needs the endpoint): at least no descriptor is left open.
    deinit {
        guard !stopped else { return }
        for client in clients.values { close(client.fd) }
        close(fd)
    }

    /// Closes every client and the socket and removes the socket file (when it is still ours).
    func stop() {
        guard !stopped else { return }
        stopped = true
        if let listenWatch { endpoint.unwatch(listenWatch) }
        if let rewatchTask { endpoint.cancelScheduled(rewatchTask) }
        for id in Array(clients.keys) { finish(id, drain: false) }
        close(fd)
        var now = stat()
        if let boundFile, lstat(path, &now) == 0, UInt(now.st_dev) == boundFile.dev, UInt(now.st_ino) == boundFile.ino {
            _ = unlink(path)
        }
    }

    // MARK: Connections

    private func acceptClients() {
        for _ in 0..<Self.acceptBudget {
            let cfd = accept(fd, nil, nil)
            if cfd < 0 {
                switch errno {
                case EINTR, ECONNABORTED: continue
                case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                    // Out of descriptors: the listener stays readable, so stop watching it for a
                    // moment instead of waking the loop over and over.
                    log("control socket: accept: \(Self.errnoText()); pausing for 100 ms")
                    pauseAccepting()
                    return
                default: return
                }
            }
            _ = fcntl(cfd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(cfd, F_SETFL, fcntl(cfd, F_GETFL) | O_NONBLOCK)
            guard clients.count < Self.maxClients else {
                let line = ControlReply.failure("too many control clients (at most \(Self.maxClients) at once); try again")
                let bytes = line.serialized() + [0x0A]
                _ = bytes.withUnsafeBytes { send(cfd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
                Self.drain(cfd)
                close(cfd)
                continue
            }
            let id = nextClientID
            nextClientID += 1
            let client = Client(fd: cfd)
            clients[id] = client
            client.watch = endpoint.watch(cfd) { [weak self] in self?.readable(id) }
            client.timer = endpoint.schedule(at: endpoint.currentTime + Self.requestTimeout) { [weak self] in
                guard let self, let client = self.clients[id] else { return }
                client.timer = nil
                self.respond(id, ControlReply.failure("no complete request line within \(Self.requestTimeout.components.seconds) s"))
            }
        }
    }

    private func pauseAccepting() {
        guard let listenWatch else { return }
        endpoint.unwatch(listenWatch)
        self.listenWatch = nil
        rewatchTask = endpoint.schedule(at: endpoint.currentTime + .milliseconds(100)) { [weak self] in
            guard let self, !self.stopped else { return }
            self.rewatchTask = nil
            self.listenWatch = self.endpoint.watch(self.fd) { [weak self] in self?.acceptClients() }
        }
    }

    /// Reads what is waiting, up to one octet past the longest line.
    private func readable(_ id: UInt64) {
        guard let client = clients[id] else { return }
        var chunk = [UInt8](repeating: 0, count: Self.maxRequestBytes + 1)
        for _ in 0..<4 {
            let room = Self.maxRequestBytes + 1 - client.buffer.count
            let n = chunk.withUnsafeMutableBytes { recv(client.fd, $0.baseAddress, room, Int32(MSG_DONTWAIT)) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return }
                finish(id, drain: false)
                return
            }
            if n == 0 {
                // End of stream: what came is the request, if anything did.
                if client.buffer.isEmpty { finish(id, drain: false) } else { answer(id, line: client.buffer) }
                return
            }
            let start = client.buffer.count
            client.buffer.append(contentsOf: chunk[0..<n])
            if let newline = client.buffer[start...].firstIndex(of: 0x0A) {
                answer(id, line: Array(client.buffer[..<newline]))
                return
            }
            if client.buffer.count > Self.maxRequestBytes {
                respond(id, ControlReply.failure("the request line is longer than \(Self.maxRequestBytes) octets"))
                return
            }
        }
    }

    private func answer(_ id: UInt64, line: [UInt8]) {
        var line = line
        if line.last == 0x0D { line.removeLast() }
        let reply: JSONValue
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
            reply = ControlReply.failure("empty request")
        } else {
            switch ControlRequest.parse(line) {
            case .success(let request): reply = handler(request)
            case .failure(let error): reply = ControlReply.failure(error.message)
            }
        }
        respond(id, reply)
    }

    /// Stops reading and writes `reply` and a newline.
    private func respond(_ id: UInt64, _ reply: JSONValue) {
        guard let client = clients[id] else { return }
        if let watch = client.watch { endpoint.unwatch(watch); client.watch = nil }
        if let timer = client.timer { endpoint.cancelScheduled(timer); client.timer = nil }
        client.output = reply.serialized() + [0x0A]
        client.written = 0
        client.writeDeadline = endpoint.currentTime + Self.requestTimeout
        flush(id)
    }

    private func flush(_ id: UInt64) {
        guard let client = clients[id] else { return }
        client.timer = nil
        var rounds = 0
        while client.written < client.output.count && rounds < 64 {
            rounds += 1
            let n = client.output[client.written...].withUnsafeBytes {
                send(client.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            if n > 0 { client.written += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && endpoint.currentTime < client.writeDeadline {
                // The client does not read: try again a little later, until the deadline.
                client.timer = endpoint.schedule(at: endpoint.currentTime + .milliseconds(20)) { [weak self] in self?.flush(id) }
                return
            }
            break  // EPIPE, ECONNRESET, the deadline: give up on this client
        }
        finish(id, drain: true)
    }

    private func finish(_ id: UInt64, drain: Bool) {
        guard let client = clients.removeValue(forKey: id) else { return }
        if let watch = client.watch { endpoint.unwatch(watch) }
        if let timer = client.timer { endpoint.cancelScheduled(timer) }
        if drain { Self.drain(client.fd) }
        close(client.fd)
    }

    /// Reads and drops what the client sent beyond its request, without waiting, bounded.
    private static func drain(_ fd: Int32) {
        var scratch = [UInt8](repeating: 0, count: 8192)
        var total = 0
        while total < drainLimit {
            let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            total += n
        }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
