import Foundation

/// The fields of a job that its index entries are made from (see ``Keys``): the queue, the
/// by-status and by-creation indexes, the retry waits and the leases. Keys are built from
/// this, never from the whole view, so a step that leaves some of these fields unchanged
/// provably leaves the entries made from them where they are (``JobsProjection`` skips
/// those indexes). Small on purpose: a replay takes it before and after every event of a
/// job it folds in place, instead of keeping a copy of the whole view.
struct JobIndexFields: Equatable {
    var id: UUID
    var status: JobStatus
    var createdSequence: UInt64
    var priority: Int
    var requeued: Bool
    var availableAt: String?
    var leaseExpiresAt: String?

    init(_ job: JobView) {
        id = job.id
        status = job.status
        createdSequence = job.createdSequence
        priority = job.priority
        requeued = job.requeued
        availableAt = job.availableAt
        leaseExpiresAt = job.leaseExpiresAt
    }

    /// Whether `other` differs in a field the by-status entry is made from.
    func statusKeyDiffers(from other: Self) -> Bool {
        (status, createdSequence) != (other.status, other.createdSequence)
    }

    /// Whether `other` differs in a field the queue entry is made from (the retry wait's
    /// time decides whether the job is in the queue at all).
    func queueKeyDiffers(from other: Self) -> Bool {
        (status, availableAt, priority, requeued, createdSequence)
            != (other.status, other.availableAt, other.priority, other.requeued, other.createdSequence)
    }

    /// Whether `other` differs in a field the retry wait's entry is made from.
    func delayedKeyDiffers(from other: Self) -> Bool {
        (status, availableAt, id) != (other.status, other.availableAt, other.id)
    }

    /// Whether `other` differs in a field the lease's entry is made from.
    func leaseKeyDiffers(from other: Self) -> Bool {
        (status, leaseExpiresAt, id) != (other.status, other.leaseExpiresAt, other.id)
    }
}
