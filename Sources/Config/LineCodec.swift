/// A voice codec as the line configuration names it (`CodecList`): the TR-104 names of
/// `VoiceService.{i}.Capabilities.Codec.{i}.Codec`, plus `Opus`, which TR-104 issue 2 does not list.
///
/// Each codec knows how SDP announces it (RFC 4566 `a=rtpmap:<pt> <encoding>/<clock>[/<channels>]`):
/// the encoding name and RTP clock rate of the RTP/AVP profile (RFC 3551 §6 table 4) or of the
/// codec's payload format RFC, and the static payload type where RFC 3551 assigns one (nil: a
/// dynamic type from 96–127 is chosen in the offer).
public enum LineCodec: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    /// ITU-T G.711 µ-law (PCMU).
    case g711MuLaw = "G.711MuLaw"
    /// ITU-T G.711 A-law (PCMA).
    case g711ALaw = "G.711ALaw"
    /// ITU-T G.722 wideband (16 kHz audio; RTP clock 8000 by RFC 3551 §4.5.2's historical error).
    case g722 = "G.722"
    /// ITU-T G.726 at 32 kbit/s (`G726-32`, RFC 3551 §4.5.4; its old static type 2 is no longer
    /// assigned, so a dynamic type is used).
    case g726 = "G.726"
    /// ITU-T G.729 / G.729 Annex A (interoperable bit streams, both `G729`).
    case g729 = "G.729"
    /// Opus (RFC 7587: always `opus/48000/2` in SDP, whatever is really sent).
    case opus = "Opus"

    /// The configuration spelling (`G.711MuLaw`).
    public var name: String { rawValue }

    /// The encoding name of the `a=rtpmap` line (RFC 3551 §6; RFC 7587 for Opus).
    public var sdpEncodingName: String {
        switch self {
        case .g711MuLaw: return "PCMU"
        case .g711ALaw: return "PCMA"
        case .g722: return "G722"
        case .g726: return "G726-32"
        case .g729: return "G729"
        case .opus: return "opus"
        }
    }

    /// The RTP timestamp clock rate, Hz, as SDP states it.
    public var clockRate: Int {
        switch self {
        case .opus: return 48_000
        default: return 8_000
        }
    }

    /// The `a=rtpmap` encoding parameters (channels) when SDP must state them: 2 for Opus (RFC 7587
    /// §7), nil (one channel) for the others.
    public var sdpChannels: Int? {
        self == .opus ? 2 : nil
    }

    /// The static RTP/AVP payload type (RFC 3551 §6 table 4); nil for codecs that need a dynamic one.
    public var staticPayloadType: UInt8? {
        switch self {
        case .g711MuLaw: return 0
        case .g711ALaw: return 8
        case .g722: return 9
        case .g729: return 18
        case .g726, .opus: return nil
        }
    }

    /// `PCMU/8000`, `opus/48000/2`: the `a=rtpmap` value after the payload type.
    public var rtpmapEncoding: String {
        "\(sdpEncodingName)/\(clockRate)" + (sdpChannels.map { "/\($0)" } ?? "")
    }

    public var description: String { rawValue }

    /// The codec named `name` exactly as TR-104 spells it; nil for other names.
    public init?(name: String) {
        self.init(rawValue: name)
    }

    /// Every accepted name, in declaration order (for error messages and the web UI).
    public static var names: [String] { allCases.map(\.rawValue) }
}
