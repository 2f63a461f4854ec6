#if canImport(Glibc)
import Glibc
#endif
import DialtoneTestKit
import Testing

/// The control channel between `dialtone` (call, answer, hangup, hold, resume, calls) and the
/// running `dialtoned`: `<run-dir>/control.sock`, one JSON request line, one JSON reply line. The
/// daemon here has a `VoiceService` section without lines, so every request that passes the checks
/// gets the handler's "no lines configured".
@Suite struct ControlSocketTests {
    static let noLines = "no lines configured"

    // MARK: dialtone

    @Test func callCommandsWithoutLines() throws {
        let daemon = try ControlDaemon()
        let calls = try run("dialtone", ["calls", "--run-dir", daemon.runDir], timeout: 20)
        #expect(calls.exitStatus == 1, "exit \(String(describing: calls.exitStatus)): \(calls.stdoutText) \(calls.stderrText)")
        #expect(calls.stderrText.contains(Self.noLines), "\(calls.stderrText)")

        let json = try run("dialtone", ["calls", "--json", "--run-dir", daemon.runDir], timeout: 20)
        #expect(json.exitStatus == 1)
        let lines = JSONValue.parseLines(json.stdout)
        #expect(lines.count == 1, "\(json.stdoutText)")
        let parsed: JSONValue? = lines.first ?? nil
        let reply = try #require(parsed, "not JSON: \(json.stdoutText)")
        #expect(reply == ControlDaemon.failure(Self.noLines), "\(reply.text())")

        let call = try run("dialtone", ["call", "line1", "sip:bob@192.0.2.10", "--run-dir", daemon.runDir], timeout: 20)
        #expect(call.exitStatus == 1)
        #expect(call.stderrText.contains(Self.noLines), "\(call.stderrText)")
        for command in ["answer", "hangup", "hold", "resume"] {
            let r = try run("dialtone", [command, "line1", "--run-dir", daemon.runDir], timeout: 20)
            #expect(r.exitStatus == 1, "\(command): exit \(String(describing: r.exitStatus))")
            #expect(r.stderrText.contains(Self.noLines), "\(command): \(r.stderrText)")
        }
        // Checked before the handler is asked: the handler would have said "no lines configured".
        let bad = try run("dialtone", ["hold", "not an alias!", "--run-dir", daemon.runDir], timeout: 20)
        #expect(bad.exitStatus == 1)
        #expect(bad.stderrText.contains("is not a line Alias"), "\(bad.stderrText)")
        #expect(!bad.stderrText.contains(Self.noLines))
        // A missing argument is a usage error of the command line.
        let usage = try run("dialtone", ["call", "line1", "--run-dir", daemon.runDir], timeout: 20)
        #expect(usage.exitStatus == 64)
        #expect(daemon.isServing(), "dialtoned stopped serving: \(daemon.output)")
    }

    /// Exit 2 when there is no daemon: no socket, a stale socket nobody listens on, no directory.
    @Test func unreachableDaemonExitsTwo() throws {
        let directory = try TemporaryDirectory(prefix: "dialtone-control-")
        defer { directory.remove() }
        let none = try run("dialtone", ["calls", "--run-dir", directory.path], timeout: 20)
        #expect(none.exitStatus == 2, "exit \(String(describing: none.exitStatus))")
        #expect(none.stderrText.contains("cannot reach dialtoned"), "\(none.stderrText)")

        try #require(ControlConnection.leaveStaleSocket(at: directory.path + "/control.sock"))
        let stale = try run("dialtone", ["answer", "line1", "--run-dir", directory.path], timeout: 20)
        #expect(stale.exitStatus == 2, "exit \(String(describing: stale.exitStatus))")
        #expect(stale.stderrText.contains("cannot reach dialtoned"), "\(stale.stderrText)")

        let missing = try run("dialtone", ["calls", "--json", "--run-dir", directory.path + "/nowhere"], timeout: 20)
        #expect(missing.exitStatus == 2)
        #expect(missing.stdout.isEmpty)
    }

    // MARK: The protocol

