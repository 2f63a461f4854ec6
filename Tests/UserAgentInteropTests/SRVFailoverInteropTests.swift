#if canImport(Glibc)
import Glibc
#endif
import Testing
import Config
import DialtoneTestKit

/// Two Kamailio instances behind SRV records (dnsmasq: priority 10 and 20) for the line's
/// ServerDomain, no proxy configured: the line registers with the preferred one; when it dies, an
/// OPTIONS keepalive to it fails (ICMP port unreachable) and the line registers with the second at
/// once; once the first is back, the next refresh returns to it (RFC 3263 §4.3 order).
@Suite("SRV failover between two Kamailio instances")
struct SRVFailoverInteropTests {
    @Test func failsOverToTheSecondTargetAndComesBack() throws {
        try #require(KamailioISP.executable != nil, "kamailio is not installed (make deps)")
        var options = KamailioISP.Options(role: .proxy, subscribers: [.init("alice", "alice-pw")])
        options.domain = "isp.test"
        let first = try KamailioISP(options)
        defer { _ = first.stop() }
        let second = try KamailioISP(options)
        defer { _ = second.stop() }
        let dns = try Dnsmasq(sipDomain: "isp.test", servers: [
            .init(hostName: "kam1.isp.test", address: "127.0.0.1", port: first.port, priority: 10),
            .init(hostName: "kam2.isp.test", address: "127.0.0.1", port: second.port, priority: 20),
        ])
        defer { dns.stop() }
        // 60 s registrations (refreshed after 30 s); OPTIONS keepalive every 5 s (the shortest allowed).
        var voice = "{\"SIP\": {\"Network\": [{\"Alias\": \"isp\", \"Enable\": true, \"ServerDomain\": \"isp.test\", "
        voice += "\"RegisterExpires\": 60, \"RegisterRetryInterval\": 5, \"X_DIALTONE_KeepAliveMethod\": \"OPTIONS\", "
        voice += "\"X_DIALTONE_KeepAliveInterval\": 5}],\n\"Client\": [{\"Alias\": \"line1\", \"Enable\": true, \"Network\": \"isp\", "
        voice += "\"AuthUserName\": \"alice\", \"AuthPassword\": \"alice-pw\", \"RegisterURI\": \"sip:alice@isp.test\"}]}}"
        let daemon = try LineDaemon(voice: voice, dnsServer: "127.0.0.1:\(dns.port)")
        defer { daemon.stop() }
        #expect(daemon.waitForStatus("line1", "Up", timeout: 15), "\(daemon.status() ?? []) \(daemon.output)")
        #expect(first.waitForRegistration(of: "alice", timeout: 5) != nil, "registered with the priority-10 target")
        #expect((try? second.contacts(of: "alice"))?.isEmpty == true)
        #expect(daemon.waitForServer("line1", "udp:127.0.0.1:\(first.port)", timeout: 10), "\(daemon.status() ?? [])")

        // The preferred server dies: the keepalive notices, the line moves to the second.
        _ = first.stop()
        let moved = second.waitForRegistration(of: "alice", timeout: 15)
        #expect(moved != nil, "\(daemon.status() ?? []) \(daemon.output.suffix(3000))")
        #expect(daemon.waitForStatus("line1", "Up", timeout: 5))
        // (Kamailio shows the binding before dialtoned has read the 200: wait for its status.)
        #expect(daemon.waitForServer("line1", "udp:127.0.0.1:\(second.port)", timeout: 10), "\(daemon.status() ?? [])")

        // The preferred one is back: the next refresh (≤ 30 s) registers there again.
        try first.restart()
        let back = first.waitForRegistration(of: "alice", timeout: 45)
        #expect(back != nil, "\(daemon.status() ?? []) \(daemon.output.suffix(3000))")
        #expect(daemon.waitForServer("line1", "udp:127.0.0.1:\(first.port)", timeout: 10), "\(daemon.status() ?? [])")
    }
}
