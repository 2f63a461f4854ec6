import SIPCore
@testable import SIPTransport
import Testing
import DialtoneTestKit

@Suite("RFC 3263 server location (fake DNS)")
struct ResolutionLocatorTests {
    /// example.test with NAPTR for UDP (order 10) and TLS (order 20, pref 10) and TCP (order 20,
    /// pref 20), plus records RFC 3263 clients must skip.
    static func naptrZone() -> FakeDNS {
        let dns = FakeDNS()
        dns.naptr("example.test", order: 20, preference: 20, service: "SIP+D2T", replacement: "_sip._tcp.example.test")
        dns.naptr("example.test", order: 10, preference: 50, service: "SIP+D2U", replacement: "_sip._udp.example.test")
        dns.naptr("example.test", order: 20, preference: 10, service: "SIPS+D2T", replacement: "_sips._tcp.example.test")
        dns.naptr("example.test", order: 1, preference: 1, service: "SIP+D2S", replacement: "_sip._sctp.example.test")
        dns.naptr("example.test", order: 2, preference: 1, flags: "a", service: "SIP+D2U", replacement: "other.example.test")
        dns.naptr("example.test", order: 3, preference: 1, service: "SIP+D2U", replacement: "re.example.test", regexp: "!^.*$!sip:x@y!")
        dns.srv("_sip._udp.example.test", priority: 10, weight: 0, port: 5070, target: "udp.example.test")
        dns.srv("_sip._tcp.example.test", priority: 10, weight: 0, port: 5080, target: "tcp.example.test")
        dns.srv("_sips._tcp.example.test", priority: 10, weight: 0, port: 5090, target: "tls.example.test")
        dns.srv("_sip._sctp.example.test", priority: 10, weight: 0, port: 5100, target: "sctp.example.test")
        dns.a("udp.example.test", "127.0.0.2")
        dns.a("tcp.example.test", "127.0.0.3")
        dns.a("tls.example.test", "127.0.0.4")
        dns.a("sctp.example.test", "127.0.0.5")
        dns.a("other.example.test", "127.0.0.6")
        dns.a("re.example.test", "127.0.0.7")
        dns.a("example.test", "127.0.0.9")
        return dns
    }

    @Test func numericIPv4HostMakesNoLookups() throws {
        let dns = Self.naptrZone()
        var locator = SIPServerLocator(lookup: dns)
        let cursor = try locator.resolve(try resolutionURI("sip:alice@127.0.0.8"), now: 0)
        #expect(targetSummary(cursor) == ["UDP 127.0.0.8:5060"])
        #expect(dns.queryCount == 0)
        #expect(cursor.validUntil == .infinity)
    }

    @Test func numericHostsPickTransportAndDefaultPort() throws {
        let dns = FakeDNS()
        var locator = SIPServerLocator(lookup: dns)
        let sips = try locator.resolve(try resolutionURI("sips:127.0.0.8"), now: 0)
        #expect(targetSummary(sips) == ["TLS 127.0.0.8:5061"])
        let tcp = try locator.resolve(try resolutionURI("sip:127.0.0.8;transport=tcp"), now: 0)
        #expect(targetSummary(tcp) == ["TCP 127.0.0.8:5060"])
        let v6 = try locator.resolve(try resolutionURI("sip:[::1]:5099"), now: 0)
        #expect(targetSummary(v6) == ["UDP [::1]:5099"])
        let sipsTCP = try locator.resolve(try resolutionURI("sips:127.0.0.8:6000;transport=tcp"), now: 0)
        #expect(targetSummary(sipsTCP) == ["TLS 127.0.0.8:6000"])
        #expect(dns.queryCount == 0)
    }

    @Test func numericMaddrOverridesTheHost() throws {
        let dns = Self.naptrZone()
        var locator = SIPServerLocator(lookup: dns)
        let cursor = try locator.resolve(try resolutionURI("sip:bob@example.test;maddr=127.0.0.11"), now: 0)
        #expect(targetSummary(cursor) == ["UDP 127.0.0.11:5060"])
        #expect(dns.queryCount == 0)
    }

