#if canImport(Glibc)
import Glibc
#endif

/// baresip 1.0.0 (Debian baresip-core) as a real SIP user agent for tests, run the way
/// ../shared/docs/peers.md says it runs without a sound card: a temporary configuration folder
/// (`config`, an empty `accounts`, an 8 kHz mono WAV made here as the audio source, `aubridge` as the
/// player), `net_interface 127.0.0.1`, its own SIP port (UDP and TCP) and `ctrl_tcp` port; started by
/// the pid it is stopped with.
///
/// It is driven and observed through `ctrl_tcp`: netstring-framed JSON commands
/// (`{"command":"dial","params":"sip:…","token":"…"}`) answered by `{"response":true,"ok":…,"data":…,
/// "token":…}`, and events (`{"event":true,"type":"CALL_INCOMING","class":"call","accountaor":…,
/// "direction":…,"peeruri":…,"id":…,"param":…}`).
///
/// Behaviour of baresip 1.0.0 (libre 1.1.0) measured here, which the design follows:
/// - Accounts in the `accounts` file register while the program starts, before `ctrl_tcp` accepts a
///   connection, so their REGISTER_OK/REGISTER_FAIL can be missed. Accounts are therefore added after
///   the control connection is up, with the `uanew` command (same account line syntax).
/// - Registration events: REGISTERING, then REGISTER_OK (param "200 OK") or REGISTER_FAIL (param
///   the status line, e.g. "403 Forbidden", or "401 Unauthorized" once libre gives up answering
///   fresh challenges: a 401 with a new nonce to every answer ends after about 16 REGISTERs).
/// - Digest: MD5 only. A 401 carrying any challenge with another algorithm (SHA-256 before or after
///   an MD5 one) ends in REGISTER_FAIL "Function not implemented": it does not pick the MD5 one.
/// - Call events: CALL_INCOMING (callee, manual answer), CALL_RINGING (caller, once per 180, so twice
///   when a forking proxy relays two), CALL_ESTABLISHED (both), CALL_CLOSED with the reason as param:
///   "Connection reset by peer" after the peer's BYE or CANCEL, "Connection reset by user" after
///   our own hangup, "end of file" when the WAV ends;
///   plus CALL_LOCAL_SDP, CALL_REMOTE_SDP, CALL_RTPESTAB, CALL_RTCP (periodic; not kept here),
///   AUDIO_ERROR, and SHUTDOWN/UNREGISTERING/EXIT on quit.
/// - `aufile` does not loop: at the end of the WAV an AUDIO_ERROR hangs the call up, so the WAV lasts
///   `audioSeconds` (longer than any call in a test).
/// - The SIP port is bound on UDP and TCP; a port taken on either makes it log "init failed" and
///   stay alive without SIP. SIGTERM and `quit` unregister first and can linger up to 32 s for an
///   unanswered transaction, so `stop()` kills it (SIGKILL), at once unless given a grace.
public final class Baresip: @unchecked Sendable {
    /// The `baresip` binary, nil when it is not installed.
    public static var executable: String? { findExecutable("baresip") }

    /// `answermode` of an account.
    public enum AnswerMode: String, Sendable {
        case auto
        case manual
    }

    /// One account line (`<aor>;auth_user=…;auth_pass=…;outbound="…";answermode=…;regint=…`).
    public struct Account: Sendable {
        /// The address of record, e.g. `sip:alice@127.0.0.1`; REGISTER goes to its host and port
        /// unless `outbound` is set.
        public var aor: String
        /// Digest user name; baresip uses the AOR's user when nil.
        public var authUser: String?
        public var password: String?
        /// Outbound proxy URI (REGISTER and calls go there, with a Route), e.g. `sip:127.0.0.1:5060`.
        public var outbound: String?
        public var answerMode: AnswerMode
        /// Seconds between registrations; 0 means the account does not register.
        public var registrationInterval: Int
        /// More `;name=value` parameters, e.g. `["ptime=20"]`.
        public var extraParameters: [String] = []