    /// Every malformed request gets `{"ok": false, "error": …}` naming the fault; well-formed ones
    /// reach the handler.
    @Test func requestsAreChecked() throws {
        let daemon = try ControlDaemon()
        let long65 = String(repeating: "a", count: 65)
        let longTarget = "sip:" + String(repeating: "x", count: 1100) + "@192.0.2.1"
        let cases: [(request: String, error: String)] = [
            ("{\"command\":\"calls\"}", Self.noLines),
            ("{\"command\":\"calls\",\"line\":\"line1\"}", Self.noLines),
            ("{\"command\":\"call\",\"line\":\"line1\",\"to\":\"sip:bob@192.0.2.10\"}", Self.noLines),
            ("{\"command\":\"hangup\",\"line\":\"Line_2-b\"}", Self.noLines),
            ("  {\"line\" : \"line1\", \"command\" : \"resume\"}\r", Self.noLines),
            ("{\"command\":\"dial\",\"line\":\"line1\"}", "unknown command \"dial\""),
            ("{\"command\":\"answer\"}", "\"line\" is missing"),
            ("{\"command\":\"call\",\"line\":\"line1\"}", "\"to\" is missing"),
            ("{\"command\":\"answer\",\"line\":\"line1\",\"to\":\"sip:x@192.0.2.1\"}", "\"to\" is only for \"call\""),
            ("{\"command\":\"answer\",\"line\":\"" + long65 + "\"}", "is not a line Alias"),
            ("{\"command\":\"answer\",\"line\":\"1line\"}", "is not a line Alias"),
            ("{\"command\":\"answer\",\"line\":\"\"}", "is not a line Alias"),
            ("{\"command\":\"call\",\"line\":\"line1\",\"to\":\"" + longTarget + "\"}", "longer than 1024"),
            ("{\"command\":\"call\",\"line\":\"line1\",\"to\":\"sip:a b@192.0.2.1\"}", "white space"),
            ("{\"command\":\"call\",\"line\":\"line1\",\"to\":\"\"}", "\"to\" is empty"),
            ("{\"command\":\"call\",\"line\":\"line1\",\"to\":5}", "\"to\" is not a string"),
            ("{\"command\":7,\"line\":\"line1\"}", "\"command\" is not a string"),
            ("{\"command\":\"hold\",\"line\":null}", "\"line\" is not a string"),
            ("{\"line\":\"line1\"}", "\"command\" is missing"),
            ("{\"command\":\"calls\",\"extra\":1}", "unknown member \"extra\""),
            ("{\"command\":\"calls\",\"command\":\"calls\"}", "twice"),
            ("[1,2,3]", "not a JSON object"),
            ("\"calls\"", "not a JSON object"),
            ("not json", "not a JSON text"),
            ("{\"command\":\"calls\"} trailing", "not a JSON text"),
            ("", "empty request"),
        ]
        for c in cases {
            let reply = try #require(daemon.exchange(Array((c.request + "\n").utf8)), "no reply to \(c.request.prefix(80))")
            #expect(reply.lines.count == 1, "\(c.request.prefix(80)): \(reply.text)")
            #expect(reply.closed, "\(c.request.prefix(80)): the daemon did not close")
            let json = try #require(reply.json, "\(c.request.prefix(80)): not JSON: \(reply.text)")
            #expect(json["ok"] == .bool(false), "\(c.request.prefix(80)): \(reply.text)")
            #expect(json.keys == ["ok", "error"], "\(reply.text)")
            let error = json["error"]?.stringValue ?? ""
            #expect(error.contains(c.error), "\(c.request.prefix(80)): \(error)")
        }
        #expect(daemon.isServing(), "dialtoned stopped serving: \(daemon.output)")
    }