    @Test func nameMaddrIsResolvedInsteadOfTheHost() throws {
        let dns = Self.naptrZone()
        dns.a("proxy.other.test", "127.0.0.12")
        var locator = SIPServerLocator(lookup: dns)
        let cursor = try locator.resolve(try resolutionURI("sip:bob@example.test:5062;maddr=proxy.other.test"), now: 0)
        #expect(targetSummary(cursor) == ["UDP 127.0.0.12:5062"])
        #expect(cursor.targets.first?.serverName == "proxy.other.test")
        #expect(!dns.log.contains { $0.name == "example.test" })
    }

    @Test func explicitPortQueriesOnlyAddresses() throws {
        let dns = Self.naptrZone()
        dns.aaaa("example.test", "::1")
        var locator = SIPServerLocator(lookup: dns)
        let cursor = try locator.resolve(try resolutionURI("sip:example.test:5072"), now: 0)
        #expect(targetSummary(cursor) == ["UDP 127.0.0.9:5072", "UDP [::1]:5072"])
        #expect(dns.queried(.naptr).isEmpty)
        #expect(dns.queried(.srv).isEmpty)
        #expect(dns.queried(.a) == ["example.test"])
        let sips = try locator.resolve(try resolutionURI("sips:example.test:5073"), now: 0)
        #expect(targetSummary(sips) == ["TLS 127.0.0.9:5073", "TLS [::1]:5073"])
    }

    @Test func preferIPv6PutsAAAAFirstAndUseIPv6FalseSkipsIt() throws {
        let dns = FakeDNS()
        dns.a("dual.test", "127.0.0.20")
        dns.aaaa("dual.test", "::1")
        var preferring = SIPServerLocator(lookup: dns, configuration: SIPServerLocator.Configuration(preferIPv6: true))
        #expect(targetSummary(try preferring.resolve(try resolutionURI("sip:dual.test:5060"), now: 0)) == ["UDP [::1]:5060", "UDP 127.0.0.20:5060"])
        var v4only = SIPServerLocator(lookup: dns, configuration: SIPServerLocator.Configuration(useIPv6: false))
        #expect(targetSummary(try v4only.resolve(try resolutionURI("sip:dual.test:5060"), now: 0)) == ["UDP 127.0.0.20:5060"])
        #expect(dns.queried(.aaaa).count == 1)
    }

    @Test func transportParameterQueriesThatSRVOnly() throws {
        let dns = Self.naptrZone()
        var locator = SIPServerLocator(lookup: dns)
        let tcp = try locator.resolve(try resolutionURI("sip:example.test;transport=tcp"), now: 0)
        #expect(targetSummary(tcp) == ["TCP 127.0.0.3:5080"])
        #expect(dns.queried(.naptr).isEmpty)
        #expect(dns.queried(.srv) == ["_sip._tcp.example.test"])
        let sipsTCP = try locator.resolve(try resolutionURI("sips:example.test;transport=tcp"), now: 0)
        #expect(targetSummary(sipsTCP) == ["TLS 127.0.0.4:5090"])
        let tls = try locator.resolve(try resolutionURI("sip:example.test;transport=TLS"), now: 0)
        #expect(targetSummary(tls) == ["TLS 127.0.0.4:5090"])
    }

    @Test func transportParameterWithoutSRVFallsBackToAddressAtDefaultPort() throws {
        let dns = FakeDNS()
        dns.a("plain.test", "127.0.0.21")
        var locator = SIPServerLocator(lookup: dns)
        let tls = try locator.resolve(try resolutionURI("sip:plain.test;transport=tls"), now: 0)
        #expect(targetSummary(tls) == ["TLS 127.0.0.21:5061"])
        let tcp = try locator.resolve(try resolutionURI("sip:plain.test;transport=tcp"), now: 0)
        #expect(targetSummary(tcp) == ["TCP 127.0.0.21:5060"])
        #expect(dns.queried(.naptr).isEmpty)
    }

