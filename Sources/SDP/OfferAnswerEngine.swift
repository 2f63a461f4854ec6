/// The RFC 3264 offer/answer model for one session, as a value.
///
/// ```
///            createOffer / hold / resume                 receiveAnswer
///   idle ───────────────────────────────▶ offerSent ─────────────────────▶ stable
///    │                                   ▲    │ rollback                      │
///    │ createAnswer(to:)                 │    ▼                               │
///    └──────────────────────────────▶ stable ◀─── createAnswer(to:) ──────────┘
/// ```
///
/// - Offers (§5): one `m=` line per `MediaCapability`; re-offers (§8) keep the session's `m=` lines in
///   order, put port 0 on lines whose capability is gone, append lines for new capabilities, reuse
///   the payload type numbers already agreed (§8.3.2), and bump `o=` version only when the
///   description changed (§8).
/// - Answers (§6): as many `m=` lines as the offer, in order; port 0 for unsupported or
///   codec-less streams; the offerer's payload type numbers; the direction reversed and intersected
///   with ours; telephone-event matched by clock rate and event list.
/// - Answers to our offers (§5, §7): same `m=` count and media types, otherwise an error.
///
/// The engine never reads clocks or sockets: the caller passes the session id and version in.
public struct OfferAnswerEngine: Sendable {
    /// What the local side can do. Change it with `updateCapabilities(_:)`; the next offer reflects it.
    public private(set) var capabilities: LocalCapabilities
    /// True after `hold()` until `resume()`: streams are offered `sendonly` (or `inactive`).
    public private(set) var isOnHold: Bool = false

    private struct Line: Hashable, Sendable {
        var kind: String
        var proto: String
        /// Index into `capabilities.media`, `nil` for a rejected line.
        var capability: Int?
        /// What a rejected line keeps writing (§8.2: a rejected line stays, with port 0).
        var rejectedFormats: [String]
        var rejectedAttributes: [Attribute]
    }

    private struct Stable: Sendable {
        var local: SessionDescription
        var remote: SessionDescription
        var lines: [Line]
        var negotiated: NegotiatedSession
    }

    private enum State: Sendable {
        case idle
        case offerSent(offer: SessionDescription, lines: [Line], previous: Stable?, previousLocal: SessionDescription?)
        case stable(Stable)
    }

    private var state: State = .idle
    private let sessionID: String
    private let initialVersion: UInt64
    /// The last description we sent; its version is reused when nothing changed (§8).
    private var lastLocal: SessionDescription?
    /// Payload type numbers we have announced for each codec, kept for the whole session (§8.3.2).
    private var payloadTypes: [CodecKey: UInt8] = [:]

    private struct CodecKey: Hashable, Sendable {
        var name: String
        var clockRate: UInt32
        var channels: Int
        init(_ name: String, _ clockRate: UInt32, _ channels: Int?) {
            self.name = name.lowercased()
            self.clockRate = clockRate
            self.channels = channels ?? 1
        }
        init(_ map: RTPMap) { self.init(map.encodingName, map.clockRate, map.channels) }
    }

    /// - Parameters:
    ///   - capabilities: what the local side can do.
    ///   - sessionID: the `o=` session id (RFC 4566 §5.2 suggests an NTP timestamp); digits.
    ///   - sessionVersion: the `o=` version of the first description this engine writes.
    public init(capabilities: LocalCapabilities, sessionID: String, sessionVersion: UInt64) {
        self.capabilities = capabilities
        self.sessionID = sessionID
        self.initialVersion = sessionVersion
    }

    // MARK: Observers

    /// The agreed session after the last completed exchange.
    public var negotiated: NegotiatedSession? {
        if case .stable(let s) = state { return s.negotiated }
        if case .offerSent(_, _, let previous, _) = state { return previous?.negotiated }
        return nil
    }

    /// Our offer awaiting an answer.
    public var pendingOffer: SessionDescription? {
        if case .offerSent(let offer, _, _, _) = state { return offer }
        return nil
    }

