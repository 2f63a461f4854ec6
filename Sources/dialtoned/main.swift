#if canImport(Glibc)
import Glibc
#endif
import Config
import SIPEndpoint

/// `dialtoned`: the Dialtone daemon. Today it answers SIP over UDP statelessly (OPTIONS 200, the
/// correct RFC 3261 response to everything else); registration, calls and the server roles arrive with
/// later issues. Arguments are parsed by hand: the daemon does not link ArgumentParser.

let usage = """
    USAGE: dialtoned [--config FILE] [--listen udp:HOST:PORT]... [--version] [--help]

    The Dialtone voice daemon.

    OPTIONS:
      --config FILE         Configuration file (JSON). Without it, factory defaults.
      --listen ADDRESS      Listen on ADDRESS (udp:HOST:PORT, udp:[V6]:PORT); repeatable;
                            overrides the configuration's sip.listen.
      --version, -V         Print the version and exit.
      --help, -h            Print this help and exit.

    SIGHUP reloads the configuration file; SIGTERM and SIGINT stop the daemon.
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
    default:
        fail("unexpected argument '\(a)'\n\(usage)")
    }
}

/// Reads the configuration (factory defaults without a file), applying `--listen`.
func loadConfiguration(_ configPath: String?, _ listenOverride: [ListenAddress]) -> Result<DaemonConfiguration, ConfigError> {
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
    return .success(config)
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

let config: DaemonConfiguration
let path = configPath
let override = listenOverride
switch loadConfiguration(path, override) {
case .success(let c): config = c
case .failure(let e): fail("configuration: \(e)", status: 78)  // EX_CONFIG
}

do {
    let loop = try UDPServiceLoop(log: { say("dialtoned: \($0)") })
    loop.reload = {
        switch loadConfiguration(path, override) {
        case .success(let c): return c.listen
        case .failure(let e):
            say("dialtoned: configuration: \(e) (keeping the running configuration)")
            return nil
        }
    }
    try loop.bind(config.listen)
    say("dialtoned \(DialtoneVersion.string): ready")
    let exit = loop.run()
    if case .terminated(let sig) = exit { say("dialtoned: stopped (signal \(sig))") }
} catch {
    fail("\(error)", status: 71)  // EX_OSERR
}
exit(0)
