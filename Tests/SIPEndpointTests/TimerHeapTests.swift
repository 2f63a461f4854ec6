import Testing
import SIPEndpoint
import DialtoneTestKit

@Suite("Timer heap")
struct TimerHeapTests {
    @Test func popsDueTimersInDeadlineOrderAndArmingOrderForTies() {
        var heap = TimerHeap<String>()
        heap.schedule(at: 30, "c")
        heap.schedule(at: 10, "a1")
        heap.schedule(at: 20, "b")
        heap.schedule(at: 10, "a2")
        #expect(heap.nextDeadline == 10)
        #expect(heap.popDue(now: 9).isEmpty)
        #expect(heap.popDue(now: 20) == ["a1", "a2", "b"])
        #expect(heap.nextDeadline == 30)
        #expect(heap.popDue(now: 100) == ["c"])
        #expect(heap.isEmpty && heap.nextDeadline == nil)
    }

    @Test func matchesASortedReferenceOnRandomDeadlines() {
        var generator = SeededGenerator(seed: 17)
        var heap = TimerHeap<Int>()
        var reference: [(Int64, Int)] = []
        var popped: [Int] = []
        var expected: [Int] = []
        var now: Int64 = 0
        for i in 0..<5_000 {
            let deadline = now + Int64(generator.next() % 1_000)
            heap.schedule(at: deadline, i)
            reference.append((deadline, i))
            if i % 7 == 0 {
                now += Int64(generator.next() % 300)
                popped += heap.popDue(now: now)
                let due = reference.filter { $0.0 <= now }.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
                expected += due.map { $0.1 }
                reference.removeAll { $0.0 <= now }
            }
        }
        popped += heap.popDue(now: Int64.max)
        expected += reference.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.map { $0.1 }
        #expect(popped == expected)
        #expect(heap.count == 0)
    }
}
