/// One page of a list.
package struct ObjectList: Sendable {
    package var items: [KubeObject]
    package var revision: Int64
    package var continueToken: String?
    package var remainingItemCount: Int?

    package init(items: [KubeObject], revision: Int64, continueToken: String? = nil, remainingItemCount: Int? = nil) {
        self.items = items
        self.revision = revision
        self.continueToken = continueToken
        self.remainingItemCount = remainingItemCount
    }
}
