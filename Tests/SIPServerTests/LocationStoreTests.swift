import Testing
import SIPCore
import SIPServer
import SIPTransaction

@Suite struct LocationStoreTests {
    let alice = AddressOfRecord(text: "sip:alice@voice.lan")!

    func contact(_ text: String) throws -> NameAddress { try NameAddress(parsing: text, header: "Contact") }

    func update(_ contacts: [String], expires: UInt32? = nil, callID: String = "c1", cseq: UInt32 = 1,
                aor: AddressOfRecord? = nil) throws -> BindingRequest {
        BindingRequest(aor: aor ?? alice, contacts: .addresses(try contacts.map(contact)), expires: expires,
                       callID: callID, cseq: cseq)
    }

    func uris(_ bindings: [Binding]) -> [String] { bindings.map { $0.uri.description } }

    @Test func expiryComesFromContactParameterThenHeaderThenDefault() throws {
        var store = LocationStore(limits: .init(minExpires: 60, defaultExpires: 3600, maxExpires: 7200))
        let clock = ManualClock()
        let result = try store.register(update(["<sip:a@192.0.2.101>;expires=120", "<sip:b@192.0.2.102>"], expires: 300), now: clock.now).get()
        let byURI = Dictionary(uniqueKeysWithValues: result.map { ($0.uri.description, $0.remainingSeconds(at: clock.now)) })
        #expect(byURI["sip:a@192.0.2.101"] == 120)
        #expect(byURI["sip:b@192.0.2.102"] == 300)
        let defaulted = try store.register(update(["<sip:c@192.0.2.103>"], cseq: 2), now: clock.now).get()
        #expect(defaulted.first { $0.uri.description == "sip:c@192.0.2.103" }?.remainingSeconds(at: clock.now) == 3600)
    }

    @Test func longIntervalsAreShortenedToTheMaximum() throws {
        var store = LocationStore(limits: .init(minExpires: 60, defaultExpires: 3600, maxExpires: 7200))
        let clock = ManualClock()
        let result = try store.register(update(["<sip:a@192.0.2.101>"], expires: 1_000_000), now: clock.now).get()
        #expect(result.map { $0.remainingSeconds(at: clock.now) } == [7200])
    }

    @Test func briefIntervalGets423WithMinExpiresButZeroIsAllowed() throws {
        var store = LocationStore(limits: .init(minExpires: 60, defaultExpires: 3600, maxExpires: 7200))
        let clock = ManualClock()
        let refused = store.register(try update(["<sip:a@192.0.2.101>;expires=30"]), now: clock.now)
        guard case .failure(let error) = refused else { Issue.record("expected 423"); return }
        #expect(error.code == .intervalTooBrief)
        #expect(error.status == 423)
        #expect(error.minExpires == 60)
        #expect(store.count == 0)
        _ = try store.register(update(["<sip:a@192.0.2.101>"], expires: 600, cseq: 2), now: clock.now).get()
        #expect(store.count == 1)
        let removed = try store.register(update(["<sip:a@192.0.2.101>"], expires: 0, cseq: 3), now: clock.now).get()
        #expect(removed.isEmpty)
        #expect(store.count == 0)
    }

    @Test func aFailingContactAppliesNothing() throws {
        var store = LocationStore()
        let clock = ManualClock()
        // The first contact is fine, the second too brief: neither is bound (§10.3: all or nothing).
        let result = store.register(try update(["<sip:a@192.0.2.101>", "<sip:b@192.0.2.102>;expires=5"]), now: clock.now)
        #expect(throws: LocationStoreError.self) { try result.get() }
        #expect(store.lookup(alice, now: clock.now).isEmpty)
        #expect(store.revision == 0)
    }

