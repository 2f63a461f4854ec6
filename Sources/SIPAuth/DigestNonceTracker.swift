/// Remembers which nonce counts each nonce was used with, to reject replays (RFC 7616 §5.4,
/// §3.4: "the server … SHOULD check that the nc-value … has not been used before").
///
/// Bounded memory: at most `capacity` nonces. Per nonce, a 64-entry sliding window (as in IPsec
/// anti-replay, RFC 4303 §3.4.3) accepts counts arriving slightly out of order over UDP. When full,
/// expired nonces are dropped first, then the oldest by issue time; `evictedThrough` remembers the
/// newest issue time evicted so that an evicted nonce cannot be replayed as if it were new.
struct DigestNonceTracker: Hashable, Sendable {
    private struct Record: Hashable, Sendable {
        var issued: Int64
        var highest: UInt32
        var window: UInt64  // bit i: highest - i was seen
    }

    enum Outcome: Hashable, Sendable { case fresh, replay, historyLost }

    let capacity: Int
    private var records: [String: Record] = [:]
    private(set) var evictedThrough: Int64 = .min

    init(capacity: Int) {
        self.capacity = capacity
    }

    var count: Int { records.count }

    /// Whether `count` for `nonce` would be accepted, without recording it.
    func check(nonce: String, issued: Int64, count: UInt32) -> Outcome {
        guard let r = records[nonce] else {
            return issued <= evictedThrough ? .historyLost : .fresh
        }
        if count > r.highest { return .fresh }
        let age = r.highest - count
        if age >= 64 { return .replay }
        return r.window & (1 << UInt64(age)) != 0 ? .replay : .fresh
    }

    /// Records `count` for `nonce` (call only after `check` returned `.fresh`).
    mutating func record(nonce: String, issued: Int64, count: UInt32, now: Int64, lifetime: Int64) {
        if var r = records[nonce] {
            if count > r.highest {
                let shift = UInt64(count - r.highest)
                r.window = shift >= 64 ? 1 : (r.window << shift) | 1
                r.highest = count
            } else {
                r.window |= 1 << UInt64(r.highest - count)
            }
            records[nonce] = r
            return
        }
        if records.count >= capacity {
            records = records.filter { now - $0.value.issued <= lifetime }
        }
        if records.count >= capacity {
            // Evict the oldest eighth at once (one sort), not one at a time (a scan per insert), so a
            // full tracker costs O(log n) per new nonce, amortised.
            let victims = records.sorted { $0.value.issued < $1.value.issued }.prefix(max(1, records.count - capacity + 1 + capacity / 8))
            for v in victims {
                evictedThrough = max(evictedThrough, v.value.issued)
                records[v.key] = nil
            }
        }
        records[nonce] = Record(issued: issued, highest: count, window: 1)
    }
}