    @Test func unsupportedTransportsAreRefused() throws {
        var locator = SIPServerLocator(lookup: FakeDNS())
        #expect(resolutionErrorCode(&locator, try resolutionURI("sip:127.0.0.1;transport=sctp")) == .unsupportedTransport)
        #expect(resolutionErrorCode(&locator, try resolutionURI("sips:example.test;transport=udp")) == .unsupportedTransport)
        var udpOnly = SIPServerLocator(lookup: FakeDNS(), configuration: SIPServerLocator.Configuration(transports: [.udp]))
        #expect(resolutionErrorCode(&udpOnly, try resolutionURI("sip:127.0.0.1;transport=tcp")) == .unsupportedTransport)
        #expect(resolutionErrorCode(&udpOnly, try resolutionURI("sips:127.0.0.1")) == .unsupportedTransport)
    }

    @Test func naptrOrderAndPreferenceChooseTransportsAndSkipUnusableRecords() throws {
        let dns = Self.naptrZone()
        var locator = SIPServerLocator(lookup: dns)
        let cursor = try locator.resolve(try resolutionURI("sip:alice@example.test"), now: 0)
        // order 10 UDP; order 20: pref 10 TLS before pref 20 TCP. SCTP, flag "a" and regexp records skipped.
        #expect(targetSummary(cursor) == ["UDP 127.0.0.2:5070", "TLS 127.0.0.4:5090", "TCP 127.0.0.3:5080"])
        #expect(dns.queried(.naptr) == ["example.test"])
        #expect(!dns.queried(.srv).contains("_sip._sctp.example.test"))
        #expect(!dns.queried(.a).contains("other.example.test"))
        #expect(!dns.queried(.a).contains("re.example.test"))
        #expect(cursor.targets.allSatisfy { $0.serverName == "example.test" })
        #expect(cursor.targets.first?.hostName == "udp.example.test")
    }

    @Test func sipsURIFollowsOnlySIPSNAPTR() throws {
        let dns = Self.naptrZone()
        var locator = SIPServerLocator(lookup: dns)
        let cursor = try locator.resolve(try resolutionURI("sips:alice@example.test"), now: 0)
        #expect(targetSummary(cursor) == ["TLS 127.0.0.4:5090"])
    }

    @Test func naptrLimitedToConfiguredTransports() throws {
        let dns = Self.naptrZone()
        var locator = SIPServerLocator(lookup: dns, configuration: SIPServerLocator.Configuration(transports: [.tcp]))
        let cursor = try locator.resolve(try resolutionURI("sip:example.test"), now: 0)
        #expect(targetSummary(cursor) == ["TCP 127.0.0.3:5080"])
    }

    @Test func withoutNAPTRTheSRVRecordsOfEachTransportAreTried() throws {
        let dns = FakeDNS()
        dns.exists("nonaptr.test")
        dns.srv("_sips._tcp.nonaptr.test", priority: 1, weight: 0, port: 5091, target: "s.nonaptr.test")
        dns.srv("_sip._tcp.nonaptr.test", priority: 1, weight: 0, port: 5081, target: "t.nonaptr.test")
        dns.srv("_sip._udp.nonaptr.test", priority: 1, weight: 0, port: 5071, target: "u.nonaptr.test")
        dns.a("s.nonaptr.test", "127.0.0.31")
        dns.a("t.nonaptr.test", "127.0.0.32")
        dns.a("u.nonaptr.test", "127.0.0.33")
        var locator = SIPServerLocator(lookup: dns)
        let cursor = try locator.resolve(try resolutionURI("sip:nonaptr.test"), now: 0)
        #expect(targetSummary(cursor) == ["UDP 127.0.0.33:5071", "TCP 127.0.0.32:5081", "TLS 127.0.0.31:5091"])
        #expect(dns.queried(.srv) == ["_sip._udp.nonaptr.test", "_sip._tcp.nonaptr.test", "_sips._tcp.nonaptr.test"])
        let sips = try locator.resolve(try resolutionURI("sips:nonaptr.test"), now: 0)
        #expect(targetSummary(sips) == ["TLS 127.0.0.31:5091"])
    }

