#if canImport(Glibc)
import Glibc
#endif
import Testing
import Config
import DialtoneTestKit

/// `dialtoned --config FILE --run-dir DIR` with line accounts (`VoiceService`), started by pid and
/// waited for ("ready"); optionally inside a network namespace (`ip netns exec`). `status()` reads
/// the status file the daemon keeps, as `dialtone status` does.
final class LineDaemon {
    let port: UInt16
    let directory: TemporaryDirectory
    let configPath: String
    private(set) var process: BackgroundProcess

    /// - `voice`: the `VoiceService` JSON object (text).
    /// - `listenHost`: the address dialtoned binds (UDP), 127.0.0.1 or an address in `namespace`.
    /// A port picked as free may be taken by a parallel test before dialtoned binds it: then it
    /// starts again on another (three attempts).
    init(voice: String, listenHost: String = "127.0.0.1", namespace: String? = nil, dnsServer: String? = nil) throws {
        let executable = try #require(BuiltProducts.executable("dialtoned"), "dialtoned is not built")
        directory = try TemporaryDirectory(prefix: "dialtone-line-")
        let dns = dnsServer.map { ", \"dns-server\": \"\($0)\"" } ?? ""
        var failures: [String] = []
        for _ in 0..<3 {
            let port = UDPProbe.freePort()
            let config = "{\"sip\": {\"listen\": [\"udp:\(listenHost):\(port)\"]\(dns)},\n\"VoiceService\": \(voice)}\n"
            let path = try directory.write("dialtoned.json", Array(config.utf8))
            var argv = [executable, "--config", path, "--run-dir", directory.path + "/run"]
            if let namespace { argv = ["/usr/sbin/ip", "netns", "exec", namespace] + argv }
            let process = try BackgroundProcess(argv[0], Array(argv.dropFirst()))
            if process.waitForOutput("ready", timeout: 30) {
                self.port = port
                self.configPath = path
                self.process = process
                return
            }
            process.stop()
            failures.append(process.output)
            if !process.output.contains("in use") { break }
        }
        directory.remove()
        Issue.record("dialtoned did not start: \(failures)")
        throw LineDaemonError()
    }

    struct LineDaemonError: Error {}

    deinit { stop() }

    func stop() {
        process.terminate()
        directory.remove()
    }

    /// SIGTERM; the exit status (nil if it had to be killed).
    func terminate(timeout: Double = 10) -> Int32? {
        process.terminate(signal: SIGTERM, timeout: timeout).flatMap { BackgroundProcess.exitCode($0) }
    }

    var output: String { process.output }

    /// The lines of the status file, nil when there is none (yet) or it does not parse.
    func status() -> [JSONValue]? {
        guard let bytes = try? AtomicFile.read(directory.path + "/run/status.json", maxBytes: 1 << 20),
              let document = JSONValue.parse(bytes), case .array(let lines)? = document["lines"] else { return nil }
        return lines
    }

    /// The status of line `alias`, or nil.
    func status(of alias: String) -> String? {
        status()?.first { $0["Alias"]?.stringValue == alias }?["Status"]?.stringValue
    }

    /// Waits until line `alias` shows `wanted`; true when it did within `timeout` seconds.
    func waitForStatus(_ alias: String, _ wanted: String, timeout: Double) -> Bool {
        let deadline = lineClock() + timeout
        while lineClock() < deadline {
            if status(of: alias) == wanted { return true }
            usleep(20_000)
        }
        return false
    }

    /// The server that answered line `alias`'s last REGISTER ("udp:ADDRESS:PORT").
    func server(of alias: String) -> String? {
        status()?.first { $0["Alias"]?.stringValue == alias }?["Server"]?.stringValue
    }

    /// Runs `dialtone ARGS --run-dir DIR --json` against this daemon: exit status and the reply.
    @discardableResult
    func dialtone(_ arguments: [String]) -> (status: Int32?, reply: JSONValue?, text: String) {
        guard let executable = BuiltProducts.executable("dialtone") else { return (nil, nil, "dialtone is not built") }
        let argv = arguments + ["--run-dir", directory.path + "/run", "--json"]
        guard let result = try? runProcess(executable, argv, timeout: 20) else { return (nil, nil, "could not run dialtone") }
        let text = result.stdoutText + result.stderrText
        return (result.exitStatus, JSONValue.parse(result.stdoutText), text)
    }

    /// The calls `dialtone calls` lists (each an object with id, line, direction, state, remote, reason).
    func calls() -> [JSONValue] {
        if case .array(let list)? = dialtone(["calls"]).reply?["calls"] { return list }
        return []
    }

    /// The state of call `id` ("calling", "ringing", "incoming", "established", "held", "ended").
    func callState(_ id: Int) -> String? {
        calls().first { $0["id"]?.intValue == id }?["state"]?.stringValue
    }

    /// Waits until call `id` is in `state`; true when it was within `timeout` seconds.
    func waitForCall(_ id: Int, _ state: String, timeout: Double) -> Bool {
        let deadline = lineClock() + timeout
        while lineClock() < deadline {
            if callState(id) == state { return true }
            usleep(50_000)
        }
        return false
    }

    /// The newest call of line `alias`, waited for up to `timeout` seconds: (id, state, direction).
    func waitForNewestCall(line alias: String, timeout: Double) -> (id: Int, state: String, direction: String)? {
        let deadline = lineClock() + timeout
        while lineClock() < deadline {
            if let c = calls().last(where: { $0["line"]?.stringValue == alias }), let id = c["id"]?.intValue {
                return (id, c["state"]?.stringValue ?? "", c["direction"]?.stringValue ?? "")
            }
            usleep(50_000)
        }
        return nil
    }

    /// Waits until line `alias` shows `server` as the one holding its registration.
    func waitForServer(_ alias: String, _ server: String, timeout: Double) -> Bool {
        let deadline = lineClock() + timeout
        while lineClock() < deadline {
            if self.server(of: alias) == server { return true }
            usleep(20_000)
        }
        return false
    }

    /// The number of successful registrations line `alias` reports.
    func registrations(of alias: String) -> Int {
        status()?.first { $0["Alias"]?.stringValue == alias }?["Registrations"]?.intValue ?? 0
    }
}

func lineClock() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// A `VoiceService` object with one network and the given clients (alias, user, password).
func voiceService(proxy: String, port: UInt16, domain: String, clients: [(alias: String, user: String, password: String)],
                  expires: Int = 3600, extraNetwork: String = "") -> String {
    var text = "{\"SIP\": {\"Network\": [{\"Alias\": \"isp\", \"Enable\": true, \"ProxyServer\": \"\(proxy)\", "
    text += "\"ProxyServerPort\": \(port), \"ServerDomain\": \"\(domain)\", \"RegisterExpires\": \(expires), "
    text += "\"RegisterRetryInterval\": 5" + extraNetwork + "}],\n\"Client\": ["
    text += clients.map { c in
        "{\"Alias\": \"\(c.alias)\", \"Enable\": true, \"Network\": \"isp\", \"AuthUserName\": \"\(c.user)\", "
            + "\"AuthPassword\": \"\(c.password)\", \"RegisterURI\": \"sip:\(c.user)@\(domain)\"}"
    }.joined(separator: ", ")
    text += "]}}"
    return text
}
