/// One page of a list of decoded objects.
package typealias ObjectList = ListPage<KubeObject>

/// One page of a list: its items (decoded objects, or each item's JSON for a response written
/// from stored bytes), the revision it reflects, and where the next page starts.
package struct ListPage<Item>: Sendable where Item: Sendable {
    package var items: [Item]
    package var revision: Int64
    package var continueToken: String?
    package var remainingItemCount: Int?
    /// Store keys of entries that could not be decoded and were left out, so that one broken
    /// entry does not fail the list of every other object (the API server reports them in a
    /// `Warning` header).
    package var unreadableKeys: [String] = []

    package init(items: [Item], revision: Int64, continueToken: String? = nil, remainingItemCount: Int? = nil) {
        self.items = items
        self.revision = revision
        self.continueToken = continueToken
        self.remainingItemCount = remainingItemCount
    }
}
