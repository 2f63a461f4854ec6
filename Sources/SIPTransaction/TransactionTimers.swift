/// The timer values of RFC 3261 §17 (table 4 in appendix A) and RFC 6026 §8, derived from T1, T2 and
/// T4.
///
/// | Timer | Value                        | Meaning                                      |
/// |-------|------------------------------|----------------------------------------------|
/// | A     | initially T1, doubles        | INVITE retransmit interval (unreliable only) |
/// | B     | 64*T1                        | INVITE transaction timeout                   |
/// | D     | ≥ 32 s unreliable, 0 reliable| wait for response retransmits                |
/// | E     | T1, doubles up to T2         | non-INVITE retransmit (unreliable only)      |
/// | F     | 64*T1                        | non-INVITE transaction timeout               |
/// | G     | T1, doubles up to T2         | INVITE response retransmit (unreliable only) |
/// | H     | 64*T1                        | wait for ACK receipt                         |
/// | I     | T4 unreliable, 0 reliable    | wait for ACK retransmits                     |
/// | J     | 64*T1 unreliable, 0 reliable | wait for non-INVITE request retransmits      |
/// | K     | T4 unreliable, 0 reliable    | wait for response retransmits                |
/// | L     | 64*T1                        | wait for accepted INVITE retransmits (6026)  |
/// | M     | 64*T1                        | wait for 2xx retransmits (6026)              |
///
/// A timer whose value is zero is never armed: the machine goes straight to Terminated.
///
/// Bad configuration cannot make a machine spin: T1 is at least 1 ms, T2 at least T1, T4 and D at
/// least zero.
public struct TransactionTimers: Sendable, Hashable {
    /// RTT estimate (default 500 ms).
    public let t1: Duration
    /// Maximum retransmit interval for non-INVITE requests and INVITE responses (default 4 s).
    public let t2: Duration
    /// Maximum duration a message remains in the network (default 5 s).
    public let t4: Duration
    /// Timer D on unreliable transports (RFC 3261: "> 32 s"; default 32 s).
    public let unreliableD: Duration

    public init(t1: Duration = .milliseconds(500), t2: Duration = .seconds(4), t4: Duration = .seconds(5),
                timerD: Duration = .seconds(32)) {
        let t1 = max(t1, .milliseconds(1))
        self.t1 = t1
        self.t2 = max(t2, t1)
        self.t4 = max(t4, .zero)
        self.unreliableD = max(timerD, .zero)
    }

    /// The defaults of RFC 3261 §17.1.1.1 and table 4.
    public static let rfc3261 = TransactionTimers()

    /// 64*T1: Timers B, F, H, L, M and (unreliable) J.
    public var transactionTimeout: Duration { t1 * 64 }

    /// The initial value of timer `name` on a reliable or unreliable transport (zero: not armed).
    /// Timers A, E and G are retransmission timers: zero on reliable transports.
    public func initialValue(of name: TimerName, reliable: Bool) -> Duration {
        switch name {
        case .a, .e, .g: return reliable ? .zero : t1
        case .b, .f, .h, .l, .m: return transactionTimeout
        case .d: return reliable ? .zero : unreliableD
        case .i, .k: return reliable ? .zero : t4
        case .j: return reliable ? .zero : transactionTimeout
        }
    }
}
