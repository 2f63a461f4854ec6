#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Testing
import DialtoneTestKit

/// The `server` section of a test configuration (see Sources/Config/ServerConfiguration.swift).
struct ServerSetup {
    var mode = "redirect"
    var domains = ["127.0.0.1"]
    /// Nil: dialtoned's default (MD5 only). baresip 1.0.0 answers only MD5 challenges (a 401 naming
    /// any other algorithm fails it).
    var algorithms: [String]? = nil
    var authenticate = true
    var accounts: [(user: String, password: String)] = [("alice", "secret"), ("bob", "secret")]
    /// Location store file; nil keeps bindings in memory.
    var store: String? = nil
    var recordRoute = true

    /// The whole configuration file for dialtoned listening on udp:127.0.0.1:`port`.
    func configuration(port: UInt16) -> String {
        var registrar: [(key: String, value: JSONValue)] = [(key: "authenticate", value: .bool(authenticate))]
        if let algorithms { registrar.append((key: "algorithms", value: .array(algorithms.map { JSONValue.string($0) }))) }
        if let store { registrar.append((key: "store", value: .string(store))) }
        let server = JSONValue.object([
            (key: "mode", value: .string(mode)),
            (key: "domains", value: .array(domains.map { JSONValue.string($0) })),
            (key: "record-route", value: .bool(recordRoute)),
            (key: "registrar", value: .object(registrar)),
            (key: "accounts", value: .array(accounts.map { account in
                JSONValue.object([(key: "user", value: .string(account.user)), (key: "password", value: .string(account.password))])
            })),
        ])
        let root = JSONValue.object([
            (key: "sip", value: .object([(key: "listen", value: .array([.string("udp:127.0.0.1:" + String(port))]))])),
            (key: "server", value: server),
        ])
        return root.text(indent: 2)
    }
}

/// `dialtoned --config FILE` on udp:127.0.0.1:<free port> with a `server` section, started by pid
/// and waited for ("ready"); `restart()` stops it with SIGTERM and starts it again on the same port
/// with the same file.
final class Dialtoned {
    let port: UInt16
    let directory: TemporaryDirectory
    let configPath: String
    private(set) var process: BackgroundProcess
    private let executable: String

    init(_ setup: ServerSetup, port: UInt16 = UDPProbe.freePort()) throws {
        executable = try #require(BuiltProducts.executable("dialtoned"), "dialtoned is not built")
        self.port = port
        directory = try TemporaryDirectory(prefix: "dialtone-interop-")
        configPath = try directory.write("dialtoned.json", Array(setup.configuration(port: port).utf8))
        process = try Self.start(executable, configPath)
    }

    deinit { stop() }

    /// SIGTERM (SIGKILL after 5 s) and the folder removed. Tests call it in a `defer`, which also
    /// keeps the daemon alive to the end of the test (ARC may end a local's life at its last use).
    func stop() {
        process.terminate()
        directory.remove()
    }

    private static func start(_ executable: String, _ configPath: String) throws -> BackgroundProcess {
        let process = try BackgroundProcess(executable, ["--config", configPath])
        let ready = process.waitForOutput("ready", timeout: 30)
        if !ready { process.stop() }
        try #require(ready, "dialtoned did not start: \(process.output)")
        return process
    }

    /// SIGTERM (it must exit 0 within 5 s), then a new process with the same configuration.
    func restart() throws {
        let status = process.terminate(signal: SIGTERM, timeout: 5)
        #expect(status.flatMap { BackgroundProcess.exitCode($0) } == 0, "dialtoned did not stop cleanly: \(process.output)")
        process = try Self.start(executable, configPath)
    }

    var output: String { process.output }
}

/// A parsed SIP response: status and header lines (by lower-cased name, in order).
struct SIPResponse {
    let status: Int
    let text: String
    let headers: [(name: String, value: String)]

    init?(_ bytes: [UInt8]) {
        text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
        guard let first = lines.first, first.hasPrefix("SIP/2.0 "), first.count >= 11,
              let code = Int(first.dropFirst(8).prefix(3)) else { return nil }
        status = code
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingSpaces.lowercased()
            headers.append((name: Self.fullName(name), value: String(line[line.index(after: colon)...].trimmingSpaces)))
        }
        self.headers = headers
    }

    /// Compact forms (RFC 3261 §7.3.3) mapped to full names.
    static func fullName(_ name: String) -> String {
        switch name {
        case "m": return "contact"
        case "v": return "via"
        case "f": return "from"
        case "t": return "to"
        case "i": return "call-id"
        case "l": return "content-length"
        default: return name
        }
    }

    func values(_ name: String) -> [String] { headers.filter { $0.name == name }.map(\.value) }
    func value(_ name: String) -> String? { values(name).first }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }
}

