import Foundation
import TestSupport

/// An etcd cluster on machines of the lan (Debian's etcd-server), for servers that share it.
extension ClusterHarness {
    /// The client URLs of `members`, as `--datastore-endpoint` takes them.
    func etcdEndpoints(_ members: [Host]) -> String {
        members.map { "http://\($0.ip):2379" }.joined(separator: ",")
    }

    /// Starts one etcd member on each of `members` as one new cluster (static bootstrap, as
    /// etcd's clustering guide does it) and waits until every member reports healthy.
    func startEtcd(_ members: [Host]) async throws {
        let initialCluster = members.map { "\($0.name)=http://\($0.ip):2380" }.joined(separator: ",")
        for member in members {
            let pid = try TestProcess.spawn(TestProcess.inNetns(member.netns, [
                "/usr/bin/etcd", "--name", member.name, "--data-dir", member.path + "/etcd",
                "--listen-client-urls", "http://\(member.ip):2379", "--advertise-client-urls", "http://\(member.ip):2379",
                "--listen-peer-urls", "http://\(member.ip):2380", "--initial-advertise-peer-urls", "http://\(member.ip):2380",
                "--initial-cluster", initialCluster, "--initial-cluster-state", "new", "--initial-cluster-token", "swl-\(id)",
            ]), log: member.path + "/etcd.log")
            member.otherPids.append(pid)
        }
        for member in members {
            let healthy = await TestProcess.waitFor(60) {
                await fromOutside("http://\(member.ip):2379/health")?.contains(#""health":"true""#) == true
            }
            guard healthy else {
                let log = (try? String(contentsOfFile: member.path + "/etcd.log", encoding: .utf8)) ?? ""
                throw FixtureError(message: "etcd member \(member.name) did not become healthy:\n\(log.suffix(3000))")
            }
        }
    }
}
