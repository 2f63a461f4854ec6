#if canImport(Glibc)
import Glibc
#endif

/// A real dnsmasq serving test records on 127.0.0.1 (or another local address, e.g. the host side of
/// a `NetworkNamespace`'s veth) at a random high port, started and stopped by pid
/// (through `BackgroundProcess`). No resolv.conf, no /etc/hosts, no configuration file, no DHCP: it
/// answers only the records given, and (with `localDomain`) NXDOMAIN for other names in that domain.
///
/// Records use dnsmasq's own options, e.g. `--naptr-record=example.test,10,50,s,SIP+D2U,,_sip._udp.example.test`,
/// `--srv-host=_sip._udp.example.test,sip1.example.test,5060,10,60`,
/// `--host-record=sip1.example.test,127.0.0.2`.
public final class Dnsmasq: @unchecked Sendable {
    public static let executable = "/usr/sbin/dnsmasq"

    public let port: UInt16
    public let process: BackgroundProcess
    /// The address it listens on (UDP and TCP).
    public let listenAddress: String

    /// Starts dnsmasq with `records` (dnsmasq options), `ttl` for every local record (`--local-ttl`),
    /// answering authoritatively for `localDomain`, on `listenAddress` (an address of this host).
    /// Tries a few random ports if one is taken; waits (up to `timeout` seconds) until dnsmasq says it
    /// has started.
    public init(records: [String], localDomain: String = "example.test", ttl: UInt32 = 60, timeout: Double = 10,
                listenAddress: String = "127.0.0.1") throws(SubprocessError) {
        var rng = SystemRandomNumberGenerator()
        var lastOutput = ""
        for _ in 0..<8 {
            let port = UInt16.random(in: 20_000...60_000, using: &rng)
            let arguments = [
                "--no-daemon", "--no-resolv", "--no-hosts", "--bind-interfaces",
                "--listen-address=\(listenAddress)", "--port=\(port)", "--conf-file=/dev/null",
                "--log-facility=-", "--log-queries", "--pid-file", "--local-ttl=\(ttl)",
                "--local=/\(localDomain)/",
            ] + records
            let process = try BackgroundProcess(Self.executable, arguments)
            if process.waitForOutput("started, version", timeout: timeout), !process.hasExited {
                // The listening sockets are bound before the banner is logged.
                self.port = port
                self.process = process
                self.listenAddress = listenAddress
                return
            }
            lastOutput = process.output
            process.stop()
            if !lastOutput.contains("Address already in use") { break }
        }
        throw SubprocessError(description: "dnsmasq did not start: \(lastOutput)")
    }

    /// The number of queries dnsmasq has logged for `name` (any type) from `source`, from its
    /// `--log-queries` output.
    public func queryCount(for name: String, from source: String = "127.0.0.1") -> Int {
        process.output.split(separator: "\n").filter { $0.contains("query[") && $0.hasSuffix(" " + name + " from " + source) }.count
    }

    /// Stops dnsmasq by its pid. SIGKILL, not SIGTERM: a child spawned from a test thread inherits
    /// that thread's signal mask, in which SIGTERM may be blocked; dnsmasq keeps no state worth a
    /// clean exit here.
    public func stop() { process.terminate(signal: SIGKILL) }

    deinit { process.terminate(signal: SIGKILL) }
}