    /// The last description we sent (offer or answer).
    public var localDescription: SessionDescription? { lastLocal }

    /// The peer's description of the last completed exchange.
    public var remoteDescription: SessionDescription? {
        if case .stable(let s) = state { return s.remote }
        return nil
    }

    // MARK: Inputs

    /// Replaces the capabilities. Capabilities are identified by index: keep existing streams at the
    /// same index; a removed one becomes a port-0 line in the next offer.
    public mutating func updateCapabilities(_ capabilities: LocalCapabilities) {
        self.capabilities = capabilities
    }

    /// Creates an offer (RFC 3264 §5) or, after a completed exchange, a re-offer (§8).
    ///
    /// - Throws: `.invalidState` when an offer is already pending.
    public mutating func createOffer() throws(SDPError) -> SessionDescription {
        let previous: Stable?
        switch state {
        case .offerSent:
            throw SDPError(.invalidState, "an offer is already pending; wait for the answer or roll back")
        case .idle:
            previous = nil
        case .stable(let s):
            previous = s
        }
        var lines: [Line] = []
        var bound = Set<Int>()
        for var line in previous?.lines ?? [] {
            if let c = line.capability, c < capabilities.media.count,
               capabilities.media[c].kind == line.kind, capabilities.media[c].port != 0 {
                line.proto = capabilities.media[c].proto
                bound.insert(c)
            } else if line.capability != nil {
                line.capability = nil
            }
            lines.append(line)
        }
        for (c, capability) in capabilities.media.enumerated() where !bound.contains(c) && capability.port != 0 {
            lines.append(Line(kind: capability.kind, proto: capability.proto, capability: c,
                              rejectedFormats: [], rejectedAttributes: []))
        }
        var media: [MediaDescription] = []
        for line in lines {
            if let c = line.capability {
                media.append(offeredMedia(capabilities.media[c]))
            } else {
                media.append(rejectedMedia(line))
            }
        }
        let previousLocal = lastLocal
        let offer = stamp(description(media: media))
        state = .offerSent(offer: offer, lines: lines, previous: previous, previousLocal: previousLocal)
        return offer
    }

    /// Puts the session on hold (RFC 3264 §8.4): a re-offer with `sendonly` streams (`inactive`
    /// where we only received).
    public mutating func hold() throws(SDPError) -> SessionDescription {
        let was = isOnHold
        isOnHold = true
        do { return try createOffer() } catch { isOnHold = was; throw error }
    }

    /// Takes the session off hold: a re-offer with the capabilities' directions again.
    public mutating func resume() throws(SDPError) -> SessionDescription {
        let was = isOnHold
        isOnHold = false
        do { return try createOffer() } catch { isOnHold = was; throw error }
    }

    /// Abandons the pending offer (e.g. after glare or a failure response) and returns to the last
    /// agreed state; the next description reuses the version the abandoned offer had bumped.
    public mutating func rollback() {
        guard case .offerSent(_, _, let previous, let previousLocal) = state else { return }
        lastLocal = previousLocal
        state = previous.map(State.stable) ?? .idle
    }

