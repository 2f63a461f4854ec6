#if canImport(Glibc)
import Glibc
#endif
import SIPAuth

/// Kamailio playing the ISP for Dialtone's SIP user agent interop tests (issue 6 item 5): a
/// registrar with digest authentication and a record-routing stateful proxy
/// (Tests/Fixtures/kamailio/isp.cfg), or a redirect server (isp-redirect.cfg). It writes the
/// configuration from the fixture with its placeholders filled, writes the db_text `subscriber` table
/// (HA1 precomputed) from the subscribers given, starts Kamailio by pid the way
/// ../shared/docs/peers.md says it runs best (`-x tlsf`, `maxbuffer` in the fixture, foreground so the
/// pid started is the one stopped), and waits until it answers OPTIONS. `stop()` stops the process
/// but keeps the files; `restart()` (also after `stop()`) starts it again on the same port (usrloc
/// runs in memory: every registration is gone afterwards); the files go with the object. `registrations()` reads usrloc
/// through the ctl module's unix socket (`kamcmd ul.dump`).
///
/// With `Options.namespace` Kamailio runs inside that network namespace (`ip netns exec`); it then
/// usually listens on the namespace's address (or 0.0.0.0), and the readiness probe goes there from
/// the host.
public final class KamailioISP: @unchecked Sendable {
    /// Which fixture.
    public enum Role: String, Sendable {
        /// isp.cfg: registrar + record-routing stateful proxy with digest.
        case proxy
        /// isp-redirect.cfg: registrar + redirect server (302 with every registered contact).
        case redirect

        public var fixture: String { self == .proxy ? "kamailio/isp.cfg" : "kamailio/isp-redirect.cfg" }
    }

    /// The auth module's `algorithm` parameter.
    public enum ChallengeAlgorithm: String, Sendable {
        /// "" — challenges name no algorithm (MD5 by RFC 2617's default). What baresip 1.0.0 accepts.
        case unnamedMD5 = ""
        /// "MD5" — `algorithm=MD5` in the challenge.
        case md5 = "MD5"
        /// "SHA-256" — `algorithm=SHA-256`; the subscriber table then holds SHA-256 HA1 values.
        case sha256 = "SHA-256"

        var hash: DigestHashFunction { self == .sha256 ? .sha256 : .md5 }
    }

    /// One row of the subscriber table.
    public struct Subscriber: Sendable, Hashable {
        public var user: String
        public var password: String

        public init(_ user: String, _ password: String) {
            self.user = user
            self.password = password
        }
    }

    /// Everything that goes into the placeholders and the command line.
    public struct Options: Sendable {
        public var role: Role = .proxy
        public var subscribers: [Subscriber]
        /// Address Kamailio listens on (UDP and TCP): 127.0.0.1, a host-side veth address, a
        /// namespace address, or 0.0.0.0 (only for reachability checks: Via and Record-Route would
        /// carry 0.0.0.0).
        public var listenAddress = "127.0.0.1"
        /// Nil: a port free for UDP and TCP on `listenAddress` (5060 inside a namespace).
        public var port: UInt16? = nil
        /// The SIP domain; nil: `listenAddress`.
        public var domain: String? = nil
        /// The digest realm; nil: the domain.
        public var realm: String? = nil
        /// Registrar `min_expires`: a REGISTER asking for less gets 423 (min_expires_mode 1); 0: off.
        public var minExpires = 60
        /// Registrar `max_expires`: longer requests are cut to it; 0: off.
        public var maxExpires = 3600
        /// Registrar `default_expires`.
        public var defaultExpires = 3600
        public var algorithm: ChallengeAlgorithm = .unnamedMD5
        /// Challenges carry qop="auth" (flags 1) or no qop (flags 0).
        public var qop = true
        /// isp-redirect.cfg: the user "redirect-me" is redirected to.
        public var redirectTarget = "bob"
        /// UDP worker processes.
        public var workers = 2
        public var sharedMemoryMB = 64
        /// Run Kamailio inside this namespace.
        public var namespace: NetworkNamespace? = nil
        /// A fixture other than the role's (relative to Tests/Fixtures), e.g. a variant of isp.cfg.
        public var fixture: String? = nil
        /// More `@NAME@` → value substitutions for such a variant.
        public var extraPlaceholders: [String: String] = [:]

        public init(role: Role = .proxy, subscribers: [Subscriber] = []) {
            self.role = role
            self.subscribers = subscribers
        }
    }

