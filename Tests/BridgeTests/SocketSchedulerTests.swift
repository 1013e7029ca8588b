import Testing
import Buffers
@testable import Bridge

@Suite struct SocketSchedulerTests {
    @Test(arguments: [2, 5, 6, 12])
    func grantsUpToTheModelsLimitThenQueues(limit: Int) {
        var s = SocketScheduler<Int>(socketCount: limit, queueLimit: 3)
        for flow in 0..<limit { #expect(s.request(flow, now: .zero) == .granted(socket: flow)) }
        #expect(s.request(100, now: .zero) == .queued(position: 0))
        #expect(s.request(101, now: .zero) == .queued(position: 1))
        #expect(s.request(102, now: .zero) == .queued(position: 2))
        #expect(s.request(103, now: .zero) == .rejected)
        #expect(s.socketsInUse == limit)
        #expect(s.admissionRejects == 1)
    }

    @Test func retransmittedSynDoesNotQueueTwice() {
        var s = SocketScheduler<Int>(socketCount: 1)
        #expect(s.request(1, now: .zero) == .granted(socket: 0))
        #expect(s.request(1, now: .zero) == .granted(socket: 0))
        #expect(s.request(2, now: .zero) == .queued(position: 0))
        #expect(s.request(2, now: .zero) == .queued(position: 0))
        #expect(s.queueLength == 1)
    }

    @Test func releasedSocketGoesToTheLongestWaitingFlow() {
        var s = SocketScheduler<String>(socketCount: 2)
        _ = s.request("a", now: .zero); _ = s.request("b", now: .zero)
        _ = s.request("c", now: .zero); _ = s.request("d", now: .zero)
        let grant = s.finish("b")
        #expect(grant?.flow == "c" && grant?.socket == 1)
        #expect(s.socket(of: "c") == 1 && s.flow(on: 1) == "c")
        #expect(s.socket(of: "b") == nil)
        // A newcomer does not overtake "d", which is still waiting.
        #expect(s.request("e", now: .zero) == .queued(position: 1))
    }

    @Test func waitingFlowsTimeOutAtTheirDeadline() {
        var s = SocketScheduler<Int>(socketCount: 1, queueTimeout: .seconds(5))
        _ = s.request(1, now: .zero)
        _ = s.request(2, now: .zero)
        _ = s.request(3, now: .zero + .seconds(2))
        #expect(s.nextDeadline == .zero + .seconds(5))
        #expect(s.expire(now: .zero + .milliseconds(4999)).isEmpty)
        #expect(s.expire(now: .zero + .seconds(5)) == [2])
        #expect(s.expire(now: .zero + .seconds(7)) == [3])
        #expect(s.admissionTimeouts == 2 && s.queueLength == 0 && s.nextDeadline == nil)
    }

    @Test func cancelledWaiterLeavesTheQueue() {
        var s = SocketScheduler<Int>(socketCount: 1)
        _ = s.request(1, now: .zero); _ = s.request(2, now: .zero)
        #expect(s.finish(2) == nil)
        #expect(s.release(socket: 0) == nil)
        #expect(s.socketsInUse == 0)
    }

    @Test func modemLossReleasesHoldersAndKeepsWaiters() {
        var s = SocketScheduler<Int>(socketCount: 2)
        _ = s.request(1, now: .zero); _ = s.request(2, now: .zero); _ = s.request(3, now: .zero)
        #expect(Set(s.releaseAll()) == [1, 2])
        #expect(s.socketsInUse == 0 && s.isWaiting(3))
        let grants = s.admitWaiting()
        #expect(grants.count == 1 && grants[0].flow == 3)
    }

    @Test func reservedSocketIsNeverGrantedToAFlow() {
        var s = SocketScheduler<Int>(socketCount: 2)
        let udp = s.reserve()
        #expect(udp == 0)
        #expect(s.request(1, now: .zero) == .granted(socket: 1))
        #expect(s.request(2, now: .zero) == .queued(position: 0))
        #expect(s.flow(on: 0) == nil)
        #expect(s.release(socket: 0)?.flow == 2)
    }

    @Test func releasingAnOutOfRangeSocketIsIgnored() {
        var s = SocketScheduler<Int>(socketCount: 1)
        #expect(s.release(socket: 7) == nil)
        #expect(s.release(socket: -1) == nil)
    }
}

@Suite struct ServiceRingTests {
    @Test func servesBusyFlowsInTurn() {
        var ring = ServiceRing<Int>()
        ring.markReady(1); ring.markReady(2); ring.markReady(3)
        ring.markReady(1) // already in: keeps its place
        var served: [Int] = []
        for _ in 0..<9 {
            guard let f = ring.next() else { break }
            served.append(f)
            if f != 3 { ring.markReady(f) } // 3 ran dry after one send
        }
        #expect(served == [1, 2, 3, 1, 2, 1, 2, 1, 2])
    }

    @Test func removedFlowIsSkippedAndStorageStaysBounded() {
        var ring = ServiceRing<Int>()
        for round in 0..<10_000 {
            ring.markReady(round)
            ring.markReady(round + 1)
            ring.remove(round)
            #expect(ring.next() == round + 1)
        }
        #expect(ring.isEmpty && ring.next() == nil)
    }
}
