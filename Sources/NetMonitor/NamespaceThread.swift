#if canImport(Glibc)
import Glibc
#endif
import CNetlink

/// A named network namespace (`ip netns add NAME` bind-mounts it at /var/run/netns/NAME), held open
/// for the monitor's life so that later dumps reach the same namespace even if the name is removed.
///
/// Network namespaces belong to threads, and a socket stays in the namespace it was created in; so
/// `run` creates sockets on a short-lived thread that enters the namespace first (setns), and the
/// caller's thread never changes namespace.
final class NamespaceHandle {
    let name: String
    private let fd: Int32

    init(name: String) throws(NetMonitorError) {
        // A name, not a path: no '/', not '.' or '..', not empty (ip(8) refuses the same).
        guard !name.isEmpty, name != ".", name != "..", !name.utf8.contains(UInt8(ascii: "/")),
              !name.utf8.contains(0), name.utf8.count < 256 else {
            throw NetMonitorError(.namespace, "bad network namespace name '\(name)'")
        }
        let path = "/var/run/netns/" + name
        let opened = open(path, O_RDONLY | O_CLOEXEC)
        guard opened >= 0 else { throw NetMonitorError.errno(.namespace, "open \(path)") }
        self.name = name
        fd = opened
    }

    deinit { close(fd) }

    /// Runs `body` on a new thread inside the namespace and returns its result; the calling thread
    /// waits (the work is a socket creation or a dump: milliseconds).
    func run<T>(_ body: () -> T) throws(NetMonitorError) -> T {
        try withoutActuallyEscaping(body) { (escapable) throws(NetMonitorError) -> T in
            let job = NamespaceJob(fd: fd) { escapable() }
            let retained = Unmanaged.passRetained(job).toOpaque()
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { argument in
                guard let argument else { return nil }
                let job = Unmanaged<NamespaceJob>.fromOpaque(argument).takeRetainedValue()
                if cnetlink_enter_network_namespace(job.fd) != 0 {
                    job.enterError = errno
                } else {
                    job.result = job.work()
                }
                return nil
            }, retained)
            guard rc == 0 else {
                Unmanaged<NamespaceJob>.fromOpaque(retained).release()
                throw NetMonitorError.errno(.thread, "pthread_create", rc)
            }
            pthread_join(thread, nil)
            if job.enterError != 0 { throw NetMonitorError.errno(.namespace, "setns \(name)", job.enterError) }
            guard let value = job.result as? T else { throw NetMonitorError(.thread, "namespace thread gave no result") }
            return value
        }
    }
}

/// What the namespace thread runs and where it leaves the result (read after pthread_join).
private final class NamespaceJob {
    let fd: Int32
    let work: () -> Any
    var result: Any?
    var enterError: Int32 = 0

    init(fd: Int32, work: @escaping () -> Any) {
        self.fd = fd
        self.work = work
    }
}
