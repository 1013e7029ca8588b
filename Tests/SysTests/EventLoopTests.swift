import Glibc
import Testing
import Buffers
import Sys

@Suite struct EventLoopTests {
    @Test func oneShotTimerOf1msFiresThroughEpoll() throws {
        let epoll = try Epoll()
        let timer = try TimerFD()
        try epoll.add(timer.descriptor.rawValue, events: .readable, token: 42)
        var events = EpollEventBuffer(capacity: 4)

        #expect(try timer.readExpirations() == .wouldBlock)
        let start = MonotonicClock.now()
        try timer.schedule(after: .milliseconds(1))
        #expect(try epoll.wait(into: &events, timeout: .seconds(5)) == 1)
        #expect(MonotonicClock.now() - start >= .milliseconds(1))
        #expect(events[0].token == 42)
        #expect(events[0].events == .readable)
        #expect(try timer.readExpirations() == .processed(1))
        // One-shot: nothing more comes.
        #expect(try epoll.wait(into: &events, timeout: .milliseconds(5)) == 0)
        #expect(events.count == 0)
    }

    @Test func periodicTimerCountsEveryExpiry() throws {
        let timer = try TimerFD()
        try timer.schedule(after: .milliseconds(1), repeating: .milliseconds(1))
        let epoll = try Epoll()
        try epoll.add(timer.descriptor.rawValue, events: .readable, token: 1)
        var events = EpollEventBuffer(capacity: 1)
        var total: UInt64 = 0
        for _ in 0..<3 {
            #expect(try epoll.wait(into: &events, timeout: .seconds(5)) == 1)
            if case .processed(let n) = try timer.readExpirations() { total += n }
        }
        #expect(total >= 3)
        try timer.cancel()
        _ = try timer.readExpirations()
        #expect(try epoll.wait(into: &events, timeout: .milliseconds(5)) == 0)
    }

    @Test func absoluteDeadlineOnTheMonotonicClock() throws {
        let timer = try TimerFD()
        let deadline = MonotonicClock.now() + .milliseconds(2)
        try timer.schedule(at: deadline)
        var requests = [PollRequest(fd: timer.descriptor.rawValue, events: .readable)]
        #expect(try Poll.wait(&requests, timeout: .seconds(5)) == 1)
        #expect(MonotonicClock.now() >= deadline)
        #expect(try timer.readExpirations() == .processed(1))
        // A deadline in the past fires at once.
        try timer.schedule(at: Instant.zero)
        #expect(try Poll.wait(&requests, timeout: .seconds(5)) == 1)
    }

    /// SIGUSR1 raised to this thread while blocked is read back from the signalfd with our
    /// pid as sender. A sync test runs on one thread throughout, so the mask applies.
    @Test func raisedSignalIsReadFromSignalFD() throws {
        var previous = sigset_t()
        pthread_sigmask(SIG_SETMASK, nil, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }

        let signals = try SignalFD([.user1])
        let epoll = try Epoll()
        try epoll.add(signals.descriptor.rawValue, events: .readable, token: 7)
        var events = EpollEventBuffer(capacity: 2)
        #expect(try signals.read() == .wouldBlock)

        try Signal.user1.raiseInCurrentThread()
        #expect(try epoll.wait(into: &events, timeout: .seconds(5)) == 1)
        #expect(events[0].token == 7)
        let info = try signals.read()
        #expect(info == .processed(SignalInfo(signal: .user1, senderPID: getpid(), senderUID: getuid())))
        #expect(try signals.read() == .wouldBlock)
    }

    @Test func eventFDWakesEpollAndResetsOnRead() throws {
        let wakeup = try EventFD()
        let epoll = try Epoll()
        try epoll.add(wakeup.descriptor.rawValue, events: .readable, token: 3)
        var events = EpollEventBuffer(capacity: 1)
        #expect(try epoll.wait(into: &events, timeout: .zero) == 0)
        try wakeup.signal()
        try wakeup.signal(adding: 4)
        #expect(try epoll.wait(into: &events, timeout: .seconds(1)) == 1)
        #expect(try wakeup.read() == .processed(5))
        #expect(try wakeup.read() == .wouldBlock)
    }

    @Test func modifyAndDeleteChangeWhatIsReported() throws {
        let pipe = try Pipe(nonblocking: true)
        let epoll = try Epoll()
        var events = EpollEventBuffer(capacity: 4)
        try epoll.add(pipe.writeEnd.rawValue, events: .writable, token: 10)
        #expect(try epoll.wait(into: &events, timeout: .zero) == 1)
        #expect(events[0].events == .writable)
        try epoll.modify(pipe.writeEnd.rawValue, events: .readable, token: 11)
        #expect(try epoll.wait(into: &events, timeout: .zero) == 0)
        try epoll.modify(pipe.writeEnd.rawValue, events: .writable, token: 12)
        #expect(try epoll.wait(into: &events, timeout: .zero) == 1)
        #expect(events[0].token == 12)
        try epoll.delete(pipe.writeEnd.rawValue)
        #expect(try epoll.wait(into: &events, timeout: .zero) == 0)
        #expect(throws: SysError.failed(call: "epoll_ctl(DEL)", subject: "fd \(pipe.writeEnd.rawValue)", errno: Errno(rawValue: ENOENT))) {
            try epoll.delete(pipe.writeEnd.rawValue)
        }
    }

    /// Edge-triggered: one report per arrival, however much is left unread; level-triggered
    /// reports again while bytes remain.
    @Test func edgeTriggeredReportsEachArrivalOnce() throws {
        let pipe = try Pipe(nonblocking: true)
        let edge = try Epoll()
        let level = try Epoll()
        try edge.add(pipe.readEnd.rawValue, events: [.readable, .edgeTriggered], token: 1)
        try level.add(pipe.readEnd.rawValue, events: .readable, token: 2)
        var events = EpollEventBuffer(capacity: 1)
        try writeAll([1, 2, 3, 4], to: pipe.writeEnd)
        #expect(try edge.wait(into: &events, timeout: .zero) == 1)
        #expect(try edge.wait(into: &events, timeout: .zero) == 0)
        #expect(try level.wait(into: &events, timeout: .zero) == 1)
        #expect(try level.wait(into: &events, timeout: .zero) == 1)
        try writeAll([5], to: pipe.writeEnd)
        #expect(try edge.wait(into: &events, timeout: .zero) == 1)
    }

    @Test func peerShutdownIsReportedAsReadHangup() throws {
        let name = "@t2m-sys-rdhup-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let listener = try UnixListener(path: name)
        let epoll = try Epoll()
        var events = EpollEventBuffer(capacity: 1)
        do {
            _ = try UnixStream.connect(path: name)   // closes at the end of this scope
        }
        var requests = [PollRequest(fd: listener.descriptor.rawValue, events: .readable)]
        #expect(try Poll.wait(&requests, timeout: .seconds(5)) == 1)
        guard let server = try listener.accept() else {
            Issue.record("no connection")
            return
        }
        try epoll.add(server.rawValue, events: [.readable, .readHangup], token: 5)
        #expect(try epoll.wait(into: &events, timeout: .seconds(5)) == 1)
        #expect(events[0].events.contains(.readHangup))
    }

    @Test func eventDescriptorsAreCloseOnExec() throws {
        #expect(try Epoll().descriptor.isCloseOnExec())
        #expect(try TimerFD().descriptor.isCloseOnExec())
        #expect(try EventFD().descriptor.isCloseOnExec())
        #expect(try TimerFD().descriptor.isNonblocking())
    }
}
