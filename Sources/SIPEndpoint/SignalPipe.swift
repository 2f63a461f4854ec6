#if canImport(Glibc)
import Glibc
#endif

/// The write end of the self-pipe signal handlers report to (signal handlers cannot capture context).
nonisolated(unsafe) private var signalPipeWrite: Int32 = -1

/// SIGTERM, SIGINT, SIGHUP and SIGUSR1 delivered as readable bytes on a pipe (the classic async-signal-safe
/// self-pipe pattern; Glibc's Swift module does not expose signalfd), so the signalling loop learns of
/// them through the same `poll(2)` as its sockets. One per process: creating it installs the handlers.
public final class SignalPipe {
    /// The read end: poll it for POLLIN, then call `next()`.
    public let fd: Int32
    private let writeFD: Int32
    /// The signals reported: SIGTERM and SIGINT (stop), SIGHUP (reload), SIGUSR1 (log statistics).
    public static let handled: [Int32] = [SIGTERM, SIGINT, SIGHUP, SIGUSR1]

    public init() throws(EndpointError) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw EndpointError("pipe: \(String(cString: strerror(errno)))") }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        fd = fds[0]
        writeFD = fds[1]
        signalPipeWrite = fds[1]
        for sig in Self.handled {
            _ = signal(sig) { number in
                var n = number
                _ = write(signalPipeWrite, &n, MemoryLayout<Int32>.size)
            }
        }
        _ = signal(SIGPIPE, SIG_IGN)
        // A parent may have started us with these blocked (the mask is inherited across exec).
        var mask = sigset_t()
        sigemptyset(&mask)
        for sig in Self.handled { sigaddset(&mask, sig) }
        sigprocmask(SIG_UNBLOCK, &mask, nil)
    }

    deinit {
        close(fd)
        close(writeFD)
    }

    /// The next signal number waiting in the pipe, nil when none is.
    public func next() -> Int32? {
        var sig: Int32 = 0
        let r = read(fd, &sig, MemoryLayout<Int32>.size)
        return r == MemoryLayout<Int32>.size ? sig : nil
    }
}

/// A failure to set up the endpoint (a socket, a listener, a TLS context, the signal pipe).
public struct EndpointError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