    /// One usrloc contact, from `kamcmd ul.dump`.
    public struct Registration: Sendable, CustomStringConvertible {
        /// The AOR as usrloc keys it (the user part: use_domain is off).
        public var aor: String
        /// The Contact URI (`Address:`).
        public var contact: String
        /// Seconds left; nil when ul.dump says something else ("permanent", "deleted", "expired").
        public var expires: Int?
        public var q: String?
        public var callID: String?
        public var cseq: Int?
        public var userAgent: String?
        /// Source the REGISTER came from, when it differs from the contact (else nil).
        public var received: String?
        public var path: String?
        /// Kamailio's socket it arrived on, e.g. `udp:127.0.0.1:5060`.
        public var socket: String?
        public var instance: String?
        public var regID: Int?

        public var description: String {
            aor + " -> " + contact + " expires=" + (expires.map(String.init) ?? "-") + " ua=" + (userAgent ?? "-")
        }
    }

    /// The `kamailio` and `kamcmd` binaries, nil when not installed.
    public static var executable: String? { findExecutable("kamailio") }
    public static var kamcmdExecutable: String? { findExecutable("kamcmd") }

    public let options: Options
    public let port: UInt16
    public let listenAddress: String
    public let domain: String
    public let realm: String
    /// Holds the written configuration, the ctl socket, the pid file.
    public let directory: TemporaryDirectory
    /// The db_text folder (`version`, `subscriber`).
    public let databaseDirectory: TemporaryDirectory
    public let configurationPath: String
    public let controlSocket: String
    public private(set) var process: BackgroundProcess

    /// Writes the files and starts Kamailio; returns once it answers OPTIONS, or throws (after
    /// stopping it) within `timeout` seconds.
    public init(_ options: Options, timeout: Double = 15) throws(SubprocessError) {
        guard let kamailio = Self.executable else { throw SubprocessError(description: "kamailio is not installed (Debian kamailio)") }
        self.options = options
        let domain = options.domain ?? options.listenAddress
        let realm = options.realm ?? domain
        listenAddress = options.listenAddress
        self.domain = domain
        self.realm = realm
        if options.namespace != nil && options.listenAddress.hasPrefix("127.") {
            throw SubprocessError(description: "in a namespace Kamailio must listen on the namespace's address or 0.0.0.0, not \(options.listenAddress)")
        }
        guard let port = options.port ?? (options.namespace != nil ? 5060 : Self.freePort(address: options.listenAddress)) else {
            throw SubprocessError(description: "no free UDP+TCP port on \(options.listenAddress)")
        }
        self.port = port
        let directory = try TemporaryDirectory(prefix: "dialtone-isp-")
        let databaseDirectory: TemporaryDirectory
        do {
            databaseDirectory = try TemporaryDirectory(prefix: "dialtone-isp-db-")
        } catch {
            directory.remove()
            throw error
        }
        self.directory = directory
        self.databaseDirectory = databaseDirectory
        let controlSocket = directory.path + "/ctl.sock"
        let configurationPath = directory.path + "/kamailio.cfg"
        self.controlSocket = controlSocket
        self.configurationPath = configurationPath
        do throws(SubprocessError) {
            guard controlSocket.utf8.count < 100 else { throw SubprocessError(description: "ctl socket path too long: \(controlSocket)") }
            let placeholders = Self.placeholders(options, port: port, domain: domain, realm: realm,
                                                 database: databaseDirectory.path, controlSocket: controlSocket)
            let fixture = Fixtures.path(options.fixture ?? options.role.fixture)
            guard let template = readFile(fixture) else { throw SubprocessError(description: "fixture not readable: \(fixture)") }
            let text = try Self.fill(String(decoding: template, as: UTF8.self), placeholders)
            try directory.write("kamailio.cfg", Array(text.utf8))
            try databaseDirectory.write("version", Array(Self.versionTable.utf8))
            try databaseDirectory.write("subscriber", Array(Self.subscriberTable(options.subscribers, domain: domain, realm: realm,
                                                                                 hash: options.algorithm.hash).utf8))
            process = try Self.launch(kamailio, options: options, configuration: configurationPath, runDirectory: directory.path,
                                      probeHost: Self.probeHost(options), port: port, timeout: timeout)
        } catch {
            directory.remove()
            databaseDirectory.remove()
            throw error
        }
    }

    /// Stops Kamailio and removes its files (configuration, db_text folder, ctl socket).
    deinit {
        stop()
        directory.remove()
        databaseDirectory.remove()
    }