        public init(aor: String, password: String? = nil, authUser: String? = nil, outbound: String? = nil,
                    answerMode: AnswerMode = .manual, registrationInterval: Int = 0) {
            self.aor = aor
            self.password = password
            self.authUser = authUser
            self.outbound = outbound
            self.answerMode = answerMode
            self.registrationInterval = registrationInterval
        }

        /// The account line baresip reads.
        public var line: String {
            var text = "<" + aor + ">"
            if let authUser { text += ";auth_user=" + authUser }
            if let password { text += ";auth_pass=" + password }
            if let outbound { text += ";outbound=\"" + outbound + "\"" }
            text += ";answermode=" + answerMode.rawValue
            text += ";regint=" + String(registrationInterval)
            text += ";audio_codecs=PCMU"
            for parameter in extraParameters { text += ";" + parameter }
            return text
        }
    }

    /// One `ctrl_tcp` event.
    public struct Event: Sendable, CustomStringConvertible {
        /// E.g. `REGISTER_OK`, `CALL_INCOMING`, `CALL_CLOSED`.
        public var type: String
        /// `register`, `call`, `application`, `other`.
        public var eventClass: String
        public var accountAOR: String?
        /// `incoming` or `outgoing` for call events.
        public var direction: String?
        public var peerURI: String?
        /// baresip's call id (not the SIP Call-ID).
        public var callID: String?
        /// The reason or detail: "200 OK", "403 Forbidden", "Connection reset by peer", a URI…
        public var param: String?

        public var description: String {
            type + "(" + (param ?? "") + ") aor=" + (accountAOR ?? "-") + " peer=" + (peerURI ?? "-")
        }
    }

    /// One `ctrl_tcp` response to a command.
    public struct Response: Sendable {
        public var ok: Bool
        public var data: String
    }

    public let process: BackgroundProcess
    /// The SIP port on 127.0.0.1 (UDP and TCP).
    public let sipPort: UInt16
    /// The `ctrl_tcp` port on 127.0.0.1.
    public let controlPort: UInt16
    /// The configuration folder (`config`, `accounts`, `audio.wav`, `uuid`).
    public let directory: TemporaryDirectory
    /// Every event received, oldest first (the most recent `historyLimit`).
    public private(set) var history: [Event] = []

    private var control: Int32 = -1
    private var inbox: [UInt8] = []
    private var pending: [Event] = []
    private var responses: [String: Response] = [:]
    private var nextToken = 0
    private var stopped = false

    /// Largest netstring accepted from baresip; a longer one (or broken framing) ends the connection.
    static let maximumMessage = 256 * 1024
    /// Most events kept in `history` and waiting to be matched.
    static let historyLimit = 4096

    /// Starts baresip and connects to its `ctrl_tcp`; then adds `accounts` (with `uanew`, so their
    /// registration events are seen). Throws when baresip is missing, does not come up within
    /// `timeout` seconds (three attempts with fresh ports when one was taken), or refuses an account.
    /// With `sipTrace` (`-s`) every SIP message sent and received is printed to `process.output`.
    public init(accounts: [Account], audioSeconds: Int = 30, sipTrace: Bool = false, timeout: Double = 15) throws(SubprocessError) {
        guard let baresip = Self.executable else { throw SubprocessError(description: "baresip is not installed (Debian baresip-core)") }
        guard let modules = Self.modulePath else { throw SubprocessError(description: "baresip modules folder not found") }
        let directory = try TemporaryDirectory(prefix: "dialtone-baresip-")
        try directory.write("accounts", Array("# accounts are added at run time with uanew\n".utf8))
        try directory.write("audio.wav", Self.toneWAV(seconds: max(1, min(audioSeconds, 600))))
        var lastError = SubprocessError(description: "baresip did not start")
        for _ in 0..<3 {
            guard let sipPort = Self.freePort(udpAndTCP: true), let controlPort = Self.freePort(udpAndTCP: false) else {
                lastError = SubprocessError(description: "no free port on 127.0.0.1")
                continue
            }
            try directory.write("config", Array(Self.configuration(directory: directory.path, modules: modules,
                                                                   sipPort: sipPort, controlPort: controlPort).utf8))
            let process = try BackgroundProcess(baresip, (sipTrace ? ["-s"] : []) + ["-f", directory.path])
            if let fd = Self.connectControl(port: controlPort, process: process, timeout: timeout) {
                self.process = process
                self.sipPort = sipPort
                self.controlPort = controlPort
                self.directory = directory
                self.control = fd
                for account in accounts {
                    let response = try command("uanew", account.line, timeout: timeout)
                    guard response.ok else {
                        stop()
                        throw SubprocessError(description: "baresip refused account \(account.line): \(response.data)")
                    }
                }
                return
            }
            lastError = SubprocessError(description: "baresip did not open ctrl_tcp on 127.0.0.1:\(controlPort): \(process.output)")
            process.stop()
        }
        directory.remove()
        throw lastError
    }

