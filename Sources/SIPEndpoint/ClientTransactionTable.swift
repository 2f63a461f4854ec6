import SIPTransaction
import SIPTransport

/// The client side's state, kept in one stored property of `SIPEndpoint` (its extensions in other
/// files cannot add stored properties). Everything here lives on the signalling thread, except what
/// `ResolverThread` guards itself.
final class ClientTransactionTable {
    var statistics = ClientStatistics()
    var nextID: UInt64 = 0
    var requests: [ClientTransactionID: ClientRequest] = [:]
    var attempts: [TransactionKey: ClientAttempt] = [:]
    /// Requests waiting for the resolver thread, by ticket.
    var resolving: [UInt64: ClientTransactionID] = [:]
    var streams: [ClientStreamKey: TCPConnection] = [:]
    var flows: [UDPFlowKey: UDPFlow] = [:]
    var resolver: ResolverThread?
    var nextTicket: UInt64 = 0
    /// `SIPEndpoint.tlsClientContext` once set (before that, the configuration's).
    var tls: TLSContext?
    var tlsReplaced = false
    /// What `clientPollDescriptors` put in the poll set this turn, in order.
    var polledResolver: ResolverThread?
    var polledFlows: [UDPFlow] = []
    /// Flows forgotten by `forgetUDPFlows` that transactions still use: polled until their last
    /// user ends (with the same 4-tuple as a new flow, the kernel may deliver to either).
    var retiredFlows: [UDPFlow] = []
    /// Events held back until the next turn of the loop, so no handler runs inside `sendRequest` or
    /// `cancel` (the caller has not even seen the ID yet).
    var deferred: [() -> Void] = []
    var deferring = 0

    init() {}

    deinit { resolver?.stop() }
}
