extension JobView {
    /// The most worker ids a job keeps in ``holders``.
    public static let keptHolders = 64

    /// `holders` once a claim has been appended, cut to at most ``keptHolders`` entries
    /// without changing the one question they answer: did a claimer hold an earlier attempt?
    ///
    /// A list within the bound is returned as it is, so rows of jobs claimed at most 64 times
    /// stay byte for byte what a rebuild gives (a longer row written before the bound is cut
    /// claim by claim when it is read; `verify` reports its stored bytes until the job's next
    /// write or `botrix rebuild`). A longer one keeps the current holder, once
    /// more before it when it held an earlier attempt, and the other earlier holders once
    /// each, newest first, as many as fit; the oldest of those are forgotten. A list that
    /// forgot someone is therefore exactly at the bound (while there is room, every earlier
    /// holder is kept), which ``holdersMayBeIncomplete`` reports: calls without a token are
    /// then refused, so a forgotten earlier holder cannot act without its claim token.
    public static func boundedHolders(_ holders: [String]) -> [String] {
        guard holders.count > keptHolders, let current = holders.last else { return holders }
        let earlier = holders.dropLast()
        let heldEarlier = earlier.contains(current)
        let room = keptHolders - (heldEarlier ? 2 : 1)
        var others: [String] = []
        var seen: Set<String> = [current]
        for holder in earlier.reversed() where others.count < room && seen.insert(holder).inserted {
            others.append(holder)
        }
        return others.reversed() + (heldEarlier ? [current, current] : [current])
    }

    /// Whether ``holders`` may have forgotten an earlier holder (see ``boundedHolders(_:)``):
    /// true for every list at the bound, so the answer "held no earlier attempt" is never
    /// given from a list that lost the evidence.
    public var holdersMayBeIncomplete: Bool { holders.count >= Self.keptHolders }
}
