/// One event of a replay's page, decoded, with its position: what the projections' page
/// folds take (``Projection/apply(page:in:)``).
///
/// A class, not an `(event, position)` pair, because a page is decoded once and folded by
/// several projections on threads of their own. Reading a pair out of the page's storage
/// copied it, every string and dictionary of the event retained and later released again,
/// on objects the other threads were retaining too (`perf`: a tenth of each fold's samples);
/// the fields of a class instance that are constants are read where they are.
public final class DecodedEvent: Sendable {
    public let event: DomainEvent
    public let position: EventPosition

    public init(_ event: DomainEvent, _ position: EventPosition) {
        self.event = event
        self.position = position
    }
}
