import Testing
import SIPCore
import SIPServer
import SIPTransaction
import SIPTransport

/// When the proxy reaches a contact through the address its REGISTER came from (NAT, RFC 5626 flows)
/// and when through the contact itself (a REGISTER from the contact's own address, or a third-party
/// registration, RFC 3261 §10).
@Suite struct NATRoutingTests {
    let aor = AddressOfRecord(text: "sip:101@voice.lan")!

    /// Registers `contact` (Via sent-by 192.168.1.20:5060, see `registerText`) from `source` and
    /// returns the destination the proxy picks for an INVITE to the AOR (nil: the contact itself).
    func destination(contact: String, source: RegistrationSource) throws -> (flow: Bool, destination: String?) {
        var store = LocationStore()
        let now = Instant(nanoseconds: 1_000_000_000)
        let binding = try BindingRequest(register: request(registerText(contacts: [contact], expires: 600)), source: source)
        _ = try store.register(binding, now: now).get()
        let stored = try #require(store.lookup(aor, now: now).first)
        let local = try #require(SocketAddress(host: "127.0.0.1", port: 5060))
        let routing = ProxyRouting(domains: ServedDomains(["voice.lan"]), users: ["101"], local: [(TransportKind.udp, local)],
                                   recordRoute: true)
        let invite = try request(requestText("INVITE", uri: "sip:101@voice.lan"))
        guard case .forward(_, let groups, _) = routing.route(invite, store: store, now: now) else {
            Issue.record("not forwarded")
            return (stored.reachThroughSource, nil)
        }
        let target = try #require(groups.first?.first)
        return (stored.reachThroughSource, target.destination?.description)
    }

    @Test func sentFromItsOwnContactGoesToTheContact() throws {
        let r = try destination(contact: "<sip:101@192.168.1.20:5060>",
                                source: RegistrationSource(transport: "UDP", host: "192.168.1.20", port: 5060))
        #expect(!r.flow)
        #expect(r.destination == nil)
    }

    @Test func behindNATGoesToTheSource() throws {
        let r = try destination(contact: "<sip:101@192.168.1.20:5060>",
                                source: RegistrationSource(transport: "UDP", host: "192.0.2.9", port: 40_000))
        #expect(r.flow)
        #expect(r.destination == "sip:192.0.2.9:40000")
    }

    @Test func thirdPartyRegistrationKeepsTheContact() throws {
        // Sent from where its Via says (no NAT) on behalf of another device.
        let r = try destination(contact: "<sip:101@192.0.2.77:5070>",
                                source: RegistrationSource(transport: "UDP", host: "192.168.1.20", port: 5060))
        #expect(!r.flow)
        #expect(r.destination == nil)
    }

    @Test func outboundRegIDUsesTheFlow() throws {
        let r = try destination(contact: "<sip:101@192.0.2.77:5070>;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000000000001>\";reg-id=1",
                                source: RegistrationSource(transport: "TCP", host: "192.168.1.20", port: 5060))
        #expect(r.flow)
        #expect(r.destination == "sip:192.168.1.20:5060;transport=tcp")
    }

    @Test func theFlowMarkSurvivesSaveAndLoad() throws {
        var store = LocationStore()
        let now = Instant(nanoseconds: 1_000_000_000)
        let wall = Duration.seconds(1_700_000_000)
        let nat = RegistrationSource(transport: "UDP", host: "192.0.2.9", port: 40_000)
        _ = try store.register(try BindingRequest(register: request(registerText(expires: 600)), source: nat), now: now).get()
        let loaded = try LocationStore.decoded(store.encoded(now: now, wallClock: wall), limits: store.limits, now: now, wallClock: wall)
        #expect(loaded.lookup(aor, now: now).first?.reachThroughSource == true)
        #expect(loaded.lookup(aor, now: now).first?.source == nat)
    }
}
