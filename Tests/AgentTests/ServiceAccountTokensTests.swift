import Foundation
import Runtime
import Testing
@testable import Agent

/// kubelet's token manager refresh rule: 80% of the lifetime, at most 24 hours.
struct ServiceAccountTokensTests {
    let source = ServiceAccountTokenSource(key: "kube-api-access-x/0", audiences: [], expirationSeconds: 3607)

    @Test func aMissingTokenIsDue() {
        #expect(ServiceAccountTokens().due([source], now: Date()) == [source])
    }

    @Test func aTokenIsRefreshedAtEightyPercentOfItsLifetime() {
        var tokens = ServiceAccountTokens()
        let issued = Date(timeIntervalSince1970: 1_000_000)
        tokens.store(.init(token: "t", issued: issued, expiration: issued.addingTimeInterval(3600)), for: source.key)
        #expect(tokens.due([source], now: issued.addingTimeInterval(2879)).isEmpty)
        #expect(tokens.due([source], now: issued.addingTimeInterval(2880)) == [source])
    }

    @Test func aLongLivedTokenIsRefreshedAfterADay() {
        var tokens = ServiceAccountTokens()
        let issued = Date(timeIntervalSince1970: 1_000_000)
        // A pod-bound token the server extends to a year is still asked for again daily.
        tokens.store(.init(token: "t", issued: issued, expiration: issued.addingTimeInterval(365 * 86400)), for: source.key)
        #expect(tokens.due([source], now: issued.addingTimeInterval(86399)).isEmpty)
        #expect(tokens.due([source], now: issued.addingTimeInterval(86400)) == [source])
    }
}
