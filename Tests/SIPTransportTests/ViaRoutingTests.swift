import Testing
import SIPCore
@testable import SIPTransport

@Suite struct ViaRoutingTests {
    func via(_ text: String) throws -> Via { try Via(parsing: text) }

    // RFC 3581 §4 / §6 example: the client at 10.1.1.1:4540 behind a NAT that maps it to 192.0.2.1:9988.
    @Test func rfc3581ExampleServerStamp() throws {
        let request = try via("SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKkjshdyff")
        let stamped = ViaHandling.stamped(request, sourceHost: "192.0.2.1", sourcePort: 9988)
        #expect(stamped.description == "SIP/2.0/UDP 10.1.1.1:4540;received=192.0.2.1;rport=9988;branch=z9hG4bKkjshdyff")
        #expect(ViaHandling.responseRoute(topVia: stamped, connectionOpen: false) == .datagram(host: .ipv4("192.0.2.1"), port: 9988, ttl: nil))
    }

    @Test func rportForcesReceivedEvenWhenIdentical() throws {
        // RFC 3581 §4: received is inserted even if it equals the sent-by host.
        let stamped = ViaHandling.stamped(try via("SIP/2.0/UDP 192.0.2.1:5060;rport;branch=z9hG4bK1"), sourceHost: "192.0.2.1", sourcePort: 5060)
        #expect(stamped.received == "192.0.2.1")
        #expect(stamped.rport == .some(.some(5060)))
    }

    @Test func noRportSameHostLeavesViaUnchanged() throws {
        let v = try via("SIP/2.0/UDP 192.0.2.4:5062;branch=z9hG4bK2")
        let stamped = ViaHandling.stamped(v, sourceHost: "192.0.2.4", sourcePort: 40000)
        #expect(stamped == v)
        #expect(ViaHandling.responseRoute(topVia: stamped, connectionOpen: false) == .datagram(host: .ipv4("192.0.2.4"), port: 5062, ttl: nil))
    }

    @Test func hostnameOrDifferentAddressGetsReceived() throws {
        // §18.2.1's example: sent-by bobspc.biloxi.com, request from 192.0.2.4.
        let named = ViaHandling.stamped(try via("SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bK3"), sourceHost: "192.0.2.4", sourcePort: 5060)
        #expect(named.description == "SIP/2.0/UDP bobspc.biloxi.com:5060;branch=z9hG4bK3;received=192.0.2.4")
        #expect(named.rport == nil)
        let other = ViaHandling.stamped(try via("SIP/2.0/UDP 192.0.2.41;branch=z9hG4bK4"), sourceHost: "192.0.2.42", sourcePort: 5060)
        #expect(other.received == "192.0.2.42")
        // Without rport, the response goes to received at the sent-by port (default 5060).
        #expect(ViaHandling.responseRoute(topVia: other, connectionOpen: false) == .datagram(host: .ipv4("192.0.2.42"), port: 5060, ttl: nil))
    }

    @Test func ipv6ComparedCanonically() throws {
        let v = try via("SIP/2.0/UDP [2001:db8:0:0::1]:5070;branch=z9hG4bK5")
        #expect(ViaHandling.stamped(v, sourceHost: "2001:db8::1", sourcePort: 5070) == v)
        let moved = ViaHandling.stamped(v, sourceHost: "[2001:db8::2]", sourcePort: 5070)
        #expect(moved.received == "2001:db8::2")
        #expect(ViaHandling.responseRoute(topVia: moved, connectionOpen: false) == .datagram(host: .ipv6("2001:db8::2"), port: 5070, ttl: nil))
    }

    @Test func reliableRoutes() throws {
        let tcp = ViaHandling.stamped(try via("SIP/2.0/TCP client.example.com;rport;branch=z9hG4bK6"), sourceHost: "192.0.2.9", sourcePort: 33000)
        #expect(ViaHandling.responseRoute(topVia: tcp, connectionOpen: true) == .sameConnection)
        // Connection gone: received address, sent-by port (default 5060), not rport.
        #expect(ViaHandling.responseRoute(topVia: tcp, connectionOpen: false) == .connect(transport: "TCP", host: .ipv4("192.0.2.9"), port: 5060))
        let tls = try via("SIP/2.0/TLS client.example.com;branch=z9hG4bK7")
        #expect(ViaHandling.responseRoute(topVia: tls, connectionOpen: false) == .connect(transport: "TLS", host: .name("client.example.com"), port: 5061))
    }

