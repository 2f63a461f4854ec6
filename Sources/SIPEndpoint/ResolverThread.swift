#if canImport(Glibc)
import Glibc
#endif
import SIPCore
import SIPTransport

/// Runs RFC 3263 resolutions off the signalling thread: `ResolverDNSLookup` (libresolv `res_nquery`)
/// blocks for up to timeout × attempts per query, which must never stall the poll loop.
///
/// Why one plain pthread and not a DispatchQueue: resolutions only ever wait on the network, so one
/// worker that runs them in order is enough for a router (the locator's `DNSCache` answers repeats
/// without a query), and `ResolverDNSLookup` serialises queries per instance anyway. A dedicated
/// thread owns the `SIPServerLocator` and its cache outright (no lock around the cache), costs one
/// stack, and never grows: Dispatch's global queues may start extra threads when their work blocks,
/// and libdispatch would be a new dependency for the engine. The thread is started lazily, on the
/// first name that needs DNS, so endpoints that only ever see numeric hosts have none.
///
/// Hand-off: the signalling thread appends a job under the mutex and signals the condition; the
/// worker resolves, appends the result under the same mutex and writes a byte to a self-pipe the
/// poll loop watches (`wakeFD`), exactly like `SignalPipe`. Only this small queue is locked; the
/// protocol code on either side runs without locks. The job queue is bounded (`maximumPending`), and
/// so is the endpoint's count of requests waiting for a resolution.
final class ResolverThread: @unchecked Sendable {
    struct Job: Sendable {
        let ticket: UInt64
        let uri: SIPURI
    }

    struct Completion: Sendable {
        let ticket: UInt64
        let result: Result<SIPTargetCursor, SIPResolutionError>
    }

    /// The read end of the wake pipe: poll it for POLLIN, then call `takeCompletions`.
    let wakeFD: Int32
    private let wakeWrite: Int32
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    /// Guarded by `mutex`.
    private var jobs: [Job] = []
    private var completions: [Completion] = []
    private var stopping = false
    /// Owned by the worker thread once it runs.
    private var locator: SIPServerLocator
    let maximumPending: Int

    init(locator: SIPServerLocator, maximumPending: Int = 1024) throws(EndpointError) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw EndpointError("pipe: \(String(cString: strerror(errno)))") }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        wakeFD = fds[0]
        wakeWrite = fds[1]
        mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        pthread_cond_init(condition, nil)
        self.locator = locator
        self.maximumPending = max(1, maximumPending)
        var thread = pthread_t()
        let retained = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, { argument in
            guard let argument else { return nil }
            let worker = Unmanaged<ResolverThread>.fromOpaque(argument).takeRetainedValue()
            worker.work()
            return nil
        }, retained)
        guard rc == 0 else {
            Unmanaged<ResolverThread>.fromOpaque(retained).release()
            throw EndpointError("pthread_create: \(String(cString: strerror(rc)))")
        }
        pthread_detach(thread)
    }

    deinit {
        close(wakeFD)
        close(wakeWrite)
        pthread_cond_destroy(condition)
        condition.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Queues a resolution; false when `maximumPending` jobs are already waiting.
    func submit(_ job: Job) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard !stopping, jobs.count < maximumPending else { return false }
        jobs.append(job)
        pthread_cond_signal(condition)
        return true
    }

    /// Empties the wake pipe and returns the finished resolutions, oldest first.
    func takeCompletions() -> [Completion] {
        var sink = [UInt8](repeating: 0, count: 64)
        while read(wakeFD, &sink, sink.count) > 0 {}
        pthread_mutex_lock(mutex)
        let done = completions
        completions.removeAll()
        pthread_mutex_unlock(mutex)
        return done
    }

    /// Asks the worker to exit once its current query returns; queued jobs are dropped.
    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        jobs.removeAll()
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    /// The worker's loop (the only code that touches `locator`).
    private func work() {
        while true {
            pthread_mutex_lock(mutex)
            while jobs.isEmpty && !stopping { pthread_cond_wait(condition, mutex) }
            if stopping {
                pthread_mutex_unlock(mutex)
                return
            }
            let job = jobs.removeFirst()
            pthread_mutex_unlock(mutex)

            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            let now = Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
            let result: Result<SIPTargetCursor, SIPResolutionError>
            do throws(SIPResolutionError) {
                result = .success(try locator.resolve(job.uri, now: now))
            } catch {
                result = .failure(error)
            }

            pthread_mutex_lock(mutex)
            // Not bounded here: completions never outnumber the jobs `submit` accepted.
            let keep = !stopping
            if keep { completions.append(Completion(ticket: job.ticket, result: result)) }
            pthread_mutex_unlock(mutex)
            if keep {
                var byte: UInt8 = 1
                _ = write(wakeWrite, &byte, 1)
            }
        }
    }
}

/// A `DNSLookup` for the signalling thread's own locator, which only ever resolves numeric hosts
/// (no queries): any query is refused instead of blocking.
struct RefusingDNSLookup: DNSLookup {
    func query(_ name: String, type: DNSRecordType) throws(DNSLookupError) -> [DNSResourceRecord] {
        throw DNSLookupError(.temporaryFailure, name: name, type: type, detail: "no DNS on the signalling thread")
    }
}
