/// One page of a list (`GET /api/jobs`, `GET /api/accounts`): the items and where the
/// next page starts. Pass `pagination.next` as `after` to go on.
public struct Page<Item: Sendable & Decodable>: Sendable, Decodable {
    /// The page's items.
    public var data: [Item]
    /// Where the page sits, and the cursor of the next one.
    public var pagination: Pagination
}

/// Where a page sits in its list.
public struct Pagination: Sendable, Hashable, Decodable {
    /// The page number (1 when reading by cursor).
    public var page: Int
    /// Items per page (1…100).
    public var limit: Int
    /// Entries in the whole list.
    public var total: Int
    /// Pages in the whole list.
    public var pages: Int
    /// The cursor of the next page (`after`); nil on the last page.
    public var next: String?
}
