#if canImport(Glibc)
import Glibc
#endif
import Config
import SIPEndpoint
import SIPServer
import SIPTransaction
import SIPTransport

/// `dialtoned`: the Dialtone daemon. It answers SIP over UDP, TCP and TLS through server
/// transactions (OPTIONS 200, the correct RFC 3261 response to everything else) and, with a `server`
/// section in the configuration, runs the server roles: registrar, stateful or stateless proxy,
/// redirect server (`SIPServerHost`), and registers every enabled line account of its `VoiceService`
/// section with the line's registrar (`LineService`, SIPUserAgent).
/// Arguments are parsed by hand: the daemon does not link ArgumentParser.

let usage = """
    USAGE: dialtoned [--config FILE] [--listen TRANSPORT:HOST:PORT]... [--tls-cert FILE --tls-key FILE]
                     [--max-transactions N] [--run-dir DIR] [--version] [--help]

    The Dialtone voice daemon.

    OPTIONS:
      --config FILE         Configuration file (JSON). Without it, factory defaults.
      --listen ADDRESS      Listen on ADDRESS: udp:HOST:PORT, tcp:HOST:PORT or tls:HOST:PORT
                            (IPv6 as [V6]); repeatable; overrides the configuration's sip.listen.
      --tls-cert FILE       PEM certificate chain for tls: addresses (sip.tls.certificate).
      --tls-key FILE        PEM private key for tls: addresses (sip.tls.key).
      --max-transactions N  Most server transactions at once; past it, 503 (sip.max-transactions).
      --run-dir DIR         Where the line status file status.json and the control socket
                            control.sock go (default /run/dialtone); `dialtone status`, `dialtone
                            call` and the other call commands take the same --run-dir DIR.
      --version, -V         Print the version and exit.
      --help, -h            Print this help and exit.

    SIGHUP reloads the configuration file; SIGUSR1 logs statistics (transactions in flight, counters)
    to stderr; SIGTERM and SIGINT stop the daemon.
    """

func say(_ text: String, fd: Int32 = 2) {
    let bytes = Array((text + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 { if errno == EINTR { continue }; return }
        offset += n
    }
}

func fail(_ text: String, status: Int32 = 64) -> Never {
    say("dialtoned: \(text)")
    exit(status)
}

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.count > 1, let flag = arguments.first(where: { ["--help", "-h", "--version", "-V"].contains($0) }) {
    fail("\(flag) takes no other arguments\n\(usage)")
}
var configPath: String? = nil
var listenOverride: [ListenAddress] = []
var overrides = Overrides()
var runDirectoryFlag: String? = nil
while !arguments.isEmpty {
    let a = arguments.removeFirst()
    switch a {
    case "--help", "-h":
        say(usage, fd: 1)
        exit(0)
    case "--version", "-V":
        say("dialtoned \(DialtoneVersion.string)", fd: 1)
        exit(0)
    case "--config":
        guard !arguments.isEmpty else { fail("--config needs a file\n\(usage)") }
        configPath = arguments.removeFirst()
    case "--listen":
        guard !arguments.isEmpty else { fail("--listen needs an address\n\(usage)") }
        switch ListenAddress.parse(arguments.removeFirst()) {
        case .success(let l): listenOverride.append(l)
        case .failure(let e): fail("\(e)")
        }
    case "--tls-cert", "--tls-key":
        guard let file = arguments.first, !file.isEmpty else { fail("\(a) needs a file\n\(usage)") }
        arguments.removeFirst()
        if a == "--tls-cert" { overrides.tlsCertificate = file } else { overrides.tlsKey = file }
    case "--run-dir":
        guard let dir = arguments.first, !dir.isEmpty else { fail("--run-dir needs a directory\n\(usage)") }
        arguments.removeFirst()
        runDirectoryFlag = dir
    case "--max-transactions":
        guard let text = arguments.first, let n = Int(text), n >= 1 else { fail("--max-transactions needs a number of at least 1\n\(usage)") }
        arguments.removeFirst()
        overrides.maxTransactions = n
    default:
        fail("unexpected argument '\(a)'\n\(usage)")
    }
}

/// What the flags override in the configuration.
struct Overrides {
    var tlsCertificate: String? = nil
    var tlsKey: String? = nil
    var maxTransactions: Int? = nil
}

/// Reads the configuration (factory defaults without a file), applying `--listen` and the other flags.
func loadConfiguration(_ configPath: String?, _ listenOverride: [ListenAddress], _ overrides: Overrides) -> Result<DaemonConfiguration, ConfigError> {
    var config = DaemonConfiguration.factoryDefault
    if let configPath {
        guard let bytes = readWholeFile(configPath, limit: 1 << 20) else {
            return .failure(ConfigError(.unreadable, "cannot read \(configPath): \(String(cString: strerror(errno)))"))
        }
        switch DaemonConfiguration.parse(bytes) {
        case .success(let c): config = c
        case .failure(let e): return .failure(e)
        }
    }
    if !listenOverride.isEmpty { config.listen = listenOverride }
    if let c = overrides.tlsCertificate { config.tlsCertificate = c }
    if let k = overrides.tlsKey { config.tlsKey = k }
    if let n = overrides.maxTransactions { config.maxTransactions = n }
    return config.validated()
}

func readWholeFile(_ path: String, limit: Int) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16_384)
    while result.count <= limit {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { if errno == EINTR { continue }; return nil }
        if n == 0 { return result }
        result.append(contentsOf: chunk[0..<n])
    }
    errno = EFBIG
    return nil
}

