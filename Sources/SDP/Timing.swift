/// A `t=` field with the `r=` fields that follow it (RFC 4566 §5.9, §5.10).
///
/// RFC 3264 §5 requires `t=0 0` in offers and answers for unbounded sessions.
public struct Timing: Hashable, Sendable {
    /// NTP start time, 0 for unbounded.
    public var start: UInt64
    /// NTP stop time, 0 for unbounded.
    public var stop: UInt64
    /// The values of the `r=` lines, as written (`<repeat interval> <active duration> <offsets…>`,
    /// each a number optionally followed by `d`, `h`, `m` or `s`); checked by the parser.
    public var repeats: [String]

    public init(start: UInt64 = 0, stop: UInt64 = 0, repeats: [String] = []) {
        self.start = start
        self.stop = stop
        self.repeats = repeats
    }
}
