/// RFC 2782 target selection: SRV records in the order a client should try them.
public enum SRVOrdering {
    /// Orders `records` by ascending priority; within one priority, by repeated weighted random choice
    /// (RFC 2782 "Usage rules"): zero-weight records are placed first, a number is drawn uniformly in
    /// 0...sum-of-weights, and the first record whose running weight sum reaches it is taken next.
    /// Zero-weight records therefore have a small chance of going first and otherwise go last.
    public static func order(_ records: [DNSSRVData], using rng: inout some RandomNumberGenerator) -> [DNSSRVData] {
        var byPriority: [UInt16: [DNSSRVData]] = [:]
        for record in records { byPriority[record.priority, default: []].append(record) }
        var result: [DNSSRVData] = []
        result.reserveCapacity(records.count)
        for priority in byPriority.keys.sorted() {
            let group = byPriority[priority] ?? []
            var remaining = group.filter { $0.weight == 0 } + group.filter { $0.weight != 0 }
            while !remaining.isEmpty {
                let total = remaining.reduce(0) { $0 + Int($1.weight) }
                let draw = Int.random(in: 0...total, using: &rng)
                var running = 0
                var chosen = remaining.count - 1
                for (index, record) in remaining.enumerated() {
                    running += Int(record.weight)
                    if running >= draw {
                        chosen = index
                        break
                    }
                }
                result.append(remaining.remove(at: chosen))
            }
        }
        return result
    }
}
