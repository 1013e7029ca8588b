/// Round-robin order among flows that have data for the modem.
///
/// The serial line carries one AT command at a time, so fairness is decided at each send:
/// the flow at the front gets one send of at most the model's maximum length, then goes to
/// the back if it still has data. With equal-sized sends this is byte-fair among busy flows,
/// and a bulk upload cannot starve an interactive flow for longer than one send per peer.
public struct ServiceRing<Flow: Hashable> {
    private var order: [Flow] = []
    private var head = 0
    private var members: Set<Flow> = []

    public init() {}

    public var count: Int { self.members.count }
    public var isEmpty: Bool { self.members.isEmpty }
    public func contains(_ flow: Flow) -> Bool { self.members.contains(flow) }

    /// Marks `flow` as having data; a flow already in the ring keeps its place.
    public mutating func markReady(_ flow: Flow) {
        guard self.members.insert(flow).inserted else { return }
        self.order.append(flow)
    }

    /// Takes the next flow to serve out of the ring. Call `markReady` again if it still
    /// has data after its send, which puts it at the back.
    public mutating func next() -> Flow? {
        while self.head < self.order.count {
            let flow = self.order[self.head]
            self.head += 1
            if self.members.remove(flow) != nil {
                self.compactIfWasteful()
                return flow
            }
        }
        self.order.removeAll(keepingCapacity: true)
        self.head = 0
        return nil
    }

    /// Forgets `flow` (it ended); its stale slot is skipped lazily.
    public mutating func remove(_ flow: Flow) {
        self.members.remove(flow)
        self.compactIfWasteful()
    }

    /// Keeps storage proportional to live members: removed flows leave stale slots behind.
    private mutating func compactIfWasteful() {
        guard self.head > 32 || self.order.count > 2 * self.members.count + 32 else { return }
        var seen = Set<Flow>()
        self.order = self.order[self.head...].filter { self.members.contains($0) && seen.insert($0).inserted }
        self.head = 0
    }
}