    @Test func unreliableMaddrAndSentBy() throws {
        let multicast = try via("SIP/2.0/UDP 10.1.1.1:5080;maddr=239.255.255.1;ttl=16;received=192.0.2.99;branch=z9hG4bK8")
        #expect(ViaHandling.responseRoute(topVia: multicast, connectionOpen: false) == .datagram(host: .ipv4("239.255.255.1"), port: 5080, ttl: 16))
        let plain = try via("SIP/2.0/UDP pc.example.com;branch=z9hG4bK9")
        #expect(ViaHandling.responseRoute(topVia: plain, connectionOpen: false) == .datagram(host: .name("pc.example.com"), port: 5060, ttl: nil))
    }

    @Test func stampTopViaInAMessageKeepsTheOthers() throws {
        let lines: [String] = [
            "OPTIONS sip:b@example.com SIP/2.0",
            "Via: SIP/2.0/UDP 10.1.1.1:4540;rport;branch=z9hG4bKtop, SIP/2.0/UDP proxy.example.com;branch=z9hG4bKsecond",
            "Via: SIP/2.0/UDP third.example.com;branch=z9hG4bKthird",
            "Max-Forwards: 70", "To: <sip:b@example.com>", "From: <sip:a@example.com>;tag=1",
            "Call-ID: stamp", "CSeq: 1 OPTIONS", "Content-Length: 0", "", ""
        ]
        let text = lines.joined(separator: "\r\n")
        var message = try SIPMessage.parse(datagram: Array(text.utf8), limits: .default)
        try ViaHandling.stampTopVia(of: &message, sourceHost: "192.0.2.1", sourcePort: 9988)
        let reparsed = try SIPMessage.parse(datagram: message.serialized(), limits: .default)
        let vias = try reparsed.vias()
        #expect(vias.count == 3)
        #expect(vias.first?.received == "192.0.2.1")
        #expect(vias.first?.rport == .some(.some(9988)))
        #expect(vias.map { $0.branch ?? "" } == ["z9hG4bKtop", "z9hG4bKsecond", "z9hG4bKthird"])
    }

    @Test func clientViaFromLocalAddress() throws {
        let v4 = try #require(SocketAddress(host: "127.0.0.1", port: 5070))
        #expect(ViaHandling.clientVia(transport: .tcp, local: v4, branch: "z9hG4bKabc").description
            == "SIP/2.0/TCP 127.0.0.1:5070;rport;branch=z9hG4bKabc")
        let v6 = try #require(SocketAddress(host: "::1", port: 5071))
        let via6 = ViaHandling.clientVia(transport: .tls, local: v6, branch: "z9hG4bKdef")
        #expect(via6.description == "SIP/2.0/TLS [::1]:5071;rport;branch=z9hG4bKdef")
        // What it writes parses back.
        let parsed = try Via(parsing: via6.description)
        #expect(parsed.host == .ipv6("::1"))
        #expect(parsed.rport == .some(nil))
        let named = ViaHandling.clientVia(transport: .udp, sentByHost: "ua.example.com", sentByPort: nil, branch: "z9hG4bKx", rport: false)
        #expect(named.description == "SIP/2.0/UDP ua.example.com;branch=z9hG4bKx")
    }

    @Test func transportKinds() {
        #expect(TransportKind(viaToken: "tls") == .tls)
        #expect(TransportKind(viaToken: "SCTP") == nil)
        #expect(TransportKind.tls.defaultPort == 5061)
        #expect(TransportKind.udp.defaultPort == 5060)
        #expect(!TransportKind.udp.isReliable)
        #expect(TransportKind.tcp.isReliable)
    }
}