    /// Processes the answer to our pending offer (RFC 3264 §5, §7).
    ///
    /// - Throws: `.invalidState` without a pending offer; `.mediaCountMismatch` when the answer has a
    ///   different number of `m=` lines; `.mediaKindMismatch` when a line's media type differs;
    ///   `.missingConnection` when an accepted stream has no address.
    public mutating func receiveAnswer(_ answer: SessionDescription) throws(SDPError) -> NegotiatedSession {
        guard case .offerSent(let offer, var lines, _, _) = state else {
            throw SDPError(.invalidState, "received an answer but no offer is pending")
        }
        guard answer.media.count == offer.media.count else {
            throw SDPError(.mediaCountMismatch,
                           "answer has \(answer.media.count) m= lines, offer had \(offer.media.count) (RFC 3264 §6)")
        }
        var result: [NegotiatedMedia] = []
        for (i, (local, remote)) in zip(offer.media, answer.media).enumerated() {
            guard local.media.lowercased() == remote.media.lowercased() else {
                throw SDPError(.mediaKindMismatch, "answer m= line \(i + 1) is \(remote.media), offer's is \(local.media)")
            }
            if local.port == 0 || remote.port == 0 {
                result.append(.rejected(index: i, kind: local.media))
                if remote.port == 0 && lines[i].capability != nil {
                    // §6: a rejected stream; keep the line as rejected in later offers.
                    lines[i] = rejectedLine(local)
                }
                continue
            }
            var codecs: [NegotiatedCodec] = []
            var event: NegotiatedCodec?
            for pt in remote.payloadTypes {
                guard let map = remote.rtpMap(for: pt) else { continue }
                // Find the offered payload type with the same codec (the answer may renumber, §6.1).
                guard let offeredPT = local.payloadTypes.first(where: { offered in
                    guard let m = local.rtpMap(for: offered) else { return false }
                    return CodecKey(m) == CodecKey(map)
                }) else { continue }
                let codec = NegotiatedCodec(encodingName: map.encodingName, clockRate: map.clockRate,
                                            channels: map.channels, sendPayloadType: pt,
                                            receivePayloadType: offeredPT,
                                            remoteFormatParameters: remote.fmtp(for: String(pt)))
                if map.isTelephoneEvent {
                    if event == nil { event = codec }
                } else if !codecs.contains(where: { $0.sendPayloadType == pt }) {
                    codecs.append(codec)
                }
            }
            let capability = lines[i].capability.map { capabilities.media[$0] }
            result.append(try negotiate(index: i, local: local, localSession: offer, remote: remote,
                                        remoteSession: answer, codecs: codecs, event: event,
                                        localPtime: capability?.ptime))
        }
        let negotiated = NegotiatedSession(media: result)
        state = .stable(Stable(local: offer, remote: answer, lines: lines, negotiated: negotiated))
        return negotiated
    }

