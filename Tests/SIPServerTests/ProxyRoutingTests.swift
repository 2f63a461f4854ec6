import Testing
import SIPCore
@testable import SIPServer
import SIPTransaction
import SIPTransport

/// The pure part of the proxy (RFC 3261 §16.3–§16.6, §16.7 step 6, §16.11): validation, loop
/// detection, Route preprocessing, the target set, the forwarded copy, the derived stateless branch
/// and the choice of the best response.
@Suite struct ProxyRoutingTests {
    static let now = Instant(nanoseconds: 50_000_000_000)

    /// A proxy on 192.0.2.1:5060 (UDP and TCP) serving `voice.lan` and `192.0.2.1`; accounts 101, 102.
    func routing(recordRoute: Bool = true, host: String = "192.0.2.1") throws -> ProxyRouting {
        let address = try #require(SocketAddress(host: host, port: 5060))
        return ProxyRouting(domains: ServedDomains(["voice.lan", "192.0.2.1"]), users: ["101", "102"],
                            local: [(transport: .udp, address: address), (transport: .tcp, address: address)],
                            recordRoute: recordRoute)
    }

    /// A request from a phone at 192.0.2.30.
    func message(_ method: String = "INVITE", uri: String, via: [String] = ["SIP/2.0/UDP 192.0.2.30:5060;branch=z9hG4bK-ph1"],
                 maxForwards: Int? = 70, toTag: String? = nil, callID: String = "call-1@192.0.2.30", cseq: Int = 1,
                 extra: [String] = []) throws -> SIPMessage {
        var lines = [method + " " + uri + " SIP/2.0"]
        for v in via { lines.append("Via: " + v) }
        if let maxForwards { lines.append("Max-Forwards: " + String(maxForwards)) }
        lines.append("From: <sip:200@voice.lan>;tag=from-200")
        lines.append("To: <sip:101@voice.lan>" + (toTag.map { ";tag=" + $0 } ?? ""))
        lines.append("Call-ID: " + callID)
        lines.append("CSeq: " + String(cseq) + " " + method)
        lines.append(contentsOf: extra)
        lines.append("Content-Length: 0")
        return try SIPMessage(parsing: lines.joined(separator: "\r\n") + "\r\n\r\n")
    }

    /// A store with `contacts` registered for `user`@voice.lan (from `source` when given).
    func store(user: String = "101", domain: String = "voice.lan", _ contacts: [String], source: RegistrationSource? = nil,
               flow: Bool = false, path: [String] = []) throws -> LocationStore {
        var store = LocationStore()
        let aorURI = try URI.parse("sip:" + user + "@" + domain)
        let aor = try #require(AddressOfRecord(aorURI))
        var addresses: [NameAddress] = []
        for c in contacts { addresses.append(try NameAddress(parsing: c)) }
        var paths: [NameAddress] = []
        for p in path { paths.append(try NameAddress(parsing: p)) }
        let request = BindingRequest(aor: aor, contacts: .addresses(addresses), expires: 600, callID: "reg-" + user, cseq: 1,
                                     path: paths, source: source, sourceIsFlow: flow)
        _ = try store.register(request, now: Self.now).get()
        return store
    }

    func rejection(_ outcome: ProxyRouting.Outcome) -> (status: Int, headers: [HeaderField])? {
        if case .reject(let status, _, let headers) = outcome { return (status, headers) }
        return nil
    }

    func forward(_ outcome: ProxyRouting.Outcome) -> (request: SIPMessage, groups: [[ProxyRouting.Target]], hash: String)? {
        if case .forward(let request, let groups, let hash) = outcome { return (request, groups, hash) }
        return nil
    }

    func isLocal(_ outcome: ProxyRouting.Outcome) -> Bool {
        if case .local = outcome { return true }
        return false
    }

    // MARK: §16.3 validation

