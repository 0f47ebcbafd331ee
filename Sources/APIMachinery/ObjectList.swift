/// One page of a list.
package struct ObjectList: Sendable {
    package var items: [KubeObject]
    package var revision: Int64
    package var continueToken: String?
    package var remainingItemCount: Int?
    /// Store keys of entries that could not be decoded and were left out, so that one broken
    /// entry does not fail the list of every other object (the API server reports them in a
    /// `Warning` header).
    package var unreadableKeys: [String] = []

    package init(items: [KubeObject], revision: Int64, continueToken: String? = nil, remainingItemCount: Int? = nil) {
        self.items = items
        self.revision = revision
        self.continueToken = continueToken
        self.remainingItemCount = remainingItemCount
    }
}
