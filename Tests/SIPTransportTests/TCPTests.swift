#if canImport(Glibc)
import Glibc
#endif
import Testing
import SIPCore
@testable import SIPTransport

@Suite struct TCPTests {
    /// Connects a client to a fresh listener on `host` and waits until both ends are open.
    func connectedPair(host: String, limits: StreamLimits = .default) throws -> (StreamPump, TCPListener, TCPConnection, TCPConnection) {
        let pump = StreamPump()
        let listener = try TCPListener(host: host, port: 0, limits: limits)
        pump.listeners.append(listener)
        let client = try TCPConnection.connect(to: listener.local, limits: limits, now: MonotonicClock.milliseconds())
        pump.add(client)
        let ok = pump.run { client.isOpen && pump.accepted.count == 1 }
        try #require(ok)
        return (pump, listener, client, pump.accepted[0])
    }

    @Test func byteByByteOverIPv4() throws {
        let (pump, _, client, server) = try connectedPair(host: "127.0.0.1")
        #expect(pump.count(on: client, isConnected) == 1)
        #expect(server.remote == client.local)
        let bytes = optionsRequest(callID: "bytewise", bodyLength: 5)
        for b in bytes {
            client.send(bytes: [b], now: MonotonicClock.milliseconds())
            pump.step()
        }
        let ok = pump.run { pump.messages(on: server).count >= 1 }
        #expect(ok)
        let got = pump.messages(on: server)
        #expect(got.count == 1)
        #expect(got.first?.headers[.callID] == "bytewise")
        #expect(Array(got.first?.body ?? []) == Array("xxxxx".utf8))
        #expect(server.isOpen)
    }

    @Test func pipelinedOverIPv6BothWays() throws {
        let (pump, _, client, server) = try connectedPair(host: "::1")
        #expect(server.remote.isIPv6)
        var batch: [UInt8] = []
        for i in 0..<3 { batch += optionsRequest(callID: "pipe-\(i)", bodyLength: i * 7) }
        client.send(bytes: batch, now: MonotonicClock.milliseconds())
        let ok = pump.run { pump.messages(on: server).count >= 3 }
        #expect(ok)
        #expect(pump.messages(on: server).map { $0.headers[.callID] ?? "" } == ["pipe-0", "pipe-1", "pipe-2"])
        // And a response back on the same connection.
        let request = pump.messages(on: server)[0]
        let response = SIPMessage.response(to: request, status: 200, reason: "OK", toTag: "t1", extraHeaders: [])
        #expect(server.send(response, now: MonotonicClock.milliseconds()))
        let back = pump.run { pump.messages(on: client).count >= 1 }
        #expect(back)
        #expect(pump.messages(on: client).first?.headers[.callID] == "pipe-0")
    }

    @Test func keepalivePingGetsPong() throws {
        let (pump, _, client, server) = try connectedPair(host: "127.0.0.1")
        client.sendPing(now: MonotonicClock.milliseconds())
        #expect(client.pingSentAt != nil)
        let ok = pump.run { pump.count(on: client, isPong) >= 1 }
        #expect(ok)
        #expect(pump.count(on: server, isPing) == 1)
        #expect(client.pingSentAt == nil)
        #expect(client.isOpen && server.isOpen)
        // A message after the keepalive is still framed.
        client.send(bytes: optionsRequest(callID: "after-ping"), now: MonotonicClock.milliseconds())
        #expect(pump.run { pump.messages(on: server).count == 1 })
    }

    @Test func pongTimeoutCloses() throws {
        let limits = StreamLimits(pongTimeout: 500)
        let (_, _, client, _) = try connectedPair(host: "127.0.0.1", limits: limits)
        let t0 = MonotonicClock.milliseconds()
        client.sendPing(now: t0)
        #expect(client.checkTimeouts(now: t0 + 499) == nil)
        #expect(client.checkTimeouts(now: t0 + 500) == .pongTimeout)
        #expect(client.isClosed)
    }