    @Test func validationRejects() throws {
        let r = try routing()
        let empty = LocationStore()
        let hops = rejection(r.route(try message(uri: "sip:101@voice.lan", maxForwards: 0), store: empty, now: Self.now))
        #expect(hops?.status == 483)
        let ext = rejection(r.route(try message(uri: "sip:101@voice.lan", extra: ["Proxy-Require: foo, path"]), store: empty, now: Self.now))
        #expect(ext?.status == 420)
        #expect(ext?.headers == [HeaderField(name: .unsupported, value: "foo")])
        let tel = rejection(r.route(try message(uri: "tel:+15550100"), store: empty, now: Self.now))
        #expect(tel?.status == 416)
        let unknown = rejection(r.route(try message(uri: "sip:999@voice.lan"), store: empty, now: Self.now))
        #expect(unknown?.status == 404)
        let away = rejection(r.route(try message(uri: "sip:102@voice.lan"), store: empty, now: Self.now))
        #expect(away?.status == 480)
        // Max-Forwards 1 still goes (and leaves with 0).
        let store = try store(["<sip:101@192.0.2.50:5060>"])
        let last = try #require(forward(r.route(try message(uri: "sip:101@voice.lan", maxForwards: 1), store: store, now: Self.now)))
        let copy = r.forwardedCopy(of: last.request, to: last.groups[0][0], arrivedOver: .udp)
        let mf = try copy.maxForwards()
        #expect(mf == 0)
    }

    @Test func requestsForThisElementAreLocal() throws {
        let r = try routing()
        let empty = LocationStore()
        #expect(isLocal(r.route(try message("OPTIONS", uri: "sip:voice.lan"), store: empty, now: Self.now)))
        #expect(isLocal(r.route(try message("OPTIONS", uri: "sip:192.0.2.1:5060"), store: empty, now: Self.now)))
        // Another domain is forwarded unchanged, not looked up.
        let foreign = try #require(forward(r.route(try message(uri: "sip:bob@192.0.2.99"), store: empty, now: Self.now)))
        #expect(foreign.groups.count == 1)
        #expect(foreign.groups[0].map(\.requestURI.description) == ["sip:bob@192.0.2.99"])
        #expect(foreign.groups[0][0].destination == nil)
    }

    // MARK: §16.3 step 4 loops

    @Test func ourViaWithThisRequestsHashIsALoop() throws {
        let r = try routing()
        let store = try store(["<sip:101@192.0.2.50:5060>"])
        let original = try message(uri: "sip:101@voice.lan")
        let hash = ProxyRouting.loopHash(original)
        let ours = "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-" + hash + ".abc"
        let looped = try message(uri: "sip:101@voice.lan", via: [ours, "SIP/2.0/UDP 192.0.2.30:5060;branch=z9hG4bK-ph1"], maxForwards: 69)
        #expect(rejection(r.route(looped, store: store, now: Self.now))?.status == 482)
        // Deeper in the Via list too.
        let deeper = try message(uri: "sip:101@voice.lan", via: ["SIP/2.0/UDP 192.0.2.40;branch=z9hG4bK-x", ours, "SIP/2.0/UDP 192.0.2.30:5060;branch=z9hG4bK-ph1"])
        #expect(rejection(r.route(deeper, store: store, now: Self.now))?.status == 482)
        // A spiral: the Request-URI changed since, so the hash differs.
        let spiral = try message(uri: "sip:101@192.0.2.50:5060", via: [ours, "SIP/2.0/UDP 192.0.2.30:5060;branch=z9hG4bK-ph1"])
        #expect(forward(r.route(spiral, store: store, now: Self.now)) != nil)
        // The same branch in someone else's Via is no loop of ours.
        let other = try message(uri: "sip:101@voice.lan", via: ["SIP/2.0/UDP 192.0.2.77:5060;branch=z9hG4bK-" + hash + ".abc"])
        #expect(forward(r.route(other, store: store, now: Self.now)) != nil)
    }

