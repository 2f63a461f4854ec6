import Testing
import SIPCore
import SIPServer
import SIPTransaction
import SIPTransport

/// A proxy listening on 0.0.0.0 (the factory default) is its interface addresses, not every host:
/// an in-dialog request to a phone at our port number must still be forwarded, and a next hop's
/// Route at that port is not ours to remove.
@Suite struct WildcardListenerTests {
    let now = Instant(nanoseconds: 10_000_000_000)

    func routing() throws -> ProxyRouting {
        let wildcard = try #require(SocketAddress(host: "0.0.0.0", port: 5060))
        let interface = try #require(SocketAddress(host: "192.0.2.1", port: 5060))
        return ProxyRouting(domains: ServedDomains(["voice.lan"]), users: ["101"],
                            local: [(transport: .udp, address: wildcard), (transport: .udp, address: interface)], recordRoute: true)
    }

    @Test func onlyTheInterfaceAddressesAreUs() throws {
        let r = try routing()
        #expect(r.isLocal(try #require(SIPURI.parseSIP("sip:192.0.2.1:5060;lr"))))
        #expect(!r.isLocal(try #require(SIPURI.parseSIP("sip:102@192.0.2.50:5060"))))
        #expect(!r.isLocal(try #require(SIPURI.parseSIP("sip:192.0.2.60;lr"))))
        // Record-Route names the served domain, not the wildcard.
        #expect(r.recordRouteValue(for: .udp) == "<sip:voice.lan:5060;lr>")
    }

    @Test func inDialogByeToAPhoneAtOurPortIsForwarded() throws {
        let r = try routing()
        let bye = try SIPMessage(parsing: [
            "BYE sip:102@192.0.2.50:5060 SIP/2.0",
            "Via: SIP/2.0/UDP 192.0.2.30:5060;branch=z9hG4bK-bye1",
            "Route: <sip:192.0.2.1:5060;lr>, <sip:192.0.2.60;lr>",
            "Max-Forwards: 70", "From: <sip:101@voice.lan>;tag=a", "To: <sip:102@voice.lan>;tag=b",
            "Call-ID: wild-1", "CSeq: 2 BYE", "Content-Length: 0"
        ].joined(separator: "\r\n") + "\r\n\r\n")
        guard case .forward(let forwarded, let groups, _) = r.route(bye, store: LocationStore(), now: now) else {
            Issue.record("the BYE was not forwarded")
            return
        }
        // Our Route came off; the next proxy's (also at 5060) stayed.
        #expect(try forwarded.routes().map { $0.uri.description } == ["sip:192.0.2.60;lr"])
        #expect(groups.first?.first?.requestURI.description == "sip:102@192.0.2.50:5060")
    }
}

extension SIPURI {
    static func parseSIP(_ text: String) -> SIPURI? {
        guard let uri = try? URI.parse(text), case .sip(let sip) = uri else { return nil }
        return sip
    }
}