    deinit { stop() }

    /// Closes the control connection and stops baresip by its pid: SIGKILL after `grace` seconds of
    /// SIGTERM (which would otherwise unregister and can linger), then removes the folder.
    public func stop(grace: Double = 0) {
        guard !stopped else { return }
        stopped = true
        if control >= 0 { close(control); control = -1 }
        if grace > 0 {
            process.terminate(signal: SIGTERM, timeout: grace)
        } else {
            process.stop()
        }
        directory.remove()
    }

    /// `host:port` baresip's contacts carry (its SIP listen address).
    public var contactHostPort: String { "127.0.0.1:" + String(sipPort) }

    // MARK: Commands

    /// Sends a `ctrl_tcp` command and waits up to `timeout` seconds for its response (events that
    /// arrive meanwhile are kept for `waitForEvent`). Throws on timeout or a lost connection.
    @discardableResult
    public func command(_ name: String, _ parameters: String = "", timeout: Double = 5) throws(SubprocessError) -> Response {
        nextToken += 1
        let token = "dialtone-" + String(nextToken)
        let message = JSONValue.object([
            (key: "command", value: .string(name)),
            (key: "params", value: .string(parameters)),
            (key: "token", value: .string(token)),
        ]).serialized()
        guard control >= 0, Self.sendAll(control, Array(String(message.count).utf8) + [UInt8(ascii: ":")] + message + [UInt8(ascii: ",")]) else {
            throw SubprocessError(description: "baresip control connection is closed")
        }
        let deadline = monotonicSeconds() + timeout
        while true {
            if let response = responses.removeValue(forKey: token) { return response }
            let left = deadline - monotonicSeconds()
            guard left > 0 else { throw SubprocessError(description: "baresip did not answer \(name) within \(timeout) s") }
            guard readControl(timeout: left) else {
                if let response = responses.removeValue(forKey: token) { return response }
                throw SubprocessError(description: "baresip closed the control connection during \(name): \(process.output.suffix(2000))")
            }
        }
    }

    /// `dial URI` from the current user agent (the first account, or the one `select` chose).
    @discardableResult
    public func dial(_ uri: String) throws(SubprocessError) -> Response { try command("dial", uri) }

    /// Answers the incoming call (answermode=manual).
    @discardableResult
    public func accept() throws(SubprocessError) -> Response { try command("accept") }

    /// Hangs up the current call (a BYE when established, a CANCEL or a final refusal otherwise).
    @discardableResult
    public func hangup() throws(SubprocessError) -> Response { try command("hangup") }

    /// Makes the account with this AOR the current user agent (`uafind`).
    @discardableResult
    public func select(aor: String) throws(SubprocessError) -> Response { try command("uafind", aor) }

    /// `quit`: baresip unregisters and exits (it may linger; `stop()` still kills it).
    @discardableResult
    public func quit() throws(SubprocessError) -> Response { try command("quit") }

    // MARK: Events

    /// The first event not yet taken whose type is in `types` and that satisfies `predicate`, waiting
    /// up to `timeout` seconds; it is taken (later calls do not see it). Nil on timeout or when the
    /// control connection ends.
    public func waitForEvent(_ types: Set<String>, timeout: Double = 10,
                             where predicate: (Event) -> Bool = { _ in true }) -> Event? {
        let deadline = monotonicSeconds() + timeout
        while true {
            if let index = pending.firstIndex(where: { types.contains($0.type) && predicate($0) }) {
                return pending.remove(at: index)
            }
            let left = deadline - monotonicSeconds()
            if left <= 0 || !readControl(timeout: left) { return nil }
        }
    }

