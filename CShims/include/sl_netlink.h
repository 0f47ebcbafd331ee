// rtnetlink for the pod network. Why C: the netlink headers (struct ifinfomsg, NLA_ALIGN,
// IFLA_* numbers) are not in Swift's Glibc module, and a socket must be opened inside another
// network namespace by setns on this very thread, with nothing able to run in between.
//
// Builders write one complete message into a caller buffer, so tests compare exact bytes, and
// follow iproute2's attribute order (the bytes of `ip link add ...` are the reference).
// Every builder returns the message length, or -1 with errno ENOSPC when `cap` is too small
// (or EINVAL for a name longer than IFNAMSIZ-1). Messages ask for an ACK (NLM_F_REQUEST|NLM_F_ACK)
// plus the `flags` given (SL_NLM_F_*).
#ifndef SL_NETLINK_H
#define SL_NETLINK_H
#include <stddef.h>
#include <stdint.h>

/// nlmsg_flags a caller may add: create, fail if it exists, replace.
extern const uint16_t SL_NLM_F_CREATE, SL_NLM_F_EXCL, SL_NLM_F_REPLACE;
/// Message types for sl_nl_addr / sl_nl_route and the ones replies carry.
extern const uint16_t SL_RTM_NEWLINK, SL_RTM_DELLINK, SL_RTM_NEWADDR, SL_RTM_DELADDR, SL_RTM_NEWROUTE,
    SL_RTM_DELROUTE, SL_NLMSG_ERROR, SL_NLMSG_DONE;
/// The main routing table and the universe / link / nowhere scopes.
extern const uint8_t SL_RT_TABLE_MAIN, SL_RT_SCOPE_UNIVERSE, SL_RT_SCOPE_LINK, SL_RT_SCOPE_NOWHERE;
/// rtm_protocol of the routes swiftlet owns (`ip route show proto 83`): routes to other nodes'
/// pod CIDRs carry it, so a resync finds its stale routes without touching anyone else's.
/// 83 is unassigned in iproute2's rt_protos (kernel, boot, static, dhcp, bird, bgp... are not).
#define SL_RTPROT_SWIFTLET 83

/// Opens a NETLINK_ROUTE socket inside the network namespace `netns_fd` (-1: the calling
/// thread's own): setns on this thread, socket(), setns back. A socket stays bound to the
/// namespace it was created in, so it can be used from any thread afterwards. Extended acks
/// (kernel error text) and capped acks are switched on. Returns the fd, or -1 with errno and
/// `*step` naming the call that failed. If the thread cannot return to its own namespace the
/// process aborts: running anything further on it would act inside the pod's namespace.
int sl_nl_open(int netns_fd, const char **step);

/// RTM_NEWLINK of a bridge `name`, with `mtu` (0: kernel default) and a fixed MAC (`mac`, 6
/// bytes, or NULL: random). A fixed MAC keeps the bridge's address from changing as ports join.
int sl_nl_link_bridge(uint8_t *buf, size_t cap, uint32_t seq, uint16_t flags, const char *name, uint32_t mtu,
                      const uint8_t *mac);

/// RTM_NEWLINK of a veth pair: `name` here, `peer` created directly in the namespace
/// `peer_netns_fd` (IFLA_NET_NS_FD; no move afterwards). Both get `mtu` (0: default); our end
/// is brought up when `up` (the peer stays down: bring it up from inside its namespace);
/// `master` (ifindex, 0: none) enslaves our end to a bridge.
int sl_nl_link_veth(uint8_t *buf, size_t cap, uint32_t seq, uint16_t flags, const char *name, const char *peer,
                    int peer_netns_fd, int master, uint32_t mtu, int up);

/// RTM_DELLINK by index (`ifindex` > 0) or else by name.
int sl_nl_link_del(uint8_t *buf, size_t cap, uint32_t seq, int ifindex, const char *name);