    @Test func withoutNAPTRAndSRVTheHostAddressesAreUsed() throws {
        let dns = FakeDNS()
        dns.a("bare.test", "127.0.0.40")
        dns.aaaa("bare.test", "::1")
        var locator = SIPServerLocator(lookup: dns)
        #expect(targetSummary(try locator.resolve(try resolutionURI("sip:bare.test"), now: 0)) == ["UDP 127.0.0.40:5060", "UDP [::1]:5060"])
        #expect(targetSummary(try locator.resolve(try resolutionURI("sips:bare.test"), now: 0)) == ["TLS 127.0.0.40:5061", "TLS [::1]:5061"])
    }

    @Test func srvPriorityOrderIsKept() throws {
        let dns = FakeDNS()
        dns.exists("prio.test")
        dns.srv("_sip._udp.prio.test", priority: 30, weight: 100, port: 5003, target: "c.prio.test")
        dns.srv("_sip._udp.prio.test", priority: 10, weight: 0, port: 5001, target: "a.prio.test")
        dns.srv("_sip._udp.prio.test", priority: 20, weight: 5, port: 5002, target: "b.prio.test")
        dns.a("a.prio.test", "127.0.0.51")
        dns.a("b.prio.test", "127.0.0.52")
        dns.a("c.prio.test", "127.0.0.53")
        var locator = SIPServerLocator(lookup: dns, configuration: SIPServerLocator.Configuration(transports: [.udp]))
        var rng = SeededGenerator(seed: 7)
        let cursor = try locator.resolve(try resolutionURI("sip:prio.test"), now: 0, using: &rng)
        #expect(targetSummary(cursor) == ["UDP 127.0.0.51:5001", "UDP 127.0.0.52:5002", "UDP 127.0.0.53:5003"])
    }

    @Test func srvTargetDotMeansNoService() throws {
        let dns = FakeDNS()
        dns.exists("dot.test")
        dns.a("dot.test", "127.0.0.60")
        dns.srv("_sip._udp.dot.test", priority: 0, weight: 0, port: 0, target: ".")
        var locator = SIPServerLocator(lookup: dns, configuration: SIPServerLocator.Configuration(transports: [.udp]))
        // An SRV record exists, so the host's own A record must not be used.
        #expect(resolutionErrorCode(&locator, try resolutionURI("sip:dot.test")) == .noTargets)
    }

    @Test func unknownNameIsHostNotFound() throws {
        var locator = SIPServerLocator(lookup: FakeDNS())
        #expect(resolutionErrorCode(&locator, try resolutionURI("sip:nowhere.test")) == .hostNotFound)
        #expect(resolutionErrorCode(&locator, try resolutionURI("sip:nowhere.test:5060")) == .hostNotFound)
        #expect(resolutionErrorCode(&locator, try resolutionURI("sip:nowhere.test;transport=tcp")) == .hostNotFound)
    }

    @Test func srvTargetWithoutAddressIsNoTargets() throws {
        let dns = FakeDNS()
        dns.exists("dangling.test")
        dns.srv("_sip._udp.dangling.test", priority: 0, weight: 0, port: 5060, target: "gone.dangling.test")
        var locator = SIPServerLocator(lookup: dns, configuration: SIPServerLocator.Configuration(transports: [.udp]))
        #expect(resolutionErrorCode(&locator, try resolutionURI("sip:dangling.test")) == .noTargets)
    }