    @Test func tooManyConnectionsAreRefused() throws {
        let limits = StreamLimits(maxConnections: 2)
        let pump = StreamPump()
        let listener = try TCPListener(host: "127.0.0.1", port: 0, limits: limits)
        pump.listeners.append(listener)
        var clients: [TCPConnection] = []
        for _ in 0..<3 {
            let c = try TCPConnection.connect(to: listener.local, limits: limits, now: MonotonicClock.milliseconds())
            clients.append(c)
            pump.add(c)
            _ = pump.run { c.isOpen || c.isClosed }
            _ = pump.run(maxIterations: 50) { listener.openConnections + listener.refusedCount >= clients.count }
        }
        #expect(listener.openConnections == 2)
        #expect(listener.refusedCount == 1)
        #expect(pump.accepted.count == 2)
        // The refused client sees its connection end.
        let third = clients[2]
        let ended = pump.run { third.isClosed }
        #expect(ended)
        // Closing one accepted connection frees a slot.
        pump.accepted[0].close()
        #expect(listener.openConnections == 1)
        let fourth = try TCPConnection.connect(to: listener.local, limits: limits, now: MonotonicClock.milliseconds())
        pump.add(fourth)
        #expect(pump.run { pump.accepted.count == 3 })
        #expect(listener.refusedCount == 1)
    }

    @Test func oversizeMessageClosesTheConnection() throws {
        var sip = SIPLimits()
        sip.maxMessageSize = 2048
        let (pump, _, client, server) = try connectedPair(host: "127.0.0.1", limits: StreamLimits(sipLimits: sip))
        let big = optionsRequest(callID: "big", extraHeader: "X-Padding: " + String(repeating: "a", count: 4000) + "\r\n")
        client.send(bytes: big, now: MonotonicClock.milliseconds())
        let ok = pump.run { server.isClosed }
        #expect(ok)
        guard case .framingError = pump.closeReason(of: server) else {
            Issue.record("expected a framing error, got \(String(describing: pump.closeReason(of: server)))")
            return
        }
        #expect(pump.messages(on: server).isEmpty)
        #expect(server.incomingBufferedCount == 0)
    }

    @Test func unframeableContentLengthCloses() throws {
        let (pump, _, client, server) = try connectedPair(host: "127.0.0.1")
        var bytes = optionsRequest(callID: "ok-first")
        bytes += Array("OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nContent-Length: abc\r\n\r\n".utf8)
        client.send(bytes: bytes, now: MonotonicClock.milliseconds())
        #expect(pump.run { server.isClosed })
        #expect(pump.messages(on: server).count == 1)
        guard case .framingError = pump.closeReason(of: server) else {
            Issue.record("expected a framing error")
            return
        }
        #expect(pump.run { client.isClosed })
    }

    @Test func framedButMalformedKeepsTheConnection() throws {
        let (pump, _, client, server) = try connectedPair(host: "127.0.0.1")
        var bytes = Array("OPTIONS sip:a@b SIP/7.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n".utf8)
        bytes += optionsRequest(callID: "second")
        client.send(bytes: bytes, now: MonotonicClock.milliseconds())
        #expect(pump.run { pump.messages(on: server).count == 1 })
        #expect(pump.count(on: server, isMalformed) == 1)
        #expect(server.isOpen)
    }

    @Test func outgoingBufferLimitCloses() throws {
        let (_, _, client, _) = try connectedPair(host: "127.0.0.1", limits: StreamLimits(maxOutgoingBytes: 100))
        let events = client.send(bytes: optionsRequest(callID: "too-big"), now: MonotonicClock.milliseconds())
        #expect(events.count == 1)
        #expect(client.state == .closed(.outgoingBufferFull))
        #expect(client.outgoingCount == 0)
    }

    @Test func unreadPeerFillsTheBufferAndCloses() throws {
        // The server never reads; the client keeps writing until its bounded buffer overflows.
        let limits = StreamLimits(maxOutgoingBytes: 64 * 1024)
        let (_, _, client, server) = try connectedPair(host: "127.0.0.1", limits: limits)
        let chunk = optionsRequest(callID: "flood", bodyLength: 4000)
        var sends = 0
        while client.isOpen && sends < 100_000 {
            client.send(bytes: chunk, now: MonotonicClock.milliseconds())
            sends += 1
        }
        #expect(client.state == .closed(.outgoingBufferFull))
        #expect(server.isOpen)
    }