    /// `sip:<listen address>:<port>` (what a phone names as its registrar/outbound proxy).
    public var uri: String { "sip:" + listenAddress + ":" + String(port) }

    /// Everything Kamailio printed (this run only: a restart starts a new log).
    public var output: String { process.output }

    /// Stops Kamailio: SIGTERM, SIGKILL after `timeout`, then its workers (by pid). Its files stay
    /// until this object goes away, so `restart()` can start it again on the same port (the "ISP
    /// server comes back" step); nil when it was not running. Safe to call more than once.
    @discardableResult
    public func stop(timeout: Double = 5) -> Int32? {
        guard !process.hasExited else { return nil }
        return Self.halt(process, timeout: timeout)
    }

    /// Whether the Kamailio process started last is still running.
    public var isRunning: Bool { !process.hasExited }

    /// Stops Kamailio (if it runs) and starts it again with the same files on the same port, waiting
    /// until it answers OPTIONS (on `listenAddress`, or the namespace's current address when
    /// listening on 0.0.0.0 in a namespace). Registrations are lost (usrloc db_mode 0). Works after
    /// `stop()` too. Retried while the port is still held (TCP), within `timeout` seconds.
    public func restart(timeout: Double = 15) throws(SubprocessError) {
        guard let kamailio = Self.executable else { throw SubprocessError(description: "kamailio is not installed") }
        stop()
        let deadline = monotonicSeconds() + timeout
        var attempt = 0
        while true {
            attempt += 1
            do throws(SubprocessError) {
                process = try Self.launch(kamailio, options: options, configuration: configurationPath, runDirectory: directory.path,
                                          probeHost: Self.probeHost(options), port: port,
                                          timeout: max(1, deadline - monotonicSeconds()))
                return
            } catch {
                if attempt >= 5 || monotonicSeconds() >= deadline || !error.description.contains("ddress already in use") { throw error }
                usleep(200_000)
            }
        }
    }

    /// Whether Kamailio answers OPTIONS with 200 within `timeout` seconds.
    public func answersOptions(timeout: Double = 2) -> Bool {
        AddressedUDPProbe.answersOptions(host: Self.probeHost(options), port: port, timeout: timeout)
    }

    // MARK: usrloc

    /// Runs `kamcmd -s unix:<ctl socket> <arguments…>` (e.g. `["ul.dump"]`, `["ul.rm", "location",
    /// "alice"]`, `["tm.stats"]`) and returns its standard output; throws when it fails.
    @discardableResult
    public func rpc(_ arguments: [String], timeout: Double = 10) throws(SubprocessError) -> String {
        guard let kamcmd = Self.kamcmdExecutable else { throw SubprocessError(description: "kamcmd is not installed (Debian kamailio)") }
        let result = try runProcess(kamcmd, ["-s", "unix:" + controlSocket] + arguments, timeout: timeout)
        guard result.exitStatus == 0, !result.timedOut else {
            throw SubprocessError(description: "kamcmd \(arguments.joined(separator: " ")): \(result.stderrText) \(result.stdoutText)")
        }
        return result.stdoutText
    }

    /// Every contact in usrloc's `location` table.
    public func registrations() throws(SubprocessError) -> [Registration] {
        Self.parseDump(try rpc(["ul.dump"]))
    }

    /// The contacts registered for `user` (AORs compare case-insensitively, as the registrar does).
    public func contacts(of user: String) throws(SubprocessError) -> [Registration] {
        try registrations().filter { $0.aor.lowercased() == user.lowercased() }
    }

    /// Polls `registrations()` every 100 ms until a contact of `user` satisfies `predicate`; nil after
    /// `timeout` seconds.
    public func waitForRegistration(of user: String, timeout: Double = 10,
                                    where predicate: (Registration) -> Bool = { _ in true }) -> Registration? {
        let deadline = monotonicSeconds() + timeout
        var rounds = 0
        while rounds < 10_000 {
            rounds += 1
            if let found = (try? contacts(of: user))?.first(where: predicate) { return found }
            if monotonicSeconds() >= deadline { return nil }
            usleep(100_000)
        }
        return nil
    }

    /// Polls until `user` has no contact; false after `timeout` seconds.
    public func waitUntilUnregistered(_ user: String, timeout: Double = 10) -> Bool {
        let deadline = monotonicSeconds() + timeout
        var rounds = 0
        while rounds < 10_000 {
            rounds += 1
            if let list = try? contacts(of: user), list.isEmpty { return true }
            if monotonicSeconds() >= deadline { return false }
            usleep(100_000)
        }
        return false
    }

