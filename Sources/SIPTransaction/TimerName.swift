/// The transaction timers of RFC 3261 §17 (table 4, appendix A) and RFC 6026 §8 (L and M).
///
/// Timer C (§16.6, the proxy's INVITE timer) belongs to the proxy core, not to a transaction, and is
/// not listed.
public enum TimerName: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// INVITE request retransmit interval, unreliable transports only (§17.1.1.2).
    case a
    /// INVITE transaction timeout (§17.1.1.2).
    case b
    /// Wait time for response retransmissions in the INVITE client's Completed state (§17.1.1.2).
    case d
    /// Non-INVITE request retransmit interval, unreliable transports only (§17.1.2.2).
    case e
    /// Non-INVITE transaction timeout (§17.1.2.2).
    case f
    /// INVITE final response retransmit interval, unreliable transports only (§17.2.1).
    case g
    /// Wait time for ACK receipt (§17.2.1).
    case h
    /// Wait time for ACK retransmissions in the Confirmed state (§17.2.1).
    case i
    /// Wait time for non-INVITE request retransmissions (§17.2.2).
    case j
    /// Wait time for response retransmissions in the non-INVITE client's Completed state (§17.1.2.2).
    case k
    /// Wait time for retransmissions of the INVITE in the server's Accepted state (RFC 6026 §8.7).
    case l
    /// Wait time for 2xx retransmissions in the client's Accepted state (RFC 6026 §8.4).
    case m

    public var description: String { "Timer " + rawValue.uppercased() }
}
