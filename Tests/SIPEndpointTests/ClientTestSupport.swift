#if canImport(Glibc)
import Glibc
#endif
import Testing
import Config
import SIPCore
import SIPEndpoint
import SIPTransaction
import SIPTransport
import DialtoneTestKit

/// Collects what a client transaction's handler is told.
final class EventRecorder {
    var events: [ClientTransactionEvent] = []
    /// When each event arrived (MonotonicClock milliseconds).
    var times: [UInt64] = []

    var handler: (ClientTransactionEvent) -> Void {
        { [self] event in
            events.append(event)
            times.append(MonotonicClock.milliseconds())
        }
    }

    var finals: [ClientTransactionEvent] { events.filter(\.isFinal) }
    var provisionals: [SIPMessage] { events.compactMap { if case .provisional(let m) = $0 { return m } else { return nil } } }
}

/// Steps every endpoint (in this thread) until `done` or `seconds` pass; true when `done`.
@discardableResult
func pump(_ endpoints: [SIPEndpoint], seconds: Double, until done: () -> Bool) -> Bool {
    let deadline = MonotonicClock.milliseconds() + UInt64(seconds * 1000)
    while !done() {
        if MonotonicClock.milliseconds() >= deadline { return false }
        for e in endpoints { e.step(maxWait: 5) }
    }
    return true
}

/// Steps every endpoint for `seconds`, whatever happens.
func pumpFor(_ endpoints: [SIPEndpoint], seconds: Double) {
    _ = pump(endpoints, seconds: seconds) { false }
}

/// An endpoint bound to 127.0.0.1 on free ports for the given transports.
func makeEndpoint(_ transports: [TransportKind] = [.udp], host: String = "127.0.0.1",
                  configuration: EndpointConfiguration = .default, tls: TLSContext? = nil) throws -> SIPEndpoint {
    let e = SIPEndpoint(configuration: configuration)
    var addresses: [ListenAddress] = []
    for t in transports {
        guard let kind = ListenAddress.Transport(rawValue: t.rawValue) else { continue }
        addresses.append(ListenAddress(transport: kind, host: host, port: 0))
    }
    try e.bind(addresses, tls: tls)
    return e
}

func port(of endpoint: SIPEndpoint, _ transport: TransportKind) -> UInt16 {
    endpoint.localAddresses.first { $0.transport == transport }?.address.port ?? 0
}

/// A request as a TU would build it (no Via: the endpoint adds it).
func clientRequest(_ method: SIPMethod, to uri: String, callID: String, sequence: UInt32 = 1) throws -> SIPMessage {
    var headers = SIPHeaders()
    headers.append(.from, "<sip:alice@127.0.0.1>;tag=uac-" + callID)
    headers.append(.to, "<" + uri + ">")
    headers.append(.callID, callID)
    headers.append(.cseq, String(sequence) + " " + method.rawValue)
    headers.append(.contact, "<sip:alice@127.0.0.1>")
    return SIPMessage(method: method, uri: try URI.parse(uri), headers: headers)
}

func sipURI(_ text: String) throws -> SIPURI {
    try #require(try URI.parse(text).sipURI, "not a SIP URI: \(text)")
}

/// A throwaway CA and a server certificate for `sip.example.test` and 127.0.0.1 (not 127.0.0.2, not
/// other names), made with the openssl CLI.
struct ClientTestPKI {
    let directory: TemporaryDirectory
    var caFile: String { directory.path + "/ca.pem" }
    var certificateFile: String { directory.path + "/server.pem" }
    var keyFile: String { directory.path + "/server.key" }

    static func make() throws -> ClientTestPKI {
        try #require(access("/usr/bin/openssl", X_OK) == 0, "openssl CLI missing (make deps installs it)")
        let dir = try TemporaryDirectory(prefix: "client-tls-")
        let p = dir.path
        let ec: [String] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        var ca: [String] = ["req", "-x509"]
        ca.append(contentsOf: ec)
        ca.append(contentsOf: ["-keyout", p + "/ca.key", "-out", p + "/ca.pem", "-days", "2", "-subj", "/CN=Client Test CA"])
        ca.append(contentsOf: ["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        try DaemonTestPKI.openssl(ca)
        var request: [String] = ["req"]
        request.append(contentsOf: ec)
        request.append(contentsOf: ["-keyout", p + "/server.key", "-out", p + "/server.csr", "-subj", "/CN=sip.example.test"])
        try DaemonTestPKI.openssl(request)
        _ = try dir.write("server.ext", Array("subjectAltName=DNS:sip.example.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n".utf8))
        try DaemonTestPKI.openssl(["x509", "-req", "-in", p + "/server.csr", "-CA", p + "/ca.pem", "-CAkey", p + "/ca.key",
                                   "-set_serial", "3001", "-days", "2", "-extfile", p + "/server.ext", "-out", p + "/server.pem"])
        return ClientTestPKI(directory: dir)
    }
}

/// A dnsmasq on 127.0.0.1 serving `records`, and an endpoint configuration whose resolver asks it.
func startDNS(_ records: [String]) throws -> Dnsmasq {
    try #require(access(Dnsmasq.executable, X_OK) == 0, "dnsmasq is missing: install the Debian package dnsmasq (make deps)")
    return try Dnsmasq(records: records, ttl: 60)
}

func configuration(dns: Dnsmasq?, t1: Duration = .milliseconds(500), tlsClient: TLSContext? = nil) -> EndpointConfiguration {
    var c = EndpointConfiguration(timers: TransactionTimers(t1: t1, t2: max(t1 * 4, .milliseconds(40)), t4: max(t1 * 5, .milliseconds(50)),
                                                            timerD: max(t1 * 4, .milliseconds(40))),
                                  tlsClient: tlsClient)
    if let dns {
        c.dns = ResolverDNSLookup.Configuration(nameserver: (address: "127.0.0.1", port: dns.port), timeout: 3, attempts: 2)
    }
    c.locator = SIPServerLocator.Configuration(useIPv6: false)
    return c
}

/// A UDP port nobody listens on (bound and released at once).
func closedUDPPort() -> UInt16 { UDPProbe.freePort() }

/// A TCP port on 127.0.0.1 nobody listens on (bound, not listening, released).
func closedTCPPort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return 1 }
    defer { close(fd) }
    var a = sockaddr_in()
    a.sin_family = sa_family_t(AF_INET)
    a.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return UInt16(bigEndian: a.sin_port)
}

/// Reads datagrams at `probe` while stepping `endpoints`, until `count` arrived or `seconds` passed;
/// each with its arrival time (ms).
func collect(_ probe: UDPProbe, count: Int, seconds: Double, stepping endpoints: [SIPEndpoint]) -> [(at: UInt64, bytes: [UInt8])] {
    var got: [(at: UInt64, bytes: [UInt8])] = []
    let deadline = MonotonicClock.milliseconds() + UInt64(seconds * 1000)
    while got.count < count && MonotonicClock.milliseconds() < deadline {
        for e in endpoints { e.step(maxWait: 2) }
        while got.count < count, let bytes = probe.receive(timeout: 0) {
            got.append((at: MonotonicClock.milliseconds(), bytes: bytes))
        }
    }
    return got
}

func parsed(_ bytes: [UInt8]?) -> SIPMessage? {
    guard let bytes else { return nil }
    return try? SIPMessage.parse(datagram: bytes)
}