    /// Answers an offer from the peer (RFC 3264 §6), initial or re-offer (§8).
    ///
    /// - Throws: `.invalidState` while our own offer is pending (glare: roll back first);
    ///   `.mediaCountMismatch` when a re-offer has fewer `m=` lines than the session (§8);
    ///   `.missingConnection` when an offered stream we would accept has no address.
    public mutating func createAnswer(to offer: SessionDescription) throws(SDPError)
        -> (answer: SessionDescription, negotiated: NegotiatedSession) {
        let previousLines: [Line]
        switch state {
        case .offerSent:
            throw SDPError(.invalidState, "received an offer while ours is pending (glare); roll back first")
        case .idle:
            previousLines = []
        case .stable(let s):
            previousLines = s.lines
            guard offer.media.count >= s.lines.count else {
                throw SDPError(.mediaCountMismatch,
                               "offer has \(offer.media.count) m= lines, the session already has \(s.lines.count) (RFC 3264 §8)")
            }
        }
        // Capabilities already bound to a line that is still offered with the same media type.
        var reserved: [Int: Int] = [:] // capability -> line
        for (i, line) in previousLines.enumerated() {
            if let c = line.capability, c < capabilities.media.count, capabilities.media[c].kind == line.kind,
               offer.media[i].media == line.kind, offer.media[i].port != 0 {
                reserved[c] = i
            }
        }
        var used = Set<Int>()
        var lines: [Line] = []
        var media: [MediaDescription] = []
        var result: [NegotiatedMedia] = []
        for (i, offered) in offer.media.enumerated() {
            var chosen: (Int, Match)?
            if offered.port != 0 {
                var candidates: [Int] = []
                if let c = reserved.first(where: { $0.value == i })?.key { candidates.append(c) }
                for c in capabilities.media.indices where reserved[c] == nil && !candidates.contains(c) {
                    candidates.append(c)
                }
                for c in candidates where !used.contains(c) {
                    let capability = capabilities.media[c]
                    guard capability.port != 0, capability.kind.lowercased() == offered.media.lowercased(),
                          capability.proto.uppercased() == offered.proto.uppercased(),
                          let match = match(offered, capability) else { continue }
                    chosen = (c, match)
                    break
                }
            }
            guard let (c, found) = chosen else {
                let line = rejectedLine(offered)
                lines.append(line)
                media.append(rejectedMedia(line))
                result.append(.rejected(index: i, kind: offered.media))
                continue
            }
            guard offered.effectiveConnection(in: offer) != nil else {
                throw SDPError(.missingConnection, "offered m= line \(i + 1) has no c= at media or session level")
            }
            used.insert(c)
            let capability = capabilities.media[c]
            lines.append(Line(kind: offered.media, proto: offered.proto, capability: c,
                              rejectedFormats: [], rejectedAttributes: []))
            let offeredDirection = offered.effectiveDirection(in: offer)
            var direction = offeredDirection.reversed.intersection(capability.direction)
            if isOnHold { direction = direction.intersection(.sendonly) }
            let answered = answerMedia(offered: offered, capability: capability, match: found, direction: direction)
            media.append(answered)
            for entry in found.codecs { payloadTypes[CodecKey(entry.map)] = entry.map.payloadType }
            if let event = found.event { payloadTypes[CodecKey(event.map)] = event.map.payloadType }
            let codecs = found.codecs.map { entry in
                NegotiatedCodec(encodingName: entry.map.encodingName, clockRate: entry.map.clockRate,
                                channels: entry.map.channels, sendPayloadType: entry.map.payloadType,
                                receivePayloadType: entry.map.payloadType,
                                remoteFormatParameters: offered.fmtp(for: String(entry.map.payloadType)))
            }
            let event = found.event.map { entry in
                NegotiatedCodec(encodingName: entry.map.encodingName, clockRate: entry.map.clockRate,
                                channels: entry.map.channels, sendPayloadType: entry.map.payloadType,
                                receivePayloadType: entry.map.payloadType,
                                remoteFormatParameters: offered.fmtp(for: String(entry.map.payloadType)))
            }
            // Placeholder session for effective-direction lookups of our own line.
            let localSession = description(media: [])
            result.append(try negotiate(index: i, local: answered, localSession: localSession, remote: offered,
                                        remoteSession: offer, codecs: codecs, event: event,
                                        localPtime: capability.ptime))
        }
        let answer = stamp(description(media: media))
        let negotiated = NegotiatedSession(media: result)
        state = .stable(Stable(local: answer, remote: offer, lines: lines, negotiated: negotiated))
        return (answer, negotiated)
    }

    // MARK: Building descriptions

    private func description(media: [MediaDescription]) -> SessionDescription {
        SessionDescription(
            origin: Origin(username: capabilities.username, sessionID: sessionID, sessionVersion: initialVersion,
                           addressType: capabilities.addressType, unicastAddress: capabilities.originAddress),
            sessionName: capabilities.sessionName,
            connection: Connection(addressType: capabilities.addressType, address: capabilities.address),
            timings: [Timing(start: 0, stop: 0)],
            media: media)
    }

    /// Gives the description its `o=` version: the last one when nothing else changed, else + 1 (§8).
    private mutating func stamp(_ description: SessionDescription) -> SessionDescription {
        var result = description
        if let last = lastLocal {
            result.origin.sessionVersion = last.origin.sessionVersion
            if result == last { return last }
            result.origin.sessionVersion = last.origin.sessionVersion &+ 1
        } else {
            result.origin.sessionVersion = initialVersion
        }
        lastLocal = result
        return result
    }

    private func mediaConnections(_ capability: MediaCapability) -> [Connection] {
        guard let address = capability.address, address != capabilities.address else { return [] }
        return [Connection(addressType: capabilities.addressType, address: address)]
    }

