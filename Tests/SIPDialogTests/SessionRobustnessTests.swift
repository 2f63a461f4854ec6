import DialtoneTestKit
import SIPCore
import SIPTransaction
import SIPDialog
import Testing

/// Whatever the peer sends, the session answers with values: no trap, `.ended` at most once and
/// always last, responses with a real status. Inputs are valid messages with header values replaced
/// by garbage (a seeded generator picks which, so every run is the same).
@Suite struct SessionRobustnessTests {
    static let garbage: [String] = [
        "", " ", "garbage", ";;;", "<sip:", "\"", "99999999999999999999", "-1", "0", "1 INVITE extra", "tag=",
        "<sip:@>", "sip:bob@[::1", "*", "1800;refresher=", "x;refresher=uac", "4294967296", "100rel, 100rel",
        "<sip:a@b>;q=7", ",,,", "\u{00}", "INVITE", "2147483648 INVITE",
    ]
    static let headers: [HeaderName] = [
        .cseq, .to, .from, .callID, .contact, .recordRoute, .sessionExpires, .minSE, .rseq, .require, .allow,
        .contentType, .supported,
    ]

    /// `message` with one header replaced (or removed, or duplicated) at random.
    static func mangle(_ message: SIPMessage, _ random: inout SeededGenerator) -> SIPMessage {
        var copy = message
        let name = headers[Int(random.next() % UInt64(headers.count))]
        let value = garbage[Int(random.next() % UInt64(garbage.count))]
        switch random.next() % 4 {
        case 0: copy.headers.removeAll(name)
        case 1: copy.headers.append(name, value)
        default: copy.headers.set(name, value)
        }
        return copy
    }

    /// Checks the invariants of one action list; returns whether it ended the session.
    static func check(_ actions: [SessionAction], alreadyEnded: Bool) -> Bool {
        var ended = false
        for (index, action) in actions.enumerated() {
            switch action {
            case .ended:
                #expect(!alreadyEnded)
                #expect(index == actions.count - 1)
                ended = true
            case .sendResponse(let response, _):
                #expect((100...699).contains(response.statusCode ?? 0))
            default:
                break
            }
        }
        return ended
    }

    @Test func callerSurvivesMangledResponses() throws {
        var random = SeededGenerator(seed: 0x5EED_0001)
        for round in 0..<200 {
            var session = InviteSession(outgoing: Fixture.call(), random: ScriptedRandom([UInt64(round)]))
            let invite = try #require(sentRequests(session.start(offer: Fixture.offer, now: t0)).first)
            let valid: [SIPMessage] = [
                Fixture.respond(100, to: invite),
                Fixture.respond(180, to: invite, tag: "b1"),
                Fixture.respond(183, to: invite, tag: "b2", extra: [(.require, "100rel"), (.rseq, "1")], body: Fixture.answer),
                Fixture.respond(200, to: invite, tag: "b1", extra: [(.sessionExpires, "1800;refresher=uas")], body: Fixture.answer),
                Fixture.respond(200, to: invite, tag: "b2", body: Fixture.answer),
                Fixture.respond(302, to: invite, contact: nil, extra: [(.contact, "<sip:bob@192.0.2.40>")]),
                Fixture.respond(407, to: invite),
                Fixture.respond(422, to: invite, extra: [(.minSE, "1900")]),
                Fixture.respond(486, to: invite),
            ]
            var ended = false
            var now = t0
            for _ in 0..<12 {
                now = now + ms(100)
                let pick = valid[Int(random.next() % UInt64(valid.count))]
                let input = random.next() % 3 == 0 ? pick : Self.mangle(pick, &random)
                ended = Self.check(session.receivedResponse(input, now: now), alreadyEnded: ended) || ended
                if random.next() % 5 == 0 {
                    let timer = DialogTimer.allCases[Int(random.next() % UInt64(DialogTimer.allCases.count))]
                    ended = Self.check(session.timerFired(timer, now: now), alreadyEnded: ended) || ended
                }
                if random.next() % 7 == 0 {
                    ended = Self.check(session.cancel(now: now), alreadyEnded: ended) || ended
                }
            }
            ended = Self.check(session.hangUp(now: now), alreadyEnded: ended) || ended
            #expect(session.phase == .ended || session.phase == .calling)
        }
    }

    @Test func calleeSurvivesMangledRequests() throws {
        var random = SeededGenerator(seed: 0x5EED_0002)
        let contact = Fixture.address("<sip:alice@192.0.2.1:5060>")
        for round in 0..<200 {
            var session = InviteSession(incomingWithLocalTag: "a9", contact: contact, random: ScriptedRandom([UInt64(round)]))
            let invite = try Fixture.incomingInvite(extra: ["Supported: timer", "Session-Expires: 1800"])
            var ended = Self.check(session.receivedRequest(round % 4 == 0 ? Self.mangle(invite, &random) : invite, now: t0),
                                   alreadyEnded: false)
            let valid: [SIPMessage] = [
                try Fixture.inDialog("ACK", cseq: 100, branch: "z9hG4bKa"),
                try Fixture.inDialog("BYE", cseq: 101, branch: "z9hG4bKb"),
                try Fixture.inDialog("INVITE", cseq: 102, branch: "z9hG4bKc", extra: ["Contact: <sip:bob@192.0.2.21>"], body: Fixture.offer),
                try Fixture.inDialog("UPDATE", cseq: 103, branch: "z9hG4bKd", extra: ["Session-Expires: 90"]),
                try Fixture.inDialog("INFO", cseq: 104, branch: "z9hG4bKe"),
                try Fixture.inDialog("CANCEL", cseq: 100, branch: "z9hG4bKinv1"),
                try Fixture.inDialog("PRACK", cseq: 105, branch: "z9hG4bKf", extra: ["RAck: 1 100 INVITE"]),
            ]
            var now = t0
            for step in 0..<12 {
                now = now + ms(50)
                switch step {
                case 1: ended = Self.check(session.ring(now: now), alreadyEnded: ended) || ended
                case 3: ended = Self.check(session.answer(Fixture.answer, now: now), alreadyEnded: ended) || ended
                case 8: ended = Self.check(session.answerOffer(Fixture.answer, now: now), alreadyEnded: ended) || ended
                default: break
                }
                let pick = valid[Int(random.next() % UInt64(valid.count))]
                let input = random.next() % 3 == 0 ? pick : Self.mangle(pick, &random)
                ended = Self.check(session.receivedRequest(input, now: now), alreadyEnded: ended) || ended
                let timer = DialogTimer.allCases[Int(random.next() % UInt64(DialogTimer.allCases.count))]
                ended = Self.check(session.timerFired(timer, now: now), alreadyEnded: ended) || ended
            }
            _ = Self.check(session.hangUp(now: now), alreadyEnded: ended)
        }
    }
}