    /// Parses `kamcmd ul.dump` output: `AoR:` starts a record, `Address:` a contact, the fields that
    /// follow fill it in.
    public static func parseDump(_ text: String) -> [Registration] {
        var result: [Registration] = []
        var aor: String? = nil
        var current: Registration? = nil
        func flush() {
            if let current { result.append(current) }
            current = nil
        }
        for raw in text.split(separator: "\n") {
            let line = raw.drop(while: { $0 == " " || $0 == "\t" })
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = String(line[..<colon])
            var value = String(line[line.index(after: colon)...])
            while value.first == " " { value.removeFirst() }
            let unset = value == "[not set]" ? nil : value
            switch key {
            case "AoR":
                flush()
                aor = value
            case "Address":
                flush()
                current = Registration(aor: aor ?? "", contact: value)
            case "Expires": current?.expires = Int(value)
            case "Q": current?.q = value
            case "Call-ID": current?.callID = value
            case "CSeq": current?.cseq = Int(value)
            case "User-Agent": current?.userAgent = value == "n/a" ? nil : value
            case "Received": current?.received = unset
            case "Path": current?.path = unset
            case "Socket": current?.socket = unset
            case "Instance": current?.instance = unset
            case "Reg-Id": current?.regID = Int(value)
            default: break
            }
        }
        flush()
        return result
    }

    // MARK: files

    /// The placeholder values for `options` (names without the @ signs).
    public static func placeholders(_ options: Options, port: UInt16, domain: String, realm: String,
                                    database: String, controlSocket: String) -> [String: String] {
        var values: [String: String] = [
            "LISTEN_ADDRESS": options.listenAddress,
            "LISTEN_PORT": String(port),
            "DOMAIN": domain,
            "REALM": realm,
            "DB_DIR": database,
            "CTL_SOCKET": controlSocket,
            "MIN_EXPIRES": String(options.minExpires),
            "MAX_EXPIRES": String(options.maxExpires),
            "DEFAULT_EXPIRES": String(options.defaultExpires),
            "ALGORITHM": options.algorithm.rawValue,
            "CHALLENGE_FLAGS": options.qop ? "1" : "0",
            "STALE_CHALLENGE_FLAGS": options.qop ? "17" : "16",
            "WORKERS": String(max(1, options.workers)),
            "REDIRECT_TARGET": options.redirectTarget,
        ]
        values.merge(options.extraPlaceholders) { _, new in new }
        return values
    }