    /// A rejected line echoes the first offered format and its `a=rtpmap`, as RFC 4317 does.
    private func rejectedLine(_ offered: MediaDescription) -> Line {
        let first = offered.formats.first
        let rtpmap = offered.attributes.first { attribute in
            guard let first, let map = RTPMap(attribute: attribute) else { return false }
            return String(map.payloadType) == first
        }
        return Line(kind: offered.media, proto: offered.proto, capability: nil,
                    rejectedFormats: first.map { [$0] } ?? [], rejectedAttributes: rtpmap.map { [$0] } ?? [])
    }

    private func rejectedMedia(_ line: Line) -> MediaDescription {
        MediaDescription(media: line.kind, port: 0, proto: line.proto,
                         formats: line.rejectedFormats.isEmpty ? ["0"] : line.rejectedFormats,
                         attributes: line.rejectedAttributes)
    }

    private func rtpMapAttributes(_ map: RTPMap, fmtp: String?) -> [Attribute] {
        var attributes: [Attribute] = []
        if capabilities.includeStaticRTPMap || map.payloadType >= 96 { attributes.append(map.attribute) }
        if let fmtp { attributes.append(FormatParameters(format: String(map.payloadType), text: fmtp).attribute) }
        return attributes
    }

    private func offeredMedia(_ capability: MediaCapability) -> MediaDescription {
        var used = Set<UInt8>()
        var formats: [String] = []
        var attributes: [Attribute] = []
        func assign(_ key: CodecKey, preferred: UInt8) -> UInt8 {
            var pt = payloadTypes[key] ?? preferred
            if used.contains(pt) || pt > 127 || (pt < 96 && RTPMap.staticPayloadType(pt).map({ CodecKey($0) != key }) ?? false) {
                // Renumber only when needed: the preferred number is taken.
                pt = (96...127).first { !used.contains($0) && !payloadTypes.values.contains($0) }
                    ?? (96...127).first { !used.contains($0) } ?? pt
            }
            used.insert(pt)
            return pt
        }
        for codec in capability.codecs {
            let pt = assign(CodecKey(codec.encodingName, codec.clockRate, codec.channels), preferred: codec.preferredPayloadType)
            formats.append(String(pt))
            attributes += rtpMapAttributes(codec.rtpMap(payloadType: pt), fmtp: codec.fmtp)
        }
        if let event = capability.telephoneEvent {
            let pt = assign(CodecKey("telephone-event", event.clockRate, nil), preferred: event.preferredPayloadType)
            formats.append(String(pt))
            attributes += rtpMapAttributes(RTPMap(payloadType: pt, encodingName: "telephone-event", clockRate: event.clockRate),
                                           fmtp: event.events)
        }
        if formats.isEmpty { formats = ["0"] } // RFC 4566 needs one format; a capability without codecs
        attributes += commonAttributes(capability, rtcpMux: capability.rtcpMux,
                                       direction: capability.direction.intersection(isOnHold ? .sendonly : .sendrecv))
        return MediaDescription(media: capability.kind, port: capability.port, proto: capability.proto,
                                formats: formats, connections: mediaConnections(capability), attributes: attributes)
    }

    private func commonAttributes(_ capability: MediaCapability, rtcpMux: Bool, direction: MediaDirection) -> [Attribute] {
        var attributes: [Attribute] = []
        if let ptime = capability.ptime { attributes.append(Attribute("ptime", String(ptime))) }
        if let maxptime = capability.maxptime { attributes.append(Attribute("maxptime", String(maxptime))) }
        if rtcpMux { attributes.append(Attribute("rtcp-mux")) }
        if direction != .sendrecv { attributes.append(direction.attribute) }
        return attributes
    }

    private struct MatchEntry: Sendable {
        var map: RTPMap
        var fmtp: String?
    }

    private struct Match: Sendable {
        var codecs: [MatchEntry]
        var event: MatchEntry?
    }