/// Changes to one link for RTM_NEWLINK without NLM_F_CREATE (what `ip link set` sends).
struct sl_link_change {
    int ifindex;          ///< the link, or 0 to name it by `name`
    const char *name;     ///< used when ifindex is 0
    int up;               ///< 1 up, 0 down, -1 unchanged
    int master;           ///< bridge ifindex, 0 to leave the bridge ("nomaster"), -1 unchanged
    uint32_t mtu;         ///< 0 unchanged
    const uint8_t *mac;   ///< 6 bytes, or NULL unchanged
    int hairpin;          ///< a bridge port's hairpin mode: 1 on, 0 off, -1 unchanged
};
int sl_nl_link_set(uint8_t *buf, size_t cap, uint32_t seq, const struct sl_link_change *change);

/// RTM_GETLINK of one link by name; the reply is an RTM_NEWLINK (see sl_nl_parse_link).
int sl_nl_link_get(uint8_t *buf, size_t cap, uint32_t seq, const char *name);

/// RTM_NEWADDR / RTM_DELADDR (`type`) of `addr` (4 bytes for AF_INET, 16 for AF_INET6) with
/// `prefixlen` on `ifindex`, as IFA_LOCAL and IFA_ADDRESS like iproute2.
int sl_nl_addr(uint8_t *buf, size_t cap, uint32_t seq, uint16_t type, uint16_t flags, int family, int ifindex,
               const uint8_t *addr, uint8_t prefixlen);

/// A route, for building RTM_NEWROUTE / RTM_DELROUTE and for parsing a dump.
struct sl_route {
    uint8_t family;       ///< AF_INET or AF_INET6
    uint8_t dst[16];      ///< destination network; dst_len 0 is the default route
    uint8_t dst_len;
    uint8_t gateway[16];
    uint8_t has_gateway;
    int oif;              ///< output ifindex, 0 for none
    uint8_t protocol;     ///< rtm_protocol (SL_RTPROT_SWIFTLET for ours)
    uint8_t scope;        ///< rtm_scope
    uint8_t table;        ///< rtm_table
    uint8_t type;         ///< rtm_type (RTN_UNICAST = 1)
};
int sl_nl_route(uint8_t *buf, size_t cap, uint32_t seq, uint16_t type, uint16_t flags, const struct sl_route *route);

/// RTM_GETROUTE dump of one family's routes (all tables; filter on the reply).
int sl_nl_route_dump(uint8_t *buf, size_t cap, uint32_t seq, int family);

/// One message of a reply datagram.
struct sl_nl_reply {
    uint16_t type;          ///< nlmsg_type
    uint16_t flags;         ///< nlmsg_flags
    uint32_t seq;           ///< nlmsg_seq
    int error;              ///< NLMSG_ERROR: errno (positive), 0 for an ACK
    const char *message;    ///< NLMSG_ERROR: the kernel's extended ack text, or NULL
    const uint8_t *payload; ///< the message after its header
    size_t payload_len;
};

/// Reads the message at `*offset` of `buf` and advances `*offset`. Returns 1 when a message
/// was read, 0 at the end, -1 with errno EBADMSG when the datagram is malformed.
int sl_nl_next(const uint8_t *buf, size_t len, size_t *offset, struct sl_nl_reply *out);

/// A link as RTM_NEWLINK replies describe it.
struct sl_link_info {
    int ifindex;
    unsigned flags;    ///< IFF_*
    int master;        ///< 0 when not enslaved
    uint32_t mtu;
    char name[16];
};
/// Parses the payload of an RTM_NEWLINK reply. Returns 0, or -1 with errno EBADMSG.
int sl_nl_parse_link(const uint8_t *payload, size_t len, struct sl_link_info *out);
/// Parses the payload of an RTM_NEWROUTE reply (one entry of a dump). Returns 0 or -1 (EBADMSG).
int sl_nl_parse_route(const uint8_t *payload, size_t len, struct sl_route *out);

/// Writes `value` to the file `path` while this thread is inside the network namespace
/// `netns_fd` (-1: its own): /proc/sys/net is per namespace of the writer, so this is how
/// `net.ipv4.ip_forward` of a node namespace is set. Returns 0, or -1 with errno and `*step`.
int sl_netns_write_file(int netns_fd, const char *path, const char *value, const char **step);
#endif
