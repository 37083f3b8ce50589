/// Work a batch must do once for all its operations, around the commit: for example
/// re-keying secrets once for every account a batch deletes.
///
/// An operation registers a hook with a payload through ``LogTransaction/register(_:payload:)``.
/// The writer keeps the registrations of the operations that succeeded (an operation that
/// throws takes its registrations with it), groups them by ``key``, and then:
/// - runs ``beforeCommit`` once per key inside the batch's transaction, with every payload
///   in registration order; if it throws, the batch is rolled back and run again without
///   the operations that registered the hook, which get the error (an LMDB error still
///   fails the whole batch, as any storage failure does);
/// - after a successful commit, and before any caller is answered, runs ``afterCommit``
///   once per key; if it throws, the callers of the operations that registered the hook
///   get the error (their writes are committed: the error says what is left undone).
public struct CommitHook: Sendable {
    /// Registrations with the same key share one run.
    public let key: String
    public let beforeCommit: @Sendable (inout LogTransaction, [any Sendable]) throws -> Void
    public let afterCommit: @Sendable ([any Sendable]) throws -> Void

    public init(
        key: String,
        beforeCommit: @escaping @Sendable (inout LogTransaction, [any Sendable]) throws -> Void,
        afterCommit: @escaping @Sendable ([any Sendable]) throws -> Void = { _ in }
    ) {
        self.key = key
        self.beforeCommit = beforeCommit
        self.afterCommit = afterCommit
    }
}

/// The hooks of one batch run, grouped by key in first-registration order.
struct BatchHooks {
    struct Group {
        var hook: CommitHook
        var payloads: [any Sendable]
        var operations: Set<Int>
    }
    private(set) var groups: [Group] = []

    mutating func add(_ registrations: [(CommitHook, any Sendable)], operation: Int) {
        for (hook, payload) in registrations {
            if let index = groups.firstIndex(where: { $0.hook.key == hook.key }) {
                groups[index].payloads.append(payload)
                groups[index].operations.insert(operation)
            } else {
                groups.append(Group(hook: hook, payloads: [payload], operations: [operation]))
            }
        }
    }

    var isEmpty: Bool { groups.isEmpty }
}
