import SIPCore
@testable import SIPTransport

/// A DNS table for locator tests: names absent from the table are NXDOMAIN; a name present with
/// other types answers NODATA for the missing type. Every query is logged.
final class FakeDNS: DNSLookup {
    struct Key: Hashable {
        var name: String
        var type: DNSRecordType
    }

    var records: [Key: [DNSResourceRecord]] = [:]
    var failures: [Key: DNSLookupError.Code] = [:]
    var names: Set<String> = []
    private(set) var log: [Key] = []

    var queryCount: Int { log.count }

    func query(_ name: String, type: DNSRecordType) throws(DNSLookupError) -> [DNSResourceRecord] {
        let key = Key(name: name, type: type)
        log.append(key)
        if let code = failures[key] { throw DNSLookupError(code, name: name, type: type) }
        guard names.contains(name) else { throw DNSLookupError(.nameNotFound, name: name, type: type) }
        return records[key] ?? []
    }

    func queried(_ type: DNSRecordType) -> [String] { log.filter { $0.type == type }.map(\.name) }

    private func add(_ name: String, _ data: DNSRecordData, ttl: UInt32) {
        names.insert(name)
        records[Key(name: name, type: data.type), default: []].append(DNSResourceRecord(name: name, ttl: ttl, data: data))
    }

    func naptr(_ name: String, order: UInt16, preference: UInt16, flags: String = "s", service: String, replacement: String, regexp: String = "", ttl: UInt32 = 300) {
        add(name, .naptr(DNSNAPTRData(order: order, preference: preference, flags: flags, services: service, regexp: regexp, replacement: replacement)), ttl: ttl)
    }

    func srv(_ name: String, priority: UInt16, weight: UInt16, port: UInt16, target: String, ttl: UInt32 = 300) {
        add(name, .srv(DNSSRVData(priority: priority, weight: weight, port: port, target: target)), ttl: ttl)
    }

    func a(_ name: String, _ address: String, ttl: UInt32 = 300) { add(name, .a(address), ttl: ttl) }
    func aaaa(_ name: String, _ address: String, ttl: UInt32 = 300) { add(name, .aaaa(address), ttl: ttl) }
    func exists(_ name: String) { names.insert(name) }
    func fail(_ name: String, _ type: DNSRecordType, _ code: DNSLookupError.Code) { failures[Key(name: name, type: type)] = code }
}

/// Wraps a lookup and counts the queries that reach it.
final class CountingLookup: DNSLookup {
    let inner: any DNSLookup
    private(set) var count = 0
    private(set) var types: [DNSRecordType] = []

    init(_ inner: any DNSLookup) { self.inner = inner }

    func query(_ name: String, type: DNSRecordType) throws(DNSLookupError) -> [DNSResourceRecord] {
        count += 1
        types.append(type)
        return try inner.query(name, type: type)
    }
}

struct ResolutionTestError: Error, CustomStringConvertible {
    var description: String
}

func resolutionURI(_ text: String) throws -> SIPURI {
    guard let uri = try URI.parse(text).sipURI else { throw ResolutionTestError(description: "not a SIP URI: " + text) }
    return uri
}

/// "UDP 127.0.0.2:5060" for each target, for compact comparisons.
func targetSummary(_ cursor: SIPTargetCursor) -> [String] {
    cursor.targets.map { $0.transport.viaToken + " " + $0.address.description }
}

/// Runs `resolve` and returns the error code, nil when it succeeded.
func resolutionErrorCode(_ locator: inout SIPServerLocator, _ uri: SIPURI, now: Double = 0) -> SIPResolutionError.Code? {
    do throws(SIPResolutionError) {
        _ = try locator.resolve(uri, now: now)
        return nil
    } catch {
        return error.code
    }
}
