/// The bytes of buffer memory all TCP flows together may hold (issue 4: "limits on buffers
/// per flow and in total").
///
/// One budget is shared by every endpoint of a flow table, so it is a reference type. It is
/// used from the daemon's single event loop only. A flow reserves memory as its buffers grow
/// and gives it back when they are released. When the budget is spent, buffers stop
/// growing, windows offered from then on are smaller (down to zero), and bytes that do not
/// fit are not acknowledged (the app sends them again later): the apps slow down instead of
/// the daemon's memory growing.
public final class TCPBufferBudget {
    /// The most bytes all flows may hold at once.
    public let limit: Int
    /// The bytes reserved now.
    public private(set) var reserved: Int = 0
    /// How many times a reservation was refused because the budget was spent.
    public private(set) var refusals: Int = 0

    /// A budget of `limit` bytes (negative means none).
    public init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// The bytes still free.
    public var available: Int { limit - reserved }

    /// Reserves `bytes` if they fit; `false` (and a counted refusal) otherwise.
    public func reserve(_ bytes: Int) -> Bool {
        guard bytes >= 0, bytes <= available else {
            refusals += 1
            return false
        }
        reserved += bytes
        return true
    }

    /// Gives back bytes reserved earlier.
    public func release(_ bytes: Int) {
        reserved = max(0, reserved - max(0, bytes))
    }
}
