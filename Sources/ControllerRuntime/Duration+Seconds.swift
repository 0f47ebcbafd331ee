extension Duration {
    /// The duration in (fractional) seconds, for comparisons with `Date` intervals.
    package var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
