/// The earliest of several optional deadlines.
///
/// Every turn of the event loop asks each layer when it next needs a tick; gathering the
/// candidates into an array and taking its `min()` allocated on every one of those
/// questions. This folds them in place instead.
public struct Earliest: Sendable {
    public var instant: Instant?

    @inlinable public init() { self.instant = nil }

    @inlinable public mutating func consider(_ candidate: Instant?) {
        guard let candidate else { return }
        if let current = self.instant, current <= candidate { return }
        self.instant = candidate
    }
}