/// Where the line status file (status.json, read by `dialtone status`) is written.
let runDirectory: String? = runDirectoryFlag ?? "/run/dialtone"
let config: DaemonConfiguration
let path = configPath
let override = listenOverride
let flags = overrides
switch loadConfiguration(path, override, flags) {
case .success(let c): config = c
case .failure(let e): fail("configuration: \(e)", status: 78)  // EX_CONFIG
}

/// The TLS server context for the configuration, nil when it has no tls: address.
func tlsContext(for config: DaemonConfiguration) throws(EndpointError) -> TLSContext? {
    guard config.needsTLS, let certificate = config.tlsCertificate, let key = config.tlsKey else { return nil }
    do {
        return try TLSContext(server: certificate, keyFile: key)
    } catch {
        throw EndpointError("TLS: \(error)")
    }
}

/// One line for SIGUSR1: what is alive now and the counters so far.
func statisticsLine(_ endpoint: SIPEndpoint) -> String {
    let s = endpoint.statistics
    return "dialtoned: statistics: serverTransactions=\(endpoint.serverTransactionCount)"
        + " connections=\(endpoint.connectionCount) requests=\(s.requestsReceived)"
        + " transactionsCreated=\(s.transactionsCreated) transactionsTerminated=\(s.transactionsTerminated)"
        + " retransmissionsAbsorbed=\(s.retransmissionsAbsorbed) statelessAnswers=\(s.statelessAnswers)"
        + " statelessResponses=\(s.statelessResponses) overloadRejections=\(s.overloadRejections)"
        + " responsesDropped=\(s.responsesDropped) timersFired=\(s.timersFired) transportErrors=\(s.transportErrors)"
}

/// `sip.listen` plus a socket for each enabled line's own port (TR-104 UserAgentPort, with its
/// UserAgentTransport) that no listen address has yet, on the host of the first listen address of
/// that transport (else every IPv4 address).
func effectiveListen(_ c: DaemonConfiguration) -> [ListenAddress] {
    var addresses = c.listen
    for line in c.voice?.enabledLines ?? [] where line.network.userAgentPort != 0 {
        let kind: ListenAddress.Transport
        switch line.network.userAgentTransport {
        case .udp: kind = .udp
        case .tcp: kind = .tcp
        case .tls: kind = .tls
        }
        let port = line.network.userAgentPort
        guard !addresses.contains(where: { $0.transport == kind && $0.port == port }) else { continue }
        let host = addresses.first { $0.transport == kind }?.host ?? "0.0.0.0"
        addresses.append(ListenAddress(transport: kind, host: host, port: port))
    }
    return addresses
}

let tls: TLSContext?
do {
    tls = try tlsContext(for: config)
} catch {
    fail("configuration: \(error)", status: 78)
}