    /// The request line is at most 4096 octets before its newline; end of stream also ends it.
    @Test func requestLineBound() throws {
        let daemon = try ControlDaemon()
        let request = Array("{\"command\":\"calls\"}".utf8)
        let exact = request + [UInt8](repeating: 0x20, count: 4096 - request.count)
        let atLimit = try #require(daemon.exchange(exact + [0x0A]))
        #expect(atLimit.json == ControlDaemon.failure(Self.noLines), "4096 octets: \(atLimit.text)")
        let over = try #require(daemon.exchange(exact + [0x20, 0x0A]))
        #expect(over.json?["error"]?.stringValue?.contains("longer than 4096") == true, "4097 octets: \(over.text)")
        let huge = try #require(daemon.exchange([UInt8](repeating: UInt8(ascii: "{"), count: 10_000) + [0x0A]))
        #expect(huge.json?["error"]?.stringValue?.contains("longer than 4096") == true, "10,000 octets: \(huge.text)")
        #expect(huge.closed)
        // No newline, but the client's end of stream.
        let eof = try #require(daemon.exchange(request, shutdownWrite: true))
        #expect(eof.json == ControlDaemon.failure(Self.noLines), "\(eof.text)")
        // Only the first line counts.
        let two = try #require(daemon.exchange(Array("{\"command\":\"calls\"}\n{\"command\":\"bogus\"}\n".utf8)))
        #expect(two.json == ControlDaemon.failure(Self.noLines), "\(two.text)")
        #expect(two.lines.count == 1)
        #expect(daemon.isServing(), "dialtoned stopped serving: \(daemon.output)")
    }

