/// DNS answers kept for their TTL. Pure: the caller passes `now` (monotonic seconds) to every call.
///
/// Positive answers live for the smallest TTL among their records (capped at `maximumTTL`); NXDOMAIN
/// and NODATA live for `negativeTTL`. TTL 0 answers are not stored. Temporary failures are never
/// stored. At most `capacity` entries: inserting into a full cache first drops expired entries, then
/// the entry that would expire soonest.
public struct DNSCache: Sendable {
    public struct Key: Sendable, Hashable {
        public var name: String
        public var type: DNSRecordType

        public init(name: String, type: DNSRecordType) {
            self.name = normalizedDomainName(name)
            self.type = type
        }
    }

    public enum Answer: Sendable, Equatable {
        case records([DNSResourceRecord])
        case nameNotFound
    }

    public struct Entry: Sendable, Equatable {
        public var answer: Answer
        public var expires: Double
    }

    public let capacity: Int
    public let negativeTTL: UInt32
    public let maximumTTL: UInt32
    public private(set) var entries: [Key: Entry] = [:]

    public init(capacity: Int = 256, negativeTTL: UInt32 = 30, maximumTTL: UInt32 = 86_400) {
        self.capacity = max(0, capacity)
        self.negativeTTL = negativeTTL
        self.maximumTTL = maximumTTL
    }

    public var count: Int { entries.count }

    /// The live entry for `key`, nil when absent or expired (an expired entry is removed).
    public mutating func entry(for key: Key, now: Double) -> Entry? {
        guard let entry = entries[key] else { return nil }
        if now >= entry.expires {
            entries[key] = nil
            return nil
        }
        return entry
    }

    /// Stores `answer`; returns its expiry time (now when it was not stored).
    @discardableResult
    public mutating func store(_ answer: Answer, for key: Key, now: Double) -> Double {
        let ttl: UInt32
        switch answer {
        case .records(let records) where !records.isEmpty:
            ttl = min(records.map(\.ttl).min() ?? 0, maximumTTL)
        default:
            ttl = negativeTTL
        }
        let expires = now + Double(ttl)
        guard ttl > 0, capacity > 0 else { return now }
        if entries[key] == nil && entries.count >= capacity { makeRoom(now: now) }
        entries[key] = Entry(answer: answer, expires: expires)
        return expires
    }

    /// Drops every entry.
    public mutating func removeAll() { entries.removeAll() }

    private mutating func makeRoom(now: Double) {
        entries = entries.filter { $0.value.expires > now }
        while entries.count >= capacity, let soonest = entries.min(by: { $0.value.expires < $1.value.expires }) {
            entries[soonest.key] = nil
        }
    }
}
