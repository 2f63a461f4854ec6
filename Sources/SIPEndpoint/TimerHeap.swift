/// A binary min-heap of deadlines for the signalling loop: the loop sleeps until the earliest one,
/// then pops every timer that is due. Cancelling is lazy: a cancelled timer stays in the heap and is
/// skipped when it surfaces (each timer carries a generation the owner compares), so arming and
/// cancelling are O(log n) and O(1).
public struct TimerHeap<Payload> {
    public struct Entry {
        public var deadline: Int64
        public var sequence: UInt64
        public var payload: Payload
    }

    private var entries: [Entry] = []
    private var nextSequence: UInt64 = 0

    public init() {}

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    /// The earliest deadline, if any.
    public var nextDeadline: Int64? { entries.first?.deadline }

    /// Adds a timer; timers with equal deadlines come out in the order they were armed.
    public mutating func schedule(at deadline: Int64, _ payload: Payload) {
        entries.append(Entry(deadline: deadline, sequence: nextSequence, payload: payload))
        nextSequence &+= 1
        siftUp(entries.count - 1)
    }

    /// Removes and returns every timer whose deadline is at or before `now`, earliest first.
    public mutating func popDue(now: Int64) -> [Payload] {
        var due: [Payload] = []
        while let first = entries.first, first.deadline <= now {
            due.append(first.payload)
            let last = entries.removeLast()
            if !entries.isEmpty {
                entries[0] = last
                siftDown(0)
            }
        }
        return due
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        entries[a].deadline != entries[b].deadline ? entries[a].deadline < entries[b].deadline : entries[a].sequence < entries[b].sequence
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            if !less(child, parent) { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count && less(left, smallest) { smallest = left }
            if right < entries.count && less(right, smallest) { smallest = right }
            if smallest == parent { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