    @Test func loopHashCoversWhatIdentifiesTheRequest() throws {
        let base = ProxyRouting.loopHash(try message(uri: "sip:101@voice.lan"))
        #expect(base.count == 16)
        #expect(base.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        // Not what each hop changes.
        let hopped = try message(uri: "sip:101@voice.lan", via: ["SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK-zz", "SIP/2.0/UDP 192.0.2.30:5060;branch=z9hG4bK-ph1"],
                                 maxForwards: 12, extra: ["Record-Route: <sip:192.0.2.1;lr>"])
        #expect(ProxyRouting.loopHash(hopped) == base)
        // But each identifying value.
        #expect(ProxyRouting.loopHash(try message(uri: "sip:102@voice.lan")) != base)
        #expect(ProxyRouting.loopHash(try message(uri: "sip:101@voice.lan", cseq: 2)) != base)
        #expect(ProxyRouting.loopHash(try message(uri: "sip:101@voice.lan", callID: "other")) != base)
        #expect(ProxyRouting.loopHash(try message(uri: "sip:101@voice.lan", toTag: "t")) != base)
        #expect(ProxyRouting.loopHash(try message(uri: "sip:101@voice.lan", extra: ["Route: <sip:192.0.2.9;lr>"])) != base)
        #expect(ProxyRouting.loopHash(try message(uri: "sip:101@voice.lan", extra: ["Proxy-Authorization: Digest username=\"a\""])) != base)
    }

    // MARK: §16.4 Route

    @Test func looseRoutingRemovesOurRoutesOnly() throws {
        let r = try routing()
        var m = try message("BYE", uri: "sip:101@192.0.2.50", toTag: "x",
                            extra: ["Route: <sip:192.0.2.1:5060;lr>, <sip:192.0.2.1;transport=tcp;lr>, <sip:192.0.2.2;lr>"])
        r.preprocessRoutes(&m)
        #expect(((try? m.routes()) ?? []).map(\.uri.description) == ["sip:192.0.2.2;lr"])
        #expect(m.requestLine?.uri.description == "sip:101@192.0.2.50")
        // Only the top ones: ours further down stays.
        var n = try message("BYE", uri: "sip:101@192.0.2.50", toTag: "x", extra: ["Route: <sip:192.0.2.2;lr>, <sip:192.0.2.1;lr>"])
        r.preprocessRoutes(&n)
        #expect(((try? n.routes()) ?? []).count == 2)
        // route(): a Route left means forward to it, Request-URI untouched, no location lookup.
        let bye = try message("BYE", uri: "sip:101@voice.lan", toTag: "x", extra: ["Route: <sip:voice.lan;lr>, <sip:192.0.2.2;lr>"])
        let f = try #require(forward(r.route(bye, store: LocationStore(), now: Self.now)))
        #expect(f.groups.map { $0.map(\.requestURI.description) } == [["sip:101@voice.lan"]])
        #expect(((try? f.request.routes()) ?? []).map(\.uri.description) == ["sip:192.0.2.2;lr"])
    }

    @Test func strictRouterFix() throws {
        let r = try routing()
        var m = try message("BYE", uri: "sip:192.0.2.1:5060;lr", toTag: "x", extra: ["Route: <sip:192.0.2.2;lr>, <sip:101@192.0.2.50:5062>"])
        r.preprocessRoutes(&m)
        #expect(m.requestLine?.uri.description == "sip:101@192.0.2.50:5062")
        #expect(m.method == .bye)
        #expect(((try? m.routes()) ?? []).map(\.uri.description) == ["sip:192.0.2.2;lr"])
        // A Request-URI with a user at our address is a request for a user, not a strict router's.
        var n = try message("BYE", uri: "sip:101@192.0.2.1", toTag: "x", extra: ["Route: <sip:192.0.2.2;lr>"])
        r.preprocessRoutes(&n)
        #expect(n.requestLine?.uri.description == "sip:101@192.0.2.1")
        #expect(((try? n.routes()) ?? []).count == 1)
    }

    @Test func recognisesItsOwnAddresses() throws {
        let r = try routing()
        #expect(r.isLocal(try sip("sip:192.0.2.1")))
        #expect(r.isLocal(try sip("sip:192.0.2.1:5060;transport=tcp")))
        #expect(r.isLocal(try sip("sip:VOICE.lan")))
        #expect(!r.isLocal(try sip("sip:192.0.2.1:5070")))
        #expect(!r.isLocal(try sip("sip:192.0.2.2")))
        // TLS is not listened on: sips: at 5061 is not ours.
        #expect(!r.isLocal(try sip("sips:192.0.2.1")))
    }

    func sip(_ text: String) throws -> SIPURI {
        try #require(try URI.parse(text).sipURI)
    }

    // MARK: §16.5 targets