    /// Garbage, non-JSON, huge lines, clients that vanish before the reply, a slow writer: each gets
    /// its answer or is dropped, and the daemon keeps serving the control socket and SIP.
    @Test func hostileClients() throws {
        let daemon = try ControlDaemon()
        var generator = SeededGenerator(seed: 0xD1A1_70E5)
        for round in 0..<100 {
            let garbage = generator.bytes(1 + Int(generator.next() % 600))
            let reply = try #require(daemon.exchange(garbage + [0x0A]), "garbage \(round): no reply")
            #expect(reply.json?["ok"] == .bool(false), "garbage \(round): \(reply.text)")
        }
        let text = try #require(daemon.exchange(Array("hello dialtoned, please call 101\n".utf8)))
        #expect(text.json?["error"]?.stringValue?.contains("not a JSON text") == true, "\(text.text)")
        let nested = String(repeating: "[", count: 2000) + String(repeating: "]", count: 2000)
        let deep = try #require(daemon.exchange(Array((nested + "\n").utf8)))
        #expect(deep.json?["ok"] == .bool(false), "\(deep.text)")
        let big = try #require(daemon.exchange([UInt8](repeating: 0x41, count: 10_000) + [0x0A]))
        #expect(big.json?["error"]?.stringValue?.contains("longer than 4096") == true, "\(big.text)")
        // Clients that send a request (or a huge line) and close at once: the reply meets EPIPE.
        for i in 0..<50 {
            let c = try #require(ControlConnection(path: daemon.socketPath), "connect \(i)")
            let line = i % 2 == 0 ? Array("{\"command\":\"calls\"}\n".utf8) : [UInt8](repeating: 0x42, count: 10_000)
            _ = c.send(line)
        }
        // Those 50 may still hold the 16 places for a moment; then proper requests are answered.
        var answered = false
        for _ in 0..<60 where !answered {
            answered = daemon.exchange(Array("{\"command\":\"calls\"}\n".utf8))?.json == ControlDaemon.failure(Self.noLines)
            if !answered { usleep(50_000) }
        }
        #expect(answered, "no proper answer after the vanishing clients: \(daemon.output)")
        // A slow writer: a byte every 20 ms (well within the 2 s), answered normally.
        let slow = try #require(ControlConnection(path: daemon.socketPath))
        for byte in Array("{\"command\":\"calls\"}\n".utf8) {
            #expect(slow.send([byte]))
            usleep(20_000)
        }
        let slowReply = slow.readAll(timeout: 5)
        #expect(ControlDaemon.firstJSON(slowReply.bytes) == ControlDaemon.failure(Self.noLines),
                "\(String(decoding: slowReply.bytes, as: UTF8.self))")
        #expect(daemon.isServing(), "dialtoned stopped serving: \(daemon.output)")
    }

    /// 40 idle connections at once: 16 are held (each closed after 2 s with a timeout reply), the
    /// other 24 are told "too many" and closed at once; a proper request is refused while 16 are
    /// held and answered after they are gone.
    @Test func clientLimitAndIdleTimeout() throws {
        let daemon = try ControlDaemon()
        let start = monotonic()
        var idle: [ControlConnection] = []
        for i in 0..<40 {
            idle.append(try #require(ControlConnection(path: daemon.socketPath), "connect \(i)"))
        }
        usleep(500_000)
        var refused = 0
        var held: [ControlConnection] = []
        for c in idle {
            let got = c.readAll(timeout: 0.01)
            if got.bytes.isEmpty && !got.closed {
                held.append(c)
                continue
            }
            refused += 1
            #expect(got.closed)
            let error = ControlDaemon.firstJSON(got.bytes)?["error"]?.stringValue ?? ""
            #expect(error.contains("too many control clients"), "\(String(decoding: got.bytes, as: UTF8.self))")
        }
        #expect(refused == 24, "refused \(refused) of 40")
        #expect(held.count == 16)
        let whileFull = try #require(daemon.exchange(Array("{\"command\":\"calls\"}\n".utf8)))
        #expect(whileFull.json?["error"]?.stringValue?.contains("too many control clients") == true, "\(whileFull.text)")
        for c in held {
            let got = c.readAll(timeout: 5)
            let elapsed = monotonic() - start
            #expect(got.closed, "a held client was not closed")
            #expect(elapsed > 1.5 && elapsed < 4.5, "closed after \(elapsed) s")
            let error = ControlDaemon.firstJSON(got.bytes)?["error"]?.stringValue ?? ""
            #expect(error.contains("no complete request line within 2 s"), "\(String(decoding: got.bytes, as: UTF8.self))")
        }
        let after = try #require(daemon.exchange(Array("{\"command\":\"calls\"}\n".utf8)))
        #expect(after.json == ControlDaemon.failure(Self.noLines), "\(after.text)")
        #expect(daemon.isServing(), "dialtoned stopped serving: \(daemon.output)")
    }

    /// The 2 s are for the whole request line: a silent client, a client that stops halfway and one
    /// that trickles a byte every 300 ms are all closed about 2 s after connecting.
    @Test func silentAndTricklingClientsAreClosed() throws {
        let daemon = try ControlDaemon()
        let start = monotonic()
        let silent = try #require(ControlConnection(path: daemon.socketPath))
        let partial = try #require(ControlConnection(path: daemon.socketPath))
        let trickle = try #require(ControlConnection(path: daemon.socketPath))
        #expect(partial.send(Array("{\"command\":".utf8)))
        var trickleClosedAt: Double? = nil
        var trickleReply: [UInt8] = []
        for _ in 0..<20 {
            _ = trickle.send([0x20])
            let got = trickle.readAll(timeout: 0.3)
            trickleReply += got.bytes
            if got.closed { trickleClosedAt = monotonic() - start; break }
        }
        let closedAt = try #require(trickleClosedAt, "the trickling client was never closed")
        #expect(closedAt > 1.5 && closedAt < 2.9, "trickling client closed after \(closedAt) s")
        #expect(ControlDaemon.firstJSON(trickleReply)?["error"]?.stringValue?.contains("within 2 s") == true)
        for c in [silent, partial] {
            let got = c.readAll(timeout: 5)
            let elapsed = monotonic() - start
            #expect(got.closed)
            #expect(elapsed > 1.5 && elapsed < 2.9, "closed after \(elapsed) s")
            #expect(ControlDaemon.firstJSON(got.bytes)?["error"]?.stringValue?.contains("within 2 s") == true,
                    "\(String(decoding: got.bytes, as: UTF8.self))")
        }
        #expect(daemon.isServing(), "dialtoned stopped serving: \(daemon.output)")
    }

    // MARK: The socket file

    /// A stale socket left by an earlier run is replaced at start; the socket has mode 0660 while
    /// the daemon runs and is gone after SIGTERM.
    @Test func socketFileLifecycle() throws {
        let directory = try TemporaryDirectory(prefix: "dialtone-control-")
        defer { directory.remove() }
        let path = directory.path + "/control.sock"
        try #require(ControlConnection.leaveStaleSocket(at: path))
        var before = stat()
        try #require(lstat(path, &before) == 0)
        #expect(ControlConnection(path: path) == nil, "the stale socket answers")

        let daemon = try ControlDaemon(runDir: directory.path)
        var running = stat()
        try #require(lstat(path, &running) == 0, "no socket at \(path): \(daemon.output)")
        #expect((running.st_mode & S_IFMT) == S_IFSOCK)
        #expect((running.st_mode & 0o7777) == 0o660, "mode \(String(running.st_mode & 0o7777, radix: 8))")
        #expect(running.st_ino != before.st_ino, "the stale socket was not replaced")
        let reply = try #require(daemon.exchange(Array("{\"command\":\"calls\"}\n".utf8)))
        #expect(reply.json == ControlDaemon.failure(Self.noLines))
        #expect(Set(ControlDaemon.names(in: directory.path)) == ["control.sock", "dialtoned.json"],
                "\(ControlDaemon.names(in: directory.path))")

        let status = try #require(daemon.process.terminate(signal: SIGTERM, timeout: 10), "did not stop on SIGTERM")
        #expect(BackgroundProcess.exitCode(status) == 0, "\(daemon.output)")
        var after = stat()
        let gone = lstat(path, &after) != 0
        let reason = errno
        #expect(gone && reason == ENOENT, "the socket file is still there after SIGTERM")
        #expect(Set(ControlDaemon.names(in: directory.path)) == ["dialtoned.json"])
    }

    /// A stale regular file at the path is replaced as well; a directory there cannot be, and then
    /// the daemon runs without a control socket (and says so) instead of failing.
    @Test func pathTakenByAFileOrADirectory() throws {
        let directory = try TemporaryDirectory(prefix: "dialtone-control-")
        defer { directory.remove() }
        try directory.write("control.sock", Array("left over\n".utf8))
        let daemon = try ControlDaemon(runDir: directory.path)
        var st = stat()
        try #require(lstat(directory.path + "/control.sock", &st) == 0)
        #expect((st.st_mode & S_IFMT) == S_IFSOCK)
        #expect(daemon.exchange(Array("{\"command\":\"calls\"}\n".utf8))?.json == ControlDaemon.failure(Self.noLines))
        #expect(daemon.process.terminate(signal: SIGTERM, timeout: 10).flatMap { BackgroundProcess.exitCode($0) } == 0)

        let other = try TemporaryDirectory(prefix: "dialtone-control-")
        defer {
            rmdir(other.path + "/control.sock")
            other.remove()
        }
        try #require(mkdir(other.path + "/control.sock", 0o755) == 0)
        let blocked = try ControlDaemon(runDir: other.path)
        #expect(blocked.output.contains("control socket"), "\(blocked.output)")
        #expect(blocked.isServing(control: false), "dialtoned does not serve SIP: \(blocked.output)")
        let cli = try run("dialtone", ["calls", "--run-dir", other.path], timeout: 20)
        #expect(cli.exitStatus == 2)
        #expect(blocked.process.terminate(signal: SIGTERM, timeout: 10).flatMap { BackgroundProcess.exitCode($0) } == 0)
        var still = stat()
        #expect(lstat(other.path + "/control.sock", &still) == 0 && (still.st_mode & S_IFMT) == S_IFDIR,
                "the directory at the socket path was touched")
    }
}