    @Test func lookupOrdersByQThenMostRecent() throws {
        var store = LocationStore()
        var clock = ManualClock()
        _ = try store.register(update(["<sip:low@192.0.2.101>;q=0.1"], callID: "x1"), now: clock.now).get()
        clock.advance(.seconds(1))
        _ = try store.register(update(["<sip:noq-old@192.0.2.102>"], callID: "x2"), now: clock.now).get()
        clock.advance(.seconds(1))
        _ = try store.register(update(["<sip:mid@192.0.2.103>;q=0.5"], callID: "x3"), now: clock.now).get()
        clock.advance(.seconds(1))
        _ = try store.register(update(["<sip:noq-new@192.0.2.104>"], callID: "x4"), now: clock.now).get()
        #expect(uris(store.lookup(alice, now: clock.now))
                == ["sip:noq-new@192.0.2.104", "sip:noq-old@192.0.2.102", "sip:mid@192.0.2.103", "sip:low@192.0.2.101"])
        #expect(store.lookup(alice, now: clock.now).map(\.q) == [nil, nil, 0.5, 0.1])
    }

    @Test func refreshUpdatesTheEquivalentBindingInsteadOfAddingOne() throws {
        var store = LocationStore()
        var clock = ManualClock()
        _ = try store.register(update(["<sip:a@192.0.2.101:5060;transport=udp>"], expires: 600), now: clock.now).get()
        clock.advance(.seconds(100))
        // Parameter value case differs: the same URI per §19.1.4.
        let after = try store.register(update(["<sip:a@192.0.2.101:5060;transport=UDP>;q=0.7"], expires: 600, cseq: 2), now: clock.now).get()
        #expect(after.count == 1)
        #expect(after.first?.q == 0.7)
        #expect(after.first?.cseq == 2)
        #expect(after.first?.remainingSeconds(at: clock.now) == 600)
        #expect(store.count == 1)
    }

    @Test func sameCallIDNeedsAHigherCSeq() throws {
        var store = LocationStore()
        let clock = ManualClock()
        _ = try store.register(update(["<sip:a@192.0.2.101>"], callID: "c1", cseq: 5), now: clock.now).get()
        // The same Call-ID and CSeq again is the same request retransmitted: answered, nothing changes.
        let again = try store.register(update(["<sip:a@192.0.2.101>"], expires: 0, callID: "c1", cseq: 5), now: clock.now).get()
        #expect(again.count == 1)
        #expect(store.lookup(alice, now: clock.now).count == 1)
        for cseq: UInt32 in [4, 1] {
            guard case .failure(let error) = store.register(try update(["<sip:a@192.0.2.101>"], expires: 0, callID: "c1", cseq: cseq), now: clock.now) else {
                Issue.record("CSeq \(cseq) accepted"); continue
            }
            #expect(error.code == .outOfOrder)
            #expect(error.status == 500)
        }
        #expect(store.lookup(alice, now: clock.now).count == 1)
        // Another Call-ID (the phone rebooted) may update with any CSeq.
        let other = try store.register(update(["<sip:a@192.0.2.101>"], callID: "c2", cseq: 1), now: clock.now).get()
        #expect(other.map(\.callID) == ["c2"])
        _ = try store.register(update(["<sip:a@192.0.2.101>"], callID: "c2", cseq: 2), now: clock.now).get()
    }

    @Test func wildcardRemovesEveryBindingOnlyWithExpiresZero() throws {
        var store = LocationStore()
        let clock = ManualClock()
        _ = try store.register(update(["<sip:a@192.0.2.101>", "<sip:b@192.0.2.102>"], callID: "c1", cseq: 1), now: clock.now).get()
        _ = try store.register(update(["<sip:c@192.0.2.103>"], callID: "other", cseq: 9), now: clock.now).get()
        for expires: UInt32? in [nil, 3600] {
            let bad = store.register(BindingRequest(aor: alice, contacts: .wildcard, expires: expires, callID: "c1", cseq: 2), now: clock.now)
            guard case .failure(let error) = bad else { Issue.record("wildcard without Expires: 0 accepted"); continue }
            #expect(error.code == .wildcardMisuse)
            #expect(error.status == 400)
        }
        #expect(store.count == 3)
        // Same Call-ID and CSeq as two bindings: the REGISTER that wrote them, retransmitted; nothing removed.
        let retransmitted = store.register(BindingRequest(aor: alice, contacts: .wildcard, expires: 0, callID: "c1", cseq: 1), now: clock.now)
        #expect(try retransmitted.get().count == 3)
        #expect(store.count == 3)
        // A lower CSeq: refused (§10.3 step 7), nothing removed.
        _ = try store.register(update(["<sip:d@192.0.2.104>"], callID: "c3", cseq: 7), now: clock.now).get()
        let stale = store.register(BindingRequest(aor: alice, contacts: .wildcard, expires: 0, callID: "c3", cseq: 6), now: clock.now)
        #expect(throws: LocationStoreError.self) { try stale.get() }
        #expect(store.count == 4)
        let removed = try store.register(BindingRequest(aor: alice, contacts: .wildcard, expires: 0, callID: "c3", cseq: 8), now: clock.now).get()
        #expect(removed.isEmpty)
        #expect(store.count == 0)
        #expect(store.addressesOfRecord.isEmpty)
    }

    @Test func wildcardInAParsedRegisterIsAlone() throws {
        // "*" with another Contact cannot even be read as a binding request (§10.3 step 6: 400).
        let text = registerText(contacts: ["*", "<sip:a@192.0.2.101>"], expires: 0)
        let message = try request(text)
        #expect(throws: LocationStoreError.self) { try BindingRequest(register: message, source: nil) }
    }

    @Test func contactsPerAORAreCappedWith503() throws {
        var store = LocationStore(limits: .init(maxContactsPerAOR: 2, maxBindings: 100))
        let clock = ManualClock()
        _ = try store.register(update(["<sip:a@192.0.2.101>", "<sip:b@192.0.2.102>"]), now: clock.now).get()
        guard case .failure(let error) = store.register(try update(["<sip:c@192.0.2.103>"], cseq: 2), now: clock.now) else {
            Issue.record("third contact accepted"); return
        }
        #expect(error.code == .tooManyContacts)
        #expect(error.status == 503)
        // Replacing one within the same request fits.
        let swapped = try store.register(update(["<sip:a@192.0.2.101>;expires=0", "<sip:c@192.0.2.103>"], cseq: 3), now: clock.now).get()
        #expect(Set(uris(swapped)) == ["sip:b@192.0.2.102", "sip:c@192.0.2.103"])
    }

    @Test func totalBindingsAreCappedButRefreshesStillWork() throws {
        var store = LocationStore(limits: .init(maxContactsPerAOR: 5, maxBindings: 3))
        var clock = ManualClock()
        for i in 0..<3 {
            let aor = AddressOfRecord(text: "sip:u\(i)@voice.lan")!
            _ = try store.register(update(["<sip:u@192.0.2.10\(i)>"], expires: 600, aor: aor), now: clock.now).get()
        }
        let extra = AddressOfRecord(text: "sip:u9@voice.lan")!
        guard case .failure(let error) = store.register(try update(["<sip:u@192.0.2.109>"], aor: extra), now: clock.now) else {
            Issue.record("fourth binding accepted"); return
        }
        #expect(error.code == .storeFull)
        #expect(store.count == 3)
        // A refresh does not add a binding.
        let u0 = AddressOfRecord(text: "sip:u0@voice.lan")!
        _ = try store.register(update(["<sip:u@192.0.2.100>"], expires: 3600, cseq: 2, aor: u0), now: clock.now).get()
        // Once others expired, there is room again (the store sweeps when full).
        clock.advance(.seconds(601))
        _ = try store.register(update(["<sip:u@192.0.2.109>"], aor: extra), now: clock.now).get()
        #expect(store.count == 2)
    }

    @Test func sweepRemovesOnlyExpiredBindings() throws {
        var store = LocationStore()
        var clock = ManualClock()
        _ = try store.register(update(["<sip:short@192.0.2.101>"], expires: 60), now: clock.now).get()
        _ = try store.register(update(["<sip:long@192.0.2.102>"], expires: 600, callID: "c2"), now: clock.now).get()
        clock.advance(.seconds(59))
        #expect(store.sweep(now: clock.now) == 0)
        #expect(store.nextExpiry == clock.now + .seconds(1))
        clock.advance(.seconds(1))
        // Expired bindings vanish from lookups at once, from memory at the sweep.
        #expect(uris(store.lookup(alice, now: clock.now)) == ["sip:long@192.0.2.102"])
        #expect(store.count == 2)
        #expect(store.sweep(now: clock.now) == 1)
        #expect(store.count == 1)
        clock.advance(.seconds(600))
        #expect(store.sweep(now: clock.now) == 1)
        #expect(store.count == 0)
        #expect(store.addressesOfRecord.isEmpty)
    }

    @Test func sweepSeesARefreshThatShortenedTheExpiry() throws {
        var store = LocationStore()
        var clock = ManualClock()
        _ = try store.register(update(["<sip:a@192.0.2.101>"], expires: 600, cseq: 1), now: clock.now).get()
        #expect(store.sweep(now: clock.now) == 0)
        _ = try store.register(update(["<sip:a@192.0.2.101>"], expires: 60, cseq: 2), now: clock.now).get()
        clock.advance(.seconds(61))
        #expect(store.sweep(now: clock.now) == 1)
        #expect(store.count == 0)
    }

    @Test func instanceAndRegIDIdentifyTheBinding() throws {
        var store = LocationStore()
        let clock = ManualClock()
        let instance = "\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\""
        _ = try store.register(update(["<sip:a@192.0.2.101:5060>;+sip.instance=\(instance);reg-id=1"]), now: clock.now).get()
        // Same device and flow from a new address (NAT rebinding): replaces, does not add.
        let moved = try store.register(update(["<sip:a@192.0.2.107:5071>;+sip.instance=\(instance);reg-id=1"], cseq: 2), now: clock.now).get()
        #expect(uris(moved) == ["sip:a@192.0.2.107:5071"])
        #expect(moved.first?.instanceID == instance)
        #expect(moved.first?.regID == 1)
        // A second flow of the same device is a second binding.
        let two = try store.register(update(["<sip:a@192.0.2.108:5072>;+sip.instance=\(instance);reg-id=2"], cseq: 3), now: clock.now).get()
        #expect(two.count == 2)
    }

    @Test func pathAndSourceAreKeptForTheProxy() throws {
        var store = LocationStore()
        let clock = ManualClock()
        let text = registerText(contacts: ["<sip:101@192.168.1.20:5060>"], extra: ["Path: <sip:edge1.lan;lr>, <sip:edge2.lan;lr>"])
        let source = RegistrationSource(transport: "udp", host: "203.0.113.9", port: 40_000)
        let binding = try BindingRequest(register: request(text), source: source)
        #expect(binding.aor.text == "sip:101@voice.lan")
        let stored = try store.register(binding, now: clock.now).get()
        #expect(stored.first?.path.map(\.description) == ["<sip:edge1.lan;lr>", "<sip:edge2.lan;lr>"])
        #expect(stored.first?.source == source)
        #expect(stored.first?.source?.transport == "UDP")
        #expect(store.lookup(binding.aor, now: clock.now).first?.source?.description == "udp:203.0.113.9:40000")
    }

    @Test func aQueryChangesNothing() throws {
        var store = LocationStore()
        let clock = ManualClock()
        _ = try store.register(update(["<sip:a@192.0.2.101>"]), now: clock.now).get()
        let revision = store.revision
        let result = try store.register(BindingRequest(aor: alice, contacts: .query, callID: "c1", cseq: 1), now: clock.now).get()
        #expect(uris(result) == ["sip:a@192.0.2.101"])
        #expect(store.revision == revision)
    }

    @Test func oversizedContactListIsRefusedBeforeComparing() throws {
        var store = LocationStore(limits: .init(maxContactsPerAOR: 3, maxBindings: 10))
        let clock = ManualClock()
        let many = (0..<50).map { "<sip:x\($0)@192.0.2.101>;expires=0" }
        guard case .failure(let error) = store.register(try update(many), now: clock.now) else {
            Issue.record("50 contacts accepted"); return
        }
        #expect(error.code == .tooManyContacts)
    }
}
