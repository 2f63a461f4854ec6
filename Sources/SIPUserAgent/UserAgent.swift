#if canImport(Glibc)
import Glibc
#endif
import Config
import SIPCore
import SIPEndpoint

/// The user agent of the daemon: every enabled line's registration (and, with the calls, its call
/// legs) on one endpoint, on the signalling thread.
public final class UserAgent {
    public private(set) var lines: [LineRegistration] = []
    /// Calls in progress and the last ended ones (UserAgent+Calls.swift).
    public internal(set) var calls: [CallLeg] = []
    var callCounter = 0
    unowned let endpoint: SIPEndpoint
    let log: (String) -> Void
    /// Decides an INVITE for a line that passed its inbound policy (the call legs); nil: 480.
    public var onIncomingCall: ((LineRegistration, SIPMessage) -> StatelessResponder.Decision)?
    /// Told whenever a line's status changed (dialtoned writes the status file).
    public var onChange: (() -> Void)?
    /// Told whenever a call's state changed.
    public var onCallChange: ((CallLeg) -> Void)?

    public init(accounts: [LineAccount], endpoint: SIPEndpoint, log: @escaping (String) -> Void = { _ in }) {
        self.endpoint = endpoint
        self.log = log
        for account in accounts {
            let line = LineRegistration(account: account, endpoint: endpoint, log: log)
            line.onStatus = { [weak self] _, _ in self?.onChange?() }
            line.onRegistered = { [weak self] _ in self?.onChange?() }
            lines.append(line)
        }
    }

    public func start() { for line in lines { line.start() } }

    /// The WAN link or address changed: every line whose way to its registrar changed (another
    /// source address, or no route) registers again at once; the others keep their binding.
    /// Returns the names of the lines that register again.
    @discardableResult
    public func networkChanged(reason: String) -> [String] {
        let affected = lines.filter { $0.isAffectedByNetworkChange() }
        guard !affected.isEmpty else {
            log("network: \(reason): no line's route to its registrar changed")
            return []
        }
        log("network: \(reason): registering \(affected.map(\.account.name).joined(separator: ", ")) again")
        endpoint.forgetUDPFlows()
        for line in affected { line.networkChanged(reason: reason) }
        return affected.map(\.account.name)
    }

    /// Hangs up every call and unregisters every line; `completion` runs once the lines have finished
    /// (or at once without lines).
    public func stop(completion: @escaping () -> Void) {
        // Calls first: CANCEL, 603 or BYE for each (their transactions carry on while the lines
        // unregister).
        for leg in calls where leg.state != .ended { leg.hangUp() }
        var left = lines.count
        guard left > 0 else { completion(); return }
        for line in lines {
            line.stop {
                left -= 1
                if left == 0 { completion() }
            }
        }
    }

    public var snapshots: [LineRegistration.Snapshot] { lines.map(\.snapshot) }

    /// The status document `dialtone status` prints: `{"lines": [{"Alias", "Status", …}]}`, keys as
    /// TR-104 names them where it has a name.
    public var statusJSON: JSONValue {
        .object([("pid", .number(Double(getpid()))), ("lines", .array(snapshots.map { s in
            var members: [(key: String, value: JSONValue)] = [
                ("Alias", .string(s.name)),
                ("RegisterURI", .string(s.aor)),
                ("Status", .string(s.status.rawValue)),
                ("Reason", .string(s.reason)),
                ("Contact", .string(s.contact)),
                ("RegisterExpires", .number(Double(s.expires))),
                ("Registrations", .number(Double(s.registrations))),
            ]
            members.append(("Server", s.server.map { .string($0) } ?? .null))
            return .object(members)
        }))])
    }
}
