/// The finalizers of the garbage collector's deletion modes (apimachinery's
/// `metav1.FinalizerOrphanDependents` and `metav1.FinalizerDeleteDependents`): DELETE with a
/// propagation policy sets them on the owner (the API server), the garbage collector acts on
/// them and removes them.
package enum Finalizers {
    /// `propagationPolicy: Orphan`: remove the owner references of the dependents, then the owner.
    package static let orphanDependents = "orphan"
    /// `propagationPolicy: Foreground`: delete the dependents, then the owner.
    package static let deleteDependents = "foregroundDeletion"
}