    /// Codec intersection for one offered line (§6.1), in the offer's order, keeping its numbers.
    private func match(_ offered: MediaDescription, _ capability: MediaCapability) -> Match? {
        var codecs: [MatchEntry] = []
        var event: MatchEntry?
        var offeredNonEvent = false
        for pt in offered.payloadTypes {
            guard let map = offered.rtpMap(for: pt) else { continue }
            let offeredFmtp = offered.fmtp(for: String(pt))
            if map.isTelephoneEvent {
                guard event == nil, let local = capability.telephoneEvent, local.clockRate == map.clockRate else { continue }
                var fmtp: String? = nil
                if let theirs = offeredFmtp {
                    if let ours = local.events {
                        guard let a = TelephoneEventCapability.eventSet(theirs),
                              let b = TelephoneEventCapability.eventSet(ours) else { continue }
                        let common = a.intersection(b)
                        guard !common.isEmpty else { continue }
                        fmtp = TelephoneEventCapability.eventList(common)
                    } else {
                        fmtp = theirs
                    }
                }
                event = MatchEntry(map: map, fmtp: fmtp)
                continue
            }
            offeredNonEvent = true
            guard let codec = capability.codecs.first(where: { $0.matches(map) }),
                  !codecs.contains(where: { CodecKey($0.map) == CodecKey(map) }) else { continue }
            var named = map
            if RTPMap.staticPayloadType(pt) != nil && offered.rtpMaps.first(where: { $0.payloadType == pt }) == nil {
                named = RTPMap(payloadType: pt, encodingName: codec.encodingName, clockRate: codec.clockRate, channels: codec.channels)
            }
            codecs.append(MatchEntry(map: named, fmtp: codec.fmtp ?? offeredFmtp))
        }
        if codecs.isEmpty && (offeredNonEvent || event == nil) { return nil }
        return Match(codecs: codecs, event: event)
    }

    private func answerMedia(offered: MediaDescription, capability: MediaCapability, match: Match,
                             direction: MediaDirection) -> MediaDescription {
        var formats: [String] = []
        var attributes: [Attribute] = []
        for entry in match.codecs {
            formats.append(String(entry.map.payloadType))
            attributes += rtpMapAttributes(entry.map, fmtp: entry.fmtp)
        }
        if let event = match.event {
            formats.append(String(event.map.payloadType))
            attributes += rtpMapAttributes(event.map, fmtp: event.fmtp)
        }
        attributes += commonAttributes(capability, rtcpMux: capability.rtcpMux && offered.rtcpMux, direction: direction)
        return MediaDescription(media: offered.media, port: capability.port, proto: offered.proto, formats: formats,
                                connections: mediaConnections(capability), attributes: attributes)
    }

    /// Fills the negotiated result for an accepted line from both sides' descriptions.
    private func negotiate(index: Int, local: MediaDescription, localSession: SessionDescription,
                           remote: MediaDescription, remoteSession: SessionDescription,
                           codecs: [NegotiatedCodec], event: NegotiatedCodec?, localPtime: Int?) throws(SDPError) -> NegotiatedMedia {
        guard let connection = remote.effectiveConnection(in: remoteSession) else {
            throw SDPError(.missingConnection, "m= line \(index + 1) of the peer has no c= at media or session level")
        }
        let remoteDirection = remote.effectiveDirection(in: remoteSession)
        let localDirection = local.effectiveDirection(in: localSession)
        var direction = localDirection.intersection(remoteDirection.reversed)
        if connection.isHoldAddress { direction = direction.intersection(.recvonly) }
        let mux = local.rtcpMux && remote.rtcpMux
        let rtcpPort: UInt16? = mux ? remote.port : (remote.rtcp?.port ?? (remote.port < 65535 ? remote.port + 1 : nil))
        return NegotiatedMedia(index: index, kind: local.media, isRejected: false, localPort: local.port,
                               remoteAddress: connection.address, remotePort: remote.port, remoteRTCPPort: rtcpPort,
                               rtcpMux: mux, codecs: codecs, telephoneEvent: event, ptime: remote.ptime ?? localPtime,
                               direction: direction,
                               isHeldByRemote: !remoteDirection.receives || connection.isHoldAddress)
    }
}
