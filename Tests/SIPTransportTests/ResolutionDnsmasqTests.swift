import SIPCore
@testable import SIPTransport
import Testing
import DialtoneTestKit
#if canImport(Glibc)
import Glibc
#endif

/// RFC 3263 resolution against a real dnsmasq on 127.0.0.1 (a random port), started and stopped by
/// pid for each test.
@Suite("RFC 3263 resolution against dnsmasq", .serialized)
struct ResolutionDnsmasqTests {
    static let zone = [
        "--naptr-record=example.test,10,50,s,SIP+D2U,,_sip._udp.example.test",
        "--naptr-record=example.test,20,50,s,SIP+D2T,,_sip._tcp.example.test",
        "--naptr-record=example.test,30,50,s,SIPS+D2T,,_sips._tcp.example.test",
        "--srv-host=_sip._udp.example.test,sip1.example.test,5070,10,0",
        "--srv-host=_sip._udp.example.test,sip2.example.test,5071,20,0",
        "--srv-host=_sip._tcp.example.test,sip1.example.test,5080,10,0",
        "--srv-host=_sips._tcp.example.test,sip2.example.test,5081,10,0",
        "--host-record=sip1.example.test,127.0.0.2",
        "--host-record=sip2.example.test,127.0.0.3",
        "--host-record=plain.example.test,127.0.0.4",
        "--srv-host=_sip._udp.nonaptr.example.test,sip2.example.test,5090,1,0",
        "--host-record=nonaptr.example.test,127.0.0.5",
    ]

    static func start() throws -> Dnsmasq {
        try #require(access(Dnsmasq.executable, X_OK) == 0, "dnsmasq is missing: install the Debian package dnsmasq (make deps)")
        return try Dnsmasq(records: zone, ttl: 60)
    }

    static func lookup(_ server: Dnsmasq) throws -> ResolverDNSLookup {
        // Generous for qemu, but short enough that a lost server fails the test quickly.
        try ResolverDNSLookup(configuration: ResolverDNSLookup.Configuration(nameserver: (address: "127.0.0.1", port: server.port), timeout: 3, attempts: 2))
    }