    @Test func idleTimeoutThroughTheTable() throws {
        let limits = StreamLimits(idleTimeout: 1000)
        let (pump, _, client, server) = try connectedPair(host: "127.0.0.1", limits: limits)
        let table = ConnectionTable()
        table.add(server)
        table.add(client)
        #expect(table.count == 2)
        let last = max(client.lastActivity, server.lastActivity)
        #expect(table.sweep(now: last + 999).isEmpty)
        #expect(table.count == 2)
        let swept = table.sweep(now: last + 1000)
        #expect(swept.count == 2)
        #expect(swept.allSatisfy { $0.1 == .idleTimeout })
        #expect(table.count == 0)
        #expect(server.isClosed && client.isClosed)
        _ = pump
    }

    @Test func trafficResetsIdleClock() throws {
        let limits = StreamLimits(idleTimeout: 60_000)
        let (pump, _, client, server) = try connectedPair(host: "127.0.0.1", limits: limits)
        let before = server.lastActivity
        usleep(20_000)
        client.send(bytes: optionsRequest(callID: "activity"), now: MonotonicClock.milliseconds())
        #expect(pump.run { pump.messages(on: server).count == 1 })
        #expect(server.lastActivity > before)
        #expect(server.checkTimeouts(now: server.lastActivity + 59_999) == nil)
    }

    @Test func connectionTableReusesAndReplacesClosed() throws {
        let pump = StreamPump()
        let listener = try TCPListener(host: "127.0.0.1", port: 0)
        pump.listeners.append(listener)
        let table = ConnectionTable()
        let now = MonotonicClock.milliseconds()
        let first = try table.connection(transport: .tcp, remote: listener.local, tls: nil, serverName: nil, limits: .default, now: now)
        let again = try table.connection(transport: .tcp, remote: listener.local, tls: nil, serverName: nil, limits: .default, now: now)
        #expect(first === again)
        #expect(table.count == 1)
        // Messages queued before the connect completes go out once it does.
        first.send(bytes: optionsRequest(callID: "queued"), now: now)
        pump.add(first)
        #expect(pump.run { pump.accepted.count == 1 && pump.messages(on: pump.accepted[0]).count == 1 })
        first.close()
        #expect(table.connection(transport: .tcp, remote: listener.local) == nil)
        let fresh = try table.connection(transport: .tcp, remote: listener.local, tls: nil, serverName: nil, limits: .default, now: now)
        #expect(fresh !== first)
        #expect(table.connection(transport: .tls, remote: listener.local) == nil)
    }

    @Test func connectToClosedPortFails() throws {
        // Bind a listener to learn a free port, then close it.
        var port: UInt16 = 0
        do {
            let l = try TCPListener(host: "127.0.0.1", port: 0)
            port = l.local.port
        }
        let target = try #require(SocketAddress(host: "127.0.0.1", port: port))
        let pump = StreamPump()
        let c: TCPConnection
        do {
            c = try TCPConnection.connect(to: target, now: MonotonicClock.milliseconds())
        } catch {
            #expect(error.code == .socket)
            return
        }
        pump.add(c)
        #expect(pump.run { c.isClosed })
        guard case .connectFailed = pump.closeReason(of: c) else {
            Issue.record("expected connectFailed, got \(c.state)")
            return
        }
    }

    @Test func peerCloseIsReported() throws {
        let (pump, _, client, server) = try connectedPair(host: "::1")
        client.close()
        #expect(client.state == .closed(.local))
        #expect(pump.run { server.isClosed })
        #expect(server.state == .closed(.peerClosed))
    }

    @Test func listenerRejectsNonNumericHost() {
        #expect(throws: TransportError.self) { try TCPListener(host: "localhost", port: 0) }
    }
}