do {
    let signals = try SignalPipe()
    // One bound for both sides: a proxy holds a client request per server transaction it forwards
    // (an INVITE's both live 64·T1 after a 2xx, RFC 6026), so the client side needs as many.
    var endpointConfiguration = EndpointConfiguration(maxServerTransactions: config.maxTransactions,
                                                      maxClientRequests: config.maxTransactions)
    if let dns = config.dnsServer { endpointConfiguration.dns.nameserver = (dns, config.dnsPort) }
    // TR-104 TimerT1/T2/T4 of the lines' network: one set of timers per endpoint, so the first
    // enabled line's network sets them for the whole daemon (a second network with other values is
    // logged and runs with these).
    let lineNetworks = (config.voice?.enabledLines ?? []).map(\.network)
    if let n = lineNetworks.first {
        endpointConfiguration.timers = TransactionTimers(t1: .milliseconds(n.timerT1), t2: .milliseconds(n.timerT2), t4: .milliseconds(n.timerT4))
        if lineNetworks.contains(where: { ($0.timerT1, $0.timerT2, $0.timerT4) != (n.timerT1, n.timerT2, n.timerT4) }) {
            say("dialtoned: the lines' networks set different TimerT1/T2/T4; using network \(n.alias)'s for every line")
        }
    }
    let endpoint = SIPEndpoint(configuration: endpointConfiguration,
                               log: { say("dialtoned: \($0)") })
    endpoint.reload = {
        switch loadConfiguration(path, override, flags) {
        case .success(let c):
            do {
                try endpoint.bind(effectiveListen(c), tls: try tlsContext(for: c))
            } catch {
                say("dialtoned: reload failed, keeping the old sockets: \(error)")
            }
        case .failure(let e):
            say("dialtoned: configuration: \(e) (keeping the running configuration)")
        }
    }
    try endpoint.bind(effectiveListen(config), tls: tls)
    // The server roles (issue 5) when the configuration has a `server` section. A reload rebinds the
    // sockets; the roles themselves (mode, domains, accounts) take effect at the next start.
    let server = config.server.map { SIPServerHost(configuration: $0, endpoint: endpoint, log: { say("dialtoned: \($0)") }) }
    if let server {
        say("dialtoned: server roles: \(server.core.mode.rawValue), domains \(server.configuration.domains.joined(separator: ", "))")
        let reload = endpoint.reload
        endpoint.reload = { [unowned server] in
            reload()
            server.endpointRebound()
        }
    }
    // The line accounts (issue 6): registration of every enabled VoiceService.SIP.Client.
    let lines = config.voice.map(\.enabledLines) ?? []
    let lineService: LineService? = lines.isEmpty ? nil : LineService(
        lines: lines, endpoint: endpoint, statusPath: runDirectory.map { $0 + "/status.json" }, log: { say("dialtoned: \($0)") })
    if let runDirectory { _ = mkdir(runDirectory, 0o755) }
    // The control channel of `dialtone call/answer/hangup/hold/resume/calls` (<run-dir>/control.sock).
    // Without it the daemon still runs: voice matters more than the command line.
    var control: ControlSocket? = nil
    if let runDirectory {
        do {
            control = try ControlSocket(directory: runDirectory, endpoint: endpoint, log: { say("dialtoned: \($0)") }) { request in
                if let lineService { return lineService.control(request) }
                return ControlReply.failure("no lines configured")
            }
        } catch {
            say("dialtoned: \(error); `dialtone call` and the other call commands will not reach this daemon")
        }
    }
    lineService?.start()
    say("dialtoned \(DialtoneVersion.string): ready")
    endpoint.report = { [unowned endpoint] in say(statisticsLine(endpoint)) }
    let sig = endpoint.run(signals: signals)
    control?.stop()
    // Unregister every line (RFC 3261 §10.2.2) before going; bounded so a dead registrar cannot hold
    // the shutdown.
    lineService?.stop(timeout: 3)
    server?.shutdown()
    say("dialtoned: stopped (signal \(sig))")
} catch {
    fail("\(error)", status: 71)  // EX_OSERR
}
exit(0)