    @Test func temporaryFailuresAreReportedOnlyWhenNothingIsFound() throws {
        let dns = Self.naptrZone()
        dns.fail("example.test", .naptr, .temporaryFailure)
        var locator = SIPServerLocator(lookup: dns)
        // NAPTR timed out: SRV fallback still finds servers.
        let cursor = try locator.resolve(try resolutionURI("sip:example.test"), now: 0)
        #expect(targetSummary(cursor) == ["UDP 127.0.0.2:5070", "TCP 127.0.0.3:5080", "TLS 127.0.0.4:5090"])

        let down = FakeDNS()
        for type in DNSRecordType.allCases { down.fail("down.test", type, .temporaryFailure) }
        var failing = SIPServerLocator(lookup: down)
        #expect(resolutionErrorCode(&failing, try resolutionURI("sip:down.test:5060")) == .temporaryFailure)
        // Temporary failures are not cached: the next attempt asks again.
        let before = down.queryCount
        #expect(resolutionErrorCode(&failing, try resolutionURI("sip:down.test:5060")) == .temporaryFailure)
        #expect(down.queryCount > before)
    }

    @Test func queriesPerResolutionAreBounded() throws {
        let dns = FakeDNS()
        for i in 0..<40 {
            let name = "_sip._udp.n" + String(i) + ".budget.test"
            dns.naptr("budget.test", order: UInt16(i), preference: 0, service: "SIP+D2U", replacement: name)
            dns.fail(name, .srv, .temporaryFailure)
        }
        var locator = SIPServerLocator(lookup: dns, configuration: SIPServerLocator.Configuration(maximumRecords: 64, maximumQueries: 10))
        #expect(resolutionErrorCode(&locator, try resolutionURI("sip:budget.test")) == .temporaryFailure)
        #expect(dns.queryCount == 10)
    }

    @Test func duplicatesAreRemovedAndTargetsCapped() throws {
        let dns = FakeDNS()
        dns.exists("many.test")
        for i in 0..<10 {
            let target = "h" + String(i) + ".many.test"
            dns.srv("_sip._udp.many.test", priority: UInt16(i), weight: 0, port: 5060, target: target)
            dns.a(target, "127.0.1." + String(i % 5))
        }
        var locator = SIPServerLocator(lookup: dns, configuration: SIPServerLocator.Configuration(transports: [.udp], maximumTargets: 4))
        let cursor = try locator.resolve(try resolutionURI("sip:many.test"), now: 0)
        #expect(targetSummary(cursor) == ["UDP 127.0.1.0:5060", "UDP 127.0.1.1:5060", "UDP 127.0.1.2:5060", "UDP 127.0.1.3:5060"])
    }
}

@Suite("RFC 2782 weighted selection")
struct ResolutionSRVOrderingTests {
    @Test func firstChoiceFollowsWeights() {
        let records = [
            DNSSRVData(priority: 1, weight: 10, port: 1, target: "a"),
            DNSSRVData(priority: 1, weight: 30, port: 2, target: "b"),
            DNSSRVData(priority: 1, weight: 60, port: 3, target: "c"),
        ]
        var rng = SeededGenerator(seed: 2782)
        var firsts: [UInt16: Int] = [:]
        let trials = 6000
        for _ in 0..<trials {
            let ordered = SRVOrdering.order(records, using: &rng)
            #expect(ordered.count == 3)
            firsts[ordered[0].port, default: 0] += 1
        }
        let a = Double(firsts[1] ?? 0) / Double(trials)
        let b = Double(firsts[2] ?? 0) / Double(trials)
        let c = Double(firsts[3] ?? 0) / Double(trials)
        // Expected 10/101, 30/101, 60/101 (the draw is uniform over 0...100 and 0 picks the first).
        #expect(abs(a - 11.0 / 101.0) < 0.025)
        #expect(abs(b - 30.0 / 101.0) < 0.025)
        #expect(abs(c - 60.0 / 101.0) < 0.025)
    }