    @Test func lookupReturnsRecordsWithTTL() throws {
        let server = try Self.start()
        defer { server.stop() }
        let dns = try Self.lookup(server)
        let a = try dns.query("sip1.example.test", type: .a)
        #expect(a == [DNSResourceRecord(name: "sip1.example.test", ttl: 60, data: .a("127.0.0.2"))])
        let srv = try dns.query("_sip._udp.example.test", type: .srv)
        #expect(Set(srv.map(\.data)) == [
            .srv(DNSSRVData(priority: 10, weight: 0, port: 5070, target: "sip1.example.test")),
            .srv(DNSSRVData(priority: 20, weight: 0, port: 5071, target: "sip2.example.test")),
        ])
        let naptr = try dns.query("example.test", type: .naptr)
        #expect(naptr.count == 3)
        #expect(naptr.contains { $0.data == .naptr(DNSNAPTRData(order: 10, preference: 50, flags: "s", services: "SIP+D2U", regexp: "", replacement: "_sip._udp.example.test")) })
        // The name exists, the type does not: NODATA, an empty answer.
        #expect(try dns.query("plain.example.test", type: .srv).isEmpty)
    }

    @Test func nxdomainIsAClearError() throws {
        let server = try Self.start()
        defer { server.stop() }
        let dns = try Self.lookup(server)
        var code: DNSLookupError.Code? = nil
        do throws(DNSLookupError) {
            _ = try dns.query("missing.example.test", type: .a)
        } catch {
            code = error.code
            #expect(error.description.contains("NXDOMAIN"))
        }
        #expect(code == .nameNotFound)
        var locator = SIPServerLocator(lookup: dns)
        var resolutionError: SIPResolutionError? = nil
        let uri = try resolutionURI("sip:alice@missing.example.test")
        do throws(SIPResolutionError) {
            _ = try locator.resolve(uri, now: 0)
        } catch {
            resolutionError = error
        }
        #expect(resolutionError?.code == .hostNotFound)
        #expect(resolutionError?.name == "missing.example.test")
    }

    @Test func naptrThenSRVThenAddressEndToEnd() throws {
        let server = try Self.start()
        defer { server.stop() }
        var locator = SIPServerLocator(lookup: try Self.lookup(server), configuration: SIPServerLocator.Configuration(useIPv6: false))
        let cursor = try locator.resolve(try resolutionURI("sip:alice@example.test"), now: 0)
        #expect(targetSummary(cursor) == [
            "UDP 127.0.0.2:5070", "UDP 127.0.0.3:5071", "TCP 127.0.0.2:5080", "TLS 127.0.0.3:5081",
        ])
        #expect(cursor.validUntil == 60)
        #expect(server.queryCount(for: "example.test") == 1)
        let sips = try locator.resolve(try resolutionURI("sips:alice@example.test"), now: 1)
        #expect(targetSummary(sips) == ["TLS 127.0.0.3:5081"])
    }

    @Test func srvPriorityOrderAndFailover() throws {
        let server = try Self.start()
        defer { server.stop() }
        var locator = SIPServerLocator(lookup: try Self.lookup(server), configuration: SIPServerLocator.Configuration(useIPv6: false))
        var cursor = try locator.resolve(try resolutionURI("sip:bob@example.test;transport=udp"), now: 0)
        #expect(targetSummary(cursor) == ["UDP 127.0.0.2:5070", "UDP 127.0.0.3:5071"])
        #expect(server.queryCount(for: "example.test") == 0)
        #expect(cursor.current?.hostName == "sip1.example.test")
        #expect(cursor.next(after: .timeout)?.hostName == "sip2.example.test")
        #expect(cursor.next(after: .serviceUnavailable) == nil)
        cursor.reset()
        #expect(cursor.current?.port == 5070)
    }

    @Test func noNAPTRFallsBackToSRV() throws {
        let server = try Self.start()
        defer { server.stop() }
        var locator = SIPServerLocator(lookup: try Self.lookup(server), configuration: SIPServerLocator.Configuration(useIPv6: false))
        let cursor = try locator.resolve(try resolutionURI("sip:nonaptr.example.test"), now: 0)
        #expect(targetSummary(cursor) == ["UDP 127.0.0.3:5090"])
    }

    @Test func explicitPortSkipsNAPTRAndSRV() throws {
        let server = try Self.start()
        defer { server.stop() }
        let counting = CountingLookup(try Self.lookup(server))
        var locator = SIPServerLocator(lookup: counting)
        // example.test has NAPTR records but no address: an explicit port means A/AAAA only, so
        // there is nothing to reach.
        #expect(resolutionErrorCode(&locator, try resolutionURI("sip:example.test:5099")) == .noTargets)
        #expect(counting.types == [.a, .aaaa])
        #expect(server.queryCount(for: "_sip._udp.example.test") == 0)
        let plain = try locator.resolve(try resolutionURI("sip:plain.example.test:5099"), now: 0)
        #expect(targetSummary(plain) == ["UDP 127.0.0.4:5099"])
        #expect(!counting.types.contains(.naptr))
        #expect(!counting.types.contains(.srv))
    }

    @Test func numericHostMakesNoQueries() throws {
        let server = try Self.start()
        defer { server.stop() }
        let counting = CountingLookup(try Self.lookup(server))
        var locator = SIPServerLocator(lookup: counting)
        let cursor = try locator.resolve(try resolutionURI("sip:alice@127.0.0.9:5098"), now: 0)
        #expect(targetSummary(cursor) == ["UDP 127.0.0.9:5098"])
        #expect(counting.count == 0)
        #expect(!server.process.output.contains("query["))
    }

    @Test func secondResolutionIsServedFromTheCache() throws {
        let server = try Self.start()
        defer { server.stop() }
        let counting = CountingLookup(try Self.lookup(server))
        var locator = SIPServerLocator(lookup: counting, configuration: SIPServerLocator.Configuration(useIPv6: false))
        let first = try locator.resolve(try resolutionURI("sip:alice@example.test"), now: 100)
        let queries = counting.count
        #expect(queries > 0)
        let second = try locator.resolve(try resolutionURI("sip:alice@example.test"), now: 130)
        #expect(counting.count == queries)
        #expect(targetSummary(second) == targetSummary(first))
        #expect(server.queryCount(for: "example.test") == 1)
        // Past the 60 s TTL everything is asked again.
        _ = try locator.resolve(try resolutionURI("sip:alice@example.test"), now: 161)
        #expect(counting.count == 2 * queries)
        #expect(server.queryCount(for: "example.test") == 2)
    }

    @Test func silentServerTimesOutAsTemporaryFailure() throws {
        // A UDP socket that never answers stands in for a dead name server.
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { s -> Bool in
                bind(fd, s, length) == 0 && getsockname(fd, s, &length) == 0
            }
        }
        try #require(bound)
        let port = UInt16(bigEndian: address.sin_port)
        let dns = try ResolverDNSLookup(configuration: ResolverDNSLookup.Configuration(nameserver: (address: "127.0.0.1", port: port), timeout: 1, attempts: 1))
        var start = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        var code: DNSLookupError.Code? = nil
        do throws(DNSLookupError) {
            _ = try dns.query("sip1.example.test", type: .a)
        } catch {
            code = error.code
        }
        var end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &end)
        #expect(code == .temporaryFailure)
        // timeout 1 s × 1 attempt: well under the 5 s × 2 default.
        #expect(end.tv_sec - start.tv_sec < 5)
    }
}