    /// `template` with every `@NAME@` of `values` replaced; throws when an `@UPPER_CASE@` placeholder
    /// is left over (a fixture and this code out of step).
    public static func fill(_ template: String, _ values: [String: String]) throws(SubprocessError) -> String {
        var text = template
        // Longest names first, so a name that is a suffix of another cannot cut into it.
        for (name, value) in values.sorted(by: { $0.key.count > $1.key.count }) {
            text = text.split(separator: "@" + name + "@", omittingEmptySubsequences: false).joined(separator: value)
        }
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            var rest = Substring(line)
            var rounds = 0
            while let at = rest.firstIndex(of: "@"), rounds < 1000 {
                rounds += 1
                let after = rest[rest.index(after: at)...]
                let name = after.prefix(while: { ($0 >= "A" && $0 <= "Z") || $0 == "_" || ($0 >= "0" && $0 <= "9") })
                if name.count >= 2, after.dropFirst(name.count).first == "@" {
                    throw SubprocessError(description: "placeholder @\(name)@ has no value")
                }
                rest = after
            }
        }
        return text
    }

    /// db_text's `version` table (the rows auth_db checks).
    public static let versionTable = "id(int,auto) table_name(string) table_version(int) \n0:version:1\n0:subscriber:7\n"

    /// The db_text `subscriber` table (header as /usr/share/kamailio/dbtext/kamailio/subscriber):
    /// id, username, domain, password, ha1 = H(user:realm:password), ha1b = H(user@domain:realm:password).
    public static func subscriberTable(_ subscribers: [Subscriber], domain: String, realm: String,
                                       hash: DigestHashFunction = .md5) -> String {
        var text = "id(int,auto) username(string) domain(string) password(string) ha1(string) ha1b(string) \n"
        for (index, subscriber) in subscribers.enumerated() {
            let ha1 = DigestComputation.baseHA1(hash: hash, username: subscriber.user, realm: realm, password: subscriber.password)
            let ha1b = DigestComputation.baseHA1(hash: hash, username: subscriber.user + "@" + domain, realm: realm,
                                                 password: subscriber.password)
            let cells = [String(index + 1), escape(subscriber.user), escape(domain), escape(subscriber.password), ha1, ha1b]
            text += cells.joined(separator: ":") + "\n"
        }
        return text
    }

    /// db_text escaping: backslash, colon, newline, carriage return.
    static func escape(_ value: String) -> String {
        var out = ""
        for c in value {
            switch c {
            case "\\": out += "\\\\"
            case ":": out += "\\:"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            default: out.append(c)
            }
        }
        return out
    }

    /// A digest response computed the way a client would (for tests that register by hand):
    /// H(HA1:nonce:nc:cnonce:qop:H(method:uri)), or H(HA1:nonce:H(method:uri)) without qop.
    public static func digestResponse(algorithm: ChallengeAlgorithm = .md5, user: String, realm: String, password: String,
                                      method: String, uri: String, nonce: String, qop: String? = "auth",
                                      nc: String = "00000001", cnonce: String = "0a4f113b") -> String {
        let hash = algorithm.hash
        let ha1 = DigestComputation.baseHA1(hash: hash, username: user, realm: realm, password: password)
        let ha2 = hash.hex(method + ":" + uri)
        if let qop { return hash.hex(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":" + qop + ":" + ha2) }
        return hash.hex(ha1 + ":" + nonce + ":" + ha2)
    }

    // MARK: process

    static func probeHost(_ options: Options) -> String {
        guard options.listenAddress == "0.0.0.0" else { return options.listenAddress }
        return options.namespace?.address ?? "127.0.0.1"
    }

    private static func launch(_ kamailio: String, options: Options, configuration: String, runDirectory: String,
                               probeHost: String, port: UInt16, timeout: Double) throws(SubprocessError) -> BackgroundProcess {
        let arguments = [
            kamailio, "-f", configuration, "-DD", "-E",
            "-x", "tlsf", "-m", String(options.sharedMemoryMB), "-M", "8",
            "-Y", runDirectory, "-P", runDirectory + "/kamailio.pid",
        ]
        let process: BackgroundProcess
        if let namespace = options.namespace {
            process = try namespace.spawn(arguments)
        } else {
            process = try BackgroundProcess(kamailio, Array(arguments.dropFirst()))
        }
        let probe = try AddressedUDPProbe()
        let deadline = monotonicSeconds() + timeout
        var rounds = 0
        while monotonicSeconds() < deadline && !process.hasExited && rounds < 10_000 {
            rounds += 1
            if let answer = probe.options(host: probeHost, port: port, timeout: 0.2, tag: "isp-ready"),
               answer.starts(with: Array("SIP/2.0 200".utf8)) {
                return process
            }
        }
        let output = process.output
        halt(process, timeout: 2)
        throw SubprocessError(description: "kamailio did not answer OPTIONS on \(probeHost):\(port): \(output.suffix(4000))")
    }

    /// SIGTERM to the main process, SIGKILL after `timeout`, then SIGKILL to its workers (found by
    /// parent pid before) that are still its children or orphaned.
    @discardableResult
    private static func halt(_ process: BackgroundProcess, timeout: Double) -> Int32? {
        let workers = Kamailio.children(of: process.pid)
        let status = process.terminate(signal: SIGTERM, timeout: timeout)
        for pid in workers where Kamailio.parent(of: pid) == process.pid || Kamailio.parent(of: pid) == 1 {
            kill(pid, SIGKILL)
        }
        return status
    }

    /// A port free on `address` for both UDP and TCP (bound and released; a tiny race is accepted in
    /// tests); nil after 50 attempts.
    public static func freePort(address: String) -> UInt16? {
        guard let host = IPv4.parse(address) else { return nil }
        for _ in 0..<50 {
            let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard tcp >= 0 else { return nil }
            defer { close(tcp) }
            var a = IPv4.socketAddress(host, port: 0)
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(tcp, $0, length) } }
            guard bound == 0 else { return nil }
            _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(tcp, $0, &length) } }
            let udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            guard udp >= 0 else { return nil }
            defer { close(udp) }
            let udpBound = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(udp, $0, length) } }
            if udpBound == 0 { return UInt16(bigEndian: a.sin_port) }
        }
        return nil
    }
}
