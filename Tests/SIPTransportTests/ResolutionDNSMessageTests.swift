@testable import SIPTransport
import Testing
import DialtoneTestKit

/// Builds DNS responses octet by octet, so malformed ones can be made on purpose.
enum DNSPacket {
    static func u16(_ value: Int) -> [UInt8] { [UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)] }

    static func u32(_ value: UInt32) -> [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }

    static func name(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        for label in text.split(separator: ".") {
            out.append(UInt8(label.utf8.count))
            out += Array(label.utf8)
        }
        out.append(0)
        return out
    }

    static func characterString(_ text: String) -> [UInt8] { [UInt8(text.utf8.count)] + Array(text.utf8) }

    /// Header (response, RD+RA, `rcode`), one question for `qname`/`qtype`, then `answers` (already
    /// encoded records); `answerCount` overrides ANCOUNT.
    static func response(qname: String, qtype: Int, answers: [[UInt8]], answerCount: Int? = nil, rcode: UInt8 = 0) -> [UInt8] {
        var packet: [UInt8] = u16(0x1234)
        packet += [0x81, 0x80 | rcode]
        packet += u16(1)
        packet += u16(answerCount ?? answers.count)
        packet += u16(0)
        packet += u16(0)
        packet += name(qname)
        packet += u16(qtype)
        packet += u16(1)
        for answer in answers { packet += answer }
        return packet
    }

    /// A record whose owner is a compression pointer to the question name (offset 12).
    static func record(type: Int, ttl: UInt32 = 300, rdata: [UInt8], rdlength: Int? = nil) -> [UInt8] {
        var out: [UInt8] = [0xC0, 0x0C]
        out += u16(type)
        out += u16(1)
        out += u32(ttl)
        out += u16(rdlength ?? rdata.count)
        out += rdata
        return out
    }

    static func srvData(priority: Int, weight: Int, port: Int, target: [UInt8]) -> [UInt8] {
        var out = u16(priority)
        out += u16(weight)
        out += u16(port)
        out += target
        return out
    }

    static func naptrData(order: Int, preference: Int, flags: String, services: String, regexp: String, replacement: [UInt8]) -> [UInt8] {
        var out = u16(order)
        out += u16(preference)
        out += characterString(flags)
        out += characterString(services)
        out += characterString(regexp)
        out += replacement
        return out
    }
}

/// Parses `packet`; the error code, or nil when it parsed.
func dnsParseErrorCode(_ packet: [UInt8]) -> DNSLookupError.Code? {
    do throws(DNSLookupError) {
        _ = try DNSMessage.parse(packet)
        return nil
    } catch {
        return error.code
    }
}

