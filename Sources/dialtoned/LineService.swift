#if canImport(Glibc)
import Glibc
#endif
import Config
import NetMonitor
import SIPEndpoint
import SIPTransaction
import SIPUserAgent

/// The line accounts of the configuration (`VoiceService`), run by dialtoned on the endpoint: the
/// user agent's registrations, the network monitor that makes every line register again when the
/// WAN link or address changes, and the status file `dialtone status` reads.
final class LineService {
    let userAgent: UserAgent
    private unowned let endpoint: SIPEndpoint
    private let statusPath: String?
    private let log: (String) -> Void
    private var monitor: NetMonitor?
    private var filter = WANChangeFilter()
    private var filterTask: EndpointTaskID?
    private var lastStatusWrite: [UInt8] = []

    init(lines: [VoiceConfiguration.Line], endpoint: SIPEndpoint, statusPath: String?, log: @escaping (String) -> Void) {
        self.endpoint = endpoint
        self.statusPath = statusPath
        self.log = log
        var accounts: [LineAccount] = []
        for line in lines {
            if let account = LineAccount(line: line) {
                accounts.append(account)
            } else {
                log("line \(line.alias): the address-of-record \(line.addressOfRecord) is not a SIP URI; line not started")
            }
        }
        userAgent = UserAgent(accounts: accounts, endpoint: endpoint, log: log)
        userAgent.onChange = { [weak self] in self?.writeStatus() }
    }

    func start() {
        // Requests to a line's Contact go to the user agent (inbound policy, calls); the rest to
        // what was there (the server roles, or the stateless policy).
        let previous = endpoint.transactionUser
        endpoint.transactionUser = { [weak self, unowned endpoint] request in
            if let decision = self?.userAgent.decide(request, source: endpoint.currentRequestSource) { return decision }
            return previous(request)
        }
        let previousACK = endpoint.ackHandler
        endpoint.ackHandler = { [weak self] ack in
            if self?.userAgent.receivedACK(ack) == true { return }
            previousACK?(ack)
        }
        let previousCancel = endpoint.cancelHandler
        endpoint.cancelHandler = { [weak self] invite in
            if self?.userAgent.receivedCancel(forInvite: invite) == true { return true }
            return previousCancel?(invite) ?? false
        }
        startMonitor()
        writeStatus()
        userAgent.start()
    }

    /// rtnetlink through libnl-route-3; without it (no netlink, e.g. a sandbox) the lines still
    /// register, they just learn of a new address at the next refresh.
    private func startMonitor() {
        do {
            let m = try NetMonitor()
            monitor = m
            endpoint.watch(m.fileDescriptor) { [weak self] in self?.networkEvents() }
            log("network monitor: watching links, addresses and routes (rtnetlink)")
        } catch {
            log("network monitor: \(error); lines re-register only when they refresh")
        }
    }

    private func networkEvents() {
        guard let monitor else { return }
        let changes = monitor.readEvents()
        guard !changes.isEmpty else { return }
        let now = seconds()
        filter.note(changes, now: now)
        scheduleFilterCheck()
    }

    private func scheduleFilterCheck() {
        guard let deadline = filter.nextDeadline else { return }
        if let filterTask { endpoint.cancelScheduled(filterTask) }
        let at = Instant(nanoseconds: Int64(deadline * 1e9))
        filterTask = endpoint.schedule(at: at) { [weak self] in
            guard let self else { return }
            self.filterTask = nil
            if self.filter.take(now: self.seconds()) {
                self.userAgent.networkChanged(reason: "the WAN link or address changed")
            } else {
                self.scheduleFilterCheck()
            }
        }
    }

    private func seconds() -> Double { Double(endpoint.currentTime.nanoseconds) / 1e9 }

    /// Unregisters every line, running the loop until they are done or `timeout` seconds passed.
    func stop(timeout: Double) {
        var done = false
        userAgent.stop { done = true }
        let deadline = endpoint.currentTime.nanoseconds + Int64(timeout * 1e9)
        while !done && endpoint.currentTime.nanoseconds < deadline {
            endpoint.step(maxWait: 20)
        }
        if !done { log("lines: unregistration unfinished after \(timeout) s; stopping anyway") }
        writeStatus()
    }

    /// Answers a command of the control channel (`dialtone call`, …; `ControlSocket`), on the
    /// signalling thread. Placeholder until the call engine arrives: "calls" lists none, every call
    /// command is refused.
    func control(_ request: ControlRequest) -> JSONValue {
        let ua = userAgent
        let result: Result<CallLeg, UserAgent.CallError>
        switch request.command {
        case "calls":
            return ControlReply.success([(key: "calls", value: .array(ua.calls.map(Self.json)))])
        case "call":
            result = ua.call(line: request.line ?? "", to: request.to ?? "")
        case "answer":
            result = ua.answer(line: request.line ?? "")
        case "hangup":
            result = ua.hangUp(line: request.line ?? "")
        case "hold":
            result = ua.hold(line: request.line ?? "")
        case "resume":
            result = ua.resume(line: request.line ?? "")
        default:
            return ControlReply.failure("unknown command \(request.command)")
        }
        switch result {
        case .success(let leg): return ControlReply.success([(key: "call", value: Self.json(leg))])
        case .failure(let error): return ControlReply.failure(error.description)
        }
    }

    /// One call as `dialtone calls` prints it.
    static func json(_ leg: CallLeg) -> JSONValue {
        .object([
            ("id", .number(Double(leg.id))),
            ("line", .string(leg.line.account.name)),
            ("direction", .string(leg.direction.rawValue)),
            ("state", .string(leg.state.rawValue)),
            ("remote", .string(leg.remote)),
            ("reason", leg.endReason.map { .string("\($0)") } ?? .null),
        ])
    }

    /// Writes the status document atomically (a reader never sees half a file), when it changed.
    func writeStatus() {
        guard let statusPath else { return }
        let bytes = userAgent.statusJSON.serialized(indent: 2) + [10]
        guard bytes != lastStatusWrite else { return }
        do {
            try AtomicFile.write(bytes, to: statusPath, permissions: 0o644)
            lastStatusWrite = bytes
        } catch {
            log("status file \(statusPath): \(error)")
        }
    }
}