    /// `waitForEvent` for one type.
    public func waitForEvent(_ type: String, timeout: Double = 10, where predicate: (Event) -> Bool = { _ in true }) -> Event? {
        waitForEvent([type], timeout: timeout, where: predicate)
    }

    /// Reads for `seconds` and returns the events not yet taken (they stay available).
    public func collectEvents(for seconds: Double) -> [Event] {
        let deadline = monotonicSeconds() + seconds
        while true {
            let left = deadline - monotonicSeconds()
            if left <= 0 || !readControl(timeout: left) { break }
        }
        return pending
    }

    /// The event types received so far, for test messages.
    public var historySummary: String { history.map(\.description).joined(separator: "; ") }

    // MARK: Control connection

    /// Waits up to `timeout` for data, reads it and files complete messages; false when the
    /// connection is closed or broken.
    private func readControl(timeout: Double) -> Bool {
        guard control >= 0 else { return false }
        var p = pollfd(fd: control, events: Int16(POLLIN), revents: 0)
        let ready = poll(&p, 1, Int32(max(1, min(timeout, 60) * 1000)))
        if ready < 0 { return errno == EINTR }
        if ready == 0 { return true }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = buffer.withUnsafeMutableBytes { recv(control, $0.baseAddress, $0.count, 0) }
        if n < 0 && errno == EINTR { return true }
        guard n > 0 else { closeControl(); return false }
        inbox += buffer[0..<n]
        return parseInbox()
    }

    /// Takes every complete netstring off `inbox`; false (and the connection closed) on bad framing.
    private func parseInbox() -> Bool {
        var start = 0
        defer { if control >= 0 && start > 0 && start <= inbox.count { inbox.removeFirst(start) } }
        var rounds = 0
        while start < inbox.count && rounds < 100_000 {
            rounds += 1
            guard let colon = inbox[start...].prefix(8).firstIndex(of: UInt8(ascii: ":")) else {
                if inbox.count - start >= 8 { closeControl(); return false }
                return true
            }
            guard colon > start, let length = Int(String(decoding: inbox[start..<colon], as: UTF8.self)),
                  length >= 0, length <= Self.maximumMessage else { closeControl(); return false }
            let end = colon + 1 + length
            guard end < inbox.count else { return true }
            guard inbox[end] == UInt8(ascii: ",") else { closeControl(); return false }
            file(Array(inbox[(colon + 1)..<end]))
            start = end + 1
        }
        return true
    }

    private func file(_ payload: [UInt8]) {
        guard let json = JSONValue.parse(payload) else { return }
        if case .bool(true) = json["event"] {
            let event = Event(type: json["type"]?.stringValue ?? "", eventClass: json["class"]?.stringValue ?? "",
                              accountAOR: json["accountaor"]?.stringValue, direction: json["direction"]?.stringValue,
                              peerURI: json["peeruri"]?.stringValue, callID: json["id"]?.stringValue,
                              param: json["param"]?.stringValue)
            if event.type == "CALL_RTCP" { return }  // periodic statistics; not needed and noisy
            history.append(event)
            if history.count > Self.historyLimit { history.removeFirst(history.count - Self.historyLimit) }
            pending.append(event)
            if pending.count > Self.historyLimit { pending.removeFirst(pending.count - Self.historyLimit) }
        } else if case .bool(true) = json["response"], let token = json["token"]?.stringValue {
            var ok = false
            if case .bool(let b) = json["ok"] { ok = b }
            if responses.count < 64 { responses[token] = Response(ok: ok, data: json["data"]?.stringValue ?? "") }
        }
    }

    private func closeControl() {
        if control >= 0 { close(control); control = -1 }
        inbox = []
    }

    // MARK: Start-up helpers

    /// The modules folder of the installed baresip.
    static var modulePath: String? {
        for candidate in ["/usr/lib/baresip/modules", "/usr/lib/x86_64-linux-gnu/baresip/modules",
                          "/usr/lib/aarch64-linux-gnu/baresip/modules", "/usr/local/lib/baresip/modules"] {
            if access(candidate + "/ctrl_tcp.so", R_OK) == 0 { return candidate }
        }
        return nil
    }

