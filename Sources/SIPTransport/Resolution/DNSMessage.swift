import CResolv
#if canImport(Glibc)
import Glibc
#endif

/// A parsed DNS response: the header's RCODE and the answer-section records of the types in
/// `DNSRecordType` (others, such as CNAME, are skipped; so is any class other than IN).
///
/// Parsing uses glibc's `ns_initparse`/`ns_parserr` (which check every record against the packet's
/// end) and `ns_name_uncompress` for names; record data is then read by hand, each field checked
/// against the record's RDLENGTH. Any inconsistency throws `.malformedAnswer`: bad input never
/// reads outside the packet.
public struct DNSMessage: Sendable, Equatable {
    public var id: UInt16
    public var isResponse: Bool
    public var truncated: Bool
    public var rcode: UInt8
    public var answers: [DNSResourceRecord]

    /// The largest number of answer records read from one packet (a 64 KiB packet cannot hold
    /// many more anyway).
    public static let maximumAnswers = 4096

    /// Parses `packet` (a complete DNS message as received).
    public static func parse(_ packet: [UInt8]) throws(DNSLookupError) -> DNSMessage {
        guard packet.count >= 12 else { throw malformed("shorter than a header (\(packet.count) octets)") }
        guard packet.count <= 65535 else { throw malformed("longer than 65535 octets") }
        let id = UInt16(packet[0]) << 8 | UInt16(packet[1])
        let result: Result<DNSMessage, DNSLookupError> = packet.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return .failure(malformed("empty")) }
            var handle = ns_msg()
            guard ns_initparse(base, Int32(buffer.count), &handle) == 0 else {
                return .failure(malformed("ns_initparse rejected the packet"))
            }
            var message = DNSMessage(
                id: id,
                isResponse: packet[2] & 0x80 != 0,
                truncated: packet[2] & 0x02 != 0,
                rcode: packet[3] & 0x0F,
                answers: []
            )
            let count = Int(handle._counts.1)  // ns_s_an
            guard count <= maximumAnswers else { return .failure(malformed("\(count) answers")) }
            var rr = ns_rr()
            for index in 0..<count {
                guard ns_parserr(&handle, ns_s_an, Int32(index), &rr) == 0 else {
                    return .failure(malformed("answer \(index) does not parse"))
                }
                guard rr.rr_class == UInt16(ns_c_in.rawValue), let type = DNSRecordType(rawValue: rr.type) else { continue }
                guard let rdata = rr.rdata else { return .failure(malformed("answer \(index) has no data")) }
                let offset = base.distance(to: rdata)
                let length = Int(rr.rdlength)
                guard offset >= 0, length <= buffer.count - offset else {
                    return .failure(malformed("answer \(index) data outside the packet"))
                }
                let owner = withUnsafeBytes(of: rr.name) { raw -> String in
                    let bytes = raw.prefix { $0 != 0 }
                    return String(decoding: bytes, as: UTF8.self)
                }
                let reader = RecordDataReader(base: base, end: base + buffer.count, start: offset, length: length)
                guard let data = reader.decode(type) else {
                    return .failure(malformed("answer \(index) (\(type)) has bad record data"))
                }
                message.answers.append(DNSResourceRecord(name: normalizedDomainName(owner.isEmpty ? "." : owner), ttl: rr.ttl, data: data))
            }
            return .success(message)
        }
        return try result.get()
    }

    private static func malformed(_ detail: String) -> DNSLookupError {
        DNSLookupError(.malformedAnswer, name: "", detail: detail)
    }
}

/// Reads one record's data: `start`/`length` locate it inside the packet `base..<end`.
private struct RecordDataReader {
    let base: UnsafePointer<UInt8>
    let end: UnsafePointer<UInt8>
    let start: Int
    let length: Int

    func decode(_ type: DNSRecordType) -> DNSRecordData? {
        var cursor = start
        let limit = start + length
        switch type {
        case .a:
            guard length == 4 else { return nil }
            return .a(addressText(AF_INET, count: 4))
        case .aaaa:
            guard length == 16 else { return nil }
            return .aaaa(addressText(AF_INET6, count: 16))
        case .srv:
            guard let priority = u16(&cursor, limit), let weight = u16(&cursor, limit), let port = u16(&cursor, limit),
                  let target = name(&cursor, limit), cursor == limit else { return nil }
            return .srv(DNSSRVData(priority: priority, weight: weight, port: port, target: target))
        case .naptr:
            guard let order = u16(&cursor, limit), let preference = u16(&cursor, limit),
                  let flags = characterString(&cursor, limit), let services = characterString(&cursor, limit),
                  let regexp = characterString(&cursor, limit), let replacement = name(&cursor, limit),
                  cursor == limit else { return nil }
            return .naptr(DNSNAPTRData(order: order, preference: preference, flags: flags, services: services, regexp: regexp, replacement: replacement))
        }
    }

    private func u16(_ cursor: inout Int, _ limit: Int) -> UInt16? {
        guard limit - cursor >= 2 else { return nil }
        let value = UInt16(base[cursor]) << 8 | UInt16(base[cursor + 1])
        cursor += 2
        return value
    }

    private func characterString(_ cursor: inout Int, _ limit: Int) -> String? {
        guard cursor < limit else { return nil }
        let count = Int(base[cursor])
        guard limit - cursor - 1 >= count else { return nil }
        let text = String(decoding: UnsafeBufferPointer(start: base + cursor + 1, count: count), as: UTF8.self)
        cursor += 1 + count
        return text
    }

    /// A (possibly compressed) domain name; the compressed form must lie inside the record.
    private func name(_ cursor: inout Int, _ limit: Int) -> String? {
        guard cursor < limit else { return nil }
        var output = [CChar](repeating: 0, count: Int(NS_MAXDNAME) + 1)
        let used = ns_name_uncompress(base, end, base + cursor, &output, output.count)
        guard used > 0, Int(used) <= limit - cursor else { return nil }
        cursor += Int(used)
        let bytes = output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return bytes.isEmpty ? "." : normalizedDomainName(String(decoding: bytes, as: UTF8.self))
    }

    private func addressText(_ family: Int32, count: Int) -> String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        guard inet_ntop(family, base + start, &text, socklen_t(text.count)) != nil else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
