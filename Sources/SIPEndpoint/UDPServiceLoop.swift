#if canImport(Glibc)
import Glibc
#endif
import Config
import SIPTransport

/// The write end of the self-pipe signal handlers report to (signal handlers cannot capture context).
nonisolated(unsafe) private var signalPipeWrite: Int32 = -1

/// The signalling loop, one thread: `poll(2)` over the UDP sockets and a self-pipe that SIGTERM,
/// SIGINT and SIGHUP handlers write their number to (the classic async-signal-safe pattern; Glibc's
/// Swift module does not expose signalfd). poll over a handful of descriptors is all the daemon needs today; it keeps the
/// loop free of Dispatch's thread pool, so every piece of SIP state stays on this one thread
/// (architecture.md: no locks in protocol code). The timer heap arrives with the transaction layer.
public final class UDPServiceLoop {
    public enum Exit: Equatable {
        case terminated(signal: Int32)
    }

    private var sockets: [UDPSocket] = []
    private let responder = StatelessResponder()
    private let log: (String) -> Void
    private let signalFD: Int32
    private let signalWriteFD: Int32
    /// Called on SIGHUP; returns the listen addresses to use from now on (nil keeps the current ones).
    public var reload: () -> [ListenAddress]? = { nil }

    /// Installs SIGTERM, SIGINT and SIGHUP handlers that report to this loop (one loop per process).
    public init(log: @escaping (String) -> Void) throws {
        self.log = log
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw UDPSocket.Failure(description: "pipe: \(String(cString: strerror(errno)))") }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        signalFD = fds[0]
        signalWriteFD = fds[1]
        signalPipeWrite = fds[1]
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            _ = signal(sig) { number in
                var n = number
                _ = write(signalPipeWrite, &n, MemoryLayout<Int32>.size)
            }
        }
        _ = signal(SIGPIPE, SIG_IGN)
        // A parent may have started us with these blocked (the mask is inherited across exec).
        var mask = sigset_t()
        sigemptyset(&mask)
        for sig in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&mask, sig) }
        sigprocmask(SIG_UNBLOCK, &mask, nil)
    }

    deinit {
        close(signalFD)
        close(signalWriteFD)
    }

    /// Binds every address; throws (naming the address) when one cannot be bound.
    public func bind(_ addresses: [ListenAddress]) throws {
        var fresh: [UDPSocket] = []
        for a in addresses {
            fresh.append(try UDPSocket(host: a.host, port: a.port))
        }
        sockets = fresh
        for s in sockets { log("listening on udp:\(s.local)") }
    }

    /// The bound local addresses (ports resolved when 0 was asked for).
    public var localAddresses: [SocketAddress] { sockets.map(\.local) }

    /// Runs until SIGTERM or SIGINT.
    public func run() -> Exit {
        while true {
            var fds = [pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0)]
            for s in sockets { fds.append(pollfd(fd: s.fd, events: Int16(POLLIN), revents: 0)) }
            let n = poll(&fds, nfds_t(fds.count), -1)
            if n < 0 {
                if errno == EINTR { continue }
                log("poll: \(String(cString: strerror(errno)))")
                return .terminated(signal: 0)
            }
            if fds[0].revents != 0 {
                var sig: Int32 = 0
                let r = read(signalFD, &sig, MemoryLayout<Int32>.size)
                if r == MemoryLayout<Int32>.size {
                    if sig == SIGHUP {
                        log("SIGHUP: reloading configuration")
                        if let addresses = reload() {
                            do { try bind(addresses) } catch { log("reload failed, keeping the old sockets: \(error)") }
                        }
                    } else {
                        return .terminated(signal: sig)
                    }
                }
            }
            for (k, s) in sockets.enumerated() where fds[k + 1].revents != 0 {
                // Drain what is waiting, bounded so one busy socket cannot starve the others.
                var budget = 64
                while budget > 0, let (bytes, from) = s.receive() {
                    budget -= 1
                    switch responder.handle(datagram: bytes, sourceHost: from.host, sourcePort: from.port) {
                    case .replied(let reply, _):
                        if let to = SocketAddress(host: reply.host, port: reply.port) { s.send(reply.bytes, to: to) }
                    case .absorbed, .dropped:
                        break
                    }
                }
            }
        }
    }
}
