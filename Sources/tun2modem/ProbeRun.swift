import Bridge
import Buffers
import Modems
import Sys

/// The blocking part of `probe`: serial port, runner, bring-up, one outcome.
enum ProbeRun {
    enum Outcome {
        case up(DataConnection, ModemCapabilities, ModemModel?)
        /// One line: the step that failed and what to check.
        case failed(String)
    }

    static func run(_ s: ProbeCommand.Settings) -> Outcome {
        let port: FileDescriptor
        do {
            port = try SerialPort.open(path: s.device, baud: s.baud, rtscts: s.rtscts)
        } catch {
            return .failed("serial port failed: \(error); check the device path, its permissions and that no other program holds it")
        }
        let driver = makeModemDriver(model: s.model)
        let runner = ModemRunner(driver: driver, port: port)
        var limits = BringUpLimits()
        // The steps' limits end a little before --timeout, so the failure names its step.
        if let t = s.timeout { limits = limits.capped(at: max(.milliseconds(500), t - .milliseconds(500))) }
        let start = MonotonicClock.now()
        // Without --timeout the steps' own limits apply; this is only a backstop.
        let deadline = start + (s.timeout ?? .seconds(420))
        do {
            try driver.bringUp(apn: s.apn, limits: limits, now: start)
        } catch {
            return .failed("start: \(error)")
        }
        var outcome: Outcome?
        var lastStep: BringUpStep?
        do {
            let stopped = try runner.run(until: deadline) { event in
                switch event {
                case .bringUpProgress(let step):
                    lastStep = step
                    return false
                case .dataConnectionUp(let c):
                    outcome = .up(c, driver.capabilities, driver.model)
                    return true
                case .bringUpFailed(let f):
                    outcome = .failed("\(f.step.rawValue) failed: \(f.reason); check \(f.hint)")
                    return true
                default:
                    return false
                }
            }
            if !stopped {
                let after = lastStep.map { "after step \($0.rawValue)" } ?? "before the modem answered"
                return .failed("timed out after \(self.seconds(MonotonicClock.now() - start)) s \(after); check --timeout and the modem")
            }
        } catch {
            return .failed("serial I/O on \(s.device): \(error)")
        }
        return outcome ?? .failed("internal: no outcome")
    }

    static func seconds(_ d: Duration) -> Int64 { d.components.seconds }
}
