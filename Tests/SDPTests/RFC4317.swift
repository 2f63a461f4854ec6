import DialtoneTestKit
import SDP
import Testing

/// The RFC 4317 fixtures (Tests/Fixtures/sdp) and helpers that configure the engine from them.
enum RFC4317 {
    /// One offer and the answer to it, as printed in RFC 4317.
    struct Exchange: CustomTestStringConvertible, Sendable {
        var section: String
        var offerFile: String
        var answerFile: String
        var testDescription: String { "§\(section) \(offerFile) → \(answerFile)" }
    }

    static let rows: [[String: String]] = Fixtures.tsv("sdp/index.tsv")

    static let files: [String] = rows.compactMap { $0["file"] }

    /// Every offer/answer pair: `offer`↔`answer` and `second-offer`↔`second-answer` per section.
    static let exchanges: [Exchange] = {
        var result: [Exchange] = []
        for row in rows {
            guard let file = row["file"], let section = row["rfc4317_section"], let role = row["role"] else { continue }
            let answerRole: String
            switch role {
            case "offer": answerRole = "answer"
            case "second-offer": answerRole = "second-answer"
            default: continue
            }
            if let answer = rows.first(where: { $0["rfc4317_section"] == section && $0["role"] == answerRole })?["file"] {
                result.append(Exchange(section: section, offerFile: file, answerFile: answer))
            }
        }
        return result
    }()

    static func bytes(_ file: String) -> [UInt8] { Fixtures.bytes("sdp/" + file) }

    static func parse(_ file: String) throws -> SessionDescription {
        try SessionDescription(parsing: bytes(file))
    }

    /// Capabilities of the party that wrote `description`, read off its `m=` lines: one capability
    /// per accepted line with that line's codecs (payload types as preferred numbers),
    /// telephone-event, port and media-level address. `directionFor` gives each line's direction
    /// preference.
    static func capabilities(of description: SessionDescription,
                             directionFor: (Int, MediaDescription) -> MediaDirection) -> LocalCapabilities {
        var media: [MediaCapability] = []
        for (i, m) in description.media.enumerated() where m.port != 0 {
            var codecs: [Codec] = []
            var event: TelephoneEventCapability?
            for pt in m.payloadTypes {
                guard let map = m.rtpMap(for: pt) else { continue }
                if map.isTelephoneEvent {
                    event = TelephoneEventCapability(preferredPayloadType: pt, clockRate: map.clockRate,
                                                     events: m.fmtp(for: String(pt)))
                } else {
                    codecs.append(Codec(encodingName: map.encodingName, clockRate: map.clockRate,
                                        channels: map.channels, fmtp: m.fmtp(for: String(pt)), preferredPayloadType: pt))
                }
            }
            media.append(MediaCapability(kind: m.media, proto: m.proto, port: m.port,
                                         address: m.connections.first?.address, codecs: codecs,
                                         telephoneEvent: event, direction: directionFor(i, m)))
        }
        return LocalCapabilities(username: description.origin.username, sessionName: description.sessionName,
                                 address: description.connection?.address ?? "0.0.0.0",
                                 originAddress: description.origin.unicastAddress,
                                 addressType: description.connection?.addressType ?? "IP4", media: media)
    }

    /// An engine configured like the answerer of `answer`: its direction preference is the answer's
    /// direction where the offer was `sendrecv` (a free choice), `sendrecv` elsewhere (where the
    /// answer's direction is forced by the offer).
    static func answerer(for answer: SessionDescription, offer: SessionDescription) -> OfferAnswerEngine {
        let capabilities = capabilities(of: answer) { i, m in
            offer.media[i].effectiveDirection(in: offer) == .sendrecv ? m.effectiveDirection(in: answer) : .sendrecv
        }
        return OfferAnswerEngine(capabilities: capabilities, sessionID: answer.origin.sessionID,
                                 sessionVersion: answer.origin.sessionVersion)
    }

    /// An engine configured like the offerer of `offer`.
    static func offerer(for offer: SessionDescription) -> OfferAnswerEngine {
        let capabilities = capabilities(of: offer) { _, m in m.effectiveDirection(in: offer) }
        return OfferAnswerEngine(capabilities: capabilities, sessionID: offer.origin.sessionID,
                                 sessionVersion: offer.origin.sessionVersion)
    }
}

extension SessionDescription {
    /// Encoding names of a line's payload types, in order (static types resolved per RFC 3551).
    func encodingNames(_ index: Int) -> [String] {
        media[index].payloadTypes.map { media[index].rtpMap(for: $0)?.encodingName ?? "?" }
    }
}
