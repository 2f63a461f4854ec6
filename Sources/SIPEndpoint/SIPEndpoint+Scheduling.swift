#if canImport(Glibc)
import Glibc
#endif
import SIPTransaction
import SIPTransport

/// Names a task scheduled with `SIPEndpoint.schedule(at:_:)` or a descriptor watched with
/// `SIPEndpoint.watch(_:_:)`.
public struct EndpointTaskID: Sendable, Hashable {
    public let rawValue: UInt64
}

/// Timers and descriptors of transaction users (the user agent's registration refreshes and
/// retries, its call timers; the network monitor's netlink socket), run on the signalling thread by
/// the same loop as the transactions, so they need no locks.
extension SIPEndpoint {
    /// The loop's clock (CLOCK_MONOTONIC), the one `schedule(at:_:)` deadlines are on.
    public var currentTime: Instant { Self.now() }

    /// Runs `task` once, on the signalling thread, when `deadline` has passed (a deadline in the past
    /// runs on the next turn of the loop, never from inside this call).
    @discardableResult
    public func schedule(at deadline: Instant, _ task: @escaping () -> Void) -> EndpointTaskID {
        let id = nextScheduleID
        nextScheduleID += 1
        scheduledTasks[id] = (deadline, task)
        return EndpointTaskID(rawValue: id)
    }

    /// Forgets a scheduled task that has not run yet (a task that ran or was cancelled: no effect).
    public func cancelScheduled(_ id: EndpointTaskID) {
        scheduledTasks[id.rawValue] = nil
    }

    /// Calls `handler` on the signalling thread whenever `fd` is readable (POLLIN, or an error or
    /// hang-up on it), until `unwatch`. The handler must read what is waiting, or it is called again
    /// at once.
    @discardableResult
    public func watch(_ fd: Int32, _ handler: @escaping () -> Void) -> EndpointTaskID {
        let id = nextScheduleID
        nextScheduleID += 1
        watchedDescriptors.append((id, fd, handler))
        return EndpointTaskID(rawValue: id)
    }

    public func unwatch(_ id: EndpointTaskID) {
        watchedDescriptors.removeAll { $0.id == id.rawValue }
    }

    /// The local address the kernel picks to reach `address` (a UDP socket connected to it: no
    /// packet is sent), nil when there is no route.
    public static func routeSource(to address: SocketAddress) -> String? {
        guard var peer = RawSockaddr(address) else { return nil }
        let fd = socket(address.family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard peer.withSockaddr({ connect(fd, $0, $1) }) == 0, let local = RawSockaddr.local(of: fd) else { return nil }
        return local.host
    }

    /// The earliest scheduled deadline, nanoseconds.
    var nextScheduledDeadline: Int64? {
        var next: Int64? = nil
        for (_, entry) in scheduledTasks where next == nil || entry.deadline.nanoseconds < next! {
            next = entry.deadline.nanoseconds
        }
        return next
    }

    /// Runs the tasks whose deadline has passed, earliest first. A task scheduled by a task runs on a
    /// later turn, so a task that keeps rescheduling itself cannot hold the loop.
    func runDueScheduledTasks() {
        guard !scheduledTasks.isEmpty else { return }
        let now = Self.now()
        let due = scheduledTasks.filter { $0.value.deadline <= now }.sorted {
            $0.value.deadline == $1.value.deadline ? $0.key < $1.key : $0.value.deadline < $1.value.deadline
        }
        for (id, entry) in due {
            // A task may cancel a later one that was also due.
            guard scheduledTasks.removeValue(forKey: id) != nil else { continue }
            entry.task()
        }
    }
}