    @Test func bindingsFormForkingGroupsByQ() throws {
        let r = try routing()
        let store = try store(["<sip:101@192.0.2.51>;q=0.5", "<sip:101@192.0.2.52>", "<sip:101@192.0.2.53>;q=1.0", "<sip:101@192.0.2.54>;q=0.5",
                               "<sip:101@192.0.2.55>;q=0.1"])
        let f = try #require(forward(r.route(try message(uri: "sip:101@voice.lan"), store: store, now: Self.now)))
        let groups = f.groups.map { Set($0.map(\.requestURI.description)) }
        #expect(groups == [Set(["sip:101@192.0.2.52", "sip:101@192.0.2.53"]), Set(["sip:101@192.0.2.51", "sip:101@192.0.2.54"]),
                           Set(["sip:101@192.0.2.55"])])
        let expectedHash = ProxyRouting.loopHash(try message(uri: "sip:101@voice.lan"))
        #expect(f.hash == expectedHash)
        // Expired bindings are not targets.
        let later = Instant(nanoseconds: Self.now.nanoseconds + 601_000_000_000)
        #expect(rejection(r.route(try message(uri: "sip:101@voice.lan"), store: store, now: later))?.status == 480)
    }

    /// `sip:101@voice.lan` and `sip:101@voice.lan:5060` (5060: our port) find the same bindings,
    /// whichever form registered; another port is not ours, so not looked up.
    @Test func ourPortInTheRequestURIOrTheAORIsTheSameUser() throws {
        let r = try routing()
        let plain = try store(["<sip:101@192.0.2.50>"])
        let withPort = try #require(forward(r.route(try message(uri: "sip:101@voice.lan:5060"), store: plain, now: Self.now)))
        #expect(withPort.groups.map { $0.map(\.requestURI.description) } == [["sip:101@192.0.2.50"]])
        let ported = try store(domain: "voice.lan:5060", ["<sip:101@192.0.2.51>"])
        let without = try #require(forward(r.route(try message(uri: "sip:101@voice.lan"), store: ported, now: Self.now)))
        #expect(without.groups.map { $0.map(\.requestURI.description) } == [["sip:101@192.0.2.51"]])
        // Port 5070 is not ours: forwarded there as it stands, not looked up.
        let elsewhere = try #require(forward(r.route(try message(uri: "sip:101@voice.lan:5070"), store: plain, now: Self.now)))
        #expect(elsewhere.groups.map { $0.map(\.requestURI.description) } == [["sip:101@voice.lan:5070"]])
    }

    @Test func targetGoesWhereTheContactRegisteredFrom() throws {
        let behindNAT = try store(["<sip:101@10.0.0.5:5060>"], source: RegistrationSource(transport: "UDP", host: "192.0.2.60", port: 40000),
                                  flow: true)
        let t = try firstTarget(behindNAT)
        #expect(t.requestURI.description == "sip:101@10.0.0.5:5060")
        #expect(t.destination?.description == "sip:192.0.2.60:40000")
        // Over TCP the transport goes with it.
        let tcp = try store(["<sip:101@10.0.0.5;transport=tcp>"], source: RegistrationSource(transport: "TCP", host: "192.0.2.60", port: 40001),
                            flow: true)
        let tt = try firstTarget(tcp)
        #expect(tt.destination?.description == "sip:192.0.2.60:40001;transport=tcp")
        // Registered from its own address: no destination.
        let direct = try store(["<sip:101@192.0.2.50>"], source: RegistrationSource(transport: "UDP", host: "192.0.2.50", port: 5060),
                               flow: true)
        let td = try firstTarget(direct)
        #expect(td.destination == nil)
        // Registered by someone else for it (third party, no NAT seen): the contact's own address.
        let thirdParty = try store(["<sip:101@192.0.2.50>"], source: RegistrationSource(transport: "UDP", host: "192.0.2.70", port: 5060))
        let t3 = try firstTarget(thirdParty)
        #expect(t3.destination == nil)
        // With a Path, the Path is the route (RFC 3327) and the source is not used.
        let pathed = try store(["<sip:101@10.0.0.5>"], source: RegistrationSource(transport: "UDP", host: "192.0.2.60", port: 40000),
                               flow: true, path: ["<sip:edge1.example;lr>", "<sip:edge2.example;lr>"])
        let tp = try firstTarget(pathed)
        #expect(tp.destination == nil)
        #expect(tp.routes.map(\.uri.description) == ["sip:edge1.example;lr", "sip:edge2.example;lr"])
    }

    /// The first target of the first group of 101@voice.lan's bindings.
    func firstTarget(_ store: LocationStore) throws -> ProxyRouting.Target {
        let uri = try URI.parse("sip:101@voice.lan")
        let aor = try #require(AddressOfRecord(uri))
        let groups = ProxyRouting.groups(store.lookup(aor, now: Self.now))
        return try #require(groups.first?.first)
    }

    // MARK: §16.6 the copy

    @Test func forwardedCopy() throws {
        let r = try routing()
        let target = ProxyRouting.Target(requestURI: try URI.parse("sip:101@192.0.2.50:5062"),
                                         routes: [try NameAddress(parsing: "<sip:edge1.example;lr>"), try NameAddress(parsing: "<sip:edge2.example;lr>")])
        let invite = try message(uri: "sip:101@voice.lan", extra: ["Route: <sip:192.0.2.9;lr>"])
        let copy = r.forwardedCopy(of: invite, to: target, arrivedOver: .udp)
        #expect(copy.requestLine?.uri.description == "sip:101@192.0.2.50:5062")
        #expect(copy.method == .invite)
        let mf = try copy.maxForwards()
        #expect(mf == 69)
        #expect(((try? copy.routes()) ?? []).map(\.uri.description) == ["sip:edge1.example;lr", "sip:edge2.example;lr", "sip:192.0.2.9;lr"])
        #expect(copy.headers.values(.recordRoute) == ["<sip:192.0.2.1:5060;lr>"])
        // The original is untouched (a value type), its Via too: the endpoint adds ours.
        #expect(copy.headers.values(.via) == invite.headers.values(.via))
        // Arrived over TCP: the TCP listener's address in Record-Route.
        let overTCP = r.forwardedCopy(of: invite, to: target, arrivedOver: .tcp)
        #expect(overTCP.headers.values(.recordRoute) == ["<sip:192.0.2.1:5060;transport=tcp;lr>"])
        // No Max-Forwards: 70 (§16.6 step 3 adds it).
        let bare = r.forwardedCopy(of: try message(uri: "sip:101@voice.lan", maxForwards: nil), to: target, arrivedOver: .udp)
        let bareMF = try bare.maxForwards()
        #expect(bareMF == 70)
    }

    @Test func recordRouteOnlyOnRequestsThatCanStartADialog() throws {
        let r = try routing()
        let target = ProxyRouting.Target(requestURI: try URI.parse("sip:101@192.0.2.50"))
        for method in ["INVITE", "SUBSCRIBE", "REFER", "NOTIFY"] {
            let copy = r.forwardedCopy(of: try message(method, uri: "sip:101@voice.lan"), to: target, arrivedOver: .udp)
            #expect(copy.headers.count(of: .recordRoute) == 1, "\(method)")
        }
        for method in ["MESSAGE", "OPTIONS", "BYE", "INFO", "REGISTER"] {
            let copy = r.forwardedCopy(of: try message(method, uri: "sip:101@voice.lan"), to: target, arrivedOver: .udp)
            #expect(!copy.headers.contains(.recordRoute), "\(method)")
        }
        // In-dialog (To tag): no.
        let reinvite = r.forwardedCopy(of: try message(uri: "sip:101@192.0.2.50", toTag: "t1"), to: target, arrivedOver: .udp)
        #expect(!reinvite.headers.contains(.recordRoute))
        // Switched off.
        let off = try routing(recordRoute: false)
        let plain = off.forwardedCopy(of: try message(uri: "sip:101@voice.lan"), to: target, arrivedOver: .udp)
        #expect(!plain.headers.contains(.recordRoute))
        // Ours goes on top of those already there.
        let second = r.forwardedCopy(of: try message(uri: "sip:101@voice.lan", extra: ["Record-Route: <sip:192.0.2.9;lr>"]), to: target, arrivedOver: .udp)
        #expect(second.headers.listValues(.recordRoute) == ["<sip:192.0.2.1:5060;lr>", "<sip:192.0.2.9;lr>"])
    }

    @Test func recordRouteNamesAUsableAddress() throws {
        // A wildcard listener: the first served domain instead.
        let wild = try routing(host: "0.0.0.0")
        #expect(wild.recordRouteValue(for: .udp) == "<sip:voice.lan:5060;lr>")
        let v6 = try routing(host: "::1")
        #expect(v6.recordRouteValue(for: .udp) == "<sip:[::1]:5060;lr>")
        let none = ProxyRouting(domains: ServedDomains(["voice.lan"]), users: [], local: [], recordRoute: true)
        #expect(none.recordRouteValue(for: .udp) == nil)
    }

    // MARK: §16.11 stateless branch

    @Test func statelessBranchIsDerivedFromTheRequest() throws {
        let target = ProxyRouting.Target(requestURI: try URI.parse("sip:101@192.0.2.50"))
        let invite = try message(uri: "sip:101@voice.lan")
        let b = StatelessProxy.branch(for: invite, target: target)
        #expect(b.hasPrefix("z9hG4bK-s"))
        #expect(b.count == "z9hG4bK-s".count + 16)
        // A retransmission, its CANCEL and the ACK for a non-2xx share the top Via: same branch.
        #expect(StatelessProxy.branch(for: try message(uri: "sip:101@voice.lan"), target: target) == b)
        #expect(StatelessProxy.branch(for: try message("CANCEL", uri: "sip:101@voice.lan"), target: target) == b)
        #expect(StatelessProxy.branch(for: try message("ACK", uri: "sip:101@voice.lan", toTag: "t"), target: target) == b)
        // Even with `received`/`rport` stamped on arrival.
        let stamped = try message(uri: "sip:101@voice.lan", via: ["SIP/2.0/UDP 192.0.2.30:5060;branch=z9hG4bK-ph1;rport=5060;received=192.0.2.31"])
        #expect(StatelessProxy.branch(for: stamped, target: target) == b)
        // Another transaction, another sent-by or another target: another branch.
        let otherTx = try message(uri: "sip:101@voice.lan", via: ["SIP/2.0/UDP 192.0.2.30:5060;branch=z9hG4bK-ph2"])
        #expect(StatelessProxy.branch(for: otherTx, target: target) != b)
        let otherHost = try message(uri: "sip:101@voice.lan", via: ["SIP/2.0/UDP 192.0.2.31:5060;branch=z9hG4bK-ph1"])
        #expect(StatelessProxy.branch(for: otherHost, target: target) != b)
        let otherTarget = ProxyRouting.Target(requestURI: try URI.parse("sip:101@192.0.2.51"))
        #expect(StatelessProxy.branch(for: invite, target: otherTarget) != b)
        // RFC 2543 branch (no magic cookie): the transaction's identity decides.
        let old1 = try message(uri: "sip:101@voice.lan", via: ["SIP/2.0/UDP 192.0.2.30:5060"], callID: "a")
        let old2 = try message(uri: "sip:101@voice.lan", via: ["SIP/2.0/UDP 192.0.2.30:5060"], callID: "b")
        #expect(StatelessProxy.branch(for: old1, target: target) != StatelessProxy.branch(for: old2, target: target))
    }

    // MARK: §16.7 step 6 best response

    func best(_ codes: [(Int, Bool)]) -> Int? {
        let responses = codes.map { BranchResponse(code: $0.0, message: nil, synthesised: $0.1) }
        return StatefulProxy.best(responses)?.code
    }

    @Test func bestResponse() {
        #expect(best([]) == nil)
        #expect(best([(404, false), (486, false)]) == 404)
        #expect(best([(486, false), (404, false)]) == 486)
        #expect(best([(486, false), (603, false), (404, false)]) == 603)
        #expect(best([(500, false), (404, false)]) == 404)
        #expect(best([(302, false), (404, false)]) == 302)
        #expect(best([(486, false), (407, false)]) == 407)
        #expect(best([(486, false), (401, false), (407, false)]) == 401)
        #expect(best([(404, false), (415, false)]) == 415)
        #expect(best([(404, false), (484, false)]) == 484)
        // What a branch answered beats what was made up here (timeout, transport error).
        #expect(best([(408, true), (480, false)]) == 480)
        #expect(best([(503, true)]) == 503)
    }
}