/// Sends an INVITE for `sip:<user>@127.0.0.1` to dialtoned from a UDPProbe and returns the final
/// response (a 100 is skipped; the INVITE is retransmitted every 500 ms, at most 8 times); for a
/// non-2xx final response it sends the ACK (§17.1.1.3). Nil when no final response came.
func inviteThroughUDP(user: String, port: UInt16, probe: UDPProbe = UDPProbe(), tag: String) -> SIPResponse? {
    let callID = "interop-" + tag + "-" + String(getpid())
    let branch = "z9hG4bK-interop-" + tag
    let via = "Via: SIP/2.0/UDP 127.0.0.1:\(probe.port);branch=\(branch);rport\r\n"
    let from = "From: <sip:probe@127.0.0.1>;tag=probe-\(tag)\r\n"
    let to = "To: <sip:\(user)@127.0.0.1>"
    let invite = "INVITE sip:\(user)@127.0.0.1 SIP/2.0\r\n" + via + "Max-Forwards: 70\r\n" + from + to + "\r\n"
        + "Call-ID: \(callID)\r\nCSeq: 1 INVITE\r\nContact: <sip:probe@127.0.0.1:\(probe.port)>\r\nContent-Length: 0\r\n\r\n"
    var final: SIPResponse? = nil
    var sends = 0
    var nextSend = 0.0
    let deadline = now() + 6
    while final == nil && now() < deadline {
        if now() >= nextSend && sends < 8 {
            probe.send(Array(invite.utf8), toPort: port)
            sends += 1
            nextSend = now() + 0.5
        }
        guard let bytes = probe.receive(timeout: 0.1), let response = SIPResponse(bytes) else { continue }
        if response.status >= 200 { final = response }
        if response.status >= 100 && response.status < 200 { sends = 8 }  // provisional: stop retransmitting
    }
    if let final, final.status >= 300 {
        let toWithTag = final.value("to").map { "To: " + $0 } ?? to
        let ack = "ACK sip:\(user)@127.0.0.1 SIP/2.0\r\n" + via + "Max-Forwards: 70\r\n" + from + toWithTag + "\r\n"
            + "Call-ID: \(callID)\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
        probe.send(Array(ack.utf8), toPort: port)
    }
    return final
}

/// Sends REGISTER without credentials binding `sip:<user>@127.0.0.1` to `sip:<user>@127.0.0.1:<port>`
/// from a socket bound to that same port (a first-party registration: dialtoned's proxy routes to a
/// binding's packet source, so the REGISTER must come from where the calls are to go), for a
/// registrar configured with `authenticate: false`; returns the final response. The socket is closed
/// before returning, so an answering peer can bind the port afterwards.
func registerWithoutAuth(user: String, contactPort: UInt16, port: UInt16, expires: Int = 600, tag: String,
                         fromContactPort: Bool = true) -> SIPResponse? {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    // From the contact's own port (a phone registering itself), or, when something already listens
    // there, from a port of the kernel's choice (a third-party registration; the Via names that port,
    // so the registrar sees no NAT and keeps the Contact as given).
    var local = sockaddr_in()
    local.sin_family = sa_family_t(AF_INET)
    local.sin_port = fromContactPort ? contactPort.bigEndian : 0
    local.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &local) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { return nil }
    let sourcePort = UInt16(bigEndian: local.sin_port)
    let request = "REGISTER sip:127.0.0.1 SIP/2.0\r\n"
        + "Via: SIP/2.0/UDP 127.0.0.1:\(sourcePort);branch=z9hG4bK-reg-\(tag);rport\r\n"
        + "Max-Forwards: 70\r\nFrom: <sip:\(user)@127.0.0.1>;tag=reg-\(tag)\r\nTo: <sip:\(user)@127.0.0.1>\r\n"
        + "Call-ID: register-\(tag)-\(getpid())\r\nCSeq: 1 REGISTER\r\n"
        + "Contact: <sip:\(user)@127.0.0.1:\(contactPort)>\r\nExpires: \(expires)\r\nContent-Length: 0\r\n\r\n"
    var server = sockaddr_in()
    server.sin_family = sa_family_t(AF_INET)
    server.sin_port = port.bigEndian
    server.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bytes = Array(request.utf8)
    var buffer = [UInt8](repeating: 0, count: 65_536)
    for _ in 0..<6 {
        _ = bytes.withUnsafeBytes { raw in
            withUnsafePointer(to: &server) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            } }
        }
        let deadline = now() + 0.5
        while now() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 100) == 1 else { continue }
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0, let response = SIPResponse(Array(buffer[0..<n])), response.status >= 200 { return response }
        }
    }
    return nil
}

/// The baresip binary; a test that needs it fails (not skips) when it is missing.
func requireBaresip() throws {
    try #require(Baresip.executable != nil, "baresip is not installed (Debian baresip-core; make deps)")
}

/// The sipp binary; a test that needs it fails (not skips) when it is missing.
func requireSIPp() throws {
    try #require(SIPp.executable != nil, "sipp is not installed (Debian sip-tester; make deps)")
}

/// Monotonic seconds.
func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