    @Test func zeroWeightRarelyGoesFirstAndPrioritiesNeverMix() {
        let records = [
            DNSSRVData(priority: 5, weight: 100, port: 3, target: "late"),
            DNSSRVData(priority: 1, weight: 0, port: 1, target: "zero"),
            DNSSRVData(priority: 1, weight: 100, port: 2, target: "heavy"),
        ]
        var rng = SeededGenerator(seed: 1)
        var zeroFirst = 0
        for _ in 0..<2000 {
            let ordered = SRVOrdering.order(records, using: &rng)
            #expect(ordered.map(\.priority) == [1, 1, 5])
            if ordered[0].weight == 0 { zeroFirst += 1 }
        }
        // Probability 1/101 per trial.
        #expect(zeroFirst > 0)
        #expect(zeroFirst < 60)
    }

    @Test func allRecordsAreKeptOnce() {
        var records: [DNSSRVData] = []
        for i in 0..<20 { records.append(DNSSRVData(priority: UInt16(i % 3), weight: UInt16(i * 7 % 11), port: UInt16(i), target: "t")) }
        var rng = SeededGenerator(seed: 99)
        let ordered = SRVOrdering.order(records, using: &rng)
        #expect(ordered.map(\.port).sorted() == records.map(\.port))
        #expect(ordered.map(\.priority) == ordered.map(\.priority).sorted())
    }
}

@Suite("DNS cache and failover cursor")
struct ResolutionCacheTests {
    @Test func answersAreServedFromTheCacheUntilTheirTTL() throws {
        let dns = FakeDNS()
        dns.naptr("ttl.test", order: 1, preference: 1, service: "SIP+D2U", replacement: "_sip._udp.ttl.test", ttl: 600)
        dns.srv("_sip._udp.ttl.test", priority: 1, weight: 0, port: 5060, target: "h.ttl.test", ttl: 120)
        dns.a("h.ttl.test", "127.0.0.70", ttl: 60)
        var locator = SIPServerLocator(lookup: dns, configuration: SIPServerLocator.Configuration(useIPv6: false))
        let first = try locator.resolve(try resolutionURI("sip:ttl.test"), now: 1000)
        #expect(first.validUntil == 1060)
        let queries = dns.queryCount
        #expect(queries == 3)
        let second = try locator.resolve(try resolutionURI("sip:ttl.test"), now: 1059)
        #expect(dns.queryCount == queries)
        #expect(targetSummary(second) == targetSummary(first))
        // Past the A record's TTL only that record is asked again.
        _ = try locator.resolve(try resolutionURI("sip:ttl.test"), now: 1061)
        #expect(dns.queryCount == queries + 1)
        #expect(dns.log.last == FakeDNS.Key(name: "h.ttl.test", type: .a))
    }

    @Test func negativeAnswersAreCachedForTheNegativeTTL() throws {
        let dns = FakeDNS()
        var locator = SIPServerLocator(lookup: dns, configuration: SIPServerLocator.Configuration(negativeTTL: 10))
        #expect(resolutionErrorCode(&locator, try resolutionURI("sip:missing.test:5060"), now: 0) == .hostNotFound)
        let queries = dns.queryCount
        #expect(resolutionErrorCode(&locator, try resolutionURI("sip:missing.test:5060"), now: 9) == .hostNotFound)
        #expect(dns.queryCount == queries)
        #expect(resolutionErrorCode(&locator, try resolutionURI("sip:missing.test:5060"), now: 10) == .hostNotFound)
        #expect(dns.queryCount > queries)
    }

    @Test func cacheIsBoundedAndEvictsTheSoonestExpiry() {
        var cache = DNSCache(capacity: 3)
        for i in 0..<5 {
            let record = DNSResourceRecord(name: "n", ttl: UInt32(100 - i), data: .a("127.0.0.1"))
            cache.store(.records([record]), for: DNSCache.Key(name: "h" + String(i) + ".test", type: .a), now: 0)
            #expect(cache.count <= 3)
        }
        #expect(cache.count == 3)
        // TTLs 100, 99, 98, 97, 96: the entries expiring soonest were dropped to make room.
        #expect(cache.entry(for: DNSCache.Key(name: "h0.test", type: .a), now: 1) != nil)
        #expect(cache.entry(for: DNSCache.Key(name: "h4.test", type: .a), now: 1) != nil)
        #expect(cache.entry(for: DNSCache.Key(name: "h2.test", type: .a), now: 1) == nil)
        #expect(cache.entry(for: DNSCache.Key(name: "h3.test", type: .a), now: 1) == nil)
    }