    static func configuration(directory: String, modules: String, sipPort: UInt16, controlPort: UInt16) -> String {
        let device = "dialtone-" + String(sipPort)
        return """
            poll_method epoll
            sip_listen 127.0.0.1:\(sipPort)
            net_interface 127.0.0.1
            dns_server 127.0.0.1:53
            audio_player aubridge,\(device)
            audio_alert aubridge,\(device)
            audio_source aufile,\(directory)/audio.wav
            module_path \(modules)
            module g711.so
            module aufile.so
            module aubridge.so
            module uuid.so
            module_app account.so
            module_app menu.so
            module_app ctrl_tcp.so
            ctrl_tcp_listen 127.0.0.1:\(controlPort)

            """
    }

    /// Connects to ctrl_tcp, retrying every 20 ms until `timeout`; nil when baresip exited, logged
    /// that its SIP transport failed, or never listened.
    static func connectControl(port: UInt16, process: BackgroundProcess, timeout: Double) -> Int32? {
        let deadline = monotonicSeconds() + timeout
        while monotonicSeconds() < deadline {
            if process.hasExited { return nil }
            let output = process.output
            if output.contains("init failed") || output.contains("Address already in use") { return nil }
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return nil }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = port.bigEndian
            a.sin_addr.s_addr = inet_addr("127.0.0.1")
            let rc = withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if rc == 0 { return fd }
            close(fd)
            usleep(20_000)
        }
        return nil
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        var rounds = 0
        while offset < bytes.count && rounds < 1000 {
            rounds += 1
            let n = bytes.withUnsafeBytes { raw in send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return offset == bytes.count
    }

    /// A port on 127.0.0.1 free for TCP (and UDP too when `udpAndTCP`), bound and released (a tiny
    /// race is accepted in tests); nil after 50 attempts.
    public static func freePort(udpAndTCP: Bool) -> UInt16? {
        for _ in 0..<50 {
            let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard tcp >= 0 else { return nil }
            defer { close(tcp) }
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(tcp, $0, length) } }
            guard bound == 0 else { continue }
            _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(tcp, $0, &length) } }
            let port = UInt16(bigEndian: a.sin_port)
            guard udpAndTCP else { return port }
            let udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            guard udp >= 0 else { return nil }
            defer { close(udp) }
            let udpBound = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(udp, $0, length) } }
            if udpBound == 0 { return port }
        }
        return nil
    }

    /// A RIFF/WAVE file: 16-bit PCM, 8000 Hz, mono, a 440 Hz tone at a quarter of full scale,
    /// `seconds` long. Written little-endian byte by byte, whatever the host's byte order.
    public static func toneWAV(seconds: Int) -> [UInt8] {
        let samples = 8000 * seconds
        let dataBytes = samples * 2
        var out: [UInt8] = []
        out.reserveCapacity(44 + dataBytes)
        func u32(_ v: Int) { for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: v >> shift)) } }
        func u16(_ v: Int) { out.append(UInt8(truncatingIfNeeded: v)); out.append(UInt8(truncatingIfNeeded: v >> 8)) }
        out += Array("RIFF".utf8); u32(36 + dataBytes); out += Array("WAVE".utf8)
        out += Array("fmt ".utf8); u32(16); u16(1); u16(1); u32(8000); u32(16000); u16(2); u16(16)
        out += Array("data".utf8); u32(dataBytes)
        // One period of 440 Hz is not a whole number of samples; compute each sample from its index.
        var cycle: [Int16] = []
        cycle.reserveCapacity(400)
        for i in 0..<400 {  // 400 samples = 50 ms = 22 periods of 440 Hz exactly
            cycle.append(Int16(8191 * sin(2 * Double.pi * 440 * Double(i) / 8000)))
        }
        for i in 0..<samples {
            let v = UInt16(bitPattern: cycle[i % 400])
            out.append(UInt8(truncatingIfNeeded: v))
            out.append(UInt8(truncatingIfNeeded: v >> 8))
        }
        return out
    }
}
