import DialtoneTestKit
import SIPCore
import Testing

/// Every typed view and the validator, for exercising a message; returns how many views threw.
@discardableResult
private func exercise(_ m: SIPMessage) -> Int {
    var failures = 0
    func attempt<T>(_ body: () throws -> T) { do { _ = try body() } catch { failures += 1 } }
    attempt { try m.vias() }
    attempt { try m.topVia() }
    attempt { try m.from() }
    attempt { try m.to() }
    attempt { try m.callID() }
    attempt { try m.cseq() }
    attempt { try m.maxForwards() }
    attempt { try m.contact() }
    attempt { try m.routes() }
    attempt { try m.recordRoutes() }
    attempt { try m.path() }
    attempt { try m.contentType() }
    attempt { try m.accept() }
    attempt { try m.expires() }
    attempt { try m.minExpires() }
    attempt { try m.optionTags(.supported) }
    attempt { try m.optionTags(.require) }
    attempt { try m.allow() }
    attempt { try m.event() }
    attempt { try m.subscriptionState() }
    attempt { try m.replaces() }
    attempt { try m.reasons() }
    attempt { try m.privacy() }
    attempt { try m.sessionExpires() }
    attempt { try m.minSE() }
    attempt { try m.rseq() }
    attempt { try m.rack() }
    attempt { try m.referTo() }
    attempt { try m.referredBy() }
    attempt { try m.pAssertedIdentities() }
    for role in SIPElementRole.allCases { _ = SIPValidator.validate(m, policy: SIPValidationPolicy(role: role)) }
    _ = m.text
    return failures
}

/// Deterministic mutations of the torture messages: nothing crashes, and whatever parses is stable
/// under serialization.
@Suite("Robustness")
struct RobustnessTests {
    static let seeds: [[UInt8]] = (RFC4475.names("valid") + RFC4475.names("invalid") + RFC4475.names("semantic"))
        .map { RFC4475.bytes($0) } + RFC5118.names.map { RFC5118.wire($0) }

    /// Interesting octets to splice in.
    static let alphabet: [UInt8] = Array(" \t\r\n:;,<>\"\\@[]%=?0x*".utf8) + [0x00, 0x7F, 0xFF, 0xC3]

    static func mutate(_ input: [UInt8], _ g: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int(g.next() % 4 + 1) {
            guard !bytes.isEmpty else { break }
            let i = Int(g.next() % UInt64(bytes.count))
            switch g.next() % 5 {
            case 0: bytes[i] = alphabet[Int(g.next() % UInt64(alphabet.count))]
            case 1: bytes.insert(alphabet[Int(g.next() % UInt64(alphabet.count))], at: i)
            case 2: bytes.remove(at: i)
            case 3:
                let n = min(bytes.count - i, Int(g.next() % 40))
                bytes.insert(contentsOf: Array(bytes[i..<(i + n)]), at: i)
            default: bytes = Array(bytes[0..<i])
            }
        }
        return bytes
    }

    @Test("mutated messages never crash; what parses re-serializes to a fixed point")
    func mutations() throws {
        var g = SeededGenerator(seed: 4475)
        var parsed = 0
        for round in 0..<3_000 {
            let seed = Self.seeds[round % Self.seeds.count]
            let bytes = Self.mutate(seed, &g)
            let result = SIPMessage.parseDetailed(datagram: bytes)
            for role in SIPElementRole.allCases {
                _ = SIPValidator.inspect(datagram: bytes, policy: SIPValidationPolicy(role: role))
            }
            guard case .success(let m) = result else { continue }
            parsed += 1
            exercise(m)
            let once = m.serialized()
            guard let again = try? SIPMessage.parse(datagram: once) else {
                Issue.record("round \(round): serialized form does not parse: \(String(decoding: once, as: UTF8.self))")
                continue
            }
            #expect(again.serialized() == once, "round \(round)")
            #expect(Array(again.body) == Array(m.body), "round \(round)")
        }
        #expect(parsed > 300)
    }

    @Test("mutated streams never crash the framer, and it never buffers more than the limit")
    func streamMutations() {
        var g = SeededGenerator(seed: 5626)
        var limits = SIPLimits()
        limits.maxMessageSize = 4_096
        for round in 0..<500 {
            var framer = SIPStreamFramer(role: round % 2 == 0 ? .server : .client, limits: limits)
            var stream: [UInt8] = []
            for _ in 0..<3 { stream += Self.mutate(Self.seeds[Int(g.next() % UInt64(Self.seeds.count))], &g) }
            var i = 0
            loop: while i < stream.count {
                let n = Int(g.next() % 200) + 1
                framer.append(stream[i..<min(stream.count, i + n)])
                i += n
                do {
                    while let event = try framer.next() {
                        if case .message(let m) = event { exercise(m) }
                    }
                } catch {
                    break loop
                }
                #expect(framer.bufferedCount <= limits.maxMessageSize + 200)
            }
        }
    }

    @Test("views and the validator never crash on the torture messages", arguments: RFC4475.names("valid") + RFC4475.names("semantic"))
    func views(name: String) throws {
        guard case .success(let m) = SIPMessage.parseDetailed(datagram: RFC4475.bytes(name)) else {
            #expect(name == "mcl01")
            return
        }
        let failures = exercise(m)
        // The views fail the same way after a round trip through serialization.
        #expect(exercise(try SIPMessage.parse(datagram: m.serialized())) == failures)
        if RFC4475.names("valid").contains(name) {
            // Valid messages: no view of a header the message has throws, except the scalar views of absent
            // headers, which return nil rather than throw.
            #expect(failures == 0, "\(name): \(failures) views threw")
        }
    }

    @Test("extra/test.sip (RFC 2543 style request line without a version) is a 400, not a crash")
    func rfc2543RequestLine() throws {
        let bytes = Fixtures.bytes("rfc4475/extra/test.sip")
        let error = try #require(parseError(bytes))
        #expect(error.code == .badStartLine)
        #expect(outcome(inspect(bytes, as: .uas).verdict) == "400")
    }
}