@Suite("DNS answer parsing")
struct ResolutionDNSMessageTests {
    @Test func parsesAddressRecords() throws {
        let packet = DNSPacket.response(qname: "h.example.test", qtype: 1, answers: [
            DNSPacket.record(type: 1, ttl: 42, rdata: [127, 0, 0, 2]),
            DNSPacket.record(type: 28, ttl: 43, rdata: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
            DNSPacket.record(type: 5, rdata: DNSPacket.name("cname.example.test")),
        ])
        let message = try DNSMessage.parse(packet)
        #expect(message.id == 0x1234)
        #expect(message.isResponse)
        #expect(message.rcode == 0)
        #expect(message.answers == [
            DNSResourceRecord(name: "h.example.test", ttl: 42, data: .a("127.0.0.2")),
            DNSResourceRecord(name: "h.example.test", ttl: 43, data: .aaaa("::1")),
        ])
    }

    @Test func parsesSRVWithCompressedTarget() throws {
        // Target "sip1" + pointer to the question name "example.test" (offset 12 + 5 for "_sip." ...).
        // The question is _sip._udp.example.test: "example.test" starts at 12 + 5 + 5 = 22.
        let target: [UInt8] = [4] + Array("sip1".utf8) + [0xC0, 22]
        let packet = DNSPacket.response(qname: "_sip._udp.example.test", qtype: 33, answers: [
            DNSPacket.record(type: 33, ttl: 60, rdata: DNSPacket.srvData(priority: 10, weight: 20, port: 5070, target: target)),
        ])
        let message = try DNSMessage.parse(packet)
        #expect(message.answers == [
            DNSResourceRecord(name: "_sip._udp.example.test", ttl: 60, data: .srv(DNSSRVData(priority: 10, weight: 20, port: 5070, target: "sip1.example.test"))),
        ])
    }

    @Test func parsesNAPTR() throws {
        let data = DNSPacket.naptrData(order: 10, preference: 50, flags: "S", services: "SIP+D2U", regexp: "", replacement: DNSPacket.name("_sip._udp.Example.test"))
        let packet = DNSPacket.response(qname: "example.test", qtype: 35, answers: [DNSPacket.record(type: 35, ttl: 7, rdata: data)])
        let message = try DNSMessage.parse(packet)
        #expect(message.answers == [
            DNSResourceRecord(name: "example.test", ttl: 7, data: .naptr(DNSNAPTRData(order: 10, preference: 50, flags: "S", services: "SIP+D2U", regexp: "", replacement: "_sip._udp.example.test"))),
        ])
    }

    @Test func keepsRcodeOfErrorResponses() throws {
        let message = try DNSMessage.parse(DNSPacket.response(qname: "x.test", qtype: 1, answers: [], rcode: 3))
        #expect(message.rcode == 3)
        #expect(message.answers.isEmpty)
    }

    @Test func rejectsShortPackets() {
        #expect(dnsParseErrorCode([]) == .malformedAnswer)
        #expect(dnsParseErrorCode([0x12, 0x34, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0]) == .malformedAnswer)
    }

    @Test func rejectsMoreAnswersThanPresent() {
        let packet = DNSPacket.response(qname: "h.test", qtype: 1, answers: [DNSPacket.record(type: 1, rdata: [127, 0, 0, 1])], answerCount: 3)
        #expect(dnsParseErrorCode(packet) == .malformedAnswer)
    }

    @Test func rejectsRecordDataPastTheEnd() {
        let packet = DNSPacket.response(qname: "h.test", qtype: 1, answers: [DNSPacket.record(type: 1, rdata: [127, 0, 0, 1], rdlength: 40)])
        #expect(dnsParseErrorCode(packet) == .malformedAnswer)
    }

    @Test func rejectsAddressesOfTheWrongLength() {
        let a = DNSPacket.response(qname: "h.test", qtype: 1, answers: [DNSPacket.record(type: 1, rdata: [127, 0, 0])])
        #expect(dnsParseErrorCode(a) == .malformedAnswer)
        let aaaa = DNSPacket.response(qname: "h.test", qtype: 28, answers: [DNSPacket.record(type: 28, rdata: [127, 0, 0, 1])])
        #expect(dnsParseErrorCode(aaaa) == .malformedAnswer)
    }

    @Test func rejectsShortSRV() {
        let packet = DNSPacket.response(qname: "s.test", qtype: 33, answers: [DNSPacket.record(type: 33, rdata: [0, 1, 0, 2, 0])])
        #expect(dnsParseErrorCode(packet) == .malformedAnswer)
    }

    @Test func rejectsSRVTargetRunningPastItsRecord() {
        // RDLENGTH covers the fixed fields and half the name; the name continues into the next octets.
        let data = DNSPacket.srvData(priority: 1, weight: 1, port: 5060, target: DNSPacket.name("target.test"))
        let packet = DNSPacket.response(qname: "s.test", qtype: 33, answers: [DNSPacket.record(type: 33, rdata: data, rdlength: 10)] + [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0]])
        #expect(dnsParseErrorCode(packet) == .malformedAnswer)
    }

    @Test func rejectsSRVWithTrailingOctets() {
        let data = DNSPacket.srvData(priority: 1, weight: 1, port: 5060, target: DNSPacket.name("t.test")) + [0xFF]
        let packet = DNSPacket.response(qname: "s.test", qtype: 33, answers: [DNSPacket.record(type: 33, rdata: data)])
        #expect(dnsParseErrorCode(packet) == .malformedAnswer)
    }

    @Test func rejectsCompressionLoopsAndWildPointers() {
        // The pointer's own offset: header 12 + question ("s.test" = 8 octets + 4) + record header 12 + 6 fixed SRV octets.
        let selfOffset = 12 + 8 + 4 + 12 + 6
        let loop = DNSPacket.srvData(priority: 1, weight: 1, port: 1, target: [0xC0, UInt8(selfOffset)])
        #expect(dnsParseErrorCode(DNSPacket.response(qname: "s.test", qtype: 33, answers: [DNSPacket.record(type: 33, rdata: loop)])) == .malformedAnswer)
        let wild = DNSPacket.srvData(priority: 1, weight: 1, port: 1, target: [0xFF, 0xFF])
        #expect(dnsParseErrorCode(DNSPacket.response(qname: "s.test", qtype: 33, answers: [DNSPacket.record(type: 33, rdata: wild)])) == .malformedAnswer)
    }

    @Test func rejectsNAPTRStringsLongerThanTheRecord() {
        var data = DNSPacket.u16(1)
        data += DNSPacket.u16(1)
        data += [200, 0x73]
        let packet = DNSPacket.response(qname: "n.test", qtype: 35, answers: [DNSPacket.record(type: 35, rdata: data)])
        #expect(dnsParseErrorCode(packet) == .malformedAnswer)
        let missingReplacement = DNSPacket.u16(1) + DNSPacket.u16(1) + DNSPacket.characterString("s") + DNSPacket.characterString("SIP+D2U") + DNSPacket.characterString("")
        let second = DNSPacket.response(qname: "n.test", qtype: 35, answers: [DNSPacket.record(type: 35, rdata: missingReplacement)])
        #expect(dnsParseErrorCode(second) == .malformedAnswer)
    }

    @Test func everyPrefixOfAValidPacketIsRejectedOrParsedWithoutCrashing() throws {
        let data = DNSPacket.naptrData(order: 10, preference: 50, flags: "s", services: "SIP+D2T", regexp: "", replacement: DNSPacket.name("_sip._tcp.example.test"))
        let packet = DNSPacket.response(qname: "example.test", qtype: 35, answers: [
            DNSPacket.record(type: 35, rdata: data),
            DNSPacket.record(type: 1, rdata: [127, 0, 0, 1]),
        ])
        #expect(try DNSMessage.parse(packet).answers.count == 2)
        var rejected = 0
        for length in 0..<packet.count {
            if dnsParseErrorCode(Array(packet.prefix(length))) != nil { rejected += 1 }
        }
        // A prefix that cuts a record is never accepted; only the header+question prefix may parse
        // as "no answers"... but ANCOUNT still says 2, so every proper prefix must fail.
        #expect(rejected == packet.count)
    }

    @Test func seededGarbageNeverCrashes() {
        var rng = SeededGenerator(seed: 3263)
        let base = DNSPacket.response(qname: "_sip._udp.example.test", qtype: 33, answers: [
            DNSPacket.record(type: 33, rdata: DNSPacket.srvData(priority: 1, weight: 2, port: 3, target: [4] + Array("sip1".utf8) + [0xC0, 22])),
        ])
        var parsed = 0
        var failed = 0
        for round in 0..<3000 {
            var packet = base
            if round % 2 == 0 {
                // Mutate a few octets of a valid packet.
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    let index = Int(rng.next() % UInt64(packet.count))
                    packet[index] = UInt8(truncatingIfNeeded: rng.next())
                }
            } else {
                packet = [0x12, 0x34, 0x81, 0x80] + rng.bytes(Int(rng.next() % 120))
            }
            if dnsParseErrorCode(packet) == nil { parsed += 1 } else { failed += 1 }
        }
        #expect(parsed + failed == 3000)
        #expect(failed > 0)
        #expect(parsed > 0)
    }
}