    @Test func cacheDropsExpiredEntriesFirstAndIgnoresZeroTTL() {
        var cache = DNSCache(capacity: 2)
        let short = DNSResourceRecord(name: "n", ttl: 5, data: .a("127.0.0.1"))
        let long = DNSResourceRecord(name: "n", ttl: 500, data: .a("127.0.0.1"))
        let zero = DNSResourceRecord(name: "n", ttl: 0, data: .a("127.0.0.1"))
        cache.store(.records([long]), for: DNSCache.Key(name: "long.test", type: .a), now: 0)
        cache.store(.records([short]), for: DNSCache.Key(name: "short.test", type: .a), now: 0)
        cache.store(.records([zero]), for: DNSCache.Key(name: "zero.test", type: .a), now: 0)
        #expect(cache.count == 2)
        cache.store(.records([long]), for: DNSCache.Key(name: "new.test", type: .a), now: 10)
        #expect(cache.entry(for: DNSCache.Key(name: "long.test", type: .a), now: 10) != nil)
        #expect(cache.entry(for: DNSCache.Key(name: "NEW.test.", type: .a), now: 10) != nil)
        #expect(cache.count == 2)
    }

    @Test func locatorCacheStaysWithinItsCapacity() throws {
        let dns = FakeDNS()
        for i in 0..<50 { dns.a("h" + String(i) + ".test", "127.0.0.1") }
        var locator = SIPServerLocator(lookup: dns, configuration: SIPServerLocator.Configuration(cacheCapacity: 8))
        for i in 0..<50 {
            _ = try locator.resolve(try resolutionURI("sip:h" + String(i) + ".test:5060"), now: Double(i))
            #expect(locator.cache.count <= 8)
        }
        #expect(locator.cache.count == 8)
    }

    @Test func cursorFailsOverInOrderAndResets() throws {
        let dns = FakeDNS()
        dns.exists("fo.test")
        dns.srv("_sip._udp.fo.test", priority: 1, weight: 0, port: 5001, target: "a.fo.test")
        dns.srv("_sip._udp.fo.test", priority: 2, weight: 0, port: 5002, target: "b.fo.test")
        dns.srv("_sip._udp.fo.test", priority: 3, weight: 0, port: 5003, target: "c.fo.test")
        dns.a("a.fo.test", "127.0.0.81")
        dns.a("b.fo.test", "127.0.0.82")
        dns.a("c.fo.test", "127.0.0.83")
        var locator = SIPServerLocator(lookup: dns, configuration: SIPServerLocator.Configuration(transports: [.udp]))
        var cursor = try locator.resolve(try resolutionURI("sip:fo.test"), now: 0)
        #expect(cursor.current?.port == 5001)
        #expect(cursor.next(after: .timeout)?.port == 5002)
        #expect(cursor.next(after: .serviceUnavailable)?.port == 5003)
        #expect(cursor.next(after: .transportError) == nil)
        #expect(cursor.isExhausted)
        #expect(cursor.next(after: .timeout) == nil)
        #expect(cursor.failures.map(\.reason) == [.timeout, .serviceUnavailable, .transportError])
        #expect(cursor.failures.map(\.target.port) == [5001, 5002, 5003])
        cursor.reset()
        #expect(cursor.current?.port == 5001)
        #expect(cursor.failures.isEmpty)
        // fo.test has no NAPTR record: that negative answer (negativeTTL 30 s) bounds the result's life.
        #expect(cursor.validUntil == 30)
        #expect(!cursor.isExpired(now: 29))
        #expect(cursor.isExpired(now: 30))
    }
}
