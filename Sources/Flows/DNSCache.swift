import Buffers
import Wire

/// A small cache of resolutions, so an app's repeated lookups do not each cost an AT
/// command and a radio round trip. Bounded: when full, the entry closest to expiry goes.
public struct DNSCache: Sendable {
    public enum Entry: Hashable, Sendable {
        case addresses([IPAddress])
        case nameNotFound
    }

    struct Stored: Sendable {
        var entry: Entry
        var expiresAt: Instant
    }

    public let capacity: Int
    private var entries: [DNSName: Stored] = [:]

    public init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    public var count: Int { self.entries.count }

    /// The entry for `name` (any case) and its remaining time, if still fresh.
    public func lookup(_ name: DNSName, now: Instant) -> (entry: Entry, remaining: Duration)? {
        guard let stored = self.entries[name.lowercased()], stored.expiresAt > now else { return nil }
        return (stored.entry, stored.expiresAt - now)
    }

    public mutating func insert(_ entry: Entry, for name: DNSName, ttl: Duration, now: Instant) {
        guard self.capacity > 0, ttl > .zero else { return }
        let key = name.lowercased()
        if self.entries[key] == nil, self.entries.count >= self.capacity {
            self.removeExpired(now: now)
            if self.entries.count >= self.capacity,
               let soonest = self.entries.min(by: { $0.value.expiresAt < $1.value.expiresAt })?.key {
                self.entries[soonest] = nil
            }
        }
        self.entries[key] = Stored(entry: entry, expiresAt: now + ttl)
    }

    public mutating func removeExpired(now: Instant) {
        self.entries = self.entries.filter { $0.value.expiresAt > now }
    }
}