// MARK: Support

/// `dialtoned --config <no lines> --listen udp:127.0.0.1:<free port> --run-dir <dir>`, started by
/// pid and waited for; killed by that pid when the test ends.
private final class ControlDaemon {
    let runDir: String
    let port: UInt16
    let process: BackgroundProcess
    private let ownDirectory: TemporaryDirectory?

    /// `runDir` nil: a fresh temporary directory of its own.
    init(runDir: String? = nil) throws {
        let executable = try #require(BuiltProducts.executable("dialtoned"), "dialtoned is not built")
        if let runDir {
            self.runDir = runDir
            ownDirectory = nil
        } else {
            let d = try TemporaryDirectory(prefix: "dialtone-control-")
            self.runDir = d.path
            ownDirectory = d
        }
        let config = "{\"VoiceService\": {\"SIP\": {\"Network\": [], \"Client\": []}}}\n"
        let configPath = self.runDir + "/dialtoned.json"
        let fd = open(configPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        try #require(fd >= 0)
        _ = Array(config.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        port = UDPProbe.freePort()
        process = try BackgroundProcess(executable, ["--config", configPath, "--listen", "udp:127.0.0.1:" + String(port),
                                                     "--run-dir", self.runDir])
        let ready = process.waitForOutput("ready", timeout: 30)
        if !ready { process.stop() }
        try #require(ready, "dialtoned did not start: \(process.output)")
    }

    deinit {
        process.stop()
        ownDirectory?.remove()
    }

    var socketPath: String { runDir + "/control.sock" }
    var output: String { process.output }

    struct Reply {
        var bytes: [UInt8]
        var closed: Bool
        var text: String { String(decoding: bytes, as: UTF8.self) }
        var lines: [JSONValue?] { JSONValue.parseLines(bytes) }
        var json: JSONValue? { ControlDaemon.firstJSON(bytes) }
    }

    /// Connects, sends `bytes` (then shuts down the writing side when asked), reads until the daemon
    /// closes (5 s at most).
    func exchange(_ bytes: [UInt8], shutdownWrite: Bool = false) -> Reply? {
        guard let c = ControlConnection(path: socketPath) else { return nil }
        _ = c.send(bytes)
        if shutdownWrite { _ = shutdown(c.fd, Int32(SHUT_WR)) }
        let got = c.readAll(timeout: 5)
        return Reply(bytes: got.bytes, closed: got.closed)
    }

    /// Alive, answering SIP OPTIONS over UDP with 200 and (unless `control` is false) a proper
    /// control request.
    func isServing(control: Bool = true) -> Bool {
        guard !process.hasExited else { return false }
        if control, exchange(Array("{\"command\":\"calls\"}\n".utf8))?.json != ControlDaemon.failure(ControlSocketTests.noLines) {
            return false
        }
        let probe = UDPProbe()
        for attempt in 0..<5 {
            let request = [
                "OPTIONS sip:127.0.0.1:\(port) SIP/2.0",
                "Via: SIP/2.0/UDP 127.0.0.1:\(probe.port);branch=z9hG4bK-control-\(attempt);rport",
                "Max-Forwards: 70",
                "From: <sip:test@127.0.0.1>;tag=c1",
                "To: <sip:127.0.0.1>",
                "Call-ID: control-test-\(attempt)",
                "CSeq: 1 OPTIONS",
                "Content-Length: 0",
                "",
                "",
            ].joined(separator: "\r\n")
            probe.send(Array(request.utf8), toPort: port)
            if let answer = probe.receive(timeout: 1), answer.starts(with: Array("SIP/2.0 200 ".utf8)) { return true }
        }
        return false
    }

    static func failure(_ message: String) -> JSONValue {
        .object([(key: "ok", value: .bool(false)), (key: "error", value: .string(message))])
    }

    /// The first line of `bytes` as JSON.
    static func firstJSON(_ bytes: [UInt8]) -> JSONValue? {
        guard let first = bytes.split(separator: 0x0A, maxSplits: 1, omittingEmptySubsequences: false).first else { return nil }
        return JSONValue.parse(Array(first))
    }

    /// The names in a directory (no "." and "..").
    static func names(in path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}

/// A raw client of a Unix stream socket.
private final class ControlConnection {
    let fd: Int32

    /// Connects (blocking; a Unix socket answers at once), nil when nobody listens.
    init?(path: String) {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = Self.address(path)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc != 0 { close(fd); return nil }
        self.fd = fd
    }

    deinit { close(fd) }

    static func address(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = b }
        }
        return address
    }

    /// Binds a Unix socket at `path` and closes it without removing the file: what a crashed daemon
    /// leaves behind.
    static func leaveStaleSocket(at path: String) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = Self.address(path)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
    }

    /// Writes all of `bytes` within 5 s; false when the daemon closed first.
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        let deadline = monotonic() + 5
        while offset < bytes.count && monotonic() < deadline {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) }
            if n > 0 { offset += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EINTR) {
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&p, 1, 100)
                continue
            }
            return false
        }
        return offset == bytes.count
    }

    /// What arrives within `timeout` seconds, and whether the daemon closed (end of stream, or a
    /// reset after its reply); at most 64 KiB.
    func readAll(timeout: Double) -> (bytes: [UInt8], closed: Bool) {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        let deadline = monotonic() + timeout
        while bytes.count < 65_536 {
            let left = deadline - monotonic()
            guard left > 0 else { return (bytes, false) }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let r = poll(&p, 1, Int32(left * 1000) + 1)
            if r < 0 && errno == EINTR { continue }
            guard r > 0 else { return (bytes, false) }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n > 0 { bytes += chunk[0..<n]; continue }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { continue }
            return (bytes, true)
        }
        return (bytes, false)
    }
}

private func monotonic() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
